//! `cc-relay config init` and `cc-relay config validate`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::cli::{ConfigArg, InitArgs};
use crate::{config_path, output};

pub fn init(args: &InitArgs) -> anyhow::Result<()> {
    let path = match &args.output {
        Some(path) => path.clone(),
        None => config_path::default_location().context("no home directory: pass -o FILE")?,
    };
    if path.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("could not create {}", parent.display()))?;
    }
    write_private(&path, relay_config::STARTER_CONFIG.as_bytes())?;
    output::say(&format!("wrote {}", path.display()));
    Ok(())
}

pub fn validate(args: &ConfigArg) -> anyhow::Result<()> {
    let Some(path) = config_path::find(args.config.as_deref()) else {
        bail!(
            "no configuration file found (looked at $CC_RELAY_CONFIG, ./config.yaml, ~/.config/cc-relay/config.yaml)"
        );
    };
    // What `serve` does before it listens: providers built, credentials
    // files read, upstream URLs checked. Some of it may use the runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let loaded = runtime.block_on(async { relay_server::check_file(&path) })?;
    for warning in &loaded.warnings {
        output::complain(&format!("warning: {warning}"));
    }
    let config = &loaded.config;
    let enabled = config.providers.iter().filter(|p| p.enabled).count();
    let warnings = match loaded.warnings.len() {
        0 => String::new(),
        1 => ", 1 warning".to_owned(),
        n => format!(", {n} warnings"),
    };
    output::say(&format!(
        "{} is valid: {} provider(s), {enabled} enabled, strategy {}{warnings}",
        path.display(),
        config.providers.len(),
        config.routing.strategy.as_str()
    ));
    Ok(())
}

/// Writes a file readable only by its owner: it will hold API keys.
fn write_private(path: &PathBuf, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options
            .open(path)
            .with_context(|| format!("could not write {}", path.display()))?;
        // `mode` applies only to new files; an overwritten one is tightened too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(contents)?;
    }
    #[cfg(not(unix))]
    {
        let mut file = options
            .open(path)
            .with_context(|| format!("could not write {}", path.display()))?;
        file.write_all(contents)?;
    }
    Ok(())
}
