//! `cc-relay`: the relay daemon and its companion commands.
//!
//! A thin binary: argument parsing, logging setup and terminal output live
//! here; everything else is in the library crates.

mod claude_settings;
mod cli;
mod config_cmd;
mod config_path;
mod logging;
mod output;
mod serve;
mod status;
mod tui;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{CcCommand, Cli, Command, ConfigCommand};

/// jemalloc hands memory back to the OS after a burst (see `serve`'s
/// background thread); glibc's malloc kept it.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    // `cc-relay --config F <command>`: the root flag fills in a command's own.
    if let Some(root) = cli.config.take() {
        cli.command.default_config(root);
    }
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Status(args) => status::run(&args),
        Command::Tui(args) => tui::run(args),
        Command::Version => {
            output::say(&format!("cc-relay {}", env!("CARGO_PKG_VERSION")));
            Ok(())
        }
        Command::Config { command } => match command {
            ConfigCommand::Init(args) => config_cmd::init(&args),
            ConfigCommand::Validate(args) => config_cmd::validate(&args),
            ConfigCommand::Cc {
                command: CcCommand::Init(args),
            } => claude_settings::init(&args),
            ConfigCommand::Cc {
                command: CcCommand::Remove(args),
            } => claude_settings::remove(&args),
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "cc-relay",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::complain(&format!("error: {err:#}"));
            ExitCode::FAILURE
        }
    }
}
