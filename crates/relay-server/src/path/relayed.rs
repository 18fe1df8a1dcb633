//! The client's response for a delivered upstream response: the upstream's
//! status and headers (less hop-by-hop ones), SSE anti-buffering headers, the
//! relay's routing headers, and the body streamed through.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Response, header};
use hyper::body::Incoming;
use relay_providers::ResponseDecoder;
use relay_router::{Attempt, Router};
use tokio::time::Instant;

use super::stream::{Fidelity, UpstreamBody};
use crate::body::RelayBody;

/// Phase `response headers`, for a delivered attempt. `event_stream` was
/// decided once by the caller (see [`is_event_stream`]).
pub fn relay_response(
    upstream: Response<Incoming>,
    decoder: Option<Box<dyn ResponseDecoder>>,
    event_stream: bool,
    idle_timeout: Duration,
    routing: HeaderMap,
    fidelity: Fidelity,
) -> Response<RelayBody> {
    let (mut parts, body) = upstream.into_parts();
    let decoded = decoder.as_ref().map(|d| d.content_type());

    // Edited in place: copying two dozen headers into a new map re-hashed
    // every name (7k instructions a response); hop-by-hop ones are rare.
    let headers = &mut parts.headers;
    let hop_by_hop: Vec<HeaderName> = headers
        .keys()
        .filter(|name| relay_core::is_hop_by_hop(name))
        .cloned()
        .collect();
    for name in &hop_by_hop {
        headers.remove(name);
    }
    if let Some(content_type) = decoded {
        // The decoder's output is Anthropic's, whatever the upstream called its
        // body, and its length is not the upstream's.
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.remove(header::CONTENT_LENGTH);
    }
    if event_stream {
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-transform"),
        );
        headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    }
    if fidelity.restore_model.is_some() {
        // The client's model id may be longer or shorter than the upstream's.
        headers.remove(header::CONTENT_LENGTH);
    }
    headers.extend(routing);
    let body = UpstreamBody::new(body, idle_timeout, event_stream, decoder, fidelity);
    let mut response = Response::new(http_body_util::BodyExt::boxed_unsync(body));
    *response.status_mut() = parts.status;
    *response.headers_mut() = parts.headers;
    response
}

/// Whether an upstream's response is an event stream, by its `Content-Type`.
pub fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        })
}

/// `X-CC-Relay-Key-ID`, `-Keys-Total`, `-Keys-Available` on every relayed
/// response (the id is a short hash, never the key), and with
/// `routing.debug`, `-Strategy`, `-Provider`, `-Health`, `-Affinity`.
pub fn routing_headers(router: &Router, attempt: &Attempt, now: Instant) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let Some(target) = router.target(&attempt.provider) else {
        return headers;
    };
    if let Some(key_id) = &attempt.key_id {
        put_text(&mut headers, KEY_ID, key_id);
    }
    headers.insert(KEYS_TOTAL, HeaderValue::from(target.pool.len()));
    headers.insert(
        KEYS_AVAILABLE,
        HeaderValue::from(target.pool.available(now)),
    );
    if router.debug_headers() {
        put_text(&mut headers, STRATEGY, router.strategy().as_str());
        put_text(&mut headers, PROVIDER, &attempt.provider);
        put_text(&mut headers, HEALTH, target.health.state(now).as_str());
        let affinity = if attempt.affinity_hit { "hit" } else { "miss" };
        put_text(&mut headers, AFFINITY, affinity);
    }
    headers
}

/// Sets a header from text, skipping values a header cannot carry.
fn put_text(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

// Built at compile time: `from_static` at run time validates the name each call.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
const KEY_ID: HeaderName = HeaderName::from_static("x-cc-relay-key-id");
const KEYS_TOTAL: HeaderName = HeaderName::from_static("x-cc-relay-keys-total");
const KEYS_AVAILABLE: HeaderName = HeaderName::from_static("x-cc-relay-keys-available");
const STRATEGY: HeaderName = HeaderName::from_static("x-cc-relay-strategy");
const PROVIDER: HeaderName = HeaderName::from_static("x-cc-relay-provider");
const HEALTH: HeaderName = HeaderName::from_static("x-cc-relay-health");
const AFFINITY: HeaderName = HeaderName::from_static("x-cc-relay-affinity");
