//! SSE passthrough delay: concurrent streams whose events the mock sends
//! `--sse-interval` apart, each stamped with its send time on the clock the
//! client shares (same process, one monotonic `Instant`). The delay of an
//! event is from its stamp to the client having read its last byte.

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use memchr::memmem;
use tokio::task::JoinSet;

use crate::client::{Conn, Payload, Prepared, Target};
use crate::load::nanos;
use crate::mock::{Behavior, stamp_of};
use crate::progress;
use crate::report::{Report, SseRow};
use crate::stats::Dist;

use super::{Ctx, note_error, stop_all};

pub async fn run(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let proxies = ctx.proxies(Behavior::Timed, report).await;
    let mut targets = vec![ctx.direct(Behavior::Timed)];
    targets.extend(proxies.iter().map(|p| p.target.clone()));
    let mut base: Option<Dist> = None;
    for target in &targets {
        progress(&format!("sse {}", target.name));
        let (mut delays, errors, first_error) = streams(ctx, target).await?;
        let what = format!("sse {}", target.name);
        note_error(report, &what, errors, first_error.as_ref());
        let delay = Dist::from_nanos(&mut delays);
        let added = if target.name == "direct" {
            base = Some(delay);
            None
        } else {
            base.as_ref().map(|b| delay.minus(b))
        };
        report.sse.push(SseRow {
            target: target.name.clone(),
            streams: ctx.args.sse_streams(),
            errors,
            first_error,
            delay,
            added,
        });
    }
    stop_all(proxies).await;
    Ok(())
}

/// Runs the concurrent streams; returns every stamped event's delay (ns).
async fn streams(
    ctx: &Ctx<'_>,
    target: &Target,
) -> anyhow::Result<(Vec<u64>, u64, Option<String>)> {
    let prepared = Prepared::new(target, &Payload::small_stream())?;
    let events = ctx.args.sse_events();
    let limit =
        ctx.args.sse_interval * u32::try_from(events).unwrap_or(u32::MAX) + Duration::from_secs(30);
    let mut tasks = JoinSet::new();
    for _ in 0..ctx.args.sse_streams() {
        let (prepared, addr, clock) = (prepared.clone(), target.addr, ctx.clock);
        tasks.spawn(async move {
            let stream = async {
                let mut conn = Conn::connect(addr, Duration::from_secs(10)).await?;
                read_stream(&mut conn, &prepared, clock).await
            };
            tokio::time::timeout(limit, stream)
                .await
                .map_err(|_| anyhow::anyhow!("stream not finished within {limit:?}"))?
        });
    }
    let mut delays = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(anyhow::Error::from).and_then(|r| r) {
            Ok(mut stream) => delays.append(&mut stream),
            Err(error) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    if delays.len() < events {
        errors += 1;
        first_error.get_or_insert_with(|| format!("only {} stamped events arrived", delays.len()));
    }
    Ok((delays, errors, first_error))
}

/// Reads one stream to its end, timing each complete stamped event.
async fn read_stream(
    conn: &mut Conn,
    prepared: &Prepared,
    clock: Instant,
) -> anyhow::Result<Vec<u64>> {
    let response = conn.start(prepared).await?;
    let mut body = response.into_body();
    let boundary = memmem::Finder::new(b"\n\n");
    let mut pending: Vec<u8> = Vec::new();
    let mut delays = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let now = nanos(clock.elapsed());
        pending.extend_from_slice(&data);
        let mut start = 0;
        while let Some(end) = boundary.find(&pending[start..]) {
            let event = &pending[start..start + end];
            if let Some(stamp) = stamp_of(event) {
                delays.push(now.saturating_sub(stamp));
            }
            start += end + 2;
        }
        pending.drain(..start);
    }
    Ok(delays)
}
