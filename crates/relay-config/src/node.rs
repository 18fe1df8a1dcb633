//! The format-neutral value tree that YAML and TOML files are parsed into.
//!
//! Both formats become the same `Node`s, so env expansion, deserialization,
//! error paths and unknown-key detection are written once. Strings remember
//! whether they came from `${VAR}` expansion: the deserializer needs that to
//! read `rpm_limit: ${RPM}` as a number and to keep expanded values (often
//! credentials) out of error messages.

use crate::path::{Seg, render};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    /// Only for YAML integers above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Str(Text),
    Seq(Vec<Node>),
    Map(Map),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Text {
    pub value: String,
    pub origin: Origin,
}

/// Where a string's content came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Written in the file as is.
    Literal,
    /// Contains at least one `${...}` expansion among other text.
    Expanded,
    /// Exactly one `${...}` and nothing else: may stand for a number or a bool.
    Whole,
}

/// A mapping. `id` identifies it across clones of the tree, so the fields a
/// struct expected there can be looked up when reporting unknown keys.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Map {
    pub id: usize,
    pub entries: Vec<(String, Node)>,
}

impl Node {
    pub(crate) fn literal(value: impl Into<String>) -> Self {
        Self::Str(Text {
            value: value.into(),
            origin: Origin::Literal,
        })
    }

    /// The node at `segs`, if there is one.
    pub(crate) fn get(&self, segs: &[Seg]) -> Option<&Node> {
        let Some((first, rest)) = segs.split_first() else {
            return Some(self);
        };
        let child = match (self, first) {
            (Node::Map(map), Seg::Key(key)) => {
                map.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            (Node::Seq(items), Seg::Index(index)) => items.get(*index),
            _ => None,
        }?;
        child.get(rest)
    }

    /// Removes the map entry closest to `segs` (the last key on the path), so a
    /// value that failed to deserialize can fall back to its default and the
    /// rest of the file can still be checked. False if nothing was removed.
    pub(crate) fn remove_entry_at(&mut self, segs: &[Seg]) -> bool {
        let Some(last_key) = segs.iter().rposition(|s| matches!(s, Seg::Key(_))) else {
            return false;
        };
        let Some(parent) = self.get_mut(&segs[..last_key]) else {
            return false;
        };
        let (Node::Map(map), Seg::Key(key)) = (parent, &segs[last_key]) else {
            return false;
        };
        let before = map.entries.len();
        map.entries.retain(|(k, _)| k != key);
        map.entries.len() != before
    }

    fn get_mut(&mut self, segs: &[Seg]) -> Option<&mut Node> {
        let Some((first, rest)) = segs.split_first() else {
            return Some(self);
        };
        let child = match (self, first) {
            (Node::Map(map), Seg::Key(key)) => map
                .entries
                .iter_mut()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v),
            (Node::Seq(items), Seg::Index(index)) => items.get_mut(*index),
            _ => None,
        }?;
        child.get_mut(rest)
    }
}

/// Parses YAML text. Anchors, aliases and `<<:` merge keys are resolved.
pub(crate) fn from_yaml(text: &str) -> Result<Node, String> {
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    value.apply_merge().map_err(|e| e.to_string())?;
    let mut ids = 0;
    let node = convert_yaml(value, &mut Vec::new(), &mut ids)?;
    top_level(node, &mut ids)
}

/// Parses TOML text.
pub(crate) fn from_toml(text: &str) -> Result<Node, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| toml_message(text, &e))?;
    let mut ids = 0;
    Ok(convert_toml(toml::Value::Table(table), &mut ids))
}

/// An empty file is an empty mapping (all defaults); any other non-mapping is
/// not a configuration.
fn top_level(node: Node, ids: &mut usize) -> Result<Node, String> {
    match node {
        Node::Map(_) => Ok(node),
        Node::Null => Ok(Node::Map(new_map(ids, Vec::new()))),
        _ => Err(
            "the file must be a mapping of sections (server:, routing:, providers:, ...)"
                .to_owned(),
        ),
    }
}

fn new_map(ids: &mut usize, entries: Vec<(String, Node)>) -> Map {
    *ids += 1;
    Map { id: *ids, entries }
}

