//! A serde `Deserializer` over the value tree.
//!
//! It is type-directed where the formats are not:
//! - a string that was exactly one `${VAR}` is read as a bool or number when
//!   the field wants one (`rpm_limit: ${RPM}`), and stays text otherwise, so
//!   a numeric-looking key is still a string;
//! - a number or bool where text is wanted is taken as its text (`name: 123`),
//!   as the Go cc-relay's YAML decoder does;
//! - a known struct field with no value (`logging:` with every line under it
//!   commented out, or `timeout_ms: null`) keeps its default;
//! - type errors on strings that came from the environment, or are long enough
//!   to be a credential, do not quote the string.
//!
//! It also records the field names each struct expected at each mapping, so
//! unknown keys can be answered with "did you mean ...?".

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor,
};

use crate::node::{Node, Origin, Text};

/// Longest literal string quoted in a type error. Real credentials are longer;
/// enum values and typos are shorter.
const MAX_QUOTED: usize = 32;

/// What deserialization learned besides the value.
#[derive(Default)]
pub(crate) struct Ctx {
    /// Mapping id -> the fields the struct deserialized from it accepts.
    pub fields: RefCell<HashMap<usize, &'static [&'static str]>>,
}

/// A deserialization error with, when it quoted a string, a version that does not.
#[derive(Debug)]
pub(crate) struct DeError {
    message: String,
    without_value: Option<String>,
}

impl DeError {
    fn hiding_value(mut self, hide: bool) -> Self {
        if let (true, Some(redacted)) = (hide, self.without_value.take()) {
            self.message = redacted;
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            without_value: None,
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self {
            message: format!("invalid type: {unexp}, expected {exp}"),
            without_value: string_hidden(unexp)
                .then(|| format!("invalid type: string (value not shown), expected {exp}")),
        }
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self {
            message: format!("invalid value: {unexp}, expected {exp}"),
            without_value: string_hidden(unexp)
                .then(|| format!("invalid value: string (value not shown), expected {exp}")),
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let valid: Vec<String> = expected
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| format!("`{v}`"))
            .collect();
        let valid = valid.join(", ");
        Self {
            message: format!("unknown variant `{variant}`, expected one of {valid}"),
            without_value: Some(format!(
                "unknown variant (value not shown), expected one of {valid}"
            )),
        }
    }
}

fn string_hidden(unexp: Unexpected<'_>) -> bool {
    matches!(unexp, Unexpected::Str(_))
}

/// Whether an error about `text` must not quote it.
fn hide(text: &Text) -> bool {
    !text.value.is_empty()
        && (text.origin != Origin::Literal || text.value.chars().count() > MAX_QUOTED)
}

pub(crate) struct NodeDe<'a> {
    node: Node,
    ctx: &'a Ctx,
}

impl<'a> NodeDe<'a> {
    pub(crate) fn new(node: Node, ctx: &'a Ctx) -> Self {
        Self { node, ctx }
    }

    /// For bool and number targets: reads a whole `${VAR}` expansion as the
    /// scalar it spells.
    fn scalar<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let node = match self.node {
            Node::Str(text) if text.origin == Origin::Whole => scalar_from_env(text),
            node => node,
        };
        NodeDe {
            node,
            ctx: self.ctx,
        }
        .deserialize_any_inner(visitor)
    }

    fn deserialize_any_inner<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(b),
            Node::Int(i) => visitor.visit_i64(i),
            Node::UInt(u) => visitor.visit_u64(u),
            Node::Float(f) => visitor.visit_f64(f),
            Node::Str(text) => {
                let hide = hide(&text);
                visitor
                    .visit_string::<DeError>(text.value)
                    .map_err(|e| e.hiding_value(hide))
            }
            Node::Seq(items) => visit_seq(items, self.ctx, visitor),
            Node::Map(map) => visit_map(map.entries, self.ctx, visitor),
        }
    }
}

