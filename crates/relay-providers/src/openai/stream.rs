//! A Chat Completions stream (`data: {chunk}` ... `data: [DONE]`) to the
//! Anthropic Messages event stream, translated as each chunk arrives.
//!
//! The output always follows Anthropic's grammar: one `message_start`
//! (then `ping`), content blocks opened, filled and closed one at a time with
//! consecutive indices (reasoning as `thinking`, `text`, each tool call as
//! `tool_use` with its arguments as `input_json_delta`s), then one
//! `message_delta` with the stop reason and usage, and `message_stop`. The
//! `message_delta` waits for `[DONE]` (or the body's end) because Chat
//! servers send usage in a chunk after the one with `finish_reason`. A
//! stream that ends before any `finish_reason` is an error, so a cut
//! upstream ends with an `error` event, never a truncated message that looks
//! complete. An `{"error": ...}` chunk becomes an Anthropic `error` event.

use bytes::Bytes;
use relay_config::ReasoningField;
use relay_core::SseParser;
use serde_json::{Value, json};

use super::errors::stream_error;
use super::ids::{ToolIds, message_id, response_nonce};
use super::response::{Usage, matched_stop, push_event, reasoning_text, stop_reason};
use crate::decoder::{DecodeError, ResponseDecoder};

/// The most one upstream SSE event may hold.
const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Translates a streamed Chat Completions response.
#[derive(Debug)]
pub struct ChatStreamDecoder {
    parser: SseParser,
    state: State,
    /// An error reported on the next call, once the events before it are out.
    failed: Option<DecodeError>,
}

impl ChatStreamDecoder {
    pub fn new(reasoning: ReasoningField) -> Self {
        Self::with_nonce(reasoning, response_nonce())
    }

    /// With a fixed nonce for generated ids, so tests can compare outputs.
    #[doc(hidden)]
    pub fn with_nonce(reasoning: ReasoningField, nonce: String) -> Self {
        Self {
            parser: SseParser::new(MAX_EVENT_BYTES),
            state: State::new(reasoning, nonce),
            failed: None,
        }
    }

    /// Whole events decoded before a failure still go out; the error follows on the next call.
    fn settle(
        &mut self,
        result: Result<(), DecodeError>,
        out: Vec<u8>,
    ) -> Result<Bytes, DecodeError> {
        match result {
            Ok(()) => Ok(Bytes::from(out)),
            Err(err) if out.is_empty() => {
                self.failed = Some(err.clone());
                Err(err)
            }
            Err(err) => {
                self.failed = Some(err);
                Ok(Bytes::from(out))
            }
        }
    }

    fn drain(&mut self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        while let Some(event) = self.parser.next_event() {
            if self.state.ended {
                continue;
            }
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                self.state.end(true, out)?;
                continue;
            }
            let chunk: Value = serde_json::from_str(data).map_err(|err| {
                DecodeError(format!("the upstream sent a chunk that is not JSON: {err}"))
            })?;
            self.state.chunk(&chunk, out);
        }
        Ok(())
    }
}

impl ResponseDecoder for ChatStreamDecoder {
    fn decode(&mut self, chunk: Bytes) -> Result<Bytes, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut out = Vec::new();
        let result = self
            .parser
            .push(&chunk)
            .map_err(|err| DecodeError(err.to_string()))
            .and_then(|()| self.drain(&mut out));
        self.settle(result, out)
    }

    fn finish(&mut self) -> Result<Bytes, DecodeError> {
        if let Some(err) = self.failed.take() {
            return Err(err);
        }
        // An event without its closing blank line is dropped, as SSE requires.
        self.parser.finish();
        let mut out = Vec::new();
        // Events complete before the end were drained by `decode`, so only
        // the final events (or the error of a cut stream) come from here.
        self.drain(&mut out)?;
        self.state.end(false, &mut out)?;
        Ok(Bytes::from(out))
    }
}

/// The block being filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    Thinking,
    Text,
    /// The tool call at this position of `State::calls`.
    Tool(usize),
}

#[derive(Debug)]
struct Call {
    /// The Chat `index` it streams under.
    index: u64,
    upstream_id: Option<String>,
    name: String,
    /// Arguments received before the name (the block cannot start without it).
    held_arguments: String,
    started: bool,
}

#[derive(Debug)]
struct State {
    reasoning: ReasoningField,
    nonce: String,
    ids: ToolIds,
    started: bool,
    ended: bool,
    /// Index of the next content block.
    next_block: usize,
    open: Option<Open>,
    calls: Vec<Call>,
    /// Whitespace-only text not yet sent: dropped if a tool call follows
    /// (Ollama and Qwen send "\n\n" ahead of tool calls), sent if text does.
    held_space: String,
    finish: Option<String>,
    stop_sequence: Option<String>,
    usage: Option<Usage>,
}

