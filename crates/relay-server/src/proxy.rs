//! `POST /v1/messages` and `/v1/messages/count_tokens`: relay to a provider.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use relay_auth::Grant;
use relay_core::{ApiError, inspect_request};
use relay_providers::{
    ClientRequest, Credential, Endpoint, Provider, ResponseDecoder, prepare_request,
};
use relay_router::RouteRequest;

use crate::body::RelayBody;
use crate::context::{RequestContext, RouteInfo};
use crate::state::AppState;
use crate::stream::UpstreamBody;

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
    let body = read_body(body, &parts.headers, server.max_body_bytes).await?;
    let summary = inspect_request(&body)?;

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
    let client = ClientRequest {
        endpoint,
        path_and_query,
        headers: &parts.headers,
        body: &body,
        summary: &summary,
    };

    let header_timeout = Duration::from_millis(server.timeout_ms);
    let idle_timeout = Duration::from_millis(match server.stream_idle_timeout_ms {
        0 => server.timeout_ms,
        idle => idle,
    });

    let plan = runtime.router.plan(&RouteRequest {
        model: &summary.model,
    })?;
    let mut route = RouteInfo {
        model: summary.model.clone(),
        stream: summary.stream,
        ..RouteInfo::default()
    };
    let mut last_failure: Option<ApiError> = None;
    for attempt in plan {
        route.attempts += 1;
        let Some(provider) = runtime.provider(attempt.provider_index) else {
            continue;
        };
        route.provider = attempt.provider.clone();
        route.key_id = attempt.key.as_ref().map(|key| key.short_id());
        let credential = credential_for(provider.as_ref(), attempt.key.as_ref());
        let upstream_request = prepare_request(provider.as_ref(), &client, credential).await?;
        tracing::debug!(provider = %attempt.provider, uri = %upstream_request.uri(), "sending upstream");
        match state.upstream.send(upstream_request, header_timeout).await {
            Ok(response) => {
                let decoder = response
                    .status()
                    .is_success()
                    .then(|| provider.response_decoder(endpoint, summary.stream))
                    .flatten();
                return Ok(relay_response(response, decoder, idle_timeout, route));
            }
            // Nothing reached the client yet, so the next attempt (if any) may still serve it.
            Err(err) => {
                tracing::warn!(provider = %attempt.provider, error = %err, "upstream attempt failed");
                last_failure = Some(ApiError::from(&err));
            }
        }
    }
    Err(last_failure.unwrap_or_else(|| ApiError::overloaded("no provider could take the request")))
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

/// Reads the whole request body, refusing one over `limit` bytes without
/// reading it when `Content-Length` already says so.
async fn read_body(body: Incoming, headers: &HeaderMap, limit: u64) -> Result<Bytes, ApiError> {
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
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(err) => Err(ApiError::invalid_request(format!(
            "could not read the request body: {err}"
        ))),
    }
}

/// The client's response: the upstream's status and headers (less hop-by-hop
/// ones), SSE anti-buffering headers, and the body streamed through.
fn relay_response(
    upstream: Response<Incoming>,
    decoder: Option<Box<dyn ResponseDecoder>>,
    idle_timeout: Duration,
    route: RouteInfo,
) -> Response<RelayBody> {
    let (parts, body) = upstream.into_parts();
    let decoded = decoder.is_some();
    let is_sse = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });

    let mut headers = HeaderMap::with_capacity(parts.headers.len() + 3);
    for (name, value) in &parts.headers {
        let replaced = decoded && name == header::CONTENT_TYPE;
        if replaced || relay_core::is_hop_by_hop(name) || (is_sse && name == header::CONTENT_LENGTH)
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    if is_sse {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-transform"),
        );
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    let body = UpstreamBody::new(body, idle_timeout, is_sse, decoder);
    let mut response = Response::new(http_body_util::BodyExt::boxed_unsync(body));
    *response.status_mut() = parts.status;
    *response.headers_mut() = headers;
    response.extensions_mut().insert(route);
    if parts.status.is_server_error() || parts.status == StatusCode::TOO_MANY_REQUESTS {
        tracing::info!(
            status = parts.status.as_u16(),
            "relaying an upstream error response"
        );
    }
    response
}
