//! `TestStream`: a response read chunk by chunk on a connection of its own,
//! with arrival times, and closed abruptly by [`TestStream::abort`].

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::client::{authority, ensure_host};
use crate::sse::SseParser;
use crate::wait::timed_out;

/// Keeps the request sender alive so the connection is not closed early.
enum Sender {
    Http1(#[allow(dead_code)] http1::SendRequest<Full<Bytes>>),
    Http2(#[allow(dead_code)] http2::SendRequest<Full<Bytes>>),
}

/// A response whose headers arrived and whose body is read incrementally.
///
/// Dropping it (or calling [`abort`](Self::abort)) closes its connection.
pub struct TestStream {
    pub status: u16,
    pub headers: HeaderMap,
    body: Option<Incoming>,
    connection: JoinHandle<()>,
    _sender: Sender,
    timeout: Duration,
}

impl TestStream {
    /// Connects, sends `req` and waits for the response headers (the caller
    /// bounds the wait).
    pub(crate) async fn open(
        mut req: Request<Full<Bytes>>,
        use_http2: bool,
        timeout: Duration,
    ) -> io::Result<Self> {
        let (host, port) = authority(req.uri())?;
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        let io = TokioIo::new(tcp);
        let (sender, connection, response) = if use_http2 {
            let (mut send, conn) = http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(io::Error::other)?;
            let connection = tokio::spawn(async move {
                let _ = conn.await;
            });
            let response = send.send_request(req).await;
            (Sender::Http2(send), connection, response)
        } else {
            ensure_host(&mut req)?;
            let origin_form = req
                .uri()
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .parse::<Uri>()
                .map_err(io::Error::other)?;
            *req.uri_mut() = origin_form;
            let (mut send, conn) = http1::handshake(io).await.map_err(io::Error::other)?;
            let connection = tokio::spawn(async move {
                let _ = conn.await;
            });
            let response = send.send_request(req).await;
            (Sender::Http1(send), connection, response)
        };
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                connection.abort();
                return Err(io::Error::other(error));
            }
        };
        let (parts, body) = response.into_parts();
        Ok(Self {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: Some(body),
            connection,
            _sender: sender,
            timeout,
        })
    }

    /// The next non-empty body chunk and when it arrived; `None` at the clean
    /// end of the body (and after an error). Waits at most the client's
    /// timeout, then yields a `TimedOut` error.
    pub async fn next_chunk(&mut self) -> Option<io::Result<(Bytes, Instant)>> {
        let timeout = self.timeout;
        let body = self.body.as_mut()?;
        let next = async {
            loop {
                match body.frame().await {
                    None => return None,
                    Some(Err(error)) => return Some(Err(io::Error::other(error))),
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data()
                            && !data.is_empty()
                        {
                            return Some(Ok((data, Instant::now())));
                        }
                    }
                }
            }
        };
        let result = match tokio::time::timeout(timeout, next).await {
            Ok(result) => result,
            Err(_) => Some(Err(timed_out(format!("no body chunk within {timeout:?}")))),
        };
        if !matches!(result, Some(Ok(_))) {
            self.body = None;
        }
        result
    }

    /// Reads the rest of the body; fails on a body error or a timeout.
    pub async fn collect_body(mut self) -> io::Result<Bytes> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next_chunk().await {
            all.extend_from_slice(&chunk?.0);
        }
        Ok(all.into())
    }

    /// Reads the rest of the body as SSE: `(event, data, arrival)` for each
    /// complete event, arrival being when the chunk completing it arrived.
    /// Fails on a body error or a timeout (use [`next_chunk`](Self::next_chunk)
    /// to see the events before a broken body).
    pub async fn collect_events(mut self) -> io::Result<Vec<(String, String, Instant)>> {
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        while let Some(chunk) = self.next_chunk().await {
            let (bytes, at) = chunk?;
            events.extend(
                parser
                    .feed(&bytes)
                    .into_iter()
                    .map(|(name, data)| (name, data, at)),
            );
        }
        Ok(events)
    }

    /// Closes the connection abruptly, as a client that goes away.
    pub fn abort(self) {
        drop(self);
    }
}

impl std::fmt::Debug for TestStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStream")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_open", &self.body.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        self.body = None;
        self.connection.abort();
    }
}
