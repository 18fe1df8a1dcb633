//! Messages request -> Chat Completions request.
//!
//! Top-level fields map one to one where both APIs have them; `system`
//! becomes the first message; each Anthropic turn becomes one or more Chat
//! messages (a user turn's `tool_result` blocks become `tool` messages, in
//! order, ahead of its other content, because a Chat server wants them right
//! after the assistant message that called the tools). What has no Chat
//! equivalent is either dropped with a debug log, when the answer does not
//! depend on it (`cache_control`, `top_k`, thinking blocks in history), or
//! refused with a [`Refusal`] naming it (documents other than plain text,
//! Anthropic server tools, MCP servers). docs/providers.md lists both.

use relay_config::{OpenAiConfig, ReasoningRequest};
use serde_json::{Map, Value, json};

use super::ids::upstream_tool_id;

/// A request this backend cannot serve as asked; the client is told what and why.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub String);

/// Fields the translation reads; everything else at the top level is dropped.
const DROPPED_TOP_LEVEL: &[&str] = &[
    "top_k",
    "service_tier",
    "context_management",
    "container",
    "inference_geo",
];

/// The Chat Completions body for a Messages body.
pub(crate) fn chat_request(
    request: &Map<String, Value>,
    model: &str,
    options: &OpenAiConfig,
) -> Result<Map<String, Value>, Refusal> {
    let mut out = Map::new();
    out.insert("model".into(), model.into());

    let mut messages = Vec::new();
    if let Some(system) = request.get("system") {
        let text = system_text(system)?;
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    if let Some(turns) = request.get("messages").and_then(Value::as_array) {
        for (i, turn) in turns.iter().enumerate() {
            turn_messages(i, turn, options, &mut messages)?;
        }
    }
    out.insert("messages".into(), Value::Array(messages));

    if let Some(max) = request.get("max_tokens").filter(|v| v.is_number()) {
        out.insert(options.max_tokens_field.as_str().into(), max.clone());
    }
    for key in ["temperature", "top_p"] {
        if let Some(value) = request.get(key).filter(|v| v.is_number()) {
            out.insert(key.into(), value.clone());
        }
    }
    if let Some(stops) = request.get("stop_sequences").and_then(Value::as_array)
        && !stops.is_empty()
    {
        out.insert("stop".into(), Value::Array(stops.clone()));
    }
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), true.into());
        if options.stream_usage {
            out.insert("stream_options".into(), json!({"include_usage": true}));
        }
    }
    if let Some(user) = request
        .get("metadata")
        .and_then(|m| m.get("user_id"))
        .and_then(Value::as_str)
    {
        out.insert("user".into(), user.into());
    }
    tools(request, &mut out)?;
    if options.reasoning == ReasoningRequest::Effort
        && let Some(effort) = request.get("thinking").and_then(reasoning_effort)
    {
        out.insert("reasoning_effort".into(), effort.into());
    }
    if request.contains_key("mcp_servers") {
        return Err(Refusal(
            "`mcp_servers` (MCP connector) runs in Anthropic's API; an OpenAI-compatible backend cannot connect to MCP servers".into(),
        ));
    }
    for key in DROPPED_TOP_LEVEL {
        if request.contains_key(*key) {
            tracing::debug!(field = key, "dropped: no Chat Completions equivalent");
        }
    }
    Ok(out)
}

/// `thinking` -> `reasoning_effort`: Claude Code's "think" (4,000 tokens)
/// asks for low, "think hard" (10,000) medium, "ultrathink" (31,999) high.
fn reasoning_effort(thinking: &Value) -> Option<&'static str> {
    match thinking.get("type").and_then(Value::as_str)? {
        "enabled" => {
            let budget = thinking.get("budget_tokens").and_then(Value::as_u64)?;
            Some(match budget {
                0..4096 => "low",
                4096..16384 => "medium",
                _ => "high",
            })
        }
        "adaptive" => Some("medium"),
        _ => None,
    }
}

fn system_text(system: &Value) -> Result<String, Refusal> {
    match system {
        Value::String(text) => Ok(text.clone()),
        Value::Array(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (i, block) in blocks.iter().enumerate() {
                match block.get("text").and_then(Value::as_str) {
                    Some(text) => parts.push(text),
                    None => {
                        return Err(Refusal(format!(
                            "system[{i}]: only text blocks can be sent as a system message"
                        )));
                    }
                }
            }
            Ok(parts.join("\n\n"))
        }
        Value::Null => Ok(String::new()),
        _ => Err(Refusal(
            "system: must be a string or a list of text blocks".into(),
        )),
    }
}

