//! The Prometheus metrics (`GET /metrics`), with `prometheus-client`: typed
//! families in a registry of our own (no global state).
//!
//! Counters and histograms are updated once per finished request. Gauges
//! that describe state (circuits, keys' remaining capacity, in-flight
//! requests) are filled from the current configuration snapshot at scrape
//! time, so they can never drift from what the router really holds.
//!
//! Labels are low-cardinality by construction: provider names and key ids
//! come from the configuration, statuses are codes, and model names are the
//! configured ones plus the first few others seen (the rest are `other`; see
//! [`super::labels`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use relay_config::Config;
use relay_router::{CircuitState, LimitDimension};
use tokio::time::Instant;

use super::labels::{
    FailoverLabels, KeyDimension, KeyLabels, ModelLabels, ProviderLabel, ProviderModel,
    RequestLabels, ResultLabel, TokenLabels, VersionLabel,
};
use super::record::Completed;
use super::route_metrics::{RouteCache, RouteKey, RouteMetrics, TOKEN_KINDS};
use crate::runtime::Runtime;

/// End-to-end latency and time to first token: LLM requests take seconds to minutes.
const LATENCY_BUCKETS: [f64; 14] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];
/// The relay's own time per request: microseconds normally, milliseconds at worst.
const OVERHEAD_BUCKETS: [f64; 13] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1,
];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

fn overhead_histogram() -> Histogram {
    Histogram::new(OVERHEAD_BUCKETS)
}

/// Values read from the relay's state at scrape time.
#[derive(Clone, Debug)]
pub struct ScrapeState {
    pub in_flight: usize,
    pub generation: u64,
    pub uptime: Duration,
    /// The shared state backend (`state:`).
    pub state: relay_state::StateStatus,
}

