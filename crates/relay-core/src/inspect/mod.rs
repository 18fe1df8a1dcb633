//! Reading the few fields the relay needs from a `/v1/messages` body, and
//! replacing the model without re-encoding anything else.
//!
//! Bodies reach tens of megabytes and the relay reads six top-level values,
//! so it does not parse the rest: a structural scan locates the values
//! ([`scan`] for the top level; [`skip`] for nested arrays and objects, 64
//! bytes at a time from SIMD bit masks, with `memchr` through long texts),
//! about five times as fast as serde_json reading the whole document.
//!
//! What is checked, and how far:
//!
//! - The top level, strictly: one object, keys that are valid JSON strings,
//!   colons, commas, well-formed scalars, nothing after the closing brace.
//! - The values the relay decodes (`model`, `stream`, `metadata`,
//!   `thinking`, `max_tokens`), in full by serde_json, UTF-8 included.
//! - Every other value (`messages`, `system`, `tools`, ...), for structure
//!   only: brackets matched by kind at any depth, strings closed, no
//!   backslash outside a string. So a truncated or structurally broken body
//!   is still refused and nothing half-received is forwarded.
//! - Not checked inside those values: escape sequences, UTF-8, control
//!   characters, scalars, and the commas, colons and keys of nested objects
//!   and arrays. Seeing them means looking at every byte of every text, which
//!   on bodies of tens of megabytes is most of the cost; the upstream parses
//!   the body anyway and refuses it, and the relay reads nothing from there.
//!
//! When the scan refuses a body, serde_json reads it again ([`strict`]) and
//! its answer is the one given: the error messages, with line and column, are
//! those clients always got. That reading is also the reference the scan is
//! tested against: whatever serde_json accepts, the scan accepts with the
//! same summary.

mod classify;
mod decode;
mod edit;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
mod scan;
mod skip;
mod strict;

#[cfg(test)]
mod scan_props;
#[cfg(test)]
mod scan_tests;
#[cfg(test)]
mod tests;

use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use decode::summarize;

pub use edit::{
    remove_top_level_fields, replace_top_level_value, restore_message_start_model,
    restore_response_model, restore_stream_model, top_level_value,
};
pub use error::InspectError;

/// What the relay needs to know about a Messages request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSummary {
    pub model: String,
    /// Byte range of the model's JSON string literal (including its quotes) in the body.
    pub model_span: Range<usize>,
    /// Top-level `"stream": true`; false when absent or null.
    pub stream: bool,
    /// Top-level `"metadata": {"user_id": "..."}`, when that is a string.
    pub metadata_user_id: Option<String>,
    /// A top-level `thinking` that is neither null nor `{"type": "disabled"}`.
    pub has_thinking: bool,
    /// Top-level `max_tokens`, when a non-negative integer: the output budget
    /// rate limiters reserve before the real usage is known.
    pub max_tokens: Option<u64>,
    /// Byte range of the top-level `messages` value, when present.
    pub messages_span: Option<Range<usize>>,
}

/// Checks `body` and extracts the [`RequestSummary`]; see the module
/// documentation for what is checked.
///
/// Duplicate top-level keys resolve to the last one, as in `serde_json`.
///
/// # Errors
///
/// An [`InspectError`] naming the first problem found; it converts into the
/// 400 response Anthropic would give.
pub fn inspect_request(body: &[u8]) -> Result<RequestSummary, InspectError> {
    match fast(body) {
        Some(summary) => Ok(summary),
        None => reference(body),
    }
}

/// The summary from the structural scan; `None` for any problem, whose
/// description is left to [`reference`].
pub(crate) fn fast(body: &[u8]) -> Option<RequestSummary> {
    let spans = scan::top_level_spans(body).ok()?;
    summarize(body, &spans).ok()
}

/// The summary when serde_json validates the whole document, else its error.
pub(crate) fn reference(body: &[u8]) -> Result<RequestSummary, InspectError> {
    strict::top_level_spans(body).and_then(|spans| summarize(body, &spans))
}

/// A copy of `body` with the model literal replaced by `new_model`,
/// JSON-encoded; every other byte is identical.
///
/// `summary` must come from [`inspect_request`] on this same body. If its
/// span does not even fit the body, the body is returned unchanged rather
/// than a corrupted one.
pub fn rewrite_model(body: &[u8], summary: &RequestSummary, new_model: &str) -> Bytes {
    let span = &summary.model_span;
    if body.get(span.clone()).is_none() {
        return Bytes::copy_from_slice(body);
    }
    let (before, after) = (&body[..span.start], &body[span.end..]);
    // `Value`'s `Display` is serde_json's own string escaping, without a
    // `Result` that could only ever be `Ok`.
    let literal = Value::from(new_model).to_string();
    let mut out = Vec::with_capacity(before.len() + literal.len() + after.len());
    out.extend_from_slice(before);
    out.extend_from_slice(literal.as_bytes());
    out.extend_from_slice(after);
    Bytes::from(out)
}

/// The top-level keys the relay reads; the rest are skipped unread.
/// Keys are compared after unescaping, so `"mod\u0065l"` is `model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Model,
    Stream,
    Metadata,
    Thinking,
    MaxTokens,
    Messages,
    #[serde(other)]
    Other,
}

impl Field {
    /// The field named by an unescaped key.
    fn of(key: &[u8]) -> Self {
        match key {
            b"model" => Self::Model,
            b"stream" => Self::Stream,
            b"metadata" => Self::Metadata,
            b"thinking" => Self::Thinking,
            b"max_tokens" => Self::MaxTokens,
            b"messages" => Self::Messages,
            _ => Self::Other,
        }
    }
}

/// Where the top-level values of interest are in the body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Spans {
    model: Option<Range<usize>>,
    stream: Option<Range<usize>>,
    metadata: Option<Range<usize>>,
    thinking: Option<Range<usize>>,
    max_tokens: Option<Range<usize>>,
    messages: Option<Range<usize>>,
}

impl Spans {
    fn slot(&mut self, field: Field) -> Option<&mut Option<Range<usize>>> {
        match field {
            Field::Model => Some(&mut self.model),
            Field::Stream => Some(&mut self.stream),
            Field::Metadata => Some(&mut self.metadata),
            Field::Thinking => Some(&mut self.thinking),
            Field::MaxTokens => Some(&mut self.max_tokens),
            Field::Messages => Some(&mut self.messages),
            Field::Other => None,
        }
    }
}
