//! The order in which a pool tries its keys for one request, per strategy.
//! Every strategy returns all candidates, best first, so a key that cannot
//! take the request falls through to the next one.

use std::sync::atomic::{AtomicUsize, Ordering};

use rand::Rng;
use rand::seq::SliceRandom;
use relay_config::PoolStrategy;
use tokio::time::Instant;

use super::key_pool::PoolKey;

/// The keys to try for one request, best first.
pub(crate) struct Candidates {
    pub(crate) order: Vec<usize>,
    /// Where this call's rotation started (`round_robin`, `least_loaded`).
    pub(crate) rotation_start: usize,
}

/// The keys not in `exclude`, in the order to try them.
pub(crate) fn candidate_order(
    keys: &[PoolKey],
    strategy: PoolStrategy,
    cursor: &AtomicUsize,
    now: Instant,
    exclude: &[&str],
) -> Candidates {
    let included = |i: &usize| !exclude.contains(&keys[*i].id.as_str());
    let rotation_start = match (strategy, keys.len()) {
        (PoolStrategy::RoundRobin | PoolStrategy::LeastLoaded, len) if len > 0 => {
            cursor.fetch_add(1, Ordering::Relaxed) % len
        }
        _ => 0,
    };
    let rotated = (0..keys.len()).map(|offset| (rotation_start + offset) % keys.len());
    let order = match strategy {
        PoolStrategy::RoundRobin => rotated.filter(included).collect(),
        PoolStrategy::LeastLoaded => least_loaded(keys, rotated.filter(included).collect(), now),
        PoolStrategy::Random => {
            let mut order: Vec<usize> = (0..keys.len()).filter(included).collect();
            order.shuffle(&mut rand::rng());
            order
        }
        PoolStrategy::Weighted => weighted(keys, (0..keys.len()).filter(included).collect()),
    };
    Candidates {
        order,
        rotation_start,
    }
}

/// After `round_robin` chose `chosen`, moves the cursor past it, so the
/// keys skipped as unavailable do not hand their turns to the chosen one
/// (with keys A, B, C and B cooling down: A, C, A, C, not A, C, C, A).
pub(crate) fn advance_past(
    cursor: &AtomicUsize,
    candidates: &Candidates,
    chosen: usize,
    len: usize,
) {
    let skipped = (chosen + len - candidates.rotation_start) % len;
    if skipped > 0 {
        cursor.fetch_add(skipped, Ordering::Relaxed);
    }
}

/// Most headroom first; among equals, fewest requests in flight (so keys
/// without known limits still spread their load), then a rotating start so
/// exact ties are shared fairly.
fn least_loaded(keys: &[PoolKey], rotated: Vec<usize>, now: Instant) -> Vec<usize> {
    let mut loads: Vec<(usize, f64, usize)> = rotated
        .into_iter()
        .map(|i| {
            let (headroom, in_flight) = keys[i].state.load(now);
            (i, headroom, in_flight)
        })
        .collect();
    // A stable sort keeps the rotated order among exact ties.
    loads.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    loads.into_iter().map(|(i, _, _)| i).collect()
}

/// A weighted random order (exponential races: each key draws an arrival
/// time with rate = its weight, earliest first). The first key of the order
/// is chosen with probability weight / total weight, and the same holds among
/// the keys that remain when some turn out unavailable, so available keys
/// share the traffic in proportion to their weights. Stateless, so it needs
/// no lock. Keys of weight 0 come last: used only when nothing else can.
fn weighted(keys: &[PoolKey], candidates: Vec<usize>) -> Vec<usize> {
    let mut rng = rand::rng();
    let (weighted, unweighted): (Vec<usize>, Vec<usize>) =
        candidates.into_iter().partition(|&i| keys[i].weight > 0);
    let mut arrivals: Vec<(usize, f64)> = weighted
        .into_iter()
        .map(|i| {
            // 1 - [0, 1) is (0, 1], so the logarithm is finite.
            let uniform: f64 = 1.0 - rng.random::<f64>();
            (i, -uniform.ln() / f64::from(keys[i].weight))
        })
        .collect();
    arrivals.sort_by(|a, b| a.1.total_cmp(&b.1));
    arrivals
        .into_iter()
        .map(|(i, _)| i)
        .chain(unweighted)
        .collect()
}
