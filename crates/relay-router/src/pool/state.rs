//! One key's rate-limit state. It outlives pools: a reload builds new pools
//! around the same `Arc<KeyState>`s, so what a key has used and learned is
//! kept. Each key has its own mutex, held only for arithmetic.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use http::HeaderMap;
use tokio::time::Instant;

use super::dimension::DimensionState;
use super::headers::{LastReset, RateLimitHeaders};
use super::in_flight::InFlight;
use super::limits::{Estimate, KeyLimits, LimitDimension};
use super::reservation::{Outcome, Reservation};
use super::snapshot::{KeySnapshot, UsageTotals};
use crate::sync::Nudge;

/// A key's shareable state at one moment (see `crate::sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyShare {
    /// [`LimitDimension::index`]-indexed net charges by this process.
    pub(crate) charged: [i64; 4],
    pub(crate) cooling_until: Option<Instant>,
    pub(crate) disabled: Option<(Instant, DisableReason)>,
}

/// Why a key is taken out of service for a long time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DisableReason {
    /// The upstream rejected the key (401).
    InvalidKey,
    /// The key may not use this API or model (403).
    PermissionDenied,
    /// The account's spend limit or credit is exhausted.
    SpendLimit,
}

impl fmt::Display for DisableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidKey => "invalid key",
            Self::PermissionDenied => "permission denied",
            Self::SpendLimit => "spend limit reached",
        })
    }
}

/// What keeps a key from taking a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnavailableReason {
    /// A rate limit (ours or the upstream's) has too little left.
    Limit(LimitDimension),
    /// The upstream answered 429 and asked us to wait.
    CoolingDown,
    Disabled(DisableReason),
}

impl fmt::Display for UnavailableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limit(dimension) => write!(f, "{dimension} rate limit reached"),
            Self::CoolingDown => f.write_str("cooling down after a 429"),
            Self::Disabled(reason) => write!(f, "disabled: {reason}"),
        }
    }
}

/// A key cannot take a request now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("key unavailable: {reason}")]
pub struct Unavailable {
    /// The earliest moment the key could take the same request, if nothing
    /// else happens meanwhile (settled reservations can make it sooner).
    pub until: Instant,
    /// The constraint that lasts longest.
    pub reason: UnavailableReason,
}

/// A key's limits, usage and cooldowns. `Send + Sync`; share it as `Arc`.
#[derive(Debug)]
pub struct KeyState {
    inner: Mutex<Inner>,
    /// Wakes the state sync when a cooldown or disable starts (see `crate::sync`).
    nudge: Option<Arc<Nudge>>,
}

#[derive(Debug)]
struct Inner {
    dimensions: [DimensionState; 4],
    /// The last `-reset` header parsed per dimension, so a repeat is not
    /// parsed again.
    resets: [LastReset; 4],
    /// Reservations not settled yet, with the running sums responses need.
    in_flight: InFlight,
    last_seq: u64,
    cooling_until: Option<Instant>,
    disabled: Option<(Instant, DisableReason)>,
    used: UsageTotals,
    /// Net amount this process has charged per dimension (reserved minus
    /// refunded), never including charges learned from other relays: what
    /// the state sync publishes as this instance's usage.
    charged: [i128; 4],
}

impl KeyState {
    pub fn new(limits: KeyLimits, now: Instant) -> Self {
        let dimensions = LimitDimension::ALL.map(|d| DimensionState::new(limits.get(d), now));
        Self {
            inner: Mutex::new(Inner {
                dimensions,
                resets: Default::default(),
                in_flight: InFlight::default(),
                last_seq: 0,
                cooling_until: None,
                disabled: None,
                used: UsageTotals::default(),
                charged: [0; 4],
            }),
            nudge: None,
        }
    }

