//! Decoding the top-level values the relay reads, once located.
//!
//! Each is checked in full, UTF-8 included, since the scan that located it
//! checked its structure only: a value that is not valid JSON is an error,
//! which sends the body to serde_json's full reading for its message.

use std::fmt;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{InspectError, RequestSummary, Spans};

/// Decodes the values at `spans` in `body`.
pub(super) fn summarize(body: &[u8], spans: &Spans) -> Result<RequestSummary, InspectError> {
    let value = |span: &Option<Range<usize>>| match span {
        None => Ok(None),
        Some(span) => body.get(span.clone()).map(Some).ok_or_else(|| {
            InspectError::NotJson("a value could not be located in the body".into())
        }),
    };
    let model_span = spans.model.clone().ok_or(InspectError::MissingModel)?;
    let model = decode_model(value(&spans.model)?.unwrap_or_default())?;
    Ok(RequestSummary {
        model,
        model_span,
        stream: decode_stream(value(&spans.stream)?)?,
        metadata_user_id: value(&spans.metadata)?.map_or(Ok(None), metadata_user_id)?,
        has_thinking: value(&spans.thinking)?.map_or(Ok(false), thinking_enabled)?,
        max_tokens: value(&spans.max_tokens)?.map_or(Ok(None), max_tokens)?,
        messages_span: spans.messages.clone(),
    })
}

fn decode_model(literal: &[u8]) -> Result<String, InspectError> {
    if literal.first() != Some(&b'"') {
        return Err(InspectError::ModelNotString);
    }
    let model: String =
        serde_json::from_slice(literal).map_err(|_| InspectError::ModelNotString)?;
    if model.is_empty() {
        return Err(InspectError::EmptyModel);
    }
    Ok(model)
}

/// `null` counts as absent: refusing it would break requests the API accepts.
fn decode_stream(raw: Option<&[u8]>) -> Result<bool, InspectError> {
    match raw {
        None | Some(b"null" | b"false") => Ok(false),
        Some(b"true") => Ok(true),
        Some(_) => Err(InspectError::InvalidField {
            field: "stream",
            expected: "boolean",
        }),
    }
}

/// Lenient on purpose: a malformed `metadata` is for the upstream to refuse,
/// and the relay has no use for a user id that is not a string.
pub(super) fn metadata_user_id(raw: &[u8]) -> Result<Option<String>, InspectError> {
    Ok(match shape(raw, "user_id", str::to_owned)? {
        Shape::Object(user_id) => user_id,
        Shape::Null | Shape::Other | Shape::Unreadable => None,
    })
}

/// `{"type": "disabled"}` is the API's explicit "no thinking"; any other
/// non-null value (`enabled`, or a type added later) is taken as thinking.
pub(super) fn thinking_enabled(raw: &[u8]) -> Result<bool, InspectError> {
    Ok(match shape(raw, "type", |kind| kind == "disabled")? {
        Shape::Null => false,
        Shape::Object(disabled) => disabled != Some(true),
        Shape::Other | Shape::Unreadable => true,
    })
}

fn max_tokens(raw: &[u8]) -> Result<Option<u64>, InspectError> {
    // Plain digits without a leading zero, the usual case, are valid JSON as they are.
    let plain = !raw.is_empty()
        && raw.iter().all(u8::is_ascii_digit)
        && (raw == b"0" || !raw.starts_with(b"0"));
    if !plain {
        validate(raw)?;
    }
    Ok(std::str::from_utf8(raw)
        .ok()
        .and_then(|text| text.parse().ok()))
}

/// Full validation of one value, without serde_json's nesting limit.
fn validate(raw: &[u8]) -> Result<(), InspectError> {
    serde_json::from_slice::<&RawValue>(raw)
        .map(|_| ())
        .map_err(|err| InspectError::NotJson(err.to_string()))
}

/// What a value is, as far as the relay cares.
#[derive(Debug, PartialEq, Eq)]
enum Shape<T> {
    Null,
    /// An object, with what was read of the last value of the key asked
    /// for, when that is a string.
    Object(Option<T>),
    Other,
    /// Valid JSON that this reading refuses: a number out of `f64`'s range
    /// where it decodes one, or a lone surrogate escape in a key or the
    /// string read. Taken as serde_json's `Value`, which refuses them too,
    /// always was.
    Unreadable,
}

/// Reads `raw` for its [`Shape`], validating all of it without building a
/// tree: one allocation at most, and no nesting limit.
fn shape<T>(raw: &[u8], key: &'static str, read: fn(&str) -> T) -> Result<Shape<T>, InspectError> {
    let mut deserializer = serde_json::Deserializer::from_slice(raw);
    let read = deserializer
        .deserialize_any(ShapeVisitor { key, read })
        .and_then(|shape| deserializer.end().map(|()| shape));
    // serde_json checks the UTF-8 of the strings it decodes, not of those it skips.
    match read {
        Ok(shape) if std::str::from_utf8(raw).is_ok() => Ok(shape),
        _ => validate(raw).map(|()| Shape::Unreadable),
    }
}

struct ShapeVisitor<T> {
    key: &'static str,
    read: fn(&str) -> T,
}

impl<'de, T> Visitor<'de> for ShapeVisitor<T> {
    type Value = Shape<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Shape::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(wanted) = map.next_key_seed(KeyIs(self.key))? {
            if wanted {
                found = map.next_value_seed(IfString(self.read))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Shape::Object(found))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }
}

/// Whether an object key, unescaped, is the one asked for.
struct KeyIs(&'static str);

impl<'de> DeserializeSeed<'de> for KeyIs {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs {
    type Value = bool;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// A string value, read by the function; any other value is validated and
/// gives `None`.
struct IfString<T>(fn(&str) -> T);

impl<'de, T> DeserializeSeed<'de> for IfString<T> {
    type Value = Option<T>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T> Visitor<'de> for IfString<T> {
    type Value = Option<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_str<E>(self, value: &str) -> Result<Option<T>, E> {
        Ok(Some((self.0)(value)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Option<T>, E> {
        Ok(None)
    }
}
