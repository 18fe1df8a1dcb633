//! A reservation: capacity taken on one key for one attempt, until the
//! attempt's outcome says what it really used.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use tokio::time::Instant;

use super::bucket::later;
use super::headers::{RateLimitHeaders, retry_after};
use super::limits::{Estimate, Usage};
use super::state::KeyState;

/// How long a key cools down after a 429 that does not say how long.
pub const DEFAULT_RATE_LIMIT_COOLDOWN: Duration = Duration::from_secs(5);

/// How a reservation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The upstream served the request and reported its usage.
    Used(Usage),
    /// The upstream answered without usage (an error status).
    Rejected,
    /// The request never reached the upstream.
    Unused,
}

/// One request, its input estimate and its `max_tokens`, taken from a key's
/// buckets, plus an in-flight slot. End it with [`settle`](Self::settle) or
/// [`release_rejected`](Self::release_rejected); dropping it is
/// [`release_unused`](Self::release_unused).
#[derive(Debug)]
pub struct Reservation {
    state: Arc<KeyState>,
    seq: u64,
    reserved: Estimate,
    ended: bool,
}

impl Reservation {
    pub(crate) fn new(state: Arc<KeyState>, seq: u64, reserved: Estimate) -> Self {
        Self {
            state,
            seq,
            reserved,
            ended: false,
        }
    }

    /// What was reserved.
    pub fn reserved(&self) -> Estimate {
        self.reserved
    }

    /// The key's state this reservation was taken from.
    pub fn state(&self) -> &Arc<KeyState> {
        &self.state
    }

    /// Learns from this request's response headers. The upstream counted
    /// this request and the ones reserved before it; later reservations
    /// still in flight are deducted from what it reports as remaining.
    pub fn observe_headers(&self, headers: &HeaderMap, now: Instant) {
        self.observe_headers_at(headers, now, SystemTime::now());
    }

    /// [`Self::observe_headers`] with the wall-clock time of `now` given.
    pub fn observe_headers_at(&self, headers: &HeaderMap, now: Instant, wall_now: SystemTime) {
        let headers = RateLimitHeaders::read(headers);
        self.state.observe_for(self.seq, &headers, now, wall_now);
    }

    /// The upstream answered 429: learns its headers, cools the key down for
    /// its `retry-after` (else [`DEFAULT_RATE_LIMIT_COOLDOWN`]), and ends the
    /// reservation as sent without usage. Returns the end of the cooldown.
    pub fn rate_limited(self, headers: &HeaderMap, now: Instant) -> Instant {
        self.rate_limited_at(headers, now, SystemTime::now())
    }

    /// [`Self::rate_limited`] with the wall-clock time of `now` given.
    pub fn rate_limited_at(
        self,
        headers: &HeaderMap,
        now: Instant,
        wall_now: SystemTime,
    ) -> Instant {
        self.observe_headers_at(headers, now, wall_now);
        let wait = retry_after(headers, wall_now).unwrap_or(DEFAULT_RATE_LIMIT_COOLDOWN);
        let until = later(now, wait);
        self.state.cool_down(until);
        self.release_rejected();
        until
    }

    /// The request was served: replaces the estimates by the real usage,
    /// refunding what was over-reserved and charging what was under.
    pub fn settle(self, usage: Usage) {
        self.end(Outcome::Used(usage));
    }

    /// The request reached the upstream but produced no usage (an error
    /// status): the request still counts against RPM, the tokens go back.
    pub fn release_rejected(self) {
        self.end(Outcome::Rejected);
    }

    /// The request never reached the upstream (connect failure, cancelled
    /// before sending): everything goes back. Dropping does the same, so an
    /// attempt abandoned on any path cannot leak capacity.
    pub fn release_unused(self) {
        self.end(Outcome::Unused);
    }

    fn end(mut self, outcome: Outcome) {
        self.ended = true;
        self.state.finish(self.seq, outcome);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.ended {
            self.state.finish(self.seq, Outcome::Unused);
        }
    }
}
