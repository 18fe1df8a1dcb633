//! Tool-use and message ids across the two APIs.
//!
//! Anthropic ids match `[A-Za-z0-9_-]+` and must be unique within a
//! conversation (the API answers 400 "tool_use ids must be unique"
//! otherwise), and a client pairs each `tool_result` with its call by id
//! alone. Chat servers are looser: some send no id, reuse short ones such as
//! `call_0` in every response, or use `:` and `.` in them. So an upstream id
//! that is long and clean is kept as it is, and any other becomes
//! `toolu_<clean id>_<response nonce>`; the client sends that id back, and it
//! travels upstream as is (or, with `short_tool_ids`, as the 9-character
//! hash Mistral requires), so a backend always sees one consistent id per call.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// Ids at least this long are taken to be unique (OpenAI's `call_` + 24 characters).
const MIN_UNIQUE_ID_LEN: usize = 16;

/// A short token unique to one response in this process (and, with the
/// clock mixed in, across restarts).
pub(crate) fn response_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = Sha256::new()
        .chain_update(count.to_le_bytes())
        .chain_update(nanos.to_le_bytes())
        .chain_update(std::process::id().to_le_bytes())
        .finalize();
    base62(&digest, 12)
}

/// `id` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
fn clean(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Hands out the Anthropic ids of one response's tool calls.
#[derive(Debug)]
pub(crate) struct ToolIds {
    nonce: String,
    used: HashSet<String>,
}

impl ToolIds {
    pub(crate) fn new(nonce: String) -> Self {
        Self {
            nonce,
            used: HashSet::new(),
        }
    }

    /// The Anthropic id for the `n`th call, whose upstream id is `upstream` (if any).
    pub(crate) fn assign(&mut self, upstream: Option<&str>, n: usize) -> String {
        let upstream = upstream.filter(|id| !id.is_empty());
        let mut id = match upstream {
            Some(id) if id.len() >= MIN_UNIQUE_ID_LEN && clean(id) == id => id.to_owned(),
            Some(id) => format!("toolu_{}_{}", clean(id), self.nonce),
            None => format!("toolu_{}_{n}", self.nonce),
        };
        // A server that repeats an id within one response still gets distinct ones.
        while self.used.contains(&id) {
            id = format!("{id}_{n}");
        }
        self.used.insert(id.clone());
        id
    }
}

/// The id sent upstream for an Anthropic tool-use id.
pub(crate) fn upstream_tool_id(id: &str, short: bool) -> String {
    if short {
        let digest = Sha256::digest(id.as_bytes());
        base62(&digest, 9)
    } else {
        id.to_owned()
    }
}

/// The Anthropic message id for a Chat completion id.
pub(crate) fn message_id(upstream: Option<&str>, nonce: &str) -> String {
    match upstream.filter(|id| !id.is_empty()) {
        Some(id) if id.starts_with("msg_") => clean(id),
        Some(id) => format!("msg_{}", clean(id)),
        None => format!("msg_{nonce}"),
    }
}

fn base62(bytes: &[u8], len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    bytes
        .iter()
        .take(len)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_clean_ids_are_kept_and_others_made_unique_and_valid() {
        let mut ids = ToolIds::new("N".into());
        assert_eq!(
            ids.assign(Some("call_abcdefghijklmnopqrstuvwx"), 0),
            "call_abcdefghijklmnopqrstuvwx"
        );
        assert_eq!(ids.assign(Some("call_0"), 1), "toolu_call_0_N");
        assert_eq!(
            ids.assign(Some("functions.get_weather:0"), 2),
            "toolu_functions_get_weather_0_N"
        );
        assert_eq!(ids.assign(None, 3), "toolu_N_3");
        assert_eq!(ids.assign(Some(""), 4), "toolu_N_4");
        // Repeated within the response.
        assert_eq!(ids.assign(Some("call_0"), 5), "toolu_call_0_N_5");
    }

    #[test]
    fn nonces_differ_and_short_ids_are_stable_nine_alphanumerics() {
        assert_ne!(response_nonce(), response_nonce());
        let short = upstream_tool_id("toolu_01ABC", true);
        assert_eq!(short.len(), 9);
        assert!(short.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(short, upstream_tool_id("toolu_01ABC", true));
        assert_ne!(short, upstream_tool_id("toolu_01ABD", true));
        assert_eq!(upstream_tool_id("toolu_01ABC", false), "toolu_01ABC");
    }

    #[test]
    fn message_ids() {
        assert_eq!(message_id(Some("chatcmpl-123"), "n"), "msg_chatcmpl-123");
        assert_eq!(message_id(Some("msg_1"), "n"), "msg_1");
        assert_eq!(message_id(None, "n"), "msg_n");
    }
}
