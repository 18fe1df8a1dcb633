//! Bedrock's streaming response (`application/vnd.amazon.eventstream`) to
//! Anthropic SSE.
//!
//! Each frame is a binary message: a 12-byte prelude (total length, headers
//! length, prelude CRC32), headers, payload, message CRC32. A `chunk` event's
//! payload is `{"bytes":"<base64>"}`, and the base64 holds one Anthropic
//! event (`{"type":"message_start",...}`), emitted as `event: <type>` +
//! `data: <json>`. Exception frames become an Anthropic `error` event and
//! end the stream. Bedrock's `amazon-bedrock-invocationMetrics` (on the last
//! event) is removed; when that event has no `usage`, one is made from it.
//!
//! Frames are cut out of the byte stream here, and each whole frame is
//! parsed and CRC-checked by `aws_smithy_eventstream::frame::read_message_from`.
//! (Its incremental `MessageFrameDecoder` trusts the declared length before
//! the prelude CRC is checked, so a corrupted length would make it wait for
//! up to 4 GiB; here the prelude is verified as soon as its 12 bytes are in,
//! and frames are capped at [`MAX_FRAME_BYTES`].)

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::{HeaderValue, Message};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{Buf as _, Bytes, BytesMut};
use relay_core::{ApiError, ErrorType};
use serde_json::{Map, Value};

use super::errors::error_type_for;
use crate::decoder::{DecodeError, ResponseDecoder};

const PRELUDE_BYTES: usize = 12;
/// Prelude plus message CRC: the smallest possible frame.
const MIN_FRAME_BYTES: usize = 16;
/// Bedrock's frames carry one event each; anything near this is corruption.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
const METRICS_KEY: &str = "amazon-bedrock-invocationMetrics";

/// Decodes a Bedrock `invoke-with-response-stream` body into Anthropic SSE.
#[derive(Debug, Default)]
pub struct BedrockStreamDecoder {
    buffer: BytesMut,
    /// Length of the frame at the front of `buffer`, once its prelude checked out.
    frame_len: Option<usize>,
    /// A decoding error, reported on the next call once the events before it are out.
    failed: Option<DecodeError>,
    /// An exception ended the stream; anything after it is ignored.
    ended: bool,
}

impl BedrockStreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cuts the next whole frame out of the buffer, if it is all there.
    fn next_frame(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let len = match self.frame_len {
            Some(len) => len,
            None if self.buffer.len() < PRELUDE_BYTES => return Ok(None),
            None => {
                let len = check_prelude(&self.buffer[..PRELUDE_BYTES])?;
                self.frame_len = Some(len);
                len
            }
        };
        if self.buffer.len() < len {
            return Ok(None);
        }
        self.frame_len = None;
        Ok(Some(self.buffer.split_to(len).freeze()))
    }

    fn decode_buffered(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        while !self.ended {
            let Some(frame) = self.next_frame()? else {
                break;
            };
            let message = read_message_from(frame)
                .map_err(|err| DecodeError(format!("invalid event-stream frame: {err}")))?;
            convert(&message, out, &mut self.ended)?;
        }
        if self.ended {
            self.buffer.clear();
        }
        Ok(())
    }
}

impl ResponseDecoder for BedrockStreamDecoder {
    fn decode(&mut self, chunk: Bytes) -> Result<Bytes, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.ended {
            return Ok(Bytes::new());
        }
        self.buffer.extend_from_slice(&chunk);
        let mut out = Vec::new();
        match self.decode_buffered(&mut out) {
            Ok(()) => Ok(Bytes::from(out)),
            Err(err) if out.is_empty() => {
                self.failed = Some(err.clone());
                Err(err)
            }
            // Send the whole events decoded before the bad frame; the error follows.
            Err(err) => {
                self.failed = Some(err);
                Ok(Bytes::from(out))
            }
        }
    }

    fn finish(&mut self) -> Result<Bytes, DecodeError> {
        if let Some(err) = self.failed.take() {
            return Err(err);
        }
        if !self.ended && !self.buffer.is_empty() {
            return Err(DecodeError(format!(
                "the Bedrock stream ended inside a frame ({} bytes left over)",
                self.buffer.len()
            )));
        }
        Ok(Bytes::new())
    }
}