/// Appends the Chat messages for Anthropic turn `i`.
fn turn_messages(
    i: usize,
    turn: &Value,
    options: &OpenAiConfig,
    out: &mut Vec<Value>,
) -> Result<(), Refusal> {
    let role = turn.get("role").and_then(Value::as_str).unwrap_or("");
    if !matches!(role, "user" | "assistant") {
        return Err(Refusal(format!(
            "messages[{i}].role: `{role}` is neither user nor assistant"
        )));
    }
    let blocks = match turn.get("content") {
        Some(Value::String(text)) => {
            out.push(json!({"role": role, "content": text}));
            return Ok(());
        }
        Some(Value::Array(blocks)) => blocks,
        _ => {
            return Err(Refusal(format!(
                "messages[{i}].content: must be a string or a list of blocks"
            )));
        }
    };
    if role == "assistant" {
        out.push(assistant_message(i, blocks, options)?);
        return Ok(());
    }
    let mut parts = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let at = || format!("messages[{i}].content[{j}]");
        note_cache_control(block);
        match block_type(block) {
            "tool_result" => {
                let (message, images) = tool_message(block, options, &at)?;
                out.push(message);
                parts.extend(images);
            }
            "thinking" | "redacted_thinking" => {
                tracing::debug!(at = %at(), "dropped: thinking in a user turn");
            }
            _ => parts.push(user_part(block, &at)?),
        }
    }
    if let Some(content) = user_content(parts) {
        out.push(json!({"role": "user", "content": content}));
    }
    Ok(())
}

fn block_type(block: &Value) -> &str {
    block.get("type").and_then(Value::as_str).unwrap_or("")
}

fn note_cache_control(block: &Value) {
    if block.get("cache_control").is_some() {
        tracing::debug!("dropped: cache_control (Chat servers cache on their own)");
    }
}

/// Text only: one string (every server takes that); with images, a part list.
fn user_content(parts: Vec<Value>) -> Option<Value> {
    if parts.is_empty() {
        return None;
    }
    if parts.iter().all(|p| p["type"] == "text") {
        let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        return Some(Value::String(texts.join("\n\n")));
    }
    Some(Value::Array(parts))
}

/// A text, image or plain-text document block as a Chat content part.
fn user_part(block: &Value, at: &dyn Fn() -> String) -> Result<Value, Refusal> {
    match block_type(block) {
        "text" => Ok(
            json!({"type": "text", "text": block.get("text").and_then(Value::as_str).unwrap_or("")}),
        ),
        "image" => image_part(block, at),
        "document" => {
            let source = block.get("source");
            let kind = source.and_then(|s| s.get("type")).and_then(Value::as_str);
            match (
                kind,
                source.and_then(|s| s.get("data")).and_then(Value::as_str),
            ) {
                (Some("text"), Some(data)) => Ok(json!({"type": "text", "text": data})),
                _ => Err(Refusal(format!(
                    "{}: `document` blocks other than plain text (PDFs, files) cannot be sent to an OpenAI-compatible backend",
                    at()
                ))),
            }
        }
        other => Err(Refusal(format!(
            "{}: `{other}` blocks cannot be sent to an OpenAI-compatible backend",
            at()
        ))),
    }
}

