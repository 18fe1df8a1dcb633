//! # relay-providers
//!
//! How cc-relay talks to each backend: where a request goes, which headers
//! travel with it, how it is authenticated, and how its body or response must
//! be transformed. A [`Provider`] is one configured backend; its hooks have
//! defaults that fit any Anthropic-compatible API, so a new backend overrides
//! only what differs.
//!
//! Cloud backends: [`Bedrock`] (SigV4 or Bedrock API keys, AWS event-stream
//! responses decoded by [`BedrockStreamDecoder`]), [`Vertex`] (Google OAuth2
//! tokens) and [`Azure`] (AI Foundry, resource keys or Entra ID tokens).
//! Translated: [`OpenAi`], any OpenAI Chat Completions server, with
//! Messages requests translated and responses decoded back
//! ([`ChatStreamDecoder`], [`ChatJsonDecoder`]). See docs/providers.md.
//!
//! Depends on `relay-core` and `relay-config`. Must not depend on the router
//! or the server: it builds plain `http::Request`s that the server sends.
//! The one HTTP client here (hyper-util + rustls, the server's own stack)
//! serves OAuth2 token fetches for Vertex and Azure, which must happen while
//! a request is being prepared; it never carries relayed traffic.

mod anthropic_compatible;
mod azure;
mod bedrock;
mod build;
mod credentials;
mod decoder;
mod encoding;
mod error;
mod fidelity;
mod headers;
mod json_body;
mod openai;
mod provider;
mod request;
#[cfg(test)]
mod test_util;
mod translate;
mod vertex;

pub use anthropic_compatible::{AnthropicCompatible, Flavor};
pub use azure::Azure;
/// The fuzzing entry point of the Bedrock event-stream converter (used by
/// the proptest suite and `fuzz/`); not part of the relay's API, compiled
/// only for tests and with the `fuzzing` feature.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use bedrock::fuzz::{FuzzOutcome, event_stream_case};
pub use bedrock::{BEDROCK_ANTHROPIC_VERSION, Bedrock, BedrockStreamDecoder, MAX_FRAME_BYTES};
pub use build::build_provider;
pub use decoder::{DecodeError, ResponseDecoder};
pub use error::ProviderError;
pub use fidelity::{BetaPolicy, DEFAULT_BEDROCK_BETAS, DEFAULT_VERTEX_BETAS, StripPolicy};
pub use openai::{ChatJsonDecoder, ChatStreamDecoder, MAX_JSON_BYTES, OPENAI_BASE_URL, OpenAi};
pub use provider::{BoxFuture, Credential, Endpoint, Provider, ProviderInfo};
pub use request::{ClientRequest, prepare_request};
pub use vertex::{VERTEX_ANTHROPIC_VERSION, Vertex};
