//! A real PostgreSQL server for tests: a fresh cluster in a temporary
//! directory, listening on a free 127.0.0.1 port (no Unix socket), stopped
//! and deleted on drop. As root it runs as the `postgres` user (PostgreSQL
//! refuses to run as root), through `runuser`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running test PostgreSQL.
#[derive(Debug)]
pub struct PostgresServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

/// The newest installed server's binaries (`/usr/lib/postgresql/<ver>/bin`).
///
/// # Panics
/// When none is installed, naming the Debian package.
#[allow(
    clippy::panic,
    reason = "a test helper: failing with the install command is its job"
)]
pub fn postgres_bin_dir() -> PathBuf {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version);
    match newest {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): run \
             `scripts/test` (it installs the test dependencies), or `apt-get install -y postgresql`"
        ),
    }
}

impl PostgresServer {
    /// Creates a cluster and starts it; fails the test when PostgreSQL is
    /// missing or does not start within a minute.
    #[allow(
        clippy::panic,
        clippy::expect_used,
        reason = "a test helper: it fails the test"
    )]
    pub fn start() -> Self {
        let bin = postgres_bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("cc-relay-pg-")
            .tempdir()
            .expect("a temporary directory");
        let data = dir.path().join("data");
        if as_postgres {
            // The postgres user must own its directory and reach it.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "chown of the test cluster's directory failed"
            );
            let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
        }
        let init = command(&bin, "initdb", as_postgres)
            .args([
                "-A",
                "trust",
                "-U",
                "relay",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("initdb runs");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = crate::unused_local_addr().expect("a free port").port();
        let log = dir.path().join("postgres.log");
        let child = command(&bin, "postgres", as_postgres)
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k", ""])
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_or(Stdio::null(), Stdio::from))
            .spawn()
            .expect("postgres starts");
        let server = Self {
            child: Some(child),
            dir,
            port,
            bin,
            as_postgres,
        };
        server.wait_ready(&log);
        server
    }

    #[allow(clippy::panic, reason = "a test helper: it fails the test")]
    fn wait_ready(&self, log: &Path) {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "relay",
                    "-d",
                    "postgres",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            pause(Duration::from_millis(100));
        }
        panic!(
            "PostgreSQL did not accept connections within {START_TIMEOUT:?}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for a new, empty database of this server.
    #[allow(clippy::expect_used, reason = "a test helper: it fails the test")]
    pub fn create_database(&self, name: &str) -> String {
        let status = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "relay",
                name,
            ])
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        self.url(name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://relay@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server (fast shutdown) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                pause(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the stopped server again on the same port and data.
    #[allow(clippy::expect_used, reason = "a test helper: it fails the test")]
    pub fn restart(&mut self) {
        self.stop();
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("postgres-restart.log");
        let child = command(&self.bin, "postgres", self.as_postgres)
            .arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k", ""])
            .args(["-c", "fsync=off"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_or(Stdio::null(), Stdio::from))
            .spawn()
            .expect("postgres restarts");
        self.child = Some(child);
        self.wait_ready(&log);
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let runuser = crate::tools::require_program("runuser", "util-linux");
        let mut command = Command::new(runuser);
        command
            .args(["-u", "postgres", "--"])
            .arg(bin.join(program));
        command
    } else {
        Command::new(bin.join(program))
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// The helper is synchronous: tests call it outside their runtime or in
/// `spawn_blocking`, so this sleep never blocks a runtime worker.
#[allow(
    clippy::disallowed_methods,
    reason = "a blocking helper, off the async runtime"
)]
fn pause(duration: Duration) {
    std::thread::sleep(duration);
}
