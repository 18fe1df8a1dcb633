//! The relay handler for `POST /v1/messages` and `/v1/messages/count_tokens`,
//! phases `read` → `plan` → `attempts` (the attempt itself, and the response
//! headers and body watch of a delivered one, are in [`super::attempt`]).
//! Attempts fail over to the next candidate while nothing has reached the
//! client.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use relay_core::{ApiError, CLAUDE_CODE_SESSION_ID, ErrorType, RequestSummary, inspect_request};
use relay_providers::Endpoint;
use relay_router::{Estimate, RouteError, RouteRequest};
use tokio::time::Instant;

use super::attempt::{Attempts, Fallback, Tried};
use super::context::RequestContext;
use crate::body::RelayBody;
use crate::state::AppState;

/// Relays one request. Errors are the relay's own, already in Anthropic form.
pub async fn relay(
    state: &AppState,
    ctx: &mut RequestContext,
    endpoint: Endpoint,
    request: Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    let runtime = Arc::clone(&ctx.runtime);
    let server = &runtime.config.server;
    let (mut parts, body) = request.into_parts();

    // Phase `read`: the whole body, bounded in size and time, and what it asks for.
    let body_stall = Duration::from_millis(server.header_read_timeout_ms);
    let body = read_body(body, &parts.headers, server.max_body_bytes, body_stall).await?;
    let summary = inspect_request(&body)?;
    ctx.telemetry.request(&summary.model, summary.stream);
    let debug = &runtime.config.logging.debug_options;
    if debug.log_request_body {
        log_body(&body, debug.max_body_log_size);
    }
    // The relay's own credentials never travel upstream.
    if let Some(grant) = &ctx.grant {
        for name in &grant.relay_credentials {
            parts.headers.remove(name);
        }
    }

    // Phase `plan`: the router's candidates, best first.
    let session = session_of(&parts.headers, &summary);
    let route_request = RouteRequest {
        model: &summary.model,
        session: session.as_deref(),
        estimate: estimate(&body, &summary),
    };
    let mut plan = match runtime.router.plan(&route_request, Instant::now()) {
        Ok(plan) => plan,
        Err(error) => return Ok(route_error_response(ctx, &error)),
    };

    // Phase `attempts`: one at a time until one is delivered or none is left.
    let attempts = Attempts {
        state,
        runtime: &runtime,
        telemetry: &ctx.telemetry,
        endpoint,
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or(endpoint.as_str(), |pq| pq.as_str()),
        headers: &parts.headers,
        body: &body,
        summary: &summary,
        header_timeout: Duration::from_millis(server.timeout_ms),
        idle_timeout: Duration::from_millis(match server.stream_idle_timeout_ms {
            0 => server.timeout_ms,
            idle => idle,
        }),
        keepalive: (server.sse_keepalive_ms > 0)
            .then(|| Duration::from_millis(server.sse_keepalive_ms)),
    };
    let mut fallback: Option<Fallback> = None;
    loop {
        let attempt = match plan.next_attempt(Instant::now()) {
            Ok(attempt) => attempt,
            Err(exhausted) => {
                return match fallback {
                    Some(Fallback::Held(held)) => {
                        let (response, route) = held.into_response();
                        ctx.route = Some(route);
                        Ok(response)
                    }
                    Some(Fallback::Transport(error) | Fallback::Unsupported(error)) => Err(error),
                    Some(Fallback::Skipped) | None => Ok(route_error_response(ctx, &exhausted)),
                };
            }
        };
        match attempts.try_attempt(&mut plan, attempt).await {
            Tried::Delivered(response, route) => {
                ctx.route = Some(route);
                return Ok(response);
            }
            Tried::Failed(failed) => Fallback::keep_better(&mut fallback, failed),
        }
    }
}

/// The conversation id: Claude Code's session header, else the session part
/// of `metadata.user_id` (`user_…_account_…_session_<uuid>`), else the whole id.
fn session_of(headers: &HeaderMap, summary: &RequestSummary) -> Option<String> {
    if let Some(session) = headers
        .get(CLAUDE_CODE_SESSION_ID)
        .and_then(|v| v.to_str().ok())
    {
        return Some(session.to_owned());
    }
    let user_id = summary.metadata_user_id.as_deref()?;
    Some(
        user_id
            .rsplit_once("_session_")
            .map_or(user_id, |(_, session)| session)
            .to_owned(),
    )
}

/// Tokens to reserve before the real usage is known: about four bytes of
/// JSON per input token, and the request's own output cap.
fn estimate(body: &Bytes, summary: &RequestSummary) -> Estimate {
    Estimate {
        input_tokens: (body.len() / 4) as u64,
        max_output_tokens: summary.max_tokens.unwrap_or(4096),
    }
}

/// Reads the whole request body, refusing one over `limit` bytes without
/// reading it when `Content-Length` already says so, and one that stalls for
/// longer than `stall` between two chunks (a slow client would otherwise hold
/// its request, and a `max_concurrent` slot, for as long as it liked).
async fn read_body(
    mut body: Incoming,
    headers: &HeaderMap,
    limit: u64,
    stall: Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::too_large(format!(
            "request body exceeds the relay's limit of {limit} bytes"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut received = 0usize;
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorType::InvalidRequestError,
                    format!(
                        "the request body stalled for more than {} ms",
                        stall.as_millis()
                    ),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(err))) => {
                return Err(ApiError::invalid_request(format!(
                    "could not read the request body: {err}"
                )));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            received = received.saturating_add(data.len());
            if received > limit {
                return Err(too_large());
            }
            chunks.push(data);
        }
    }
    // The common case, one chunk, is passed on without a copy.
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.swap_remove(0),
        _ => Bytes::from(chunks.concat()),
    })
}

/// Debug logging of a request body (`logging.debug_options.log_request_body`),
/// truncated. Bodies hold conversation text, never the relay's credentials.
fn log_body(body: &Bytes, max: usize) {
    let shown = &body[..body.len().min(max)];
    tracing::debug!(bytes = body.len(), body = %String::from_utf8_lossy(shown), "request body");
}

/// Anthropic-form error for the relay's own refusals, with `retry-after` when known.
fn route_error_response(ctx: &mut RequestContext, error: &RouteError) -> Response<RelayBody> {
    let mut response = ctx.refuse(&ApiError::from(error));
    if let Some(wait) = error.retry_after() {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}
