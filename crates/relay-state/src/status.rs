//! What `/admin/stats`, `cc-relay status` and the metrics show about the
//! state backend. Plain atomics: read from any thread, never waited on.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::Serialize;

#[derive(Debug, Default)]
pub(crate) struct Status {
    connected: AtomicBool,
    last_sync_ms: AtomicU64,
    peers: AtomicU64,
    sync_errors: AtomicU64,
    decode_errors: AtomicU64,
    reconnects: AtomicU64,
    /// The URL without credentials; `None` for the memory backend.
    endpoint: Mutex<Option<String>>,
}

impl Status {
    /// Marks the link up or down; whether that changed it.
    pub(crate) fn set_connected(&self, up: bool) -> bool {
        self.connected.swap(up, Ordering::Relaxed) != up
    }

    pub(crate) fn synced(&self, wall_ms: u64, peers: u64) {
        self.last_sync_ms.store(wall_ms, Ordering::Relaxed);
        self.peers.store(peers, Ordering::Relaxed);
    }

    pub(crate) fn sync_error(&self) {
        self.sync_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn decode_error(&self) {
        self.decode_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn reconnected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_endpoint(&self, endpoint: Option<String>) {
        *self.endpoint.lock().unwrap_or_else(|e| e.into_inner()) = endpoint;
    }

    pub(crate) fn snapshot(&self, backend: &'static str, dropped_events: u64) -> StateStatus {
        let last = self.last_sync_ms.load(Ordering::Relaxed);
        StateStatus {
            backend,
            endpoint: self
                .endpoint
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            connected: backend == "memory" || self.connected.load(Ordering::Relaxed),
            last_sync_ms: (last > 0).then_some(last),
            peers: self.peers.load(Ordering::Relaxed),
            sync_errors: self.sync_errors.load(Ordering::Relaxed),
            decode_errors: self.decode_errors.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            dropped_events,
        }
    }
}

/// The state backend as operators see it (`state` in `/admin/stats`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateStatus {
    /// `memory` or `redis`.
    pub backend: &'static str,
    /// Where the backend is, without credentials (`redis://host:port/db`).
    pub endpoint: Option<String>,
    /// Whether the relay is exchanging state now (always true for memory).
    pub connected: bool,
    /// Wall-clock milliseconds of the last completed sync.
    pub last_sync_ms: Option<u64>,
    /// Other relays that published a heartbeat within three sync intervals.
    pub peers: u64,
    /// Failed Redis operations (each one ends the connection; reconnects follow).
    pub sync_errors: u64,
    /// Values under our prefix that could not be read and were skipped.
    pub decode_errors: u64,
    pub reconnects: u64,
    /// Local events dropped because the sync fell behind.
    pub dropped_events: u64,
}
