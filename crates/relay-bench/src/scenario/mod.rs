//! The scenarios. Each starts its own proxies (a fresh relay, and each
//! requested peer) in front of the listener of the shared mock it needs,
//! measures the direct path and every proxy with the same settings one
//! after the other, and stops the proxies.

mod latency;
mod memory;
mod sse;
mod throughput;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use latency::run as latency;
pub use memory::run as memory;
pub use sse::run as sse;
pub use throughput::run as throughput;

use crate::cli::RunArgs;
use crate::client::Target;
use crate::load::CpuSample;
use crate::mock::{Behavior, MockUpstream};
use crate::proxy::Proxy;
use crate::report::Report;

/// What every scenario works with.
pub struct Ctx<'a> {
    pub args: &'a RunArgs,
    pub mock: &'a MockUpstream,
    /// The base of the timed events' stamps.
    pub clock: Instant,
    /// The load generator's thread, for its CPU time.
    pub client_thread: Option<PathBuf>,
}

impl Ctx<'_> {
    /// The mock itself, without a proxy.
    pub fn direct(&self, behavior: Behavior) -> Target {
        Target {
            name: "direct".into(),
            addr: self.mock.addr(behavior),
            prefix: String::new(),
            pid: None,
        }
    }

    /// A fresh relay and each requested peer in front of `behavior`'s
    /// listener. One that cannot start is left out, with a note.
    pub async fn proxies(&self, behavior: Behavior, report: &mut Report) -> Vec<Proxy> {
        let upstream = self.mock.addr(behavior);
        let mut proxies = Vec::new();
        match Proxy::relay(&self.args.relay_bin, upstream, &self.args.relay_log_level).await {
            Ok(relay) => proxies.push(relay),
            Err(error) => report
                .notes
                .push(format!("cc-relay did not start: {error:#}")),
        }
        for &kind in &self.args.peer {
            let started = crate::peers::start(
                kind,
                upstream,
                &self.args.peers_dir,
                &self.args.templates_dir,
            )
            .await;
            match started {
                Ok(peer) => proxies.push(peer),
                Err(error) => {
                    let note = format!("{} did not start: {error:#}", kind.name());
                    crate::progress(&note);
                    if !report.notes.contains(&note) {
                        report.notes.push(note);
                    }
                }
            }
        }
        proxies
    }

    /// Reads the CPU time of `target`'s process, the mock and the client.
    pub fn probe<'t>(&'t self, target: &'t Target) -> impl Fn() -> CpuSample + 't {
        move || CpuSample {
            proxy: target.pid.and_then(crate::procinfo::cpu_time),
            mock: self.mock.cpu_time(),
            client: self
                .client_thread
                .as_deref()
                .and_then(crate::procinfo::cpu_time_at),
        }
    }
}

/// CPU time spent between two readings, per request.
pub fn per_request(
    before: Option<Duration>,
    after: Option<Duration>,
    requests: usize,
) -> Option<f64> {
    let spent = after?.checked_sub(before?)?;
    (requests > 0).then(|| spent.as_secs_f64() * 1e6 / requests as f64)
}

/// Stops every proxy.
pub async fn stop_all(proxies: Vec<Proxy>) {
    for proxy in proxies {
        proxy.stop().await;
    }
}

/// Records the first error of a phase as a note.
pub fn note_error(report: &mut Report, what: &str, errors: u64, first: Option<&String>) {
    if let (true, Some(first)) = (errors > 0, first) {
        report
            .notes
            .push(format!("{what}: {errors} errors, the first: {first}"));
    }
}
