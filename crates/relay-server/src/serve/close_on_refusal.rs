//! `Connection: close` on the relay's own refusals of HTTP/1 requests whose
//! body it did not read.
//!
//! The relay refuses some requests before reading their body: a 401 from
//! auth, a 404, a 413 over `max_body_bytes`, a 503 from `max_concurrent`
//! (and a 408 for a body that arrives too slowly).
//! hyper cannot reuse such a connection: it drains what is already buffered
//! and otherwise closes it, after the response and without saying so, so a
//! keep-alive client would send its next request into a closed connection.
//! Saying `Connection: close` in the response makes the client open a new
//! one instead. Refusals after the body was read (400, 429, 502, 504) keep
//! the connection, and pipelined requests behind them are still answered.
//! HTTP/2 has no such problem (the stream is reset, the connection stays),
//! and must not carry the header.

use std::convert::Infallible;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, StatusCode, Version, header};
use http_body::Body as _;
use hyper::body::Incoming;
use tower::Service;

use crate::body::RelayBody;
use crate::error_response::RelayErrorMarker;
use crate::middleware::{HttpService, ResponseFuture};

#[derive(Clone, Debug)]
pub struct CloseOnRefusal<S> {
    inner: S,
}

impl<S> CloseOnRefusal<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: HttpService> Service<Request<Incoming>> for CloseOnRefusal<S> {
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let http1_with_body =
            request.version() <= Version::HTTP_11 && !request.body().is_end_stream();
        let future = self.inner.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            let refused = response.extensions().get::<RelayErrorMarker>().is_some();
            if http1_with_body && refused && may_leave_body_unread(response.status()) {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        })
    }
}

/// The statuses of the relay's refusals that come before the body is read.
/// A 503 may also mean every provider is unavailable (after reading the
/// body); closing then costs one reconnection.
fn may_leave_body_unread(status: StatusCode) -> bool {
    matches!(status.as_u16(), 401 | 403 | 404 | 405 | 408 | 413 | 503)
}
