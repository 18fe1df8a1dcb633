//! Hot reload: read the configuration file again and put it into service.
//!
//! A reload is two steps. *Prepare* loads and validates the file and builds
//! every provider, pool, router and auth chain it needs ([`AppState::prepare`]);
//! it may fail, and then nothing has changed. *Swap* publishes the result with
//! one atomic store ([`AppState::swap`]) and cannot fail. Requests take their
//! snapshot when they start, so those already running finish on the
//! configuration they began with.
//!
//! A few settings are fixed when the relay starts (the listen address, HTTP/2,
//! ...). A file that changes them is still applied for everything else, and
//! each such setting is logged as needing a restart: never silently ignored.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use relay_admin_api::LastReload;
use relay_config::{Config, ConfigError, load_file};
use tokio::sync::Mutex;

use crate::runtime::PrepareError;
use crate::state::AppState;

/// Reads a restart-only setting from a configuration, for comparison and logs.
pub type SettingValue = fn(&Config) -> String;

/// The settings of `server:` that only a restart applies.
const SERVER_RESTART_ONLY: [(&str, SettingValue); 6] = [
    ("server.listen", |c| c.server.listen.clone()),
    ("server.metrics_listen", |c| {
        c.server.metrics_listen.clone().unwrap_or_default()
    }),
    ("server.enable_http2", |c| c.server.enable_http2.to_string()),
    // Both are read once, by the upstream client and the listener.
    ("server.connect_timeout_ms", |c| {
        c.server.connect_timeout_ms.to_string()
    }),
    ("server.shutdown_timeout_ms", |c| {
        c.server.shutdown_timeout_ms.to_string()
    }),
    // The gRPC listener is bound once, at startup.
    ("grpc.listen", |c| c.grpc.listen.clone().unwrap_or_default()),
];

/// What started a reload, for the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadTrigger {
    /// The file watcher saw the file change.
    FileChange,
    /// SIGHUP.
    Signal,
    /// A direct call to [`Reloader::reload`].
    Manual,
    /// `POST /admin/reload`.
    Admin,
}

impl fmt::Display for ReloadTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FileChange => "file change",
            Self::Signal => "SIGHUP",
            Self::Manual => "manual",
            Self::Admin => "admin API",
        })
    }
}

/// A setting the new file changes but only a restart applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestartRequired {
    pub setting: &'static str,
    /// The value in effect.
    pub running: String,
    /// The value the file now asks for.
    pub configured: String,
}

/// What a successful reload did.
#[derive(Clone, Debug)]
pub struct ReloadReport {
    /// Counts configurations put into service: the first is 1.
    pub generation: u64,
    pub trigger: ReloadTrigger,
    /// Enabled providers, in configuration order, before and after.
    pub providers_before: Vec<String>,
    pub providers_after: Vec<String>,
    pub restart_required: Vec<RestartRequired>,
    /// The configuration now serving (overrides applied).
    pub config: Arc<Config>,
}

impl ReloadReport {
    /// Enabled providers that were not enabled before.
    pub fn added(&self) -> Vec<&str> {
        difference(&self.providers_after, &self.providers_before)
    }

    /// Providers that were enabled and are not any more.
    pub fn removed(&self) -> Vec<&str> {
        difference(&self.providers_before, &self.providers_after)
    }
}

fn difference<'a>(of: &'a [String], without: &[String]) -> Vec<&'a str> {
    of.iter()
        .filter(|name| !without.contains(name))
        .map(String::as_str)
        .collect()
}

/// Why a reload was rejected; the running configuration is untouched. The
/// message lists every problem and never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the new configuration cannot be put into service: {0}")]
    Prepare(#[from] PrepareError),
}

type Overrides = Box<dyn Fn(&mut Config) + Send + Sync>;
type OnApplied = Box<dyn Fn(&Config) + Send + Sync>;

/// Reloads the relay's configuration from its file; one reload at a time.
pub struct Reloader {
    state: Arc<AppState>,
    path: PathBuf,
    /// The configuration in effect at startup: restart-only settings keep it.
    startup: Arc<Config>,
    restart_only: Vec<(&'static str, SettingValue)>,
    overrides: Option<Overrides>,
    on_applied: Option<OnApplied>,
    generation: AtomicU64,
    /// Serialises reloads (a file event and SIGHUP at once); holds the file's
    /// own content (before overrides) at the last successful load.
    last_file: Mutex<Config>,
    /// The last attempt's outcome, for the admin API's configuration view.
    last_outcome: std::sync::Mutex<Option<LastReload>>,
}

impl fmt::Debug for Reloader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reloader")
            .field("path", &self.path)
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader for the relay serving `state`, whose configuration came
    /// from `path` with the content `loaded` (before any overrides).
    pub fn new(state: Arc<AppState>, path: impl Into<PathBuf>, loaded: Config) -> Self {
        let startup = Arc::clone(&state.snapshot().config);
        Self {
            state,
            path: path.into(),
            startup,
            restart_only: SERVER_RESTART_ONLY.to_vec(),
            overrides: None,
            on_applied: None,
            generation: AtomicU64::new(1),
            last_file: Mutex::new(loaded),
            last_outcome: std::sync::Mutex::new(None),
        }
    }

