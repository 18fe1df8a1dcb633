//! The circuit breaker's state machine: explicit states and pure transitions,
//! with no lock and no clock of its own (callers pass `now`), so every rule can
//! be read here and tested with exact instants.

use std::time::Duration;

use relay_config::CircuitBreakerConfig;
use tokio::time::Instant;

/// Consecutive re-opens stretch the open period 1x, 2x, 4x, then stay at 8x the
/// configured duration: a provider that keeps failing its probes is probed less
/// often, but still within minutes with the default 30 s.
pub(crate) const MAX_BACKOFF_FACTOR: u32 = 8;

/// The longest open period whatever the configuration says, so `now + period`
/// cannot overflow.
const MAX_OPEN_PERIOD: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A breaker's tunables, updatable in place on configuration reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failures that open a closed circuit (0 acts as 1).
    pub failure_threshold: u32,
    /// How long a circuit stays open the first time, before backoff.
    pub open_duration: Duration,
    /// Probes admitted at once while half-open, and consecutive probe
    /// successes needed to close (0 acts as 1).
    pub half_open_probes: u32,
}

impl BreakerSettings {
    /// The settings from `health.circuit_breaker`.
    pub fn from_config(config: &CircuitBreakerConfig) -> Self {
        Self {
            failure_threshold: config.failure_threshold,
            open_duration: Duration::from_millis(config.open_duration_ms),
            half_open_probes: config.half_open_probes,
        }
    }

    fn threshold(&self) -> u32 {
        self.failure_threshold.max(1)
    }

    fn probes(&self) -> u32 {
        self.half_open_probes.max(1)
    }

    fn open_period(&self, backoff: u32) -> Duration {
        self.open_duration
            .saturating_mul(backoff)
            .min(MAX_OPEN_PERIOD)
    }
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self::from_config(&CircuitBreakerConfig::default())
    }
}

/// A circuit's state as reported to operators (`/v1/providers`, metrics,
/// debug headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CircuitState {
    /// Requests flow normally.
    Closed,
    /// Requests are refused until `until`, when probes start.
    Open { until: Instant },
    /// A few probe requests decide whether the circuit closes or re-opens.
    HalfOpen,
}

impl CircuitState {
    /// The state's name in metrics and headers.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

/// The internal state; `backoff` is the multiplier of the current (Open) or
/// last (HalfOpen) open period, carried until the circuit closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        backoff: u32,
    },
    /// `admitted` counts probe slots taken: probes in flight plus probes that
    /// succeeded. A probe dropped without an outcome gives its slot back.
    HalfOpen {
        admitted: u32,
        successes: u32,
        backoff: u32,
    },
}

/// What an admitted request carries back with its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// The breaker's generation at admission: outcomes from an earlier
    /// generation are ignored (as gobreaker does), so requests admitted before
    /// the circuit opened cannot re-open or close a later episode.
    pub(crate) generation: u64,
    pub(crate) probe: bool,
}

/// One provider's breaker.
#[derive(Debug)]
pub(crate) struct Breaker {
    settings: BreakerSettings,
    phase: Phase,
    /// Bumped on every change of phase.
    generation: u64,
}