/// Validates a prelude; returns the frame's total length.
fn check_prelude(mut prelude: &[u8]) -> Result<usize, DecodeError> {
    let crc = crc32fast::hash(&prelude[..8]);
    let total = prelude.get_u32() as usize;
    let headers = prelude.get_u32() as usize;
    if prelude.get_u32() != crc {
        return Err(DecodeError(
            "event-stream prelude checksum mismatch".to_owned(),
        ));
    }
    if !(MIN_FRAME_BYTES..=MAX_FRAME_BYTES).contains(&total) || headers > total - MIN_FRAME_BYTES {
        return Err(DecodeError(format!(
            "event-stream frame length {total} (headers {headers}) is out of range"
        )));
    }
    Ok(total)
}

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Appends the SSE for one frame.
fn convert(message: &Message, out: &mut Vec<u8>, ended: &mut bool) -> Result<(), DecodeError> {
    match header(message, ":message-type").unwrap_or("event") {
        "event" => match header(message, ":event-type") {
            Some("chunk") => chunk_event(message.payload(), out),
            // Other event types (none are defined for this operation today) carry no Anthropic event.
            _ => Ok(()),
        },
        "exception" => {
            let name = header(message, ":exception-type").unwrap_or("unknownException");
            let text = payload_message(message.payload());
            error_event(name, &text, out);
            *ended = true;
            Ok(())
        }
        "error" => {
            let name = header(message, ":error-code").unwrap_or("unknownError");
            let text = header(message, ":error-message").unwrap_or("stream error");
            error_event(name, text, out);
            *ended = true;
            Ok(())
        }
        other => Err(DecodeError(format!(
            "unexpected event-stream message type {other:?}"
        ))),
    }
}

fn payload_message(payload: &Bytes) -> String {
    serde_json::from_slice::<Value>(payload)
        .ok()
        .and_then(|v| crate::translate::foreign_message(&v))
        .unwrap_or_else(|| {
            String::from_utf8_lossy(payload)
                .chars()
                .take(1000)
                .collect()
        })
}

fn error_event(exception: &str, message: &str, out: &mut Vec<u8>) {
    let error_type = error_type_for(exception).unwrap_or(ErrorType::ApiError);
    let message = format!("Bedrock {exception}: {message}");
    let error = ApiError::new(error_type.default_status(), error_type, message);
    out.extend_from_slice(&error.to_sse_event());
}

fn chunk_event(payload: &Bytes, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let bad = |what: &str| DecodeError(format!("a Bedrock chunk {what}"));
    let envelope: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|_| bad("payload is not a JSON object"))?;
    let encoded = envelope
        .get("bytes")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no `bytes`"))?;
    let inner = STANDARD
        .decode(encoded)
        .map_err(|_| bad("has `bytes` that are not base64"))?;
    let mut event: Map<String, Value> =
        serde_json::from_slice(&inner).map_err(|_| bad("does not hold a JSON event"))?;
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && !t.contains(['\n', '\r']))
        .ok_or_else(|| bad("holds an event without a `type`"))?
        .to_owned();
    let metrics = event.remove(METRICS_KEY);
    if let Some(usage) = metrics.as_ref().and_then(usage_from_metrics)
        && !event.contains_key("usage")
    {
        event.insert("usage".to_owned(), usage);
    }
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    if metrics.is_none() && !inner.contains(&b'\n') && !inner.contains(&b'\r') {
        // Unchanged: relayed byte for byte.
        out.extend_from_slice(&inner);
    } else {
        // Re-encoded compactly: the data line must not contain a line break.
        let json = serde_json::to_vec(&event).map_err(|_| bad("could not be re-encoded"))?;
        out.extend_from_slice(&json);
    }
    out.extend_from_slice(b"\n\n");
    Ok(())
}

/// Anthropic `usage` from Bedrock's invocation metrics.
fn usage_from_metrics(metrics: &Value) -> Option<Value> {
    let count = |key: &str| metrics.get(key).and_then(Value::as_u64);
    let mut usage = Map::new();
    for (from, to) in [
        ("inputTokenCount", "input_tokens"),
        ("outputTokenCount", "output_tokens"),
        ("cacheReadInputTokenCount", "cache_read_input_tokens"),
        ("cacheWriteInputTokenCount", "cache_creation_input_tokens"),
    ] {
        if let Some(n) = count(from) {
            usage.insert(to.to_owned(), Value::from(n));
        }
    }
    (!usage.is_empty()).then_some(Value::Object(usage))
}

#[cfg(test)]
#[path = "eventstream_tests.rs"]
mod tests;
