//! The operator endpoints: `GET /metrics` and the management API under
//! `/admin/`, routed here by the request path's route table. They bypass the clients' authentication and the concurrency
//! limit (a dashboard must see a relay that is full), and have their own
//! token, `server.admin.token`:
//!
//! - no token configured: `/admin/*` answers 404 as if it did not exist;
//! - a missing or wrong token: 401; compared in constant time;
//! - `server.admin.read_only` (the default): write actions answer 403.
//!
//! `/metrics` is open unless `server.admin.protect_metrics` is set. Nothing
//! any of them returns contains a secret: keys appear as short ids.

mod actions;
mod events;
mod stats;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use relay_core::{ApiError, ErrorType};

use crate::body::{RelayBody, full};
use crate::path::RequestContext;
use crate::state::AppState;
use crate::telemetry::ScrapeState;

/// The header that may carry the admin token instead of `Authorization: Bearer`.
pub const ADMIN_TOKEN_HEADER: &str = "x-admin-token";

/// `GET /metrics` (where the route table serves it): open, unless
/// `server.admin.protect_metrics` asks for the admin token.
pub fn metrics_endpoint(
    state: &AppState,
    ctx: &RequestContext,
    request: &Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    let method = request.method();
    if !(method == Method::GET || method == Method::HEAD) {
        return Err(ApiError::not_found(format!(
            "no route for {method} {}",
            request.uri().path()
        )));
    }
    if ctx.runtime.config.server.admin.protect_metrics {
        authorize(ctx, request)?;
    }
    metrics(state, ctx)
}

/// `/admin` and everything under it, on the main listener.
pub async fn handle(
    state: &AppState,
    ctx: &RequestContext,
    request: Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let no_route = || ApiError::not_found(format!("no route for {method} {path}"));
    if ctx.runtime.config.server.admin.token.is_none() {
        return Err(no_route());
    }
    authorize(ctx, &request)?;
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, ["admin", "stats"]) => Ok(stats::response(state, &ctx.runtime)),
        (&Method::GET, ["admin", "events"]) => Ok(events::response(state)),
        (&Method::POST, ["admin", "providers", name, action @ ("disable" | "enable")]) => {
            writable(ctx)?;
            actions::switch_provider(&ctx.runtime, name, *action == "disable")
        }
        (&Method::POST, ["admin", "reload"]) => {
            writable(ctx)?;
            actions::reload(state).await
        }
        _ => Err(no_route()),
    }
}

/// Checks the admin token (`Authorization: Bearer` or `x-admin-token`).
fn authorize(ctx: &RequestContext, request: &Request<Incoming>) -> Result<(), ApiError> {
    let Some(token) = &ctx.runtime.config.server.admin.token else {
        return Err(ApiError::not_found("the admin API is disabled"));
    };
    let headers = request.headers();
    let presented = headers
        .get(ADMIN_TOKEN_HEADER)
        .map(HeaderValue::as_bytes)
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| relay_auth::bearer_token(v.as_bytes()))
        });
    match presented {
        Some(presented) if relay_auth::secret_matches(token, presented) => Ok(()),
        Some(_) => {
            tracing::warn!(path = %request.uri().path(), "admin request with a wrong token");
            Err(ApiError::authentication("invalid admin token"))
        }
        None => Err(ApiError::authentication(format!(
            "missing admin token: send Authorization: Bearer <server.admin.token> or {ADMIN_TOKEN_HEADER}"
        ))),
    }
}

/// Refuses write actions while `server.admin.read_only` is set.
fn writable(ctx: &RequestContext) -> Result<(), ApiError> {
    if ctx.runtime.config.server.admin.read_only {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorType::PermissionError,
            "the admin API is read-only: set server.admin.read_only: false to allow write actions",
        ));
    }
    Ok(())
}

fn metrics(state: &AppState, ctx: &RequestContext) -> Result<Response<RelayBody>, ApiError> {
    let scrape = ScrapeState {
        in_flight: state.in_flight.load(std::sync::atomic::Ordering::Acquire),
        generation: state.config_generation(),
        uptime: state.started.elapsed(),
        state: state.shared_state_status(),
    };
    let text = state
        .telemetry
        .metrics
        .encode(&ctx.runtime, scrape)
        .map_err(|_| ApiError::internal("could not encode the metrics"))?;
    let mut response = Response::new(full(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

/// A JSON response.
fn json(status: StatusCode, value: &serde_json::Value) -> Response<RelayBody> {
    let mut response = Response::new(full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
