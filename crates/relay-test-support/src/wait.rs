//! Bounded waiting on a condition that changes when a `watch` channel is
//! bumped.

use std::io;
use std::time::Duration;

use tokio::sync::watch;

/// Waits until `done()` holds, re-checking whenever `changed` is bumped, for
/// at most `timeout`; the error names `what` was awaited.
pub(crate) async fn wait_until(
    changed: &watch::Sender<()>,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> io::Result<()> {
    let mut rx = changed.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // Marked before checking, so no bump between the check and the wait
        // is missed.
        rx.mark_unchanged();
        if done() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(timed_out(format!(
                "timed out after {timeout:?} waiting for {what}"
            )));
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) | Err(_) => {}
            // Unreachable while `changed` is borrowed; poll slowly anyway.
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// An `io::Error` of kind `Other` with a message.
pub(crate) fn other(message: impl Into<String>) -> io::Error {
    io::Error::other(message.into())
}

/// An `io::Error` of kind `TimedOut` with a message.
pub(crate) fn timed_out(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, message.into())
}
