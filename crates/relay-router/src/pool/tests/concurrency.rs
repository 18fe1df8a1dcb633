//! Many threads on one pool: no reservation is lost or counted twice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use relay_config::PoolStrategy;
use tokio::time::Instant;

use super::support::{estimate, pool, rpm, usage};
use crate::pool::KeyLimits;

const THREADS: usize = 8;
const ROUNDS: usize = 2_000;

#[test]
fn in_flight_counts_survive_concurrent_acquire_and_release() {
    for strategy in [
        PoolStrategy::LeastLoaded,
        PoolStrategy::RoundRobin,
        PoolStrategy::Random,
        PoolStrategy::Weighted,
    ] {
        let pool = pool(strategy, &[1, 2, 3, 4], KeyLimits::default());
        let sent = AtomicUsize::new(0);
        thread::scope(|scope| {
            for thread_index in 0..THREADS {
                let (pool, sent) = (&pool, &sent);
                scope.spawn(move || {
                    let mut held = Vec::new();
                    for round in 0..ROUNDS {
                        let lease = pool.acquire(estimate(10, 10), Instant::now(), &[]).unwrap();
                        match (thread_index + round) % 4 {
                            0 => held.push(lease),
                            1 => lease.reservation.settle(usage(5, 5)),
                            2 => lease.reservation.release_rejected(),
                            _ => drop(lease),
                        }
                        if matches!((thread_index + round) % 4, 1 | 2) {
                            sent.fetch_add(1, Ordering::Relaxed);
                        }
                        if held.len() > 8 {
                            held.clear();
                        }
                    }
                });
            }
        });
        let now = Instant::now();
        let served: u64 = pool
            .keys()
            .iter()
            .map(|k| k.state.snapshot(now).used.requests)
            .sum();
        assert!(
            pool.keys().iter().all(|k| k.state.in_flight() == 0),
            "{strategy:?}"
        );
        assert_eq!(served, sent.load(Ordering::Relaxed) as u64, "{strategy:?}");
    }
}

#[test]
fn concurrent_acquisitions_never_exceed_the_limits_at_one_instant() {
    let pool = pool(PoolStrategy::LeastLoaded, &[1, 1, 1, 1], rpm(100));
    let now = Instant::now();
    let admitted = AtomicUsize::new(0);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..ROUNDS / 10 {
                    if let Ok(lease) = pool.acquire(estimate(0, 0), now, &[]) {
                        lease.reservation.settle(usage(0, 0));
                        admitted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(admitted.load(Ordering::Relaxed), 400);
    assert_eq!(pool.available(now), 0);
}
