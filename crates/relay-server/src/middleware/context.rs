//! The outermost layer: a request id (the client's `X-Request-ID` if sane,
//! else a new one), echoed on the response, and the configuration snapshot the
//! request will use to its end.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request};
use hyper::body::Incoming;
use relay_core::REQUEST_ID;
use tower::{Layer, Service};
use tracing::Instrument;

use super::{HttpService, ResponseFuture};
use crate::context::RequestContext;
use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct ContextLayer {
    state: Arc<AppState>,
}

impl ContextLayer {
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for ContextLayer {
    type Service = ContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContextService {
            inner,
            state: Arc::clone(&self.state),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ContextService<S> {
    inner: S,
    state: Arc<AppState>,
}

impl<S: HttpService> Service<Request<Incoming>> for ContextService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        let request_id: Arc<str> = match request.headers().get(REQUEST_ID).and_then(acceptable_id) {
            Some(id) => id.into(),
            None => {
                let mut text = uuid::Uuid::encode_buffer();
                Arc::from(&*uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text))
            }
        };
        // `&str` fields, not `%` Display ones: recorded without formatting machinery.
        let span = tracing::info_span!(
            "request",
            id = &*request_id,
            method = request.method().as_str(),
            path = request.uri().path()
        );
        let ctx = RequestContext {
            id: Arc::clone(&request_id),
            runtime: self.state.snapshot(),
            telemetry: Arc::default(),
        };
        request.extensions_mut().insert(ctx);
        let future = self.inner.call(request);
        Box::pin(
            async move {
                let mut response = future.await?;
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID, value);
                }
                Ok(response)
            }
            .instrument(span),
        )
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
