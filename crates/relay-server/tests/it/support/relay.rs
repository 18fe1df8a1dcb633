//! The relay in process: `relay_server::Server` bound to 127.0.0.1:0 inside
//! the test's own runtime (so paused time reaches its timers), stopped when
//! the test ends.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use relay_config::{Config, Format, load_str};
use relay_server::{AppState, Server};
use relay_test_support::config::RelayConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long [`TestRelay::stop`] waits for the server to drain.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running relay. Dropping it stops accepting and aborts the server task;
/// [`TestRelay::stop`] shuts down gracefully and waits.
#[derive(Debug)]
pub struct TestRelay {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestRelay {
    /// Starts the relay with `config`, listening on 127.0.0.1:0 whatever
    /// `server.listen` says (as `cc-relay serve --listen 127.0.0.1:0` would).
    pub async fn start(mut config: Config) -> Self {
        super::logs::capture();
        config.server.listen = "127.0.0.1:0".to_owned();
        let server = Server::bind(config).await.expect("the relay starts");
        let addr = server.local_addr().expect("a bound address");
        let metrics_addr = server.metrics_addr();
        let state = server.state();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            metrics_addr,
            state,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Starts the relay from a configuration file's text (YAML), with the
    /// process environment for `${VAR}` references.
    pub async fn from_yaml(yaml: &str) -> Self {
        let env = |name: &str| std::env::var(name).ok();
        let config = load_str(yaml, Format::Yaml, &env)
            .unwrap_or_else(|e| panic!("the test configuration is invalid: {e}\n{yaml}"));
        Self::start(config).await
    }

    /// Starts the relay from the builder's configuration.
    pub async fn with(config: &RelayConfig) -> Self {
        Self::from_yaml(&config.yaml()).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `server.metrics_listen`'s bound address, when configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The server's shared state (configuration snapshot, telemetry).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Graceful shutdown: stops accepting, lets in-flight requests finish
    /// (up to `server.shutdown_timeout_ms`) and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(STOP_TIMEOUT, task)
                .await
                .expect("the relay stops in time")
                .expect("the server task did not panic");
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
