//! [`StateSync`]: the handle the server holds. It starts, restarts (on a
//! changed `state:` section) and stops the background task.

use std::sync::{Arc, Mutex, PoisonError};

use relay_config::{RedisEndpoint, StateBackend, StateConfig};
use relay_router::RouterState;
use tokio::task::JoinHandle;

use crate::status::{StateStatus, Status};
use crate::task::{Settings, run};

/// One per process. Dropping it stops the sync.
#[derive(Debug, Default)]
pub struct StateSync {
    running: Mutex<Option<Running>>,
    status: Arc<Status>,
}

#[derive(Debug)]
struct Running {
    config: StateConfig,
    task: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl StateSync {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a (re)loaded `state:` section: starts, restarts or stops the
    /// sync as needed; an unchanged section changes nothing. Must be called
    /// within a tokio runtime. Never fails: a Redis that cannot be reached
    /// is retried in the background.
    pub fn configure(&self, config: &StateConfig, state: &Arc<RouterState>) {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.as_ref().is_some_and(|r| r.config == *config) {
            return;
        }
        // Stop the old task before the new one attaches.
        *running = None;
        state.detach_sync();
        self.status.set_connected(false);
        let task = match (config.backend, &config.redis_url) {
            (StateBackend::Redis, Some(url)) => {
                let endpoint = RedisEndpoint::parse(url.expose())
                    .map(|e| e.to_string())
                    .unwrap_or_else(|_| "(invalid URL)".to_owned());
                self.status.set_endpoint(Some(endpoint.clone()));
                tracing::info!(
                    endpoint = %endpoint,
                    prefix = %config.key_prefix,
                    sync_interval_ms = config.sync_interval_ms,
                    "sharing routing state through Redis"
                );
                let settings = Settings::new(config, endpoint);
                let outbox = state.attach_sync(4_096);
                Some(tokio::spawn(run(
                    settings,
                    Arc::clone(state),
                    outbox,
                    Arc::clone(&self.status),
                )))
            }
            _ => {
                self.status.set_endpoint(None);
                None
            }
        };
        *running = Some(Running {
            config: config.clone(),
            task,
        });
    }

    /// Stops sharing; local state is kept.
    pub fn stop(&self, state: &RouterState) {
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = None;
        state.detach_sync();
    }

    pub fn status(&self, state: &RouterState) -> StateStatus {
        let backend = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(StateBackend::Memory, |r| r.config.backend);
        self.status
            .snapshot(backend.as_str(), state.dropped_sync_events())
    }
}
