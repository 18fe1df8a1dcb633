//! The request path: everything between hyper handing over a request and
//! the last byte of its response, as named phases in the order they run
//! (after Pingora's `ProxyHttp` hooks). Each phase says when it runs and
//! what it may change.
//!
//! 1. `accept` ([`context::RequestContext::accept`]): request id and the
//!    configuration snapshot; opens the request's span.
//! 2. `route` ([`routes::lookup`]): the route table entry for method, path
//!    and listener.
//! 3. `authenticate` ([`auth::authenticate`]): the client's key, when the
//!    route asks for it; records the grant.
//! 4. `admit` ([`admission::admit`]): a `max_concurrent` slot, when the route
//!    counts.
//! 5. the handler: the relay ([`relay`]: `read` → `plan` → `attempts`, each
//!    attempt in [`attempt`]: `response headers` in [`relayed`], `body
//!    watch` in [`observe`] and [`stream`]), the relay's own endpoints
//!    ([`api`]), or the operator endpoints (`crate::admin`).
//! 6. `respond` ([`respond`]): the request id header, `Connection: close` on
//!    refusals ([`refusal`]).
//! 7. `telemetry` ([`access_log`]): when the body ends, the log line, the
//!    metrics, stats and events.
//!
//! Per-request facts travel in the one [`context::RequestContext`], owned by
//! the request's future. Body watches ([`watch`]) see a response end without
//! buffering it. The whole path is one future per request; nothing here uses
//! tower's readiness.

mod access_log;
mod admission;
mod api;
mod attempt;
mod auth;
mod context;
mod estimate;
mod observe;
mod refusal;
mod relay;
mod relayed;
mod routes;
mod stream;
mod thinking;
mod watch;

use std::convert::Infallible;
use std::sync::Arc;

use http::{HeaderValue, Request, Response, Version};
use http_body::Body as _;
use hyper::body::Incoming;
use relay_core::{ApiError, REQUEST_ID};
use relay_providers::Endpoint;
use tracing::Instrument;

pub use context::RequestContext;
pub use routes::Listener;

use admission::Slot;
use routes::{Handler, Route};

use crate::admin;
use crate::body::RelayBody;
use crate::state::AppState;

/// The hyper service of a listener: [`serve`] for each request. No tower
/// stack, no readiness, no box: the path is one future.
pub fn service(
    state: Arc<AppState>,
    listener: Listener,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<RelayBody>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    hyper::service::service_fn(move |request| {
        let state = Arc::clone(&state);
        async move { Ok(serve(state, listener, request).await) }
    })
}

/// Serves one request that arrived on `listener`, start to end.
pub async fn serve(
    state: Arc<AppState>,
    listener: Listener,
    request: Request<Incoming>,
) -> Response<RelayBody> {
    let ctx = RequestContext::accept(&state, &request);
    // `&str` fields, not `%` Display ones: recorded without formatting machinery.
    let span = tracing::info_span!(
        "request",
        id = &*ctx.id,
        method = request.method().as_str(),
        path = request.uri().path()
    );
    run(state, listener, ctx, request).instrument(span).await
}

async fn run(
    state: Arc<AppState>,
    listener: Listener,
    mut ctx: RequestContext,
    request: Request<Incoming>,
) -> Response<RelayBody> {
    let arrival = access_log::Arrival::note(&request);
    let route = routes::lookup(
        listener,
        request.method(),
        request.uri().path(),
        &ctx.runtime.config.server,
    );
    // Noted now: the handler may consume the body.
    let http1_with_body = request.version() <= Version::HTTP_11 && !request.body().is_end_stream();
    let mut slot = None;
    let response = match handle(&state, route, &mut ctx, &mut slot, request).await {
        Ok(response) => response,
        Err(error) => ctx.refuse(&error),
    };
    let response = respond(response, &ctx, http1_with_body);
    access_log::watch(response, arrival, ctx, state, route.traffic, slot)
}

/// Phases `authenticate`, `admit`, then the route's handler.
async fn handle(
    state: &Arc<AppState>,
    route: Route,
    ctx: &mut RequestContext,
    slot: &mut Option<Slot>,
    request: Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    if route.client_auth {
        auth::authenticate(ctx, request.headers())?;
    }
    if route.admission {
        *slot = Some(admission::admit(state, ctx)?);
    }
    match route.handler {
        Handler::Messages => relay::relay(state, ctx, Endpoint::Messages, request).await,
        Handler::CountTokens => relay::relay(state, ctx, Endpoint::CountTokens, request).await,
        Handler::Models => Ok(api::models(
            &ctx.runtime,
            request.uri().query(),
            state.started_at,
        )),
        Handler::Providers => Ok(api::providers(&ctx.runtime)),
        Handler::Health => Ok(api::health()),
        Handler::Metrics => admin::metrics_endpoint(state, ctx, &request),
        Handler::Admin => admin::handle(state, ctx, request).await,
        Handler::NotFound => Err(ApiError::not_found(format!(
            "no route for {} {}",
            request.method(),
            request.uri().path()
        ))),
    }
}

/// Phase `respond`: runs once the handler's response (or refusal) is
/// final, before the body starts. Adds the request id; closes an HTTP/1
/// connection whose request body a refusal left unread.
fn respond(
    mut response: Response<RelayBody>,
    ctx: &RequestContext,
    http1_with_body: bool,
) -> Response<RelayBody> {
    if ctx.relay_error.is_some() {
        refusal::close_if_body_unread(&mut response, http1_with_body);
    }
    if let Ok(value) = HeaderValue::from_str(&ctx.id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}
