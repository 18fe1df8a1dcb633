//! The relay's admin API over plain HTTP, for `cc-relay status` and the
//! TUI: `GET /admin/stats`, the `GET /admin/events` stream, the
//! configuration view and the writes, with the admin token as a bearer
//! token. Every error is a [`ClientError`] its caller can explain.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use relay_core::SseParser;

use serde::de::DeserializeOwned;

use crate::{ConfigView, ProviderSwitch, REQUEST_EVENT, ReloadResult, RequestEvent, Stats};

/// How long a stats request or a write may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the event stream may stay silent; the relay sends keepalive
/// comments well within it, so silence means a dead connection.
const EVENTS_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest event accepted from the stream.
const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// The most of an error body kept for a message.
const MAX_MESSAGE_CHARS: usize = 200;

/// Why a call to the admin API failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("invalid relay URL {0:?}: {1}")]
    InvalidUrl(String, String),
    /// No connection, a broken one, or no answer in time.
    #[error("{0}")]
    Unreachable(String),
    /// `/admin/*` is 404: the relay has no `server.admin.token`.
    #[error("the admin API is not enabled on this relay (set server.admin.token)")]
    NotEnabled,
    #[error("the relay refused the admin token ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// A write answered 403: the admin API is read-only. The message
    /// always says "read-only".
    #[error("{0}")]
    ReadOnly(String),
    #[error("the relay answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("cannot read the relay's answer: {0}")]
    Decode(String),
}

/// A client for one relay's admin API.
#[derive(Clone, Debug)]
pub struct AdminClient {
    base: String,
    token: Option<String>,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl AdminClient {
    /// A client for the relay at `url` (`http://HOST:PORT`, or `HOST:PORT`).
    pub fn new(url: &str, token: Option<String>) -> Result<Self, ClientError> {
        let base = normalize_url(url)?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        let token = token.filter(|t| !t.is_empty());
        Ok(Self { base, token, http })
    }

    /// Whether a token will be sent.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The normalized base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /admin/stats`.
    pub async fn stats(&self) -> Result<Stats, ClientError> {
        self.read(Method::GET, "/admin/stats", false).await
    }

    /// `GET /admin/config`: the redacted configuration and the last reload.
    pub async fn config(&self) -> Result<ConfigView, ClientError> {
        self.read(Method::GET, "/admin/config", false).await
    }

    /// `POST /admin/providers/{name}/disable`.
    pub async fn disable(&self, provider: &str) -> Result<ProviderSwitch, ClientError> {
        let path = format!("/admin/providers/{}/disable", encode_segment(provider));
        self.read(Method::POST, &path, true).await
    }

    /// `POST /admin/providers/{name}/enable`.
    pub async fn enable(&self, provider: &str) -> Result<ProviderSwitch, ClientError> {
        let path = format!("/admin/providers/{}/enable", encode_segment(provider));
        self.read(Method::POST, &path, true).await
    }

    /// `POST /admin/reload`.
    pub async fn reload(&self) -> Result<ReloadResult, ClientError> {
        self.read(Method::POST, "/admin/reload", true).await
    }

    /// `GET /health`, which needs no token: its text when it answers 200.
    pub async fn health(&self) -> Result<String, ClientError> {
        let (status, body) = self.call(Method::GET, "/health").await?;
        if !status.is_success() {
            return Err(ClientError::Status {
                status: status.as_u16(),
                message: body_message(&body),
            });
        }
        Ok(String::from_utf8_lossy(&body).trim().to_owned())
    }

    /// Calls `path` and reads its JSON answer. `write` tells a 403 on a
    /// write (read-only) from a 403 on a read (a refused token).
    async fn read<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        write: bool,
    ) -> Result<T, ClientError> {
        let (status, body) = self.call(method, path).await?;
        if !status.is_success() {
            return Err(status_error(status, &body, write));
        }
        serde_json::from_slice(&body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Opens `GET /admin/events`.
    pub async fn events(&self) -> Result<EventStream, ClientError> {
        let request = self
            .request(Method::GET, "/admin/events")?
            .header(header::ACCEPT, "text/event-stream")
            .body(Full::default())
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| ClientError::Unreachable(chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_body(response.into_body()).await.unwrap_or_default();
            return Err(status_error(status, &body, false));
        }
        Ok(EventStream {
            body: response.into_body(),
            parser: SseParser::new(MAX_EVENT_BYTES),
        })
    }

    fn request(&self, method: Method, path: &str) -> Result<http::request::Builder, ClientError> {
        let uri: Uri =
            format!("{}{path}", self.base)
                .parse()
                .map_err(|e: http::uri::InvalidUri| {
                    ClientError::InvalidUrl(self.base.clone(), e.to_string())
                })?;
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(token) = &self.token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        Ok(builder)
    }

    async fn call(&self, method: Method, path: &str) -> Result<(StatusCode, Bytes), ClientError> {
        let request = self
            .request(method, path)?
            .body(Full::default())
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| ClientError::Unreachable(chain(&e)))?;
            let status = response.status();
            Ok((status, read_body(response.into_body()).await?))
        })
        .await
        .map_err(|_| timed_out())?
    }
}

