//! Rewriting `messages` without thinking blocks a backend cannot verify.

use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::SignatureId;

/// What [`drop_foreign_thinking`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThinkingRewrite {
    pub body: Bytes,
    /// Thinking and redacted-thinking blocks removed.
    pub dropped: usize,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    role: Option<&'a RawValue>,
    #[serde(borrow)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", default)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    signature: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    data: Option<std::borrow::Cow<'a, str>>,
}

/// Removes, from assistant messages, every thinking block whose signature (and
/// every redacted-thinking block whose data) `keep` rejects, and moves the
/// remaining thinking blocks ahead of other content, as the API requires.
/// Only the changed `content` arrays are rebuilt, from the original bytes of
/// the blocks kept; everything else is copied as it was.
///
/// `messages_span` is the byte range of the top-level `messages` array.
/// Returns `None` when nothing had to change (or the messages are not the
/// expected shape, which the upstream will report better than we could).
pub fn drop_foreign_thinking(
    body: &[u8],
    messages_span: Range<usize>,
    keep: impl Fn(SignatureId) -> bool,
) -> Option<ThinkingRewrite> {
    let messages_text = std::str::from_utf8(body.get(messages_span.clone())?).ok()?;
    let messages: Vec<Message<'_>> = serde_json::from_str(messages_text).ok()?;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut dropped = 0;
    for message in &messages {
        let (Some(role), Some(content)) = (message.role, message.content) else {
            continue;
        };
        // Decoded, not compared raw: `"assist\u0061nt"` is the assistant too,
        // and the API would refuse its foreign blocks (found by fuzzing).
        let is_assistant = serde_json::from_str::<std::borrow::Cow<'_, str>>(role.get())
            .is_ok_and(|role| role == "assistant");
        if !is_assistant || !content.get().starts_with('[') {
            continue;
        }
        let blocks: Vec<&RawValue> = serde_json::from_str(content.get()).ok()?;
        let mut thinking = Vec::new();
        let mut others = Vec::new();
        let mut changed = false;
        for (position, raw) in blocks.iter().enumerate() {
            let block: Block<'_> = serde_json::from_str(raw.get()).ok()?;
            let payload = match block.kind.as_deref() {
                Some("thinking") => Some(block.signature.as_deref().unwrap_or_default()),
                Some("redacted_thinking") => Some(block.data.as_deref().unwrap_or_default()),
                _ => None,
            };
            match payload {
                Some(payload) if !keep(SignatureId::of(payload)) => {
                    dropped += 1;
                    changed = true;
                }
                Some(_) => {
                    changed |= !others.is_empty() || position != thinking.len();
                    thinking.push(raw.get());
                }
                None => others.push(raw.get()),
            }
        }
        if !changed {
            continue;
        }
        let mut kept: Vec<&str> = thinking;
        kept.extend(others);
        // An assistant turn left empty would be refused; a neutral text block keeps it valid.
        let rebuilt = if kept.is_empty() {
            r#"[{"type":"text","text":"(thinking omitted)"}]"#.to_owned()
        } else {
            format!("[{}]", kept.join(","))
        };
        let start =
            content.get().as_ptr().addr() - messages_text.as_ptr().addr() + messages_span.start;
        edits.push((start..start + content.get().len(), rebuilt));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut cursor = 0;
    for (range, replacement) in edits {
        out.extend_from_slice(&body[cursor..range.start]);
        out.extend_from_slice(replacement.as_bytes());
        cursor = range.end;
    }
    out.extend_from_slice(&body[cursor..]);
    Some(ThinkingRewrite {
        body: Bytes::from(out),
        dropped,
    })
}
