//! Command-line interface.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Benchmarks cc-relay against a fast mock Anthropic upstream: every number
/// is measured directly against the upstream and through the relay (and
/// through each `--peer`) in the same run, side by side.
#[derive(Debug, Parser)]
#[command(name = "relay-bench", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs only the mock upstream, to point a proxy at by hand.
    MockUpstream(MockArgs),
    /// A minimal hyper reverse proxy: the `hyper-floor` reference target.
    #[command(hide = true)]
    HyperFloor(FloorArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    All,
    Latency,
    Sse,
    Throughput,
    Memory,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PeerKind {
    /// LiteLLM's proxy (`litellm[proxy]`), through its Anthropic pass-through.
    Litellm,
    /// `@musistudio/claude-code-router`.
    ClaudeCodeRouter,
    /// A minimal hyper reverse proxy built into relay-bench: the floor any
    /// hyper-based proxy pays on this host.
    HyperFloor,
    /// nginx (Debian's package) as a plain reverse proxy: keepalive
    /// upstream, HTTP/1.1, no buffering (`bench/nginx.conf.tmpl`).
    Nginx,
}

impl PeerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Litellm => "litellm",
            Self::ClaudeCodeRouter => "claude-code-router",
            Self::HyperFloor => "hyper-floor",
            Self::Nginx => "nginx",
        }
    }
}

#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// Scenarios to run (repeatable).
    #[arg(long, value_enum, default_values_t = [Scenario::All])]
    pub scenario: Vec<Scenario>,
    /// Also measure these proxies (installed by bench/install-peers.sh).
    #[arg(long, value_enum)]
    pub peer: Vec<PeerKind>,
    /// Short phases, for checking the harness works (not for publishing).
    #[arg(long)]
    pub quick: bool,
    /// Recorded requests per concurrency level [default: 20000, quick 2000].
    #[arg(long)]
    pub requests: Option<usize>,
    /// Concurrency levels of the closed-loop latency runs.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 64, 512])]
    pub concurrency: Vec<usize>,
    /// Request rate of the open-loop latency run, per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Length of each fixed-rate and throughput phase [default: 10s, quick 2s].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Upper bound on any one closed-loop phase, however few requests it
    /// did [default: 60s, quick 10s].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub max_phase: Option<Duration>,
    /// Concurrency levels of the peak-throughput runs.
    #[arg(long, value_delimiter = ',', default_values_t = [16, 64, 256])]
    pub throughput_concurrency: Vec<usize>,
    /// Concurrent timed SSE streams [default: 20, quick 10].
    #[arg(long)]
    pub sse_streams: Option<usize>,
    /// Events per timed stream [default: 100, quick 20].
    #[arg(long)]
    pub sse_events: Option<usize>,
    /// Gap between the events of a timed stream.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "50ms")]
    pub sse_interval: Duration,
    /// Streams held open at once in the memory scenario.
    #[arg(long, default_value_t = 1000)]
    pub open_streams: usize,
    /// After the streams closed, how long to wait for a last memory reading:
    /// past the 90 s pool idle timeout, so pooled upstream connections are
    /// gone too [default: 100s, quick: skipped].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub idle_wait: Option<Duration>,
    /// The relay binary (a release build).
    #[arg(long, default_value = "target/release/cc-relay")]
    pub relay_bin: PathBuf,
    /// The relay's `logging.level` (it logs to a file).
    #[arg(long, default_value = "info")]
    pub relay_log_level: String,
    /// The real Claude Code request.
    #[arg(long, default_value = "../shared/fixtures/claude-code-request.json")]
    pub fixture: PathBuf,
    /// Where the peers are installed.
    #[arg(long, default_value = "bench/peers")]
    pub peers_dir: PathBuf,
    /// Where the peers' configuration templates are.
    #[arg(long, default_value = "bench")]
    pub templates_dir: PathBuf,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "target/relay-bench.json")]
    pub json: PathBuf,
}

impl RunArgs {
    pub fn wants(&self, scenario: Scenario) -> bool {
        self.scenario.contains(&Scenario::All) || self.scenario.contains(&scenario)
    }

    pub fn requests(&self) -> usize {
        self.requests
            .unwrap_or(if self.quick { 2_000 } else { 20_000 })
    }

    pub fn max_phase(&self) -> Duration {
        self.max_phase
            .unwrap_or(Duration::from_secs(if self.quick { 10 } else { 60 }))
    }

    pub fn duration(&self) -> Duration {
        self.duration
            .unwrap_or(Duration::from_secs(if self.quick { 2 } else { 10 }))
    }

    pub fn idle_wait(&self) -> Option<Duration> {
        match self.idle_wait {
            Some(wait) if wait.is_zero() => None,
            Some(wait) => Some(wait),
            None => (!self.quick).then(|| Duration::from_secs(100)),
        }
    }

    pub fn sse_streams(&self) -> usize {
        self.sse_streams.unwrap_or(if self.quick { 10 } else { 20 })
    }

    pub fn sse_events(&self) -> usize {
        self.sse_events.unwrap_or(if self.quick { 20 } else { 100 })
    }
}

#[derive(Clone, Debug, Args)]
pub struct MockArgs {
    /// How long to run before exiting by itself.
    #[arg(long = "for", value_parser = humantime::parse_duration, default_value = "10m")]
    pub run_for: Duration,
}

#[derive(Clone, Debug, Args)]
pub struct FloorArgs {
    /// The upstream to forward to (loopback).
    #[arg(long)]
    pub upstream: std::net::SocketAddr,
    /// How long to run before exiting by itself.
    #[arg(long = "for", value_parser = humantime::parse_duration, default_value = "1h")]
    pub run_for: Duration,
}
