//! `server.max_concurrent`: past the limit a request is refused at once with
//! 503, rather than queued behind streams that may last minutes. A request
//! counts until its response body is finished or dropped. The limit comes from
//! the request's snapshot, so a reload changes it without losing the count.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use http::Request;
use hyper::body::Incoming;
use relay_core::ApiError;
use tower::{Layer, Service};

use super::watch::{BodyWatch, watch_body};
use super::{HttpService, ResponseFuture};
use crate::context::RequestContext;
use crate::error_response::error_response;
use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct ConcurrencyLayer {
    state: Arc<AppState>,
}

impl ConcurrencyLayer {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for ConcurrencyLayer {
    type Service = ConcurrencyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConcurrencyService {
            inner,
            state: Arc::clone(&self.state),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ConcurrencyService<S> {
    inner: S,
    state: Arc<AppState>,
}

/// Holds one in-flight slot until dropped.
struct Slot(Arc<AppState>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl BodyWatch for Slot {}

impl<S: HttpService> Service<Request<Incoming>> for ConcurrencyService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let limit = request
            .extensions()
            .get::<RequestContext>()
            .map_or(0, |ctx| ctx.runtime.config.server.max_concurrent);
        let previous = self.state.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(Arc::clone(&self.state));
        if limit > 0 && previous >= limit {
            drop(slot);
            let error = ApiError::unavailable(format!(
                "the relay is at its limit of {limit} concurrent requests"
            ));
            return Box::pin(std::future::ready(Ok(error_response(&error))));
        }
        let future = self.inner.call(request);
        Box::pin(async move { Ok(watch_body(future.await?, slot)) })
    }
}
