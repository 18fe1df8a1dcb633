//! Added latency: for the small request and the real Claude Code request,
//! closed loop at each `--concurrency` level and open loop at `--rate`,
//! direct first and then through each proxy with the same settings.

use std::time::Duration;

use crate::client::{Payload, Prepared, Target};
use crate::load::{ClosedLoop, LoadResult, OpenLoop, closed_loop, open_loop};
use crate::mock::Behavior;
use crate::progress;
use crate::report::{LatencyRow, Report};
use crate::stats::Dist;

use super::{Ctx, note_error, stop_all};

pub async fn run(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let payloads = [Payload::small(), Payload::claude_code(&ctx.args.fixture)?];
    let proxies = ctx.proxies(Behavior::Fast, report).await;
    let mut targets = vec![ctx.direct(Behavior::Fast)];
    targets.extend(proxies.iter().map(|p| p.target.clone()));
    let requests = ctx.args.requests();
    for payload in &payloads {
        for &concurrency in &ctx.args.concurrency {
            let load = format!("c={concurrency}");
            let mut base = None;
            for target in &targets {
                progress(&format!("latency {} {load} {}", payload.name, target.name));
                let spec = ClosedLoop {
                    concurrency,
                    warmup: (requests / 10).max(concurrency * 2),
                    requests,
                    deadline: ctx.args.max_phase(),
                };
                let prepared = Prepared::new(target, payload)?;
                let result = closed_loop(target, &prepared, spec, &ctx.probe(target)).await;
                record(report, payload, &load, target, result, &mut base);
            }
        }
        let load = format!("{:.0}/s", ctx.args.rate);
        let mut base = None;
        for target in &targets {
            progress(&format!("latency {} {load} {}", payload.name, target.name));
            let prepared = Prepared::new(target, payload)?;
            let warm = ClosedLoop {
                concurrency: 4,
                warmup: 0,
                requests: 200,
                deadline: Duration::from_secs(20),
            };
            let _ = closed_loop(target, &prepared, warm, &ctx.probe(target)).await;
            let spec = OpenLoop {
                rate: ctx.args.rate,
                duration: ctx.args.duration(),
                max_conns: 64,
            };
            let result = open_loop(target, &prepared, spec, &ctx.probe(target)).await;
            record(report, payload, &load, target, result, &mut base);
        }
    }
    stop_all(proxies).await;
    Ok(())
}

/// Adds one row; direct's becomes the base of the others.
fn record(
    report: &mut Report,
    payload: &Payload,
    load: &str,
    target: &Target,
    result: anyhow::Result<LoadResult>,
    base: &mut Option<Dist>,
) {
    let mut result = match result {
        Ok(result) => result,
        Err(error) => {
            report.notes.push(format!(
                "latency {} {load} {}: {error:#}",
                payload.name, target.name
            ));
            return;
        }
    };
    let what = format!("latency {} {load} {}", payload.name, target.name);
    note_error(report, &what, result.errors, result.first_error.as_ref());
    let cpu = result.cpu_per_request();
    let latency = Dist::from_nanos(&mut result.latencies_ns);
    let added = if target.name == "direct" {
        *base = Some(latency);
        None
    } else {
        base.as_ref().map(|base| latency.minus(base))
    };
    report.latency.push(LatencyRow {
        payload: payload.name.clone(),
        load: load.to_owned(),
        target: target.name.clone(),
        per_second: result.per_second(),
        errors: result.errors,
        first_error: result.first_error,
        latency,
        added,
        proxy_cpu_us_per_request: cpu.proxy,
        proxy_cores_busy: cpu.proxy_cores,
    });
}
