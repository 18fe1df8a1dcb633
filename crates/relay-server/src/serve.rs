//! The listener: HTTP/1.1 and (optionally) h2c on one port, and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use relay_config::Config;
use tokio::net::TcpListener;

use tokio_util::sync::CancellationToken;

use crate::admin::Management;
use crate::runtime::PrepareError;
use crate::service::relay_service;
use crate::state::AppState;

mod close_on_refusal;
mod first_bytes;

use close_on_refusal::CloseOnRefusal;
use first_bytes::FirstBytesDeadline;

/// The largest HTTP/1.1 request head (request line and headers) read; past
/// it hyper answers a bare 431 and closes the connection. hyper's default
/// limit of 100 headers (431 past it too) is kept.
const MAX_HTTP1_HEAD_BYTES: usize = 64 * 1024;
/// The same bound for an h2c request's decoded header list (h2 answers 431
/// and resets the stream; the connection stays).
const MAX_HTTP2_HEADER_LIST_BYTES: u32 = 64 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Prepare(#[from] PrepareError),
}

/// A bound, ready relay. [`Server::run`] serves until the shutdown future resolves.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    /// `server.metrics_listen`, when set.
    metrics_listener: Option<TcpListener>,
    /// `grpc.listen`, when set: the gRPC management service.
    grpc_listener: Option<TcpListener>,
    state: Arc<AppState>,
    enable_http2: bool,
    shutdown_timeout: Duration,
}

impl Server {
    /// Prepares the configuration and binds its listen address.
    pub async fn bind(config: Config) -> Result<Self, ServerError> {
        let address = config.server.listen.clone();
        let enable_http2 = config.server.enable_http2;
        let shutdown_timeout = Duration::from_millis(config.server.shutdown_timeout_ms);
        let metrics_address = config.server.metrics_listen.clone();
        let grpc_address = config.grpc.listen.clone().filter(|a| !a.is_empty());
        if grpc_address.is_some()
            && config.server.admin.token.is_none()
            && config.server.admin.read_only_token.is_none()
        {
            tracing::warn!(
                "grpc.listen is set but server.admin.token is not: every gRPC management call will be refused"
            );
        }
        let state = Arc::new(AppState::new(config)?);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| ServerError::Bind { address, source })?;
        let metrics_listener = bind_optional(metrics_address).await?;
        let grpc_listener = bind_optional(grpc_address).await?;
        Ok(Self {
            listener,
            metrics_listener,
            grpc_listener,
            state,
            enable_http2,
            shutdown_timeout,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the `server.metrics_listen` listener, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The address of the `grpc.listen` listener, if there is one.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The state shared with every request, for reloads and introspection.
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets
    /// in-flight requests finish for up to `server.shutdown_timeout_ms`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let service =
            TowerToHyperService::new(CloseOnRefusal::new(relay_service(Arc::clone(&self.state))));
        let graceful = GracefulShutdown::new();
        let health_checks = tokio::spawn(crate::health_check::run(Arc::clone(&self.state)));
        let metrics = self
            .metrics_listener
            .map(|l| tokio::spawn(crate::metrics_listener::run(l, Arc::clone(&self.state))));
        let grpc_shutdown = CancellationToken::new();
        let grpc = self.grpc_listener.map(|listener| {
            tokio::spawn(crate::admin::grpc::serve(
                listener,
                Management::new(Arc::clone(&self.state)),
                grpc_shutdown.clone(),
                self.shutdown_timeout,
            ))
        });
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(err) => {
                            // Out of file descriptors and the like: back off instead of spinning.
                            tracing::warn!(error = %err, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    // Read per connection, so a reload applies to the next ones.
                    let header_timeout = Duration::from_millis(
                        self.state.snapshot().config.server.header_read_timeout_ms,
                    );
                    let builder = connection_builder(self.enable_http2, header_timeout);
                    let io = TokioIo::new(FirstBytesDeadline::new(stream, header_timeout));
                    let connection = builder.serve_connection(io, service.clone()).into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(err) = connection.await {
                            tracing::debug!(%peer, error = %err, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(self.listener);
        health_checks.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        // Dashboards' event streams never end by themselves.
        self.state.telemetry.close_streams();
        grpc_shutdown.cancel();
        let in_flight = self
            .state
            .in_flight
            .load(std::sync::atomic::Ordering::Acquire);
        tracing::info!(in_flight, timeout = ?self.shutdown_timeout, "shutting down: no new connections, draining");
        match tokio::time::timeout(self.shutdown_timeout, graceful.shutdown()).await {
            Ok(()) => tracing::info!("all connections drained"),
            Err(_) => tracing::warn!("drain timeout reached; closing remaining connections"),
        }
        // The gRPC listener drains within the same timeout, on its own task.
        if let Some(grpc) = grpc {
            let _ = grpc.await;
        }
    }
}

async fn bind_optional(address: Option<String>) -> Result<Option<TcpListener>, ServerError> {
    match address {
        Some(address) => TcpListener::bind(&address)
            .await
            .map(Some)
            .map_err(|source| ServerError::Bind { address, source }),
        None => Ok(None),
    }
}

/// hyper's settings for one connection: the header read timeout and size
/// limits that make hostile clients cost a bounded amount.
fn connection_builder(
    enable_http2: bool,
    header_timeout: Duration,
) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(MAX_HTTP1_HEAD_BYTES);
    // h2 has no header read timeout: a peer that stops answering pings is
    // dropped instead, so a silent connection cannot be held forever.
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HTTP2_HEADER_LIST_BYTES)
        .keep_alive_interval(header_timeout)
        .keep_alive_timeout(header_timeout);
    if enable_http2 {
        builder
    } else {
        builder.http1_only()
    }
}
