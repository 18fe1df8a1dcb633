//! Every log line the relays in this test binary emit, captured in memory
//! at `debug` (what the binary's tests ran with), so tests can assert that
//! no secret reaches a log.
//!
//! One subscriber for the whole binary: tests run in parallel, so a test
//! sees the other tests' lines too. That only makes the secret checks
//! stricter (no test's secret may appear in any line).

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;

static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs the capturing subscriber (once per binary).
pub fn capture() {
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(Capture)
            .finish();
        // Fails only if another subscriber is already global; then that one
        // is the capture (nothing else in this binary installs one).
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Every line captured so far.
pub fn lines() -> Vec<String> {
    let bytes = LINES.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Asserts no secret appears in any captured line.
pub fn assert_no_secret_logged(secrets: &[&str]) {
    let lines = lines();
    assert!(!lines.is_empty(), "no log line was captured at all");
    for line in &lines {
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "secret leaked into a log line: {line}"
            );
        }
    }
}

#[derive(Clone, Copy)]
struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
