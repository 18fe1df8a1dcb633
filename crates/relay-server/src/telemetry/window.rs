//! Recent latency samples for `/admin/stats` percentiles, and the request rate.
//!
//! A bounded ring of the last [`CAPACITY`] requests, of which only those in
//! the last [`MAX_AGE`] count: recording is O(1) under a short lock, and the
//! percentiles are computed (copy and sort a few thousand floats) only when
//! someone asks for them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Requests remembered for percentiles.
pub const CAPACITY: usize = 1000;
/// Older samples no longer count.
pub const MAX_AGE: Duration = Duration::from_secs(300);
/// The request rate is averaged over this long (or the uptime, when shorter).
const RATE_WINDOW_SECS: u64 = 60;

/// One finished request's timings, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub latency_ms: f64,
    pub ttfb_ms: f64,
    pub overhead_ms: f64,
}

/// p50/p90/p99 in milliseconds; 0 when there is no sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `values` (sorted here).
    pub fn of(values: &mut [f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = (p * values.len() as f64).ceil() as usize;
            values[index.clamp(1, values.len()) - 1]
        };
        Self {
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
        }
    }
}

/// The percentiles of each timing, and how many samples they come from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WindowStats {
    pub samples: usize,
    pub latency: Percentiles,
    pub ttfb: Percentiles,
    pub overhead: Percentiles,
    pub requests_per_sec: f64,
}

#[derive(Debug)]
pub struct Window {
    origin: Instant,
    samples: VecDeque<(Instant, Sample)>,
    /// Completions per second for the last minute: (second since origin, count).
    per_second: [(u64, u32); RATE_WINDOW_SECS as usize],
}

impl Window {
    pub fn new(origin: Instant) -> Self {
        Self {
            origin,
            samples: VecDeque::with_capacity(CAPACITY),
            per_second: [(u64::MAX, 0); RATE_WINDOW_SECS as usize],
        }
    }

    pub fn record(&mut self, at: Instant, sample: Sample) {
        if self.samples.len() == CAPACITY {
            self.samples.pop_front();
        }
        self.samples.push_back((at, sample));
        let second = at.saturating_duration_since(self.origin).as_secs();
        let slot = &mut self.per_second[(second % RATE_WINDOW_SECS) as usize];
        if slot.0 == second {
            slot.1 += 1;
        } else {
            *slot = (second, 1);
        }
    }

    pub fn stats(&self, now: Instant) -> WindowStats {
        let fresh: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|(at, _)| now.saturating_duration_since(*at) <= MAX_AGE)
            .map(|(_, sample)| sample)
            .collect();
        let column = |pick: fn(&Sample) -> f64| {
            let mut values: Vec<f64> = fresh.iter().map(|s| pick(s)).collect();
            Percentiles::of(&mut values)
        };
        WindowStats {
            samples: fresh.len(),
            latency: column(|s| s.latency_ms),
            ttfb: column(|s| s.ttfb_ms),
            overhead: column(|s| s.overhead_ms),
            requests_per_sec: self.rate(now),
        }
    }

    /// Completions per second over the last minute, or since the origin when
    /// that is more recent.
    fn rate(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.origin);
        let second = elapsed.as_secs();
        let first = second.saturating_sub(RATE_WINDOW_SECS - 1);
        let count: u64 = self
            .per_second
            .iter()
            .filter(|(s, _)| *s != u64::MAX && (first..=second).contains(s))
            .map(|(_, n)| u64::from(*n))
            .sum();
        let span = elapsed.as_secs_f64().clamp(1.0, RATE_WINDOW_SECS as f64);
        count as f64 / span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(latency_ms: f64) -> Sample {
        Sample {
            latency_ms,
            ttfb_ms: latency_ms / 2.0,
            overhead_ms: 0.1,
        }
    }

    #[test]
    fn nearest_rank_percentiles() {
        let mut values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = Percentiles::of(&mut values);
        assert_eq!((p.p50, p.p90, p.p99), (50.0, 90.0, 99.0));
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
        let one = Percentiles::of(&mut [7.0]);
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
    }

    #[test]
    fn the_window_keeps_the_latest_requests_only() {
        let origin = Instant::now();
        let mut window = Window::new(origin);
        for i in 0..(CAPACITY + 500) {
            window.record(origin, sample(i as f64));
        }
        let stats = window.stats(origin);
        assert_eq!(stats.samples, CAPACITY);
        // The first 500 were pushed out: the smallest left is 500.
        assert!(stats.latency.p50 >= 500.0 + CAPACITY as f64 / 2.0 - 1.0);
        assert!((stats.ttfb.p50 - stats.latency.p50 / 2.0).abs() < f64::EPSILON);
    }

    #[test]
    fn old_samples_stop_counting() {
        let origin = Instant::now();
        let mut window = Window::new(origin);
        window.record(origin, sample(5000.0));
        let later = origin + MAX_AGE + Duration::from_secs(1);
        window.record(later, sample(10.0));
        let stats = window.stats(later);
        assert_eq!(stats.samples, 1);
        assert_eq!(stats.latency.p99, 10.0);
    }

    #[test]
    fn the_rate_is_over_the_last_minute() {
        let origin = Instant::now();
        let mut window = Window::new(origin);
        for i in 0..20 {
            window.record(origin + Duration::from_millis(i * 100), sample(1.0));
        }
        // 20 requests in the first 10 seconds of uptime: 2 per second.
        let rate = window
            .stats(origin + Duration::from_secs(10))
            .requests_per_sec;
        assert!((rate - 2.0).abs() < 1e-9, "{rate}");
        // Two minutes on, they are out of the window.
        let rate = window
            .stats(origin + Duration::from_secs(130))
            .requests_per_sec;
        assert_eq!(rate, 0.0);
    }
}
