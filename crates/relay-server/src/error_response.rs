//! Turning an [`ApiError`] into an HTTP response.

use http::{HeaderValue, Response, header};
use relay_core::ApiError;

use crate::body::{RelayBody, full};

/// The Anthropic-shaped error response for `error`.
pub fn error_response(error: &ApiError) -> Response<RelayBody> {
    let mut response = Response::new(full(error.to_json()));
    *response.status_mut() = error.status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The relay's own errors are attributed to it, for logs and dashboards.
    response
        .extensions_mut()
        .insert(RelayErrorMarker(error.error_type.as_str()));
    response
}

/// Marks a response the relay produced itself (not relayed from an upstream).
#[derive(Clone, Copy, Debug)]
pub struct RelayErrorMarker(pub &'static str);