    /// Wakes `nudge` whenever the key is cooled down or disabled.
    pub(crate) fn with_nudge(mut self, nudge: Arc<Nudge>) -> Self {
        self.nudge = Some(nudge);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Critical sections only do arithmetic, so a poisoned lock still
        // holds consistent numbers.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies reloaded configuration; usage, in-flight reservations and
    /// learned limits are kept.
    pub fn set_configured(&self, limits: KeyLimits) {
        self.set_configured_at(limits, Instant::now());
    }

    /// [`Self::set_configured`] at a given instant.
    pub fn set_configured_at(&self, limits: KeyLimits, now: Instant) {
        let mut inner = self.lock();
        for dimension in LimitDimension::ALL {
            let in_flight = inner.in_flight.total(dimension);
            inner.dimensions[dimension.index()].set_configured(
                limits.get(dimension),
                now,
                in_flight,
            );
        }
    }

    /// Whether the key could take `estimate` now, without reserving anything.
    pub fn check(&self, estimate: Estimate, now: Instant) -> Result<(), Unavailable> {
        let mut inner = self.lock();
        inner.refresh(now);
        inner.blocker(estimate, now).map_or(Ok(()), Err)
    }

    /// Reserves one request, `estimate.input_tokens` input tokens and
    /// `estimate.max_output_tokens` output tokens, or says when it could.
    pub fn try_reserve(
        self: &Arc<Self>,
        estimate: Estimate,
        now: Instant,
    ) -> Result<Reservation, Unavailable> {
        let mut inner = self.lock();
        inner.refresh(now);
        if let Some(unavailable) = inner.blocker(estimate, now) {
            return Err(unavailable);
        }
        for dimension in LimitDimension::ALL {
            let amount = estimate.amount(dimension);
            inner.dimensions[dimension.index()].take(amount);
            inner.charged[dimension.index()] += i128::from(amount);
        }
        inner.last_seq += 1;
        let seq = inner.last_seq;
        inner.in_flight.insert(seq, estimate);
        drop(inner);
        Ok(Reservation::new(Arc::clone(self), seq, estimate))
    }

    /// Learns from a response's `anthropic-ratelimit-*` headers, assuming the
    /// upstream has counted every reservation in flight. Prefer
    /// [`Reservation::observe_headers`], which knows which ones it has seen.
    pub fn observe_headers(&self, headers: &HeaderMap, now: Instant) {
        self.observe_headers_at(headers, now, SystemTime::now());
    }

    /// [`Self::observe_headers`] with the wall-clock time of `now` given.
    pub fn observe_headers_at(&self, headers: &HeaderMap, now: Instant, wall_now: SystemTime) {
        let headers = RateLimitHeaders::read(headers);
        let mut inner = self.lock();
        let through = inner.last_seq;
        inner.observe(&headers, now, wall_now, through);
    }

    /// Learns from the response to reservation `seq`.
    pub(crate) fn observe_for(
        &self,
        seq: u64,
        headers: &RateLimitHeaders<'_>,
        now: Instant,
        wall_now: SystemTime,
    ) {
        self.lock().observe(headers, now, wall_now, seq);
    }

    /// Takes the key out of rotation until `until` (e.g. a 429's
    /// `retry-after`). An earlier end than one already set is ignored.
    pub fn cool_down(&self, until: Instant) {
        let mut inner = self.lock();
        let later = inner.cooling_until.is_none_or(|current| until > current);
        if later {
            inner.cooling_until = Some(until);
        }
        drop(inner);
        if later {
            self.poke();
        }
    }

    /// Takes the key out of rotation for a long time, e.g. after a 401. An
    /// earlier end than one already set is ignored.
    pub fn disable_until(&self, until: Instant, reason: DisableReason) {
        let mut inner = self.lock();
        let later = inner.disabled.is_none_or(|(current, _)| until > current);
        if later {
            inner.disabled = Some((until, reason));
        }
        drop(inner);
        if later {
            self.poke();
        }
    }

    fn poke(&self) {
        if let Some(nudge) = &self.nudge {
            nudge.poke();
        }
    }

    /// What the state sync shares about this key.
    pub(crate) fn share(&self, now: Instant) -> KeyShare {
        let mut inner = self.lock();
        inner.refresh(now);
        KeyShare {
            charged: inner.charged.map(|c| i64::try_from(c).unwrap_or(i64::MAX)),
            cooling_until: inner.cooling_until,
            disabled: inner.disabled,
        }
    }

    /// Charges (or, negative, refunds) what other relays used from this key.
    /// Not counted in what this process publishes.
    pub(crate) fn charge_remote(&self, amounts: [i64; 4], now: Instant) {
        let mut inner = self.lock();
        inner.refresh(now);
        for dimension in LimitDimension::ALL {
            let amount = amounts[dimension.index()];
            inner.dimensions[dimension.index()].adjust(-i128::from(amount));
        }
    }

    /// 0.0..=1.0: the fraction of capacity left in the tightest dimension
    /// (1.0 with no limits known, 0.0 while cooling down, disabled or blocked).
    pub fn headroom(&self, now: Instant) -> f64 {
        let mut inner = self.lock();
        inner.refresh(now);
        inner.headroom()
    }

    /// Headroom and the number of reservations in flight, in one lock.
    pub(crate) fn load(&self, now: Instant) -> (f64, usize) {
        let mut inner = self.lock();
        inner.refresh(now);
        (inner.headroom(), inner.in_flight.len())
    }

    pub fn in_flight(&self) -> usize {
        self.lock().in_flight.len()
    }

    pub fn snapshot(&self, now: Instant) -> KeySnapshot {
        let mut inner = self.lock();
        inner.refresh(now);
        let [requests, input_tokens, output_tokens, tokens] =
            inner.dimensions.each_ref().map(|d| d.snapshot(now));
        KeySnapshot {
            requests,
            input_tokens,
            output_tokens,
            tokens,
            in_flight: inner.in_flight.len(),
            cooling_until: inner.cooling_until,
            disabled_until: inner.disabled.map(|(until, _)| until),
            disabled_reason: inner.disabled.map(|(_, reason)| reason),
            used: inner.used,
            headroom: inner.headroom(),
        }
    }

    pub(crate) fn finish(&self, seq: u64, outcome: Outcome) {
        self.lock().finish(seq, outcome);
    }

    /// Test-only access to the in-flight accounting, to compare it with the
    /// reference scan or switch to that scan.
    #[cfg(test)]
    pub(crate) fn with_in_flight<R>(&self, f: impl FnOnce(&mut InFlight) -> R) -> R {
        f(&mut self.lock().in_flight)
    }
}

impl Inner {
    /// Refills every bucket and forgets cooldowns that are over.
    fn refresh(&mut self, now: Instant) {
        for dimension in &mut self.dimensions {
            dimension.refill(now);
        }
        if self.cooling_until.is_some_and(|until| until <= now) {
            self.cooling_until = None;
        }
        if self.disabled.is_some_and(|(until, _)| until <= now) {
            self.disabled = None;
        }
    }

