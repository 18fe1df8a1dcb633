//! A checker for the Anthropic Messages event-stream grammar, for tests of
//! anything that produces such a stream (translating providers, decoders).
//!
//! [`check_anthropic_stream`] enforces what Claude Code's and the SDKs'
//! stream state machines rely on, and accumulates the final message the way
//! the SDK's `get_final_message()` does:
//!
//! - every event's name equals its data's `type`, and the data is JSON;
//! - exactly one `message_start`, first, with `content: []` and a `usage`
//!   holding `input_tokens` and `output_tokens`;
//! - content blocks are started, filled and stopped one at a time, with
//!   indices 0, 1, 2, ...; every delta names the open block and fits its type
//!   (`text_delta` a text block, `thinking_delta`/`signature_delta` a
//!   thinking block, `input_json_delta` a tool_use block);
//! - a text block ends up non-empty and not only whitespace (the API refuses
//!   such blocks when the client sends the message back);
//! - a tool_use block has a unique id of `[A-Za-z0-9_-]` and its partial JSON
//!   adds up to an object;
//! - one `message_delta` after the last block, with a known `stop_reason`
//!   (`tool_use` exactly when the message has tool_use blocks, unless it
//!   ran out of tokens) and `usage.output_tokens`; then `message_stop`, last;
//! - `ping` anywhere after `message_start`; `error` only as the last event.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

/// How a well-formed stream ended.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamOutcome {
    /// The message as accumulated (content with parsed tool inputs,
    /// `stop_reason`, `usage` merged from `message_start` and `message_delta`).
    pub message: Value,
    /// The `error` event's data, when the stream ended with one.
    pub error: Option<Value>,
}

const STOP_REASONS: &[&str] = &[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
];

/// Checks `(event, data)` pairs (see [`crate::parse_sse`]) against the grammar.
pub fn check_anthropic_stream(events: &[(String, String)]) -> Result<StreamOutcome, String> {
    let mut checker = Checker::default();
    for (i, (name, data)) in events.iter().enumerate() {
        if checker.error.is_some() {
            return Err(format!("event {i} ({name}) follows an error event"));
        }
        checker
            .event(name, data)
            .map_err(|why| format!("event {i} ({name}): {why}\n  data: {data}"))?;
    }
    checker.finish()
}

#[derive(Default)]
struct Checker {
    message: Option<Map<String, Value>>,
    content: Vec<Value>,
    /// The open block's index and its partial JSON (tool_use).
    open: Option<(usize, String)>,
    delta_seen: bool,
    stopped: bool,
    error: Option<Value>,
    tool_ids: HashSet<String>,
}

impl Checker {
    fn event(&mut self, name: &str, data: &str) -> Result<(), String> {
        let value: Value =
            serde_json::from_str(data).map_err(|e| format!("data is not JSON: {e}"))?;
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != name {
            return Err(format!("data.type is {kind:?}"));
        }
        if self.stopped {
            return Err("after message_stop".into());
        }
        if name == "error" {
            if value
                .pointer("/error/type")
                .and_then(Value::as_str)
                .is_none()
            {
                return Err("an error event without error.type".into());
            }
            self.error = Some(value);
            return Ok(());
        }
        if name != "message_start" && self.message.is_none() {
            return Err("before message_start".into());
        }
        match name {
            "message_start" => self.message_start(&value),
            "ping" => Ok(()),
            "content_block_start" => self.block_start(&value),
            "content_block_delta" => self.block_delta(&value),
            "content_block_stop" => self.block_stop(&value),
            "message_delta" => self.message_delta(&value),
            "message_stop" => {
                if !self.delta_seen {
                    return Err("message_stop without message_delta".into());
                }
                self.stopped = true;
                Ok(())
            }
            other => Err(format!("unknown event {other:?}")),
        }
    }

    fn message_start(&mut self, value: &Value) -> Result<(), String> {
        if self.message.is_some() {
            return Err("a second message_start".into());
        }
        let message = value
            .get("message")
            .and_then(Value::as_object)
            .ok_or("no message")?;
        for (key, want) in [("type", "message"), ("role", "assistant")] {
            if message.get(key).and_then(Value::as_str) != Some(want) {
                return Err(format!("message.{key} is not {want:?}"));
            }
        }
        if message
            .get("id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err("message.id is missing".into());
        }
        if message.get("content") != Some(&json!([])) {
            return Err("message.content is not []".into());
        }
        let usage = message.get("usage").ok_or("message.usage is missing")?;
        for key in ["input_tokens", "output_tokens"] {
            if !usage.get(key).is_some_and(Value::is_u64) {
                return Err(format!("message.usage.{key} is not a count"));
            }
        }
        self.message = Some(message.clone());
        Ok(())
    }

