//! `RelayProcess`: runs the real `cc-relay` binary (`cc-relay serve`) on
//! 127.0.0.1:0 with a throw-away config and home directory, captures its
//! output line by line and controls it with signals.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::logs::{LogState, spawn_reader};
use crate::wait::{other, timed_out};

/// What the binary prints on stdout once it listens, followed by its URL.
pub const LISTENING_PREFIX: &str = "cc-relay listening on ";

/// How to start a [`RelayProcess`].
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// The `cc-relay` binary; integration tests pass
    /// `env!("CARGO_BIN_EXE_cc-relay")`.
    pub binary: PathBuf,
    /// Written to a temporary file passed as `--config FILE`.
    pub config_yaml: Option<String>,
    /// Extra arguments after `serve` (`--listen 127.0.0.1:0` is added unless
    /// they contain `--listen`).
    pub args: Vec<String>,
    /// Extra environment variables. `HOME` and the `XDG_*_HOME` directories
    /// default to a fresh temporary directory; `CC_RELAY_CONFIG` is removed.
    pub env: Vec<(String, String)>,
    /// How long to wait for the listening line (default 20 s).
    pub startup_timeout: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            binary: PathBuf::new(),
            config_yaml: None,
            args: Vec::new(),
            env: Vec::new(),
            startup_timeout: Duration::from_secs(20),
        }
    }
}

/// A signal [`RelayProcess::signal`] can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Term,
    Int,
    Hup,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Self::Term => "TERM",
            Self::Int => "INT",
            Self::Hup => "HUP",
        }
    }
}

/// A running `cc-relay serve`. Killed when dropped.
pub struct RelayProcess {
    child: Mutex<Child>,
    pid: u32,
    url: String,
    addr: SocketAddr,
    logs: Arc<LogState>,
    readers: Mutex<Vec<JoinHandle<()>>>,
    exit_status: Mutex<Option<ExitStatus>>,
    config_path: Option<PathBuf>,
    /// Holds the config file and the default home for the process's lifetime.
    _dir: TempDir,
}

impl std::fmt::Debug for RelayProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayProcess")
            .field("pid", &self.pid)
            .field("url", &self.url)
            .field("config_path", &self.config_path)
            .finish_non_exhaustive()
    }
}

