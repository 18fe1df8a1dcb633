//! The merge rules and the seam, on paused time.

use std::sync::Arc;
use std::time::Duration;

use relay_config::AffinityConfig;
use tokio::time::Instant;

use super::merge::*;
use crate::health::{BreakerSettings, CircuitState, ProviderHealth};
use crate::pool::{DisableReason, Estimate, KeyLimits, KeyState};
use crate::state::{AffinityTarget, RouterState};

const T0: u64 = 1_800_000_000_000;

fn stamp(at_ms: u64, instance: &str) -> Stamp {
    Stamp {
        at_ms,
        instance: Arc::from(instance),
    }
}

fn cooling(until_ms: u64) -> KeyBlock {
    KeyBlock {
        until_ms,
        reason: BlockReason::CoolingDown,
    }
}

#[test]
fn a_block_only_ever_lengthens() {
    let long = cooling(T0 + 30_000);
    assert_eq!(merge_block(Some(long), cooling(T0 + 1_000)), long);
    assert_eq!(merge_block(Some(cooling(T0)), long), long);
    let disabled = KeyBlock {
        until_ms: T0 + 30_000,
        reason: BlockReason::Disabled(DisableReason::InvalidKey),
    };
    assert_eq!(merge_block(Some(long), disabled), disabled);
    assert_eq!(merge_block(Some(disabled), long), disabled);
}

#[test]
fn the_newest_stamp_wins_and_ties_break_by_instance() {
    let old = (stamp(T0, "b"), true);
    let new = (stamp(T0 + 1, "a"), false);
    assert_eq!(merge_newest(Some(&old), &new), new);
    assert_eq!(merge_newest(Some(&new), &old), new);
    let tie = (stamp(T0 + 1, "b"), true);
    assert_eq!(merge_newest(Some(&new), &tie), tie);
    assert_eq!(merge_newest(Some(&tie), &new), tie);
}

#[test]
fn usage_charges_only_what_grew_since_the_last_cell() {
    let mut view = SharedView::default();
    let cell = |seq, requests| UsageCell {
        seq,
        amounts: [requests, 100 * requests, 0, 0],
    };
    let seen = |seq, requests| Observation::Usage {
        provider: "p".into(),
        key: "k".into(),
        instance: Arc::from("a"),
        slot: 7,
        cell: cell(seq, requests),
    };
    let charge = |remote: Option<Remote>| match remote {
        Some(Remote::Usage { charge, .. }) => charge,
        other => panic!("{other:?}"),
    };
    assert_eq!(charge(view.observe(seen(1, 2))), [2, 200, 0, 0]);
    assert_eq!(charge(view.observe(seen(3, 5))), [3, 300, 0, 0]);
    // A stale or repeated cell teaches nothing.
    assert_eq!(view.observe(seen(2, 4)), None);
    assert_eq!(view.observe(seen(3, 5)), None);
    view.expire(T0, 8);
    assert_eq!(view, SharedView::default());
}

/// A key recorded in `state` as a router's activation records it (with the
/// sync's nudge), returned for the test to drive.
fn key_state(
    state: &RouterState,
    provider: &str,
    key_id: &str,
    limits: KeyLimits,
) -> Arc<KeyState> {
    let key = Arc::new(KeyState::new(limits, Instant::now()).with_nudge(Arc::clone(&state.nudge)));
    state.adopt_key_state(provider, key_id, &key, limits);
    state.existing_key_state(provider, key_id).unwrap()
}

/// A provider's health recorded in `state` the same way.
fn provider_health(
    state: &RouterState,
    name: &str,
    settings: BreakerSettings,
) -> Arc<ProviderHealth> {
    let health = Arc::new(ProviderHealth::new(settings).with_nudge(Arc::clone(&state.nudge)));
    state.adopt_provider_health(name, &health, settings);
    state.existing_provider_health(name).unwrap()
}

fn state() -> RouterState {
    RouterState::new(&AffinityConfig::default())
}

