//! `cc-relay-tui`: a terminal dashboard for a running cc-relay.
//!
//! Argument parsing and the runtime live here; the dashboard is the
//! `relay_tui` library.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use relay_tui::AdminClient;

/// The shortest accepted `--interval`: faster polling only loads the relay.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// A terminal dashboard for a running cc-relay: providers, keys, rates, latency and a live request log.
#[derive(Debug, Parser)]
#[command(name = "cc-relay-tui", version, about)]
struct Args {
    /// The relay's URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8787")]
    url: String,
    /// The relay's admin token (`server.admin.token`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CC_RELAY_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// How often to poll /admin/stats (e.g. 500ms, 1s, 2s).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = humantime::parse_duration)]
    interval: Duration,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The terminal is restored by now, so stderr is readable.
            let _ = writeln!(std::io::stderr().lock(), "error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.interval < MIN_INTERVAL {
        bail!("--interval must be at least {MIN_INTERVAL:?}");
    }
    let client = AdminClient::new(&args.url, args.admin_token)?;
    // Two workers: the event loop and the HTTP tasks never block each other.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime
        .block_on(relay_tui::run(client, args.interval))
        .context("terminal")?;
    Ok(())
}