impl Breaker {
    pub(crate) fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            phase: Phase::Closed { failures: 0 },
            generation: 0,
        }
    }

    pub(crate) fn settings(&self) -> BreakerSettings {
        self.settings
    }

    /// New settings apply from the next decision; an open period already
    /// running keeps its end.
    pub(crate) fn set_settings(&mut self, settings: BreakerSettings) {
        self.settings = settings;
    }

    /// Admits a request, or says until when it would be refused (`None`: all
    /// probe slots of a half-open circuit are taken).
    pub(crate) fn admit(&mut self, now: Instant) -> Result<Ticket, Option<Instant>> {
        match self.phase {
            Phase::Closed { .. } => Ok(self.ticket(false)),
            Phase::Open { until, .. } if now < until => Err(Some(until)),
            Phase::Open { backoff, .. } => {
                self.enter(Phase::HalfOpen {
                    admitted: 1,
                    successes: 0,
                    backoff,
                });
                Ok(self.ticket(true))
            }
            Phase::HalfOpen {
                admitted,
                successes,
                backoff,
            } if admitted < self.settings.probes() => {
                self.phase = Phase::HalfOpen {
                    admitted: admitted + 1,
                    successes,
                    backoff,
                };
                Ok(self.ticket(true))
            }
            Phase::HalfOpen { .. } => Err(None),
        }
    }

    /// A success. `None`: observed outside any admission (passive), which
    /// counts only while closed: a half-open circuit is decided by its probes.
    pub(crate) fn record_success(&mut self, ticket: Option<Ticket>) {
        if !self.is_current(ticket) {
            return;
        }
        match (self.phase, ticket) {
            (Phase::Closed { .. }, _) => self.phase = Phase::Closed { failures: 0 },
            (
                Phase::HalfOpen {
                    admitted,
                    successes,
                    backoff,
                },
                Some(_),
            ) => {
                let successes = successes + 1;
                if successes >= self.settings.probes() {
                    self.enter(Phase::Closed { failures: 0 });
                } else {
                    self.phase = Phase::HalfOpen {
                        admitted,
                        successes,
                        backoff,
                    };
                }
            }
            // Passive while half-open; nothing is admitted while open.
            (Phase::HalfOpen { .. } | Phase::Open { .. }, _) => {}
        }
    }

    /// A failure; `None` as for [`record_success`](Self::record_success).
    pub(crate) fn record_failure(&mut self, ticket: Option<Ticket>, now: Instant) {
        if !self.is_current(ticket) {
            return;
        }
        match (self.phase, ticket) {
            (Phase::Closed { failures }, _) => {
                let failures = failures + 1;
                if failures >= self.settings.threshold() {
                    self.open(now, 1);
                } else {
                    self.phase = Phase::Closed { failures };
                }
            }
            (Phase::HalfOpen { backoff, .. }, Some(_)) => {
                let backoff = backoff.saturating_mul(2).min(MAX_BACKOFF_FACTOR);
                self.open(now, backoff);
            }
            (Phase::HalfOpen { .. } | Phase::Open { .. }, _) => {}
        }
    }

    /// Whether an outcome belongs to the current generation; passive ones
    /// always do.
    fn is_current(&self, ticket: Option<Ticket>) -> bool {
        ticket.is_none_or(|ticket| ticket.generation == self.generation)
    }

    /// A probe ended without an outcome (cancelled, or a neutral result):
    /// its slot goes back so the circuit cannot stay half-open with no probe
    /// left to decide it.
    pub(crate) fn release(&mut self, ticket: Ticket) {
        if !ticket.probe || ticket.generation != self.generation {
            return;
        }
        if let Phase::HalfOpen { admitted, .. } = &mut self.phase {
            *admitted = admitted.saturating_sub(1);
        }
    }

    pub(crate) fn state(&self, now: Instant) -> CircuitState {
        match self.phase {
            Phase::Closed { .. } => CircuitState::Closed,
            Phase::Open { until, .. } if now < until => CircuitState::Open { until },
            Phase::Open { .. } | Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    pub(crate) fn is_available(&self, now: Instant) -> bool {
        match self.phase {
            Phase::Closed { .. } => true,
            Phase::Open { until, .. } => now >= until,
            Phase::HalfOpen { admitted, .. } => admitted < self.settings.probes(),
        }
    }

    pub(crate) fn needs_probe(&self, now: Instant) -> bool {
        matches!(self.phase, Phase::Open { until, .. } if now < until)
    }

    /// An active health check passed: an open circuit ends its open period
    /// early and turns half-open, keeping its backoff.
    pub(crate) fn health_check_passed(&mut self) {
        if let Phase::Open { backoff, .. } = self.phase {
            self.enter(Phase::HalfOpen {
                admitted: 0,
                successes: 0,
                backoff,
            });
        }
    }

    /// Bumped on every change of phase: the state sync's change detector.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Another relay opened this circuit until `until`: open it here too,
    /// unless it is already open for longer. The backoff is kept, so a
    /// failing probe here still backs off from where this breaker was.
    pub(crate) fn open_remotely(&mut self, until: Instant) {
        let backoff = match self.phase {
            Phase::Open { until: current, .. } if current >= until => return,
            Phase::Open { backoff, .. } | Phase::HalfOpen { backoff, .. } => backoff,
            Phase::Closed { .. } => 1,
        };
        self.enter(Phase::Open { until, backoff });
    }

    pub(crate) fn force_close(&mut self) {
        match &mut self.phase {
            Phase::Closed { failures } => *failures = 0,
            _ => self.enter(Phase::Closed { failures: 0 }),
        }
    }

    fn open(&mut self, now: Instant, backoff: u32) {
        let period = self.settings.open_period(backoff);
        let until = now.checked_add(period).unwrap_or(now);
        self.enter(Phase::Open { until, backoff });
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.generation = self.generation.wrapping_add(1);
    }

    fn ticket(&self, probe: bool) -> Ticket {
        Ticket {
            generation: self.generation,
            probe,
        }
    }
}
