//! One structured log line per request, written when its response body ends
//! (a stream is logged when it finishes, not when it starts), with the
//! request's telemetry: where it went, its timings and token counts. The same
//! finished record feeds the metrics, `/admin/stats` and `/admin/events`.
//! Credentials are never logged: header values are shown only at debug
//! level, with secret ones replaced by `[redacted]`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request};
use hyper::body::Incoming;
use relay_core::{REDACTED, is_secret_header};
use tower::{Layer, Service};

use super::watch::{BodyWatch, watch_body};
use super::{HttpService, ResponseFuture};
use crate::admin::{ADMIN_TOKEN_HEADER, is_operator_path};
use crate::body::BodyError;
use crate::context::{RequestContext, RouteInfo};
use crate::error_response::RelayErrorMarker;
use crate::state::AppState;
use crate::telemetry::{Completed, Timings, millis};

#[derive(Clone, Debug)]
pub struct AccessLogLayer {
    state: Arc<AppState>,
}

impl AccessLogLayer {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLogService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLogService {
            inner,
            state: Arc::clone(&self.state),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AccessLogService<S> {
    inner: S,
    state: Arc<AppState>,
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
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let ctx = request.extensions().get::<RequestContext>().cloned();
        let future = self.inner.call(request);
        let span = tracing::Span::current();
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            let response = future.await?;
            let route = response.extensions().get::<RouteInfo>().cloned();
            let relay_error = response.extensions().get::<RelayErrorMarker>().map(|m| m.0);
            let entry = LogEntry {
                span,
                state,
                ctx,
                operator: is_operator_path(&path),
                method,
                path,
                status: response.status().as_u16(),
                route,
                relay_error,
                started,
                headers_at: Instant::now(),
                first_byte_at: None,
                bytes: 0,
                outcome: "client_closed",
                done: false,
            };
            Ok(watch_body(response, entry))
        })
    }
}

struct LogEntry {
    span: tracing::Span,
    state: Arc<AppState>,
    ctx: Option<RequestContext>,
    /// `/metrics`, `/admin/*`: logged at debug, and not counted as traffic.
    operator: bool,
    method: String,
    path: String,
    status: u16,
    route: Option<RouteInfo>,
    relay_error: Option<&'static str>,
    started: Instant,
    headers_at: Instant,
    first_byte_at: Option<Instant>,
    bytes: u64,
    outcome: &'static str,
    done: bool,
}

impl BodyWatch for LogEntry {
    fn on_data(&mut self, data: &bytes::Bytes) {
        if self.first_byte_at.is_none() && !data.is_empty() {
            self.first_byte_at = Some(Instant::now());
        }
        self.bytes += data.len() as u64;
    }

    fn on_end(&mut self, error: Option<&BodyError>) {
        self.outcome = if error.is_some() {
            "aborted"
        } else {
            "complete"
        };
        // Inner watches (usage, in-flight) have seen the end already.
        self.finish();
    }
}

impl LogEntry {
    /// Builds the record, logs it and feeds the telemetry sinks; once.
    fn finish(&mut self) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let _entered = self.span.enter();
        let route = self.route.take().unwrap_or_default();
        let (id, fields) = match &self.ctx {
            Some(ctx) => (Arc::clone(&ctx.id), ctx.telemetry.snapshot()),
            None => (Arc::from(""), Default::default()),
        };
        let timings = Timings {
            started: self.started,
            headers_at: self.headers_at,
            first_byte_at: self.first_byte_at,
            ended_at: Instant::now(),
        };
        let done = Completed::new(
            id,
            (
                std::mem::take(&mut self.method),
                std::mem::take(&mut self.path),
                self.status,
            ),
            self.outcome,
            self.relay_error,
            fields,
            timings,
            self.bytes,
        );
        if self.operator {
            tracing::debug!(
                method = %done.method,
                path = %done.path,
                status = done.status,
                duration_ms = millis(done.latency),
                "request finished"
            );
            return;
        }
        log_line(&done, &route);
        if let Some(ctx) = &self.ctx
            && done.path != "/health"
        {
            self.state.telemetry.complete(&done, &ctx.runtime.config);
        }
    }
}

impl Drop for LogEntry {
    fn drop(&mut self) {
        // The client went away (or the body was never polled to its end).
        self.finish();
    }
}

/// The `request finished` line: every field structured, for JSON logs.
fn log_line(done: &Completed, route: &RouteInfo) {
    let fields = &done.fields;
    let usage = fields.usage.unwrap_or_default();
    // Strings as `&str`, not `%` Display: a formatter records them directly.
    let failovers = done.failover_reasons().join(",");
    tracing::info!(
        request_id = &*done.id,
        method = done.method.as_str(),
        path = done.path.as_str(),
        status = done.status,
        provider = fields.provider.as_deref().unwrap_or(""),
        model = fields.model.as_deref().unwrap_or(""),
        key_id = fields.key_id.as_deref().unwrap_or(""),
        attempts = fields.attempts,
        failovers = failovers.as_str(),
        stream = fields.stream,
        affinity = route.affinity_hit,
        relay_error = done.relay_error.unwrap_or(""),
        duration_ms = millis(done.latency),
        ttfb_ms = millis(done.ttfb),
        overhead_ms = millis(done.overhead),
        upstream_ms = millis(fields.upstream_wait),
        input_tokens = usage.input_tokens,
        output_tokens = usage.output_tokens,
        cache_read_tokens = usage.cache_read_input_tokens,
        cache_creation_tokens = usage.cache_creation_input_tokens,
        bytes = done.bytes,
        outcome = done.outcome,
        "request finished"
    );
}

/// `name: value` pairs with every credential replaced.
pub fn redacted_headers(headers: &HeaderMap) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let shown = if is_secret_header(name) || name == ADMIN_TOKEN_HEADER {
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
        headers.insert("x-admin-token", HeaderValue::from_static("adm-secret"));
        let shown = redacted_headers(&headers);
        assert!(!shown.contains("adm-secret"));
        assert!(!shown.contains("sk-ant-secret"));
        assert!(!shown.contains("tok-secret"));
        assert!(shown.contains("anthropic-version: 2023-06-01"));
    }
}
