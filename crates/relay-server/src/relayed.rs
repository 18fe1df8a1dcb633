//! The client's response for a delivered upstream response: the upstream's
//! status and headers (less hop-by-hop ones), SSE anti-buffering headers, the
//! relay's routing headers, and the body streamed through.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Response, header};
use hyper::body::Incoming;
use relay_providers::ResponseDecoder;
use relay_router::{Attempt, Router};
use tokio::time::Instant;

use crate::body::RelayBody;
use crate::context::RouteInfo;
use crate::stream::UpstreamBody;

pub fn relay_response(
    upstream: Response<Incoming>,
    decoder: Option<Box<dyn ResponseDecoder>>,
    idle_timeout: Duration,
    route: RouteInfo,
    routing: HeaderMap,
) -> Response<RelayBody> {
    let (parts, body) = upstream.into_parts();
    let decoded = decoder.is_some();
    let is_sse = decoded
        || parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            });

    let mut headers = HeaderMap::with_capacity(parts.headers.len() + routing.len() + 3);
    for (name, value) in &parts.headers {
        let replaced = decoded && name == header::CONTENT_TYPE;
        if replaced || relay_core::is_hop_by_hop(name) || (is_sse && name == header::CONTENT_LENGTH)
        {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    if decoded {
        // The decoder's output is Anthropic SSE, whatever the upstream called its body.
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
    }
    if is_sse {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-transform"),
        );
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    headers.extend(routing);
    let body = UpstreamBody::new(body, idle_timeout, is_sse, decoder);
    let mut response = Response::new(http_body_util::BodyExt::boxed_unsync(body));
    *response.status_mut() = parts.status;
    *response.headers_mut() = headers;
    response.extensions_mut().insert(route);
    response
}

/// `X-CC-Relay-Key-ID`, `-Keys-Total`, `-Keys-Available` on every relayed
/// response (the id is a short hash, never the key), and with
/// `routing.debug`, `-Strategy`, `-Provider`, `-Health`, `-Affinity`.
pub fn routing_headers(router: &Router, attempt: &Attempt, now: Instant) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    let Some(target) = router.target(&attempt.provider) else {
        return HeaderMap::new();
    };
    if let Some(key_id) = &attempt.key_id {
        put("x-cc-relay-key-id", key_id);
    }
    put("x-cc-relay-keys-total", &target.pool.len().to_string());
    put(
        "x-cc-relay-keys-available",
        &target.pool.available(now).to_string(),
    );
    if router.debug_headers() {
        put("x-cc-relay-strategy", router.strategy().as_str());
        put("x-cc-relay-provider", &attempt.provider);
        put("x-cc-relay-health", target.health.state(now).as_str());
        put(
            "x-cc-relay-affinity",
            if attempt.affinity_hit { "hit" } else { "miss" },
        );
    }
    headers
}