impl State {
    fn new(reasoning: ReasoningField, nonce: String) -> Self {
        Self {
            reasoning,
            ids: ToolIds::new(nonce.clone()),
            nonce,
            started: false,
            ended: false,
            next_block: 0,
            open: None,
            calls: Vec::new(),
            held_space: String::new(),
            finish: None,
            stop_sequence: None,
            usage: None,
        }
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            self.close(out);
            out.extend_from_slice(&stream_error(error).to_sse_event());
            self.ended = true;
            return;
        }
        if let Some(usage) = Usage::from_response(chunk) {
            self.usage = Some(usage);
        }
        self.start(chunk, out);
        let Some(choice) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return;
        };
        if let Some(delta) = choice.get("delta") {
            self.delta(delta, out);
        }
        if let Some(finish) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(finish.to_owned());
            self.stop_sequence = matched_stop(choice).map(str::to_owned);
            self.close(out);
        }
    }

    fn start(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let id = message_id(chunk.get("id").and_then(Value::as_str), &self.nonce);
        let model = chunk.get("model").and_then(Value::as_str).unwrap_or("");
        let usage = Usage {
            output: 0,
            ..self.usage.unwrap_or_default()
        };
        let message = json!({
            "type": "message_start",
            "message": {
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage.to_json(),
            },
        });
        push_event(out, "message_start", &message);
        push_event(out, "ping", &json!({"type": "ping"}));
    }

    fn delta(&mut self, delta: &Value, out: &mut Vec<u8>) {
        if let Some(text) = reasoning_text(delta, self.reasoning) {
            let text = text.to_owned();
            self.open_block(Open::Thinking, out);
            let index = self.next_block - 1;
            push_event(
                out,
                "content_block_delta",
                &json!({
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "thinking_delta", "thinking": text},
                }),
            );
        }
        for key in ["content", "refusal"] {
            if let Some(text) = delta.get(key).and_then(Value::as_str) {
                self.text(text, out);
            }
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                self.tool_call(call, out);
            }
        }
    }

    fn text(&mut self, text: &str, out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        if self.open != Some(Open::Text) && text.trim().is_empty() {
            self.held_space.push_str(text);
            return;
        }
        self.open_block(Open::Text, out);
        let text = format!("{}{text}", std::mem::take(&mut self.held_space));
        push_event(
            out,
            "content_block_delta",
            &json!({
                "type": "content_block_delta",
                "index": self.next_block - 1,
                "delta": {"type": "text_delta", "text": text},
            }),
        );
    }

    fn tool_call(&mut self, delta: &Value, out: &mut Vec<u8>) {
        let id = delta
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty());
        let function = delta.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let arguments = function
            .and_then(|f| f.get("arguments"))
            .and_then(Value::as_str)
            .unwrap_or("");
        // Servers that omit `index` send one whole call per delta.
        let index = delta
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or_else(|| match (id, self.calls.last()) {
                (None, Some(last)) => last.index,
                _ => self.calls.len() as u64,
            });
        // A new id under an index already used is a new call (servers that
        // number every call 0); without an id, the delta continues the call.
        let position = self
            .calls
            .iter()
            .rposition(|c| c.index == index)
            .filter(|&p| match (id, &self.calls[p].upstream_id) {
                (Some(new), Some(old)) => new == old,
                _ => true,
            });
        let position = position.unwrap_or_else(|| {
            self.calls.push(Call {
                index,
                upstream_id: id.map(str::to_owned),
                name: String::new(),
                held_arguments: String::new(),
                started: false,
            });
            self.calls.len() - 1
        });
        let call = &mut self.calls[position];
        if call.upstream_id.is_none() {
            call.upstream_id = id.map(str::to_owned);
        }
        if !call.started {
            call.name.push_str(name);
            call.held_arguments.push_str(arguments);
            if !call.name.is_empty() {
                self.start_tool(position, out);
            }
            return;
        }
        if arguments.is_empty() {
            return;
        }
        if self.open != Some(Open::Tool(position)) {
            // Anthropic blocks cannot be reopened; no known server interleaves calls.
            tracing::warn!(
                index,
                "dropped arguments for a tool call whose block was already closed"
            );
            return;
        }
        self.arguments(arguments.to_owned(), out);
    }

    fn start_tool(&mut self, position: usize, out: &mut Vec<u8>) {
        self.held_space.clear();
        self.close(out);
        let call = &mut self.calls[position];
        call.started = true;
        let name = call.name.clone();
        let held = std::mem::take(&mut call.held_arguments);
        let id = self.ids.assign(call.upstream_id.as_deref(), position);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some(Open::Tool(position));
        push_event(
            out,
            "content_block_start",
            &json!({
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}},
            }),
        );
        if !held.is_empty() {
            self.arguments(held, out);
        }
    }

    fn arguments(&mut self, partial: String, out: &mut Vec<u8>) {
        push_event(
            out,
            "content_block_delta",
            &json!({
                "type": "content_block_delta",
                "index": self.next_block - 1,
                "delta": {"type": "input_json_delta", "partial_json": partial},
            }),
        );
    }

    /// Makes `kind` the open block, closing any other first.
    fn open_block(&mut self, kind: Open, out: &mut Vec<u8>) {
        if self.open == Some(kind) {
            return;
        }
        if kind != Open::Text {
            self.held_space.clear();
        }
        self.close(out);
        let block = match kind {
            Open::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
            _ => json!({"type": "text", "text": ""}),
        };
        push_event(
            out,
            "content_block_start",
            &json!({
                "type": "content_block_start",
                "index": self.next_block,
                "content_block": block,
            }),
        );
        self.next_block += 1;
        self.open = Some(kind);
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            push_event(
                out,
                "content_block_stop",
                &json!({
                    "type": "content_block_stop",
                    "index": self.next_block - 1,
                }),
            );
        }
    }

    /// `[DONE]` (`done`) or the body's end: the final `message_delta` and
    /// `message_stop`. A body that ends before any `finish_reason` was cut.
    fn end(&mut self, done: bool, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        if self.ended {
            return Ok(());
        }
        if self.finish.is_none() && !(done && self.started) {
            return Err(DecodeError(
                "the upstream stream ended before the model finished (no finish_reason)".into(),
            ));
        }
        self.ended = true;
        self.close(out);
        let called_tools = self.calls.iter().any(|c| c.started);
        let (reason, sequence) = stop_reason(
            self.finish.as_deref(),
            self.stop_sequence.as_deref(),
            called_tools,
        );
        let usage = self.usage.unwrap_or_default();
        push_event(
            out,
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": sequence},
                "usage": usage.to_json(),
            }),
        );
        push_event(out, "message_stop", &json!({"type": "message_stop"}));
        Ok(())
    }
}
