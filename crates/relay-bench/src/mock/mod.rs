//! The fast mock Anthropic upstream: hyper HTTP/1.1 on 127.0.0.1, one
//! single-threaded tokio runtime on a thread of its own (so its CPU time can
//! be read apart from the load generator's), and pre-rendered replies.
//!
//! It listens on three ports, one per behaviour:
//! - fast: the small JSON message, or a complete short SSE stream when the
//!   request body has `"stream": true`;
//! - timed: an SSE stream whose deltas are sent `interval` apart, each
//!   stamped with its send time on the shared [`Clock`];
//! - hold: an SSE stream that sends its first events, then holds the
//!   connection open until [`MockUpstream::release_held`] (or `max_hold`).

mod replies;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

pub use replies::{MockBody, stamp_of};
use replies::{Replies, stamped_delta};

/// What a listener does with each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    Fast,
    Timed,
    Hold,
}

/// Settings of the timed and held streams.
#[derive(Clone, Copy, Debug)]
pub struct MockSettings {
    pub sse_events: usize,
    pub sse_interval: Duration,
    pub max_hold: Duration,
}

/// The mock's counters.
#[derive(Debug, Default)]
pub struct Counters {
    pub served: AtomicU64,
    /// Held streams currently waiting for their release.
    pub held: AtomicU64,
}

struct Shared {
    replies: Replies,
    /// Timed streams started, to stagger their schedules.
    timed_started: AtomicU64,
    settings: MockSettings,
    clock: Instant,
    counters: Arc<Counters>,
    release: watch::Receiver<bool>,
}

/// The running mock. Stops (and joins its thread) when dropped.
pub struct MockUpstream {
    pub fast: SocketAddr,
    pub timed: SocketAddr,
    pub hold: SocketAddr,
    counters: Arc<Counters>,
    release: watch::Sender<bool>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    thread_dir: Option<PathBuf>,
}

impl MockUpstream {
    /// Starts the mock's thread and binds its three listeners. `clock` is the
    /// base of the stamps in timed events.
    pub fn start(settings: MockSettings, clock: Instant) -> anyhow::Result<Self> {
        let counters = Arc::new(Counters::default());
        let (release, release_rx) = watch::channel(false);
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel();
        let (ready, ready_rx) = std::sync::mpsc::channel();
        let shared = Arc::new(Shared {
            replies: Replies::new(),
            timed_started: AtomicU64::new(0),
            settings,
            clock,
            counters: Arc::clone(&counters),
            release: release_rx,
        });
        let thread = std::thread::Builder::new()
            .name("mock-upstream".into())
            .spawn(move || run_thread(shared, ready, shutdown_rx))
            .context("cannot start the mock's thread")?;
        let started = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .context("the mock did not start within 10 s")?;
        let (addrs, thread_dir) = started.map_err(|e| anyhow::anyhow!("mock: {e}"))?;
        Ok(Self {
            fast: addrs[0],
            timed: addrs[1],
            hold: addrs[2],
            counters,
            release,
            shutdown: Some(shutdown),
            thread: Some(thread),
            thread_dir,
        })
    }

