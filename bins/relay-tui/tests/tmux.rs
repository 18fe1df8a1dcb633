//! End to end in a real terminal: the real `cc-relay` (two providers in
//! front of mock upstreams, admin API writable) and `cc-relay-tui` in a
//! detached tmux session of a fixed size, read back with `capture-pane`.
//!
//! Skipped, with a message, when `tmux` is not installed (CI installs it:
//! `apt-get install -y tmux`). The `cc-relay` binary is `$CC_RELAY_BIN`, or
//! the one beside `cc-relay-tui` in the target directory, rebuilt first with
//! `cargo build -p relay-cli` when it is missing or older than the sources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use relay_test_support::{MockUpstream, RelayOptions, RelayProcess, TestClient, unused_local_addr};

const ADMIN_TOKEN: &str = "tmux-e2e-admin-token-0006";
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

/// A private tmux server (its own socket, in a temporary directory),
/// killed on drop.
struct Tmux {
    socket: PathBuf,
    session: &'static str,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn new(session: &'static str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cc-relay-tmux-")
            .tempdir()
            .unwrap();
        Self {
            socket: dir.path().join("socket"),
            session,
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs")
    }

    fn start(&self, command: &[String]) {
        let (w, h) = (WIDTH.to_string(), HEIGHT.to_string());
        let mut args = vec!["new-session", "-d", "-s", self.session, "-x", &w, "-y", &h];
        args.extend(command.iter().map(String::as_str));
        let out = self.run(&args);
        assert!(out.status.success(), "tmux new-session: {out:?}");
    }

    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        assert!(
            self.run(&["send-keys", "-t", self.session, keys])
                .status
                .success()
        );
    }

    fn alive(&self) -> bool {
        self.run(&["has-session", "-t", self.session])
            .status
            .success()
    }

    /// Polls the screen every 100 ms until `done` holds, for at most `secs`.
    async fn wait(&self, what: &str, secs: u64, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {secs}s waiting for {what}; the screen:\n{screen}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> SystemTime {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return SystemTime::UNIX_EPOCH;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                newest(&path)
            } else {
                modified(&path)
            }
        })
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn modified(path: &Path) -> SystemTime {
    path.metadata()
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The real `cc-relay`, built if missing or older than its sources.
fn cc_relay_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CC_RELAY_BIN") {
        return PathBuf::from(path);
    }
    let tui = Path::new(env!("CARGO_BIN_EXE_cc-relay-tui"));
    let binary = tui.with_file_name(format!("cc-relay{}", std::env::consts::EXE_SUFFIX));
    let root = workspace_root();
    let sources = newest(&root.join("crates"))
        .max(newest(&root.join("bins/relay-cli/src")))
        .max(modified(&root.join("Cargo.lock")));
    if !binary.is_file() || modified(&binary) < sources {
        let profile = match tui
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
        {
            Some("debug") | None => "dev".to_owned(),
            Some(other) => other.to_owned(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "relay-cli",
                "--bin",
                "cc-relay",
                "--profile",
                &profile,
            ])
            .current_dir(&root)
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "building cc-relay failed; set CC_RELAY_BIN to use another binary"
        );
    }
    binary
}

fn config(primary: &str, secondary: &str, read_only: bool) -> String {
    format!(
        r#"
server:
  timeout_ms: 5000
  admin:
    token: "{ADMIN_TOKEN}"
    read_only: {read_only}
providers:
  - name: primary
    enabled: true
    type: anthropic
    base_url: "{primary}"
    priority: 2
    keys: [{{ key: "sk-primary-upstream-key-0001" }}]
  - name: secondary
    enabled: true
    type: anthropic
    base_url: "{secondary}"
    priority: 1
    keys: [{{ key: "sk-secondary-upstream-key-02" }}]
"#
    )
}

async fn start_relay(binary: &Path, listen: &str, config_yaml: String) -> RelayProcess {
    RelayProcess::start(RelayOptions {
        binary: binary.to_owned(),
        config_yaml: Some(config_yaml),
        args: vec!["--listen".to_owned(), listen.to_owned()],
        ..RelayOptions::default()
    })
    .await
    .expect("the relay starts")
}

async fn send_message(relay: &RelayProcess, model: &str) {
    let body = serde_json::json!({
        "model": model, "max_tokens": 16,
        "messages": [{"role": "user", "content": "hello from the tmux test"}]
    });
    let response = TestClient::new()
        .post_json(format!("{}/v1/messages", relay.url()), &[], &body)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
}

