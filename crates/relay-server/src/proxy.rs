//! `POST /v1/messages` and `/v1/messages/count_tokens`: relay to a provider,
//! failing over to the next candidate while nothing has reached the client.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use relay_auth::Grant;
use relay_core::{
    ApiError, CLAUDE_CODE_SESSION_ID, ErrorType, Fault, RequestSummary, inspect_request,
};
use relay_providers::{ClientRequest, Credential, Endpoint, Provider, prepare_request};
use relay_router::{Estimate, Outcome, RouteError, RouteRequest, TransportFailure, Verdict};
use tokio::time::Instant;

use crate::body::{RelayBody, full};
use crate::context::{RequestContext, RouteInfo};
use crate::error_response::error_response;
use crate::middleware::watch::watch_body;
use crate::observe::DeliveryWatch;
use crate::relayed::{relay_response, routing_headers};
use crate::state::AppState;
use crate::thinking::body_for;
use crate::upstream::UpstreamError;

/// The most of an upstream error body read to classify and translate it.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// An upstream error response held back while other candidates are tried,
/// delivered if none of them does better.
struct HeldResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    route: RouteInfo,
}

/// Relays one request. Errors are the relay's own, already in Anthropic form.
pub async fn relay(
    state: &AppState,
    ctx: &RequestContext,
    endpoint: Endpoint,
    request: Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    let runtime = Arc::clone(&ctx.runtime);
    let server = &runtime.config.server;
    let (mut parts, body) = request.into_parts();
    let body_stall = Duration::from_millis(server.header_read_timeout_ms);
    let body = read_body(body, &parts.headers, server.max_body_bytes, body_stall).await?;
    let summary = inspect_request(&body)?;
    let telemetry = &ctx.telemetry;
    telemetry.request(&summary.model, summary.stream);
    if runtime.config.logging.debug_options.log_request_body {
        log_body(
            &body,
            runtime.config.logging.debug_options.max_body_log_size,
        );
    }

    // The relay's own credentials never travel upstream.
    if let Some(grant) = parts.extensions.get::<Grant>() {
        for name in &grant.relay_credentials {
            parts.headers.remove(name);
        }
    }
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(endpoint.as_str(), |pq| pq.as_str());
    let session = session_of(&parts.headers, &summary);
    let route_request = RouteRequest {
        model: &summary.model,
        session: session.as_deref(),
        estimate: estimate(&body, &summary),
    };
    let header_timeout = Duration::from_millis(server.timeout_ms);
    let idle_timeout = Duration::from_millis(match server.stream_idle_timeout_ms {
        0 => server.timeout_ms,
        idle => idle,
    });

    let router = &runtime.router;
    let mut plan = match router.plan(&route_request, Instant::now()) {
        Ok(plan) => plan,
        Err(error) => return Ok(route_error_response(&error)),
    };
    let mut held: Option<HeldResponse> = None;
    let mut last_transport: Option<ApiError> = None;
    let mut unsupported: Option<ApiError> = None;
    loop {
        let attempt = match plan.next_attempt(Instant::now()) {
            Ok(attempt) => attempt,
            Err(exhausted) => {
                // The client sees the last upstream answer when every candidate failed.
                return match (held, last_transport.or(unsupported)) {
                    (Some(held), _) => Ok(held_response(held)),
                    (None, Some(error)) => Err(error),
                    (None, None) => Ok(route_error_response(&exhausted)),
                };
            }
        };
        let Some(provider) = runtime.provider(attempt.provider_index) else {
            continue;
        };
        if !provider.supports(endpoint) {
            // Not a failure of the provider: it simply does not offer this endpoint.
            unsupported = Some(ApiError::not_found(format!(
                "provider `{}` does not support {}, and no other provider could take the request",
                attempt.provider,
                endpoint.as_str()
            )));
            plan.skip(attempt);
            continue;
        }
        telemetry.attempt(&attempt.provider, attempt.key_id.as_deref());
        let route = RouteInfo {
            provider: attempt.provider.to_string(),
            key_id: attempt.key_id.clone(),
            affinity_hit: attempt.affinity_hit,
        };
        let attempt_body = body_for(&body, &summary, router, &attempt.provider);
        let client = ClientRequest {
            endpoint,
            path_and_query,
            headers: &parts.headers,
            body: &attempt_body,
            summary: &summary,
        };
        let credential = credential_for(provider.as_ref(), attempt.key.as_ref());
        let upstream_request = match prepare_request(provider.as_ref(), &client, credential).await {
            Ok(request) => request,
            Err(err) if err.is_refusal() => {
                // The request asks for what this provider cannot do: not its
                // failure, so no breaker or key is charged; another may serve it.
                tracing::debug!(provider = %attempt.provider, error = %err, "provider cannot serve this request");
                unsupported = Some(err.into());
                plan.skip(attempt);
                continue;
            }
            Err(err) => {
                tracing::warn!(provider = %attempt.provider, error = %err, "could not prepare the upstream request");
                let provider = Arc::clone(&attempt.provider);
                let verdict = plan.report(
                    attempt,
                    Outcome::Transport(TransportFailure::Connect),
                    Instant::now(),
                );
                note_retry(ctx, &provider, &verdict);
                last_transport = Some(err.into());
                continue;
            }
        };
        tracing::debug!(provider = %route.provider, key_id = ?route.key_id, "sending upstream");
        let sent = Instant::now();
        let answer = state.upstream.send(upstream_request, header_timeout).await;
        telemetry.waited(sent.elapsed());
        let provider_name = Arc::clone(&attempt.provider);
        match answer {
            Err(err) => {
                tracing::warn!(provider = %route.provider, error = %err, "upstream attempt failed");
                let failure = match err {
                    UpstreamError::Connect(_) => TransportFailure::Connect,
                    UpstreamError::Timeout(_) => TransportFailure::Timeout,
                    UpstreamError::Transport(_) => TransportFailure::Broken,
                };
                let verdict = plan.report(attempt, Outcome::Transport(failure), Instant::now());
                note_retry(ctx, &provider_name, &verdict);
                last_transport = Some(ApiError::from(&err));
            }
            Ok(response) if response.status().is_success() => {
                let (parts, body) = response.into_parts();
                let outcome = Outcome::Response {
                    status: parts.status.as_u16(),
                    headers: &parts.headers,
                    error_body: None,
                };
                let key_headers = routing_headers(router, &attempt, Instant::now());
                let verdict = plan.report(attempt, outcome, Instant::now());
                note_retry(ctx, &provider_name, &verdict);
                let Verdict::Deliver(delivery) = verdict else {
                    continue;
                };
                let decoder = provider.response_decoder(endpoint, summary.stream);
                let response = relay_response(
                    Response::from_parts(parts, body),
                    decoder,
                    idle_timeout,
                    route,
                    key_headers,
                );
                let is_sse = is_event_stream(response.headers());
                let watch = DeliveryWatch::new(delivery, is_sse, Arc::clone(telemetry));
                return Ok(watch_body(response, watch));
            }
            Ok(response) => {
                let (parts, body) = response.into_parts();
                let reading = Instant::now();
                let error_body = read_error_body(body, header_timeout).await;
                telemetry.waited(reading.elapsed());
                let error_body = match error_body {
                    Ok(body) => body,
                    Err((failure, why)) => {
                        let verdict =
                            plan.report(attempt, Outcome::Transport(failure), Instant::now());
                        note_retry(ctx, &provider_name, &verdict);
                        last_transport = Some(ApiError::bad_gateway(why));
                        continue;
                    }
                };
                let original = error_body.clone();
                let (status, error_body) =
                    provider.translate_error(parts.status, &parts.headers, error_body);
                let translated = status != parts.status || error_body != original;
                let outcome = Outcome::Response {
                    status: status.as_u16(),
                    headers: &parts.headers,
                    error_body: Some(&error_body),
                };
                let mut headers = parts.headers.clone();
                if translated {
                    // The body is now Anthropic's JSON, whatever the backend sent.
                    headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
                headers.extend(routing_headers(router, &attempt, Instant::now()));
                match plan.report(attempt, outcome, Instant::now()) {
                    Verdict::Deliver(delivery) => {
                        delivery.finish(None, &[], false);
                        return Ok(held_response(HeldResponse {
                            status,
                            headers,
                            body: error_body,
                            route,
                        }));
                    }
                    Verdict::Retry(reason) => {
                        telemetry.abandoned(&provider_name, reason);
                        tracing::info!(provider = %route.provider, status = status.as_u16(), reason = reason.as_str(), "failing over");
                        held = Some(HeldResponse {
                            status,
                            headers,
                            body: error_body,
                            route,
                        });
                    }
                }
            }
        }
    }
}

/// Records an abandoned attempt in the request's telemetry.
fn note_retry(ctx: &RequestContext, provider: &Arc<str>, verdict: &Verdict) {
    if let Verdict::Retry(reason) = verdict {
        ctx.telemetry.abandoned(provider, *reason);
    }
}

fn credential_for<'a>(
    provider: &dyn Provider,
    key: Option<&'a relay_core::Secret>,
) -> Credential<'a> {
    match key {
        Some(key) => Credential::Key(key),
        None if provider.passthrough_client_credentials() => Credential::ClientOwn,
        None => Credential::None,
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

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        })
}

fn held_response(held: HeldResponse) -> Response<RelayBody> {
    let mut response = Response::new(full(held.body));
    *response.status_mut() = held.status;
    for (name, value) in &held.headers {
        if !(relay_core::is_hop_by_hop(name) || name == header::CONTENT_LENGTH) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response.extensions_mut().insert(held.route);
    response
}

/// Reads an upstream error body, bounded in size and time.
async fn read_error_body(
    body: Incoming,
    timeout: Duration,
) -> Result<Bytes, (TransportFailure, &'static str)> {
    let collect = Limited::new(body, MAX_ERROR_BODY).collect();
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => Err((
            TransportFailure::Timeout,
            "the upstream's error response did not arrive in time",
        )),
        Ok(Err(err)) if err.is::<LengthLimitError>() => Err((
            TransportFailure::Broken,
            "the upstream's error response was larger than 1 MiB",
        )),
        Ok(Err(_)) => Err((
            TransportFailure::Broken,
            "the upstream's error response was cut short",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
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
                    Fault::Client,
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
fn route_error_response(error: &RouteError) -> Response<RelayBody> {
    let mut response = error_response(&ApiError::from(error));
    if let Some(wait) = error.retry_after() {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}
