//! The results: one [`Report`], written as JSON and rendered as Markdown
//! tables (the same text goes to stdout and into `docs/benchmarks.md`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::procinfo::Machine;
use crate::stats::{Added, Dist};

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub command: String,
    pub machine: Option<Machine>,
    pub unix_time: u64,
    pub load_average_before: [f64; 3],
    pub load_average_after: [f64; 3],
    pub peers: Vec<(String, String)>,
    pub latency: Vec<LatencyRow>,
    pub sse: Vec<SseRow>,
    pub throughput: Vec<ThroughputRow>,
    pub memory: Vec<MemoryRow>,
    pub notes: Vec<String>,
}

/// One target at one load level.
#[derive(Debug, Serialize)]
pub struct LatencyRow {
    pub payload: String,
    /// `c=64` (closed loop) or `200/s` (open loop).
    pub load: String,
    pub target: String,
    pub per_second: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub latency: Dist,
    /// This target minus direct, percentile by percentile.
    pub added: Option<Added>,
    pub proxy_cpu_us_per_request: Option<f64>,
    /// The proxy's CPU time over wall time (1.0 = one core busy).
    pub proxy_cores_busy: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct SseRow {
    pub target: String,
    pub streams: usize,
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the mock stamping an event to the client having all of it.
    pub delay: Dist,
    pub added: Option<Added>,
}

#[derive(Debug, Serialize)]
pub struct ThroughputRow {
    pub payload: String,
    pub concurrency: usize,
    pub target: String,
    pub requests: usize,
    pub errors: u64,
    pub per_second: f64,
    pub proxy_cpu_us_per_request: Option<f64>,
    /// The proxy's CPU time over wall time (1.0 = one core busy).
    pub proxy_cores_busy: Option<f64>,
    pub mock_cpu_us_per_request: Option<f64>,
    pub client_cpu_us_per_request: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct MemoryRow {
    pub target: String,
    pub idle_mib: f64,
    pub streams_wanted: usize,
    pub streams_open: usize,
    pub open_mib: f64,
    pub peak_mib: f64,
    pub after_close_mib: f64,
    /// After `--idle-wait` more, when pooled upstream connections have expired.
    pub after_idle_mib: Option<f64>,
    pub open_fds: Option<usize>,
    /// Open file descriptors at the last reading (after the idle wait, else after close).
    pub last_fds: Option<usize>,
    pub errors: u64,
    pub first_error: Option<String>,
}

fn opt(v: Option<f64>, precision: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.precision$}"))
}

fn added_cells(added: Option<&Added>) -> String {
    match added {
        Some(a) => format!(
            "{:+.0} | {:+.0} | {:+.0} | {:+.0}",
            a.p50_us, a.p90_us, a.p99_us, a.max_us
        ),
        None => "– | – | – | –".to_owned(),
    }
}

impl Report {
    /// Markdown tables of everything measured.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if !self.latency.is_empty() {
            out.push_str("### Added latency\n\n");
            out.push_str("Latency is request start to last response byte, in µs. `+pXX` = pXX(target) − pXX(direct) at the same load: a difference of percentiles, not of paired requests. `c=N`: closed loop, N keep-alive connections; `N/s`: open loop at a fixed rate.\n\n");
            out.push_str("| payload | load | target | req/s | p50 | p90 | p99 | max | +p50 | +p90 | +p99 | +max | proxy CPU µs/req | proxy cores busy | errors |\n");
            out.push_str(
                "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            );
            for r in &self.latency {
                let d = &r.latency;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} |",
                    r.payload,
                    r.load,
                    r.target,
                    r.per_second,
                    d.p50_us,
                    d.p90_us,
                    d.p99_us,
                    d.max_us,
                    added_cells(r.added.as_ref()),
                    opt(r.proxy_cpu_us_per_request, 1),
                    opt(r.proxy_cores_busy, 2),
                    r.errors
                );
            }
            out.push('\n');
        }
        if !self.sse.is_empty() {
            out.push_str("### SSE passthrough delay\n\n");
            out.push_str("Per event: from the mock stamping it (just before handing it to hyper) to the client having read all of it, in µs; events 50 ms apart.\n\n");
            out.push_str("| target | streams | events | p50 | p90 | p99 | max | +p50 | +p90 | +p99 | +max | errors |\n");
            out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for r in &self.sse {
                let d = &r.delay;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} |",
                    r.target,
                    r.streams,
                    d.count,
                    d.p50_us,
                    d.p90_us,
                    d.p99_us,
                    d.max_us,
                    added_cells(r.added.as_ref()),
                    r.errors
                );
            }
            out.push('\n');
        }
        if !self.throughput.is_empty() {
            out.push_str("### Throughput\n\n");
            out.push_str("Closed loop for a fixed time. CPU µs/req: run time of that process (or, for the mock and the load generator, of its thread) from the scheduler (`/proc/…/task/*/schedstat`), over requests completed; cores busy: the proxy’s CPU time over wall time.\n\n");
            out.push_str("| payload | c | target | req/s | requests | proxy CPU µs/req | proxy cores busy | mock CPU µs/req | client CPU µs/req | errors |\n");
            out.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
            for r in &self.throughput {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                    r.payload,
                    r.concurrency,
                    r.target,
                    r.per_second,
                    r.requests,
                    opt(r.proxy_cpu_us_per_request, 1),
                    opt(r.proxy_cores_busy, 2),
                    opt(r.mock_cpu_us_per_request, 1),
                    opt(r.client_cpu_us_per_request, 1),
                    r.errors
                );
            }
            out.push('\n');
        }
        if !self.memory.is_empty() {
            out.push_str("### Memory\n\n");
            out.push_str("Resident set size (VmRSS) of the proxy process, MiB: idle after start; with the streams open (each on its own client connection, held by the mock after its first events); peak (VmHWM); 2 s after every stream closed; and again after `--idle-wait`, once idle pooled upstream connections have expired.\n\n");
            out.push_str("| target | idle | streams open | with streams | peak | after close | after idle wait | fds open / last | errors |\n");
            out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for r in &self.memory {
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {}/{} | {:.1} | {:.1} | {:.1} | {} | {} / {} | {} |",
                    r.target,
                    r.idle_mib,
                    r.streams_open,
                    r.streams_wanted,
                    r.open_mib,
                    r.peak_mib,
                    r.after_close_mib,
                    opt(r.after_idle_mib, 1),
                    r.open_fds.map_or_else(|| "–".to_owned(), |n| n.to_string()),
                    r.last_fds.map_or_else(|| "–".to_owned(), |n| n.to_string()),
                    r.errors
                );
            }
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push_str("### Notes\n\n");
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
            out.push('\n');
        }
        out
    }
}