impl RelayProcess {
    /// Spawns `BINARY serve [--config FILE] [--listen 127.0.0.1:0] ARGS…` and
    /// waits for its listening line. Fails, with everything the process
    /// printed, if it exits or stays silent for `startup_timeout`.
    pub async fn start(options: RelayOptions) -> io::Result<Self> {
        let binary = &options.binary;
        if binary.as_os_str().is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "RelayOptions::binary is empty; pass env!(\"CARGO_BIN_EXE_cc-relay\")",
            ));
        }
        if !binary.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "relay binary {} does not exist; pass env!(\"CARGO_BIN_EXE_cc-relay\")",
                    binary.display()
                ),
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("cc-relay-test-")
            .tempdir()?;
        let config_path = match &options.config_yaml {
            Some(yaml) => {
                let path = dir.path().join("config.yaml");
                std::fs::write(&path, yaml)?;
                Some(path)
            }
            None => None,
        };
        let mut command = build_command(&options, config_path.as_deref(), dir.path())?;
        let mut child = spawn_retrying(&mut command, binary).await?;
        let pid = child
            .id()
            .ok_or_else(|| other("the relay exited before its pid was known"))?;
        let logs = LogState::new();
        let mut readers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            readers.push(spawn_reader(stdout, Arc::clone(&logs), true));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(spawn_reader(stderr, Arc::clone(&logs), false));
        }
        let url = match wait_listening(&mut child, &logs, options.startup_timeout).await {
            Ok(url) => url,
            Err(error) => {
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                logs.wait_closed(Duration::from_secs(1)).await;
                return Err(io::Error::new(
                    error.kind(),
                    format!(
                        "{} (binary {}); output:\n{}",
                        error,
                        binary.display(),
                        logs.lines().join("\n")
                    ),
                ));
            }
        };
        let addr = parse_addr(&url)?;
        Ok(Self {
            child: Mutex::new(child),
            pid,
            url,
            addr,
            logs,
            readers: Mutex::new(readers),
            exit_status: Mutex::new(None),
            config_path,
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:PORT`, as printed by the relay.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Every stdout and stderr line so far, in arrival order.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lines()
    }

    /// Waits until a line contains `needle`; fails at the timeout or as soon
    /// as the process's output is closed without such a line.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> io::Result<()> {
        self.logs.wait_for(needle, timeout).await
    }

    /// Sends a signal with `kill -SIG PID`.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        let status = std::process::Command::new("kill")
            .arg(format!("-{}", signal.name()))
            .arg(self.pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(other(format!(
                "kill -{} {} failed ({status}); has the relay exited?",
                signal.name(),
                self.pid
            )))
        }
    }

    /// Waits for the process to exit, then for its output to be fully read.
    pub async fn wait_exit(&self, timeout: Duration) -> io::Result<ExitStatus> {
        if let Some(status) = *self.exit_status.lock().await {
            return Ok(status);
        }
        let mut child = self.child.lock().await;
        let status = tokio::time::timeout(timeout, child.wait())
            .await
            .map_err(|_| timed_out(format!("the relay did not exit within {timeout:?}")))??;
        *self.exit_status.lock().await = Some(status);
        self.logs.wait_closed(Duration::from_secs(2)).await;
        Ok(status)
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub async fn kill(&self) -> io::Result<ExitStatus> {
        self.child.lock().await.start_kill()?;
        self.wait_exit(Duration::from_secs(10)).await
    }

    /// The `--config` file, for hot-reload tests.
    pub fn config_path(&self) -> Option<&Path> {
        self.config_path.as_deref()
    }

    /// Overwrites the `--config` file in place.
    pub fn rewrite_config(&self, yaml: &str) -> io::Result<()> {
        let path = self
            .config_path
            .as_deref()
            .ok_or_else(|| other("the relay was started without a config"))?;
        std::fs::write(path, yaml)
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        // The child was spawned with `kill_on_drop`; make it immediate.
        let _ = self.child.get_mut().start_kill();
        for reader in self.readers.get_mut().drain(..) {
            reader.abort();
        }
    }
}

fn build_command(options: &RelayOptions, config: Option<&Path>, dir: &Path) -> io::Result<Command> {
    let mut command = Command::new(&options.binary);
    command.arg("serve");
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let has_listen = options
        .args
        .iter()
        .any(|a| a == "--listen" || a.starts_with("--listen="));
    if !has_listen {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    command.args(&options.args);
    command.env_remove("CC_RELAY_CONFIG");
    let given = |name: &str| options.env.iter().any(|(k, _)| k == name);
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    if !given("HOME") {
        command.env("HOME", &home);
    }
    for (var, sub) in [
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ] {
        if !given(var) {
            command.env(var, home.join(sub));
        }
    }
    command.envs(options.env.iter().map(|(k, v)| (k, v)));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(command)
}

/// Spawns, retrying briefly on `ETXTBSY` (a freshly written executable may
/// still be open in a concurrently forked process).
async fn spawn_retrying(command: &mut Command, binary: &Path) -> io::Result<Child> {
    let mut attempts = 0;
    loop {
        match command.spawn() {
            Ok(child) => return Ok(child),
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && attempts < 20 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot start relay binary {}: {e}", binary.display()),
                ));
            }
        }
    }
}

/// Waits for the listening line, the process's exit or the timeout.
async fn wait_listening(
    child: &mut Child,
    logs: &LogState,
    timeout: Duration,
) -> io::Result<String> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut changed = logs.subscribe();
    loop {
        changed.mark_unchanged();
        if let Some(url) = logs.listen_url() {
            return Ok(url);
        }
        if let Some(status) = child.try_wait()? {
            return Err(other(format!(
                "the relay exited ({status}) before printing `{LISTENING_PREFIX}URL`"
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(timed_out(format!(
                "the relay did not print `{LISTENING_PREFIX}URL` within {timeout:?}"
            )));
        }
        let tick = tokio::time::Instant::now() + Duration::from_millis(50);
        let _ = tokio::time::timeout_at(deadline.min(tick), changed.changed()).await;
    }
}

fn parse_addr(url: &str) -> io::Result<SocketAddr> {
    url.strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .and_then(|hostport| hostport.parse().ok())
        .ok_or_else(|| other(format!("cannot parse the relay's listening URL {url:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_listening_urls() {
        assert_eq!(
            parse_addr("http://127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(parse_addr("https://127.0.0.1:1").is_err());
    }

    #[tokio::test]
    async fn missing_binary_is_a_clear_error() {
        let err = RelayProcess::start(RelayOptions::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("CARGO_BIN_EXE_cc-relay"), "{err}");
        let err = RelayProcess::start(RelayOptions {
            binary: "/nonexistent/cc-relay".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/cc-relay"), "{err}");
    }
}