fn image_part(block: &Value, at: &dyn Fn() -> String) -> Result<Value, Refusal> {
    let source = block.get("source");
    let get = |key: &str| source.and_then(|s| s.get(key)).and_then(Value::as_str);
    let url = match get("type") {
        Some("base64") => match (get("media_type"), get("data")) {
            (Some(media), Some(data)) => format!("data:{media};base64,{data}"),
            _ => {
                return Err(Refusal(format!(
                    "{}: an image needs media_type and data",
                    at()
                )));
            }
        },
        Some("url") => match get("url") {
            Some(url) => url.to_owned(),
            None => return Err(Refusal(format!("{}: an image source needs a url", at()))),
        },
        other => {
            return Err(Refusal(format!(
                "{}: image sources of type `{}` cannot be sent to an OpenAI-compatible backend",
                at(),
                other.unwrap_or("none")
            )));
        }
    };
    Ok(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// A `tool_result` block as a `tool` message, plus the images it returned
/// (a tool message carries text only, so they follow in a user message).
fn tool_message(
    block: &Value,
    options: &OpenAiConfig,
    at: &dyn Fn() -> String,
) -> Result<(Value, Vec<Value>), Refusal> {
    let id = block
        .get("tool_use_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut texts = Vec::new();
    let mut images = Vec::new();
    match block.get("content") {
        Some(Value::String(text)) => texts.push(text.clone()),
        Some(Value::Array(parts)) => {
            for part in parts {
                match block_type(part) {
                    "text" => texts.push(
                        part.get("text")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    ),
                    "image" => images.push(image_part(part, at)?),
                    other => tracing::debug!(at = %at(), kind = other, "dropped: tool result part"),
                }
            }
        }
        _ => {}
    }
    let mut content = texts.join("\n");
    if block.get("is_error").and_then(Value::as_bool) == Some(true) {
        content = format!("Error: {content}");
    }
    let message = json!({
        "role": "tool",
        "tool_call_id": upstream_tool_id(id, options.short_tool_ids),
        "content": content,
    });
    Ok((message, images))
}

fn assistant_message(i: usize, blocks: &[Value], options: &OpenAiConfig) -> Result<Value, Refusal> {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        note_cache_control(block);
        match block_type(block) {
            "text" => texts.push(block.get("text").and_then(Value::as_str).unwrap_or("")),
            "tool_use" => {
                let id = block.get("id").and_then(Value::as_str).unwrap_or("");
                let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                calls.push(json!({
                    "id": upstream_tool_id(id, options.short_tool_ids),
                    "type": "function",
                    "function": {
                        "name": block.get("name").and_then(Value::as_str).unwrap_or(""),
                        "arguments": input.to_string(),
                    },
                }));
            }
            // Signed by another backend: this one could not verify it.
            "thinking" | "redacted_thinking" => {
                tracing::debug!(at = %format!("messages[{i}].content[{j}]"), "dropped: thinking block in history");
            }
            other => {
                return Err(Refusal(format!(
                    "messages[{i}].content[{j}]: `{other}` blocks cannot be sent to an OpenAI-compatible backend"
                )));
            }
        }
    }
    let mut message = Map::new();
    message.insert("role".into(), "assistant".into());
    let text = texts.concat();
    message.insert(
        "content".into(),
        if text.is_empty() && !calls.is_empty() {
            Value::Null
        } else {
            text.into()
        },
    );
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    Ok(Value::Object(message))
}

/// `tools` and `tool_choice`.
fn tools(request: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), Refusal> {
    let Some(list) = request.get("tools").and_then(Value::as_array) else {
        return Ok(());
    };
    let mut functions = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        if let Some(kind) = tool.get("type").and_then(Value::as_str)
            && kind != "custom"
        {
            return Err(Refusal(format!(
                "tools[{i}]: `{kind}` is an Anthropic-defined tool that an OpenAI-compatible backend cannot run or describe; remove it, or route this model to an Anthropic provider"
            )));
        }
        note_cache_control(tool);
        let mut function = Map::new();
        function.insert("name".into(), tool.get("name").cloned().unwrap_or_default());
        if let Some(description) = tool.get("description").filter(|d| d.is_string()) {
            function.insert("description".into(), description.clone());
        }
        function.insert(
            "parameters".into(),
            tool.get("input_schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        );
        functions.push(json!({"type": "function", "function": function}));
    }
    if functions.is_empty() {
        return Ok(());
    }
    out.insert("tools".into(), Value::Array(functions));
    let Some(choice) = request.get("tool_choice") else {
        return Ok(());
    };
    let mapped = match choice.get("type").and_then(Value::as_str) {
        Some("auto") => json!("auto"),
        Some("any") => json!("required"),
        Some("none") => json!("none"),
        Some("tool") => json!({
            "type": "function",
            "function": {"name": choice.get("name").cloned().unwrap_or_default()},
        }),
        _ => {
            return Err(Refusal(
                "tool_choice: type must be auto, any, tool or none".into(),
            ));
        }
    };
    out.insert("tool_choice".into(), mapped);
    if choice
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        == Some(true)
    {
        out.insert("parallel_tool_calls".into(), false.into());
    }
    Ok(())
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
