//! What is written to Redis and published on the channel, as small JSON
//! documents. Decoding is lenient item by item: a value we cannot read
//! (another version, or garbage under our prefix) is skipped and counted,
//! never a panic and never a reason to drop the rest.

use std::sync::Arc;

use relay_core::SignatureId;
use relay_router::sync::{BlockReason, KeyBlock, Stamp, UsageCell};
use relay_router::{AffinityTarget, DisableReason};
use serde::{Deserialize, Serialize};

/// Wire names of the reasons a key is out of rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WireReason {
    CoolingDown,
    InvalidKey,
    PermissionDenied,
    SpendLimit,
}

impl From<BlockReason> for WireReason {
    fn from(reason: BlockReason) -> Self {
        match reason {
            BlockReason::CoolingDown => Self::CoolingDown,
            BlockReason::Disabled(DisableReason::InvalidKey) => Self::InvalidKey,
            BlockReason::Disabled(DisableReason::PermissionDenied) => Self::PermissionDenied,
            BlockReason::Disabled(DisableReason::SpendLimit) => Self::SpendLimit,
        }
    }
}

impl From<WireReason> for BlockReason {
    fn from(reason: WireReason) -> Self {
        match reason {
            WireReason::CoolingDown => Self::CoolingDown,
            WireReason::InvalidKey => Self::Disabled(DisableReason::InvalidKey),
            WireReason::PermissionDenied => Self::Disabled(DisableReason::PermissionDenied),
            WireReason::SpendLimit => Self::Disabled(DisableReason::SpendLimit),
        }
    }
}

/// A key out of rotation (`{prefix}:block:...` values and `block` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireBlock {
    pub(crate) provider: String,
    pub(crate) key: String,
    pub(crate) until_ms: u64,
    pub(crate) reason: WireReason,
}

impl WireBlock {
    pub(crate) fn block(&self) -> KeyBlock {
        KeyBlock {
            until_ms: self.until_ms,
            reason: self.reason.into(),
        }
    }
}

/// A circuit (`{prefix}:circuit:...` values and `circuit` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireCircuit {
    pub(crate) provider: String,
    pub(crate) at_ms: u64,
    pub(crate) from: String,
    /// `None`: closed.
    pub(crate) open_until_ms: Option<u64>,
}

/// An operator switch (`{prefix}:switches` fields and `switch` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireSwitch {
    pub(crate) provider: String,
    pub(crate) at_ms: u64,
    pub(crate) from: String,
    pub(crate) disabled: bool,
}

/// A conversation pin (`{prefix}:affinity:...` values and `affinity` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WirePin {
    pub(crate) session: String,
    pub(crate) at_ms: u64,
    pub(crate) from: String,
    pub(crate) provider: String,
    pub(crate) key: Option<String>,
}

impl WirePin {
    pub(crate) fn target(&self) -> AffinityTarget {
        AffinityTarget {
            provider: Arc::from(self.provider.as_str()),
            key_id: self.key.clone(),
        }
    }
}

/// One instance's usage of a key in one slot (`{prefix}:usage:...` fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireUsage {
    pub(crate) seq: u64,
    pub(crate) amounts: [i64; 4],
}

impl From<WireUsage> for UsageCell {
    fn from(usage: WireUsage) -> Self {
        UsageCell {
            seq: usage.seq,
            amounts: usage.amounts,
        }
    }
}

/// One message on `{prefix}:events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Event {
    Block {
        from: String,
        #[serde(flatten)]
        block: WireBlock,
    },
    Circuit(WireCircuit),
    Switch(WireSwitch),
    Affinity(WirePin),
    Signatures {
        from: String,
        provider: String,
        ids: Vec<u64>,
    },
}

impl Event {
    pub(crate) fn from(&self) -> &str {
        match self {
            Self::Block { from, .. } | Self::Signatures { from, .. } => from,
            Self::Circuit(c) => &c.from,
            Self::Switch(s) => &s.from,
            Self::Affinity(p) => &p.from,
        }
    }
}

pub(crate) fn stamp(at_ms: u64, from: &str) -> Stamp {
    Stamp {
        at_ms,
        instance: Arc::from(from),
    }
}

pub(crate) fn signature_ids(ids: &[u64]) -> Vec<SignatureId> {
    ids.iter().copied().map(SignatureId).collect()
}

/// Encodes a value; these types always encode.
pub(crate) fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

pub(crate) fn decode<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_garbage_is_refused() {
        let event = Event::Block {
            from: "a".into(),
            block: WireBlock {
                provider: "p".into(),
                key: "k".into(),
                until_ms: 5,
                reason: WireReason::SpendLimit,
            },
        };
        let text = encode(&event);
        assert_eq!(decode::<Event>(&text), Some(event));
        for garbage in [
            "",
            "{}",
            "null",
            "{\"kind\":\"block\"}",
            "\u{0}\u{1}",
            "[1,2]",
        ] {
            assert_eq!(decode::<Event>(garbage), None, "{garbage:?}");
        }
        assert_eq!(decode::<WireUsage>("{\"seq\":1,\"amounts\":[1,2,3]}"), None);
    }
}
