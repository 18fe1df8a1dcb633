//! State-machine property test of the circuit breaker on paused time: random
//! sequences of admissions, outcomes (passive ones too), dropped admissions,
//! health checks and clock advances, checked step by step against a reference
//! model written from the module docs (it counts probes in flight and
//! successes separately, where the implementation counts slots), plus the
//! safety properties stated directly.

use std::time::Duration;

use proptest::prelude::*;
use tokio::time::{Instant, advance};

use super::breaker::MAX_BACKOFF_FACTOR;
use super::*;

#[derive(Clone, Debug)]
enum Op {
    Admit,
    Succeed(usize),
    Fail(usize),
    Drop(usize),
    Advance(u64),
    HealthCheckPassed,
    PassiveSuccess,
    PassiveFailure,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Admit),
        2 => any::<usize>().prop_map(Op::Succeed),
        3 => any::<usize>().prop_map(Op::Fail),
        1 => any::<usize>().prop_map(Op::Drop),
        2 => (0u64..=20_000).prop_map(Op::Advance),
        1 => Just(Op::HealthCheckPassed),
        1 => Just(Op::PassiveSuccess),
        1 => Just(Op::PassiveFailure),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        backoff: u32,
    },
    HalfOpen {
        probing: u32,
        successes: u32,
        backoff: u32,
    },
}

struct Harness {
    health: ProviderHealth,
    settings: BreakerSettings,
    model: Model,
    /// Bumped on every model transition; permits remember theirs.
    episode: u64,
    live: Vec<(Admission, u64)>,
}

impl Harness {
    fn new(settings: BreakerSettings) -> Self {
        Self {
            health: ProviderHealth::new(settings),
            settings,
            model: Model::Closed { failures: 0 },
            episode: 0,
            live: Vec::new(),
        }
    }

    fn enter(&mut self, model: Model) {
        self.model = model;
        self.episode += 1;
    }

    fn open(&mut self, now: Instant, backoff: u32) {
        self.enter(Model::Open {
            until: now + self.settings.open_duration * backoff,
            backoff,
        });
    }

    fn live_probes(&self) -> usize {
        self.live
            .iter()
            .filter(|(admission, episode)| admission.is_probe() && *episode == self.episode)
            .count()
    }

    fn take(&mut self, index: usize) -> Option<(Admission, bool)> {
        if self.live.is_empty() {
            return None;
        }
        let (permit, episode) = self.live.swap_remove(index % self.live.len());
        Some((permit, episode == self.episode))
    }

