//! `count_tokens` answered by the relay itself, for a provider that does not
//! offer the endpoint (Bedrock, an OpenAI-style backend) or answers it with
//! 404/405 (several Anthropic-compatible backends). Claude Code sizes its
//! context with this endpoint; a 404 would otherwise reach it, and count
//! against the provider's circuit. The estimate is made by
//! [`relay_core::estimate_input_tokens`] (see docs/providers.md for how
//! close it comes).

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};

use crate::body::{RelayBody, full};

/// Marks an answer the relay estimated rather than relayed.
pub const ESTIMATE_HEADER: HeaderName = HeaderName::from_static("x-cc-relay-estimate");

/// Whether an upstream status says the endpoint is not there (rather than
/// that the request or the backend failed).
///
/// Then, as for a count the upstream made, the attempt is given back to the
/// plan (`Plan::skip`): nothing counts toward the circuit, a key cooldown
/// or failover, and the key's reserved request (its message RPM) is
/// refunded.
pub fn endpoint_missing(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    )
}

/// `200 {"input_tokens": N}` with `x-cc-relay-estimate: true` and the
/// routing headers every answer carries (`routing`).
pub fn estimated_count(body: &Bytes, routing: HeaderMap) -> Response<RelayBody> {
    let tokens = relay_core::estimate_input_tokens(body).unwrap_or(1);
    let mut response = Response::new(full(format!("{{\"input_tokens\":{tokens}}}")));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(ESTIMATE_HEADER, HeaderValue::from_static("true"));
    headers.extend(routing);
    response
}
