//! A plan: the attempts for one request, produced one at a time.
//!
//! The plan walks the strategy's provider order. Within a provider it draws
//! keys from the pool; a key-specific failure (rate limit, invalid key) moves
//! to the provider's next key, a provider-wide one to the next provider. A
//! conversation's previous provider and key are tried first while they can
//! serve. The walk stops at `routing.max_attempts` or when the failover budget
//! (`routing.failover_timeout`, counted from the first attempt) is spent.

use std::sync::Arc;
use std::time::Duration;

use relay_core::{Secret, SignatureId};
use tokio::time::Instant;

use crate::health::{Admission, InFlightGuard};
use crate::outcome::{Classification, FailoverReason, Outcome, RetryScope, classify};
use crate::pool::{DisableReason, Estimate, Lease, Usage};
use crate::router::{RouteError, RouteRequest, Router};
use crate::state::{AffinityTarget, RouterState};

/// One upstream attempt: a provider and, if it has a pool, one of its keys.
#[derive(Debug)]
pub struct Attempt {
    /// Position of the provider in the configuration's `providers` list.
    pub provider_index: usize,
    pub provider: Arc<str>,
    /// The key to authenticate with; `None` when the provider has no keys.
    pub key: Option<Secret>,
    /// The key's short id, safe to log and show.
    pub key_id: Option<String>,
    /// Whether this attempt follows the conversation's affinity.
    pub affinity_hit: bool,
    target: usize,
    lease: Option<Lease>,
    admission: Admission,
    in_flight: InFlightGuard,
    started: Instant,
}

/// What to do with an attempt's response.
#[derive(Debug)]
pub enum Verdict {
    /// Relay it to the client; finish the delivery when the body ends.
    Deliver(Delivery),
    /// Drop it and try the plan's next attempt.
    Retry(FailoverReason),
}

/// A response on its way to the client. Finishing it settles the key's
/// token reservation with the real usage and records the outcome.
#[derive(Debug)]
pub struct Delivery {
    provider: Arc<str>,
    lease: Option<Lease>,
    _in_flight: InFlightGuard,
    state: Arc<RouterState>,
    health: Arc<crate::health::ProviderHealth>,
}

/// How a delivered response ended, for [`Delivery::finish`].
/// `DeliveryEnd::default()`: it ended with nothing to report (an error
/// response, `count_tokens`).
#[derive(Clone, Copy, Debug, Default)]
pub struct DeliveryEnd<'a> {
    /// The token usage the upstream reported, if any.
    pub usage: Option<Usage>,
    /// The thinking signatures the response produced.
    pub signatures: &'a [SignatureId],
    /// The stream failed after it started (counts against the provider's health).
    pub broken: bool,
}

impl Delivery {
    /// The response ended: settles the key's reservation with the real
    /// usage, remembers where the signatures came from, and records a broken
    /// stream against the provider.
    pub fn finish(mut self, end: DeliveryEnd<'_>) {
        let DeliveryEnd {
            usage,
            signatures,
            broken,
        } = end;
        if let Some(lease) = self.lease.take() {
            match usage {
                Some(usage) => lease.reservation.settle(usage),
                // It reached the upstream, which reported nothing (an error, count_tokens).
                None => lease.reservation.release_rejected(),
            }
        }
        if !signatures.is_empty() {
            self.state.remember_signatures(&self.provider, signatures);
        }
        if broken {
            self.health
                .record_failure(Admission::Passive, Instant::now());
        }
    }
}

/// The attempts for one request, best first.
#[derive(Debug)]
pub struct Plan<'r> {
    router: &'r Router,
    order: Vec<usize>,
    position: usize,
    /// (target, key id) pairs already tried; a keyless target is tried as "".
    tried: Vec<(usize, String)>,
    /// Targets that failed provider-wide for this request.
    excluded: Vec<usize>,
    sticky: Option<AffinityTarget>,
    session: Option<String>,
    estimate: Estimate,
    deadline: Option<Instant>,
    attempts: usize,
    earliest_key_free: Option<Instant>,
    earliest_circuit_close: Option<Instant>,
}

