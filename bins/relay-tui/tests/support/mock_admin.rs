//! A mock of the relay's admin API on 127.0.0.1: `/admin/stats` from a
//! settable JSON value, an `/admin/events` stream the test writes to, the
//! write endpoints (recorded; 403 when read-only), `/health`, and the token
//! check. It can be stopped and started again on the same port, as a
//! restarted relay would be.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

type MockBody = UnsyncBoxBody<Bytes, Infallible>;

/// What the mock serves; shared across restarts.
pub struct Shared {
    /// `None`: `/admin/*` is 404, as on a relay without `server.admin.token`.
    pub token: Option<String>,
    pub read_only: bool,
    pub stats: Mutex<Value>,
    /// `METHOD PATH` of every write.
    pub writes: Mutex<Vec<String>>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Bytes>>>,
}

pub struct MockAdmin {
    pub shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl MockAdmin {
    pub async fn start(token: Option<&str>, read_only: bool, stats: Value) -> Self {
        let shared = Arc::new(Shared {
            token: token.map(str::to_owned),
            read_only,
            stats: Mutex::new(stats),
            writes: Mutex::new(Vec::new()),
            subscribers: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Some(tokio::spawn(serve(listener, Arc::clone(&shared))));
        Self {
            shared,
            addr,
            server,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes the listener and every connection, as a dying relay would.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        self.shared.subscribers.lock().unwrap().clear();
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = bind_retrying(self.addr).await;
        self.server = Some(tokio::spawn(serve(listener, Arc::clone(&self.shared))));
    }

    pub fn set_stats(&self, stats: Value) {
        *self.shared.stats.lock().unwrap() = stats;
    }

    pub fn writes(&self) -> Vec<String> {
        self.shared.writes.lock().unwrap().clone()
    }

    /// Sends raw bytes to every open `/admin/events` stream.
    pub fn send_raw(&self, chunk: &str) {
        let chunk = Bytes::from(chunk.to_owned());
        self.shared
            .subscribers
            .lock()
            .unwrap()
            .retain(|tx| tx.send(chunk.clone()).is_ok());
    }

    /// Sends one `event: request` to every open `/admin/events` stream.
    pub fn send_event(&self, event: &Value) {
        self.send_raw(&format!("event: request\ndata: {event}\n\n"));
    }

    /// Waits until `n` event streams are open.
    pub async fn wait_for_subscribers(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let open = {
                let mut subscribers = self.shared.subscribers.lock().unwrap();
                subscribers.retain(|tx| !tx.is_closed());
                subscribers.len()
            };
            if open >= n {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{open} event streams open, expected {n}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for MockAdmin {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

async fn bind_retrying(addr: SocketAddr) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cannot bind {addr} again");
}

/// Accepts connections; aborting this task drops the `JoinSet`, which aborts
/// (and so closes) every connection.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, request)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn handle(shared: &Shared, request: Request<Incoming>) -> Response<MockBody> {
    let path = request.uri().path().to_owned();
    let method = request.method().as_str().to_owned();
    if path == "/health" {
        return json_response(StatusCode::OK, &json!({"status": "ok"}));
    }
    let Some(token) = &shared.token else {
        return error(StatusCode::NOT_FOUND, "not_found_error", "no route");
    };
    let headers = request.headers();
    let presented = headers
        .get("x-admin-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned)
        });
    if presented.as_deref() != Some(token.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid admin token",
        );
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/admin/stats") => {
            json_response(StatusCode::OK, &shared.stats.lock().unwrap().clone())
        }
        ("GET", "/admin/events") => {
            let (tx, rx) = mpsc::unbounded_channel();
            let _ = tx.send(Bytes::from_static(b": mock request events\n\n"));
            shared.subscribers.lock().unwrap().push(tx);
            let mut response = Response::new(ChannelBody(rx).boxed_unsync());
            response
                .headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            response
        }
        ("POST", p) if p.starts_with("/admin/providers/") || p == "/admin/reload" => {
            if shared.read_only {
                return error(
                    StatusCode::FORBIDDEN,
                    "permission_error",
                    "the admin API is read-only: set server.admin.read_only: false to allow write actions",
                );
            }
            shared
                .writes
                .lock()
                .unwrap()
                .push(format!("{method} {path}"));
            json_response(StatusCode::OK, &json!({"ok": true}))
        }
        _ => error(StatusCode::NOT_FOUND, "not_found_error", "no route"),
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response<MockBody> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())).boxed_unsync());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    response
}

fn error(status: StatusCode, kind: &str, message: &str) -> Response<MockBody> {
    json_response(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

/// A streaming body fed by the test through a channel.
struct ChannelBody(mpsc::UnboundedReceiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}
