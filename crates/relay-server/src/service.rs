//! Path dispatch, and the assembled middleware stack.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, Request, Response};
use hyper::body::Incoming;
use relay_core::ApiError;
use relay_providers::Endpoint;
use tower::{Service, ServiceBuilder};

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

/// The full stack for one relay: context → access log → auth → concurrency → handlers.
pub fn relay_service(state: Arc<AppState>) -> impl HttpService {
    ServiceBuilder::new()
        .layer(ContextLayer::new(Arc::clone(&state)))
        .layer(AccessLogLayer)
        .layer(AuthLayer)
        .layer(ConcurrencyLayer::new(Arc::clone(&state)))
        .service(Handlers { state })
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
