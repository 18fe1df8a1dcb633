//! One structured log line per request, written when its response body ends
//! (a stream is logged when it finishes, not when it starts). Credentials are
//! never logged: header values are shown only at debug level, with secret
//! ones replaced by `[redacted]`.

use std::fmt::Write as _;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request};
use hyper::body::Incoming;
use relay_core::{REDACTED, is_secret_header};
use tower::{Layer, Service};

use super::watch::{BodyWatch, watch_body};
use super::{HttpService, ResponseFuture};
use crate::body::BodyError;
use crate::context::RouteInfo;
use crate::error_response::RelayErrorMarker;

#[derive(Clone, Copy, Debug, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLogService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLogService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct AccessLogService<S> {
    inner: S,
}

impl<S: HttpService> Service<Request<Incoming>> for AccessLogService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let started = Instant::now();
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(headers = %redacted_headers(request.headers()), "request received");
        }
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let future = self.inner.call(request);
        let span = tracing::Span::current();
        Box::pin(async move {
            let response = future.await?;
            let route = response.extensions().get::<RouteInfo>().cloned();
            let relay_error = response.extensions().get::<RelayErrorMarker>().map(|m| m.0);
            let entry = LogEntry {
                span,
                method,
                path,
                status: response.status().as_u16(),
                route,
                relay_error,
                started,
                first_byte_ms: started.elapsed().as_secs_f64() * 1000.0,
                bytes: 0,
                outcome: "client_closed",
            };
            Ok(watch_body(response, entry))
        })
    }
}

struct LogEntry {
    span: tracing::Span,
    method: http::Method,
    path: String,
    status: u16,
    route: Option<RouteInfo>,
    relay_error: Option<&'static str>,
    started: Instant,
    first_byte_ms: f64,
    bytes: u64,
    outcome: &'static str,
}

impl BodyWatch for LogEntry {
    fn on_data(&mut self, data: &bytes::Bytes) {
        self.bytes += data.len() as u64;
    }

    fn on_end(&mut self, error: Option<&BodyError>) {
        self.outcome = if error.is_some() {
            "aborted"
        } else {
            "complete"
        };
    }
}

impl Drop for LogEntry {
    fn drop(&mut self) {
        let _entered = self.span.enter();
        let route = self.route.take().unwrap_or_default();
        tracing::info!(
            method = %self.method,
            path = %self.path,
            status = self.status,
            provider = %route.provider,
            model = %route.model,
            key_id = route.key_id.as_deref().unwrap_or(""),
            attempts = route.attempts,
            stream = route.stream,
            affinity = route.affinity_hit,
            relay_error = self.relay_error.unwrap_or(""),
            headers_ms = format_args!("{:.1}", self.first_byte_ms),
            duration_ms = format_args!("{:.1}", self.started.elapsed().as_secs_f64() * 1000.0),
            bytes = self.bytes,
            outcome = self.outcome,
            "request finished"
        );
    }
}

/// `name: value` pairs with every credential replaced.
pub fn redacted_headers(headers: &HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let shown = if is_secret_header(name) {
            REDACTED
        } else {
            value.to_str().unwrap_or("<binary>")
        };
        let _ = write!(out, "{name}: {shown}; ");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn secrets_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static("sk-ant-secret"));
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer tok-secret"),
        );
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        let shown = redacted_headers(&headers);
        assert!(!shown.contains("sk-ant-secret"));
        assert!(!shown.contains("tok-secret"));
        assert!(shown.contains("anthropic-version: 2023-06-01"));
    }
}
