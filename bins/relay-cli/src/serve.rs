//! `cc-relay serve`: the relay, reloading its configuration file when it
//! changes (unless `--no-watch`) and on SIGHUP.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use relay_config::{Config, ConfigWatcher, LogFormat, LogLevel};
use relay_server::{ReloadTrigger, Reloader, Server};

use crate::cli::{LogFormatArg, LogLevelArg, ServeArgs};
use crate::logging;
use crate::{config_path, output};

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Without its background thread jemalloc purges freed pages only while
    // allocating, so an idle relay would keep a past burst's memory. Best
    // effort: without it the relay works the same, only larger.
    #[cfg(not(target_env = "msvc"))]
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    let (
        relay_config::Loaded {
            config: loaded,
            warnings,
        },
        source,
    ) = config_path::load_reporting(args.config.config.as_deref())?;
    let overrides = Overrides::from(&args);
    let mut config = loaded.clone();
    overrides.apply(&mut config);
    // Dropped last, after the server has drained: flushes the final lines.
    let (log_control, _log_flush) = logging::init(&config.logging)?;
    match &source {
        Some(path) => {
            tracing::info!(config = %path.display(), "configuration loaded");
            relay_server::log_warnings(&warnings);
            warn_if_log_beside_config(&config.logging.output, path);
        }
        None => tracing::info!(
            "no configuration file found: running a transparent Anthropic relay (clients' own keys pass through); \
             create one with `cc-relay config init`"
        ),
    }
    #[cfg(unix)]
    raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async move {
        let server = Server::bind(config).await?;
        let address = server
            .local_addr()
            .context("could not read the bound address")?;
        // Before the listening line, so whoever reads it can already send
        // SIGHUP or rewrite the file.
        let reloader = source.map(|path| {
            let mut reloader = Reloader::new(server.state(), path, loaded)
                .with_overrides(move |c| overrides.apply(c))
                .on_applied(move |c| log_control.apply(c));
            for (setting, value) in logging::RESTART_ONLY {
                reloader = reloader.restart_only(setting, value);
            }
            let reloader = Arc::new(reloader);
            // POST /admin/reload uses it (the server keeps a weak reference).
            reloader.register();
            reloader
        });
        log_operator_endpoints(&server);
        start_reload_triggers(reloader, !args.no_watch);
        // Scripts and tests read this line to learn the port when listening on port 0.
        output::say(&format!("cc-relay listening on http://{address}"));
        tracing::info!(%address, "listening");
        server.run(shutdown_signal()).await;
        Ok::<_, anyhow::Error>(())
    })?;
    logging::shutdown();
    Ok(())
}

/// The watcher must watch the configuration's directory (editors save by
/// renaming), and the OS reports every write in it: a log file there wakes
/// the watcher once per line.
fn warn_if_log_beside_config(output: &str, config: &Path) {
    if matches!(output, "" | "stderr" | "stdout") {
        return;
    }
    let directory = |path: &Path| {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        std::fs::canonicalize(parent.unwrap_or(Path::new(".")))
    };
    if let (Ok(log_dir), Ok(config_dir)) = (directory(Path::new(output)), directory(config))
        && log_dir == config_dir
    {
        tracing::warn!(
            log = output,
            "the log file is in the configuration's directory: every line written wakes the \
             configuration watcher (about 5% more CPU under load); keep it elsewhere"
        );
    }
}

/// The `serve` flags that override the file: applied at startup and to every
/// reloaded file, so a reload never undoes them.
#[derive(Clone, Debug)]
struct Overrides {
    listen: Option<String>,
    metrics_listen: Option<String>,
    debug: bool,
    log_level: Option<LogLevelArg>,
    log_format: Option<LogFormatArg>,
}

impl From<&ServeArgs> for Overrides {
    fn from(args: &ServeArgs) -> Self {
        Self {
            listen: args.listen.clone(),
            metrics_listen: args.metrics_listen.clone(),
            debug: args.debug,
            log_level: args.log_level,
            log_format: args.log_format,
        }
    }
}