    async fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = Instant::now();
        let probes = self.settings.half_open_probes;
        match *op {
            Op::Admit => {
                let before = self.health.state(now);
                let admission = self.health.admit(now);
                if let CircuitState::Open { until } = before {
                    prop_assert!(
                        matches!(admission, Admission::Rejected { until: Some(u) } if u == until),
                        "admitted while open: {admission:?}"
                    );
                }
                let expected_probe = match self.model {
                    Model::Closed { .. } => Some(false),
                    Model::Open { until, .. } if now < until => None,
                    Model::Open { backoff, .. } => {
                        self.enter(Model::HalfOpen {
                            probing: 1,
                            successes: 0,
                            backoff,
                        });
                        Some(true)
                    }
                    Model::HalfOpen {
                        probing,
                        successes,
                        backoff,
                    } => {
                        if probing + successes < probes {
                            self.model = Model::HalfOpen {
                                probing: probing + 1,
                                successes,
                                backoff,
                            };
                            Some(true)
                        } else {
                            None
                        }
                    }
                };
                match (&admission, expected_probe) {
                    (Admission::Admitted(_), Some(false)) | (Admission::Probe(_), Some(true)) => {
                        self.live.push((admission, self.episode));
                    }
                    (Admission::Rejected { .. }, None) => {}
                    (admission, expected) => {
                        prop_assert!(false, "got {admission:?}, expected probe = {expected:?}");
                    }
                }
                prop_assert!(
                    self.live_probes() <= probes as usize,
                    "too many concurrent probes"
                );
            }
            Op::Succeed(index) => {
                let Some((permit, current)) = self.take(index) else {
                    return Ok(());
                };
                self.health.record_success(permit, now);
                match self.model {
                    _ if !current => {}
                    Model::Closed { .. } => self.model = Model::Closed { failures: 0 },
                    Model::HalfOpen {
                        probing,
                        successes,
                        backoff,
                    } => {
                        if successes + 1 >= probes {
                            self.enter(Model::Closed { failures: 0 });
                        } else {
                            self.model = Model::HalfOpen {
                                probing: probing - 1,
                                successes: successes + 1,
                                backoff,
                            };
                        }
                    }
                    Model::Open { .. } => prop_assert!(false, "a current permit while open"),
                }
            }
            Op::Fail(index) => {
                let Some((permit, current)) = self.take(index) else {
                    return Ok(());
                };
                self.health.record_failure(permit, now);
                match self.model {
                    _ if !current => {}
                    Model::Closed { failures }
                        if failures + 1 < self.settings.failure_threshold =>
                    {
                        self.model = Model::Closed {
                            failures: failures + 1,
                        };
                        prop_assert_eq!(self.health.state(now), CircuitState::Closed);
                    }
                    Model::Closed { .. } => self.open(now, 1),
                    Model::HalfOpen { backoff, .. } => {
                        self.open(now, (backoff * 2).min(MAX_BACKOFF_FACTOR));
                    }
                    Model::Open { .. } => prop_assert!(false, "a current permit while open"),
                }
            }
            Op::Drop(index) => {
                let Some((permit, current)) = self.take(index) else {
                    return Ok(());
                };
                let probe = permit.is_probe();
                drop(permit);
                if let Model::HalfOpen {
                    probing,
                    successes,
                    backoff,
                } = self.model
                    && current
                    && probe
                {
                    self.model = Model::HalfOpen {
                        probing: probing - 1,
                        successes,
                        backoff,
                    };
                }
            }
            Op::Advance(millis) => advance(Duration::from_millis(millis)).await,
            Op::PassiveSuccess => {
                self.health.record_success(Admission::Passive, now);
                if let Model::Closed { .. } = self.model {
                    self.model = Model::Closed { failures: 0 };
                }
            }
            Op::PassiveFailure => {
                self.health.record_failure(Admission::Passive, now);
                match self.model {
                    Model::Closed { failures }
                        if failures + 1 < self.settings.failure_threshold =>
                    {
                        self.model = Model::Closed {
                            failures: failures + 1,
                        };
                    }
                    Model::Closed { .. } => self.open(now, 1),
                    Model::Open { .. } | Model::HalfOpen { .. } => {}
                }
            }
            Op::HealthCheckPassed => {
                self.health.health_check_passed();
                if let Model::Open { backoff, .. } = self.model {
                    self.enter(Model::HalfOpen {
                        probing: 0,
                        successes: 0,
                        backoff,
                    });
                }
            }
        }
        self.check(Instant::now())
    }

    fn check(&self, now: Instant) -> Result<(), TestCaseError> {
        let probes = self.settings.half_open_probes;
        let (state, available) = match self.model {
            Model::Closed { .. } => (CircuitState::Closed, true),
            Model::Open { until, .. } if now < until => (CircuitState::Open { until }, false),
            Model::Open { .. } => (CircuitState::HalfOpen, true),
            Model::HalfOpen {
                probing, successes, ..
            } => (CircuitState::HalfOpen, probing + successes < probes),
        };
        prop_assert_eq!(self.health.state(now), state);
        prop_assert_eq!(self.health.is_available(now), available);
        prop_assert_eq!(
            self.health.needs_probe(now),
            matches!(state, CircuitState::Open { .. })
        );
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn breaker_follows_its_model(
        failure_threshold in 1u32..=4,
        half_open_probes in 1u32..=3,
        open_ms in 1u64..=10_000,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()?;
        runtime.block_on(async {
            let mut harness = Harness::new(BreakerSettings {
                failure_threshold,
                open_duration: Duration::from_millis(open_ms),
                half_open_probes,
            });
            for op in &ops {
                harness.step(op).await?;
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
