//! A continuously refilling token bucket, as Anthropic models its limits: a
//! limit of N per minute holds at most N and refills at N/60 per second.
//!
//! The level is kept in exact integers (one token = 60·10⁹ units, so a bucket
//! of capacity N gains exactly N units per nanosecond): "60 RPM frees one
//! request after exactly one second" holds without floating-point drift.

use std::num::NonZeroU64;
use std::time::Duration;

use tokio::time::Instant;

/// Units per token: nanoseconds per minute.
const UNITS_PER_TOKEN: i128 = 60_000_000_000;

/// The longest wait ever computed, so far-off instants never overflow.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `now + wait`, with the wait capped so the addition cannot overflow.
pub(crate) fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait.min(MAX_WAIT)).unwrap_or(now)
}

fn units(tokens: u64) -> i128 {
    i128::from(tokens).saturating_mul(UNITS_PER_TOKEN)
}

#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    capacity: NonZeroU64,
    /// May be negative: debt from an oversized request or usage above the estimate.
    level: i128,
    updated: Instant,
}

impl TokenBucket {
    pub(crate) fn full(capacity: NonZeroU64, now: Instant) -> Self {
        Self {
            capacity,
            level: units(capacity.get()),
            updated: now,
        }
    }

    pub(crate) fn capacity(&self) -> u64 {
        self.capacity.get()
    }

    fn full_units(&self) -> i128 {
        units(self.capacity.get())
    }

    /// Brings the level up to `now`. Callers on other threads may pass a
    /// slightly older `now`; time never runs backwards for the bucket.
    pub(crate) fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_nanos();
        let elapsed = i128::try_from(elapsed).unwrap_or(i128::MAX);
        let gained = elapsed.saturating_mul(i128::from(self.capacity.get()));
        self.level = self.level.saturating_add(gained).min(self.full_units());
        self.updated = self.updated.max(now);
    }

    /// When `amount` fits, or `None` if it fits now. An amount above the
    /// capacity can never fit, so it waits for a full bucket instead and then
    /// runs the bucket into debt; otherwise such requests would starve.
    pub(crate) fn ready_at(&self, amount: u64) -> Option<Instant> {
        let need = units(amount).min(self.full_units());
        let deficit = need.saturating_sub(self.level);
        if deficit <= 0 {
            return None;
        }
        let per_nano = i128::from(self.capacity.get());
        let nanos = (deficit + per_nano - 1) / per_nano;
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
        Some(later(self.updated, Duration::from_nanos(nanos)))
    }

    /// When the bucket is full again, or `None` if it is full.
    pub(crate) fn full_at(&self) -> Option<Instant> {
        self.ready_at(self.capacity.get())
    }

    /// Adds (refund) or removes (charge) tokens; never above capacity.
    pub(crate) fn adjust(&mut self, tokens: i128) {
        let delta = tokens.saturating_mul(UNITS_PER_TOKEN);
        self.level = self.level.saturating_add(delta).min(self.full_units());
    }

    pub(crate) fn take(&mut self, amount: u64) {
        self.level = self.level.saturating_sub(units(amount));
    }

    /// Sets the level to what the upstream reports, in whole tokens.
    pub(crate) fn set_level(&mut self, tokens: i128) {
        self.level = tokens
            .saturating_mul(UNITS_PER_TOKEN)
            .min(self.full_units());
    }

    /// Changes the capacity, keeping what has been used: a bucket missing 10
    /// tokens still misses 10, so a limit flapping between two values cannot
    /// mint capacity.
    pub(crate) fn set_capacity(&mut self, capacity: NonZeroU64, now: Instant) {
        self.refill(now);
        let used = self.full_units().saturating_sub(self.level);
        self.capacity = capacity;
        self.level = self.full_units().saturating_sub(used);
    }

    /// Whole tokens available now (negative while in debt).
    pub(crate) fn level_tokens(&self) -> i128 {
        self.level.div_euclid(UNITS_PER_TOKEN)
    }

    /// Fraction of the capacity available, in 0.0..=1.0.
    pub(crate) fn fraction(&self) -> f64 {
        let fraction = self.level as f64 / self.full_units() as f64;
        fraction.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(capacity: u64, now: Instant) -> TokenBucket {
        TokenBucket::full(NonZeroU64::new(capacity).unwrap(), now)
    }

    #[test]
    fn refills_at_capacity_per_minute() {
        let t0 = Instant::now();
        let mut b = bucket(60, t0);
        b.take(60);
        assert_eq!(b.ready_at(1), Some(t0 + Duration::from_secs(1)));
        b.refill(t0 + Duration::from_millis(2_500));
        assert_eq!(b.level_tokens(), 2);
        b.refill(t0 + Duration::from_secs(3_600));
        assert_eq!(b.level_tokens(), 60);
        assert_eq!(b.full_at(), None);
    }

    #[test]
    fn oversized_amounts_wait_for_a_full_bucket_then_go_into_debt() {
        let t0 = Instant::now();
        let mut b = bucket(100, t0);
        assert_eq!(b.ready_at(1_000), None);
        b.take(1_000);
        assert_eq!(b.level_tokens(), -900);
        assert_eq!(b.ready_at(1), Some(t0 + Duration::from_millis(540_600)));
        assert_eq!(b.fraction(), 0.0);
    }

    #[test]
    fn capacity_changes_keep_usage() {
        let t0 = Instant::now();
        let mut b = bucket(60, t0);
        b.take(10);
        b.set_capacity(NonZeroU64::new(20).unwrap(), t0);
        assert_eq!(b.level_tokens(), 10);
        b.set_capacity(NonZeroU64::new(60).unwrap(), t0);
        assert_eq!(b.level_tokens(), 50);
    }

    #[test]
    fn refunds_never_exceed_capacity_and_old_instants_do_not_rewind() {
        let t0 = Instant::now();
        let mut b = bucket(10, t0 + Duration::from_secs(5));
        b.adjust(100);
        assert_eq!(b.level_tokens(), 10);
        b.refill(t0);
        b.take(10);
        assert_eq!(b.ready_at(10), Some(t0 + Duration::from_secs(65)));
    }
}
