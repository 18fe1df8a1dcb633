//! One `event: request` of `GET /admin/events` (and gRPC `WatchEvents`): a
//! finished request's ids, route, status, timings and token counts. Never a
//! body or a secret: `key_id` is a fingerprint.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::lenient::nullable;

/// The SSE event name the stream uses for [`RequestEvent`]s.
pub const REQUEST_EVENT: &str = "request";

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RequestEvent {
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    /// RFC 3339 text from this relay; older ones may send a Unix timestamp.
    pub time: Value,
    #[serde(deserialize_with = "nullable")]
    pub method: String,
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    /// Empty when the relay answered itself (`relay_error`).
    pub provider: Option<String>,
    pub key_id: Option<String>,
    pub model: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub status: u16,
    #[serde(deserialize_with = "nullable")]
    pub stream: bool,
    pub latency_ms: Option<f64>,
    pub ttfb_ms: Option<f64>,
    /// Time to the first content delta of a stream.
    pub ttft_ms: Option<f64>,
    pub overhead_ms: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_creation_tokens: Option<u64>,
    /// Why each abandoned attempt was abandoned, in order.
    #[serde(deserialize_with = "nullable")]
    pub failovers: Vec<String>,
    /// `complete`, `aborted`, `client_closed` or `relay_error`.
    pub outcome: Option<String>,
    pub attempts: Option<u32>,
    /// The relay's own error type, when it produced the response itself.
    pub relay_error: Option<String>,
}
