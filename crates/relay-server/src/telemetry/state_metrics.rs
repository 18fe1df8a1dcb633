//! The state backend's metrics (`state.backend: redis`): whether it is up,
//! its peers and error counts, refreshed at each scrape from the
//! [`StateStatus`] the sync keeps.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use relay_state::StateStatus;

#[derive(Debug, Default)]
pub struct StateMetrics {
    up: Gauge,
    peers: Gauge,
    sync_errors: Counter,
    decode_errors: Counter,
    dropped_events: Counter,
}

impl StateMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "state_backend_up",
            "1 while the shared state backend is connected (always 1 for memory)",
            metrics.up.clone(),
        );
        registry.register(
            "state_peers",
            "Other relays publishing a heartbeat to the shared state backend",
            metrics.peers.clone(),
        );
        registry.register(
            "state_sync_errors",
            "Failed operations on the shared state backend (each is followed by a reconnect)",
            metrics.sync_errors.clone(),
        );
        registry.register(
            "state_decode_errors",
            "Values under the state prefix that could not be read and were skipped",
            metrics.decode_errors.clone(),
        );
        registry.register(
            "state_dropped_events",
            "Local state events dropped because the sync fell behind",
            metrics.dropped_events.clone(),
        );
        metrics
    }

    pub fn refresh(&self, status: &StateStatus) {
        self.up.set(i64::from(status.connected));
        self.peers
            .set(i64::try_from(status.peers).unwrap_or(i64::MAX));
        for (counter, total) in [
            (&self.sync_errors, status.sync_errors),
            (&self.decode_errors, status.decode_errors),
            (&self.dropped_events, status.dropped_events),
        ] {
            counter.inc_by(total.saturating_sub(counter.get()));
        }
    }
}
