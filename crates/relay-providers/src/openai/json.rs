//! A Chat Completions JSON response to an Anthropic Messages response.
//!
//! The body is collected (a JSON document cannot be translated before it is
//! whole), bounded by [`MAX_JSON_BYTES`], and translated at its end.

use bytes::{Bytes, BytesMut};
use relay_config::ReasoningField;
use serde_json::{Map, Value, json};

use super::errors::stream_error;
use super::ids::{ToolIds, message_id, response_nonce};
use super::response::{Usage, matched_stop, reasoning_text, stop_reason};
use crate::decoder::{DecodeError, ResponseDecoder};

/// The largest Chat completion translated.
pub const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;

/// Translates a non-streaming Chat Completions response.
#[derive(Debug)]
pub struct ChatJsonDecoder {
    reasoning: ReasoningField,
    nonce: String,
    body: BytesMut,
}

impl ChatJsonDecoder {
    pub fn new(reasoning: ReasoningField) -> Self {
        Self::with_nonce(reasoning, response_nonce())
    }

    /// With a fixed nonce for generated ids, so tests can compare outputs.
    #[doc(hidden)]
    pub fn with_nonce(reasoning: ReasoningField, nonce: String) -> Self {
        Self {
            reasoning,
            nonce,
            body: BytesMut::new(),
        }
    }
}

impl ResponseDecoder for ChatJsonDecoder {
    fn decode(&mut self, chunk: Bytes) -> Result<Bytes, DecodeError> {
        if self.body.len() + chunk.len() > MAX_JSON_BYTES {
            return Err(DecodeError(format!(
                "the upstream's JSON response is larger than {MAX_JSON_BYTES} bytes"
            )));
        }
        self.body.extend_from_slice(&chunk);
        Ok(Bytes::new())
    }

    fn finish(&mut self) -> Result<Bytes, DecodeError> {
        let completion: Value = serde_json::from_slice(&self.body)
            .map_err(|err| DecodeError(format!("the upstream's response is not JSON: {err}")))?;
        let message = translate_completion(&completion, self.reasoning, &self.nonce)?;
        serde_json::to_vec(&message)
            .map(Bytes::from)
            .map_err(|err| DecodeError(err.to_string()))
    }

    fn content_type(&self) -> &'static str {
        "application/json"
    }
}

/// The Anthropic message (or error) for a Chat completion.
pub(crate) fn translate_completion(
    completion: &Value,
    reasoning: ReasoningField,
    nonce: &str,
) -> Result<Value, DecodeError> {
    if let Some(error) = completion.get("error").filter(|e| !e.is_null()) {
        return serde_json::from_slice(&stream_error(error).to_json())
            .map_err(|err| DecodeError(err.to_string()));
    }
    let choice = completion
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| DecodeError("the upstream's response has no choices".into()))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(thinking) = reasoning_text(message, reasoning) {
        content.push(json!({"type": "thinking", "thinking": thinking, "signature": ""}));
    }
    let text = message_text(message);
    let calls = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if !text.is_empty() && (calls.is_empty() || !text.trim().is_empty()) {
        content.push(json!({"type": "text", "text": text}));
    }
    let mut ids = ToolIds::new(nonce.to_owned());
    for (n, call) in calls.iter().enumerate() {
        let function = call.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let arguments = function.and_then(|f| f.get("arguments"));
        content.push(json!({
            "type": "tool_use",
            "id": ids.assign(call.get("id").and_then(Value::as_str), n),
            "name": name,
            "input": tool_input(arguments),
        }));
    }
    let (reason, sequence) = stop_reason(
        choice.get("finish_reason").and_then(Value::as_str),
        matched_stop(choice),
        !calls.is_empty(),
    );
    Ok(json!({
        "id": message_id(completion.get("id").and_then(Value::as_str), nonce),
        "type": "message",
        "role": "assistant",
        "model": completion.get("model").and_then(Value::as_str).unwrap_or(""),
        "content": content,
        "stop_reason": reason,
        "stop_sequence": sequence,
        "usage": Usage::from_response(completion).unwrap_or_default().to_json(),
    }))
}

/// `content` as a string, or the text of a part list (some servers answer with parts).
fn message_text(message: &Value) -> String {
    let mut text = match message.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    };
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
        text.push_str(refusal);
    }
    text
}

/// A tool call's `arguments` (a JSON string; some servers send an object,
/// or a string holding a JSON string) as the `input` object.
fn tool_input(arguments: Option<&Value>) -> Value {
    let mut value = arguments.cloned().unwrap_or(Value::Null);
    for _ in 0..2 {
        match value {
            Value::String(text) if text.trim().is_empty() => return json!({}),
            Value::String(text) => match serde_json::from_str(&text) {
                Ok(parsed) => value = parsed,
                Err(_) => {
                    tracing::warn!("a tool call's arguments are not JSON; passed on as {{}}");
                    return json!({});
                }
            },
            _ => break,
        }
    }
    match value {
        Value::Object(map) => Value::Object(map),
        Value::Null => Value::Object(Map::new()),
        other => {
            tracing::warn!(
                "a tool call's arguments are not a JSON object; wrapped as {{\"value\": ...}}"
            );
            json!({"value": other})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_in_every_shape_become_an_object() {
        assert_eq!(tool_input(Some(&json!("{\"a\":1}"))), json!({"a": 1}));
        assert_eq!(tool_input(Some(&json!({"a": 1}))), json!({"a": 1}));
        assert_eq!(
            tool_input(Some(&json!("\"{\\\"a\\\":1}\""))),
            json!({"a": 1})
        );
        assert_eq!(tool_input(Some(&json!(""))), json!({}));
        assert_eq!(tool_input(None), json!({}));
        assert_eq!(tool_input(Some(&json!("{oops"))), json!({}));
        assert_eq!(tool_input(Some(&json!("[1]"))), json!({"value": [1]}));
    }
}
