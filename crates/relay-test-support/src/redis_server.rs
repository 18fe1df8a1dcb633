//! A real `redis-server` for tests: on a free 127.0.0.1 port, in a temp
//! dir, with no persistence, killed on drop. It can be killed and
//! restarted on the same port to test a relay fleet riding out an outage.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::tools::require_program;

/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct RedisServer {
    program: PathBuf,
    dir: tempfile::TempDir,
    addr: SocketAddr,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one; fails with the install command when `redis-server` is
    /// not installed.
    pub async fn start() -> io::Result<Self> {
        let program = require_program("redis-server", "redis-server");
        let dir = tempfile::tempdir()?;
        let addr = crate::unused_local_addr()?;
        let mut server = Self {
            program,
            dir,
            addr,
            child: None,
        };
        server.restart().await?;
        Ok(server)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://{}/0", self.addr)
    }

    /// Kills the server (SIGKILL: no goodbye to its clients) and waits for it.
    pub async fn kill(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Starts the server again on the same port (after [`Self::kill`]),
    /// with empty data.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.kill().await?;
        let child = Command::new(&self.program)
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.addr.port().to_string())
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if self.ping().await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "redis-server did not answer on {} within {START_TIMEOUT:?}",
                        self.addr
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends one inline command and returns the raw reply (enough for tests
    /// to plant garbage or look at keys without a client library).
    pub async fn command(&self, args: &[&str]) -> io::Result<String> {
        let mut stream =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(self.addr))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream.write_all(request.as_bytes()).await?;
        let mut reply = vec![0; 64 * 1024];
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut reply))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "reply timed out"))??;
        Ok(String::from_utf8_lossy(&reply[..n]).into_owned())
    }

    async fn ping(&self) -> io::Result<()> {
        match self.command(&["PING"]).await?.as_str() {
            "+PONG\r\n" => Ok(()),
            other => Err(io::Error::other(format!("unexpected PING reply {other:?}"))),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}
