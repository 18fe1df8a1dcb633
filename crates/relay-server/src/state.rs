//! State shared by every connection for the relay's whole life.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;

use crate::runtime::Runtime;
use crate::upstream::UpstreamClient;

/// What outlives a configuration: the current snapshot, the upstream
/// connection pools, and counters.
#[derive(Debug)]
pub struct AppState {
    runtime: ArcSwap<Runtime>,
    pub upstream: UpstreamClient,
    /// Requests being handled now (response bodies included), for `server.max_concurrent`.
    pub in_flight: AtomicUsize,
    pub started: Instant,
    pub started_at: SystemTime,
}

impl AppState {
    pub fn new(runtime: Runtime, upstream: UpstreamClient) -> Self {
        Self {
            runtime: ArcSwap::from_pointee(runtime),
            upstream,
            in_flight: AtomicUsize::new(0),
            started: Instant::now(),
            started_at: SystemTime::now(),
        }
    }

    /// The snapshot a new request should use.
    pub fn snapshot(&self) -> Arc<Runtime> {
        self.runtime.load_full()
    }

    /// Publishes a prepared runtime. Requests already running keep theirs.
    pub fn swap(&self, runtime: Runtime) {
        self.runtime.store(Arc::new(runtime));
    }
}