/// How a pure expansion reads as a scalar: YAML-style `true`/`false`, then
/// integers, then decimals; anything else stays text.
fn scalar_from_env(text: Text) -> Node {
    let value = text.value.trim();
    match value {
        "true" | "True" | "TRUE" => return Node::Bool(true),
        "false" | "False" | "FALSE" => return Node::Bool(false),
        _ => {}
    }
    if let Ok(i) = value.parse::<i64>() {
        Node::Int(i)
    } else if let Ok(u) = value.parse::<u64>() {
        Node::UInt(u)
    } else if let (true, Ok(f)) = (
        value.bytes().any(|b| b.is_ascii_digit()),
        value.parse::<f64>(),
    ) {
        Node::Float(f)
    } else {
        Node::Str(text)
    }
}

fn visit_seq<'de, V: Visitor<'de>>(
    items: Vec<Node>,
    ctx: &Ctx,
    visitor: V,
) -> Result<V::Value, DeError> {
    let len = items.len();
    let mut access = Seq {
        items: items.into_iter(),
        ctx,
    };
    let value = visitor.visit_seq(&mut access)?;
    match access.items.len() {
        0 => Ok(value),
        left => Err(de::Error::invalid_length(len - left, &"fewer elements")),
    }
}

fn visit_map<'de, V: Visitor<'de>>(
    entries: Vec<(String, Node)>,
    ctx: &Ctx,
    visitor: V,
) -> Result<V::Value, DeError> {
    visitor.visit_map(Entries {
        entries: entries.into_iter(),
        value: None,
        ctx,
    })
}

/// Bool and number targets go through `NodeDe::scalar`.
macro_rules! scalar_targets {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.scalar(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any_inner(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node {
            Node::Null => visitor.visit_none(),
            // `${VAR:-}` in an optional field: unset.
            Node::Str(text) if text.origin == Origin::Whole && text.value.is_empty() => {
                visitor.visit_none()
            }
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = match &self.node {
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::UInt(u) => u.to_string(),
            Node::Float(f) => f.to_string(),
            _ => return self.deserialize_any_inner(visitor),
        };
        visitor.visit_string(text)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.node {
            Node::Map(mut map) => {
                self.ctx.fields.borrow_mut().insert(map.id, fields);
                // A known field without a value keeps its default; an unknown
                // one stays, to be reported.
                map.entries.retain(|(key, value)| {
                    !(matches!(value, Node::Null) && fields.contains(&key.as_str()))
                });
                visit_map(map.entries, self.ctx, visitor)
            }
            Node::Null => visit_map(Vec::new(), self.ctx, visitor),
            node => NodeDe {
                node,
                ctx: self.ctx,
            }
            .deserialize_any_inner(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node {
            Node::Null => visit_map(Vec::new(), self.ctx, visitor),
            node => NodeDe {
                node,
                ctx: self.ctx,
            }
            .deserialize_any_inner(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node {
            Node::Null => visit_seq(Vec::new(), self.ctx, visitor),
            node => NodeDe {
                node,
                ctx: self.ctx,
            }
            .deserialize_any_inner(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.node {
            Node::Str(text) => {
                let hide = hide(&text);
                let variant: de::value::StringDeserializer<DeError> =
                    text.value.into_deserializer();
                visitor
                    .visit_enum(variant)
                    .map_err(|e: DeError| e.hiding_value(hide))
            }
            node => NodeDe {
                node,
                ctx: self.ctx,
            }
            .deserialize_any_inner(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    scalar_targets! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8
        deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char bytes byte_buf unit unit_struct tuple tuple_struct identifier
    }
}

struct Seq<'a> {
    items: std::vec::IntoIter<Node>,
    ctx: &'a Ctx,
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed.deserialize(NodeDe::new(node, self.ctx)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'a> {
    entries: std::vec::IntoIter<(String, Node)>,
    value: Option<Node>,
    ctx: &'a Ctx,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        let key: de::value::StringDeserializer<DeError> = key.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let node = self.value.take().unwrap_or(Node::Null);
        seed.deserialize(NodeDe::new(node, self.ctx))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