    /// Settings given on the command line: applied to every file loaded, as
    /// they were to the first.
    #[must_use]
    pub fn with_overrides(
        mut self,
        overrides: impl Fn(&mut Config) + Send + Sync + 'static,
    ) -> Self {
        self.overrides = Some(Box::new(overrides));
        self
    }

    /// Another setting fixed at startup (by the caller, e.g. the log output).
    #[must_use]
    pub fn restart_only(mut self, setting: &'static str, value: SettingValue) -> Self {
        self.restart_only.push((setting, value));
        self
    }

    /// Called with each configuration right after it is put into service,
    /// for what lives outside the server (the log level).
    #[must_use]
    pub fn on_applied(mut self, hook: impl Fn(&Config) + Send + Sync + 'static) -> Self {
        self.on_applied = Some(Box::new(hook));
        self
    }

    /// Lets the admin API (`POST /admin/reload`, the generation in
    /// `/admin/stats`) use this reloader. The state keeps only a weak
    /// reference, so there is no cycle.
    pub fn register(self: &Arc<Self>) {
        self.state.set_reloader(Arc::downgrade(self));
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The generation now serving: 1 for the startup configuration.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Reloads on request; see [`Reloader::reload_on`].
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        self.reload_on(ReloadTrigger::Manual).await
    }

    /// Loads the file, prepares it and swaps it in, logging the outcome: the
    /// new generation and its providers, each setting that needs a restart,
    /// or every problem that made the file unusable.
    pub async fn reload_on(&self, trigger: ReloadTrigger) -> Result<ReloadReport, ReloadError> {
        let mut last_file = self.last_file.lock().await;
        let serving = self.generation();
        let result = self.prepare_and_swap(&mut last_file, trigger);
        self.state.telemetry.metrics.record_reload(result.is_ok());
        match &result {
            Ok(report) => log_success(report),
            Err(error) => tracing::error!(
                %trigger,
                config = %self.path.display(),
                "configuration reload failed; still serving generation {serving}: {error}"
            ),
        }
        *self
            .last_outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(LastReload {
            time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            trigger: trigger.to_string(),
            ok: result.is_ok(),
            generation: self.generation(),
            problems: match &result {
                Ok(_) => Vec::new(),
                Err(ReloadError::Config(error)) if !error.problems().is_empty() => {
                    error.problems().iter().map(ToString::to_string).collect()
                }
                Err(error) => vec![error.to_string()],
            },
        });
        result
    }

    /// The last reload attempt's outcome; `None` before the first.
    pub fn last_outcome(&self) -> Option<LastReload> {
        self.last_outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn prepare_and_swap(
        &self,
        last_file: &mut Config,
        trigger: ReloadTrigger,
    ) -> Result<ReloadReport, ReloadError> {
        let loaded = load_file(&self.path)?;
        let mut config = loaded.clone();
        if let Some(overrides) = &self.overrides {
            overrides(&mut config);
        }
        let restart_required = self.check_restart_only(&loaded, last_file, &config);
        let before = self.state.snapshot();
        let runtime = self.state.prepare(config)?;
        let config = Arc::clone(&runtime.config);
        self.state.swap(runtime);
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        *last_file = loaded;
        if let Some(hook) = &self.on_applied {
            hook(&config);
        }
        Ok(ReloadReport {
            generation,
            trigger,
            providers_before: enabled_providers(&before.config),
            providers_after: enabled_providers(&config),
            restart_required,
            config,
        })
    }

    /// Compares the restart-only settings with those in effect. A change an
    /// override hides (`--listen` given) is logged too, as kept.
    fn check_restart_only(
        &self,
        file: &Config,
        last_file: &Config,
        effective: &Config,
    ) -> Vec<RestartRequired> {
        let mut required = Vec::new();
        for (setting, value) in &self.restart_only {
            let running = value(&self.startup);
            let configured = value(effective);
            if configured != running {
                tracing::warn!(
                    "{setting} changed from {running} to {configured}: restart cc-relay to apply"
                );
                required.push(RestartRequired {
                    setting,
                    running,
                    configured,
                });
                continue;
            }
            let (before, now) = (value(last_file), value(file));
            if before != now && now != configured {
                tracing::warn!(
                    "{setting} changed in the file from {before} to {now}, \
                     but the command line overrides it: it stays {running}"
                );
            }
        }
        required
    }
}

fn enabled_providers(config: &Config) -> Vec<String> {
    config
        .providers
        .iter()
        .filter(|p| p.enabled)
        .map(|p| p.name.clone())
        .collect()
}

fn log_success(report: &ReloadReport) {
    let restart = report
        .restart_required
        .iter()
        .map(|r| r.setting)
        .collect::<Vec<_>>();
    tracing::info!(
        trigger = %report.trigger,
        providers = ?report.providers_after,
        added = ?report.added(),
        removed = ?report.removed(),
        strategy = report.config.routing.strategy.as_str(),
        restart_required = ?restart,
        "configuration reloaded (generation {})",
        report.generation
    );
}
