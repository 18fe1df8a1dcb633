//! `cc-relay serve`.

use anyhow::Context as _;
use relay_config::{LogFormat, LogLevel};
use relay_server::Server;

use crate::cli::{LogFormatArg, LogLevelArg, ServeArgs};
use crate::{config_path, logging, output};

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (mut config, source) = config_path::load(args.config.config.as_deref())?;
    apply_overrides(&mut config, &args);
    logging::init(&config.logging)?;
    match &source {
        Some(path) => tracing::info!(config = %path.display(), "configuration loaded"),
        None => tracing::info!(
            "no configuration file found: running a transparent Anthropic relay (clients' own keys pass through); \
             create one with `cc-relay config init`"
        ),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(config).await?;
        let address = server
            .local_addr()
            .context("could not read the bound address")?;
        // Scripts and tests read this line to learn the port when listening on port 0.
        output::say(&format!("cc-relay listening on http://{address}"));
        tracing::info!(%address, "listening");
        server.run(shutdown_signal()).await;
        Ok(())
    })
}

fn apply_overrides(config: &mut relay_config::Config, args: &ServeArgs) {
    if let Some(listen) = &args.listen {
        config.server.listen.clone_from(listen);
    }
    if args.debug {
        config.logging.level = LogLevel::Debug;
        config.logging.debug_options.log_request_body = true;
        config.logging.debug_options.log_response_headers = true;
        config.routing.debug = true;
    }
    if let Some(level) = args.log_level {
        config.logging.level = match level {
            LogLevelArg::Trace => LogLevel::Trace,
            LogLevelArg::Debug => LogLevel::Debug,
            LogLevelArg::Info => LogLevel::Info,
            LogLevelArg::Warn => LogLevel::Warn,
            LogLevelArg::Error => LogLevel::Error,
        };
    }
    if let Some(format) = args.log_format {
        config.logging.format = match format {
            LogFormatArg::Pretty => LogFormat::Pretty,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => tracing::info!("SIGINT received"),
                    _ = terminate.recv() => tracing::info!("SIGTERM received"),
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; only SIGINT stops the relay");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
