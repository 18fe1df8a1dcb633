//! The merge rules for state observed by several relays: pure functions of
//! what is known and what was seen, independent of arrival order.
//!
//! Every rule is a join (commutative, associative, idempotent), so any two
//! instances that have seen the same observations, in any order and any
//! number of times, hold the same [`SharedView`] (see `proptests.rs`).
//!
//! - A key's cooldown or disable: the later end wins; a 429's `retry-after`
//!   seen by any instance holds on every instance, and a block never
//!   shortens because an instance saw less.
//! - Circuits, operator switches, affinity pins: the newest observation wins
//!   ([`Stamp`]: wall-clock time, then instance id to break ties the same way
//!   everywhere).
//! - Usage: each instance owns its own counters per key and time slot and
//!   publishes them with a sequence number; the highest sequence wins, and
//!   what changed is charged to the local bucket.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::pool::DisableReason;
use crate::state::AffinityTarget;

/// When and by whom something was observed. Orders observations of one item.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Wall-clock milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub instance: Arc<str>,
}

/// Why a key is out of rotation, as shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockReason {
    /// A 429 (`retry-after`).
    CoolingDown,
    /// Set aside: 401, 403 or a spend limit.
    Disabled(DisableReason),
}

impl BlockReason {
    /// Tie-break between blocks ending at the same instant, so every
    /// instance keeps the same reason.
    fn rank(self) -> u8 {
        match self {
            Self::CoolingDown => 0,
            Self::Disabled(DisableReason::SpendLimit) => 1,
            Self::Disabled(DisableReason::PermissionDenied) => 2,
            Self::Disabled(DisableReason::InvalidKey) => 3,
        }
    }

    /// Cooldowns and disables are kept apart, as the key keeps them.
    pub fn is_cooldown(self) -> bool {
        matches!(self, Self::CoolingDown)
    }
}

/// A key out of rotation until `until_ms` (wall clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyBlock {
    pub until_ms: u64,
    pub reason: BlockReason,
}

/// The later end wins; at the same end, the more severe reason.
pub fn merge_block(current: Option<KeyBlock>, seen: KeyBlock) -> KeyBlock {
    match current {
        Some(current)
            if (current.until_ms, current.reason.rank()) >= (seen.until_ms, seen.reason.rank()) =>
        {
            current
        }
        _ => seen,
    }
}

/// The newest observation wins; two with the same stamp (one instance,
/// one millisecond) are ordered by value, so every instance keeps the same.
pub fn merge_newest<T: Clone + Ord>(current: Option<&(Stamp, T)>, seen: &(Stamp, T)) -> (Stamp, T) {
    match current {
        Some(current) if current >= seen => current.clone(),
        _ => seen.clone(),
    }
}

/// One instance's usage of one key in one time slot: net amounts per
/// dimension (`LimitDimension::index` order) and the writer's sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct UsageCell {
    pub seq: u64,
    pub amounts: [i64; 4],
}

/// The higher sequence wins (the owner only ever writes newer cells).
pub fn merge_usage(current: Option<UsageCell>, seen: UsageCell) -> UsageCell {
    current.map_or(seen, |current| current.max(seen))
}

/// What another instance was seen to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    Block {
        provider: String,
        key: String,
        block: KeyBlock,
    },
    /// `open_until_ms: None` is a closed circuit.
    Circuit {
        provider: String,
        stamp: Stamp,
        open_until_ms: Option<u64>,
    },
    Switch {
        provider: String,
        stamp: Stamp,
        disabled: bool,
    },
    Affinity {
        session: String,
        stamp: Stamp,
        target: AffinityTarget,
    },
    Usage {
        provider: String,
        key: String,
        instance: Arc<str>,
        slot: u64,
        cell: UsageCell,
    },
}

/// What changed in the view, for [`crate::RouterState::apply`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remote {
    Block {
        provider: String,
        key: String,
        block: KeyBlock,
    },
    Circuit {
        provider: String,
        open_until_ms: Option<u64>,
    },
    Switch {
        provider: String,
        disabled: bool,
    },
    Affinity {
        session: String,
        target: AffinityTarget,
    },
    /// Amounts to charge (negative: refund) to the key's buckets.
    Usage {
        provider: String,
        key: String,
        charge: [i64; 4],
    },
    Signatures {
        provider: Arc<str>,
        ids: Vec<relay_core::SignatureId>,
    },
}

