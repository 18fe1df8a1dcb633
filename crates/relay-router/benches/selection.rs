//! Cost of ordering 10 candidates under each routing strategy, alone and with
//! 8 threads sharing one `Selector` (the stateful strategies' atomics and
//! mutexes under contention).
//!
//! `cargo bench -p relay-router --bench selection -- --quick`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use relay_config::{RoutingConfig, RoutingStrategy};
use relay_router::{Candidate, Selector};

const STRATEGIES: [RoutingStrategy; 9] = [
    RoutingStrategy::Failover,
    RoutingStrategy::RoundRobin,
    RoutingStrategy::WeightedRoundRobin,
    RoutingStrategy::Shuffle,
    RoutingStrategy::LeastLoaded,
    RoutingStrategy::WeightedFailover,
    RoutingStrategy::ModelBased,
    RoutingStrategy::LatencyBased,
    RoutingStrategy::CostBased,
];

const THREADS: usize = 8;

fn names() -> Vec<String> {
    (0..10).map(|i| format!("provider-{i}")).collect()
}

fn candidates(names: &[String]) -> Vec<Candidate<'_>> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let i = i as u32;
            Candidate {
                name,
                priority: i % 3,
                weight: 1 + i % 4,
                in_flight: u64::from((i * 7) % 5),
                latency: Some(Duration::from_millis(u64::from(200 + 37 * i))),
                cost: Some((f64::from(i) + 0.5, f64::from(5 * i) + 1.0)),
            }
        })
        .collect()
}

fn selector(strategy: RoutingStrategy, names: &[String]) -> Selector {
    let routing = RoutingConfig {
        model_mapping: BTreeMap::from([
            ("claude-".to_owned(), "provider-3".to_owned()),
            ("claude-opus".to_owned(), "provider-7".to_owned()),
            ("glm-".to_owned(), "provider-1".to_owned()),
        ]),
        default_provider: Some("provider-0".to_owned()),
        ..RoutingConfig::default()
    };
    Selector::new(strategy, &routing, names)
}

fn single_thread(c: &mut Criterion) {
    let names = names();
    let candidates = candidates(&names);
    let mut group = c.benchmark_group("order_10");
    for strategy in STRATEGIES {
        let selector = selector(strategy, &names);
        let mut order = Vec::with_capacity(candidates.len());
        group.bench_function(strategy.as_str(), |b| {
            b.iter(|| {
                selector.order_into(
                    black_box(&candidates),
                    black_box("claude-opus-4-1"),
                    &mut order,
                );
                black_box(order.first().copied())
            });
        });
    }
    group.finish();
}

/// Wall time per call with `THREADS` threads calling `order_into` on one
/// shared selector (on a machine with fewer cores, throughput per call).
fn contended(c: &mut Criterion) {
    let names = names();
    let candidates = candidates(&names);
    let mut group = c.benchmark_group("order_10_x8_threads");
    for strategy in STRATEGIES {
        let selector = selector(strategy, &names);
        group.bench_function(strategy.as_str(), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..THREADS {
                        scope.spawn(|| {
                            let mut order = Vec::with_capacity(candidates.len());
                            for _ in 0..iters.div_ceil(THREADS as u64) {
                                selector.order_into(
                                    black_box(&candidates),
                                    black_box("claude-opus-4-1"),
                                    &mut order,
                                );
                                black_box(order.first().copied());
                            }
                        });
                    }
                });
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, single_thread, contended);
criterion_main!(benches);
