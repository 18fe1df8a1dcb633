//! The command line, as clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

/// A relay in front of the Anthropic Messages API: many backends and keys as one endpoint for Claude Code.
#[derive(Debug, Parser)]
#[command(name = "cc-relay", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay.
    Serve(ServeArgs),
    /// Show a running relay's providers, keys and traffic (or just its health).
    Status(StatusArgs),
    /// Open the terminal dashboard (runs `cc-relay-tui` with these arguments).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Tui(TuiArgs),
    /// Print the version.
    Version,
    /// Create, check, or hook up configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Configuration file (YAML or TOML). Default: $CC_RELAY_CONFIG, ./config.yaml, ~/.config/cc-relay/config.yaml.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Listen address, overriding `server.listen` (port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Log level, overriding `logging.level`.
    #[arg(long, value_enum)]
    pub log_level: Option<LogLevelArg>,
    /// Log format, overriding `logging.format`.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// Debug logging with request bodies (truncated) and response headers. Secrets stay redacted.
    #[arg(long)]
    pub debug: bool,
    /// Do not watch the configuration file for changes; SIGHUP still reloads it.
    #[arg(long)]
    pub no_watch: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogLevelArg {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormatArg {
    Pretty,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The relay's URL. Default: from the configuration's `server.listen`.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The admin token for /admin/stats. Default: the configuration's `server.admin.token`.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CC_RELAY_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Passed to `cc-relay-tui` unchanged (see `cc-relay tui --help`).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<std::ffi::OsString>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented starter configuration (mode 0600).
    Init(InitArgs),
    /// Load and validate a configuration, reporting every problem.
    Validate(ConfigArg),
    /// Point Claude Code at the relay (edits ~/.claude/settings.json).
    Cc {
        #[command(subcommand)]
        command: CcCommand,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it. Default: ~/.config/cc-relay/config.yaml.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum CcCommand {
    /// Set `env.ANTHROPIC_BASE_URL` in Claude Code's settings, keeping everything else.
    Init(CcInitArgs),
    /// Remove `env.ANTHROPIC_BASE_URL` from Claude Code's settings, keeping everything else.
    Remove(CcRemoveArgs),
}

#[derive(Debug, Args)]
pub struct CcInitArgs {
    /// The relay's URL. Default: http://127.0.0.1:8787.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8787")]
    pub proxy_url: String,
    /// The settings file. Default: ~/.claude/settings.json.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CcRemoveArgs {
    /// The settings file. Default: ~/.claude/settings.json.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}
