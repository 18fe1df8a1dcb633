//! `GET /admin/stats` and gRPC `GetStats`: a live snapshot of the relay, in
//! the contract's types (`relay-admin-api`; documented in
//! docs/observability.md).

use std::sync::atomic::Ordering;

use relay_admin_api::{
    Circuit, KeyStats, KeyUsage, Limit, Percentiles, ProviderStats, Stats, Tokens,
};
use relay_router::{CircuitState, KeySnapshot, LimitSnapshot, PoolKey, Target};
use tokio::time::Instant;

use super::Access;
use crate::runtime::Runtime;
use crate::state::AppState;

/// The whole snapshot, as `access` sees it.
pub fn snapshot(state: &AppState, runtime: &Runtime, access: Access) -> Stats {
    let now = Instant::now();
    let telemetry = &state.telemetry;
    let totals = telemetry.totals();
    let window = telemetry.window_stats();
    let config = &runtime.config;
    let router_state = runtime.router.state();
    let providers = config
        .providers
        .iter()
        .map(|provider| {
            let counts = telemetry.provider_counts(&provider.name);
            let recent = telemetry.provider_window_stats(&provider.name);
            let disabled_by_operator = router_state.is_disabled(&provider.name);
            let mut entry = ProviderStats {
                name: provider.name.clone(),
                kind: provider.kind.as_str().to_owned(),
                enabled: provider.enabled,
                disabled_by_operator,
                requests: counts.requests,
                errors: counts.errors,
                request_latency_ms: percentiles(recent.latency, recent.samples),
                request_ttfb_ms: percentiles(recent.ttfb, recent.samples),
                // Disabled in the file: no circuit, no keys in service.
                active: false,
                circuit: Circuit::Closed,
                ..ProviderStats::default()
            };
            if let Some(target) = runtime.router.target(&provider.name) {
                target_details(&mut entry, target, now);
            }
            entry
        })
        .collect();
    Stats {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        uptime_secs: state.started.elapsed().as_secs_f64(),
        config_generation: state.config_generation(),
        strategy: runtime.router.strategy().as_str().to_owned(),
        read_only: Some(access == Access::Read),
        in_flight: state.in_flight.load(Ordering::Acquire) as u64,
        requests_total: totals.requests,
        errors_total: totals.errors,
        requests_per_sec: window.requests_per_sec,
        latency_samples: Some(window.samples as u64),
        // Zeros (not null) over no samples, as before: `latency_samples` says.
        latency_ms: percentiles(window.latency, usize::MAX),
        ttfb_ms: percentiles(window.ttfb, usize::MAX),
        overhead_ms: percentiles(window.overhead, usize::MAX),
        tokens: Tokens {
            input: totals.input_tokens,
            output: totals.output_tokens,
            cache_read: totals.cache_read_tokens,
            cache_creation: totals.cache_creation_tokens,
        },
        affinity_entries: router_state.affinity_entries(),
        providers,
    }
}

fn target_details(entry: &mut ProviderStats, target: &Target, now: Instant) {
    let circuit = target.health.state(now);
    entry.circuit_open_until_secs = match circuit {
        CircuitState::Open { until } => Some(secs_until(until, now)),
        _ => None,
    };
    entry.circuit = match circuit {
        CircuitState::Closed => Circuit::Closed,
        CircuitState::Open { .. } => Circuit::Open,
        CircuitState::HalfOpen => Circuit::HalfOpen,
    };
    entry.active = !entry.disabled_by_operator && target.health.is_available(now);
    entry.in_flight = target.health.in_flight();
    entry.latency_ms = target
        .health
        .latency_estimate(now)
        .map(|d| d.as_secs_f64() * 1000.0);
    entry.keys = target
        .pool
        .keys()
        .iter()
        .map(|key| key_entry(key, now))
        .collect();
}

fn key_entry(key: &PoolKey, now: Instant) -> KeyStats {
    let snapshot: KeySnapshot = key.state.snapshot(now);
    let future = |at: Option<Instant>| at.filter(|t| *t > now).map(|t| secs_until(t, now));
    let disabled_for = future(snapshot.disabled_until);
    KeyStats {
        id: key.id.to_string(),
        in_flight: snapshot.in_flight as u64,
        headroom: Some(snapshot.headroom),
        requests: limit(&snapshot.requests, now),
        input_tokens: limit(&snapshot.input_tokens, now),
        output_tokens: limit(&snapshot.output_tokens, now),
        tokens: limit(&snapshot.tokens, now),
        cooling_down_for_secs: future(snapshot.cooling_until),
        disabled_for_secs: disabled_for,
        disabled_reason: disabled_for
            .and(snapshot.disabled_reason)
            .map(|reason| reason.to_string()),
        used: KeyUsage {
            requests: snapshot.used.requests,
            input_tokens: snapshot.used.input_tokens,
            output_tokens: snapshot.used.output_tokens,
            cache_read_tokens: snapshot.used.cache_read_input_tokens,
        },
    }
}

/// One dimension: `limit`/`remaining` null when unknown (unlimited or not learned yet).
fn limit(limit: &LimitSnapshot, now: Instant) -> Limit {
    Limit {
        limit: limit.effective,
        remaining: limit.effective.and(limit.remaining),
        resets_in_secs: limit
            .full_at
            .or(limit.upstream_reset)
            .filter(|t| *t > now)
            .map(|t| secs_until(t, now)),
        configured: limit.configured,
        learned: limit.learned,
    }
}

/// The window's percentiles; unknown (null) without samples.
fn percentiles(p: crate::telemetry::Percentiles, samples: usize) -> Percentiles {
    if samples == 0 {
        return Percentiles::default();
    }
    Percentiles {
        p50: Some(p.p50),
        p90: Some(p.p90),
        p99: Some(p.p99),
    }
}

fn secs_until(at: Instant, now: Instant) -> f64 {
    at.saturating_duration_since(now).as_secs_f64()
}
