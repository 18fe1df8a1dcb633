//! Latency distributions: percentiles of recorded samples, and the
//! difference of two distributions percentile by percentile.
//!
//! "Added latency" is `percentile(through the proxy) − percentile(direct)`
//! for each percentile separately. Requests are not paired one to one (a
//! request through the relay has no direct twin), so the difference of two
//! p99s is not the p99 of differences; it is what a client would see move.

use serde::Serialize;

/// Percentiles of a set of durations, in microseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Dist {
    pub count: usize,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

impl Dist {
    /// Computes the distribution of `samples` (nanoseconds); sorts them.
    pub fn from_nanos(samples: &mut [u64]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let sum: u128 = samples.iter().map(|&s| u128::from(s)).sum();
        let us = |ns: u64| ns as f64 / 1_000.0;
        Self {
            count: samples.len(),
            mean_us: sum as f64 / samples.len() as f64 / 1_000.0,
            p50_us: us(percentile(samples, 50.0)),
            p90_us: us(percentile(samples, 90.0)),
            p99_us: us(percentile(samples, 99.0)),
            max_us: us(samples[samples.len() - 1]),
        }
    }

    /// `self − base`, percentile by percentile (not per-request pairing).
    pub fn minus(&self, base: &Self) -> Added {
        Added {
            p50_us: self.p50_us - base.p50_us,
            p90_us: self.p90_us - base.p90_us,
            p99_us: self.p99_us - base.p99_us,
            max_us: self.max_us - base.max_us,
        }
    }
}

/// The difference of two [`Dist`]s, percentile by percentile, in microseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Added {
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// Nearest-rank percentile of sorted, non-empty `sorted`.
fn percentile(sorted: &[u64], pct: f64) -> u64 {
    let rank = ((pct / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u64> = (1..=100).map(|i| i * 1_000).collect();
        samples.reverse();
        let dist = Dist::from_nanos(&mut samples);
        assert_eq!(dist.count, 100);
        assert_eq!(dist.p50_us, 50.0);
        assert_eq!(dist.p90_us, 90.0);
        assert_eq!(dist.p99_us, 99.0);
        assert_eq!(dist.max_us, 100.0);
        assert!((dist.mean_us - 50.5).abs() < 1e-9);
    }

    #[test]
    fn differences_are_per_percentile() {
        let mut a: Vec<u64> = vec![1_000, 2_000, 3_000];
        let mut b: Vec<u64> = vec![1_500, 2_500, 10_000];
        let added = Dist::from_nanos(&mut b).minus(&Dist::from_nanos(&mut a));
        assert_eq!(added.p50_us, 0.5);
        assert_eq!(added.max_us, 7.0);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Dist::from_nanos(&mut []).count, 0);
    }
}
