//! Captured output of a child process: lines of stdout and stderr, read by
//! background tasks, with bounded waits on what they contain.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::relay_process::LISTENING_PREFIX;
use crate::wait::wait_until;

/// Lines captured so far and the relay's listening URL once printed.
pub(crate) struct LogState {
    lines: Mutex<Vec<String>>,
    listen_url: Mutex<Option<String>>,
    /// Output streams still being read.
    open: AtomicUsize,
    changed: watch::Sender<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LogState {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            lines: Mutex::new(Vec::new()),
            listen_url: Mutex::new(None),
            open: AtomicUsize::new(0),
            changed: watch::channel(()).0,
        })
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    pub(crate) fn listen_url(&self) -> Option<String> {
        lock(&self.listen_url).clone()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }

    fn push(&self, line: String, from_stdout: bool) {
        tracing::debug!(target: "relay_test_support::relay", stdout = from_stdout, "{line}");
        if from_stdout
            && let Some(rest) = line.split(LISTENING_PREFIX).nth(1)
            && let Some(url) = rest.split_whitespace().next()
        {
            lock(&self.listen_url).get_or_insert_with(|| url.to_owned());
        }
        lock(&self.lines).push(line);
        self.changed.send_replace(());
    }

    fn is_closed(&self) -> bool {
        self.open.load(Ordering::SeqCst) == 0
    }

    /// Waits until a line contains `needle`; fails at the timeout or once
    /// all output streams are closed without such a line.
    pub(crate) async fn wait_for(&self, needle: &str, timeout: Duration) -> io::Result<()> {
        let found = || lock(&self.lines).iter().any(|l| l.contains(needle));
        let what = format!("a log line containing {needle:?}");
        let waited = wait_until(&self.changed, timeout, &what, || {
            found() || self.is_closed()
        })
        .await;
        let problem = match waited {
            Ok(()) if found() => return Ok(()),
            Ok(()) => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the relay's output closed without a line containing {needle:?}"),
            ),
            Err(e) => e,
        };
        Err(io::Error::new(
            problem.kind(),
            format!("{problem}; output:\n{}", self.lines().join("\n")),
        ))
    }

    /// Waits (at most `timeout`) until every output stream is fully read.
    pub(crate) async fn wait_closed(&self, timeout: Duration) {
        let _ = wait_until(
            &self.changed,
            timeout,
            "the relay's output to close",
            || self.is_closed(),
        )
        .await;
    }
}

/// Reads `reader` line by line into `logs` until end of file.
pub(crate) fn spawn_reader<R>(reader: R, logs: Arc<LogState>, from_stdout: bool) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    logs.open.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_owned();
                    logs.push(line, from_stdout);
                }
                Err(error) => {
                    logs.push(format!("<error reading output: {error}>"), from_stdout);
                    break;
                }
            }
        }
        logs.open.fetch_sub(1, Ordering::SeqCst);
        logs.changed.send_replace(());
    })
}
