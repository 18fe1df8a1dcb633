//! Choosing keys: each strategy, exclusions, specific keys, exhaustion.

use relay_config::PoolStrategy;
use tokio::time::Instant;

use super::support::{estimate, pool, position, rpm, secs, usage};
use crate::pool::{
    DisableReason, Estimate, KeyLimits, KeyPool, SpecificKeyError, UnavailableReason,
};

const ONE: Estimate = Estimate {
    input_tokens: 0,
    max_output_tokens: 0,
};

/// Which key each of `n` acquisitions picks, releasing each lease at once.
fn picks(pool: &KeyPool, n: usize) -> Vec<usize> {
    let now = Instant::now();
    (0..n)
        .map(|_| position(pool, &pool.acquire(ONE, now, &[]).unwrap().key.id))
        .collect()
}

fn shares(pool: &KeyPool, n: usize) -> Vec<f64> {
    let mut counts = vec![0usize; pool.len()];
    for pick in picks(pool, n) {
        counts[pick] += 1;
    }
    counts.iter().map(|c| *c as f64 / n as f64).collect()
}

#[tokio::test(start_paused = true)]
async fn round_robin_rotates_exactly_and_skips_unavailable_keys() {
    let pool = pool(PoolStrategy::RoundRobin, &[1, 1, 1], KeyLimits::default());
    assert_eq!(picks(&pool, 7), [0, 1, 2, 0, 1, 2, 0]);
    pool.keys()[1].state.cool_down(Instant::now() + secs(60));
    assert_eq!(picks(&pool, 4), [2, 0, 2, 0]);
}

#[tokio::test(start_paused = true)]
async fn weighted_follows_weights_among_available_keys() {
    let pool = pool(PoolStrategy::Weighted, &[1, 3, 6, 0], KeyLimits::default());
    let got = shares(&pool, 20_000);
    for (share, expected) in got.iter().zip([0.1, 0.3, 0.6, 0.0]) {
        assert!((share - expected).abs() < 0.02, "{got:?}");
    }
    pool.keys()[2].state.cool_down(Instant::now() + secs(60));
    let got = shares(&pool, 20_000);
    for (share, expected) in got.iter().zip([0.25, 0.75, 0.0, 0.0]) {
        assert!((share - expected).abs() < 0.02, "{got:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn weight_zero_keys_are_a_last_resort() {
    let pool = pool(PoolStrategy::Weighted, &[2, 0], KeyLimits::default());
    pool.keys()[0].state.cool_down(Instant::now() + secs(60));
    assert_eq!(picks(&pool, 3), [1, 1, 1]);
}

#[tokio::test(start_paused = true)]
async fn random_covers_every_key_about_evenly() {
    let pool = pool(PoolStrategy::Random, &[1, 1, 1, 1], KeyLimits::default());
    let got = shares(&pool, 8_000);
    assert!(
        got.iter().all(|share| (share - 0.25).abs() < 0.03),
        "{got:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn least_loaded_prefers_headroom_then_fewer_in_flight() {
    let pool = pool(PoolStrategy::LeastLoaded, &[1, 1, 1], rpm(10));
    let now = Instant::now();
    for (index, used) in [(0, 5), (1, 2), (2, 8)] {
        let state = &pool.keys()[index].state;
        (0..used).for_each(|_| state.try_reserve(ONE, now).unwrap().release_rejected());
    }
    let lease = pool.acquire(ONE, now, &[]).unwrap();
    assert_eq!(position(&pool, &lease.key.id), 1);

    let unlimited =
        super::support::pool(PoolStrategy::LeastLoaded, &[1, 1, 1], KeyLimits::default());
    let held: Vec<_> = (0..6)
        .map(|_| unlimited.acquire(ONE, now, &[]).unwrap())
        .collect();
    assert!(
        unlimited
            .keys()
            .iter()
            .all(|key| key.state.in_flight() == 2)
    );
    drop(held);
    let mut first_three = picks(&unlimited, 3);
    first_three.sort_unstable();
    assert_eq!(first_three, [0, 1, 2], "ties rotate");
}

#[tokio::test(start_paused = true)]
async fn every_strategy_falls_through_to_a_key_that_fits() {
    for strategy in [
        PoolStrategy::LeastLoaded,
        PoolStrategy::RoundRobin,
        PoolStrategy::Random,
        PoolStrategy::Weighted,
    ] {
        let pool = pool(strategy, &[1, 1, 1], KeyLimits::default());
        let now = Instant::now();
        for index in [0, 2] {
            let state = &pool.keys()[index].state;
            state.set_configured_at(
                KeyLimits {
                    itpm: 1_000,
                    ..KeyLimits::default()
                },
                now,
            );
            state
                .try_reserve(estimate(900, 0), now)
                .unwrap()
                .settle(usage(900, 0));
        }
        for _ in 0..10 {
            let lease = pool.acquire(estimate(500, 0), now, &[]).unwrap();
            assert_eq!(position(&pool, &lease.key.id), 1, "{strategy:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn excluded_keys_are_never_chosen() {
    let pool = pool(PoolStrategy::RoundRobin, &[1, 1, 1], KeyLimits::default());
    let now = Instant::now();
    let ids: Vec<&str> = pool.keys().iter().map(|k| k.id.as_str()).collect();
    for _ in 0..6 {
        let lease = pool.acquire(ONE, now, &ids[..2]).unwrap();
        assert_eq!(lease.key.id, ids[2]);
    }
    let exhausted = pool.acquire(ONE, now, &ids).unwrap_err();
    assert_eq!((exhausted.retry_at, exhausted.reason), (None, None));
}

#[tokio::test(start_paused = true)]
async fn acquire_specific_reserves_that_key_or_says_why_not() {
    let pool = pool(PoolStrategy::LeastLoaded, &[1, 1], rpm(1));
    let now = Instant::now();
    let id = pool.keys()[1].id.clone();
    let lease = pool.acquire_specific(&id, ONE, now).unwrap();
    assert_eq!(lease.key.id, id);
    match pool.acquire_specific(&id, ONE, now) {
        Err(SpecificKeyError::Unavailable(unavailable)) => {
            assert_eq!(unavailable.until, now + secs(60))
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert_eq!(
        pool.acquire_specific("00000000", ONE, now).unwrap_err(),
        SpecificKeyError::NotInPool
    );
}

#[tokio::test(start_paused = true)]
async fn exhaustion_reports_the_earliest_key_to_free_up() {
    let pool = pool(PoolStrategy::Random, &[1, 1, 1], KeyLimits::default());
    let now = Instant::now();
    pool.keys()[0].state.cool_down(now + secs(5));
    pool.keys()[1]
        .state
        .disable_until(now + secs(2), DisableReason::PermissionDenied);
    pool.keys()[2].state.cool_down(now + secs(9));
    assert_eq!(pool.available(now), 0);
    let exhausted = pool.acquire(ONE, now, &[]).unwrap_err();
    assert_eq!(exhausted.retry_at, Some(now + secs(2)));
    assert_eq!(
        exhausted.reason,
        Some(UnavailableReason::Disabled(DisableReason::PermissionDenied))
    );
    assert_eq!(pool.available(now + secs(5)), 2);
}
