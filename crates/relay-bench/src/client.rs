//! The load generator's side of the wire: keep-alive HTTP/1.1 connections
//! (hyper's low-level client, one connection per concurrent requester) and
//! the requests they send, built from a [`Payload`] for a [`Target`].

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where requests go: the mock directly, the relay, or a peer.
#[derive(Clone, Debug)]
pub struct Target {
    /// `direct`, `cc-relay`, `litellm`, `claude-code-router`.
    pub name: String,
    pub addr: SocketAddr,
    /// Put before the Messages path (`/anthropic` for LiteLLM's pass-through).
    pub prefix: String,
    /// The proxy's process, for its CPU time and memory (none for direct).
    pub pid: Option<u32>,
}

/// One request to send again and again.
#[derive(Clone, Debug)]
pub struct Payload {
    pub name: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Payload {
    /// The small non-streaming request.
    pub fn small() -> Self {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]}"#;
        Self {
            name: "small".into(),
            path: "/v1/messages".into(),
            headers: base_headers(),
            body: Bytes::from_static(body),
        }
    }

    /// A streaming request for the timed and held SSE listeners.
    pub fn small_stream() -> Self {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Say hello."}]}"#;
        Self {
            name: "small-stream".into(),
            path: "/v1/messages".into(),
            headers: base_headers(),
            body: Bytes::from_static(body),
        }
    }

    /// The real Claude Code request (`claude-code-request.json`) with the
    /// headers recorded beside it (`claude-code-request.headers.json`).
    pub fn claude_code(body_path: &std::path::Path) -> anyhow::Result<Self> {
        let body = std::fs::read(body_path)
            .with_context(|| format!("cannot read the fixture {}", body_path.display()))?;
        let headers_path = body_path.with_file_name("claude-code-request.headers.json");
        let mut headers = base_headers();
        let mut path = "/v1/messages?beta=true".to_owned();
        if let Ok(text) = std::fs::read_to_string(&headers_path) {
            let recorded: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", headers_path.display()))?;
            if let Some(p) = recorded["path"].as_str() {
                p.clone_into(&mut path);
            }
            for (name, value) in recorded["headers"].as_object().into_iter().flatten() {
                // The connection is ours to manage, and nothing is compressed here.
                if matches!(name.as_str(), "connection" | "accept-encoding" | "host") {
                    continue;
                }
                if let (Ok(name), Some(Ok(value))) = (
                    HeaderName::try_from(name.as_str()),
                    value.as_str().map(HeaderValue::from_str),
                ) {
                    headers.insert(name, value);
                }
            }
        }
        Ok(Self {
            name: format!("claude-code-{}KB", body.len() / 1024),
            path,
            headers,
            body: Bytes::from(body),
        })
    }
}

/// The key every client request carries (`x-api-key`): ignored by the relay
/// (no client authentication is configured), LiteLLM's master key.
pub const CLIENT_KEY: &str = "sk-bench-client-5f0c2a9e7d41b38c";

fn base_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
    headers.insert("x-api-key", HeaderValue::from_static(CLIENT_KEY));
    headers
}

/// A payload made ready for one target: URI and headers built once.
#[derive(Clone, Debug)]
pub struct Prepared {
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Prepared {
    pub fn new(target: &Target, payload: &Payload) -> anyhow::Result<Self> {
        let uri: Uri = format!("{}{}", target.prefix, payload.path)
            .parse()
            .context("bad request path")?;
        let mut headers = payload.headers.clone();
        headers.insert(
            header::HOST,
            HeaderValue::from_str(&target.addr.to_string())?,
        );
        Ok(Self {
            uri,
            headers,
            body: payload.body.clone(),
        })
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr, timeout: Duration) -> anyhow::Result<Self> {
        let connect = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            anyhow::Ok(Self { sender })
        };
        tokio::time::timeout(timeout, connect)
            .await
            .with_context(|| format!("connecting to {addr} took over {timeout:?}"))?
    }

    /// Sends the request and waits for the response headers.
    pub async fn start(&mut self, prepared: &Prepared) -> anyhow::Result<Response<Incoming>> {
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(prepared.request()).await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.into_body().collect().await.map(|c| c.to_bytes());
            let body = body.unwrap_or_default();
            bail!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        Ok(response)
    }

    /// One whole exchange: the response body is read to its end. Returns
    /// the body's length.
    pub async fn exchange(
        &mut self,
        prepared: &Prepared,
        timeout: Duration,
    ) -> anyhow::Result<usize> {
        let exchange = async {
            let response = self.start(prepared).await?;
            let mut body = response.into_body();
            let mut bytes = 0;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    bytes += data.len();
                }
            }
            anyhow::Ok(bytes)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .with_context(|| format!("no complete response within {timeout:?}"))?
    }
}
