//! A whole routing decision over 10 providers x 10 keys: plan, first attempt
//! (strategy order, circuit admission, key choice and token reservation),
//! report a 200, settle usage. Once on one thread, and under contention from
//! several threads sharing one router (no global lock on this path).
//!
//! `cargo bench -p relay-router --bench routing_decision`

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use relay_config::{Config, KeyConfig, ProviderConfig, RoutingStrategy};
use relay_core::Secret;
use relay_router::{Estimate, Outcome, RouteRequest, Router, RouterState, Usage, Verdict};
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
    Router::new(
        &config,
        Arc::new(RouterState::new(&config.routing.affinity)),
    )
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
        delivery.finish(Some(usage), &[], false);
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
    targets = single_thread, contended
}
criterion_main!(benches);
