//! # relay-providers
//!
//! How cc-relay talks to each backend: where a request goes, which headers
//! travel with it, how it is authenticated, and how its body or response must
//! be transformed. A [`Provider`] is one configured backend; its hooks have
//! defaults that fit any Anthropic-compatible API, so a new backend overrides
//! only what differs.
//!
//! Depends on `relay-core` and `relay-config`. Must not depend on the router,
//! the server, or any HTTP client/server implementation: it builds plain
//! `http::Request`s that the server sends.

mod anthropic_compatible;
mod build;
mod decoder;
mod error;
mod provider;
mod request;

pub use anthropic_compatible::{AnthropicCompatible, Flavor};
pub use build::build_provider;
pub use decoder::{DecodeError, ResponseDecoder};
pub use error::ProviderError;
pub use provider::{BoxFuture, Credential, Endpoint, Provider};
pub use request::{ClientRequest, prepare_request};
