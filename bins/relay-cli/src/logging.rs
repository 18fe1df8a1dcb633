//! Log output: level, format (pretty or JSON) and destination from
//! `logging:`, with `RUST_LOG` taking precedence when set.
//!
//! The level filter sits behind a `tracing_subscriber::reload` layer so a
//! configuration reload can change it ([`LogControl::apply`]). The format, the
//! destination and colours are fixed when the subscriber is installed:
//! [`RESTART_ONLY`] names them for the reloader, which logs a change as
//! needing a restart. The debug options (`logging.debug_options`) are read
//! from each request's configuration snapshot, so they follow reloads without
//! help from here.
//!
//! In the JSON format every field of an event is a top-level key (the access
//! log's `request finished` line carries `request_id`, `provider`, `key_id`,
//! `model`, `status`, timings and token counts), and the current span
//! (`request`, with its `id`) is added under `span`. With the `otel` cargo
//! feature, spans are also exported over OTLP ([`otel`]).

#[cfg(feature = "otel")]
mod otel;
mod plain;

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use relay_config::{Config, LogFormat, LogLevel, LoggingConfig};
use relay_server::SettingValue;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry, reload};

/// Targets logged at the configured level; everything else (dependencies) only at `warn`.
const OUR_TARGETS: &[&str] = &[
    "cc_relay",
    "relay_core",
    "relay_config",
    "relay_auth",
    "relay_providers",
    "relay_router",
    "relay_server",
    "relay_state",
];

/// The `logging:` settings only a restart applies.
pub const RESTART_ONLY: [(&str, SettingValue); 3] = [
    ("logging.format", |c| {
        format_name(c.logging.format).to_owned()
    }),
    ("logging.output", |c| c.logging.output.clone()),
    ("logging.pretty", |c| c.logging.pretty.to_string()),
];

fn format_name(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Pretty => "pretty",
        LogFormat::Json => "json",
    }
}

fn default_directives(level: LogLevel) -> String {
    let mut directives = String::from("warn");
    for target in OUR_TARGETS {
        directives.push_str(&format!(",{target}={}", level.as_str()));
    }
    directives
}

/// Changes the installed subscriber's level after a reload.
#[derive(Debug)]
pub struct LogControl {
    filter: reload::Handle<EnvFilter, Registry>,
    /// `RUST_LOG` chose the filter at startup, and keeps choosing it.
    from_env: bool,
    level: Mutex<LogLevel>,
}

impl LogControl {
    /// Applies `logging.level` if it changed; logs what happened.
    pub fn apply(&self, config: &Config) {
        let wanted = config.logging.level;
        let mut level = self.level.lock().unwrap_or_else(PoisonError::into_inner);
        if *level == wanted {
            return;
        }
        let previous = std::mem::replace(&mut *level, wanted);
        if self.from_env {
            tracing::info!(
                "logging.level changed from {} to {}, but RUST_LOG is set and takes precedence",
                previous.as_str(),
                wanted.as_str()
            );
            return;
        }
        match self
            .filter
            .reload(EnvFilter::new(default_directives(wanted)))
        {
            Ok(()) => tracing::info!(
                "log level changed from {} to {}",
                previous.as_str(),
                wanted.as_str()
            ),
            Err(error) => tracing::warn!(%error, "could not change the log level"),
        }
    }
}

/// Flushes what is still buffered for export (OpenTelemetry spans); call at exit.
pub fn shutdown() {
    #[cfg(feature = "otel")]
    otel::shutdown();
}

/// Lines not yet written when the relay stops; written when this is dropped.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogFlush {
    _writer: WorkerGuard,
}

/// Lines waiting for the writer thread before logging waits for it. Never
/// dropped: a burst of requests slows down rather than losing its lines.
const BUFFERED_LINES: usize = 8 * 1024;

/// Installs the global subscriber. Lines are written by a thread of their
/// own; keep the returned [`LogFlush`] until the end of `main`.
pub fn init(logging: &LoggingConfig) -> anyhow::Result<(Arc<LogControl>, LogFlush)> {
    let (filter, from_env) = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => (EnvFilter::new(directives), true),
        _ => (EnvFilter::new(default_directives(logging.level)), false),
    };
    let destination: Box<dyn Write + Send> = match logging.output.as_str() {
        "stderr" | "" => Box::new(std::io::stderr()),
        "stdout" => Box::new(std::io::stdout()),
        path => Box::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("could not open the log file {path}"))?,
        ),
    };
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(BUFFERED_LINES)
        .thread_name("cc-relay-log")
        .finish(destination);
    let (filter, handle) = reload::Layer::new(filter);
    let output = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false)
        .with_timer(plain::Rfc3339Micros);
    let output = match logging.format {
        LogFormat::Json => output
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // The current span is enough: a request's span has no parents.
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => output
            .fmt_fields(plain::PlainFields)
            .with_ansi(logging.pretty)
            .boxed(),
    };
    let subscriber = tracing_subscriber::registry().with(filter).with(output);
    #[cfg(feature = "otel")]
    let subscriber = subscriber.with(otel::layer()?);
    subscriber
        .try_init()
        .map_err(|err| anyhow::anyhow!("could not set up logging: {err}"))?;
    let control = Arc::new(LogControl {
        filter: handle,
        from_env,
        level: Mutex::new(logging.level),
    });
    Ok((control, LogFlush { _writer: guard }))
}