/// The row of the providers pane for `name`.
fn provider_row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| l.contains(&format!(" {name} ")) && l.contains("anthropic"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_follows_a_live_relay_through_writes_and_restarts() {
    relay_test_support::tools::require_program("tmux", "tmux");
    let binary = cc_relay_binary();
    let primary = MockUpstream::start().await.unwrap();
    let secondary = MockUpstream::start().await.unwrap();
    let listen = unused_local_addr().unwrap().to_string();
    let relay = start_relay(
        &binary,
        &listen,
        config(&primary.url(), &secondary.url(), false),
    )
    .await;

    // The admin API must be there; say plainly if this relay lacks it.
    let probe = TestClient::new()
        .request(
            "GET",
            format!("{}/admin/stats", relay.url()),
            &[("authorization", &format!("Bearer {ADMIN_TOKEN}"))],
            "",
        )
        .await
        .unwrap();
    assert_eq!(
        probe.status,
        200,
        "the relay's GET /admin/stats is missing or broken (server.admin): {}",
        probe.text()
    );

    let tmux = Tmux::new("dash");
    tmux.start(&[
        env!("CARGO_BIN_EXE_cc-relay-tui").to_owned(),
        "--url".to_owned(),
        relay.url(),
        "--admin-token".to_owned(),
        ADMIN_TOKEN.to_owned(),
        "--interval".to_owned(),
        "300ms".to_owned(),
    ]);
    tmux.wait("the providers and a connection", 20, |s| {
        s.contains("● connected")
            && provider_row(s, "primary").is_some()
            && provider_row(s, "secondary").is_some()
    })
    .await;
    tmux.wait("the live event stream", 10, |s| {
        s.contains("Requests · live")
    })
    .await;

    for _ in 0..3 {
        send_message(&relay, "claude-sonnet-4-5").await;
    }
    let stats = TestClient::new()
        .request(
            "GET",
            format!("{}/admin/stats", relay.url()),
            &[("x-admin-token", ADMIN_TOKEN)],
            "",
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    let input_tokens = stats["tokens"]["input"].as_u64().unwrap();
    assert!(input_tokens > 0, "{stats}");
    let screen = tmux
        .wait("three request log lines and the token total", 15, |s| {
            let logged = s
                .lines()
                .filter(|l| {
                    l.contains("claude-sonnet-4-5") && l.contains(" primary ") && l.contains("200")
                })
                .count();
            logged == 3
                && s.lines()
                    .any(|l| l.contains("│input ") && l.contains(&format!(" {input_tokens} ")))
        })
        .await;
    assert!(screen.contains("total 3"), "{screen}");

    // `d` disables the selected (first) provider; the relay routes elsewhere.
    tmux.keys("d");
    tmux.wait("primary disabled", 10, |s| {
        provider_row(s, "primary").is_some_and(|row| row.contains("disabled"))
            && s.contains("provider primary disabled")
    })
    .await;
    send_message(&relay, "claude-haiku-4-5").await;
    assert_eq!(
        secondary.request_count(),
        1,
        "after disabling primary, secondary serves"
    );
    assert_eq!(primary.request_count(), 3);
    tmux.wait("the request on secondary", 10, |s| {
        s.lines()
            .any(|l| l.contains("claude-haiku-4-5") && l.contains(" secondary "))
    })
    .await;

    // The relay dies: the dashboard says so and keeps the last data.
    relay.kill().await.unwrap();
    tmux.wait("the disconnection", 15, |s| {
        s.contains("disconnected — retrying")
            && s.contains("Requests · paused")
            && provider_row(s, "primary").is_some()
            && s.contains("claude-haiku-4-5")
    })
    .await;

    // It comes back on the same port, read-only this time.
    let relay = start_relay(
        &binary,
        &listen,
        config(&primary.url(), &secondary.url(), true),
    )
    .await;
    tmux.wait("the reconnection", 20, |s| {
        // Events are not replayed: wait for the stream before sending.
        s.contains("● connected")
            && s.contains("Requests · live")
            && s.contains("read-only")
            && provider_row(s, "primary").is_some_and(|r| r.contains("active"))
    })
    .await;
    send_message(&relay, "claude-opus-4-1").await;
    tmux.wait("events after the restart", 15, |s| {
        s.lines()
            .any(|l| l.contains("claude-opus-4-1") && l.contains(" primary "))
    })
    .await;
    tmux.keys("d");
    tmux.wait("the read-only refusal", 10, |s| {
        s.contains("the admin API is read-only")
    })
    .await;

    // `q` quits, and the session ends with it.
    tmux.keys("q");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dashboard did not quit on q:\n{}",
            tmux.screen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
