//! Peak throughput: closed loop for `--duration` at each
//! `--throughput-concurrency` level, for both payloads; with the CPU time
//! each process spent per request (the proxy's from `/proc/PID/stat`, the
//! mock's and the load generator's from their threads').

use crate::client::{Payload, Prepared};
use crate::load::{ClosedLoop, closed_loop};
use crate::mock::Behavior;
use crate::progress;
use crate::report::{Report, ThroughputRow};

use super::{Ctx, note_error, stop_all};

/// Enough that the duration, not the count, ends each phase.
const MAX_REQUESTS: usize = 10_000_000;

pub async fn run(ctx: &Ctx<'_>, report: &mut Report) -> anyhow::Result<()> {
    let payloads = [Payload::small(), Payload::claude_code(&ctx.args.fixture)?];
    let proxies = ctx.proxies(Behavior::Fast, report).await;
    let mut targets = vec![ctx.direct(Behavior::Fast)];
    targets.extend(proxies.iter().map(|p| p.target.clone()));
    for payload in &payloads {
        for &concurrency in &ctx.args.throughput_concurrency {
            for target in &targets {
                progress(&format!(
                    "throughput {} c={concurrency} {}",
                    payload.name, target.name
                ));
                let prepared = Prepared::new(target, payload)?;
                let spec = ClosedLoop {
                    concurrency,
                    warmup: concurrency * 4,
                    requests: MAX_REQUESTS,
                    deadline: ctx.args.duration(),
                };
                let result = match closed_loop(target, &prepared, spec, &ctx.probe(target)).await {
                    Ok(result) => result,
                    Err(error) => {
                        report.notes.push(format!(
                            "throughput {} c={concurrency} {}: {error:#}",
                            payload.name, target.name
                        ));
                        continue;
                    }
                };
                let what = format!(
                    "throughput {} c={concurrency} {}",
                    payload.name, target.name
                );
                note_error(report, &what, result.errors, result.first_error.as_ref());
                let cpu = result.cpu_per_request();
                report.throughput.push(ThroughputRow {
                    payload: payload.name.clone(),
                    concurrency,
                    target: target.name.clone(),
                    requests: result.completed(),
                    errors: result.errors,
                    per_second: result.per_second(),
                    proxy_cpu_us_per_request: cpu.proxy,
                    proxy_cores_busy: cpu.proxy_cores,
                    mock_cpu_us_per_request: cpu.mock,
                    client_cpu_us_per_request: cpu.client,
                });
            }
        }
    }
    stop_all(proxies).await;
    Ok(())
}
