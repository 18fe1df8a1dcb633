//! A relay in process for the management-service tests: a config file in a
//! temp dir (admin write and read-only tokens, `grpc.listen`, one provider
//! on a mock upstream), bound on free loopback ports, with a reloader.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use relay_server::{Reloader, Server};
use relay_test_support::MockUpstream;

pub const WRITE_TOKEN: &str = "admin-write-token-0001";
pub const READ_TOKEN: &str = "admin-read-token-0002";
pub const UPSTREAM_KEY: &str = "sk-admin-upstream-key-0003";
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Relay {
    pub url: String,
    pub grpc: SocketAddr,
    dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    _reloader: Arc<Reloader>,
}

impl Relay {
    pub async fn start(mock: &MockUpstream, test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("relay-admin-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yaml");
        std::fs::write(
            &path,
            format!(
                "server:\n  listen: 127.0.0.1:0\n  admin:\n    token: {WRITE_TOKEN}\n    read_only: false\n    read_only_token: {READ_TOKEN}\n\
                 grpc:\n  listen: 127.0.0.1:0\n\
                 providers:\n  - name: primary\n    type: anthropic\n    enabled: true\n    base_url: {}\n    keys: [ {{ key: {UPSTREAM_KEY} }} ]\n",
                mock.url()
            ),
        )
        .unwrap();
        let loaded = relay_config::load_file(&path).unwrap();
        let server = Server::bind(loaded.clone()).await.unwrap();
        let url = format!("http://{}", server.local_addr().unwrap());
        let grpc = server.grpc_addr().expect("grpc.listen is bound");
        let reloader = Arc::new(Reloader::new(server.state(), &path, loaded));
        reloader.register();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            url,
            grpc,
            dir,
            stop: Some(stop),
            task,
            _reloader: reloader,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("the relay stops")
            .unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
