//! Any interleaving of two instances' observations, with repeats, converges
//! to the same view.

use std::sync::Arc;

use proptest::prelude::*;

use super::merge::*;
use crate::pool::DisableReason;
use crate::state::AffinityTarget;

fn instance() -> impl Strategy<Value = Arc<str>> {
    prop_oneof![Just(Arc::from("a")), Just(Arc::from("b"))]
}

fn stamp() -> impl Strategy<Value = Stamp> {
    (0u64..20, instance()).prop_map(|(at_ms, instance)| Stamp { at_ms, instance })
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![Just("x".to_owned()), Just("y".to_owned())]
}

fn reason() -> impl Strategy<Value = BlockReason> {
    prop_oneof![
        Just(BlockReason::CoolingDown),
        Just(BlockReason::Disabled(DisableReason::InvalidKey)),
        Just(BlockReason::Disabled(DisableReason::SpendLimit)),
    ]
}

fn observation() -> impl Strategy<Value = Observation> {
    prop_oneof![
        (name(), name(), 0u64..20, reason()).prop_map(|(provider, key, until_ms, reason)| {
            Observation::Block {
                provider,
                key,
                block: KeyBlock { until_ms, reason },
            }
        }),
        (name(), stamp(), proptest::option::of(0u64..20)).prop_map(
            |(provider, stamp, open_until_ms)| Observation::Circuit {
                provider,
                stamp,
                open_until_ms,
            }
        ),
        (name(), stamp(), any::<bool>()).prop_map(|(provider, stamp, disabled)| {
            Observation::Switch {
                provider,
                stamp,
                disabled,
            }
        }),
        (name(), stamp(), name()).prop_map(|(session, stamp, provider)| {
            Observation::Affinity {
                session,
                stamp,
                target: AffinityTarget {
                    provider: Arc::from(provider.as_str()),
                    key_id: None,
                },
            }
        }),
        (name(), instance(), 0u64..3, 0u64..5, -5i64..50).prop_map(
            |(key, instance, slot, seq, requests)| Observation::Usage {
                provider: "p".into(),
                key,
                instance,
                slot,
                // A writer's cell for a sequence is always the same.
                cell: UsageCell {
                    seq,
                    amounts: [requests.wrapping_add(seq as i64 * 7), 0, 0, 0],
                },
            }
        ),
    ]
}

/// Two instances' streams, and a random interleaving of them for each of
/// two observers, each with some observations repeated.
fn interleavings() -> impl Strategy<Value = (Vec<Observation>, Vec<Observation>)> {
    let streams = (
        proptest::collection::vec(observation(), 0..24),
        proptest::collection::vec(observation(), 0..24),
    );
    streams.prop_flat_map(|(a, b)| {
        let all: Vec<Observation> = a.iter().chain(&b).cloned().collect();
        let n = all.len();
        (
            Just(all.clone()).prop_shuffle(),
            Just(all).prop_shuffle(),
            proptest::collection::vec(0..n.max(1), 0..6),
        )
            .prop_map(|(first, mut second, repeats)| {
                for i in repeats {
                    if let Some(again) = second.get(i).cloned() {
                        second.push(again);
                    }
                }
                (first, second)
            })
    })
}

/// Usage cells must be consistent per writer (a sequence names one cell):
/// the generator derives the amounts from the sequence, so two cells with
/// the same (key, instance, slot, seq) might still differ by `requests`.
/// Keep the first of each, as a real writer would have produced one.
fn consistent(observations: Vec<Observation>) -> Vec<Observation> {
    let mut seen = std::collections::BTreeMap::new();
    observations
        .into_iter()
        .map(|o| match o {
            Observation::Usage {
                provider,
                key,
                instance,
                slot,
                cell,
            } => {
                let id = (key.clone(), Arc::clone(&instance), slot, cell.seq);
                let cell = *seen.entry(id).or_insert(cell);
                Observation::Usage {
                    provider,
                    key,
                    instance,
                    slot,
                    cell,
                }
            }
            other => other,
        })
        .collect()
}

proptest! {
    #[test]
    fn any_interleaving_converges((first, second) in interleavings()) {
        let canonical = consistent(first.iter().chain(&second).cloned().collect());
        let (first, second) = canonical.split_at(first.len());
        let mut one = SharedView::default();
        let mut charged_one = std::collections::BTreeMap::new();
        for o in first.iter().cloned() {
            if let Some(Remote::Usage { key, charge, .. }) = one.observe(o) {
                *charged_one.entry(key).or_insert(0i64) += charge[0];
            }
        }
        let mut two = SharedView::default();
        let mut charged_two = std::collections::BTreeMap::new();
        for o in second.iter().cloned() {
            if let Some(Remote::Usage { key, charge, .. }) = two.observe(o) {
                *charged_two.entry(key).or_insert(0i64) += charge[0];
            }
        }
        prop_assert_eq!(&one, &two);
        // What was charged to the buckets adds up the same, too.
        charged_one.retain(|_, v| *v != 0);
        charged_two.retain(|_, v| *v != 0);
        prop_assert_eq!(charged_one, charged_two);
    }
}
