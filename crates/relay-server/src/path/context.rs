//! The one per-request context: every fact a phase learns about a request
//! and a later phase needs travels here, not in request or response
//! extensions. It is owned by the request's future; only the telemetry slot
//! is shared, with the body watches that fill it after the handler returned.

use std::sync::Arc;

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use relay_auth::Grant;
use relay_core::{ApiError, REQUEST_ID};

use crate::body::RelayBody;
use crate::runtime::Runtime;
use crate::state::AppState;
use crate::telemetry::RequestTelemetry;

use super::refusal;

/// What the phases know about one request.
#[derive(Debug)]
pub struct RequestContext {
    /// The request id (the client's `X-Request-ID`, or a new one).
    pub id: Arc<str>,
    /// The one configuration snapshot this request uses from start to end.
    pub runtime: Arc<Runtime>,
    /// Set by the auth phase: which headers carried the relay's own credentials.
    pub grant: Option<Grant>,
    /// Set by the relay once an attempt answered: where the request went (the
    /// rest of the route is in the telemetry).
    pub route: Option<RouteInfo>,
    /// Set when the relay answered with its own error (not an upstream's):
    /// the error type, for the log, and for `Connection: close` on refusals.
    pub relay_error: Option<&'static str>,
    /// Filled by every phase and body watch; emitted once when the response ends.
    pub telemetry: Arc<RequestTelemetry>,
}

/// Where a relayed request went.
#[derive(Clone, Debug, Default)]
pub struct RouteInfo {
    pub provider: String,
    pub key_id: Option<String>,
    pub affinity_hit: bool,
}

impl RequestContext {
    /// Phase `accept`, first of all: a request id (the client's
    /// `X-Request-ID` if sane, else a new one) and the configuration snapshot
    /// the request will use to its end. Changes nothing on the request.
    pub fn accept(state: &AppState, request: &Request<Incoming>) -> Self {
        let id: Arc<str> = match request.headers().get(REQUEST_ID).and_then(acceptable_id) {
            Some(id) => id.into(),
            None => {
                let mut text = uuid::Uuid::encode_buffer();
                Arc::from(&*uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text))
            }
        };
        Self {
            id,
            runtime: state.snapshot(),
            grant: None,
            route: None,
            relay_error: None,
            telemetry: Arc::default(),
        }
    }

    /// The relay's own Anthropic-shaped error response for `error`, marked as
    /// the relay's in this context.
    pub fn refuse(&mut self, error: &ApiError) -> Response<RelayBody> {
        self.relay_error = Some(error.error_type.as_str());
        refusal::error_response(error)
    }
}

/// A client-sent id is kept if it is short, visible ASCII (it is logged and echoed).
fn acceptable_id(value: &HeaderValue) -> Option<&str> {
    let id = value.to_str().ok()?;
    let sane = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
    sane.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_kept_only_when_sane() {
        assert_eq!(
            acceptable_id(&HeaderValue::from_static("req-123_abc")),
            Some("req-123_abc")
        );
        assert_eq!(acceptable_id(&HeaderValue::from_static("has space")), None);
        assert_eq!(
            acceptable_id(&HeaderValue::from_str(&"x".repeat(129)).unwrap()),
            None
        );
    }
}
