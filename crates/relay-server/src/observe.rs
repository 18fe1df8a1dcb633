//! Watching a delivered response, without buffering it, for what the router
//! must learn: the token usage the upstream reports (to settle the key's rate
//! limit reservation), the thinking signatures it produces (to know which
//! backend can verify them), and whether the stream broke. The usage and the
//! moment of a stream's first content delta also go to the request's
//! telemetry.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use relay_core::{SignatureId, SseEvent, SseParser, response_signatures};
use relay_router::{Delivery, Usage};
use serde_json::Value;

use crate::body::BodyError;
use crate::middleware::watch::BodyWatch;
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
    Json(Vec<u8>),
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
    pub fn new(delivery: Delivery, is_sse: bool, telemetry: Arc<RequestTelemetry>) -> Self {
        let format = if is_sse {
            Format::Sse(SseParser::new(MAX_OBSERVED_EVENT))
        } else {
            Format::Json(Vec::new())
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
        if let Format::Json(body) = &self.format {
            if let Ok(value) = serde_json::from_slice::<Value>(body) {
                self.seen.usage = Some(Usage::from_json(&value["usage"]));
            }
            self.seen.signatures = response_signatures(body);
        }
        if let Some(usage) = self.seen.usage {
            self.telemetry.usage(usage);
        }
        delivery.finish(
            self.seen.usage.take(),
            &self.seen.signatures,
            self.seen.broken,
        );
    }
}

impl Seen {
    fn observe_event(&mut self, event: &SseEvent) {
        let parse = || serde_json::from_str::<Value>(&event.data).ok();
        match event.event.as_str() {
            "message_start" => {
                if let Some(value) = parse() {
                    self.usage = Some(Usage::from_json(&value["message"]["usage"]));
                }
            }
            "message_delta" => {
                if let Some(value) = parse() {
                    let delta = Usage::from_json(&value["usage"]);
                    let usage = self.usage.get_or_insert_with(Usage::default);
                    // message_delta counts are cumulative; input counts only where reported.
                    usage.output_tokens = delta.output_tokens.max(usage.output_tokens);
                    if delta.input_tokens > 0 {
                        usage.input_tokens = delta.input_tokens;
                    }
                }
            }
            "content_block_delta" if event.data.contains("signature_delta") => {
                if let Some(signature) =
                    parse().and_then(|v| v["delta"]["signature"].as_str().map(SignatureId::of))
                {
                    self.signatures.push(signature);
                }
            }
            "content_block_start" if event.data.contains("redacted_thinking") => {
                if let Some(data) =
                    parse().and_then(|v| v["content_block"]["data"].as_str().map(SignatureId::of))
                {
                    self.signatures.push(data);
                }
            }
            "error" => self.broken = true,
            _ => {}
        }
    }
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
            Format::Json(body) => {
                if body.len() + data.len() <= MAX_JSON_OBSERVED {
                    body.extend_from_slice(data);
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
