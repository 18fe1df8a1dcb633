//! Helpers for `cloud_providers.rs`: Bedrock event-stream frames for the
//! mock upstream, re-checking the SigV4 signatures the relay sent, Anthropic
//! event sequences, and running the Python SDK client.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use relay_test_support::MockReply;
use serde_json::{Value, json};

const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

mod sigv4;

pub use sigv4::assert_sigv4_signed;

/// One event-stream frame with string headers.
pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut message = Message::new(Bytes::copy_from_slice(payload));
    for (name, value) in headers {
        message = message.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut out = Vec::new();
    write_message_to(&message, &mut out).unwrap();
    out
}

/// A Bedrock `chunk` frame carrying one Anthropic event.
pub fn chunk_frame(event: &Value) -> Vec<u8> {
    let payload = json!({ "bytes": STANDARD.encode(event.to_string()), "p": "abcdefgh" });
    frame(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A Bedrock exception frame.
pub fn exception_frame(name: &str, message: &str) -> Vec<u8> {
    frame(
        &[
            (":exception-type", name),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        json!({ "message": message }).to_string().as_bytes(),
    )
}

/// The Anthropic events of a streamed answer made of `words`, the way
/// Bedrock sends them: `message_stop` carries the invocation metrics.
pub fn anthropic_events(model: &str, words: &[&str]) -> Vec<Value> {
    let mut events = vec![
        json!({"type":"message_start","message":{"id":"msg_bdrk_01","type":"message","role":"assistant",
            "model":model,"content":[],"stop_reason":null,"stop_sequence":null,
            "usage":{"input_tokens":11,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
    ];
    for (i, word) in words.iter().enumerate() {
        let text = if i == 0 {
            (*word).to_owned()
        } else {
            format!(" {word}")
        };
        events.push(json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}}));
    }
    events.push(json!({"type":"content_block_stop","index":0}));
    events.push(
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
        "usage":{"output_tokens":words.len()}}),
    );
    events.push(json!({"type":"message_stop","amazon-bedrock-invocationMetrics":{
        "inputTokenCount":11,"outputTokenCount":words.len(),"invocationLatency":250,"firstByteLatency":90}}));
    events
}

/// Cuts `bytes` into pieces at awkward places (never on frame boundaries by design).
pub fn split_awkwardly(bytes: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut step = 5;
    while start < bytes.len() {
        let end = (start + step).min(bytes.len());
        pieces.push(Bytes::copy_from_slice(&bytes[start..end]));
        start = end;
        step = step * 3 % 97 + 7;
    }
    pieces
}

/// Chunk frames for `events`, back to back.
pub fn frames(events: &[Value]) -> Vec<u8> {
    events.iter().flat_map(chunk_frame).collect()
}

/// A 200 event-stream reply of `bytes`, written in awkward pieces with small gaps.
pub fn event_stream_reply(bytes: &[u8]) -> MockReply {
    MockReply::sse_raw(split_awkwardly(bytes))
        .header("content-type", EVENT_STREAM)
        .event_delay(Duration::from_millis(2))
}

/// Runs the SDK client script against the relay and returns what it printed.
pub async fn run_sdk(relay_url: &str, api_key: &str, model: &str, flags: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/cloud_sdk_client.py");
    let output = tokio::process::Command::new(relay_test_support::tools::python())
        .arg(script)
        .arg(relay_url)
        .arg(api_key)
        .arg(model)
        .args(flags)
        .output()
        .await
        .expect("the test Python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK client failed (scripts/test installs its packages):\n{stderr}"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The event names the SDK reported.
pub fn names(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect()
}

/// The claims of a JWT (signature not checked).
pub fn jwt_claims(jwt: &str) -> Value {
    let claims = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
