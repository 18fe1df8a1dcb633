//! The HTTP client that talks to upstreams: pooled, HTTP/1.1 and HTTP/2 (ALPN),
//! TLS by rustls, with connect and response-header timeouts.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use relay_core::ApiError;

/// A failed upstream exchange, before any response byte reached the client.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("could not connect to the upstream: {0}")]
    Connect(String),
    #[error("the upstream did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the upstream connection failed: {0}")]
    Transport(String),
}

impl From<&UpstreamError> for ApiError {
    fn from(err: &UpstreamError) -> Self {
        match err {
            UpstreamError::Timeout(_) => ApiError::gateway_timeout(err.to_string()),
            UpstreamError::Connect(_) | UpstreamError::Transport(_) => {
                ApiError::bad_gateway(err.to_string())
            }
        }
    }
}

/// Idle pooled connections kept per upstream host. Without a cap, a burst of
/// a thousand streams leaves a thousand idle connections (about 27 KiB each:
/// buffers, dispatch channel, task) until the 90 s idle timeout. Too low a
/// cap is worse: at 256 concurrent requests a cap of 64 closed and reopened
/// a connection for most requests (93 against 69 µs of relay CPU per request,
/// docs/benchmarks.md). 512 covers any steady load this relay is sized for.
const MAX_IDLE_PER_HOST: usize = 512;

/// The shared upstream client. Cheap to clone; connections are pooled per host.
#[derive(Clone, Debug)]
pub struct UpstreamClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl UpstreamClient {
    pub fn new(connect_timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        // Prefer the system's roots (corporate CAs); fall back to the bundled Mozilla set.
        let builder = match builder.with_native_roots() {
            Ok(builder) => builder,
            Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
        };
        let https = builder
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
            .build(https);
        Self { client }
    }

    /// Sends a request and waits for the response headers, at most `timeout`.
    pub async fn send(
        &self,
        request: Request<Bytes>,
        timeout: Duration,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let request = request.map(Full::new);
        match tokio::time::timeout(timeout, self.client.request(request)).await {
            Err(_) => Err(UpstreamError::Timeout(timeout)),
            Ok(Ok(response)) => Ok(response),
            Ok(Err(err)) if err.is_connect() => Err(UpstreamError::Connect(error_chain(&err))),
            Ok(Err(err)) => Err(UpstreamError::Transport(error_chain(&err))),
        }
    }
}

/// An error and its causes on one line; hyper's top-level messages alone are vague.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
