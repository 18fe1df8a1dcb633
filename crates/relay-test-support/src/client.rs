//! `TestClient`: a plain-HTTP client for tests (HTTP/1.1, or h2c with prior
//! knowledge), every call bounded by a timeout.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::sse::parse_sse;
use crate::stream::TestStream;
use crate::wait::{other, timed_out};

/// The timeout of a [`TestClient`] unless changed with
/// [`TestClient::with_timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A test HTTP client over plain HTTP. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct TestClient {
    client: Client<HttpConnector, Full<Bytes>>,
    http2: bool,
    timeout: Duration,
}

impl Default for TestClient {
    fn default() -> Self {
        Self::new()
    }
}

/// A complete response.
#[derive(Clone, Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    /// The body parsed as JSON; an `InvalidData` error (with the body) if it
    /// is not JSON.
    pub fn json(&self) -> io::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("response body is not JSON ({e}): {}", self.text()),
            )
        })
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as SSE `(event, data)` pairs.
    pub fn events(&self) -> Vec<(String, String)> {
        parse_sse(&self.body)
    }
}

impl TestClient {
    /// An HTTP/1.1 client.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// An HTTP/2 client speaking h2c with prior knowledge.
    pub fn http2() -> Self {
        Self::build(true)
    }

    fn build(http2: bool) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let mut builder = Client::builder(TokioExecutor::new());
        builder.http2_only(http2);
        Self {
            client: builder.build(connector),
            http2,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Bounds every request (and every [`TestStream::next_chunk`]) by
    /// `timeout` instead of [`DEFAULT_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether this client speaks h2c.
    pub fn is_http2(&self) -> bool {
        self.http2
    }

    /// Sends a request and collects the whole response, within the timeout.
    pub async fn request(
        &self,
        method: impl AsRef<str>,
        url: impl AsRef<str>,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> io::Result<TestResponse> {
        let url = url.as_ref();
        let req = build_request(method.as_ref(), url, headers, body.into())?;
        let work = async {
            let response = self.client.request(req).await.map_err(io::Error::other)?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
            Ok(TestResponse {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| {
                timed_out(format!(
                    "request to {url} timed out after {:?}",
                    self.timeout
                ))
            })?
    }

    /// `GET url` with no headers.
    pub async fn get(&self, url: impl AsRef<str>) -> io::Result<TestResponse> {
        self.request("GET", url, &[], Bytes::new()).await
    }

    /// `POST url` with a JSON body and `content-type: application/json`.
    pub async fn post_json(
        &self,
        url: impl AsRef<str>,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> io::Result<TestResponse> {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.request("POST", url, &all, body.to_string()).await
    }

    /// Sends a request on a connection of its own and returns once the
    /// response headers arrived; the body is read with
    /// [`TestStream::next_chunk`]. Aborting or dropping the stream closes
    /// that connection, which is how tests make a client disconnect.
    pub async fn stream(
        &self,
        method: impl AsRef<str>,
        url: impl AsRef<str>,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> io::Result<TestStream> {
        let url = url.as_ref();
        let req = build_request(method.as_ref(), url, headers, body.into())?;
        let open = TestStream::open(req, self.http2, self.timeout);
        tokio::time::timeout(self.timeout, open)
            .await
            .map_err(|_| {
                timed_out(format!(
                    "no response headers from {url} after {:?}",
                    self.timeout
                ))
            })?
    }
}

/// Builds a request from test-friendly parts.
fn build_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> io::Result<Request<Full<Bytes>>> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|e| invalid(format!("method {method:?}: {e}")))?;
    let uri: Uri = url
        .parse()
        .map_err(|e| invalid(format!("url {url:?}: {e}")))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(invalid(format!(
            "url {url:?}: expected http://HOST[:PORT]/…"
        )));
    }
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    let map = req.headers_mut();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| invalid(format!("header name {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| invalid(format!("header value {value:?}: {e}")))?;
        map.append(name, value);
    }
    Ok(req)
}

/// The `host:port` to connect to and the `Host` header value for `uri`.
pub(crate) fn authority(uri: &Uri) -> io::Result<(String, u16)> {
    let host = uri
        .host()
        .ok_or_else(|| other(format!("url {uri} has no host")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host.to_owned(), uri.port_u16().unwrap_or(80)))
}

/// Adds a `Host` header from the URI if the request has none (HTTP/1.1
/// connections made by hand need it).
pub(crate) fn ensure_host(req: &mut Request<Full<Bytes>>) -> io::Result<()> {
    if req.headers().contains_key(header::HOST) {
        return Ok(());
    }
    let authority = req
        .uri()
        .authority()
        .ok_or_else(|| other(format!("url {} has no authority", req.uri())))?
        .as_str()
        .to_owned();
    let value = HeaderValue::from_str(&authority).map_err(io::Error::other)?;
    req.headers_mut().insert(header::HOST, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input() {
        assert!(build_request("GET", "https://x/", &[], Bytes::new()).is_err());
        assert!(build_request("GET", "/relative", &[], Bytes::new()).is_err());
        assert!(build_request("BAD METHOD", "http://x/", &[], Bytes::new()).is_err());
        assert!(build_request("GET", "http://x/", &[("bad name", "v")], Bytes::new()).is_err());
        let req = build_request(
            "POST",
            "http://127.0.0.1:9/a?b=c",
            &[("x", "1")],
            Bytes::new(),
        )
        .unwrap();
        assert_eq!(req.uri().path_and_query().unwrap().as_str(), "/a?b=c");
        assert_eq!(authority(req.uri()).unwrap(), ("127.0.0.1".to_owned(), 9));
    }
}
