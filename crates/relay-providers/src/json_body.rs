//! Editing a request body's top-level fields without re-encoding the rest.
//!
//! Cloud backends want a few top-level fields removed or added (`model`,
//! `stream`, `anthropic_version`, `anthropic_beta`). Bodies reach tens of
//! megabytes, so only the top level is parsed: every value stays the exact
//! slice of the client's bytes it was, and key order is kept.

use bytes::Bytes;
use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The top-level fields of a JSON object body, in order.
#[derive(Debug)]
pub(crate) struct TopLevel<'a> {
    fields: Vec<(String, Field<'a>)>,
}

#[derive(Debug)]
enum Field<'a> {
    /// A value exactly as the client sent it.
    Raw(&'a RawValue),
    /// A value the relay added, already JSON-encoded.
    Added(String),
}

impl Field<'_> {
    fn json(&self) -> &str {
        match self {
            Self::Raw(raw) => raw.get(),
            Self::Added(json) => json,
        }
    }
}

impl<'a> TopLevel<'a> {
    /// Parses `body`, which must be one JSON object.
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let fields = de.deserialize_map(FieldsVisitor)?;
        de.end()?;
        Ok(Self { fields })
    }

    /// The raw JSON of `key`; with duplicate keys the last wins, as in serde_json.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.json())
    }

    /// Removes every occurrence of `key`.
    pub(crate) fn remove(&mut self, key: &str) {
        self.fields.retain(|(k, _)| k != key);
    }

    /// Sets `key` to a serialisable value, replacing any occurrence.
    pub(crate) fn set(&mut self, key: &str, value: &impl serde::Serialize) {
        self.remove(key);
        // Strings and lists of strings cannot fail to serialise.
        let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
        self.fields.push((key.to_owned(), Field::Added(json)));
    }

    /// Whether `key` is present.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == key)
    }

    /// The body as bytes: `{"key":value,...}` in the original order, added fields last.
    pub(crate) fn to_bytes(&self) -> Bytes {
        let len: usize = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.json().len() + 4)
            .sum();
        let mut out = String::with_capacity(len + 2);
        out.push('{');
        for (i, (key, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // A `String` always serialises.
            out.push_str(&serde_json::to_string(key).unwrap_or_default());
            out.push(':');
            out.push_str(value.json());
        }
        out.push('}');
        Bytes::from(out)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Vec<(String, Field<'de>)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
            fields.push((key, Field::Raw(value)));
        }
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_byte_for_byte_and_order() {
        let body = br#"{ "model" : "m", "messages":[{"role":"user","content":"1.0e3 \u00e9"}],"stream":true}"#;
        let mut top = TopLevel::parse(body).unwrap();
        assert_eq!(top.get("stream"), Some("true"));
        top.remove("model");
        top.remove("stream");
        top.set("anthropic_version", &"v");
        assert_eq!(
            top.to_bytes(),
            r#"{"messages":[{"role":"user","content":"1.0e3 \u00e9"}],"anthropic_version":"v"}"#
        );
    }

    #[test]
    fn rejects_non_objects_and_trailing_garbage() {
        assert!(TopLevel::parse(b"[1]").is_err());
        assert!(TopLevel::parse(b"{} x").is_err());
        assert!(TopLevel::parse(b"{\"a\":").is_err());
    }

    #[test]
    fn escaped_keys_are_reencoded() {
        let top = TopLevel::parse(br#"{"a\"b":1}"#).unwrap();
        assert_eq!(top.to_bytes(), r#"{"a\"b":1}"#);
        assert!(top.contains("a\"b"));
    }
}
