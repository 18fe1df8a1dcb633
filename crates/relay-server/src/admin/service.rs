//! The management operations, once, for every transport: `/admin/*` over
//! HTTP (`http.rs`) and `ccrelay.admin.v1.Admin` over gRPC (`grpc.rs`) are
//! thin adapters around [`Management`]. Each operation takes the caller's
//! [`Access`], so no transport can forget the write check.

use std::sync::Arc;

use relay_admin_api::{ConfigView, ProviderSwitch, ReloadResult, Stats};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

use super::{Access, AdminError, stats};
use crate::reload::ReloadTrigger;
use crate::state::AppState;
use crate::telemetry::PublishedEvent;

/// The management service of one relay.
#[derive(Clone, Debug)]
pub struct Management {
    state: Arc<AppState>,
}

impl Management {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }

    /// Checks a presented admin token against the configuration serving now.
    pub fn authorize(&self, presented: Option<&[u8]>) -> Result<Access, AdminError> {
        Access::check(&self.state.snapshot().config.server.admin, presented)
    }

    /// The live snapshot; `read_only` says what this caller may do.
    pub fn stats(&self, access: Access) -> Stats {
        stats::snapshot(&self.state, &self.state.snapshot(), access)
    }

    /// A subscription to finished requests' events.
    pub fn events(&self) -> Events {
        Events {
            receiver: self.state.telemetry.subscribe(),
            closing: self.state.telemetry.closing(),
        }
    }

    /// Switches a configured provider off or back on. The switch lives in
    /// the router's state, so it outlives reloads until undone.
    pub fn switch_provider(
        &self,
        access: Access,
        name: &str,
        disable: bool,
    ) -> Result<ProviderSwitch, AdminError> {
        access.require_write()?;
        let runtime = self.state.snapshot();
        if !runtime.config.providers.iter().any(|p| p.name == name) {
            return Err(AdminError::NoProvider(name.to_owned()));
        }
        let router_state = runtime.router.state();
        let was_disabled = router_state.is_disabled(name);
        router_state.set_disabled(name, disable);
        let action = if disable { "disabled" } else { "enabled" };
        let changed = was_disabled != disable;
        tracing::info!(
            provider = name,
            changed,
            "admin API: provider {action} by an operator"
        );
        Ok(ProviderSwitch {
            provider: name.to_owned(),
            disabled_by_operator: disable,
            changed,
        })
    }

    /// Reloads the configuration file, as SIGHUP does.
    pub async fn reload(&self, access: Access) -> Result<ReloadResult, AdminError> {
        access.require_write()?;
        let reloader = self.state.reloader().ok_or(AdminError::NoConfigFile)?;
        tracing::info!("admin API: configuration reload requested");
        // The reloader logs the outcome either way; its errors never quote secrets.
        let report = reloader
            .reload_on(ReloadTrigger::Admin)
            .await
            .map_err(|error| AdminError::ReloadFailed {
                serving: reloader.generation(),
                message: error.to_string(),
            })?;
        let owned = |names: Vec<&str>| names.into_iter().map(str::to_owned).collect();
        Ok(ReloadResult {
            generation: report.generation,
            added: owned(report.added()),
            removed: owned(report.removed()),
            restart_required: report
                .restart_required
                .iter()
                .map(|r| r.setting.to_owned())
                .collect(),
            providers: report.providers_after,
        })
    }

    /// The configuration serving now, every secret redacted, and how the
    /// last reload went.
    pub fn config(&self) -> ConfigView {
        let runtime = self.state.snapshot();
        let reloader = self.state.reloader();
        ConfigView {
            generation: self.state.config_generation(),
            path: reloader.as_ref().map(|r| r.path().display().to_string()),
            // `Secret`'s Debug prints `[redacted]`: redaction by type, so a
            // secret-bearing field added later cannot leak through here.
            effective: format!("{:#?}", runtime.config),
            last_reload: reloader.and_then(|r| r.last_outcome()),
        }
    }
}

/// A subscription to request events. Ends when the relay shuts down.
#[derive(Debug)]
pub struct Events {
    receiver: broadcast::Receiver<Arc<PublishedEvent>>,
    closing: CancellationToken,
}

/// What a subscriber receives next.
#[derive(Debug)]
pub enum Delivery {
    Event(Arc<PublishedEvent>),
    /// The subscriber fell behind by more than the buffer and skipped this
    /// many events, instead of slowing requests down.
    Skipped(u64),
}

impl Events {
    /// The next event; `None` once the relay is shutting down.
    pub async fn next(&mut self) -> Option<Delivery> {
        tokio::select! {
            () = self.closing.cancelled() => None,
            received = self.receiver.recv() => match received {
                Ok(event) => Some(Delivery::Event(event)),
                Err(RecvError::Lagged(missed)) => Some(Delivery::Skipped(missed)),
                Err(RecvError::Closed) => None,
            },
        }
    }
}