    pub fn addr(&self, behavior: Behavior) -> SocketAddr {
        match behavior {
            Behavior::Fast => self.fast,
            Behavior::Timed => self.timed,
            Behavior::Hold => self.hold,
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Lets every held stream finish; new held streams are held again after
    /// [`MockUpstream::hold_again`].
    pub fn release_held(&self) {
        self.release.send_replace(true);
    }

    pub fn hold_again(&self) {
        self.release.send_replace(false);
    }

    /// CPU time of the mock's thread so far.
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::procinfo::cpu_time_at(self.thread_dir.as_deref()?)
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Started = Result<([SocketAddr; 3], Option<PathBuf>), String>;

fn run_thread(
    shared: Arc<Shared>,
    ready: std::sync::mpsc::Sender<Started>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    runtime.block_on(async move {
        let mut listeners = Vec::new();
        for _ in 0..3 {
            match TcpListener::bind("127.0.0.1:0").await {
                Ok(listener) => listeners.push(listener),
                Err(e) => {
                    let _ = ready.send(Err(format!("cannot bind 127.0.0.1:0: {e}")));
                    return;
                }
            }
        }
        let mut addrs = [SocketAddr::from(([127, 0, 0, 1], 0)); 3];
        for (addr, listener) in addrs.iter_mut().zip(&listeners) {
            if let Ok(local) = listener.local_addr() {
                *addr = local;
            }
        }
        let _ = ready.send(Ok((addrs, crate::procinfo::current_thread_dir())));
        let behaviors = [Behavior::Fast, Behavior::Timed, Behavior::Hold];
        for (listener, behavior) in listeners.into_iter().zip(behaviors) {
            tokio::spawn(accept_loop(listener, behavior, Arc::clone(&shared)));
        }
        let _ = shutdown.await;
    });
}

async fn accept_loop(listener: TcpListener, behavior: Behavior, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors: back off rather than spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(request, behavior, Arc::clone(&shared)));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    behavior: Behavior,
    shared: Arc<Shared>,
) -> Result<Response<MockBody>, Infallible> {
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    shared.counters.served.fetch_add(1, Ordering::Relaxed);
    let replies = &shared.replies;
    let template = replies.headers.clone();
    let (content_type, body) = match behavior {
        Behavior::Fast if replies.wants_stream(&body) => (
            "text/event-stream",
            MockBody::Full(Some(replies.stream.clone())),
        ),
        Behavior::Fast => (
            "application/json",
            MockBody::Full(Some(replies.json.clone())),
        ),
        Behavior::Timed => ("text/event-stream", spawn_stream(shared, timed_stream)),
        Behavior::Hold => ("text/event-stream", spawn_stream(shared, held_stream)),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    *headers = template;
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    Ok(response)
}

fn spawn_stream<F, Fut>(shared: Arc<Shared>, run: F) -> MockBody
where
    F: FnOnce(Arc<Shared>, mpsc::Sender<Bytes>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(run(shared, tx));
    MockBody::Channel(rx)
}

/// The head now, then one stamped delta every `sse_interval`, then the tail.
/// Concurrent streams are offset by a sixteenth of the interval from each
/// other, as independent conversations would be, rather than all ticking at once.
async fn timed_stream(shared: Arc<Shared>, tx: mpsc::Sender<Bytes>) {
    if tx.send(shared.replies.head.clone()).await.is_err() {
        return;
    }
    let interval = shared.settings.sse_interval;
    let nth = shared.timed_started.fetch_add(1, Ordering::Relaxed) % 16;
    let start = tokio::time::Instant::now() + interval.mul_f64(nth as f64 / 16.0);
    for i in 1..=shared.settings.sse_events {
        tokio::time::sleep_until(start + interval * i as u32).await;
        let nanos = u64::try_from(shared.clock.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if tx.send(stamped_delta(nanos)).await.is_err() {
            return;
        }
    }
    let _ = tx.send(shared.replies.tail.clone()).await;
}

/// The head now, the rest once released (or after `max_hold`).
async fn held_stream(shared: Arc<Shared>, tx: mpsc::Sender<Bytes>) {
    if tx.send(shared.replies.head.clone()).await.is_err() {
        return;
    }
    let counters = &shared.counters;
    counters.held.fetch_add(1, Ordering::SeqCst);
    let mut release = shared.release.clone();
    let _ = tokio::time::timeout(shared.settings.max_hold, release.wait_for(|r| *r)).await;
    counters.held.fetch_sub(1, Ordering::SeqCst);
    let _ = tx.send(Bytes::from(replies::text_delta("released"))).await;
    let _ = tx.send(shared.replies.tail.clone()).await;
}
