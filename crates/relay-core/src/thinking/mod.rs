//! Extended-thinking blocks across backends.
//!
//! A thinking block's `signature` (and a `redacted_thinking` block's `data`)
//! is only valid at the backend that produced it. When a conversation moves to
//! another provider, blocks it cannot verify must be dropped, or the request
//! is refused. This module finds those blocks and rewrites the `messages`
//! array without them, copying every other byte of the body unchanged.
//!
//! It also extracts the signatures a response carries, so the relay can
//! remember which backend produced each one (fingerprints, never the values,
//! are kept).

pub(crate) mod fuzz;
mod rewrite;

pub use rewrite::{ThinkingRewrite, drop_foreign_thinking};

use std::hash::{DefaultHasher, Hash, Hasher};

/// A short fingerprint of a signature or redacted-thinking payload; the
/// registry of origins stores these instead of the (large) values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignatureId(pub u64);

impl SignatureId {
    pub fn of(signature: &str) -> Self {
        let mut hasher = DefaultHasher::new();
        signature.hash(&mut hasher);
        Self(hasher.finish())
    }
}

/// Whether a request body may carry thinking blocks at all: a cheap byte scan
/// that lets the common case skip any JSON work.
pub fn may_carry_thinking(body: &[u8]) -> bool {
    memchr::memmem::find(body, b"\"signature\"").is_some()
        || memchr::memmem::find(body, b"redacted_thinking").is_some()
}

/// The signatures (and redacted-thinking payloads) in a non-streaming
/// Messages response body: `content[].signature` / `content[].data`.
pub fn response_signatures(body: &[u8]) -> Vec<SignatureId> {
    #[derive(serde::Deserialize)]
    struct Response<'a> {
        #[serde(borrow, default)]
        content: Vec<Block<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Block<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
        #[serde(borrow, default)]
        signature: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        data: Option<std::borrow::Cow<'a, str>>,
    }
    let Ok(response) = serde_json::from_slice::<Response<'_>>(body) else {
        return Vec::new();
    };
    response
        .content
        .iter()
        .filter_map(|block| match block.kind.as_ref() {
            "thinking" => block.signature.as_deref(),
            "redacted_thinking" => block.data.as_deref(),
            _ => None,
        })
        .map(SignatureId::of)
        .collect()
}

#[cfg(test)]
mod tests;
