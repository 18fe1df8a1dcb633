//! The [`RouterState`] side of the seam: attaching a sync, reading what
//! this instance knows, applying what others know.

use std::sync::Arc;
use std::time::Duration;

use relay_core::SignatureId;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::merge::{BlockReason, KeyBlock, Remote};
use crate::health::CircuitState;
use crate::state::{AffinityTarget, RouterState};

/// A local change that has no place in [`LocalExport`]: it is announced as
/// it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalEvent {
    Affinity {
        session: String,
        target: AffinityTarget,
    },
    Signatures {
        provider: Arc<str>,
        ids: Vec<SignatureId>,
    },
    Switch {
        provider: String,
        disabled: bool,
    },
}

/// The receiving end of [`LocalEvent`]s. Events that do not fit (the sync
/// fell this far behind) are dropped and counted, never waited for.
#[derive(Debug)]
pub struct SyncOutbox {
    pub events: mpsc::Receiver<LocalEvent>,
}

/// One key as this instance knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyExport {
    pub provider: String,
    pub key: String,
    /// Net amounts this instance charged since it started, per
    /// `LimitDimension::index`; the sync publishes their growth.
    pub charged: [i64; 4],
    pub cooling_until_ms: Option<u64>,
    pub disabled: Option<KeyBlock>,
}

/// One provider's circuit as this instance knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitExport {
    pub provider: String,
    /// Changes whenever the circuit changes phase.
    pub generation: u64,
    /// `Some(Some(until))` open, `Some(None)` closed, `None` half-open
    /// (decided locally by probes; not announced).
    pub state: Option<Option<u64>>,
}

/// What this instance knows, read in one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalExport {
    pub keys: Vec<KeyExport>,
    pub circuits: Vec<CircuitExport>,
}

/// Converts between the monotonic clock decisions use and the wall clock
/// other instances understand, at one moment.
#[derive(Clone, Copy, Debug)]
struct Clock {
    now: Instant,
    wall_ms: u64,
}

impl Clock {
    fn to_wall(self, at: Instant) -> u64 {
        let ahead = at.saturating_duration_since(self.now);
        let ahead = u64::try_from(ahead.as_millis()).unwrap_or(u64::MAX);
        self.wall_ms.saturating_add(ahead)
    }

    /// `None` when the moment has passed.
    fn to_instant(self, wall_ms: u64) -> Option<Instant> {
        let ahead = wall_ms.checked_sub(self.wall_ms).filter(|ms| *ms > 0)?;
        self.now.checked_add(Duration::from_millis(ahead))
    }
}

impl RouterState {
    /// Attaches a state sync: from now on changes wake [`Self::changed`],
    /// and [`LocalEvent`]s queue (up to `capacity`) for the returned outbox.
    /// Attaching again replaces the previous outbox.
    pub fn attach_sync(&self, capacity: usize) -> SyncOutbox {
        let (sender, events) = mpsc::channel(capacity.max(1));
        self.outbox.store(Some(Arc::new(sender)));
        self.nudge.set_attached(true);
        SyncOutbox { events }
    }

    /// Detaches the sync (e.g. a reload to `backend: memory`).
    pub fn detach_sync(&self) {
        self.nudge.set_attached(false);
        self.outbox.store(None);
    }

    /// Resolves when something worth announcing at once changed since the
    /// last call (never on its own while no sync is attached).
    pub async fn changed(&self) {
        self.nudge.wait().await;
    }

    /// Events dropped because the outbox was full.
    pub fn dropped_sync_events(&self) -> u64 {
        self.dropped_events
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn emit(&self, event: impl FnOnce() -> LocalEvent) {
        if !self.nudge.is_attached() {
            return;
        }
        let Some(outbox) = self.outbox.load_full() else {
            return;
        };
        if outbox.try_send(event()).is_err() {
            self.dropped_events
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.nudge.poke();
    }

    /// What this instance knows about its keys and circuits, with instants
    /// converted to wall-clock milliseconds (`wall_ms` is the wall clock at
    /// `now`).
    pub fn export(&self, now: Instant, wall_ms: u64) -> LocalExport {
        let clock = Clock { now, wall_ms };
        let keys = self
            .keys
            .iter()
            .map(|entry| {
                let (provider, key) = entry.key();
                let share = entry.value().share(now);
                KeyExport {
                    provider: provider.clone(),
                    key: key.clone(),
                    charged: share.charged,
                    cooling_until_ms: share.cooling_until.map(|at| clock.to_wall(at)),
                    disabled: share.disabled.map(|(until, reason)| KeyBlock {
                        until_ms: clock.to_wall(until),
                        reason: BlockReason::Disabled(reason),
                    }),
                }
            })
            .collect();
        let circuits = self
            .providers
            .iter()
            .map(|entry| {
                let (generation, state) = entry.value().share(now);
                let state = match state {
                    CircuitState::Open { until } => Some(Some(clock.to_wall(until))),
                    CircuitState::Closed => Some(None),
                    CircuitState::HalfOpen => None,
                };
                CircuitExport {
                    provider: entry.key().clone(),
                    generation,
                    state,
                }
            })
            .collect();
        LocalExport { keys, circuits }
    }

    /// Applies what another instance knows. Providers and keys this
    /// instance's configuration does not have are ignored.
    pub fn apply(&self, remote: Remote, now: Instant, wall_ms: u64) {
        let clock = Clock { now, wall_ms };
        match remote {
            Remote::Block {
                provider,
                key,
                block,
            } => {
                let Some(state) = self.keys.get(&(provider, key)).map(|e| Arc::clone(&e)) else {
                    return;
                };
                let Some(until) = clock.to_instant(block.until_ms) else {
                    return;
                };
                match block.reason {
                    BlockReason::CoolingDown => state.cool_down(until),
                    BlockReason::Disabled(reason) => state.disable_until(until, reason),
                }
            }
            Remote::Usage {
                provider,
                key,
                charge,
            } => {
                if let Some(state) = self.keys.get(&(provider, key)) {
                    state.charge_remote(charge, now);
                }
            }
            Remote::Circuit {
                provider,
                open_until_ms,
            } => {
                let Some(health) = self.providers.get(&provider).map(|e| Arc::clone(&e)) else {
                    return;
                };
                match open_until_ms {
                    Some(until_ms) => {
                        if let Some(until) = clock.to_instant(until_ms) {
                            health.apply_remote(Some(until));
                        }
                    }
                    None => health.apply_remote(None),
                }
            }
            Remote::Switch { provider, disabled } => self.switch(&provider, disabled),
            Remote::Affinity { session, target } => {
                self.pin(&session, target);
            }
            Remote::Signatures { provider, ids } => {
                for id in ids {
                    self.signatures.insert(id, Arc::clone(&provider));
                }
            }
        }
    }
}
