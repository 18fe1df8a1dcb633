//! `GET /admin/stats`: a live JSON snapshot of the relay for dashboards and
//! `cc-relay status`. Its shape is a contract (documented in
//! docs/observability.md): fields may be added, never renamed.

use std::sync::atomic::Ordering;

use http::{Response, StatusCode};
use relay_router::{CircuitState, KeySnapshot, LimitSnapshot, PoolKey, Target};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::json;
use crate::body::RelayBody;
use crate::runtime::Runtime;
use crate::state::AppState;
use crate::telemetry::Percentiles;

pub fn response(state: &AppState, runtime: &Runtime) -> Response<RelayBody> {
    json(StatusCode::OK, &snapshot(state, runtime))
}

/// The whole snapshot.
pub fn snapshot(state: &AppState, runtime: &Runtime) -> Value {
    let now = Instant::now();
    let telemetry = &state.telemetry;
    let totals = telemetry.totals();
    let window = telemetry.window_stats();
    let config = &runtime.config;
    let router_state = runtime.router.state();
    let providers: Vec<Value> = config
        .providers
        .iter()
        .map(|provider| {
            let target = runtime.router.target(&provider.name);
            let counts = telemetry.provider_counts(&provider.name);
            let disabled_by_operator = router_state.is_disabled(&provider.name);
            let mut entry = json!({
                "name": provider.name,
                "type": provider.kind.as_str(),
                "enabled": provider.enabled,
                "disabled_by_operator": disabled_by_operator,
                "requests": counts.requests,
                "errors": counts.errors,
            });
            let details = match target {
                Some(target) => {
                    target_details(target, runtime.router.is_active(&provider.name, now), now)
                }
                // Disabled in the file: no circuit, no keys in service.
                None => json!({
                    "active": false, "circuit": "closed", "circuit_open_until_secs": null,
                    "in_flight": 0, "latency_ms": null, "keys": [],
                }),
            };
            merge(&mut entry, details);
            entry
        })
        .collect();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": state.started.elapsed().as_secs_f64(),
        "config_generation": state.config_generation(),
        "strategy": runtime.router.strategy().as_str(),
        "read_only": config.server.admin.read_only,
        "in_flight": state.in_flight.load(Ordering::Acquire),
        "requests_total": totals.requests,
        "errors_total": totals.errors,
        "requests_per_sec": window.requests_per_sec,
        "latency_samples": window.samples,
        "latency_ms": percentiles(window.latency),
        "ttfb_ms": percentiles(window.ttfb),
        "overhead_ms": percentiles(window.overhead),
        "tokens": {
            "input": totals.input_tokens,
            "output": totals.output_tokens,
            "cache_read": totals.cache_read_tokens,
            "cache_creation": totals.cache_creation_tokens,
        },
        "affinity_entries": router_state.affinity_entries(),
        "state": state.shared_state_status(),
        "providers": providers,
    })
}

fn target_details(target: &Target, active: bool, now: Instant) -> Value {
    let circuit = target.health.state(now);
    let open_until = match circuit {
        CircuitState::Open { until } => Some(secs_until(until, now)),
        _ => None,
    };
    json!({
        "active": active,
        "circuit": circuit.as_str(),
        "circuit_open_until_secs": open_until,
        "in_flight": target.health.in_flight(),
        "latency_ms": target
            .health
            .latency_estimate(now)
            .map(|d| d.as_secs_f64() * 1000.0),
        "keys": target.pool.keys().iter().map(|key| key_entry(key, now)).collect::<Vec<_>>(),
    })
}

fn key_entry(key: &PoolKey, now: Instant) -> Value {
    let snapshot: KeySnapshot = key.state.snapshot(now);
    let future = |at: Option<Instant>| at.filter(|t| *t > now).map(|t| secs_until(t, now));
    let disabled_for = future(snapshot.disabled_until);
    json!({
        "id": key.id,
        "in_flight": snapshot.in_flight,
        "headroom": snapshot.headroom,
        "requests": limit(&snapshot.requests, now),
        "input_tokens": limit(&snapshot.input_tokens, now),
        "output_tokens": limit(&snapshot.output_tokens, now),
        "tokens": limit(&snapshot.tokens, now),
        "cooling_down_for_secs": future(snapshot.cooling_until),
        "disabled_for_secs": disabled_for,
        "disabled_reason": disabled_for
            .and(snapshot.disabled_reason)
            .map(|reason| reason.to_string()),
        "used": {
            "requests": snapshot.used.requests,
            "input_tokens": snapshot.used.input_tokens,
            "output_tokens": snapshot.used.output_tokens,
            "cache_read_tokens": snapshot.used.cache_read_input_tokens,
        },
    })
}

/// One dimension: `limit`/`remaining` null when unknown (unlimited or not learned yet).
fn limit(limit: &LimitSnapshot, now: Instant) -> Value {
    let resets = limit
        .full_at
        .or(limit.upstream_reset)
        .filter(|t| *t > now)
        .map(|t| secs_until(t, now));
    json!({
        "limit": limit.effective,
        "remaining": limit.effective.and(limit.remaining),
        "resets_in_secs": resets,
        "configured": limit.configured,
        "learned": limit.learned,
    })
}

fn percentiles(p: Percentiles) -> Value {
    json!({ "p50": p.p50, "p90": p.p90, "p99": p.p99 })
}

fn secs_until(at: Instant, now: Instant) -> f64 {
    at.saturating_duration_since(now).as_secs_f64()
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}
