//! The peers: other proxies run through the same scenarios, when
//! `bench/install-peers.sh` has installed them under `bench/peers/`.
//! Each is configured from a template in `bench/` as a pass-through to
//! the mock upstream.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::process::Command;

use crate::cli::PeerKind;
use crate::client::Target;
use crate::proxy::Proxy;

const UPSTREAM_KEY: &str = "sk-bench-upstream-0001";
const STARTUP: Duration = Duration::from_secs(90);

/// Starts `kind` in front of the mock at `upstream`.
pub async fn start(
    kind: PeerKind,
    upstream: SocketAddr,
    peers_dir: &Path,
    templates_dir: &Path,
) -> anyhow::Result<Proxy> {
    if kind == PeerKind::HyperFloor {
        return Proxy::floor(upstream).await;
    }
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let dir = tempfile::Builder::new()
        .prefix(&format!("relay-bench-{}-", kind.name()))
        .tempdir()?;
    let render = |template: &str| -> anyhow::Result<String> {
        let path = templates_dir.join(template);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the template {}", path.display()))?;
        Ok(text
            .replace("{{PORT}}", &port.to_string())
            .replace("{{UPSTREAM}}", &upstream.to_string()))
    };
    let (command, prefix, ready) = match kind {
        PeerKind::Litellm => {
            let binary = peers_dir.join(".venv/bin/litellm");
            if !binary.is_file() {
                bail!("{} not found: run bench/install-peers.sh", binary.display());
            }
            let config = dir.path().join("litellm.yaml");
            std::fs::write(&config, render("litellm-config.yaml.tmpl")?)?;
            let mut command = Command::new(binary);
            command
                .arg("--config")
                .arg(&config)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--num_workers", "1"])
                .env("ANTHROPIC_API_BASE", format!("http://{upstream}"))
                .env("ANTHROPIC_API_KEY", UPSTREAM_KEY)
                // The proxy refuses to start without one; clients present it as x-api-key.
                .env("LITELLM_MASTER_KEY", crate::client::CLIENT_KEY)
                .env("LITELLM_LOG", "ERROR")
                .env("LITELLM_TELEMETRY", "False")
                .env("DISABLE_SCHEMA_UPDATE", "True")
                .env("NO_DOCS", "True");
            (command, "/anthropic", "/health/liveliness")
        }
        PeerKind::ClaudeCodeRouter => {
            let cli = peers_dir.join("node_modules/@musistudio/claude-code-router/dist/cli.js");
            if !cli.is_file() {
                bail!("{} not found: run bench/install-peers.sh", cli.display());
            }
            // `ccr start` serves in the foreground, configured by ~/.claude-code-router/config.json.
            let config_dir = dir.path().join("home/.claude-code-router");
            std::fs::create_dir_all(&config_dir)?;
            std::fs::write(
                config_dir.join("config.json"),
                render("ccr-config.json.tmpl")?,
            )?;
            let mut command = Command::new("node");
            command.arg(&cli).arg("start");
            (command, "", "/")
        }
        PeerKind::Nginx => {
            let binary = nginx_binary()
                .context("nginx not found: run bench/install-peers.sh (Debian package `nginx`)")?;
            // nginx's workers drop to an unprivileged user when started as
            // root: they must be able to reach the prefix directory.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
            }
            let prefix = dir.path().display().to_string();
            let config = dir.path().join("nginx.conf");
            std::fs::write(
                &config,
                render("nginx.conf.tmpl")?.replace("{{DIR}}", &prefix),
            )?;
            let mut command = Command::new(binary);
            command
                .arg("-p")
                .arg(&prefix)
                .arg("-c")
                .arg(&config)
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .args(["-g", "daemon off;"]);
            (command, "", "/nginx-ready")
        }
        PeerKind::HyperFloor => bail!("hyper-floor is started above"),
    };
    let target = Target {
        name: kind.name().to_owned(),
        addr,
        prefix: prefix.to_owned(),
        pid: None,
    };
    Proxy::spawn_peer(target, command, dir, ready, STARTUP).await
}

/// Debian installs nginx in /usr/sbin, often not on a user's PATH.
fn nginx_binary() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("nginx"));
    on_path
        .chain([std::path::PathBuf::from("/usr/sbin/nginx")])
        .find(|path| path.is_file())
}

/// A port nothing listens on now (bound, then released; a small race).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// The installed version of `kind`, for the report.
pub fn version(kind: PeerKind, peers_dir: &Path) -> Option<String> {
    match kind {
        PeerKind::Litellm => {
            let out = std::process::Command::new(peers_dir.join(".venv/bin/pip"))
                .args(["show", "litellm"])
                .output()
                .ok()?;
            String::from_utf8(out.stdout)
                .ok()?
                .lines()
                .find_map(|l| l.strip_prefix("Version: ").map(str::to_owned))
        }
        PeerKind::ClaudeCodeRouter => {
            let path = peers_dir.join("node_modules/@musistudio/claude-code-router/package.json");
            let text = std::fs::read_to_string(path).ok()?;
            let json: serde_json::Value = serde_json::from_str(&text).ok()?;
            json["version"].as_str().map(str::to_owned)
        }
        PeerKind::HyperFloor => Some("built into relay-bench".to_owned()),
        PeerKind::Nginx => {
            // `nginx -v` writes "nginx version: nginx/1.22.1" to stderr.
            let out = std::process::Command::new(nginx_binary()?)
                .arg("-v")
                .output()
                .ok()?;
            let text = String::from_utf8(out.stderr).ok()?;
            text.trim()
                .strip_prefix("nginx version: ")
                .map(str::to_owned)
        }
    }
}
