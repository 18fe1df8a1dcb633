//! The relay's own error responses, and `Connection: close` on the refusals
//! of HTTP/1 requests whose body it did not read.
//!
//! The relay refuses some requests before reading their body: a 401 from
//! auth, a 404, a 413 over `max_body_bytes`, a 503 from `max_concurrent`
//! (and a 408 for a body that arrives too slowly). hyper cannot reuse such a
//! connection: it drains what is already buffered and otherwise closes it,
//! after the response and without saying so, so a keep-alive client would
//! send its next request into a closed connection. Saying `Connection:
//! close` in the response makes the client open a new one instead. Refusals
//! after the body was read (400, 429, 502, 504) keep the connection, and
//! pipelined requests behind them are still answered. HTTP/2 has no such
//! problem (the stream is reset, the connection stays), and must not carry
//! the header.

use http::{HeaderValue, Response, StatusCode, header};
use relay_core::ApiError;

use crate::body::{RelayBody, full};

/// The Anthropic-shaped error response for `error`. Handlers return
/// `Err(ApiError)`; the path turns it into this with
/// [`RequestContext::refuse`](super::context::RequestContext::refuse), which
/// also marks the response as the relay's own.
pub fn error_response(error: &ApiError) -> Response<RelayBody> {
    let mut response = Response::new(full(error.to_json()));
    *response.status_mut() = error.status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Adds `Connection: close` to a refusal of an HTTP/1 request that had a
/// body (`http1_with_body`, noted before the body could be read).
pub fn close_if_body_unread(response: &mut Response<RelayBody>, http1_with_body: bool) {
    if http1_with_body && may_leave_body_unread(response.status()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

/// The statuses of the relay's refusals that come before the body is read.
/// A 503 may also mean every provider is unavailable (after reading the
/// body); closing then costs one reconnection.
fn may_leave_body_unread(status: StatusCode) -> bool {
    matches!(status.as_u16(), 401 | 403 | 404 | 405 | 408 | 413 | 503)
}
