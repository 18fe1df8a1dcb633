//! The JSON of `GET /admin/stats` and of one `request` event of
//! `GET /admin/events`, as the dashboard reads them.
//!
//! Every struct is `#[serde(default)]` and unknown fields are ignored: a relay
//! older or newer than this dashboard still shows what both know. `null` is
//! accepted wherever a number may be unknown.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `GET /admin/stats`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
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
    /// Whether the admin API refuses writes; `None` from relays that do not say.
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

/// Latency percentiles; `None` before the first sample.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

/// Token totals since the relay started.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
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
#[derive(Clone, Debug, Deserialize, PartialEq)]
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
    pub latency_ms: Option<f64>,
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
}

/// A circuit breaker's state.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Circuit {
    Closed,
    Open,
    HalfOpen,
    /// Missing, or a state this dashboard does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl Circuit {
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
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
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
    pub cooling_down_for_secs: Option<f64>,
    pub disabled_reason: Option<String>,
}

impl KeyStats {
    pub fn is_available(&self) -> bool {
        self.cooling_down_for_secs.is_none_or(|s| s <= 0.0)
            && self.disabled_reason.is_none()
            && self.requests.remaining != Some(0)
    }
}

/// A rate limit window; `limit`/`remaining` are `None` until learned.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Limit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub resets_in_secs: Option<f64>,
}

/// One completed request, from an `event: request` of `/admin/events`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RequestEvent {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    /// RFC 3339 text or a Unix timestamp; shown as `HH:MM:SS`.
    pub time: Value,
    #[serde(deserialize_with = "nullable")]
    pub method: String,
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    pub provider: Option<String>,
    pub key_id: Option<String>,
    pub model: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub status: u16,
    #[serde(deserialize_with = "nullable")]
    pub stream: bool,
    pub latency_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    pub overhead_ms: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_creation_tokens: Option<u64>,
    /// The attempts that failed before this one; shown as a count.
    #[serde(deserialize_with = "nullable")]
    pub failovers: Vec<Value>,
    pub outcome: Option<String>,
}

/// `null` as the type's default, so one unknown value does not fail the
/// whole document.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn nullable_true<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}
