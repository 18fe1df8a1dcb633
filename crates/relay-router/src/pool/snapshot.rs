//! Point-in-time views of a key, for stats, debug headers and the dashboard.
//! Plain data: nothing here holds a lock or a secret.

use tokio::time::Instant;

use super::limits::LimitDimension;
use super::state::DisableReason;

/// One dimension of a key at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LimitSnapshot {
    /// The limit from configuration, if set.
    pub configured: Option<u64>,
    /// The limit the upstream reported last, if any.
    pub learned: Option<u64>,
    /// The limit enforced (the lower of the two); `None` = unlimited.
    pub effective: Option<u64>,
    /// Whole units left now, reservations in flight deducted; `None` = unlimited.
    pub remaining: Option<u64>,
    /// When the bucket is full again; `None` when full or unlimited.
    pub full_at: Option<Instant>,
    /// The upstream reported none left: nothing is sent before this.
    pub blocked_until: Option<Instant>,
    /// The reset time the upstream reported last, while it is in the future.
    pub upstream_reset: Option<Instant>,
}

/// What a key has served since its state was created (it survives reloads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Requests that reached the upstream (settled or answered without usage).
    pub requests: u64,
    /// Tokens counted against ITPM: input plus cache writes.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
}

/// A key's state at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySnapshot {
    pub requests: LimitSnapshot,
    pub input_tokens: LimitSnapshot,
    pub output_tokens: LimitSnapshot,
    /// The legacy combined input + output dimension (`tpm_limit`).
    pub tokens: LimitSnapshot,
    /// Reservations not yet settled or released.
    pub in_flight: usize,
    pub cooling_until: Option<Instant>,
    pub disabled_until: Option<Instant>,
    pub disabled_reason: Option<DisableReason>,
    pub used: UsageTotals,
    /// See [`KeyState::headroom`](super::KeyState::headroom).
    pub headroom: f64,
}

impl KeySnapshot {
    pub fn limit(&self, dimension: LimitDimension) -> &LimitSnapshot {
        match dimension {
            LimitDimension::Requests => &self.requests,
            LimitDimension::InputTokens => &self.input_tokens,
            LimitDimension::OutputTokens => &self.output_tokens,
            LimitDimension::Tokens => &self.tokens,
        }
    }
}