/// Every metric the relay exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Histograms<ProviderModel>,
    ttft: Histograms<ProviderModel>,
    overhead: Histograms<ProviderLabel>,
    tokens: Family<TokenLabels, Counter>,
    failovers: Family<FailoverLabels, Counter>,
    reloads: Family<ResultLabel, Counter>,
    in_flight: Gauge,
    generation: Gauge,
    uptime: Gauge<f64, std::sync::atomic::AtomicU64>,
    affinity: Gauge,
    shared_state: super::state_metrics::StateMetrics,
    circuit: Family<ProviderLabel, Gauge>,
    operator_disabled: Family<ProviderLabel, Gauge>,
    provider_in_flight: Family<ProviderLabel, Gauge>,
    key_limit: Family<KeyDimension, Gauge>,
    key_remaining: Family<KeyDimension, Gauge>,
    key_in_flight: Family<KeyLabels, Gauge>,
    key_cooling: Family<KeyLabels, Gauge>,
    /// Scrapes clear and refill the state gauges: one at a time.
    scrape: Mutex<()>,
    models: ModelLabels,
    /// Each route's counters and histograms, looked up once.
    routes: RouteCache,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cc_relay");
        let requests = Family::default();
        registry.register(
            "requests",
            "Finished requests by provider, key id, model, status and outcome (complete, aborted, client_closed, relay_error)",
            requests.clone(),
        );
        let duration: Histograms<ProviderModel> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to the end of its response body",
            duration.clone(),
        );
        let ttft: Histograms<ProviderModel> =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "time_to_first_token_seconds",
            "Time from a streamed request's arrival to its first content delta",
            ttft.clone(),
        );
        let overhead: Histograms<ProviderLabel> =
            Family::new_with_constructor(overhead_histogram as fn() -> Histogram);
        registry.register(
            "overhead_seconds",
            "The relay's own time per request: time to response headers less time waiting on upstreams",
            overhead.clone(),
        );
        let tokens = Family::default();
        registry.register(
            "tokens",
            "Tokens reported by upstreams, by provider, model and kind (input, output, cache_read, cache_creation)",
            tokens.clone(),
        );
        let failovers = Family::default();
        registry.register(
            "failovers",
            "Upstream attempts abandoned for another, by provider, reason and scope (key: another key of the provider was tried next; provider: another provider)",
            failovers.clone(),
        );
        let reloads = Family::default();
        registry.register(
            "config_reloads",
            "Configuration reloads by result (success, failure)",
            reloads.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_requests",
            "Requests being handled now, response bodies included",
            in_flight.clone(),
        );
        let generation = Gauge::default();
        registry.register(
            "config_generation",
            "The configuration generation serving (1 at startup, +1 per reload)",
            generation.clone(),
        );
        let uptime = Gauge::default();
        registry.register(
            "uptime_seconds",
            "Seconds since the relay started",
            uptime.clone(),
        );
        let affinity = Gauge::default();
        registry.register(
            "affinity_entries",
            "Conversations pinned to a provider and key",
            affinity.clone(),
        );
        let shared_state = super::state_metrics::StateMetrics::register(&mut registry);
        let circuit = Family::default();
        registry.register(
            "circuit_state",
            "Each provider's circuit: 0 closed, 1 half open, 2 open",
            circuit.clone(),
        );
        let operator_disabled = Family::default();
        registry.register(
            "provider_disabled",
            "1 when an operator switched the provider off through the admin API",
            operator_disabled.clone(),
        );
        let provider_in_flight = Family::default();
        registry.register(
            "provider_in_flight_requests",
            "Upstream requests in flight per provider",
            provider_in_flight.clone(),
        );
        let key_limit = Family::default();
        registry.register(
            "key_limit",
            "Each key's enforced per-minute limit by dimension (requests, input_tokens, output_tokens, tokens); absent when unlimited",
            key_limit.clone(),
        );
        let key_remaining = Family::default();
        registry.register(
            "key_remaining",
            "Each key's remaining capacity by dimension; absent when unlimited",
            key_remaining.clone(),
        );
        let key_in_flight = Family::default();
        registry.register(
            "key_in_flight_requests",
            "Requests in flight per key",
            key_in_flight.clone(),
        );
        let key_cooling = Family::default();
        registry.register(
            "key_unavailable",
            "1 while a key is cooling down after a 429 or disabled (invalid, spend limit)",
            key_cooling.clone(),
        );
        let build = Family::<VersionLabel, Gauge>::default();
        build
            .get_or_create(&VersionLabel {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        registry.register("build_info", "Always 1; the relay's version", build);
        Self {
            registry,
            requests,
            duration,
            ttft,
            overhead,
            tokens,
            failovers,
            reloads,
            in_flight,
            generation,
            uptime,
            affinity,
            shared_state,
            circuit,
            operator_disabled,
            provider_in_flight,
            key_limit,
            key_remaining,
            key_in_flight,
            key_cooling,
            scrape: Mutex::new(()),
            models: ModelLabels::default(),
            routes: RouteCache::default(),
        }
    }

    /// Counts a finished request. `config`: the snapshot it used, for the model label.
    pub fn record(&self, done: &Completed, config: &Config) {
        let fields = &done.fields;
        let key = RouteKey {
            provider: fields.provider.clone().unwrap_or_else(|| Arc::from("")),
            key_id: fields.key_id.clone().unwrap_or_default(),
            model: fields
                .model
                .as_deref()
                .map_or_else(String::new, |m| self.models.label(m, config)),
        };
        let route = self.routes.get(key, |key| self.resolve(key));
        route
            .requests(done.status, done.outcome, || {
                let labels = route.labels();
                self.requests
                    .get_or_create(&RequestLabels {
                        provider: labels.provider.to_string(),
                        key_id: labels.key_id.clone(),
                        model: labels.model.clone(),
                        status: done.status.to_string(),
                        outcome: done.outcome.to_owned(),
                    })
                    .clone()
            })
            .inc();
        route.duration.observe(done.latency.as_secs_f64());
        if let Some(ttft) = done.ttft {
            route.ttft.observe(ttft.as_secs_f64());
        }
        route.overhead.observe(done.overhead.as_secs_f64());
        if let Some(usage) = fields.usage {
            let counts = [
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_input_tokens,
                usage.cache_creation_input_tokens,
            ];
            for (counter, count) in route.tokens.iter().zip(counts) {
                counter.inc_by(count);
            }
        }
        for failover in &fields.failovers {
            self.failovers
                .get_or_create(&FailoverLabels {
                    provider: failover.from.to_string(),
                    reason: failover.reason.as_str().to_owned(),
                    scope: failover.scope().to_owned(),
                })
                .inc();
        }
    }

    /// Looks a route's series up in their families (its first request only).
    fn resolve(&self, key: &RouteKey) -> RouteMetrics {
        let provider = key.provider.to_string();
        let by_model = ProviderModel {
            provider: provider.clone(),
            model: key.model.clone(),
        };
        let tokens = TOKEN_KINDS.map(|kind| {
            self.tokens
                .get_or_create(&TokenLabels {
                    provider: provider.clone(),
                    model: key.model.clone(),
                    kind: kind.to_owned(),
                })
                .clone()
        });
        RouteMetrics::new(
            key.clone(),
            self.duration.get_or_create(&by_model).clone(),
            self.ttft.get_or_create(&by_model).clone(),
            self.overhead
                .get_or_create(&ProviderLabel { provider })
                .clone(),
            tokens,
        )
    }

    pub fn record_reload(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.reloads
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
    }

    /// The exposition text: state gauges refilled from `runtime`, then everything encoded.
    pub fn encode(&self, runtime: &Runtime, state: ScrapeState) -> Result<String, std::fmt::Error> {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        self.in_flight
            .set(i64::try_from(state.in_flight).unwrap_or(i64::MAX));
        self.generation
            .set(i64::try_from(state.generation).unwrap_or(i64::MAX));
        self.uptime.set(state.uptime.as_secs_f64());
        self.shared_state.refresh(&state.state);
        let router_state = runtime.router.state();
        self.affinity
            .set(i64::try_from(router_state.affinity_entries()).unwrap_or(i64::MAX));
        for family in [
            &self.circuit,
            &self.operator_disabled,
            &self.provider_in_flight,
        ] {
            family.clear();
        }
        for family in [&self.key_limit, &self.key_remaining] {
            family.clear();
        }
        self.key_in_flight.clear();
        self.key_cooling.clear();
        let now = Instant::now();
        for target in runtime.router.targets() {
            let provider = ProviderLabel {
                provider: target.name.to_string(),
            };
            let circuit = match target.health.state(now) {
                CircuitState::Closed => 0,
                CircuitState::HalfOpen => 1,
                CircuitState::Open { .. } => 2,
            };
            self.circuit.get_or_create(&provider).set(circuit);
            self.operator_disabled
                .get_or_create(&provider)
                .set(i64::from(router_state.is_disabled(&target.name)));
            self.provider_in_flight
                .get_or_create(&provider)
                .set(i64::try_from(target.health.in_flight()).unwrap_or(i64::MAX));
            for key in target.pool.keys() {
                let snapshot = key.state.snapshot(now);
                let labels = KeyLabels {
                    provider: provider.provider.clone(),
                    key_id: key.id.clone(),
                };
                self.key_in_flight
                    .get_or_create(&labels)
                    .set(i64::try_from(snapshot.in_flight).unwrap_or(i64::MAX));
                let unavailable = snapshot.cooling_until.is_some_and(|t| t > now)
                    || snapshot.disabled_until.is_some_and(|t| t > now);
                self.key_cooling
                    .get_or_create(&labels)
                    .set(i64::from(unavailable));
                for dimension in LimitDimension::ALL {
                    let limit = snapshot.limit(dimension);
                    let Some(effective) = limit.effective else {
                        continue;
                    };
                    let labels = KeyDimension {
                        provider: provider.provider.clone(),
                        key_id: key.id.clone(),
                        dimension: dimension.as_str().to_owned(),
                    };
                    let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                    self.key_limit.get_or_create(&labels).set(gauge(effective));
                    self.key_remaining
                        .get_or_create(&labels)
                        .set(gauge(limit.remaining.unwrap_or(effective)));
                }
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}
