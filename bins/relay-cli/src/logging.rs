//! Log output: level, format (pretty or JSON) and destination from
//! `logging:`, with `RUST_LOG` taking precedence when set.

use std::fs::OpenOptions;
use std::sync::Arc;

use anyhow::Context as _;
use relay_config::{LogFormat, LoggingConfig};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// Targets logged at the configured level; everything else (dependencies) only at `warn`.
const OUR_TARGETS: &[&str] = &[
    "cc_relay",
    "relay_core",
    "relay_config",
    "relay_auth",
    "relay_providers",
    "relay_router",
    "relay_server",
];

fn default_directives(level: &str) -> String {
    let mut directives = String::from("warn");
    for target in OUR_TARGETS {
        directives.push_str(&format!(",{target}={level}"));
    }
    directives
}

/// Installs the global subscriber.
pub fn init(logging: &LoggingConfig) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::new(directives),
        _ => EnvFilter::new(default_directives(logging.level.as_str())),
    };
    let writer = match logging.output.as_str() {
        "stderr" | "" => BoxMakeWriter::new(std::io::stderr),
        "stdout" => BoxMakeWriter::new(std::io::stdout),
        path => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("could not open the log file {path}"))?;
            BoxMakeWriter::new(Arc::new(file))
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    let installed = match logging.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.with_ansi(logging.pretty).try_init(),
    };
    installed.map_err(|err| anyhow::anyhow!("could not set up logging: {err}"))
}