impl<'r> Plan<'r> {
    pub(crate) fn new(
        router: &'r Router,
        order: Vec<usize>,
        request: &RouteRequest<'_>,
        sticky: Option<AffinityTarget>,
        _now: Instant,
    ) -> Self {
        Self {
            router,
            order,
            position: 0,
            tried: Vec::new(),
            excluded: Vec::new(),
            sticky,
            session: request.session.map(str::to_owned),
            estimate: request.estimate,
            deadline: None,
            attempts: 0,
            earliest_key_free: None,
            earliest_circuit_close: None,
        }
    }

    /// How many attempts were made so far.
    pub fn attempts(&self) -> usize {
        self.attempts
    }

    /// The next attempt, or why there is none.
    pub fn next_attempt(&mut self, now: Instant) -> Result<Attempt, RouteError> {
        let max = self.router.max_attempts;
        if max > 0 && self.attempts >= max {
            return Err(RouteError::BudgetExhausted);
        }
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            return Err(RouteError::BudgetExhausted);
        }
        if let Some(attempt) = self
            .sticky
            .take()
            .and_then(|target| self.try_sticky(&target, now))
        {
            return Ok(self.started(attempt, now));
        }
        while let Some(&target_index) = self.order.get(self.position) {
            if let Some(attempt) = self.try_target(target_index, now) {
                return Ok(self.started(attempt, now));
            }
            self.position += 1;
        }
        Err(self.exhausted(now))
    }

    fn started(&mut self, attempt: Attempt, now: Instant) -> Attempt {
        self.attempts += 1;
        self.deadline
            .get_or_insert(now + self.router.failover_timeout);
        attempt
    }

    fn try_sticky(&mut self, sticky: &AffinityTarget, now: Instant) -> Option<Attempt> {
        let target_index = self
            .router
            .targets
            .iter()
            .position(|t| t.name == sticky.provider)?;
        if self.router.state.is_disabled(&sticky.provider) {
            return None;
        }
        let target = &self.router.targets[target_index];
        let admission = target.health.admit(now);
        if matches!(admission, Admission::Rejected { .. }) {
            return None;
        }
        let lease = match &sticky.key_id {
            Some(key_id) => Some(
                target
                    .pool
                    .acquire_specific(key_id, self.estimate, now)
                    .ok()?,
            ),
            None if target.pool.is_empty() => None,
            None => return None,
        };
        let mut attempt = self.attempt(target_index, lease, admission);
        attempt.affinity_hit = true;
        Some(attempt)
    }

    /// An attempt on `target_index` with a key not tried yet, if it can serve now.
    fn try_target(&mut self, target_index: usize, now: Instant) -> Option<Attempt> {
        let target = &self.router.targets[target_index];
        if self.excluded.contains(&target_index) {
            return None;
        }
        if !target.health.is_available(now) {
            if let crate::health::CircuitState::Open { until } = target.health.state(now) {
                self.earliest_circuit_close =
                    Some(self.earliest_circuit_close.map_or(until, |t| t.min(until)));
            }
            return None;
        }
        let lease = if target.pool.is_empty() {
            // A keyless provider is tried once.
            if self.tried.iter().any(|(t, _)| *t == target_index) {
                return None;
            }
            None
        } else {
            let exclude: Vec<&str> = self
                .tried
                .iter()
                .filter(|(t, _)| *t == target_index)
                .map(|(_, k)| k.as_str())
                .collect();
            match target.pool.acquire(self.estimate, now, &exclude) {
                Ok(lease) => Some(lease),
                Err(exhausted) => {
                    if let Some(at) = exhausted.retry_at {
                        self.earliest_key_free =
                            Some(self.earliest_key_free.map_or(at, |t| t.min(at)));
                    }
                    return None;
                }
            }
        };
        let admission = target.health.admit(now);
        if matches!(admission, Admission::Rejected { .. }) {
            return None;
        }
        Some(self.attempt(target_index, lease, admission))
    }

    fn attempt(
        &mut self,
        target_index: usize,
        lease: Option<Lease>,
        admission: Admission,
    ) -> Attempt {
        let target = &self.router.targets[target_index];
        let key_id = lease.as_ref().map(|l| l.key.id.clone());
        self.tried
            .push((target_index, key_id.clone().unwrap_or_default()));
        Attempt {
            provider_index: target.index,
            provider: Arc::clone(&target.name),
            key: lease.as_ref().map(|l| l.key.secret.clone()),
            key_id,
            affinity_hit: false,
            target: target_index,
            lease,
            admission,
            in_flight: target.health.start_request(),
            started: Instant::now(),
        }
    }

    fn exhausted(&self, now: Instant) -> RouteError {
        let wait = |at: Instant| at.saturating_duration_since(now);
        match (self.earliest_key_free, self.earliest_circuit_close) {
            (Some(key), _) => RouteError::RateLimited {
                retry_after: wait(key),
            },
            (None, Some(circuit)) => RouteError::AllUnhealthy {
                retry_after: wait(circuit),
            },
            (None, None) if self.attempts > 0 => RouteError::BudgetExhausted,
            (None, None) => RouteError::AllUnhealthy {
                retry_after: Duration::ZERO,
            },
        }
    }

    /// Gives an attempt back untried: the provider cannot serve this request
    /// at all (an endpoint it does not support). Nothing is recorded against
    /// the provider or the key, and the attempt does not count.
    pub fn skip(&mut self, attempt: Attempt) {
        self.excluded.push(attempt.target);
        self.attempts = self.attempts.saturating_sub(1);
        if let Some(lease) = attempt.lease {
            lease.reservation.release_unused();
        }
    }

    /// Reports how an attempt ended and learns from it (rate-limit headers,
    /// circuit, latency, cooldowns). Returns whether to deliver the response
    /// or try the next attempt.
    pub fn report(&mut self, attempt: Attempt, outcome: Outcome<'_>, now: Instant) -> Verdict {
        let target = &self.router.targets[attempt.target];
        if let Outcome::Response { headers, .. } = outcome {
            if let Some(lease) = &attempt.lease {
                lease.reservation.observe_headers(headers, now);
            }
            target
                .health
                .observe_latency(now.saturating_duration_since(attempt.started), now);
        }
        match classify(outcome, !target.pool.is_empty()) {
            Classification::Deliver => {
                target.health.record_success(attempt.admission, now);
                if let (Some(session), true) = (&self.session, self.router.affinity) {
                    let affinity = AffinityTarget {
                        provider: Arc::clone(&attempt.provider),
                        key_id: attempt.key_id.clone(),
                    };
                    self.router.state.remember_affinity(session, affinity);
                }
                Verdict::Deliver(Delivery {
                    provider: attempt.provider,
                    lease: attempt.lease,
                    _in_flight: attempt.in_flight,
                    state: Arc::clone(&self.router.state),
                    health: Arc::clone(&target.health),
                })
            }
            Classification::Retry {
                scope,
                reason,
                cool_down,
            } => {
                if let Some(lease) = attempt.lease {
                    settle_failed(lease, reason, cool_down, outcome, now);
                }
                match scope {
                    RetryScope::NextKey => target.health.record_success(attempt.admission, now),
                    RetryScope::NextProvider => {
                        target.health.record_failure(attempt.admission, now);
                        self.excluded.push(attempt.target);
                    }
                }
                Verdict::Retry(reason)
            }
        }
    }
}

/// What a failed attempt means for its key.
fn settle_failed(
    lease: Lease,
    reason: FailoverReason,
    cool_down: Option<Duration>,
    outcome: Outcome<'_>,
    now: Instant,
) {
    let rest = cool_down.unwrap_or_default();
    match (reason, outcome) {
        (FailoverReason::SpendLimit, _) => {
            lease
                .key
                .state
                .disable_until(now + rest, DisableReason::SpendLimit);
            lease.reservation.release_rejected();
        }
        (FailoverReason::InvalidKey, _) => {
            lease
                .key
                .state
                .disable_until(now + rest, DisableReason::InvalidKey);
            lease.reservation.release_rejected();
        }
        // The pool reads `retry-after(-ms)` and the reset headers itself.
        (FailoverReason::RateLimited, Outcome::Response { headers, .. }) => {
            lease.reservation.rate_limited(headers, now);
        }
        // Never reached the upstream: nothing was spent.
        (FailoverReason::Connect, _) => lease.reservation.release_unused(),
        _ => lease.reservation.release_rejected(),
    }
}
