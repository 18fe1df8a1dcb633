//! Path dispatch, and the assembled middleware stacks.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, Request, Response};
use hyper::body::Incoming;
use relay_core::ApiError;
use relay_providers::Endpoint;
use tower::{Service, ServiceBuilder};

use crate::admin::{Exposure, OperatorHandlers, is_operator_path};
use crate::api;
use crate::body::RelayBody;
use crate::context::RequestContext;
use crate::error_response::error_response;
use crate::middleware::access_log::AccessLogLayer;
use crate::middleware::auth::AuthLayer;
use crate::middleware::concurrency::ConcurrencyLayer;
use crate::middleware::context::ContextLayer;
use crate::middleware::{HttpService, ResponseFuture};
use crate::proxy;
use crate::state::AppState;

/// The full stack for one relay: context → access log → then either the
/// operator endpoints (`/metrics`, `/admin/*`: their own token, no client
/// auth, no concurrency slot) or auth → concurrency → handlers.
pub fn relay_service(state: Arc<AppState>) -> impl HttpService {
    let metrics_here = state.snapshot().config.server.metrics_listen.is_none();
    let operator = OperatorHandlers {
        state: Arc::clone(&state),
        exposure: Exposure::Main {
            metrics: metrics_here,
        },
    };
    let api = ServiceBuilder::new()
        .layer(AuthLayer)
        .layer(ConcurrencyLayer::new(Arc::clone(&state)))
        .service(Handlers {
            state: Arc::clone(&state),
        });
    ServiceBuilder::new()
        .layer(ContextLayer::new(Arc::clone(&state)))
        .layer(AccessLogLayer::new(Arc::clone(&state)))
        .service(Split { operator, api })
}

/// The stack of the `server.metrics_listen` listener: `/metrics` only.
pub fn metrics_service(state: Arc<AppState>) -> impl HttpService {
    ServiceBuilder::new()
        .layer(ContextLayer::new(Arc::clone(&state)))
        .layer(AccessLogLayer::new(Arc::clone(&state)))
        .service(OperatorHandlers {
            state,
            exposure: Exposure::MetricsOnly,
        })
}

/// Sends operator paths one way and everything else the other.
#[derive(Clone, Debug)]
struct Split<O, A> {
    operator: O,
    api: A,
}

impl<O: HttpService, A: HttpService> Service<Request<Incoming>> for Split<O, A> {
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.operator.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.api.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        if is_operator_path(request.uri().path()) {
            Box::pin(self.operator.call(request))
        } else {
            Box::pin(self.api.call(request))
        }
    }
}

/// The innermost service: picks the handler for a path.
#[derive(Clone, Debug)]
struct Handlers {
    state: Arc<AppState>,
}

impl Service<Request<Incoming>> for Handlers {
    type Response = Response<RelayBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            Ok(dispatch(&state, request)
                .await
                .unwrap_or_else(|err| error_response(&err)))
        })
    }
}

async fn dispatch(
    state: &AppState,
    request: Request<Incoming>,
) -> Result<Response<RelayBody>, ApiError> {
    let ctx = request
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .ok_or_else(|| ApiError::internal("request context missing"))?;
    let path = request.uri().path();
    match (request.method(), path) {
        (&Method::POST, "/v1/messages") => {
            proxy::relay(state, &ctx, Endpoint::Messages, request).await
        }
        (&Method::POST, "/v1/messages/count_tokens") => {
            proxy::relay(state, &ctx, Endpoint::CountTokens, request).await
        }
        (&Method::GET, "/v1/models") => Ok(api::models(
            &ctx.runtime,
            request.uri().query(),
            state.started_at,
        )),
        (&Method::GET, "/v1/providers") => Ok(api::providers(&ctx.runtime)),
        (&Method::GET | &Method::HEAD, "/health") => Ok(api::health()),
        (method, path) => Err(ApiError::not_found(format!("no route for {method} {path}"))),
    }
}
