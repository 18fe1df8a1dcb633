//! Watching a delivered response, without buffering it, for what the router
//! must learn: the token usage the upstream reports (to settle the key's rate
//! limit reservation), the thinking signatures it produces (to know which
//! backend can verify them), and whether the stream broke. The usage and the
//! moment of a stream's first content delta also go to the request's
//! telemetry.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use relay_core::{SignatureId, SseEvent, SseParser, may_carry_signatures, response_signatures};
use relay_router::{Delivery, DeliveryEnd, Usage};
use serde::Deserialize;

use super::watch::BodyWatch;
use crate::body::BodyError;
use crate::telemetry::RequestTelemetry;

/// The most of a non-streaming body kept to read its `usage` at the end.
const MAX_JSON_OBSERVED: usize = 4 * 1024 * 1024;
/// The most one SSE event may take while being observed.
const MAX_OBSERVED_EVENT: usize = 16 * 1024 * 1024;

/// A [`BodyWatch`] that finishes a [`Delivery`] when the body ends or is dropped.
pub struct DeliveryWatch {
    delivery: Option<Delivery>,
    format: Format,
    seen: Seen,
    telemetry: Arc<RequestTelemetry>,
}

enum Format {
    Sse(SseParser),
    /// The body's chunks as they arrived: keeping the `Bytes` handles costs
    /// no copy, and most JSON responses arrive in one chunk.
    Json {
        chunks: Vec<Bytes>,
        len: usize,
    },
}

/// What the body told so far.
#[derive(Default)]
struct Seen {
    usage: Option<Usage>,
    signatures: Vec<SignatureId>,
    broken: bool,
    first_token: bool,
}

impl DeliveryWatch {
    pub fn new(delivery: Delivery, event_stream: bool, telemetry: Arc<RequestTelemetry>) -> Self {
        let format = if event_stream {
            Format::Sse(SseParser::new(MAX_OBSERVED_EVENT))
        } else {
            Format::Json {
                chunks: Vec::new(),
                len: 0,
            }
        };
        Self {
            delivery: Some(delivery),
            format,
            seen: Seen::default(),
            telemetry,
        }
    }

    fn finish(&mut self) {
        let Some(delivery) = self.delivery.take() else {
            return;
        };
        if let Format::Json { chunks, len } = &mut self.format {
            let body = contiguous(std::mem::take(chunks), *len);
            self.seen.usage = json_usage(&body);
            // Most responses carry no thinking: skip the second parse unless
            // a byte scan finds what it would look for.
            if may_carry_signatures(&body) {
                self.seen.signatures = response_signatures(&body);
            }
        }
        if let Some(usage) = self.seen.usage {
            self.telemetry.usage(usage);
        }
        delivery.finish(DeliveryEnd {
            usage: self.seen.usage.take(),
            signatures: &self.seen.signatures,
            broken: self.seen.broken,
        });
    }
}

impl Seen {
    fn observe_event(&mut self, event: &SseEvent) {
        let data = event.data.as_str();
        match event.event.as_str() {
            "message_start" => {
                if let Ok(start) = serde_json::from_str::<MessageStart>(data) {
                    self.usage = Some(start.message.and_then(|m| m.usage).unwrap_or_default());
                }
            }
            "message_delta" => {
                if let Ok(delta) = serde_json::from_str::<WithUsage>(data) {
                    let delta = delta.usage.unwrap_or_default();
                    let usage = self.usage.get_or_insert_with(Usage::default);
                    // message_delta counts are cumulative; input counts only where reported.
                    usage.output_tokens = delta.output_tokens.max(usage.output_tokens);
                    if delta.input_tokens > 0 {
                        usage.input_tokens = delta.input_tokens;
                    }
                }
            }
            "content_block_delta" if data.contains("signature_delta") => {
                if let Ok(SignatureDelta {
                    delta:
                        Some(Signed {
                            signature: Some(signature),
                        }),
                }) = serde_json::from_str(data)
                {
                    self.signatures.push(SignatureId::of(&signature));
                }
            }
            "content_block_start" if data.contains("redacted_thinking") => {
                if let Ok(BlockStart {
                    content_block:
                        Some(Redacted {
                            data: Some(payload),
                        }),
                }) = serde_json::from_str(data)
                {
                    self.signatures.push(SignatureId::of(&payload));
                }
            }
            "error" => self.broken = true,
            _ => {}
        }
    }
}

// The few fields read from responses, as typed structs: serde skips every
// other field without building a tree (and without hashing keys into maps).

