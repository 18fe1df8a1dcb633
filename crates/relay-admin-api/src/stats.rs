//! `GET /admin/stats` (and gRPC `GetStats`): a live snapshot of the relay.
//!
//! Fields may be added, never renamed or retyped. Every struct reads
//! leniently (`#[serde(default)]`, unknown fields ignored, `null` where a
//! value may be unknown), so a reader older or newer than the relay still
//! shows what both know.

use serde::{Deserialize, Serialize};

use crate::lenient::{nullable, nullable_true};

/// The whole snapshot.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Stats {
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    #[serde(deserialize_with = "nullable")]
    pub uptime_secs: f64,
    #[serde(deserialize_with = "nullable")]
    pub config_generation: u64,
    #[serde(deserialize_with = "nullable")]
    pub strategy: String,
    /// Whether this caller may not write (the API is read-only, or its token
    /// is the read-only one); `None` from relays that do not say.
    pub read_only: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    pub in_flight: u64,
    #[serde(deserialize_with = "nullable")]
    pub requests_total: u64,
    #[serde(deserialize_with = "nullable")]
    pub errors_total: u64,
    #[serde(deserialize_with = "nullable")]
    pub requests_per_sec: f64,
    /// How many requests the percentiles are over; with none they mean nothing.
    pub latency_samples: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    pub latency_ms: Percentiles,
    #[serde(deserialize_with = "nullable")]
    pub ttfb_ms: Percentiles,
    #[serde(deserialize_with = "nullable")]
    pub overhead_ms: Percentiles,
    #[serde(deserialize_with = "nullable")]
    pub tokens: Tokens,
    #[serde(deserialize_with = "nullable")]
    pub affinity_entries: u64,
    #[serde(deserialize_with = "nullable")]
    pub providers: Vec<ProviderStats>,
}

impl Stats {
    /// The latency, TTFB and overhead percentiles, `None` where unknown
    /// (as all are while there are no samples).
    pub fn percentiles(&self) -> [Percentiles; 3] {
        if self.latency_samples == Some(0) {
            return [Percentiles::default(); 3];
        }
        [self.latency_ms, self.ttfb_ms, self.overhead_ms]
    }
}

/// Percentiles in milliseconds over the recent requests; `None` when unknown.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

/// Token totals since the relay started.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Tokens {
    #[serde(deserialize_with = "nullable")]
    pub input: u64,
    #[serde(deserialize_with = "nullable")]
    pub output: u64,
    #[serde(deserialize_with = "nullable")]
    pub cache_read: u64,
    #[serde(deserialize_with = "nullable")]
    pub cache_creation: u64,
}

/// One provider of the current configuration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ProviderStats {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(rename = "type", deserialize_with = "nullable")]
    pub kind: String,
    /// `enabled` in the configuration.
    #[serde(deserialize_with = "nullable_true")]
    pub enabled: bool,
    /// Disabled at run time through the admin API (outlives reloads).
    #[serde(deserialize_with = "nullable")]
    pub disabled_by_operator: bool,
    /// Whether the router may pick it now.
    #[serde(deserialize_with = "nullable_true")]
    pub active: bool,
    #[serde(deserialize_with = "nullable")]
    pub circuit: Circuit,
    /// Seconds until an open circuit lets a trial request through.
    pub circuit_open_until_secs: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    pub in_flight: u64,
    /// The router's latency estimate (what `latency` routing compares).
    pub latency_ms: Option<f64>,
    /// Percentiles of this provider's recent requests, end to end.
    #[serde(deserialize_with = "nullable")]
    pub request_latency_ms: Percentiles,
    /// Percentiles of this provider's recent time to first byte.
    #[serde(deserialize_with = "nullable")]
    pub request_ttfb_ms: Percentiles,
    #[serde(deserialize_with = "nullable")]
    pub requests: u64,
    #[serde(deserialize_with = "nullable")]
    pub errors: u64,
    #[serde(deserialize_with = "nullable")]
    pub keys: Vec<KeyStats>,
}

// Missing `enabled`/`active` means a relay that does not report them, which
// only happens for providers it routes to: default to true, not false.
impl Default for ProviderStats {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: String::new(),
            enabled: true,
            disabled_by_operator: false,
            active: true,
            circuit: Circuit::default(),
            circuit_open_until_secs: None,
            in_flight: 0,
            latency_ms: None,
            request_latency_ms: Percentiles::default(),
            request_ttfb_ms: Percentiles::default(),
            requests: 0,
            errors: 0,
            keys: Vec::new(),
        }
    }
}

impl ProviderStats {
    /// `(available, total)` keys: neither cooling down, disabled nor out of requests.
    pub fn keys_available(&self) -> (usize, usize) {
        let available = self.keys.iter().filter(|k| k.is_available()).count();
        (available, self.keys.len())
    }

    /// One word for the table: `disabled` (by an operator), `off` (in the
    /// file), `inactive` (not routable now) or `active`.
    pub fn state_label(&self) -> &'static str {
        if self.disabled_by_operator {
            "disabled"
        } else if !self.enabled {
            "off"
        } else if !self.active {
            "inactive"
        } else {
            "active"
        }
    }
}

/// A circuit breaker's state.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Circuit {
    Closed,
    Open,
    HalfOpen,
    /// Missing, or a state this reader does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl Circuit {
    /// For people: `half-open`, `?` when unknown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
            Self::Unknown => "?",
        }
    }
}

/// One API key of a provider; `id` is a fingerprint, never the key.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KeyStats {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub in_flight: u64,
    /// The fraction of its capacity left, 0..=1.
    pub headroom: Option<f64>,
    #[serde(deserialize_with = "nullable")]
    pub requests: Limit,
    #[serde(deserialize_with = "nullable")]
    pub input_tokens: Limit,
    #[serde(deserialize_with = "nullable")]
    pub output_tokens: Limit,
    /// The combined token limit, for providers that report one.
    #[serde(deserialize_with = "nullable")]
    pub tokens: Limit,
    pub cooling_down_for_secs: Option<f64>,
    pub disabled_for_secs: Option<f64>,
    /// Why the key is disabled, while it is.
    pub disabled_reason: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub used: KeyUsage,
}

impl KeyStats {
    pub fn is_available(&self) -> bool {
        self.cooling_down_for_secs.is_none_or(|s| s <= 0.0)
            && self.disabled_reason.is_none()
            && self.requests.remaining != Some(0)
    }
}

/// A rate limit window; `limit`/`remaining` are `None` when unlimited or not
/// learned yet.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Limit {
    /// The limit enforced: the lower of `configured` and `learned`.
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub resets_in_secs: Option<f64>,
    pub configured: Option<u64>,
    /// What the upstream's rate-limit headers reported last.
    pub learned: Option<u64>,
}

/// What a key has served since the relay started.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct KeyUsage {
    #[serde(deserialize_with = "nullable")]
    pub requests: u64,
    #[serde(deserialize_with = "nullable")]
    pub input_tokens: u64,
    #[serde(deserialize_with = "nullable")]
    pub output_tokens: u64,
    #[serde(deserialize_with = "nullable")]
    pub cache_read_tokens: u64,
}
