//! `cc-relay tui`: runs the `cc-relay-tui` dashboard, found next to this
//! executable or on `PATH`, with the given arguments. When they name no
//! relay or token, the configuration's `server.listen` and
//! `server.admin.token` fill in (the token through the environment, so it
//! never shows in a process listing).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::Command;

use anyhow::bail;

use crate::cli::TuiArgs;
use crate::config_path;

/// The dashboard's executable name.
const TUI: &str = "cc-relay-tui";
/// The variable `cc-relay-tui` reads its admin token from.
const TOKEN_VAR: &str = "CC_RELAY_ADMIN_TOKEN";

pub fn run(args: TuiArgs) -> anyhow::Result<()> {
    let program = locate();
    let mut command = Command::new(&program);
    // `--config F` is cc-relay's: it says where the URL and token come from.
    let (config, forwarded) = take_config(args.args);
    let config = config.or(args.config);
    let args = TuiArgs {
        config: None,
        args: forwarded,
    };
    command.args(&args.args);
    let given = |flag: &str| {
        args.args
            .iter()
            .any(|a| a == OsStr::new(flag) || a.to_string_lossy().starts_with(&format!("{flag}=")))
    };
    let wants_url = !given("--url");
    let wants_token = !given("--admin-token") && std::env::var_os(TOKEN_VAR).is_none();
    if wants_url || wants_token {
        // No configuration file, or one that does not load, leaves the
        // dashboard's own defaults.
        if let Ok((config, Some(_))) = config_path::load(config.as_deref()) {
            if wants_url {
                command.arg(format!(
                    "--url={}",
                    config_path::local_url(&config.server.listen)
                ));
            }
            if let Some(token) = config.server.admin.token.filter(|_| wants_token) {
                command.env(TOKEN_VAR, token.expose());
            }
        }
    }
    match exec(&mut command) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
            "{TUI} was not found next to cc-relay or on PATH; build it with `cargo build -p relay-tui` or install it beside cc-relay"
        ),
        Err(err) => bail!("cannot run {}: {err}", program.to_string_lossy()),
    }
}

/// Splits `--config F`, `--config=F`, `-c F` off the dashboard's arguments.
fn take_config(args: Vec<OsString>) -> (Option<PathBuf>, Vec<OsString>) {
    let mut config = None;
    let mut rest = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        let text = arg.to_string_lossy();
        if text == "--config" || text == "-c" {
            config = iter.next().map(PathBuf::from);
        } else if let Some(path) = text.strip_prefix("--config=") {
            config = Some(PathBuf::from(path));
        } else {
            rest.push(arg);
        }
    }
    (config, rest)
}

/// `cc-relay-tui` in this executable's directory if it is there, else the
/// bare name for a `PATH` lookup.
fn locate() -> OsString {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()
                .map(|dir| dir.join(format!("{TUI}{}", std::env::consts::EXE_SUFFIX)))
        })
        .filter(|path| path.is_file());
    sibling.map_or_else(|| OsString::from(TUI), PathBuf::into_os_string)
}

/// Replaces this process with the dashboard, which then owns the terminal
/// and its signals outright; returns only on failure.
#[cfg(unix)]
fn exec(command: &mut Command) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt as _;
    Err(command.exec())
}

/// Where a process cannot be replaced: runs the dashboard and waits.
#[cfg(not(unix))]
fn exec(command: &mut Command) -> std::io::Result<()> {
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("{TUI} {status}")))
    }
}