    fn block_start(&mut self, value: &Value) -> Result<(), String> {
        if let Some((open, _)) = self.open {
            return Err(format!("block {open} is still open"));
        }
        if self.delta_seen {
            return Err("after message_delta".into());
        }
        let index = index_of(value)?;
        if index != self.content.len() {
            return Err(format!("index {index}, expected {}", self.content.len()));
        }
        let block = value.get("content_block").ok_or("no content_block")?;
        match block.get("type").and_then(Value::as_str) {
            Some("text") | Some("thinking") | Some("redacted_thinking") => {}
            Some("tool_use") => {
                let id = block.get("id").and_then(Value::as_str).unwrap_or("");
                let valid = !id.is_empty()
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return Err(format!("tool_use id {id:?} is not [A-Za-z0-9_-]+"));
                }
                if !self.tool_ids.insert(id.to_owned()) {
                    return Err(format!("tool_use id {id:?} is used twice"));
                }
                if block
                    .get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err("tool_use without a name".into());
                }
            }
            other => return Err(format!("unknown block type {other:?}")),
        }
        self.content.push(block.clone());
        self.open = Some((index, String::new()));
        Ok(())
    }

    fn block_delta(&mut self, value: &Value) -> Result<(), String> {
        let index = index_of(value)?;
        let Some((open, json)) = self.open.as_mut() else {
            return Err(format!("delta for block {index}, but no block is open"));
        };
        if *open != index {
            return Err(format!("delta for block {index}, but block {open} is open"));
        }
        let block = &mut self.content[index];
        let block_type = block["type"].as_str().unwrap_or("").to_owned();
        let delta = value.get("delta").ok_or("no delta")?;
        let append = |block: &mut Value, key: &str, piece: Option<&str>| -> Result<(), String> {
            let piece = piece.ok_or_else(|| format!("delta without {key}"))?;
            let current = block[key].as_str().unwrap_or("").to_owned();
            block[key] = Value::String(current + piece);
            Ok(())
        };
        let str_of = |key: &str| delta.get(key).and_then(Value::as_str);
        match (
            delta.get("type").and_then(Value::as_str),
            block_type.as_str(),
        ) {
            (Some("text_delta"), "text") => append(block, "text", str_of("text")),
            (Some("thinking_delta"), "thinking") => append(block, "thinking", str_of("thinking")),
            (Some("signature_delta"), "thinking") => {
                append(block, "signature", str_of("signature"))
            }
            (Some("input_json_delta"), "tool_use") => {
                json.push_str(str_of("partial_json").ok_or("delta without partial_json")?);
                Ok(())
            }
            (Some("citations_delta"), "text") => Ok(()),
            (kind, block) => Err(format!("a {kind:?} delta in a {block:?} block")),
        }
    }

    fn block_stop(&mut self, value: &Value) -> Result<(), String> {
        let index = index_of(value)?;
        let Some((open, json)) = self.open.take() else {
            return Err(format!("stop for block {index}, but no block is open"));
        };
        if open != index {
            return Err(format!("stop for block {index}, but block {open} is open"));
        }
        let block = &mut self.content[index];
        match block["type"].as_str() {
            Some("tool_use") => {
                let input = if json.trim().is_empty() {
                    block.get("input").cloned().unwrap_or_else(|| json!({}))
                } else {
                    serde_json::from_str::<Value>(&json)
                        .map_err(|e| format!("tool input {json:?} is not JSON: {e}"))?
                };
                if !input.is_object() {
                    return Err(format!("tool input {input} is not an object"));
                }
                block["input"] = input;
            }
            Some("text") if block["text"].as_str().unwrap_or("").trim().is_empty() => {
                return Err("a text block that is empty or only whitespace".into());
            }
            _ => {}
        }
        Ok(())
    }

    fn message_delta(&mut self, value: &Value) -> Result<(), String> {
        if let Some((open, _)) = self.open {
            return Err(format!("block {open} is still open"));
        }
        if self.delta_seen {
            return Err("a second message_delta".into());
        }
        self.delta_seen = true;
        let reason = value
            .pointer("/delta/stop_reason")
            .and_then(Value::as_str)
            .ok_or("no delta.stop_reason")?;
        if !STOP_REASONS.contains(&reason) {
            return Err(format!("unknown stop_reason {reason:?}"));
        }
        let has_tools = self.content.iter().any(|b| b["type"] == "tool_use");
        if reason == "tool_use" && !has_tools {
            return Err("stop_reason tool_use without a tool_use block".into());
        }
        if has_tools && !matches!(reason, "tool_use" | "max_tokens") {
            return Err(format!(
                "the message calls tools but stop_reason is {reason:?}: the client would not run them"
            ));
        }
        let usage = value.get("usage").ok_or("no usage")?;
        if !usage.get("output_tokens").is_some_and(Value::is_u64) {
            return Err("usage.output_tokens is not a count".into());
        }
        let message = self.message.as_mut().ok_or("no message")?;
        message.insert("stop_reason".into(), reason.into());
        message.insert(
            "stop_sequence".into(),
            value
                .pointer("/delta/stop_sequence")
                .cloned()
                .unwrap_or(Value::Null),
        );
        if let (Some(Value::Object(total)), Value::Object(delta)) =
            (message.get_mut("usage"), usage)
        {
            for (key, count) in delta {
                if !count.is_null() {
                    total.insert(key.clone(), count.clone());
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<StreamOutcome, String> {
        let Some(mut message) = self.message else {
            return match self.error {
                Some(error) => Ok(StreamOutcome {
                    message: Value::Null,
                    error: Some(error),
                }),
                None => Err("no message_start".into()),
            };
        };
        if self.error.is_none() && !self.stopped {
            return Err("the stream ended without message_stop or error".into());
        }
        message.insert("content".into(), Value::Array(self.content));
        Ok(StreamOutcome {
            message: Value::Object(message),
            error: self.error,
        })
    }
}

fn index_of(value: &Value) -> Result<usize, String> {
    value
        .get("index")
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| "no index".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, data: Value) -> (String, String) {
        (name.to_owned(), data.to_string())
    }

    fn start() -> (String, String) {
        ev(
            "message_start",
            json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"usage":{"input_tokens":3,"output_tokens":0}}}),
        )
    }

    fn end(reason: &str) -> Vec<(String, String)> {
        vec![
            ev(
                "message_delta",
                json!({"type":"message_delta","delta":{"stop_reason":reason},"usage":{"output_tokens":5}}),
            ),
            ev("message_stop", json!({"type":"message_stop"})),
        ]
    }

    #[test]
    fn a_good_stream_accumulates_its_message() {
        let mut events = vec![
            start(),
            ev(
                "content_block_start",
                json!({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"f","input":{}}}),
            ),
            ev(
                "content_block_delta",
                json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}),
            ),
            ev(
                "content_block_delta",
                json!({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"1}"}}),
            ),
            ev(
                "content_block_stop",
                json!({"type":"content_block_stop","index":0}),
            ),
        ];
        events.extend(end("tool_use"));
        let outcome = check_anthropic_stream(&events).unwrap();
        assert_eq!(outcome.message["content"][0]["input"], json!({"a": 1}));
        assert_eq!(outcome.message["usage"]["output_tokens"], 5);
        assert_eq!(outcome.message["stop_reason"], "tool_use");
    }

    #[test]
    fn the_known_broken_shapes_are_rejected() {
        let text_start = ev(
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        );
        let thinking_in_text = ev(
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}),
        );
        let orphan_delta = ev(
            "content_block_delta",
            json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"x"}}),
        );
        let cases: Vec<(Vec<(String, String)>, &str)> = vec![
            (vec![start(), start()], "second message_start"),
            (
                vec![start(), text_start.clone(), thinking_in_text],
                "thinking_delta",
            ),
            (vec![start(), orphan_delta], "no block is open"),
            (
                vec![
                    start(),
                    text_start,
                    ev(
                        "content_block_stop",
                        json!({"type":"content_block_stop","index":0}),
                    ),
                ],
                "empty or only whitespace",
            ),
            (
                [vec![start()], end("tool_use")].concat(),
                "without a tool_use block",
            ),
            (vec![start()], "without message_stop"),
        ];
        for (events, want) in cases {
            let err = check_anthropic_stream(&events).unwrap_err();
            assert!(err.contains(want), "{err} should mention {want}");
        }
    }
}
