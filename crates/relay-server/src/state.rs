//! State shared by every connection for the relay's whole life.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use relay_config::Config;
use relay_router::RouterState;

use crate::reload::Reloader;
use crate::runtime::{PrepareError, Runtime};
use crate::telemetry::Telemetry;
use crate::upstream::UpstreamClient;

/// What outlives a configuration: the current snapshot, the upstream
/// connection pools, and counters.
#[derive(Debug)]
pub struct AppState {
    runtime: ArcSwap<Runtime>,
    /// Key usage, circuits and affinity: kept across reloads.
    router_state: Arc<RouterState>,
    pub upstream: UpstreamClient,
    /// Requests being handled now (response bodies included), for `server.max_concurrent`.
    pub in_flight: AtomicUsize,
    pub started: Instant,
    pub started_at: SystemTime,
    /// Metrics, stats and request events.
    pub telemetry: Telemetry,
    /// The reloader `POST /admin/reload` uses, if the relay has a file. Weak:
    /// the reloader holds this state.
    reloader: Mutex<Weak<Reloader>>,
    /// Shares `router_state` with other relays when `state.backend` says so.
    shared_state: relay_state::StateSync,
}

impl AppState {
    /// Prepares the first configuration.
    pub fn new(config: Config) -> Result<Self, PrepareError> {
        let upstream = UpstreamClient::new(Duration::from_millis(config.server.connect_timeout_ms));
        let router_state = Arc::new(RouterState::new(&config.routing.affinity));
        let runtime = Runtime::prepare(config, &router_state)?;
        runtime.router.activate();
        let started = Instant::now();
        Ok(Self {
            runtime: ArcSwap::from_pointee(runtime),
            router_state,
            upstream,
            in_flight: AtomicUsize::new(0),
            started,
            started_at: SystemTime::now(),
            telemetry: Telemetry::new(started),
            reloader: Mutex::new(Weak::new()),
            shared_state: relay_state::StateSync::new(),
        })
    }

    /// Lets `POST /admin/reload` use `reloader` (see [`Reloader::register`]).
    pub(crate) fn set_reloader(&self, reloader: Weak<Reloader>) {
        *self.reloader.lock().unwrap_or_else(PoisonError::into_inner) = reloader;
    }

    /// The registered reloader, while it lives.
    pub fn reloader(&self) -> Option<Arc<Reloader>> {
        self.reloader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .upgrade()
    }

    /// The configuration generation serving: 1 until a reloader reloads.
    pub fn config_generation(&self) -> u64 {
        self.reloader().map_or(1, |r| r.generation())
    }

    /// The snapshot a new request should use.
    pub fn snapshot(&self) -> Arc<Runtime> {
        self.runtime.load_full()
    }

    /// Step one of a reload: builds everything `config` needs, sharing the
    /// state that outlives configurations. May fail; changes nothing.
    pub fn prepare(&self, config: Config) -> Result<Runtime, PrepareError> {
        Runtime::prepare(config, &self.router_state)
    }

    /// Step two of a reload: publishes a prepared runtime. Cannot fail.
    /// Requests already running keep the snapshot they started with.
    pub fn swap(&self, runtime: Runtime) {
        // The shared router state follows the new configuration from here.
        runtime.router.activate();
        self.shared_state
            .configure(&runtime.config.state, &self.router_state);
        self.runtime.store(Arc::new(runtime));
    }

    /// Starts sharing state as the first configuration says (needs the
    /// runtime, so it is not done in [`Self::new`]).
    pub fn start_sharing(&self) {
        let config = &self.snapshot().config;
        self.shared_state
            .configure(&config.state, &self.router_state);
    }

    /// Stops sharing state (at shutdown); local state is kept.
    pub fn stop_sharing(&self) {
        self.shared_state.stop(&self.router_state);
    }

    /// The shared state backend, for `/admin/stats` and metrics.
    pub fn shared_state_status(&self) -> relay_state::StateStatus {
        self.shared_state.status(&self.router_state)
    }
}
