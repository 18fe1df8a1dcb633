//! Peak-EWMA latency estimate, as in Finagle, linkerd and tower's `PeakEwma`:
//! pessimistic about spikes, forgiving over time.
//!
//! - A sample above the estimate replaces it at once, so a provider that
//!   suddenly slows down loses traffic on its next response, not after many.
//! - A sample at or below it is blended in with a weight that depends on the
//!   time since the previous sample, not on the number of samples:
//!   `estimate = estimate * w + sample * (1 - w)` with
//!   `w = exp(-elapsed / DECAY_WINDOW)`. A busy and a quiet provider thus
//!   recover from a spike at the same pace (about 63% of the way per window).
//! - An estimate with no sample for `STALE_AFTER` is forgotten: the provider
//!   counts as unmeasured again, so `latency_based` routing sends it a request
//!   to re-measure it instead of shunning it forever for one old spike.

use std::time::Duration;

use tokio::time::Instant;

/// Time constant of the exponential decay.
pub(crate) const DECAY_WINDOW: Duration = Duration::from_secs(10);

/// Age after which the last estimate no longer describes the provider.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(60);

/// The estimate and when it was last fed a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PeakEwma {
    last: Option<Estimate>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Estimate {
    seconds: f64,
    at: Instant,
}

impl PeakEwma {
    pub(crate) fn observe(&mut self, sample: Duration, now: Instant) {
        let sample = sample.as_secs_f64();
        let seconds = match self.last {
            Some(previous) if sample < previous.seconds => {
                // Out-of-order observations (concurrent requests finishing)
                // count as simultaneous rather than going back in time.
                let elapsed = now.saturating_duration_since(previous.at);
                let keep = (-elapsed.as_secs_f64() / DECAY_WINDOW.as_secs_f64()).exp();
                previous.seconds * keep + sample * (1.0 - keep)
            }
            _ => sample,
        };
        let at = self.last.map_or(now, |previous| previous.at.max(now));
        self.last = Some(Estimate { seconds, at });
    }

    pub(crate) fn estimate(&self, now: Instant) -> Option<Duration> {
        let last = self.last?;
        if now.saturating_duration_since(last.at) >= STALE_AFTER {
            return None;
        }
        Duration::try_from_secs_f64(last.seconds).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn estimate_ms(ewma: &PeakEwma, now: Instant) -> f64 {
        ewma.estimate(now)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }

    #[test]
    fn no_estimate_before_the_first_sample() {
        assert_eq!(PeakEwma::default().estimate(Instant::now()), None);
    }

    #[test]
    fn the_first_sample_is_the_estimate() {
        let now = Instant::now();
        let mut ewma = PeakEwma::default();
        ewma.observe(ms(250), now);
        assert_eq!(ewma.estimate(now), Some(ms(250)));
    }

    #[test]
    fn a_spike_takes_effect_at_once() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::default();
        ewma.observe(ms(100), t0);
        ewma.observe(ms(5_000), t0 + ms(1));
        assert_eq!(ewma.estimate(t0 + ms(1)), Some(ms(5_000)));
    }

    #[test]
    fn lower_samples_pull_the_estimate_down_over_time_not_per_sample() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::default();
        ewma.observe(ms(1_000), t0);
        // A burst of fast samples at the same instant changes nothing yet.
        for _ in 0..100 {
            ewma.observe(ms(100), t0);
        }
        assert!((estimate_ms(&ewma, t0) - 1_000.0).abs() < 1e-6);

        // One window later the estimate has moved 63% of the way to the sample.
        ewma.observe(ms(100), t0 + DECAY_WINDOW);
        let expected = 100.0 + 900.0 * (-1.0f64).exp();
        assert!((estimate_ms(&ewma, t0 + DECAY_WINDOW) - expected).abs() < 1e-6);
    }

    #[test]
    fn steady_fast_samples_converge_after_a_spike() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::default();
        ewma.observe(ms(10_000), t0);
        let mut previous = 10_000.0;
        for second in 1..=50 {
            let now = t0 + Duration::from_secs(second);
            ewma.observe(ms(200), now);
            let current = estimate_ms(&ewma, now);
            assert!(current < previous, "the estimate decays monotonically");
            previous = current;
        }
        assert!(previous < 300.0, "after five windows: {previous}");
        assert!(previous > 200.0);
    }

    #[test]
    fn out_of_order_samples_do_not_go_back_in_time() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::default();
        ewma.observe(ms(1_000), t0 + ms(500));
        ewma.observe(ms(100), t0);
        assert!((estimate_ms(&ewma, t0 + ms(500)) - 1_000.0).abs() < 1e-6);
    }

    #[test]
    fn an_estimate_without_new_samples_goes_stale() {
        let t0 = Instant::now();
        let mut ewma = PeakEwma::default();
        ewma.observe(ms(800), t0);
        assert_eq!(ewma.estimate(t0 + STALE_AFTER - ms(1)), Some(ms(800)));
        assert_eq!(ewma.estimate(t0 + STALE_AFTER), None);

        // The next sample starts afresh: the old value has all but decayed.
        ewma.observe(ms(100), t0 + STALE_AFTER);
        assert!(estimate_ms(&ewma, t0 + STALE_AFTER) < 102.0);
    }
}
