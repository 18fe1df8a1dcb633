//! Memory: each proxy's resident set idle, with `--open-streams` streams
//! held open at once by the mock (each on its own client connection, after
//! its first events reached the client), and after they all closed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use tokio::task::JoinSet;

use crate::client::{Conn, Payload, Prepared, Target};
use crate::mock::Behavior;
use crate::procinfo::{Memory, memory};
use crate::progress;
use crate::report::{MemoryRow, Report};

use super::{Ctx, note_error, stop_all};

/// How long to wait for every stream to be open.
const OPEN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stream may take from its request to its end.
const STREAM_TIMEOUT: Duration = Duration::from_secs(150);

pub async fn run(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let proxies = ctx.proxies(Behavior::Hold, report).await;
    let mut rows = Vec::new();
    for proxy in &proxies {
        let Some(pid) = proxy.pid() else {
            continue;
        };
        progress(&format!(
            "memory {} ({} streams)",
            proxy.target.name, ctx.args.open_streams
        ));
        let row = measure(ctx, &proxy.target, pid).await?;
        let what = format!("memory {}", row.target);
        note_error(report, &what, row.errors, row.first_error.as_ref());
        rows.push((pid, row));
    }
    // One wait for all: each proxy has been idle at least this long at the reading.
    if let Some(wait) = ctx.args.idle_wait() {
        progress(&format!(
            "memory: waiting {wait:?} for idle pooled connections to expire"
        ));
        tokio::time::sleep(wait).await;
        for (pid, row) in &mut rows {
            row.after_idle_mib = memory(*pid).map(|m| m.rss_mib());
            row.last_fds = fd_count(*pid);
        }
    }
    report.memory.extend(rows.into_iter().map(|(_, row)| row));
    stop_all(proxies).await;
    Ok(())
}

async fn measure(ctx: &Ctx<'_>, target: &Target, pid: u32) -> anyhow::Result<MemoryRow> {
    let mib = |m: Option<Memory>| m.map_or(0.0, |m| m.rss_mib());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = mib(memory(pid));
    ctx.mock.hold_again();
    let wanted = ctx.args.open_streams;
    let prepared = Prepared::new(target, &Payload::small_stream())?;
    let opened = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..wanted {
        let (prepared, opened, failed, addr) = (
            prepared.clone(),
            Arc::clone(&opened),
            Arc::clone(&failed),
            target.addr,
        );
        tasks.spawn(async move {
            let stream = hold_one(addr, &prepared, &opened);
            let result = match tokio::time::timeout(STREAM_TIMEOUT, stream).await {
                Ok(result) => result,
                Err(_) => Err(anyhow::anyhow!(
                    "stream not finished within {STREAM_TIMEOUT:?}"
                )),
            };
            if result.is_err() {
                failed.fetch_add(1, Ordering::SeqCst);
            }
            result
        });
    }
    // Every stream open (first events read, the mock holding the rest), or
    // every one either open or failed, or the timeout.
    let deadline = Instant::now() + OPEN_TIMEOUT;
    let held = &ctx.mock.counters().held;
    while Instant::now() < deadline {
        let open = opened.load(Ordering::SeqCst);
        let all_held = held.load(Ordering::SeqCst) >= open as u64;
        if (open >= wanted || open + failed.load(Ordering::SeqCst) >= wanted) && all_held {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let streams_open = opened.load(Ordering::SeqCst);
    let open = memory(pid);
    let open_fds = fd_count(pid);
    ctx.mock.release_held();
    let (mut errors, mut first_error) = (0, None);
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined.map_err(anyhow::Error::from).and_then(|r| r) {
            errors += 1;
            first_error.get_or_insert_with(|| format!("{error:#}"));
        }
    }
    ctx.mock.hold_again();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = memory(pid);
    let peak_kib = [open, after]
        .iter()
        .flatten()
        .map(|m| m.hwm_kib.max(m.rss_kib))
        .max();
    Ok(MemoryRow {
        target: target.name.clone(),
        idle_mib: idle,
        streams_wanted: wanted,
        streams_open,
        open_mib: mib(open),
        peak_mib: peak_kib.map_or(0.0, |kib| kib as f64 / 1024.0),
        after_close_mib: mib(after),
        after_idle_mib: None,
        open_fds,
        last_fds: fd_count(pid),
        errors,
        first_error,
    })
}

/// One stream: counted as open once its first bytes arrive, then read to
/// its end (after the mock releases it); the connection closes with it.
async fn hold_one(
    addr: std::net::SocketAddr,
    prepared: &Prepared,
    opened: &AtomicUsize,
) -> anyhow::Result<()> {
    let mut conn = Conn::connect(addr, Duration::from_secs(30)).await?;
    let response = conn.start(prepared).await?;
    let mut body = response.into_body();
    let mut counted = false;
    while let Some(frame) = body.frame().await {
        if frame?.is_data() && !counted {
            counted = true;
            opened.fetch_add(1, Ordering::SeqCst);
        }
    }
    if !counted {
        anyhow::bail!("the stream ended without data");
    }
    Ok(())
}

fn fd_count(pid: u32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(Iterator::count)
}
