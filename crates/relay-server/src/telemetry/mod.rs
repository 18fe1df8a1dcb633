//! Per-request telemetry and what is made of it: Prometheus metrics, the
//! recent-latency window and totals behind `/admin/stats`, and the stream of
//! request events behind `/admin/events`.
//!
//! A request's [`RequestTelemetry`] slot is filled along the way; when its
//! response ends the access log turns it into one [`Completed`] record and
//! hands it to [`Telemetry::complete`], the only place each sink is fed.

mod labels;
mod metrics;
mod record;
mod route_metrics;
mod window;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use dashmap::DashMap;
use relay_admin_api::RequestEvent;
use relay_config::Config;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use metrics::{Metrics, ScrapeState};
pub use record::{Completed, RequestTelemetry, Timings, millis};
pub use window::{Percentiles, Sample, WindowStats};

use window::Window;

/// Events a slow `/admin/events` subscriber may fall behind by before it
/// skips (it is told how many it missed).
const EVENT_BUFFER: usize = 1024;

/// Totals since the relay started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_creation_tokens: u64,
}

/// Requests and errors per provider since the relay started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProviderCounts {
    pub requests: u64,
    pub errors: u64,
}

/// A provider's [`ProviderCounts`], counted without a lock, and its recent
/// latencies (for the dashboards' per-provider percentiles).
#[derive(Debug)]
struct ProviderCounters {
    requests: AtomicU64,
    errors: AtomicU64,
    window: Mutex<Window>,
}

impl ProviderCounters {
    fn new(origin: Instant) -> Self {
        Self {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            window: Mutex::new(Window::new(origin)),
        }
    }
}

/// One published request event: the contract's value (for gRPC) and its
/// JSON (for `/admin/events`), serialised once for every subscriber.
#[derive(Debug)]
pub struct PublishedEvent {
    pub event: RequestEvent,
    pub json: String,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
    input_tokens: AtomicU64,
    output_tokens: AtomicU64,
    cache_read_tokens: AtomicU64,
    cache_creation_tokens: AtomicU64,
}

/// The relay's telemetry sinks; one per process, in [`crate::AppState`].
#[derive(Debug)]
pub struct Telemetry {
    pub metrics: Metrics,
    counters: Counters,
    window: Mutex<Window>,
    /// Per provider; a shard read lock and two atomic adds per request
    /// (a provider's entry is created once).
    providers: DashMap<Arc<str>, ProviderCounters>,
    /// Request events, shared by every subscriber.
    events: broadcast::Sender<Arc<PublishedEvent>>,
    origin: Instant,
    /// Cancelled at shutdown so endless event streams let the drain finish.
    closing: CancellationToken,
}

impl Telemetry {
    pub fn new(started: Instant) -> Self {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Self {
            metrics: Metrics::new(),
            counters: Counters::default(),
            window: Mutex::new(Window::new(started)),
            providers: DashMap::new(),
            events,
            origin: started,
            closing: CancellationToken::new(),
        }
    }

    /// Feeds a finished API request to every sink. `config`: the snapshot it used.
    pub fn complete(&self, done: &Completed, config: &Config) {
        self.metrics.record(done, config);
        let error = done.is_error();
        let counters = &self.counters;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        if error {
            counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(usage) = done.fields.usage {
            for (counter, count) in [
                (&counters.input_tokens, usage.input_tokens),
                (&counters.output_tokens, usage.output_tokens),
                (&counters.cache_read_tokens, usage.cache_read_input_tokens),
                (
                    &counters.cache_creation_tokens,
                    usage.cache_creation_input_tokens,
                ),
            ] {
                counter.fetch_add(count, Ordering::Relaxed);
            }
        }
        let sample = Sample {
            latency_ms: millis(done.latency),
            ttfb_ms: millis(done.ttfb),
            overhead_ms: millis(done.overhead),
        };
        let now = Instant::now();
        if let Some(provider) = &done.fields.provider {
            let count = |counts: &ProviderCounters| {
                counts.requests.fetch_add(1, Ordering::Relaxed);
                counts.errors.fetch_add(u64::from(error), Ordering::Relaxed);
                counts
                    .window
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(now, sample);
            };
            match self.providers.get(provider) {
                Some(counts) => count(&counts),
                None => count(
                    &self
                        .providers
                        .entry(Arc::clone(provider))
                        .or_insert_with(|| ProviderCounters::new(self.origin)),
                ),
            }
        }
        self.window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(now, sample);
        // Built and serialised only when a dashboard is listening.
        if self.events.receiver_count() > 0 {
            let event = done.event();
            if let Ok(json) = serde_json::to_string(&event) {
                let _ = self.events.send(Arc::new(PublishedEvent { event, json }));
            }
        }
    }

    pub fn totals(&self) -> Totals {
        let c = &self.counters;
        Totals {
            requests: c.requests.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            input_tokens: c.input_tokens.load(Ordering::Relaxed),
            output_tokens: c.output_tokens.load(Ordering::Relaxed),
            cache_read_tokens: c.cache_read_tokens.load(Ordering::Relaxed),
            cache_creation_tokens: c.cache_creation_tokens.load(Ordering::Relaxed),
        }
    }

    pub fn provider_counts(&self, provider: &str) -> ProviderCounts {
        self.providers
            .get(provider)
            .map(|counts| ProviderCounts {
                requests: counts.requests.load(Ordering::Relaxed),
                errors: counts.errors.load(Ordering::Relaxed),
            })
            .unwrap_or_default()
    }

    /// The recent-latency percentiles of one provider's requests.
    pub fn provider_window_stats(&self, provider: &str) -> WindowStats {
        self.providers
            .get(provider)
            .map(|counts| {
                counts
                    .window
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .stats(Instant::now())
            })
            .unwrap_or_default()
    }

    pub fn window_stats(&self) -> WindowStats {
        self.window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stats(Instant::now())
    }

    /// A new request-event subscription (`/admin/events`, gRPC `WatchEvents`).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PublishedEvent>> {
        self.events.subscribe()
    }

    /// Resolves when the relay starts shutting down.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// Ends every event stream, so a graceful shutdown does not wait on dashboards.
    pub fn close_streams(&self) {
        self.closing.cancel();
    }
}
