//! Finding the configuration file.

use std::path::{Path, PathBuf};

/// The file to load: `--config`, then `$CC_RELAY_CONFIG`, then `./config.yaml`,
/// then `~/.config/cc-relay/config.yaml`. `None` when none exists.
pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_owned());
    }
    if let Some(path) = std::env::var_os("CC_RELAY_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    [Some(PathBuf::from("config.yaml")), default_location()]
        .into_iter()
        .flatten()
        .find(|path| path.is_file())
}

/// `~/.config/cc-relay/config.yaml`.
pub fn default_location() -> Option<PathBuf> {
    dirs::home_dir().map(|home| home.join(".config").join("cc-relay").join("config.yaml"))
}

/// Loads the configuration the CLI should use, and where it came from.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<(relay_config::Config, Option<PathBuf>)> {
    let (loaded, path) = load_reporting(explicit)?;
    Ok((loaded.config, path))
}

/// [`load`], with the load warnings (none without a file).
pub fn load_reporting(
    explicit: Option<&Path>,
) -> anyhow::Result<(relay_config::Loaded, Option<PathBuf>)> {
    match find(explicit) {
        Some(path) => Ok((relay_config::load_file_reporting(&path)?, Some(path))),
        None => Ok((
            relay_config::Loaded {
                config: relay_config::transparent_default(),
                warnings: Vec::new(),
            },
            None,
        )),
    }
}

/// The URL a local client reaches a relay listening on `listen` at: an
/// every-interface address (`0.0.0.0`, `[::]`) is reached on loopback.
pub fn local_url(listen: &str) -> String {
    let local = match listen.rsplit_once(':') {
        Some(("0.0.0.0" | "[::]" | "", port)) => format!("127.0.0.1:{port}"),
        _ => listen.to_owned(),
    };
    format!("http://{local}")
}