/// A Messages response or a `message_delta` event: `{"usage": {...}}`.
#[derive(Deserialize)]
struct WithUsage {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct MessageStart {
    #[serde(default)]
    message: Option<WithUsage>,
}

#[derive(Deserialize)]
struct SignatureDelta<'a> {
    #[serde(borrow, default)]
    delta: Option<Signed<'a>>,
}

#[derive(Deserialize)]
struct Signed<'a> {
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BlockStart<'a> {
    #[serde(borrow, default)]
    content_block: Option<Redacted<'a>>,
}

#[derive(Deserialize)]
struct Redacted<'a> {
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
}

/// The chunks as one buffer; copied only when there is more than one.
fn contiguous(mut chunks: Vec<Bytes>, len: usize) -> Bytes {
    if chunks.len() <= 1 {
        return chunks.pop().unwrap_or_default();
    }
    let mut body = BytesMut::with_capacity(len);
    for chunk in &chunks {
        body.extend_from_slice(chunk);
    }
    body.freeze()
}

/// The `usage` of a Messages response (zeros when it has none); `None` when
/// the body is not a JSON object.
fn json_usage(body: &[u8]) -> Option<Usage> {
    let response = serde_json::from_slice::<WithUsage>(body).ok()?;
    Some(response.usage.unwrap_or_default())
}

impl BodyWatch for DeliveryWatch {
    fn on_data(&mut self, data: &Bytes) {
        match &mut self.format {
            Format::Sse(parser) => {
                if parser.push(data).is_ok() {
                    while let Some(event) = parser.next_event() {
                        if !self.seen.first_token && event.event == "content_block_delta" {
                            self.seen.first_token = true;
                            self.telemetry.first_token(Instant::now());
                        }
                        self.seen.observe_event(&event);
                    }
                }
            }
            Format::Json { chunks, len } => {
                if *len + data.len() <= MAX_JSON_OBSERVED {
                    *len += data.len();
                    chunks.push(data.clone());
                }
            }
        }
    }

    fn on_end(&mut self, error: Option<&BodyError>) {
        self.seen.broken |= error.is_some();
        self.finish();
    }
}

impl Drop for DeliveryWatch {
    fn drop(&mut self) {
        // The client went away before the end: settle with what was seen.
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_from_a_full_response() {
        let body = br#"{"id":"msg_1","type":"message","content":[{"type":"text","text":"hi \"usage\": {}"}],
            "usage":{"input_tokens":12,"output_tokens":7,"cache_read_input_tokens":3}}"#;
        let usage = json_usage(body).unwrap_or_default();
        assert_eq!(usage.input_tokens, 12);
        assert_eq!(usage.output_tokens, 7);
        assert_eq!(usage.cache_read_input_tokens, 3);
    }

    #[test]
    fn a_response_without_usage_counts_zero_and_garbage_counts_nothing() {
        assert_eq!(json_usage(br#"{"type":"message"}"#), Some(Usage::default()));
        assert_eq!(json_usage(br#"{"usage":null}"#), Some(Usage::default()));
        assert_eq!(json_usage(br#"{"usage":{"input_tokens":1}"#), None);
        assert_eq!(json_usage(b"not json"), None);
    }

    fn event(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.to_owned(),
            data: data.to_owned(),
            ..SseEvent::default()
        }
    }

    #[test]
    fn stream_usage_signatures_and_errors_are_seen() {
        let mut seen = Seen::default();
        for (name, data) in [
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"m","content":[],"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":-4}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"redacted_thinking","data":"opaque"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"sig-1"}}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15.5}}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","usage":{"output_tokens":42}}"#,
            ),
        ] {
            seen.observe_event(&event(name, data));
        }
        let usage = seen.usage.unwrap_or_default();
        // Fractional and negative counts read as 0, as Usage::from_json does.
        assert_eq!(usage.input_tokens, 25);
        assert_eq!(usage.output_tokens, 42);
        assert_eq!(usage.cache_read_input_tokens, 0);
        assert_eq!(
            seen.signatures,
            [SignatureId::of("opaque"), SignatureId::of("sig-1")]
        );
        assert!(!seen.broken);
        seen.observe_event(&event("error", r#"{"type":"error"}"#));
        assert!(seen.broken);
    }

    #[test]
    fn chunks_are_joined_in_order_and_one_chunk_is_not_copied() {
        let one = Bytes::from_static(b"{\"a\":1}");
        let joined = contiguous(vec![one.clone()], one.len());
        assert_eq!(joined.as_ptr(), one.as_ptr());
        let parts = vec![Bytes::from_static(b"{\"a\""), Bytes::from_static(b":1}")];
        assert_eq!(&contiguous(parts, 7)[..], b"{\"a\":1}");
        assert!(contiguous(Vec::new(), 0).is_empty());
    }
}
