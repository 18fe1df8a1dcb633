//! Realistic Anthropic Messages API payloads: message objects, the SSE
//! event sequence of a streamed message, token counts and error bodies.

use bytes::Bytes;
use serde_json::{Value, json};

/// Model name used when the request does not name one.
pub(crate) const FALLBACK_MODEL: &str = "claude-mock";

/// Text of the replies `MockReply::auto()` produces.
pub(crate) const AUTO_TEXT: &str = "Hello from the mock upstream.";

/// What the generated message looks like, once the request is known.
pub(crate) struct MessageParams<'a> {
    pub id: String,
    pub model: &'a str,
    pub text: &'a str,
    pub input_tokens: u64,
}

/// A message id in Anthropic's shape, unique per request index.
pub(crate) fn message_id(request_index: usize) -> String {
    format!("msg_mock{request_index:018}")
}

/// A rough, deterministic token estimate for a request body.
pub(crate) fn estimate_input_tokens(body: &[u8]) -> u64 {
    u64::try_from(body.len() / 4).unwrap_or(u64::MAX).max(1)
}

/// Output tokens of a text: one per word, at least one.
pub(crate) fn output_tokens(text: &str) -> u64 {
    u64::try_from(text.split_whitespace().count())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The model the request names, if its body is JSON with a string `model`.
pub(crate) fn request_model(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("model")?.as_str().map(str::to_owned)
}

/// Whether the request body is JSON with `"stream": true`.
pub(crate) fn request_wants_stream(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("stream").and_then(Value::as_bool))
        .unwrap_or(false)
}

/// A complete non-streaming message object.
pub(crate) fn message_json(p: &MessageParams<'_>) -> Value {
    json!({
        "id": p.id,
        "type": "message",
        "role": "assistant",
        "model": p.model,
        "content": [{"type": "text", "text": p.text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": p.input_tokens, "output_tokens": output_tokens(p.text)},
    })
}

/// The event sequence Anthropic sends for a streamed text message.
pub(crate) fn stream_events(p: &MessageParams<'_>) -> Vec<(String, Value)> {
    let mut events = vec![
        (
            "message_start".to_owned(),
            json!({
                "type": "message_start",
                "message": {
                    "id": p.id,
                    "type": "message",
                    "role": "assistant",
                    "model": p.model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": {"input_tokens": p.input_tokens, "output_tokens": 1},
                },
            }),
        ),
        (
            "content_block_start".to_owned(),
            json!({
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }),
        ),
        ("ping".to_owned(), json!({"type": "ping"})),
    ];
    for word in p.text.split_inclusive(char::is_whitespace) {
        events.push((
            "content_block_delta".to_owned(),
            json!({
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": word},
            }),
        ));
    }
    events.push((
        "content_block_stop".to_owned(),
        json!({"type": "content_block_stop", "index": 0}),
    ));
    events.push((
        "message_delta".to_owned(),
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"output_tokens": output_tokens(p.text)},
        }),
    ));
    events.push(("message_stop".to_owned(), json!({"type": "message_stop"})));
    events
}

/// One SSE event rendered as `event: NAME\ndata: JSON\n\n`.
pub(crate) fn render_event(name: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// An Anthropic error body.
pub(crate) fn error_json(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> MessageParams<'_> {
        MessageParams {
            id: message_id(3),
            model: "claude-test",
            text,
            input_tokens: 7,
        }
    }

    #[test]
    fn deltas_concatenate_to_the_text() {
        let text = "Hello  wide\nworld";
        let events = stream_events(&params(text));
        let joined: String = events
            .iter()
            .filter(|(name, _)| name == "content_block_delta")
            .filter_map(|(_, v)| v["delta"]["text"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(joined, text);
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.first(), Some(&"message_start"));
        assert_eq!(names.last(), Some(&"message_stop"));
    }

    #[test]
    fn message_has_the_anthropic_shape() {
        let v = message_json(&params("a b c"));
        assert_eq!(v["type"], "message");
        assert_eq!(v["model"], "claude-test");
        assert_eq!(v["usage"]["output_tokens"], 3);
        assert_eq!(v["usage"]["input_tokens"], 7);
        assert!(v["id"].as_str().is_some_and(|id| id.starts_with("msg_")));
    }

    #[test]
    fn request_inspection() {
        let body = br#"{"model":"m1","stream":true}"#;
        assert_eq!(request_model(body).as_deref(), Some("m1"));
        assert!(request_wants_stream(body));
        assert!(!request_wants_stream(b"not json"));
        assert_eq!(
            render_event("ping", &json!({})),
            "event: ping\ndata: {}\n\n"
        );
    }
}
