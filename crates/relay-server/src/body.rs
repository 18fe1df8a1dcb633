//! The response body type every handler and phase of the request path returns.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};

/// An error that aborts a response body mid-way (the client sees a cut connection).
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the relay sends.
pub type RelayBody = UnsyncBoxBody<Bytes, BodyError>;

/// A complete body from bytes.
pub fn full(bytes: impl Into<Bytes>) -> RelayBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}
