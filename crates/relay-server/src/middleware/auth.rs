//! Client authentication with the snapshot's auth chain. `/health` stays open
//! so supervisors can probe the relay without a key.

use std::task::{Context, Poll};

use http::Request;
use hyper::body::Incoming;
use relay_core::ApiError;
use tower::{Layer, Service};

use super::{HttpService, ResponseFuture};
use crate::context::RequestContext;
use crate::error_response::error_response;

#[derive(Clone, Copy, Debug, Default)]
pub struct AuthLayer;

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService { inner }
    }
}

#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
}

impl<S: HttpService> Service<Request<Incoming>> for AuthService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        if request.uri().path() != "/health" {
            let verdict = match request.extensions().get::<RequestContext>() {
                Some(ctx) => ctx
                    .runtime
                    .auth
                    .check(request.headers())
                    .map_err(ApiError::from),
                None => Err(ApiError::internal("request context missing")),
            };
            match verdict {
                Ok(grant) => {
                    request.extensions_mut().insert(grant);
                }
                Err(error) => {
                    tracing::info!(error = %error, "client authentication failed");
                    return Box::pin(std::future::ready(Ok(error_response(&error))));
                }
            }
        }
        Box::pin(self.inner.call(request))
    }
}
