//! `MockUpstream`: an Anthropic-compatible HTTP/1.1 and h2c server on
//! 127.0.0.1, answering with scripted [`MockReply`]s and recording what it
//! received and when it sent each event.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::body::ChannelBody;
use crate::plan::{Plan, RequestView};
use crate::reply::MockReply;
use crate::wait::wait_until;

/// A request the mock received, body complete.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: Method,
    pub path_and_query: String,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub received_at: Instant,
}

impl RecordedRequest {
    /// The body parsed as JSON.
    pub fn json(&self) -> io::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// A header's value, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// When one body chunk of a streamed (SSE) reply was handed to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentEvent {
    /// Index of the request in [`MockUpstream::requests`].
    pub request_index: usize,
    /// Index of the event within that reply.
    pub event_index: usize,
    pub sent_at: Instant,
}

/// State shared by the server tasks and the handle.
pub(crate) struct Shared {
    queue: Mutex<VecDeque<MockReply>>,
    default: Mutex<MockReply>,
    requests: Mutex<Vec<RecordedRequest>>,
    sent: Mutex<Vec<SentEvent>>,
    disconnects: AtomicUsize,
    /// Bumped on every recorded request or disconnect, to wake waiters.
    changed: watch::Sender<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn record_sent(&self, request_index: usize, event_index: usize, sent_at: Instant) {
        lock(&self.sent).push(SentEvent {
            request_index,
            event_index,
            sent_at,
        });
    }

    pub(crate) fn record_disconnect(&self) {
        self.disconnects.fetch_add(1, Ordering::SeqCst);
        self.changed.send_replace(());
    }

    fn next_reply(&self) -> MockReply {
        match lock(&self.queue).pop_front() {
            Some(reply) => reply,
            None => lock(&self.default).clone(),
        }
    }
}

/// An Anthropic-compatible upstream on `127.0.0.1:0`, serving HTTP/1.1 and
/// h2c (prior knowledge) from a spawned task. Stops, closing every
/// connection, when dropped.
pub struct MockUpstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl MockUpstream {
    /// Binds 127.0.0.1:0 and starts serving. The default reply is
    /// [`MockReply::auto`].
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (changed, _) = watch::channel(());
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            default: Mutex::new(MockReply::auto()),
            requests: Mutex::new(Vec::new()),
            sent: Mutex::new(Vec::new()),
            disconnects: AtomicUsize::new(0),
            changed,
        });
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply; queued replies answer requests in FIFO order.
    pub fn enqueue(&self, reply: MockReply) {
        lock(&self.shared.queue).push_back(reply);
    }

    /// The reply used when the queue is empty.
    pub fn set_default(&self, reply: MockReply) {
        *lock(&self.shared.default) = reply;
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// Waits until at least `n` requests were received.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> io::Result<()> {
        let what = format!("{n} request(s) at the mock upstream");
        wait_until(&self.shared.changed, timeout, &what, || {
            self.request_count() >= n
        })
        .await
    }

    /// How many times a client went away before its reply was complete
    /// (headers not yet sent, or a streamed body not finished).
    pub fn disconnects(&self) -> usize {
        self.shared.disconnects.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` disconnects were seen.
    pub async fn wait_for_disconnects(&self, n: usize, timeout: Duration) -> io::Result<()> {
        let what = format!("{n} client disconnect(s) at the mock upstream");
        wait_until(&self.shared.changed, timeout, &what, || {
            self.disconnects() >= n
        })
        .await
    }

    /// When each SSE event was handed to the connection, in sending order.
    pub fn sent_events(&self) -> Vec<SentEvent> {
        lock(&self.shared.sent).clone()
    }
}

impl std::fmt::Debug for MockUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockUpstream")
            .field("addr", &self.addr)
            .field("requests", &self.request_count())
            .field("disconnects", &self.disconnects())
            .finish_non_exhaustive()
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        // Dropping the accept loop drops its `JoinSet`, aborting every
        // connection task.
        self.server.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, Arc::clone(&shared)));
                }
                Err(error) => {
                    tracing::warn!(%error, "mock upstream: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    // Notified by a `MockReply::close()` to drop the connection.
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = Arc::clone(&kill);
        hyper::service::service_fn(move |req| handle(req, Arc::clone(&shared), Arc::clone(&kill)))
    };
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = conn => {
            if let Err(error) = result {
                tracing::debug!(%error, "mock upstream: connection ended with an error");
            }
        }
        () = kill.notified() => {}
    }
}

type MockBody = BoxBody<Bytes, io::Error>;

/// Counts a disconnect if dropped while armed (the request's future dropped
/// by hyper before the response was handed over).
struct DisconnectGuard {
    shared: Arc<Shared>,
    armed: bool,
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if self.armed {
            self.shared.record_disconnect();
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    kill: Arc<Notify>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::debug!(%error, "mock upstream: reading the request body failed");
            return Ok(plain(400, "mock upstream: unreadable request body"));
        }
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let reply = shared.next_reply();
    let plan = {
        let mut requests = lock(&shared.requests);
        let index = requests.len();
        let plan = reply.plan(&RequestView {
            index,
            method: &parts.method,
            path_and_query: &path_and_query,
            body: &body,
        });
        requests.push(RecordedRequest {
            method: parts.method,
            path_and_query,
            version: parts.version,
            headers: parts.headers,
            body,
            received_at: Instant::now(),
        });
        (index, plan)
    };
    shared.changed.send_replace(());
    let (index, plan) = plan;
    let mut guard = DisconnectGuard {
        shared: Arc::clone(&shared),
        armed: true,
    };
    let planned = match plan {
        Plan::Stall => std::future::pending().await,
        Plan::Close(delay) => {
            tokio::time::sleep(delay).await;
            guard.armed = false;
            kill.notify_one();
            std::future::pending().await
        }
        Plan::Respond(planned) => planned,
    };
    tokio::time::sleep(planned.headers_delay).await;
    guard.armed = false;
    let body = if planned.is_simple() {
        let bytes: Bytes = planned.chunks.concat().into();
        Full::new(bytes).map_err(|never| match never {}).boxed()
    } else {
        ChannelBody::spawn(&planned, shared, index).boxed()
    };
    let mut response = Response::new(body);
    *response.status_mut() = planned.status;
    *response.headers_mut() = planned.headers;
    Ok(response)
}

fn plain(status: u16, text: &'static str) -> Response<MockBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    response
}
