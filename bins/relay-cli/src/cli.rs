//! The command line, as clap types.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

/// A relay in front of the Anthropic Messages API: many backends and keys as one endpoint for Claude Code.
#[derive(Debug, Parser)]
#[command(name = "cc-relay", version, about, disable_version_flag = true)]
pub struct Cli {
    /// Configuration file for every command (a command's own --config wins).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the version (`-v`, as the Go cc-relay; `-V` too).
    #[arg(short = 'v', long = "version", action = ArgAction::Version, short_alias = 'V')]
    _version: Option<bool>,
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
    /// Print a shell completion script (`completion` works too).
    #[command(alias = "completion")]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
}

impl Command {
    /// Gives the root `--config` to the command, unless it has its own.
    pub fn default_config(&mut self, root: PathBuf) {
        let slot = match self {
            Self::Serve(args) => &mut args.config.config,
            Self::Status(args) => &mut args.config.config,
            Self::Tui(args) => &mut args.config,
            Self::Config { command } => match command {
                ConfigCommand::Init(args) => &mut args.output,
                ConfigCommand::Validate(args) => &mut args.config,
                ConfigCommand::Cc {
                    command: CcCommand::Init(args),
                } => &mut args.config.config,
                ConfigCommand::Cc {
                    command: CcCommand::Remove(args),
                } => &mut args.config.config,
            },
            Self::Version | Self::Completions { .. } => return,
        };
        slot.get_or_insert(root);
    }
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
    /// Metrics listener address, overriding `server.metrics_listen` (and the
    /// Go file's `metrics.prometheus_listen`); port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
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
    /// One readable line per event; `text` and `console` (the Go names) too.
    #[value(alias = "text", alias = "console")]
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
    /// The root `--config` (a `--config` among `args` wins).
    #[arg(skip)]
    pub config: Option<PathBuf>,
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
    /// Point Claude Code's settings at the relay (`env.ANTHROPIC_BASE_URL`, and the
    /// credential the relay expects), keeping everything else.
    Init(CcInitArgs),
    /// Remove what `init` (or the Go cc-relay's `cc init`) set, keeping everything else.
    Remove(CcRemoveArgs),
}

#[derive(Debug, Args)]
pub struct CcInitArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The relay's URL. Default: from the configuration's `server.listen`, else http://127.0.0.1:8787.
    #[arg(long, value_name = "URL")]
    pub proxy_url: Option<String>,
    /// The settings file. Default: ~/.claude/settings.json.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CcRemoveArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The settings file. Default: ~/.claude/settings.json.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
}
