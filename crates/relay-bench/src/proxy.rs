//! The proxies under test, each a child process on 127.0.0.1: the real
//! release `cc-relay` binary with a generated configuration, or a peer
//! (see `peers.rs`). Killed when dropped.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::client::Target;

/// What `cc-relay serve` prints on stdout once it listens.
const LISTENING: &str = "cc-relay listening on http://";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running proxy process.
pub struct Proxy {
    pub target: Target,
    child: Child,
    /// Its configuration, home directory and log files, removed with it.
    _dir: TempDir,
}

impl Proxy {
    /// Starts `cc-relay serve` in front of the mock at `upstream`: one
    /// `anthropic` provider with one key, no client authentication, logging
    /// at `log_level` to a file (as a deployment would, rather than a pipe
    /// this process must drain). The log is kept out of the configuration's
    /// directory, which the relay watches for changes.
    pub async fn relay(
        binary: &Path,
        upstream: SocketAddr,
        log_level: &str,
    ) -> anyhow::Result<Self> {
        if !binary.is_file() {
            bail!(
                "the relay binary {} does not exist: build it with `cargo build --release -p relay-cli` or pass --relay-bin",
                binary.display()
            );
        }
        let dir = tempfile::Builder::new().prefix("relay-bench-").tempdir()?;
        let log = dir.path().join("relay.log");
        let config = format!(
            r#"server:
  timeout_ms: 600000
providers:
  - name: bench
    enabled: true
    type: anthropic
    base_url: "http://{upstream}"
    keys:
      - key: "sk-bench-upstream-0001"
logging:
  level: {log_level}
  output: "{}"
"#,
            log.display()
        );
        let config_dir = dir.path().join("config");
        std::fs::create_dir_all(&config_dir)?;
        let config_path = config_dir.join("config.yaml");
        std::fs::write(&config_path, config)?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .args(["--listen", "127.0.0.1:0"]);
        command.env_remove("RUST_LOG").env_remove("CC_RELAY_CONFIG");
        Self::spawn_listening("cc-relay", command, dir, LISTENING).await
    }

    /// Starts `relay-bench hyper-floor` (this executable) in front of `upstream`.
    pub async fn floor(upstream: SocketAddr) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot locate relay-bench itself")?;
        let dir = tempfile::Builder::new()
            .prefix("relay-bench-floor-")
            .tempdir()?;
        let mut command = Command::new(exe);
        command.args(["hyper-floor", "--upstream", &upstream.to_string()]);
        let prefix = format!("{}http://", crate::floor::LISTENING);
        Self::spawn_listening("hyper-floor", command, dir, &prefix).await
    }

    /// Spawns `command` and waits for the stdout line `PREFIX ADDR`.
    async fn spawn_listening(
        name: &str,
        mut command: Command,
        dir: TempDir,
        prefix: &str,
    ) -> anyhow::Result<Self> {
        isolate(&mut command, dir.path())?;
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path)?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let pid = child
            .id()
            .with_context(|| format!("{name} exited at once"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix(prefix) {
                    return anyhow::Ok(addr.trim().trim_end_matches('/').parse::<SocketAddr>()?);
                }
            }
            bail!("{name} exited before listening")
        };
        let addr = match tokio::time::timeout(STARTUP_TIMEOUT, wait).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(error)) => bail!("{error}: {}", tail_of(&stderr_path)),
            Err(_) => bail!("{name} did not listen within {STARTUP_TIMEOUT:?}"),
        };
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            target: Target {
                name: name.to_owned(),
                addr,
                prefix: String::new(),
                pid: Some(pid),
            },
            child,
            _dir: dir,
        })
    }

    /// Starts a peer's `command` (already configured to listen on `addr`)
    /// and waits until `GET ready_path` answers.
    pub async fn spawn_peer(
        target: Target,
        mut command: Command,
        dir: TempDir,
        ready_path: &str,
        startup: Duration,
    ) -> anyhow::Result<Self> {
        isolate(&mut command, dir.path())?;
        let out = std::fs::File::create(dir.path().join("stdout.log"))?;
        let err = std::fs::File::create(dir.path().join("stderr.log"))?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", target.name))?;
        let pid = child.id();
        let deadline = Instant::now() + startup;
        loop {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "{} exited ({status}) before answering: {}",
                    target.name,
                    tail_of(&dir.path().join("stderr.log"))
                );
            }
            if http_get_ok(target.addr, ready_path).await {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer GET {ready_path} within {startup:?}: {}",
                    target.name,
                    tail_of(&dir.path().join("stderr.log"))
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(Self {
            target: Target { pid, ..target },
            child,
            _dir: dir,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.target.pid
    }

    /// Asks the process to stop (SIGTERM), so a profiler wrapping it (e.g.
    /// `--relay-bin` a script running valgrind) can write its report; kills
    /// it if it has not exited within 10 s.
    pub async fn stop(mut self) {
        if let Some(pid) = self.target.pid {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
            if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_ok()
            {
                return;
            }
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// Gives the child its own home and XDG directories under `dir`.
fn isolate(command: &mut Command, dir: &Path) -> anyhow::Result<()> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    command
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("XDG_CACHE_HOME", home.join(".cache"));
    Ok(())
}

/// The last lines of a log file, for error messages.
fn tail_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// Whether `GET path` on `addr` answers with any status below 500.
pub async fn http_get_ok(addr: SocketAddr, path: &str) -> bool {
    use http_body_util::{BodyExt, Empty};
    let probe = async {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let request = http::Request::get(path)
            .header(http::header::HOST, addr.to_string())
            .body(Empty::<bytes::Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let ok = response.status().as_u16() < 500;
        let _ = response.into_body().collect().await;
        anyhow::Ok(ok)
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(true))
    )
}
