//! # relay-core
//!
//! The vocabulary every cc-relay crate shares: the Anthropic error body
//! (`ApiError`), secrets that never print, header classes,
//! request-body inspection (the `model` and its exact byte span, for a
//! rewrite that changes nothing else), splicing edits of top-level JSON
//! members (request fields, the response model), model-name tables with `*`
//! patterns, a local input-token estimate, and incremental Server-Sent
//! Events handling on bytes as they arrive: a splitter that cuts a stream
//! into events without altering a byte, and a parser that decodes them.
//!
//! This crate sits at the bottom of the workspace. It must not depend on any
//! other `relay-*` crate, on an async runtime, or on hyper: only on plain data
//! crates (`http` for status codes and header names, `bytes`, `serde`).

mod error;
mod estimate;
mod headers;
mod inspect;
mod model_map;
mod secret;
mod sse;
mod thinking;

pub use error::{ApiError, ErrorType};
pub use estimate::estimate_input_tokens;
pub use headers::{CLAUDE_CODE_SESSION_ID, REDACTED, REQUEST_ID, is_hop_by_hop, is_secret_header};
pub use inspect::{
    InspectError, RequestSummary, inspect_request, remove_top_level_fields,
    replace_top_level_value, restore_message_start_model, restore_response_model,
    restore_stream_model, rewrite_model, top_level_value,
};
pub use model_map::{ModelMap, ModelPattern};
pub use secret::Secret;
pub use sse::{SseError, SseEvent, SseParser, SseSplitter};
pub use thinking::{
    SignatureId, ThinkingRewrite, drop_foreign_thinking, may_carry_signatures, may_carry_thinking,
    response_signatures,
};

// Fuzzing entry points, shared by the proptest suites and the `cargo fuzz`
// targets in `fuzz/`; not part of the API, and compiled only for tests and
// with the `fuzzing` feature.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use inspect::fuzz::inspect_case;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use sse::fuzz::sse_case;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use thinking::fuzz::thinking_case;
