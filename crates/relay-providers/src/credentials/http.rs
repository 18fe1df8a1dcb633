//! The small HTTP client token sources use (OAuth2 token endpoints, the GCE
//! metadata server).
//!
//! Token fetches happen inside `Provider::authenticate`, before the server
//! sends anything, so they cannot go through the server's upstream client
//! without a new hook; this crate therefore owns a client of its own. It is
//! built from the same hyper-util + hyper-rustls stack the server uses (no
//! new dependency), is created lazily on first use, and only ever serves
//! token requests: bodies are small and bounded.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A token response bigger than this is not a token response.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Connect plus response budget of one token request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client for token requests.
#[derive(Clone, Debug)]
pub(crate) struct TokenHttp {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl TokenHttp {
    pub(crate) fn new() -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        // Prefer the system's roots (corporate CAs); fall back to the bundled Mozilla set.
        let builder = match hyper_rustls::HttpsConnectorBuilder::new().with_native_roots() {
            Ok(builder) => builder,
            Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
        };
        let https = builder
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        Self { client }
    }

    /// Sends `request` and returns the status and whole body. The error text
    /// never contains the request (which carries credentials).
    pub(crate) async fn send(
        &self,
        request: Request<Bytes>,
    ) -> Result<(StatusCode, Bytes), String> {
        let request = request.map(Full::new);
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| error_chain(&err))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|err| format!("reading the response: {err}"))?
                .to_bytes();
            Ok((status, body))
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {REQUEST_TIMEOUT:?}")),
        }
    }
}

/// An error and its causes on one line.
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
