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

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
mod rewrite;

pub use rewrite::{ThinkingRewrite, drop_foreign_thinking};

use std::hash::{DefaultHasher, Hash, Hasher};

use memchr::memmem;

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
///
/// It looks for the `"signature"` key and the `redacted_thinking` type as
/// written out, so it misses them written with `\u` escapes (as in
/// `"sign\u0061ture"`): those blocks reach the other backend, which refuses
/// the request. Catching them too takes a third pass over the body, half as
/// much again as these two on bodies without thinking blocks (most of them),
/// for a client that only hurts itself: see [`may_carry_signatures`].
pub fn may_carry_thinking(body: &[u8]) -> bool {
    memmem::find(body, b"\"signature\"").is_some()
        || memmem::find(body, b"redacted_thinking").is_some()
}

/// Whether a Messages response body may carry what [`response_signatures`]
/// extracts: false only when that would find nothing, so callers can skip
/// its parse for the responses (most of them) without thinking.
///
/// JSON can write the `signature` key and the `redacted_thinking` type only
/// as these bytes or with a `\u` escape of one of their characters, as in
/// `"sign\u0061ture"`; any escape from `\u0050` to `\u007f` (`_` and the
/// lowercase letters among them) counts, whatever it spells.
pub fn may_carry_signatures(body: &[u8]) -> bool {
    may_carry_thinking(body)
        || memmem::find_iter(body, b"\\u00").any(|at| matches!(body.get(at + 4), Some(b'5'..=b'7')))
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
