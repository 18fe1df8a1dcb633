//! One ledger row: a request that reached routing, as it ended.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Everything the ledger keeps about one request. No secret: keys appear
/// as the client key's id and name and the upstream key's short id.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsageRow {
    /// When the response ended, in milliseconds since the Unix epoch.
    pub ts_ms: i64,
    pub request_id: Arc<str>,
    /// The client key's name, `shared` or `transparent`.
    pub client: Arc<str>,
    pub client_key_id: Option<Arc<str>>,
    pub provider: Option<Arc<str>>,
    pub upstream_key_id: Option<String>,
    pub model_requested: Option<String>,
    pub model_sent: Option<String>,
    pub status: u16,
    /// `complete`, `aborted`, `client_closed` or `relay_error`.
    pub outcome: &'static str,
    pub stream: bool,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// `None`: the model has no price (counted as unpriced).
    pub cost_usd: Option<f64>,
    pub duration_ms: f64,
    pub ttfb_ms: f64,
    pub attempts: u32,
    pub failovers: u32,
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The inverse of [`unix_ms`].
pub fn from_unix_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
