//! Phase `telemetry`, last: one structured log line per request, written
//! when its response body ends (a stream is logged when it finishes, not
//! when it starts), with the
//! request's telemetry: where it went, its timings and token counts. The same
//! finished record feeds the metrics, `/admin/stats` and `/admin/events`.
//! Credentials are never logged: header values are shown only at debug
//! level, with secret ones replaced by `[redacted]`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use hyper::body::Incoming;
use relay_core::{REDACTED, is_secret_header};

use super::admission::Slot;
use super::context::{RequestContext, RouteInfo};
use super::routes::Traffic;
use super::watch::{BodyWatch, watch_body};
use crate::admin::ADMIN_TOKEN_HEADER;
use crate::body::{BodyError, RelayBody};
use crate::state::AppState;
use crate::telemetry::{Completed, Timings, millis};

/// What the log needs from the request, taken when it arrives.
pub struct Arrival {
    started: Instant,
    method: String,
    path: String,
}

impl Arrival {
    /// Runs right after `accept`: notes the time and what was asked.
    pub fn note(request: &Request<Incoming>) -> Self {
        let started = Instant::now();
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(headers = %redacted_headers(request.headers()), "request received");
        }
        Self {
            started,
            method: request.method().to_string(),
            path: request.uri().path().to_owned(),
        }
    }
}

/// Runs once the response head is final: attaches the watch that logs the
/// request and feeds the telemetry when the body ends (or is dropped). It
/// owns the request's context from here on, and its `max_concurrent` slot,
/// released when the body is done with.
pub fn watch(
    response: Response<RelayBody>,
    arrival: Arrival,
    ctx: RequestContext,
    state: Arc<AppState>,
    traffic: Traffic,
    slot: Option<Slot>,
) -> Response<RelayBody> {
    let entry = LogEntry {
        span: tracing::Span::current(),
        state,
        status: response.status().as_u16(),
        ctx,
        traffic,
        method: arrival.method,
        path: arrival.path,
        started: arrival.started,
        headers_at: Instant::now(),
        first_byte_at: None,
        bytes: 0,
        outcome: "client_closed",
        done: false,
        _slot: slot,
    };
    watch_body(response, entry)
}

struct LogEntry {
    span: tracing::Span,
    state: Arc<AppState>,
    ctx: RequestContext,
    traffic: Traffic,
    method: String,
    path: String,
    status: u16,
    started: Instant,
    headers_at: Instant,
    first_byte_at: Option<Instant>,
    bytes: u64,
    outcome: &'static str,
    done: bool,
    /// Dropped with the entry, after the body (and its inner watches).
    _slot: Option<Slot>,
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
        // The inner watch (usage, signatures) has seen the end already.
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
        let route = self.ctx.route.take().unwrap_or_default();
        let timings = Timings {
            started: self.started,
            headers_at: self.headers_at,
            first_byte_at: self.first_byte_at,
            ended_at: Instant::now(),
        };
        let done = Completed::new(
            Arc::clone(&self.ctx.id),
            (
                std::mem::take(&mut self.method),
                std::mem::take(&mut self.path),
                self.status,
            ),
            self.outcome,
            self.ctx.relay_error,
            self.ctx.telemetry.snapshot(),
            timings,
            self.bytes,
        );
        match self.traffic {
            Traffic::Operator => tracing::debug!(
                method = %done.method,
                path = %done.path,
                status = done.status,
                duration_ms = millis(done.latency),
                "request finished"
            ),
            Traffic::Probe => log_line(&done, &route),
            Traffic::Api => {
                log_line(&done, &route);
                self.state
                    .telemetry
                    .complete(&done, &self.ctx.runtime.config);
            }
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
