//! What the streaming and the JSON translation share: usage, stop reasons,
//! reasoning fields, and writing Anthropic SSE events.

use relay_config::ReasoningField;
use serde_json::{Value, json};

/// Anthropic usage from a Chat `usage` object. Chat's `prompt_tokens`
/// include cached tokens; Anthropic's `input_tokens` do not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
}

impl Usage {
    /// From a chunk or completion: `usage`, or Groq's `x_groq.usage`.
    pub(crate) fn from_response(value: &Value) -> Option<Self> {
        let usage = value
            .get("usage")
            .filter(|u| u.is_object())
            .or_else(|| value.get("x_groq").and_then(|x| x.get("usage")))?;
        let count = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
        let prompt = count(usage.get("prompt_tokens"));
        let cached = count(
            usage
                .get("prompt_tokens_details")
                .and_then(|d| d.get("cached_tokens")),
        )
        // DeepSeek's name.
        .max(count(usage.get("prompt_cache_hit_tokens")));
        Some(Self {
            input: prompt.saturating_sub(cached),
            output: count(usage.get("completion_tokens")),
            cache_read: cached,
        })
    }

    pub(crate) fn to_json(self) -> Value {
        json!({
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": self.cache_read,
        })
    }
}

/// Anthropic's `stop_reason` (and `stop_sequence`) for a Chat `finish_reason`.
/// Several servers (Ollama, Gemini, some vLLM parsers) report `stop` for a
/// turn that called tools; a turn with tool calls stops for `tool_use`.
pub(crate) fn stop_reason(
    finish: Option<&str>,
    stop_sequence: Option<&str>,
    called_tools: bool,
) -> (&'static str, Option<String>) {
    match finish {
        Some("length") => ("max_tokens", None),
        Some("content_filter") => ("refusal", None),
        _ if called_tools => ("tool_use", None),
        Some("tool_calls" | "function_call") => ("tool_use", None),
        _ => match stop_sequence {
            Some(sequence) => ("stop_sequence", Some(sequence.to_owned())),
            None => ("end_turn", None),
        },
    }
}

/// vLLM names the stop string that ended the turn in `stop_reason`.
pub(crate) fn matched_stop(choice: &Value) -> Option<&str> {
    choice.get("stop_reason").and_then(Value::as_str)
}

/// The reasoning text in a delta or message, per the configured field.
pub(crate) fn reasoning_text(value: &Value, field: ReasoningField) -> Option<&str> {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    };
    match field {
        ReasoningField::Auto => text("reasoning_content").or_else(|| text("reasoning")),
        ReasoningField::ReasoningContent => text("reasoning_content"),
        ReasoningField::Reasoning => text("reasoning"),
        ReasoningField::None => None,
    }
}

/// Appends one SSE event. Compact JSON never contains a line break, so the
/// data fits one `data:` line.
pub(crate) fn push_event(out: &mut Vec<u8>, name: &str, data: &Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    // Serialising a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, data);
    out.extend_from_slice(b"\n\n");
}
