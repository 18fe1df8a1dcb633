//! `relay-bench`: the benchmark harness of cc-relay (issue #7).
//!
//! It starts a fast mock Anthropic upstream on a thread of its own, the real
//! release `cc-relay` binary (and, with `--peer`, other proxies) in front of
//! it, and a load generator on this thread, and measures every scenario
//! directly against the mock and through each proxy in the same run:
//! added latency, SSE passthrough delay, throughput with CPU time per
//! request, and memory with many open streams. It prints Markdown tables on
//! stdout and writes everything as JSON (`--json`).
//!
//! ```text
//! cargo build --release -p relay-cli
//! cargo run --release -p relay-bench -- [--quick] [--scenario latency] [--peer litellm]
//! ```
//!
//! Everything listens on and connects to 127.0.0.1 only; every phase is
//! bounded by a request count and a deadline.

// A benchmark's product is its table: printing it on stdout is the point.
#![allow(clippy::print_stdout)]

mod cli;
mod client;
mod floor;
mod load;
mod mock;
mod peers;
mod procinfo;
mod proxy;
mod report;
mod scenario;
mod stats;

use std::io::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use clap::Parser as _;

use crate::cli::{Cli, Command, MockArgs, RunArgs, Scenario};
use crate::mock::{MockSettings, MockUpstream};
use crate::report::Report;

/// A line on stdout.
pub fn say(line: &str) {
    println!("{line}");
}

/// A progress line on stderr (stdout carries only the results).
pub fn progress(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "[relay-bench] {message}");
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::HyperFloor(args)) = &cli.command {
        return floor::run(args.upstream, args.run_for);
    }
    // The load generator: one thread, so its CPU time is this thread's.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    match cli.command {
        Some(Command::MockUpstream(args)) => runtime.block_on(mock_only(&args)),
        Some(Command::HyperFloor(_)) => Ok(()),
        None => runtime.block_on(run(&cli.run)),
    }
}

fn mock_settings(args: Option<&RunArgs>) -> MockSettings {
    MockSettings {
        sse_events: args.map_or(20, RunArgs::sse_events),
        sse_interval: args.map_or(Duration::from_millis(50), |a| a.sse_interval),
        max_hold: Duration::from_secs(120),
    }
}

async fn mock_only(args: &MockArgs) -> anyhow::Result<()> {
    let mock = MockUpstream::start(mock_settings(None), Instant::now())?;
    println!("fast  http://{}", mock.fast);
    println!("timed http://{}", mock.timed);
    println!("hold  http://{}", mock.hold);
    tokio::select! {
        () = tokio::time::sleep(args.run_for) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    progress(&format!(
        "served {} requests",
        mock.counters()
            .served
            .load(std::sync::atomic::Ordering::Relaxed)
    ));
    Ok(())
}

async fn run(args: &RunArgs) -> anyhow::Result<()> {
    let clock = Instant::now();
    let mock = MockUpstream::start(mock_settings(Some(args)), clock)?;
    let mut report = Report {
        command: command_line(),
        machine: Some(procinfo::machine()),
        unix_time: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        load_average_before: procinfo::load_average(),
        ..Report::default()
    };
    for &kind in &args.peer {
        let version =
            peers::version(kind, &args.peers_dir).unwrap_or_else(|| "not installed".into());
        report.peers.push((kind.name().to_owned(), version));
    }
    let needed_fds = 2 * args.open_streams as u64 + 100;
    if args.wants(Scenario::Memory) && procinfo::fd_limit().is_some_and(|l| l < needed_fds) {
        report.notes.push(format!(
            "the open-file limit ({:?}) is below the {needed_fds} the memory scenario needs; raise it with `ulimit -n`",
            procinfo::fd_limit()
        ));
    }
    let ctx = scenario::Ctx {
        args,
        mock: &mock,
        clock,
        client_thread: procinfo::current_thread_dir(),
    };
    if args.wants(Scenario::Latency) {
        scenario::latency(&ctx, &mut report).await?;
    }
    if args.wants(Scenario::Sse) {
        scenario::sse(&ctx, &mut report).await?;
    }
    if args.wants(Scenario::Throughput) {
        scenario::throughput(&ctx, &mut report).await?;
    }
    if args.wants(Scenario::Memory) {
        scenario::memory(&ctx, &mut report).await?;
    }
    report.load_average_after = procinfo::load_average();
    if let Some(dir) = args.json.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.json, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("cannot write {}", args.json.display()))?;
    println!("{}", header(&report));
    println!("{}", report.render());
    progress(&format!("JSON written to {}", args.json.display()));
    Ok(())
}

fn header(report: &Report) -> String {
    let mut out = String::from("## relay-bench\n\n");
    if let Some(m) = &report.machine {
        out.push_str(&format!(
            "Machine: {} × {}, {} MiB, Linux {}; upstream mock, proxies and load generator on this one host.\n",
            m.cpus, m.cpu_model, m.memory_total_mib, m.kernel
        ));
    }
    let [b1, b5, b15] = report.load_average_before;
    let [a1, a5, a15] = report.load_average_after;
    out.push_str(&format!(
        "Load average before: {b1:.2} {b5:.2} {b15:.2}; after: {a1:.2} {a5:.2} {a15:.2}.\n"
    ));
    for (peer, version) in &report.peers {
        out.push_str(&format!("Peer {peer}: {version}.\n"));
    }
    out.push_str(&format!("Command: `{}`\n", report.command));
    out
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -p relay-bench -- {}", args.join(" "))
        .trim_end()
        .to_owned()
}