    /// The constraint that keeps `estimate` out longest, if any does.
    fn blocker(&self, estimate: Estimate, now: Instant) -> Option<Unavailable> {
        let disabled = self
            .disabled
            .map(|(until, reason)| (until, UnavailableReason::Disabled(reason)));
        let cooling = self
            .cooling_until
            .map(|until| (until, UnavailableReason::CoolingDown));
        let limits = LimitDimension::ALL.into_iter().filter_map(|dimension| {
            let ready = self.dimensions[dimension.index()].ready_at(estimate.amount(dimension));
            ready.map(|until| (until, UnavailableReason::Limit(dimension)))
        });
        disabled
            .into_iter()
            .chain(cooling)
            .chain(limits)
            .filter(|(until, _)| *until > now)
            .max_by_key(|(until, _)| *until)
            .map(|(until, reason)| Unavailable { until, reason })
    }

    fn headroom(&self) -> f64 {
        if self.disabled.is_some() || self.cooling_until.is_some() {
            return 0.0;
        }
        self.dimensions
            .iter()
            .map(DimensionState::fraction)
            .fold(1.0, f64::min)
    }

    /// Applies the upstream's reports. The upstream has counted reservations
    /// up to `through` (those sent before the response's request); the ones
    /// issued later are deducted from what it says remains.
    fn observe(
        &mut self,
        headers: &RateLimitHeaders<'_>,
        now: Instant,
        wall_now: SystemTime,
        through: u64,
    ) {
        let reports = headers.reports(&mut self.resets, now, wall_now);
        for dimension in LimitDimension::ALL {
            let Some(report) = &reports[dimension.index()] else {
                continue;
            };
            if report.remaining.is_some() {
                self.in_flight.sync(dimension, through);
            }
            let unseen = self.in_flight.unseen(dimension);
            let in_flight = self.in_flight.total(dimension);
            self.dimensions[dimension.index()].apply_report(report, now, unseen, in_flight);
        }
    }

    fn finish(&mut self, seq: u64, outcome: Outcome) {
        let Some((reserved, counted_upstream)) = self.in_flight.remove(seq) else {
            return;
        };
        for dimension in LimitDimension::ALL {
            let counted = counted_upstream[dimension.index()];
            let refund = refund(dimension, &reserved, outcome, counted);
            self.dimensions[dimension.index()].adjust(refund);
            self.charged[dimension.index()] -= refund;
        }
        let used = &mut self.used;
        match outcome {
            Outcome::Used(usage) => {
                used.requests = used.requests.saturating_add(1);
                used.input_tokens = used.input_tokens.saturating_add(usage.itpm_tokens());
                used.output_tokens = used.output_tokens.saturating_add(usage.output_tokens);
                used.cache_read_input_tokens = used
                    .cache_read_input_tokens
                    .saturating_add(usage.cache_read_input_tokens);
            }
            Outcome::Rejected => used.requests = used.requests.saturating_add(1),
            Outcome::Unused => {}
        }
    }
}

/// What goes back into a dimension's bucket when a reservation ends.
///
/// Output tokens were reserved at `max_tokens` and are trued up to the real
/// output, as the upstream does at the end of a request. Input tokens are
/// trued up too, unless the upstream already counted this request in a
/// reported `remaining`: then the bucket already holds the upstream's exact
/// figure. A request that was sent stays charged; one that never left is
/// refunded entirely.
fn refund(dimension: LimitDimension, reserved: &Estimate, outcome: Outcome, counted: bool) -> i128 {
    let (actual_input, actual_output) = match outcome {
        Outcome::Unused => return i128::from(reserved.amount(dimension)),
        Outcome::Rejected => (0, 0),
        Outcome::Used(usage) => (
            usage.amount(LimitDimension::InputTokens),
            usage.amount(LimitDimension::OutputTokens),
        ),
    };
    let input = match counted {
        true => 0,
        false => i128::from(reserved.input_tokens) - i128::from(actual_input),
    };
    let output = i128::from(reserved.max_output_tokens) - i128::from(actual_output);
    match dimension {
        LimitDimension::Requests => 0,
        LimitDimension::InputTokens => input,
        LimitDimension::OutputTokens => output,
        LimitDimension::Tokens => input + output,
    }
}