fn convert_yaml(
    value: serde_yaml::Value,
    at: &mut Vec<Seg>,
    ids: &mut usize,
) -> Result<Node, String> {
    use serde_yaml::Value;
    Ok(match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Node::Int(i),
            (None, Some(u), _) => Node::UInt(u),
            (None, None, Some(f)) => Node::Float(f),
            (None, None, None) => return Err(format!("{}: unsupported number", render(at))),
        },
        Value::String(s) => Node::literal(s),
        Value::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                at.push(Seg::Index(index));
                out.push(convert_yaml(item, at, ids)?);
                at.pop();
            }
            Node::Seq(out)
        }
        Value::Mapping(mapping) => {
            let mut entries = Vec::with_capacity(mapping.len());
            for (key, value) in mapping {
                let key = match key {
                    Value::String(s) => s,
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    Value::Null => "null".to_owned(),
                    _ => {
                        return Err(format!(
                            "{}: mapping keys must be plain text",
                            display_at(at)
                        ));
                    }
                };
                at.push(Seg::Key(key.clone()));
                let node = convert_yaml(value, at, ids)?;
                at.pop();
                entries.push((key, node));
            }
            Node::Map(new_map(ids, entries))
        }
        Value::Tagged(tagged) => {
            return Err(format!(
                "{}: YAML tags such as `{}` are not supported; remove the tag",
                display_at(at),
                tagged.tag
            ));
        }
    })
}

fn display_at(at: &[Seg]) -> String {
    if at.is_empty() {
        "top level".to_owned()
    } else {
        render(at)
    }
}

fn convert_toml(value: toml::Value, ids: &mut usize) -> Node {
    use toml::Value;
    match value {
        Value::String(s) => Node::literal(s),
        Value::Integer(i) => Node::Int(i),
        Value::Float(f) => Node::Float(f),
        Value::Boolean(b) => Node::Bool(b),
        Value::Datetime(d) => Node::literal(d.to_string()),
        Value::Array(items) => Node::Seq(items.into_iter().map(|v| convert_toml(v, ids)).collect()),
        Value::Table(table) => {
            let entries = table
                .into_iter()
                .map(|(k, v)| (k, convert_toml(v, ids)))
                .collect();
            Node::Map(new_map(ids, entries))
        }
    }
}

/// The parser's message with a line and column, but without the quoted source
/// line toml's `Display` adds: that line may hold a credential.
fn toml_message(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end();
    match err.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{message} at line {line} column {column}")
        }
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn yaml_and_toml_give_the_same_tree_shape() {
        let yaml = from_yaml("a: { b: [1, x, true] }").unwrap();
        let toml = from_toml("[a]\nb = [1, \"x\", true]").unwrap();
        let path = [key("a"), key("b")];
        assert_eq!(yaml.get(&path), toml.get(&path));
        assert_eq!(
            yaml.get(&[key("a"), key("b"), Seg::Index(1)]),
            Some(&Node::literal("x"))
        );
    }

    #[test]
    fn empty_yaml_is_an_empty_mapping() {
        assert!(matches!(from_yaml("# nothing\n").unwrap(), Node::Map(m) if m.entries.is_empty()));
        assert!(from_yaml("just text").is_err());
    }

    #[test]
    fn yaml_merge_keys_are_resolved() {
        let node = from_yaml("base: &b { x: 1 }\nother: { <<: *b, y: 2 }").unwrap();
        assert_eq!(node.get(&[key("other"), key("x")]), Some(&Node::Int(1)));
    }

    #[test]
    fn toml_errors_do_not_quote_the_source_line() {
        let err = from_toml("[server]\napi_key = sk-ant-secret-value\n").unwrap_err();
        assert!(err.contains("line 2 column"), "{err}");
        assert!(!err.contains("sk-ant"), "{err}");
    }

    #[test]
    fn remove_entry_uses_the_last_key() {
        let mut node = from_yaml("p: [ { m: [1, [2]] } ]").unwrap();
        assert!(node.remove_entry_at(&[key("p"), Seg::Index(0), key("m"), Seg::Index(1)]));
        assert_eq!(node.get(&[key("p"), Seg::Index(0), key("m")]), None);
        assert!(!node.remove_entry_at(&[Seg::Index(0)]));
    }
}
