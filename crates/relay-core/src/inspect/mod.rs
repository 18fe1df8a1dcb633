//! Reading the few fields the relay needs from a `/v1/messages` body, and
//! replacing the model without re-encoding anything else.
//!
//! Bodies reach tens of megabytes, so the document is validated in a single
//! pass and only the top-level values of interest are decoded; everything
//! else is skipped without building a tree. Those values are borrowed as
//! [`RawValue`]s, which are slices of the body: their position in it is the
//! byte span of the model literal, which is what makes the rewrite exact.

mod error;
pub(crate) mod fuzz;

#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

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

/// Validates `body` as JSON and extracts the [`RequestSummary`].
///
/// Duplicate top-level keys resolve to the last one, as in `serde_json`.
///
/// # Errors
///
/// An [`InspectError`] naming the first problem found; it converts into the
/// 400 response Anthropic would give.
pub fn inspect_request(body: &[u8]) -> Result<RequestSummary, InspectError> {
    let fields = top_level_fields(body)?;
    let (model, model_span) = decode_model(body, fields.model)?;
    Ok(RequestSummary {
        model,
        model_span,
        stream: decode_stream(fields.stream)?,
        metadata_user_id: fields.metadata.and_then(metadata_user_id),
        has_thinking: fields.thinking.is_some_and(thinking_enabled),
        max_tokens: fields.max_tokens.and_then(|raw| raw.get().parse().ok()),
        messages_span: fields.messages.and_then(|raw| span_in(body, raw.get())),
    })
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

/// Validates the whole document and borrows the top-level values of interest.
fn top_level_fields(body: &[u8]) -> Result<TopLevelFields<'_>, InspectError> {
    let not_json = |err: serde_json::Error| InspectError::NotJson(err.to_string());
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let fields = deserializer
        .deserialize_any(TopLevelVisitor)
        .map_err(not_json)?;
    deserializer.end().map_err(not_json)?;
    fields.ok_or(InspectError::NotAnObject)
}

fn decode_model(
    body: &[u8],
    raw: Option<&RawValue>,
) -> Result<(String, Range<usize>), InspectError> {
    let literal = raw.ok_or(InspectError::MissingModel)?.get();
    if !literal.starts_with('"') {
        return Err(InspectError::ModelNotString);
    }
    let model: String = serde_json::from_str(literal).map_err(|_| InspectError::ModelNotString)?;
    if model.is_empty() {
        return Err(InspectError::EmptyModel);
    }
    let span = span_in(body, literal).ok_or_else(|| {
        // Unreachable: a RawValue deserialised from a slice borrows from it.
        InspectError::NotJson("the model value could not be located in the body".into())
    })?;
    Ok((model, span))
}

/// `null` counts as absent: refusing it would break requests the API accepts.
fn decode_stream(raw: Option<&RawValue>) -> Result<bool, InspectError> {
    match raw.map(RawValue::get) {
        None | Some("null" | "false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(InspectError::InvalidField {
            field: "stream",
            expected: "boolean",
        }),
    }
}

/// Lenient on purpose: a malformed `metadata` is for the upstream to refuse,
/// and the relay has no use for a user id that is not a string.
fn metadata_user_id(raw: &RawValue) -> Option<String> {
    match serde_json::from_str::<Value>(raw.get()).ok()? {
        Value::Object(mut metadata) => match metadata.remove("user_id")? {
            Value::String(user_id) => Some(user_id),
            _ => None,
        },
        _ => None,
    }
}

/// `{"type": "disabled"}` is the API's explicit "no thinking"; any other
/// non-null value (`enabled`, or a type added later) is taken as thinking.
fn thinking_enabled(raw: &RawValue) -> bool {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::Null) => false,
        Ok(thinking) => thinking.get("type").and_then(Value::as_str) != Some("disabled"),
        // Unreachable: the document was validated as a whole.
        Err(_) => true,
    }
}

/// Where `part`, a slice of `body`, sits in it.
fn span_in(body: &[u8], part: &str) -> Option<Range<usize>> {
    let start = part.as_ptr().addr().checked_sub(body.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    (end <= body.len()).then_some(start..end)
}

/// The top-level keys the relay reads; the rest are skipped unread.
/// Keys are compared after unescaping, so `"mod\u0065l"` is `model`.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TopLevelKey {
    Model,
    Stream,
    Metadata,
    Thinking,
    MaxTokens,
    Messages,
    #[serde(other)]
    Other,
}

#[derive(Default)]
struct TopLevelFields<'a> {
    model: Option<&'a RawValue>,
    stream: Option<&'a RawValue>,
    metadata: Option<&'a RawValue>,
    thinking: Option<&'a RawValue>,
    max_tokens: Option<&'a RawValue>,
    messages: Option<&'a RawValue>,
}

/// Accepts any JSON document so that a valid non-object is told apart from
/// invalid JSON: it gives `None` for anything but an object.
struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = Option<TopLevelFields<'de>>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = TopLevelFields::default();
        while let Some(key) = map.next_key()? {
            let slot = match key {
                TopLevelKey::Model => &mut fields.model,
                TopLevelKey::Stream => &mut fields.stream,
                TopLevelKey::Metadata => &mut fields.metadata,
                TopLevelKey::Thinking => &mut fields.thinking,
                TopLevelKey::MaxTokens => &mut fields.max_tokens,
                TopLevelKey::Messages => &mut fields.messages,
                TopLevelKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(Some(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Drained so the rest of the document is still validated.
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}
