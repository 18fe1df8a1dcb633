//! OpenAI Chat Completions replies for the mock upstream: [`ChatReply`]
//! builds one (streamed as `data: {chunk}` events ending in `data: [DONE]`,
//! or as one `chat.completion` document), and [`MockReply::chat_auto`]
//! answers any Chat request like a small tool-using model would.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::MockReply;

#[derive(Clone, Debug)]
enum Part {
    Reasoning {
        field: String,
        text: String,
    },
    Text(String),
    Tool {
        id: String,
        name: String,
        arguments: String,
    },
}

/// One Chat Completions answer, built part by part.
#[derive(Clone, Debug)]
pub struct ChatReply {
    id: String,
    model: String,
    parts: Vec<Part>,
    finish: Option<String>,
    usage: (u64, u64, u64),
}

impl ChatReply {
    pub fn new(model: &str) -> Self {
        Self {
            id: "chatcmpl-mock0123456789abcdef".to_owned(),
            model: model.to_owned(),
            parts: Vec::new(),
            finish: None,
            usage: (10, 5, 0),
        }
    }

    /// Reasoning text in `field` (`reasoning_content` or `reasoning`), one chunk per word.
    pub fn reasoning(mut self, field: &str, text: &str) -> Self {
        self.parts.push(Part::Reasoning {
            field: field.to_owned(),
            text: text.to_owned(),
        });
        self
    }

    /// Answer text, one chunk per word.
    pub fn text(mut self, text: &str) -> Self {
        self.parts.push(Part::Text(text.to_owned()));
        self
    }

    /// A tool call; streamed, its arguments arrive in three pieces.
    pub fn tool_call(mut self, id: &str, name: &str, arguments: &Value) -> Self {
        self.parts.push(Part::Tool {
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_string(),
        });
        self
    }

    /// The `finish_reason`; unset: `tool_calls` with tool calls, else `stop`.
    pub fn finish(mut self, reason: &str) -> Self {
        self.finish = Some(reason.to_owned());
        self
    }

    /// `prompt_tokens`, `completion_tokens` and `prompt_tokens_details.cached_tokens`.
    pub fn usage(mut self, prompt: u64, completion: u64, cached: u64) -> Self {
        self.usage = (prompt, completion, cached);
        self
    }

    fn finish_reason(&self) -> String {
        self.finish.clone().unwrap_or_else(|| {
            let tools = self.parts.iter().any(|p| matches!(p, Part::Tool { .. }));
            if tools { "tool_calls" } else { "stop" }.to_owned()
        })
    }

    fn usage_json(&self) -> Value {
        let (prompt, completion, cached) = self.usage;
        json!({
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        })
    }

    fn chunk(&self, delta: Value, finish: Option<String>) -> Bytes {
        let chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": 1_745_000_000,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        Bytes::from(format!("data: {chunk}\n\n"))
    }

    /// The streamed body, one chunk per element (with `include_usage`'s usage chunk).
    pub fn chunks(&self) -> Vec<Bytes> {
        let mut out = vec![self.chunk(json!({"role": "assistant", "content": ""}), None)];
        let mut tool_index = 0;
        for part in &self.parts {
            match part {
                Part::Reasoning { field, text } => {
                    for word in words(text) {
                        out.push(self.chunk(json!({ field.as_str(): word }), None));
                    }
                }
                Part::Text(text) => {
                    for word in words(text) {
                        out.push(self.chunk(json!({"content": word}), None));
                    }
                }
                Part::Tool {
                    id,
                    name,
                    arguments,
                } => {
                    out.push(self.chunk(
                        json!({"tool_calls": [{"index": tool_index, "id": id, "type": "function",
                                               "function": {"name": name, "arguments": ""}}]}),
                        None,
                    ));
                    for piece in thirds(arguments) {
                        out.push(self.chunk(
                            json!({"tool_calls": [{"index": tool_index, "function": {"arguments": piece}}]}),
                            None,
                        ));
                    }
                    tool_index += 1;
                }
            }
        }
        out.push(self.chunk(json!({}), Some(self.finish_reason())));
        let usage = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": 1_745_000_000,
            "model": self.model, "choices": [], "usage": self.usage_json(),
        });
        out.push(Bytes::from(format!("data: {usage}\n\n")));
        out.push(Bytes::from_static(b"data: [DONE]\n\n"));
        out
    }

    /// The non-streaming `chat.completion` document.
    pub fn completion(&self) -> Value {
        let mut message = json!({"role": "assistant", "content": null});
        let mut text = String::new();
        let mut calls = Vec::new();
        for part in &self.parts {
            match part {
                Part::Reasoning { field, text } => message[field.as_str()] = json!(text),
                Part::Text(t) => text.push_str(t),
                Part::Tool { id, name, arguments } => calls.push(json!({
                    "id": id, "type": "function", "function": {"name": name, "arguments": arguments},
                })),
            }
        }
        if !text.is_empty() {
            message["content"] = json!(text);
        }
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        json!({
            "id": self.id, "object": "chat.completion", "created": 1_745_000_000, "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": self.finish_reason()}],
            "usage": self.usage_json(),
        })
    }

    /// As a streamed mock reply.
    pub fn stream(&self) -> MockReply {
        MockReply::sse_raw(self.chunks())
    }

    /// As a JSON mock reply.
    pub fn json(&self) -> MockReply {
        MockReply::json(200, self.completion())
    }
}

/// Words with their following space, so they add up to the text.
fn words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

fn thirds(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let step = chars.len().div_ceil(3).max(1);
    chars.chunks(step).map(|c| c.iter().collect()).collect()
}

/// The answer of [`MockReply::chat_auto`] to a Chat request body: a call to
/// `tool` when the request offers it and no tool result came back yet;
/// after a tool result, text quoting it; otherwise a short text.
pub(crate) fn auto_reply(body: &[u8], tool: Option<&(String, Value)>) -> (ChatReply, bool) {
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let model = request["model"].as_str().unwrap_or("mock-model");
    let stream = request["stream"].as_bool() == Some(true);
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let tool_result = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str().map(str::to_owned));
    let offered = |name: &str| {
        request["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["function"]["name"] == name))
    };
    let reply = ChatReply::new(model);
    let reply = match (tool_result, tool) {
        (Some(result), _) => reply.text(&format!("The tool said: {result}")),
        (None, Some((name, input))) if offered(name) => reply
            .reasoning("reasoning_content", "I need the tool.")
            .tool_call("call_mock0123456789abcdefgh", name, input),
        _ => reply.text("OK from the mock."),
    };
    (reply, stream)
}
