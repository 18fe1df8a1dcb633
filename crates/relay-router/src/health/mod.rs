//! Provider health: circuit breakers, in-flight counts and latency, shared across reloads.
//!
//! One [`ProviderHealth`] per provider name lives in a registry that outlives
//! configurations, so a reload keeps circuit state, in-flight counts and
//! latency; [`ProviderHealth::set_settings`] updates the breaker in place.
//! Every method takes `now` (a `tokio::time::Instant`) instead of reading a
//! clock, so tests run on paused time.
//!
//! # Circuit breaker
//!
//! A readiness gate in front of each provider, with three states:
//!
//! - **Closed**: every request is admitted. `failure_threshold` consecutive
//!   failures (a success resets the count) open the circuit.
//! - **Open** until `until`: requests are rejected. The first open period is
//!   `open_duration`; each re-open straight from half-open doubles it, capped
//!   at 8x (`30 s, 60 s, 120 s, 240 s, 240 s, ...` by default). Closing resets
//!   the backoff.
//! - **HalfOpen** (after `until`, entered by the next `admit`): at most
//!   `half_open_probes` probe requests hold a slot at once. The circuit closes
//!   after `half_open_probes` consecutive probe successes (gobreaker's rule); a
//!   probe failure re-opens it with the next backoff. A probe dropped without
//!   an outcome gives its slot back.
//!
//! Outcomes of requests admitted before the last change of state are ignored
//! (gobreaker's generations): the failures of requests already in flight when
//! the circuit opened do not re-open it later, and a late success from before
//! an open period cannot close it. Outcomes observed outside an admission
//! ([`Admission::Passive`], e.g. a stream that broke after its response was
//! recorded as a success) count only while the circuit is closed.
//!
//! Intended classification, applied by the caller: transport errors, timeouts,
//! 429 (provider-wide), 529 and 500/502/503/504 are failures; 2xx and client
//! errors such as 400/413/422 are successes (the provider is up and answering).
//! Outcomes that say nothing about the provider (a cancelled request, a
//! rejected key) are recorded by dropping the [`Admission`].
//!
//! Active health checks: [`ProviderHealth::needs_probe`] is true while the
//! circuit is open. A passing check ([`ProviderHealth::health_check_passed`])
//! ends the open period early and makes the circuit half-open; it never closes
//! it, because a health endpoint answering does not prove the Messages API
//! does. The next real requests are probes and decide as above. A failing
//! check changes nothing. [`ProviderHealth::force_close`] is the operator's
//! override.
//!
//! # Load and latency
//!
//! In-flight requests are counted by [`InFlightGuard`]s. Latency is a peak-EWMA
//! (see `latency.rs`: spikes apply at once, lower samples decay in with a 10 s
//! time constant, estimates older than 60 s are forgotten); the intended
//! sample is the time to the response headers, since a response's total
//! duration depends on how much it generates.

mod breaker;
mod latency;
mod permit;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

pub use breaker::{BreakerSettings, CircuitState};
pub use permit::{Admission, CircuitPermit};

use crate::sync::Nudge;
use breaker::Breaker;
use latency::PeakEwma;
use permit::{BreakerOutcome, SharedBreaker, lock, record};

/// One provider's health, shared by every configuration that routes to it.
#[derive(Debug)]
pub struct ProviderHealth {
    breaker: SharedBreaker,
    /// Wakes the state sync when the circuit changes phase (see `crate::sync`).
    nudge: Option<Arc<Nudge>>,
    in_flight: Arc<AtomicU64>,
    latency: Mutex<PeakEwma>,
}

