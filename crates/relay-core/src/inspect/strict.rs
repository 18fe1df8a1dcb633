//! The reference reading: serde_json validates the whole document, then the
//! top-level values of interest are located.
//!
//! Only bodies the structural scan refuses come here, so that the error names
//! the first problem with serde_json's wording and position, as it always
//! has; it is also the oracle the scan is tested against.

use std::fmt;
use std::ops::Range;

use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{Field, InspectError, Spans};

/// Validates the whole document and locates the top-level values of interest.
pub(super) fn top_level_spans(body: &[u8]) -> Result<Spans, InspectError> {
    let not_json = |err: serde_json::Error| InspectError::NotJson(err.to_string());
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let fields = deserializer
        .deserialize_any(TopLevelVisitor)
        .map_err(not_json)?
        .ok_or(InspectError::NotAnObject)?;
    deserializer.end().map_err(not_json)?;
    let mut spans = Spans::default();
    for (field, raw) in fields {
        let span = span_in(body, raw.get()).ok_or_else(|| {
            // Unreachable: a RawValue deserialised from a slice borrows from it.
            InspectError::NotJson("a value could not be located in the body".into())
        })?;
        if let Some(slot) = spans.slot(field) {
            *slot = Some(span);
        }
    }
    Ok(spans)
}

/// Where `part`, a slice of `body`, sits in it.
fn span_in(body: &[u8], part: &str) -> Option<Range<usize>> {
    let start = part.as_ptr().addr().checked_sub(body.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    (end <= body.len()).then_some(start..end)
}

/// Accepts any JSON document so that a valid non-object is told apart from
/// invalid JSON: it gives `None` for anything but an object.
struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    /// The values of interest in document order; later duplicates win
    /// because they are applied later.
    type Value = Option<Vec<(Field, &'de RawValue)>>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<Field>()? {
            if key == Field::Other {
                map.next_value::<IgnoredAny>()?;
            } else {
                fields.push((key, map.next_value()?));
            }
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
