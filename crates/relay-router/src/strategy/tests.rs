//! `Selector` tests across all strategies: the shared rules (a full
//! permutation, standbys last, zero and one candidate) and the wiring of each
//! strategy. Each strategy's own behaviour is tested in its file.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use relay_config::{RoutingConfig, RoutingStrategy};

use super::*;

const ALL: [RoutingStrategy; 9] = [
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

const NAMES: [&str; 6] = ["p0", "p1", "p2", "p3", "p4", "p5"];

fn routing() -> RoutingConfig {
    RoutingConfig {
        model_mapping: BTreeMap::from([("claude-".to_owned(), "p2".to_owned())]),
        default_provider: Some("p0".to_owned()),
        ..RoutingConfig::default()
    }
}

fn selector(strategy: RoutingStrategy) -> Selector {
    let names: Vec<String> = NAMES.iter().map(|name| (*name).to_owned()).collect();
    Selector::new(strategy, &routing(), &names)
}

fn candidate(index: usize, weight: u32) -> Candidate<'static> {
    Candidate {
        name: NAMES[index % NAMES.len()],
        priority: u32::try_from(index % 3).unwrap_or(0),
        weight,
        in_flight: (index as u64 * 7) % 4,
        latency: index
            .is_multiple_of(2)
            .then(|| Duration::from_millis(100 + 50 * index as u64)),
        cost: (index % 3 != 1).then_some((index as f64, 2.0 * index as f64)),
    }
}

#[test]
fn every_strategy_handles_zero_and_one_candidate() {
    for strategy in ALL {
        let selector = selector(strategy);
        assert!(selector.order(&[], "claude-x").is_empty(), "{strategy:?}");
        for weight in [0, 1, 5] {
            let one = [candidate(3, weight)];
            assert_eq!(selector.order(&one, "claude-x"), [0], "{strategy:?}");
        }
    }
}

#[test]
fn standbys_come_last_by_priority() {
    let candidates = [
        Candidate {
            weight: 0,
            priority: 1,
            ..Candidate::new("p0")
        },
        Candidate {
            weight: 2,
            ..Candidate::new("p1")
        },
        Candidate {
            weight: 0,
            priority: 7,
            ..Candidate::new("p2")
        },
        Candidate {
            weight: 1,
            ..Candidate::new("p3")
        },
    ];
    for strategy in ALL {
        let selector = selector(strategy);
        for _ in 0..20 {
            let order = selector.order(&candidates, "claude-x");
            assert_eq!(&order[2..], [2, 0], "{strategy:?}: {order:?}");
        }
    }
}

#[test]
fn all_standbys_are_ordered_as_equals() {
    let candidates: Vec<_> = (0..3).map(|i| candidate(i, 0)).collect();
    let selector = selector(RoutingStrategy::RoundRobin);
    let firsts: Vec<usize> = (0..3)
        .map(|_| selector.order(&candidates, "m")[0])
        .collect();
    assert_eq!(firsts, [0, 1, 2]);

    let selector = self::selector(RoutingStrategy::WeightedRoundRobin);
    let firsts: Vec<usize> = (0..3)
        .map(|_| selector.order(&candidates, "m")[0])
        .collect();
    assert_eq!(firsts, [0, 1, 2]);
}

#[test]
fn the_model_reaches_model_based() {
    let candidates: Vec<_> = (0..4).map(|i| candidate(i, 1)).collect();
    let selector = selector(RoutingStrategy::ModelBased);
    assert_eq!(selector.order(&candidates, "claude-sonnet-4-5")[0], 2);
    assert_eq!(selector.order(&candidates, "glm-4.6")[0], 0);
}

#[test]
fn order_into_reuses_the_buffer() {
    let candidates: Vec<_> = (0..5).map(|i| candidate(i, 1)).collect();
    let selector = selector(RoutingStrategy::Failover);
    let mut order = vec![99; 32];
    selector.order_into(&candidates, "m", &mut order);
    assert_eq!(order, selector.order(&candidates, "m"));
    assert_eq!(selector.strategy(), RoutingStrategy::Failover);
}

#[test]
fn selector_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Selector>();
}

#[test]
fn concurrent_round_robin_stays_fair() {
    let selector = selector(RoutingStrategy::RoundRobin);
    let candidates: Vec<_> = (0..4).map(|i| candidate(i, 1)).collect();
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut counts = [0u32; 4];
                    for _ in 0..1_000 {
                        counts[selector.order(&candidates, "m")[0]] += 1;
                    }
                    counts
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_default())
            .fold([0u32; 4], |mut total, counts| {
                total.iter_mut().zip(counts).for_each(|(t, c)| *t += c);
                total
            })
    });
    assert_eq!(counts, [1_000; 4]);
}

proptest! {
    #[test]
    fn every_strategy_returns_a_permutation_with_standbys_last(
        weights in proptest::collection::vec(prop_oneof![Just(0u32), 1u32..10], 0..12),
        strategy in proptest::sample::select(ALL.to_vec()),
        repeats in 1usize..4,
    ) {
        let candidates: Vec<_> = weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| candidate(i, weight))
            .collect();
        let selector = selector(strategy);
        for _ in 0..repeats {
            let order = selector.order(&candidates, "claude-opus");
            let mut sorted = order.clone();
            sorted.sort_unstable();
            prop_assert_eq!(sorted, (0..candidates.len()).collect::<Vec<_>>());
            let first_standby = order.iter().position(|&i| candidates[i].weight == 0);
            if let Some(first_standby) = first_standby
                && weights.iter().any(|&w| w > 0)
            {
                prop_assert!(order[first_standby..].iter().all(|&i| candidates[i].weight == 0));
            }
        }
    }
}