/// The open `/admin/events` stream.
#[derive(Debug)]
pub struct EventStream {
    body: Incoming,
    parser: SseParser,
}

impl EventStream {
    /// The next `request` event; `Ok(None)` when the relay closed the stream.
    /// Keepalive comments, other event types and events this dashboard
    /// cannot read are skipped.
    pub async fn next(&mut self) -> Result<Option<RequestEvent>, ClientError> {
        loop {
            while let Some(event) = self.parser.next_event() {
                if event.event == REQUEST_EVENT
                    && let Ok(request) = serde_json::from_str(&event.data)
                {
                    return Ok(Some(request));
                }
            }
            let frame = tokio::time::timeout(EVENTS_IDLE_TIMEOUT, self.body.frame())
                .await
                .map_err(|_| {
                    ClientError::Unreachable(format!(
                        "no events or keepalives for {}s",
                        EVENTS_IDLE_TIMEOUT.as_secs()
                    ))
                })?;
            match frame {
                None => return Ok(None),
                Some(Err(e)) => return Err(ClientError::Unreachable(chain(&e))),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.parser
                            .push(&data)
                            .map_err(|e| ClientError::Decode(e.to_string()))?;
                    }
                }
            }
        }
    }
}

/// `HOST:PORT` or `http://HOST:PORT/` → `http://HOST:PORT`; https is refused
/// because the relay serves plain HTTP.
pub fn normalize_url(url: &str) -> Result<String, ClientError> {
    let trimmed = url.trim();
    let invalid = |why: &str| ClientError::InvalidUrl(url.to_owned(), why.to_owned());
    let rest = if let Some(rest) = trimmed.strip_prefix("http://") {
        rest
    } else if trimmed.starts_with("https://") {
        return Err(invalid("the relay serves plain HTTP; use http://"));
    } else if trimmed.contains("://") {
        return Err(invalid("only http:// is supported"));
    } else {
        trimmed
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return Err(invalid("no host"));
    }
    let with_scheme = format!("http://{rest}");
    let uri: Uri = with_scheme
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    Ok(with_scheme)
}

/// The error for a non-success answer. `write` tells a 403 on a write
/// (read-only) from a 403 on a read (a refused token).
fn status_error(status: StatusCode, body: &[u8], write: bool) -> ClientError {
    let message = body_message(body);
    match status.as_u16() {
        404 => ClientError::NotEnabled,
        403 if write => ClientError::ReadOnly(if message.contains("read-only") {
            message
        } else if message.is_empty() {
            "read-only: the relay's admin API does not accept changes".to_owned()
        } else {
            format!("read-only: {message}")
        }),
        code @ (401 | 403) => ClientError::Unauthorized {
            status: code,
            message,
        },
        code => ClientError::Status {
            status: code,
            message,
        },
    }
}

/// The message of an error body: Anthropic's `error.message`, a top-level
/// `message` or `error` string, or the text itself, shortened.
fn body_message(body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            [&v["error"]["message"], &v["message"], &v["error"]]
                .into_iter()
                .find_map(|m| m.as_str().map(str::to_owned))
        });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

async fn read_body(body: Incoming) -> Result<Bytes, ClientError> {
    body.collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .map_err(|e| ClientError::Unreachable(chain(&e)))
}

fn timed_out() -> ClientError {
    ClientError::Unreachable(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))
}

/// What went wrong, from an error's sources, `: `-joined. hyper's own
/// top-level text ("client error (Connect)") is left out when there are
/// sources, which say more.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let Some(first) = error.source() else {
        return error.to_string();
    };
    let mut text = first.to_string();
    let mut source = first.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Percent-encodes a path segment (a provider name) beyond the unreserved set.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        assert_eq!(
            normalize_url("http://127.0.0.1:8787/").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert_eq!(
            normalize_url("127.0.0.1:8787").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert!(normalize_url("https://relay").is_err());
        assert!(normalize_url("ftp://relay").is_err());
        assert!(normalize_url("http://").is_err());
    }

    #[test]
    fn error_bodies_become_messages() {
        let anthropic = br#"{"type":"error","error":{"type":"permission_error","message":"the admin API is read-only"}}"#;
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, anthropic, true),
            ClientError::ReadOnly("the admin API is read-only".to_owned())
        );
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, br#"{"message":"no writes"}"#, true),
            ClientError::ReadOnly("read-only: no writes".to_owned())
        );
        assert!(matches!(
            status_error(StatusCode::FORBIDDEN, b"", false),
            ClientError::Unauthorized { status: 403, .. }
        ));
        assert_eq!(
            status_error(StatusCode::NOT_FOUND, b"", false),
            ClientError::NotEnabled
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, b" upstream down \n", false),
            ClientError::Status {
                status: 502,
                message: "upstream down".to_owned()
            }
        );
        assert!(
            status_error(StatusCode::FORBIDDEN, b"", true)
                .to_string()
                .starts_with("read-only: ")
        );
    }

    #[test]
    fn provider_names_are_path_safe() {
        assert_eq!(encode_segment("z.ai-primary_1"), "z.ai-primary_1");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
    }
}