#[tokio::test(start_paused = true)]
async fn remote_cooldowns_and_disables_take_the_key_out_until_they_end() {
    let state = state();
    let key = key_state(&state, "p", "k", KeyLimits::default());
    let now = Instant::now();
    let wall = T0;
    state.apply(
        Remote::Block {
            provider: "p".into(),
            key: "k".into(),
            block: cooling(wall + 30_000),
        },
        now,
        wall,
    );
    let estimate = Estimate::default();
    let err = key.check(estimate, now).unwrap_err();
    assert_eq!(err.until, now + Duration::from_secs(30));
    // A block that has already ended is ignored; unknown keys too.
    for (provider, k, until) in [("p", "other", wall + 5_000), ("p", "k", wall - 1)] {
        state.apply(
            Remote::Block {
                provider: provider.into(),
                key: k.into(),
                block: cooling(until),
            },
            now,
            wall,
        );
    }
    tokio::time::advance(Duration::from_secs(30)).await;
    assert!(key.check(estimate, Instant::now()).is_ok());
    state.apply(
        Remote::Block {
            provider: "p".into(),
            key: "k".into(),
            block: KeyBlock {
                until_ms: wall + 90_000,
                reason: BlockReason::Disabled(DisableReason::SpendLimit),
            },
        },
        Instant::now(),
        wall + 30_000,
    );
    assert_eq!(
        key.snapshot(Instant::now()).disabled_reason,
        Some(DisableReason::SpendLimit)
    );
}

#[tokio::test(start_paused = true)]
async fn remote_usage_fills_the_local_bucket_and_is_not_republished() {
    let state = state();
    let limits = KeyLimits {
        rpm: 6,
        ..KeyLimits::default()
    };
    let key = key_state(&state, "p", "k", limits);
    let now = Instant::now();
    let one = Estimate::default();
    let local = key.try_reserve(one, now).unwrap();
    local.release_rejected();
    state.apply(
        Remote::Usage {
            provider: "p".into(),
            key: "k".into(),
            charge: [5, 0, 0, 0],
        },
        now,
        T0,
    );
    // 1 local + 5 elsewhere: the minute's 6 are spent.
    let err = key.check(one, now).unwrap_err();
    assert_eq!(err.until, now + Duration::from_secs(10));
    let export = state.export(now, T0);
    assert_eq!(export.keys[0].charged, [1, 0, 0, 0]);
}

#[tokio::test(start_paused = true)]
async fn remote_circuits_open_and_close_the_local_breaker() {
    let state = state();
    let health = provider_health(&state, "p", BreakerSettings::default());
    let now = Instant::now();
    let open = |until_ms| Remote::Circuit {
        provider: "p".into(),
        open_until_ms: until_ms,
    };
    state.apply(open(Some(T0 + 20_000)), now, T0);
    assert_eq!(
        health.state(now),
        CircuitState::Open {
            until: now + Duration::from_secs(20)
        }
    );
    // A shorter remote open period does not cut this one short.
    state.apply(open(Some(T0 + 5_000)), now, T0);
    assert!(!health.is_available(now + Duration::from_secs(6)));
    state.apply(open(None), now, T0);
    assert_eq!(health.state(now), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn an_attached_sync_hears_of_changes_and_gets_events() {
    let state = state();
    let mut outbox = state.attach_sync(8);
    let key = key_state(&state, "p", "k", KeyLimits::default());
    let now = Instant::now();
    key.cool_down(now + Duration::from_secs(30));
    tokio::time::timeout(Duration::from_millis(10), state.changed())
        .await
        .unwrap();
    let export = state.export(now, T0);
    assert_eq!(export.keys[0].cooling_until_ms, Some(T0 + 30_000));
    let target = AffinityTarget {
        provider: Arc::from("p"),
        key_id: Some("k".into()),
    };
    state.remember_affinity("s1", target.clone());
    // Repeating a pin announces nothing.
    state.remember_affinity("s1", target.clone());
    state.set_disabled("p", true);
    let mut events = Vec::new();
    while let Ok(event) = outbox.events.try_recv() {
        events.push(event);
    }
    assert_eq!(
        events,
        [
            super::LocalEvent::Affinity {
                session: "s1".into(),
                target
            },
            super::LocalEvent::Switch {
                provider: "p".into(),
                disabled: true
            }
        ]
    );
    // Applied remote knowledge is not echoed back as events.
    state.apply(
        Remote::Switch {
            provider: "p".into(),
            disabled: false,
        },
        now,
        T0,
    );
    assert!(!state.is_disabled("p"));
    assert!(outbox.events.try_recv().is_err());
    state.detach_sync();
    state.set_disabled("p", true);
    assert!(outbox.events.try_recv().is_err());
}
