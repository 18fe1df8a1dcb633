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

use crate::runtime::PrepareError;
use crate::service::relay_service;
use crate::state::AppState;

/// How long a client may take to send its request headers (slow-loris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

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
        let state = Arc::new(AppState::new(config)?);
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| ServerError::Bind { address, source })?;
        Ok(Self {
            listener,
            state,
            enable_http2,
            shutdown_timeout,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The state shared with every request, for reloads and introspection.
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets
    /// in-flight requests finish for up to `server.shutdown_timeout_ms`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
        builder.http2().timer(TokioTimer::new());
        let builder = if self.enable_http2 {
            builder
        } else {
            builder.http1_only()
        };
        let service = TowerToHyperService::new(relay_service(Arc::clone(&self.state)));
        let graceful = GracefulShutdown::new();
        let health_checks = tokio::spawn(crate::health_check::run(Arc::clone(&self.state)));
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
                    let connection = builder.serve_connection(TokioIo::new(stream), service.clone()).into_owned();
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
        let in_flight = self
            .state
            .in_flight
            .load(std::sync::atomic::Ordering::Acquire);
        tracing::info!(in_flight, timeout = ?self.shutdown_timeout, "shutting down: no new connections, draining");
        match tokio::time::timeout(self.shutdown_timeout, graceful.shutdown()).await {
            Ok(()) => tracing::info!("all connections drained"),
            Err(_) => tracing::warn!("drain timeout reached; closing remaining connections"),
        }
    }
}
