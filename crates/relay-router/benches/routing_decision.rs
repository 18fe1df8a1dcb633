//! A whole routing decision over 10 providers x 10 keys: plan, first attempt
//! (strategy order, circuit admission, key choice and token reservation),
//! report a 200, settle usage. Once on one thread, and under contention from
//! several threads sharing one router (no global lock on this path).
//!
//! `report_headers/*` isolate what every upstream response costs the key it
//! came through: reading Anthropic's 12 `anthropic-ratelimit-*` headers and
//! applying them with 1 or 512 reservations in flight on the key.
//!
//! `cargo bench -p relay-router --bench routing_decision`

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderName, HeaderValue};
use relay_config::{Config, KeyConfig, ProviderConfig, RoutingStrategy};
use relay_core::Secret;
use relay_router::{
    DeliveryEnd, Estimate, KeyLimits, KeyState, Outcome, RouteRequest, Router, RouterState, Usage,
    Verdict,
};
use tokio::time::Instant;

fn router(strategy: RoutingStrategy) -> Router {
    let mut config = Config::default();
    config.routing.strategy = strategy;
    config.providers = (0..10)
        .map(|p| ProviderConfig {
            name: format!("provider-{p}"),
            weight: Some(1 + p),
            keys: (0..10)
                .map(|k| KeyConfig {
                    key: Secret::new(format!("sk-{p}-{k}")),
                    rpm_limit: 1_000_000,
                    ..KeyConfig::default()
                })
                .collect(),
            ..ProviderConfig::default()
        })
        .collect();
    let router = Router::new(
        &config,
        Arc::new(RouterState::new(&config.routing.affinity)),
    );
    router.activate();
    router
}

fn decide(router: &Router, headers: &HeaderMap) {
    let request = RouteRequest {
        model: "claude-sonnet-4-5",
        session: None,
        estimate: Estimate {
            input_tokens: 2_000,
            max_output_tokens: 1_000,
        },
    };
    let now = Instant::now();
    let Ok(mut plan) = router.plan(&request, now) else {
        return;
    };
    let Ok(attempt) = plan.next_attempt(now) else {
        return;
    };
    let outcome = Outcome::Response {
        status: 200,
        headers,
        error_body: None,
    };
    if let Verdict::Deliver(delivery) = plan.report(attempt, outcome, now) {
        let usage = Usage {
            input_tokens: 2_000,
            output_tokens: 300,
            ..Usage::default()
        };
        delivery.finish(DeliveryEnd {
            usage: Some(usage),
            ..DeliveryEnd::default()
        });
    }
}

fn single_thread(c: &mut Criterion) {
    let headers = HeaderMap::new();
    for strategy in [
        RoutingStrategy::Failover,
        RoutingStrategy::RoundRobin,
        RoutingStrategy::LeastLoaded,
        RoutingStrategy::LatencyBased,
    ] {
        let router = router(strategy);
        c.bench_function(&format!("decision/{}", strategy.as_str()), |b| {
            b.iter(|| decide(&router, &headers))
        });
    }
}

/// What an Anthropic response carries: the 12 rate-limit headers (limits
/// high enough never to block the benchmark) among its usual others.
fn anthropic_headers() -> HeaderMap {
    let mut pairs = [
        ("date", "Wed, 01 Jan 2025 00:00:00 GMT"),
        ("content-type", "application/json"),
        ("content-length", "512"),
        ("connection", "keep-alive"),
        ("request-id", "req_011CPm7x3aZ4bQ9kV5yH2nTw"),
        (
            "anthropic-organization-id",
            "0f0e0d0c-0b0a-0908-0706-050403020100",
        ),
        ("via", "1.1 google"),
        ("cf-cache-status", "DYNAMIC"),
        ("x-robots-tag", "none"),
        ("server", "cloudflare"),
        ("cf-ray", "8fa1b2c3d4e5f607-AMS"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .to_vec();
    for (kind, limit, reset) in [
        ("requests", 1_000_000, "2025-01-01T00:00:01Z"),
        ("tokens", 90_000_000, "2025-01-01T00:00:02Z"),
        ("input-tokens", 80_000_000, "2025-01-01T00:00:02Z"),
        ("output-tokens", 10_000_000, "2025-01-01T00:00:01Z"),
    ] {
        let prefix = format!("anthropic-ratelimit-{kind}");
        pairs.push((format!("{prefix}-limit"), limit.to_string()));
        pairs.push((format!("{prefix}-remaining"), (limit - 1).to_string()));
        pairs.push((format!("{prefix}-reset"), reset.to_owned()));
    }
    pairs
        .into_iter()
        .filter_map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            Some((name, HeaderValue::from_str(&value).ok()?))
        })
        .collect()
}

fn report_headers(c: &mut Criterion) {
    let headers = anthropic_headers();
    let router = router(RoutingStrategy::Failover);
    c.bench_function("decision/failover/anthropic_headers", |b| {
        b.iter(|| decide(&router, &headers))
    });

    let wall_now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let estimate = Estimate {
        input_tokens: 2_000,
        max_output_tokens: 1_000,
    };
    for in_flight in [1, 512] {
        let now = Instant::now();
        let key = Arc::new(KeyState::new(KeyLimits::default(), now));
        // The response is for the oldest reservation, so all the others are
        // in flight and unseen by the upstream, as in a burst.
        let held: Vec<_> = (0..in_flight)
            .filter_map(|_| key.try_reserve(estimate, now).ok())
            .collect();
        let Some(oldest) = held.first() else {
            return;
        };
        c.bench_function(&format!("report_headers/in_flight_{in_flight}"), |b| {
            b.iter(|| oldest.observe_headers_at(&headers, now, wall_now))
        });
    }
}

fn contended(c: &mut Criterion) {
    const THREADS: usize = 8;
    let router = Arc::new(router(RoutingStrategy::LeastLoaded));
    c.bench_function("decision/least_loaded/8_threads", |b| {
        b.iter_custom(|iterations| {
            let per_thread = iterations.div_ceil(THREADS as u64);
            let started = StdInstant::now();
            std::thread::scope(|scope| {
                for _ in 0..THREADS {
                    let router = Arc::clone(&router);
                    scope.spawn(move || {
                        let headers = HeaderMap::new();
                        for _ in 0..per_thread {
                            decide(&router, &headers);
                        }
                    });
                }
            });
            // Wall time per decision across all threads: contention shows up here.
            started
                .elapsed()
                .mul_f64(iterations as f64 / (per_thread * THREADS as u64) as f64)
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = single_thread, report_headers, contended
}
criterion_main!(benches);