type KeyId = (String, String);

/// Everything learned from other instances, merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedView {
    cooldowns: BTreeMap<KeyId, KeyBlock>,
    disables: BTreeMap<KeyId, KeyBlock>,
    circuits: BTreeMap<String, (Stamp, Option<u64>)>,
    switches: BTreeMap<String, (Stamp, bool)>,
    affinity: BTreeMap<String, (Stamp, AffinityTarget)>,
    usage: BTreeMap<KeyId, BTreeMap<(Arc<str>, u64), UsageCell>>,
}

impl SharedView {
    /// Merges one observation; returns what changed, if anything did.
    pub fn observe(&mut self, observation: Observation) -> Option<Remote> {
        match observation {
            Observation::Block {
                provider,
                key,
                block,
            } => {
                let map = match block.reason.is_cooldown() {
                    true => &mut self.cooldowns,
                    false => &mut self.disables,
                };
                let id = (provider, key);
                let current = map.get(&id).copied();
                let merged = merge_block(current, block);
                (current != Some(merged)).then(|| {
                    map.insert(id.clone(), merged);
                    Remote::Block {
                        provider: id.0,
                        key: id.1,
                        block: merged,
                    }
                })
            }
            Observation::Circuit {
                provider,
                stamp,
                open_until_ms,
            } => newest(&mut self.circuits, provider, (stamp, open_until_ms)).map(
                |(provider, open_until_ms)| Remote::Circuit {
                    provider,
                    open_until_ms,
                },
            ),
            Observation::Switch {
                provider,
                stamp,
                disabled,
            } => newest(&mut self.switches, provider, (stamp, disabled))
                .map(|(provider, disabled)| Remote::Switch { provider, disabled }),
            Observation::Affinity {
                session,
                stamp,
                target,
            } => newest(&mut self.affinity, session, (stamp, target))
                .map(|(session, target)| Remote::Affinity { session, target }),
            Observation::Usage {
                provider,
                key,
                instance,
                slot,
                cell,
            } => {
                let cells = self
                    .usage
                    .entry((provider.clone(), key.clone()))
                    .or_default();
                let current = cells.get(&(Arc::clone(&instance), slot)).copied();
                let merged = merge_usage(current, cell);
                if current == Some(merged) {
                    return None;
                }
                cells.insert((instance, slot), merged);
                let before = current.unwrap_or_default().amounts;
                let charge = std::array::from_fn(|i| merged.amounts[i].saturating_sub(before[i]));
                (charge != [0; 4]).then_some(Remote::Usage {
                    provider,
                    key,
                    charge,
                })
            }
        }
    }

    /// Forgets what no longer matters at `now_ms`: ended blocks and usage
    /// slots before `oldest_slot`. Circuits, switches and pins are kept
    /// (their newest stamp must keep winning over stale re-publications).
    pub fn expire(&mut self, now_ms: u64, oldest_slot: u64) {
        self.cooldowns.retain(|_, block| block.until_ms > now_ms);
        self.disables.retain(|_, block| block.until_ms > now_ms);
        for cells in self.usage.values_mut() {
            cells.retain(|(_, slot), _| *slot >= oldest_slot);
        }
        self.usage.retain(|_, cells| !cells.is_empty());
    }

    /// How many affinity pins are remembered (they expire with the cache
    /// that holds them locally; this bounds the view's own memory).
    pub fn forget_pins_before(&mut self, at_ms: u64) {
        self.affinity.retain(|_, (stamp, _)| stamp.at_ms >= at_ms);
    }
}

/// Applies newest-wins to `map[id]`; the new value if it changed.
fn newest<T: Clone + Ord>(
    map: &mut BTreeMap<String, (Stamp, T)>,
    id: String,
    seen: (Stamp, T),
) -> Option<(String, T)> {
    let merged = merge_newest(map.get(&id), &seen);
    if map.get(&id) == Some(&merged) {
        return None;
    }
    let value = merged.1.clone();
    map.insert(id.clone(), merged);
    Some((id, value))
}
