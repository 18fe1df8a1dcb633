//! Admission to a provider's circuit, and the permit an admitted request
//! carries until its outcome is recorded.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::time::Instant;

use super::breaker::{Breaker, Ticket};

/// A breaker shared by its `ProviderHealth` and the permits it issued, so a
/// permit can give its probe slot back from `Drop` wherever it is dropped.
pub(crate) type SharedBreaker = Arc<Mutex<Breaker>>;

/// Locks a breaker. Its transitions cannot panic half-way, so a poisoned lock
/// still guards a consistent state and is used as is.
pub(crate) fn lock(breaker: &Mutex<Breaker>) -> MutexGuard<'_, Breaker> {
    breaker.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The breaker's answer to "may a request go to this provider now?", handed
/// back with the request's outcome to `ProviderHealth::record_success` /
/// `record_failure`. Dropping it records nothing; a probe's slot is given
/// back, so a cancelled request cannot leave the circuit half-open with no
/// probe left to decide it.
#[derive(Debug)]
#[must_use = "a rejected admission means the provider must be skipped"]
pub enum Admission {
    /// The circuit is closed: an ordinary request.
    Admitted(CircuitPermit),
    /// The circuit is half-open: a trial request whose outcome decides it.
    Probe(CircuitPermit),
    /// Not now. `until`: when an open circuit starts admitting probes; `None`
    /// when every probe slot of a half-open circuit is taken. Recording an
    /// outcome with it does nothing: nothing was admitted.
    Rejected { until: Option<Instant> },
    /// Never returned by `admit`: for an outcome observed outside an
    /// admission, such as a stream that broke after its response was recorded
    /// as a success. It counts only while the circuit is closed (half-open
    /// circuits are decided by their probes).
    Passive,
}

impl Admission {
    pub fn is_rejected(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }

    /// Whether this request is a half-open trial.
    pub fn is_probe(&self) -> bool {
        matches!(self, Self::Probe(_))
    }
}

/// Proof of admission inside [`Admission::Admitted`] and [`Admission::Probe`].
#[derive(Debug)]
pub struct CircuitPermit {
    breaker: SharedBreaker,
    ticket: Ticket,
    settled: bool,
}

/// What a finished request teaches the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BreakerOutcome {
    Success,
    Failure,
}

impl CircuitPermit {
    pub(crate) fn new(breaker: SharedBreaker, ticket: Ticket) -> Self {
        Self {
            breaker,
            ticket,
            settled: false,
        }
    }

    pub(crate) fn issued_by(&self, breaker: &SharedBreaker) -> bool {
        Arc::ptr_eq(&self.breaker, breaker)
    }

    /// Records the outcome on the breaker that issued the permit.
    pub(crate) fn settle(mut self, outcome: BreakerOutcome, now: Instant) {
        record(&self.breaker, Some(self.ticket), outcome, now);
        self.settled = true;
    }
}

/// Records an outcome; `ticket` is `None` for a passive one.
pub(crate) fn record(
    breaker: &Mutex<Breaker>,
    ticket: Option<Ticket>,
    outcome: BreakerOutcome,
    now: Instant,
) {
    let mut breaker = lock(breaker);
    match outcome {
        BreakerOutcome::Success => breaker.record_success(ticket),
        BreakerOutcome::Failure => breaker.record_failure(ticket, now),
    }
}

impl Drop for CircuitPermit {
    fn drop(&mut self) {
        if !self.settled && self.ticket.probe {
            lock(&self.breaker).release(self.ticket);
        }
    }
}