impl ProviderHealth {
    /// A healthy provider: circuit closed, idle, not yet measured.
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            breaker: Arc::new(Mutex::new(Breaker::new(settings))),
            nudge: None,
            in_flight: Arc::new(AtomicU64::new(0)),
            latency: Mutex::new(PeakEwma::default()),
        }
    }

    pub(crate) fn with_nudge(mut self, nudge: Arc<Nudge>) -> Self {
        self.nudge = Some(nudge);
        self
    }

    /// The circuit's generation (bumped on every change of phase) and state.
    pub(crate) fn share(&self, now: Instant) -> (u64, CircuitState) {
        let breaker = lock(&self.breaker);
        (breaker.generation(), breaker.state(now))
    }

    /// Applies another relay's circuit: open until `until`, or closed.
    pub(crate) fn apply_remote(&self, open_until: Option<Instant>) {
        let mut breaker = lock(&self.breaker);
        match open_until {
            Some(until) => breaker.open_remotely(until),
            None => breaker.force_close(),
        }
    }

    /// Runs `change` on the breaker and wakes the sync if the phase changed.
    fn changing<R>(&self, change: impl FnOnce() -> R) -> R {
        let Some(nudge) = self.nudge.as_ref().filter(|n| n.is_attached()) else {
            return change();
        };
        let before = lock(&self.breaker).generation();
        let result = change();
        if lock(&self.breaker).generation() != before {
            nudge.poke();
        }
        result
    }

    pub fn settings(&self) -> BreakerSettings {
        lock(&self.breaker).settings()
    }

    /// Applies reloaded settings from the next decision on; an open period
    /// already running keeps its end.
    pub fn set_settings(&self, settings: BreakerSettings) {
        lock(&self.breaker).set_settings(settings);
    }

    /// Asks the circuit to let a request through. An open circuit whose
    /// period has ended turns half-open here and admits the request as a probe.
    pub fn admit(&self, now: Instant) -> Admission {
        let decision = lock(&self.breaker).admit(now);
        match decision {
            Ok(ticket) if ticket.probe => {
                Admission::Probe(CircuitPermit::new(Arc::clone(&self.breaker), ticket))
            }
            Ok(ticket) => {
                Admission::Admitted(CircuitPermit::new(Arc::clone(&self.breaker), ticket))
            }
            Err(until) => Admission::Rejected { until },
        }
    }

    /// The provider answered (see the module docs for what counts).
    pub fn record_success(&self, admission: Admission, now: Instant) {
        self.record(admission, BreakerOutcome::Success, now);
    }

    /// The provider failed (see the module docs for what counts).
    pub fn record_failure(&self, admission: Admission, now: Instant) {
        self.record(admission, BreakerOutcome::Failure, now);
    }

    fn record(&self, admission: Admission, outcome: BreakerOutcome, now: Instant) {
        self.changing(|| self.record_unwatched(admission, outcome, now));
    }

    fn record_unwatched(&self, admission: Admission, outcome: BreakerOutcome, now: Instant) {
        match admission {
            Admission::Admitted(permit) | Admission::Probe(permit) => {
                debug_assert!(
                    permit.issued_by(&self.breaker),
                    "admission from another provider"
                );
                permit.settle(outcome, now);
            }
            Admission::Passive => record(&self.breaker, None, outcome, now),
            Admission::Rejected { .. } => {}
        }
    }

    pub fn state(&self, now: Instant) -> CircuitState {
        lock(&self.breaker).state(now)
    }

    /// Whether [`admit`](Self::admit) would admit now, without taking a probe slot.
    pub fn is_available(&self, now: Instant) -> bool {
        lock(&self.breaker).is_available(now)
    }

    /// Whether the active health checker should check this provider: its
    /// circuit is open and its open period has not ended.
    pub fn needs_probe(&self, now: Instant) -> bool {
        lock(&self.breaker).needs_probe(now)
    }

    /// An active health check passed: an open circuit turns half-open now
    /// (real requests then decide), keeping its backoff. No effect otherwise.
    pub fn health_check_passed(&self) {
        self.changing(|| lock(&self.breaker).health_check_passed());
    }

    /// Closes the circuit and resets its failure count and backoff.
    pub fn force_close(&self) {
        self.changing(|| lock(&self.breaker).force_close());
    }

    /// Counts a request as in flight until the guard is dropped.
    pub fn start_request(&self) -> InFlightGuard {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlightGuard {
            in_flight: Arc::clone(&self.in_flight),
        }
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Feeds one latency sample (intended: time to response headers).
    pub fn observe_latency(&self, latency: Duration, now: Instant) {
        self.latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(latency, now);
    }

    /// The peak-EWMA estimate; `None` until a sample exists, and again once
    /// the last sample is older than 60 s.
    pub fn latency_estimate(&self, now: Instant) -> Option<Duration> {
        self.latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .estimate(now)
    }
}

impl Default for ProviderHealth {
    fn default() -> Self {
        Self::new(BreakerSettings::default())
    }
}

/// One in-flight request; dropping it ends the count.
#[derive(Debug)]
#[must_use = "the request counts as in flight only while the guard lives"]
pub struct InFlightGuard {
    in_flight: Arc<AtomicU64>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
