//! A builder for the relay configurations the tests start with, rendered as
//! block YAML. Tests of odd, invalid or rewritten files keep raw strings.
//! The in-process tests (`relay-server`) and the binary's tests
//! (`relay-cli`) both start from it.
//!
//! ```
//! use relay_test_support::config::{Provider, RelayConfig};
//!
//! let config = RelayConfig::new()
//!     .server("timeout_ms", 3000)
//!     .routing("strategy", "failover")
//!     .provider(Provider::anthropic("primary", "http://127.0.0.1:9").key("sk-1").priority(2));
//! assert!(config.yaml().contains("server:\n  timeout_ms: 3000\n"));
//! ```

use serde_json::{Map, Value, json};

/// The upstream key the test configurations give providers.
pub const UPSTREAM_KEY: &str = "sk-upstream-test-key-0001";
/// The key clients must present when relay auth is on.
pub const RELAY_KEY: &str = "relay-client-key-0002";

/// A relay configuration: `server`, `routing`, `health` and `logging` are
/// maps of settings, `providers` a list, each written only when set.
#[derive(Clone, Debug, Default)]
pub struct RelayConfig {
    sections: Map<String, Value>,
}

impl RelayConfig {
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration most tests use: [`Provider::primary`] at
    /// `upstream`, a 5 s upstream timeout and `debug` logs.
    pub fn one_provider(upstream: &str) -> Self {
        Self::new()
            .server("timeout_ms", 5000)
            .provider(Provider::primary(upstream))
            .logging("level", "debug")
    }

    /// Sets `server.<key>` (replacing an earlier value).
    pub fn server(self, key: &str, value: impl Into<Value>) -> Self {
        self.set("server", key, value)
    }

    /// Sets `routing.<key>`.
    pub fn routing(self, key: &str, value: impl Into<Value>) -> Self {
        self.set("routing", key, value)
    }

    /// Sets `health.<key>`.
    pub fn health(self, key: &str, value: impl Into<Value>) -> Self {
        self.set("health", key, value)
    }

    /// Sets `state.<key>`.
    pub fn state(self, key: &str, value: impl Into<Value>) -> Self {
        self.set("state", key, value)
    }

    /// Sets `logging.<key>`.
    pub fn logging(self, key: &str, value: impl Into<Value>) -> Self {
        self.set("logging", key, value)
    }

    /// Appends an entry to `providers`.
    pub fn provider(mut self, provider: Provider) -> Self {
        let providers = self
            .sections
            .entry("providers")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = providers {
            list.push(Value::Object(provider.fields));
        }
        self
    }

    /// Appends each of `providers`.
    pub fn providers(self, providers: impl IntoIterator<Item = Provider>) -> Self {
        providers.into_iter().fold(self, Self::provider)
    }

    /// Sets `<section>.<key>`.
    fn set(mut self, section: &str, key: &str, value: impl Into<Value>) -> Self {
        let section = self
            .sections
            .entry(section)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(settings) = section {
            settings.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The configuration file's text.
    pub fn yaml(&self) -> String {
        let mut out = String::new();
        write_map(&mut out, &self.sections, 0);
        out
    }
}

/// One entry of `providers`.
#[derive(Clone, Debug)]
pub struct Provider {
    fields: Map<String, Value>,
}

impl Provider {
    /// A provider with a name and a type, enabled (a file must say so), and
    /// nothing else. `.set("enabled", false)` switches it off.
    pub fn new(name: &str, kind: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("name".into(), name.into());
        fields.insert("type".into(), kind.into());
        fields.insert("enabled".into(), true.into());
        Self { fields }
    }

    /// An `anthropic` provider at `base_url`.
    pub fn anthropic(name: &str, base_url: &str) -> Self {
        Self::new(name, "anthropic").base_url(base_url)
    }

    /// `primary`, an `anthropic` provider at `upstream` serving Sonnet and
    /// Haiku 4.5, with [`UPSTREAM_KEY`].
    pub fn primary(upstream: &str) -> Self {
        Self::anthropic("primary", upstream)
            .models(&["claude-sonnet-4-5", "claude-haiku-4-5"])
            .key(UPSTREAM_KEY)
    }

    pub fn base_url(self, url: &str) -> Self {
        self.set("base_url", url)
    }

    pub fn models(self, models: &[&str]) -> Self {
        self.set("models", models)
    }

    /// Adds `{ key: <key> }` to `keys`.
    pub fn key(mut self, key: &str) -> Self {
        let keys = self
            .fields
            .entry("keys")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = keys {
            list.push(json!({ "key": key }));
        }
        self
    }

    /// Adds each of `keys` to `keys`.
    pub fn keys(self, keys: &[&str]) -> Self {
        keys.iter().fold(self, |provider, key| provider.key(key))
    }

    pub fn priority(self, priority: u32) -> Self {
        self.set("priority", priority)
    }

    /// `model_mapping`, from the client's model name to the upstream's.
    pub fn model_mapping(self, mapping: &[(&str, &str)]) -> Self {
        let mapping: Map<String, Value> = mapping
            .iter()
            .map(|(from, to)| ((*from).to_owned(), (*to).into()))
            .collect();
        self.set("model_mapping", mapping)
    }

    /// Sets any other field (replacing an earlier value).
    pub fn set(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(field.to_owned(), value.into());
        self
    }
}

// Block YAML: maps and lists of maps on lines of their own, lists of plain
// values in flow style, strings double-quoted unless they are plain words.

fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        out.push_str(&" ".repeat(indent));
        write_entry(out, key, value, indent);
    }
}

/// `key: value` from the current column; nested blocks at `indent` + 2.
fn write_entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    out.push_str(&scalar(key));
    out.push(':');
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2);
        }
        Value::Array(items) if !is_flow(items) => {
            out.push('\n');
            write_list(out, items, indent + 2);
        }
        _ => {
            out.push(' ');
            out.push_str(&inline(value));
            out.push('\n');
        }
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                for (i, (key, value)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    write_entry(out, key, value, indent + 2);
                }
            }
            Value::Array(nested) if !is_flow(nested) => {
                out.push('\n');
                write_list(out, nested, indent + 2);
            }
            _ => {
                out.push_str(&inline(item));
                out.push('\n');
            }
        }
    }
}

fn is_flow(items: &[Value]) -> bool {
    items.iter().all(|v| !v.is_object() && !v.is_array())
}

/// A value on one line: a scalar, `[]`/`{}`, or a flow list of scalars.
fn inline(value: &Value) -> String {
    match value {
        Value::String(s) => scalar(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(_) => "{}".to_owned(),
        other => other.to_string(),
    }
}

/// A plain word as it is; anything else double-quoted (JSON's escapes are
/// YAML's), so that no string is read as a number, a bool or null.
fn scalar(s: &str) -> String {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        s.to_owned()
    } else {
        Value::from(s).to_string()
    }
}