impl Overrides {
    fn apply(&self, config: &mut Config) {
        if let Some(listen) = &self.listen {
            config.server.listen.clone_from(listen);
        }
        if let Some(listen) = &self.metrics_listen {
            config.server.metrics_listen = Some(listen.clone());
        }
        if self.debug {
            config.logging.level = LogLevel::Debug;
            config.logging.debug_options.log_request_body = true;
            config.logging.debug_options.log_response_headers = true;
            config.routing.debug = true;
        }
        if let Some(level) = self.log_level {
            config.logging.level = match level {
                LogLevelArg::Trace => LogLevel::Trace,
                LogLevelArg::Debug => LogLevel::Debug,
                LogLevelArg::Info => LogLevel::Info,
                LogLevelArg::Warn => LogLevel::Warn,
                LogLevelArg::Error => LogLevel::Error,
            };
        }
        if let Some(format) = self.log_format {
            config.logging.format = match format {
                LogFormatArg::Pretty => LogFormat::Pretty,
                LogFormatArg::Json => LogFormat::Json,
            };
        }
    }
}

/// Says where the metrics and the admin API are, and how they are protected.
fn log_operator_endpoints(server: &Server) {
    let config = server.state().snapshot().config.clone();
    let admin = &config.server.admin;
    let metrics_at = server.metrics_addr().or_else(|| server.local_addr().ok());
    match server.metrics_addr() {
        Some(address) => {
            tracing::info!(%address, protected = admin.protect_metrics, "metrics at http://{address}/metrics")
        }
        None => tracing::info!(
            protected = admin.protect_metrics,
            "metrics at /metrics on the main listener"
        ),
    }
    if !admin.protect_metrics && metrics_at.is_some_and(|a| !a.ip().is_loopback()) {
        tracing::warn!(
            "/metrics is open on a non-loopback address: set server.admin.protect_metrics, \
             or serve it on a private address with server.metrics_listen"
        );
    }
    if admin.token.is_none() {
        tracing::info!(
            "admin API disabled (/admin/* answers 404): set server.admin.token to enable it"
        );
    } else {
        tracing::info!(read_only = admin.read_only, "admin API enabled at /admin/");
    }
}

/// Starts the file watcher (when there is a file and `watch`) and the SIGHUP
/// listener. SIGHUP is always handled: left to its default it would stop
/// the relay.
fn start_reload_triggers(reloader: Option<Arc<Reloader>>, watch: bool) {
    match (&reloader, watch) {
        (Some(reloader), true) => match ConfigWatcher::new(reloader.path()) {
            Ok(watcher) => {
                tracing::info!(
                    config = %watcher.path().display(),
                    debounce = ?watcher.debounce(),
                    "watching the configuration file; SIGHUP also reloads it"
                );
                tokio::spawn(reload_on_change(watcher, Arc::clone(reloader)));
            }
            Err(error) => tracing::warn!(
                %error,
                "cannot watch the configuration file: reload it with SIGHUP"
            ),
        },
        (Some(reloader), false) => tracing::info!(
            config = %reloader.path().display(),
            "not watching the configuration file (--no-watch): reload it with SIGHUP"
        ),
        (None, _) => tracing::info!(
            "no configuration file: nothing to watch, and SIGHUP has nothing to reload"
        ),
    }
    #[cfg(unix)]
    reload_on_sighup(reloader);
}

async fn reload_on_change(mut watcher: ConfigWatcher, reloader: Arc<Reloader>) {
    while watcher.changed().await.is_some() {
        // The reloader logs the outcome, success or failure.
        let _ = reloader.reload_on(ReloadTrigger::FileChange).await;
    }
}

#[cfg(unix)]
fn reload_on_sighup(reloader: Option<Arc<Reloader>>) {
    use tokio::signal::unix::{SignalKind, signal};
    // Registered now, not in the task, so SIGHUP is caught from this point on.
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => hangup,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP");
            return;
        }
    };
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            match &reloader {
                Some(reloader) => {
                    let _ = reloader.reload_on(ReloadTrigger::Signal).await;
                }
                None => tracing::info!("SIGHUP received: no configuration file, nothing to reload"),
            }
        }
    });
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

/// Raises the soft limit on open files to the hard limit, as servers do: each
/// relayed stream holds two sockets, and the usual soft default (1024) would
/// cap the relay at a few hundred concurrent streams.
#[cfg(unix)]
fn raise_open_files_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let Some(soft) = limit.current else {
        return; // Already unlimited.
    };
    // An unlimited hard limit cannot be the soft one (the kernel caps it);
    // 2^20 is Linux's default cap.
    let target = limit.maximum.unwrap_or(1 << 20);
    if target <= soft {
        return;
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => tracing::info!(from = soft, to = target, "raised the open-files limit"),
        Err(error) => {
            tracing::warn!(%error, limit = soft, "could not raise the open-files limit")
        }
    }
}
