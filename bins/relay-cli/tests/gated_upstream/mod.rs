//! An SSE upstream on 127.0.0.1 that sends each stream's first event at
//! once and the rest only when the test opens its gate: many streams can be
//! held open at the same moment without depending on timing.
//!
//! Each stream's text is `stream <ID>`, ID being the request's `x-load-id`
//! header, so every client can check it got its own stream, complete.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::common::{Provider, UPSTREAM_KEY};

pub struct GatedUpstream {
    addr: SocketAddr,
    gate: watch::Sender<bool>,
    counts: Arc<Counts>,
    server: JoinHandle<()>,
}

#[derive(Default)]
struct Counts {
    /// Streams whose first event was sent.
    started: AtomicUsize,
    /// Streams sent to the end.
    finished: AtomicUsize,
    /// Connections open now.
    connections: AtomicUsize,
}

impl GatedUpstream {
    /// Starts serving; with `open`, streams are sent whole straight away.
    pub async fn start(open: bool) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (gate, _) = watch::channel(open);
        let counts = Arc::new(Counts::default());
        let server = tokio::spawn(accept_loop(listener, gate.clone(), Arc::clone(&counts)));
        Self {
            addr,
            gate,
            counts,
            server,
        }
    }

    /// `gated`, an `anthropic` provider at this upstream, with a key.
    pub fn provider(&self) -> Provider {
        Provider::anthropic("gated", &self.url())
            .models(&["claude-sonnet-4-5"])
            .key(UPSTREAM_KEY)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    pub fn started(&self) -> usize {
        self.counts.started.load(Ordering::SeqCst)
    }

    pub fn finished(&self) -> usize {
        self.counts.finished.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.counts.connections.load(Ordering::SeqCst)
    }

    /// Polls (every 10 ms, at most `timeout`) until `n` streams have started.
    pub async fn wait_for_started(&self, n: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.started() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {n} streams started within {timeout:?}",
                self.started()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for GatedUpstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn accept_loop(listener: TcpListener, gate: watch::Sender<bool>, counts: Arc<Counts>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (gate, counts) = (gate.subscribe(), Arc::clone(&counts));
                connections.spawn(async move {
                    counts.connections.fetch_add(1, Ordering::SeqCst);
                    let service = hyper::service::service_fn(move |req| {
                        respond(req, gate.clone(), Arc::clone(&counts))
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn respond(
    req: Request<Incoming>,
    mut gate: watch::Receiver<bool>,
    counts: Arc<Counts>,
) -> Result<Response<ChannelBody>, Infallible> {
    let id = req
        .headers()
        .get("x-load-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("?")
        .to_owned();
    let _ = req.into_body().collect().await;
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut events = stream_events(&id).into_iter();
        if let Some(first) = events.next() {
            if tx.send(first).await.is_err() {
                return;
            }
            counts.started.fetch_add(1, Ordering::SeqCst);
        }
        if gate.wait_for(|open| *open).await.is_err() {
            return;
        }
        for event in events {
            if tx.send(event).await.is_err() {
                return;
            }
        }
        counts.finished.fetch_add(1, Ordering::SeqCst);
    });
    let mut response = Response::new(ChannelBody(rx));
    response
        .headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    Ok(response)
}

/// The Anthropic event sequence of a streamed message saying `stream ID`.
pub fn stream_events(id: &str) -> Vec<Bytes> {
    let event = |name: &str, data: serde_json::Value| {
        Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
    };
    let delta = |text: &str| {
        event(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
        )
    };
    vec![
        event(
            "message_start",
            serde_json::json!({"type": "message_start", "message": {"id": format!("msg_{id}"), "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            serde_json::json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        delta("stream "),
        delta(id),
        event(
            "content_block_stop",
            serde_json::json!({"type": "content_block_stop", "index": 0}),
        ),
        event(
            "message_delta",
            serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        ),
        event("message_stop", serde_json::json!({"type": "message_stop"})),
    ]
}

/// The text a client reads back from the events of one stream.
pub fn text_of(events: &[(String, String)]) -> String {
    events
        .iter()
        .filter(|(name, _)| name == "content_block_delta")
        .filter_map(|(_, data)| {
            let value: serde_json::Value = serde_json::from_str(data).ok()?;
            value["delta"]["text"].as_str().map(str::to_owned)
        })
        .collect()
}

/// A response body fed by a channel, one frame per event.
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|event| event.map(|bytes| Ok(Frame::data(bytes))))
    }
}
