//! A local estimate of a Messages request's input tokens, for
//! `/v1/messages/count_tokens` on backends that do not count (Bedrock, an
//! OpenAI-style backend, a Z.AI that answers 404). Claude Code calls the
//! endpoint to size its context; a 404 there would otherwise trip breakers
//! and leave it guessing.
//!
//! The tokenizer of current Claude models is not public, so this is a
//! heuristic shaped like a BPE tokenizer: text is cut into runs (letters,
//! digits, spaces, other characters) and each run costs what such runs cost
//! in a byte-pair vocabulary: a word about one token per
//! [`CHARS_PER_WORD_TOKEN`] letters, digits in groups of three, punctuation
//! one token each, non-ASCII letters one each. What is counted: `system`,
//! every message's text, thinking, tool calls and results, tool definitions
//! (name, description, schema as compact JSON) and a fixed cost per message,
//! image and document. docs/providers.md gives how close it comes on the
//! shared Claude Code fixture.

use serde_json::Value;

/// Letters a word token covers on average in a byte-pair vocabulary (English
/// prose averages 4 to 5; identifiers and foreign words fewer).
const CHARS_PER_WORD_TOKEN: usize = 4;
/// Role markers and separators around each message.
const PER_MESSAGE: u64 = 4;
/// Anthropic documents up to about 1,600 tokens for an image at the largest
/// size the API keeps; the size is unknown without decoding it.
const PER_IMAGE: u64 = 1_600;
/// A document (PDF) costs per page; its page count is unknown here.
const PER_DOCUMENT: u64 = 1_500;
/// The system prompt the API adds when tools are present (Anthropic's tool
/// use pricing table lists 346 tokens for `auto` tool choice).
const TOOLS_OVERHEAD: u64 = 346;

/// The estimated `input_tokens` of a `count_tokens` (or Messages) body;
/// `None` when the body is not a JSON object.
pub fn estimate_input_tokens(body: &[u8]) -> Option<u64> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let mut tokens = 0;
    if let Some(system) = object.get("system") {
        tokens += content_tokens(system);
    }
    if let Some(Value::Array(messages)) = object.get("messages") {
        for message in messages {
            tokens += PER_MESSAGE + message.get("content").map_or(0, content_tokens);
        }
    }
    if let Some(Value::Array(tools)) = object.get("tools")
        && !tools.is_empty()
    {
        tokens += TOOLS_OVERHEAD;
        tokens += tools.iter().map(json_tokens).sum::<u64>();
    }
    Some(tokens.max(1))
}

/// A `content` (or `system`): a string or a list of blocks.
fn content_tokens(content: &Value) -> u64 {
    match content {
        Value::String(text) => text_tokens(text),
        Value::Array(blocks) => blocks.iter().map(block_tokens).sum(),
        other => json_tokens(other),
    }
}

fn block_tokens(block: &Value) -> u64 {
    let text = |key: &str| {
        block
            .get(key)
            .and_then(Value::as_str)
            .map_or(0, text_tokens)
    };
    match block.get("type").and_then(Value::as_str) {
        Some("text") => text("text"),
        Some("thinking") => text("thinking"),
        // Opaque to the model's context beyond a marker.
        Some("redacted_thinking") => 1,
        Some("tool_use" | "server_tool_use") => {
            text("name") + block.get("input").map_or(0, json_tokens) + 3
        }
        Some("tool_result") => block.get("content").map_or(0, content_tokens) + 3,
        Some("image") => PER_IMAGE,
        Some("document") => match block.get("source").and_then(|s| s.get("data")) {
            // Plain-text documents are counted as their text.
            Some(Value::String(data)) if block["source"]["type"] == "text" => text_tokens(data),
            _ => PER_DOCUMENT,
        },
        _ => json_tokens(block),
    }
}

/// Structured values (tool schemas, tool inputs) cost what their compact JSON does.
fn json_tokens(value: &Value) -> u64 {
    text_tokens(&value.to_string())
}

/// The heuristic on one text; see the module documentation.
fn text_tokens(text: &str) -> u64 {
    #[derive(PartialEq, Clone, Copy)]
    enum Run {
        None,
        Letters,
        Digits,
        Space,
    }
    let mut tokens = 0u64;
    let mut run = Run::None;
    let mut len = 0usize;
    let close = |run: Run, len: usize| -> u64 {
        match run {
            Run::Letters => len.div_ceil(CHARS_PER_WORD_TOKEN) as u64,
            Run::Digits => len.div_ceil(3) as u64,
            // One space joins the next word; longer runs (indentation) are tokens of their own.
            Run::Space if len > 1 => len.div_ceil(4) as u64,
            Run::Space | Run::None => 0,
        }
    };
    for c in text.chars() {
        let kind = if c.is_ascii_alphabetic() {
            Run::Letters
        } else if c.is_ascii_digit() {
            Run::Digits
        } else if c == ' ' {
            Run::Space
        } else {
            Run::None
        };
        if kind != run {
            tokens += close(run, len);
            run = kind;
            len = 0;
        }
        len += 1;
        if kind == Run::None {
            // Punctuation, newlines and non-ASCII letters: one token each.
            tokens += 1;
        }
    }
    tokens + close(run, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_the_model_sees() {
        let small = estimate_input_tokens(
            br#"{"model":"m","messages":[{"role":"user","content":"Hello, world"}]}"#,
        )
        .unwrap();
        // 4 per message + Hello(2) ,(1) world(2)
        assert_eq!(small, 9);
        let with_system = estimate_input_tokens(
            br#"{"model":"m","system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"Hello, world"}]}"#,
        )
        .unwrap();
        assert!(with_system > small);
        let with_tools = estimate_input_tokens(
            br#"{"model":"m","messages":[],"tools":[{"name":"get_weather","input_schema":{"type":"object"}}]}"#,
        )
        .unwrap();
        assert!(with_tools > TOOLS_OVERHEAD);
        let image = estimate_input_tokens(
            br#"{"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"AAAA"}}]}]}"#,
        )
        .unwrap();
        assert_eq!(image, PER_MESSAGE + PER_IMAGE);
    }

    #[test]
    fn never_zero_and_refuses_non_objects() {
        assert_eq!(estimate_input_tokens(b"{}"), Some(1));
        assert_eq!(estimate_input_tokens(b"[1]"), None);
        assert_eq!(estimate_input_tokens(b"{"), None);
    }

    #[test]
    fn runs_cost_like_bpe_pieces() {
        assert_eq!(text_tokens("internationalization"), 5);
        assert_eq!(text_tokens("2025"), 2);
        assert_eq!(text_tokens("a b"), 2);
        assert_eq!(text_tokens("    x"), 2);
        assert_eq!(text_tokens("日本"), 2);
        assert_eq!(text_tokens(""), 0);
    }
}
