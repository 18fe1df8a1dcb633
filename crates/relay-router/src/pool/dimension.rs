//! One rate-limited dimension of a key: its configured and learned limits,
//! its bucket, and what the upstream last reported about it.

use std::num::NonZeroU64;

use tokio::time::Instant;

use super::bucket::TokenBucket;
use super::headers::LimitReport;
use super::snapshot::LimitSnapshot;

#[derive(Clone, Debug)]
pub(crate) struct DimensionState {
    configured: Option<NonZeroU64>,
    learned: Option<NonZeroU64>,
    /// `None` while neither limit is known: the dimension is unlimited.
    bucket: Option<TokenBucket>,
    /// The upstream reported nothing left: no request until its reset.
    blocked_until: Option<Instant>,
    upstream_reset: Option<Instant>,
}

impl DimensionState {
    pub(crate) fn new(configured: u64, now: Instant) -> Self {
        let configured = NonZeroU64::new(configured);
        Self {
            configured,
            learned: None,
            bucket: configured.map(|limit| TokenBucket::full(limit, now)),
            blocked_until: None,
            upstream_reset: None,
        }
    }

    /// The limit in force: the lower of the configured and learned ones.
    fn effective(&self) -> Option<NonZeroU64> {
        match (self.configured, self.learned) {
            (Some(configured), Some(learned)) => Some(configured.min(learned)),
            (configured, learned) => configured.or(learned),
        }
    }

    pub(crate) fn set_configured(&mut self, limit: u64, now: Instant, in_flight: u64) {
        self.configured = NonZeroU64::new(limit);
        self.apply_capacity(now, in_flight);
    }

    /// Follows a change of the effective limit. A bucket that starts now
    /// starts full minus what is already in flight, so a limit learned
    /// mid-burst does not admit the burst a second time.
    fn apply_capacity(&mut self, now: Instant, in_flight: u64) {
        let limit = self.effective();
        match (self.bucket.as_mut(), limit) {
            (Some(bucket), Some(limit)) => bucket.set_capacity(limit, now),
            (None, Some(limit)) => {
                let mut bucket = TokenBucket::full(limit, now);
                bucket.take(in_flight);
                self.bucket = Some(bucket);
            }
            (_, None) => self.bucket = None,
        }
    }

    pub(crate) fn refill(&mut self, now: Instant) {
        if let Some(bucket) = self.bucket.as_mut() {
            bucket.refill(now);
        }
        if self.blocked_until.is_some_and(|until| until <= now) {
            self.blocked_until = None;
        }
    }

    /// When `amount` can be taken, or `None` if it can now. Call after `refill`.
    pub(crate) fn ready_at(&self, amount: u64) -> Option<Instant> {
        let bucket_ready = self.bucket.as_ref().and_then(|b| b.ready_at(amount));
        bucket_ready.max(self.blocked_until)
    }

    pub(crate) fn take(&mut self, amount: u64) {
        if let Some(bucket) = self.bucket.as_mut() {
            bucket.take(amount);
        }
    }

    pub(crate) fn adjust(&mut self, tokens: i128) {
        if let Some(bucket) = self.bucket.as_mut() {
            bucket.adjust(tokens);
        }
    }

    /// Fraction of capacity left, 1.0 when unlimited, 0.0 when blocked.
    pub(crate) fn fraction(&self) -> f64 {
        if self.blocked_until.is_some() {
            return 0.0;
        }
        self.bucket.as_ref().map_or(1.0, TokenBucket::fraction)
    }

    /// Learns from the upstream's report. `unseen` is what our reservations
    /// in flight that the upstream has not counted yet will still take;
    /// `in_flight` is everything in flight (for a bucket that starts now).
    pub(crate) fn apply_report(
        &mut self,
        report: &LimitReport,
        now: Instant,
        unseen: u64,
        in_flight: u64,
    ) {
        if let Some(limit) = report.limit.and_then(NonZeroU64::new) {
            self.learned = Some(limit);
            self.apply_capacity(now, in_flight);
        }
        if report.reset.is_some() {
            self.upstream_reset = report.reset;
        }
        let Some(remaining) = report.remaining else {
            return;
        };
        if let Some(bucket) = self.bucket.as_mut() {
            bucket.refill(now);
            let mut level = i128::from(remaining);
            // What the upstream says was used counts against a lower
            // configured limit too: remaining 80 of 100 leaves 30 of 50.
            if let Some(limit) = report.limit.filter(|limit| *limit > 0) {
                let used = i128::from(limit.saturating_sub(remaining));
                level = level.min(i128::from(bucket.capacity()) - used).max(0);
            }
            bucket.set_level(level - i128::from(unseen));
        }
        self.blocked_until = match remaining {
            0 => report.reset.filter(|reset| *reset > now),
            _ => None,
        };
    }

    pub(crate) fn snapshot(&self, now: Instant) -> LimitSnapshot {
        let remaining = self.bucket.as_ref().map(|bucket| {
            let tokens = if self.blocked_until.is_some() {
                0
            } else {
                bucket.level_tokens()
            };
            u64::try_from(tokens.max(0)).unwrap_or(u64::MAX)
        });
        let full_at = self.bucket.as_ref().and_then(TokenBucket::full_at);
        LimitSnapshot {
            configured: self.configured.map(NonZeroU64::get),
            learned: self.learned.map(NonZeroU64::get),
            effective: self.effective().map(NonZeroU64::get),
            remaining,
            full_at: full_at.max(self.blocked_until),
            blocked_until: self.blocked_until,
            upstream_reset: self.upstream_reset.filter(|reset| *reset > now),
        }
    }
}
