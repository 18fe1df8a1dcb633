//! Per-request state shared by the middleware and the handlers.

use std::sync::Arc;

use crate::runtime::Runtime;
use crate::telemetry::RequestTelemetry;

/// Put in each request's extensions by the outermost layer.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The request id (the client's `X-Request-ID`, or a new one).
    pub id: Arc<str>,
    /// The one configuration snapshot this request uses from start to end.
    pub runtime: Arc<Runtime>,
    /// Filled by every stage; emitted once when the response ends.
    pub telemetry: Arc<RequestTelemetry>,
}

/// Put in a relayed response's extensions: where the request went (the
/// rest of the route is in the request's telemetry).
#[derive(Clone, Debug, Default)]
pub struct RouteInfo {
    pub provider: String,
    pub key_id: Option<String>,
    pub affinity_hit: bool,
}
