//! Per-request state shared by the middleware and the handlers.

use std::sync::Arc;

use crate::runtime::Runtime;

/// Put in each request's extensions by the outermost layer.
#[derive(Clone, Debug)]
pub struct RequestContext {
    /// The one configuration snapshot this request uses from start to end.
    pub runtime: Arc<Runtime>,
}

/// Put in a relayed response's extensions: where the request went.
#[derive(Clone, Debug, Default)]
pub struct RouteInfo {
    pub provider: String,
    pub model: String,
    pub key_id: Option<String>,
    pub attempts: u32,
    pub stream: bool,
    pub affinity_hit: bool,
}
