//! The HTTP transport of the management service: `GET /metrics`,
//! `/admin/*` (JSON, the contract of `relay-admin-api`) and the web
//! dashboard under `/ui/`, on the operator branch of the listener.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use relay_core::ApiError;
use serde::Serialize;
use tower::Service;

use super::{Access, Management, events, ui};
use crate::body::{RelayBody, full};
use crate::context::RequestContext;
use crate::error_response::error_response;
use crate::middleware::ResponseFuture;
use crate::state::AppState;
use crate::telemetry::ScrapeState;

/// The header that may carry the admin token instead of `Authorization: Bearer`.
pub const ADMIN_TOKEN_HEADER: &str = "x-admin-token";

/// Paths served by [`OperatorHandlers`] rather than the API stack.
pub fn is_operator_path(path: &str) -> bool {
    path == "/metrics"
        || path == "/admin"
        || path.starts_with("/admin/")
        || path == "/ui"
        || path.starts_with("/ui/")
}

/// Which operator endpoints a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// The main listener: `/admin/*`, `/ui/`, and `/metrics` unless it has a
    /// listener of its own.
    Main { metrics: bool },
    /// `server.metrics_listen`: `/metrics` only.
    MetricsOnly,
}

/// The handlers for [`is_operator_path`] paths.
#[derive(Clone, Debug)]
pub struct OperatorHandlers {
    pub state: Arc<AppState>,
    pub exposure: Exposure,
}

impl Service<Request<Incoming>> for OperatorHandlers {
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let state = Arc::clone(&self.state);
        let exposure = self.exposure;
        Box::pin(async move {
            Ok(handle(state, exposure, request)
                .await
                .unwrap_or_else(|err| error_response(&err)))
        })
    }
}

async fn handle(
    state: Arc<AppState>,
    exposure: Exposure,
    request: Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    let ctx = request
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .ok_or_else(|| ApiError::internal("request context missing"))?;
    let admin = &ctx.runtime.config.server.admin;
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let no_route = || ApiError::not_found(format!("no route for {method} {path}"));
    if path == "/metrics" {
        let served = matches!(
            exposure,
            Exposure::MetricsOnly | Exposure::Main { metrics: true }
        );
        if !served || !(method == Method::GET || method == Method::HEAD) {
            return Err(no_route());
        }
        if admin.protect_metrics {
            authorize(&ctx, &request)?;
        }
        return metrics(&state, &ctx);
    }
    if exposure == Exposure::MetricsOnly {
        return Err(no_route());
    }
    if path == "/ui/api-state" && method == Method::GET {
        // Tells the page, before sign-in, whether there is an admin API to
        // sign in to (as a 404 vs 401 would, without an error in the
        // browser's console) and which optional pages the relay has.
        let open = admin.token.is_some() || admin.read_only_token.is_some();
        return Ok(json(
            &serde_json::json!({ "admin": open, "features": ui::FEATURES }),
        ));
    }
    if path == "/ui" || path.starts_with("/ui/") {
        // The pages are public (they hold no data); everything they show
        // comes from `/admin/*` with the token the user signs in with.
        return ui::response(&method, &path).ok_or_else(no_route);
    }
    let management = Management::new(state);
    let access = authorize(&ctx, &request)?;
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (&method, segments.as_slice()) {
        (&Method::GET, ["admin", "stats"]) => Ok(json(&management.stats(access))),
        (&Method::GET, ["admin", "config"]) => Ok(json(&management.config())),
        (&Method::GET, ["admin", "events"]) => Ok(events::response(management.events())),
        (&Method::POST, ["admin", "providers", name, action @ ("disable" | "enable")]) => {
            let name = percent_decode(name);
            Ok(json(&management.switch_provider(
                access,
                &name,
                *action == "disable",
            )?))
        }
        (&Method::POST, ["admin", "reload"]) => Ok(json(&management.reload(access).await?)),
        _ => Err(no_route()),
    }
}

/// Checks the admin token (`Authorization: Bearer` or `x-admin-token`).
fn authorize(ctx: &RequestContext, request: &Request<Incoming>) -> Result<Access, ApiError> {
    let headers = request.headers();
    let presented = headers
        .get(ADMIN_TOKEN_HEADER)
        .map(HeaderValue::as_bytes)
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| relay_auth::bearer_token(v.as_bytes()))
        });
    Access::check(&ctx.runtime.config.server.admin, presented).map_err(|error| {
        if matches!(error, super::AdminError::WrongToken) {
            tracing::warn!(path = %request.uri().path(), "admin request with a wrong token");
        }
        error.into()
    })
}

fn metrics(state: &AppState, ctx: &RequestContext) -> Result<Response<RelayBody>, ApiError> {
    let scrape = ScrapeState {
        in_flight: state.in_flight.load(std::sync::atomic::Ordering::Acquire),
        generation: state.config_generation(),
        uptime: state.started.elapsed(),
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

/// A 200 JSON response.
fn json(value: &impl Serialize) -> Response<RelayBody> {
    let body = serde_json::to_string(value).unwrap_or_default();
    let mut response = Response::new(full(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `%XX` escapes in a path segment (a provider name) decoded; anything
/// malformed is kept as written.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (byte, ..) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
