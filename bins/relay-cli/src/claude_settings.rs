//! `cc-relay config cc init|remove`: points Claude Code at the relay by
//! setting `env.ANTHROPIC_BASE_URL` in `~/.claude/settings.json`, touching
//! nothing else in the file (key order included).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Map, Value};

use crate::cli::{CcInitArgs, CcRemoveArgs};
use crate::output;

const BASE_URL_KEY: &str = "ANTHROPIC_BASE_URL";

pub fn init(args: &CcInitArgs) -> anyhow::Result<()> {
    let path = settings_path(args.settings.as_ref())?;
    let mut settings = read(&path)?;
    let root = settings
        .as_object_mut()
        .context("settings.json is not a JSON object")?;
    let env = root
        .entry("env")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(env) = env.as_object_mut() else {
        bail!("`env` in {} is not an object", path.display())
    };
    env.insert(BASE_URL_KEY.into(), Value::String(args.proxy_url.clone()));
    write(&path, &settings)?;
    output::say(&format!(
        "Claude Code will use {} (set {BASE_URL_KEY} in {})",
        args.proxy_url,
        path.display()
    ));
    Ok(())
}

pub fn remove(args: &CcRemoveArgs) -> anyhow::Result<()> {
    let path = settings_path(args.settings.as_ref())?;
    if !path.exists() {
        output::say(&format!(
            "{} does not exist; nothing to remove",
            path.display()
        ));
        return Ok(());
    }
    let mut settings = read(&path)?;
    let root = settings
        .as_object_mut()
        .context("settings.json is not a JSON object")?;
    let removed = match root.get_mut("env").and_then(Value::as_object_mut) {
        Some(env) => {
            let removed = env.shift_remove(BASE_URL_KEY).is_some();
            if env.is_empty() {
                root.shift_remove("env");
            }
            removed
        }
        None => false,
    };
    if removed {
        write(&path, &settings)?;
        output::say(&format!("removed {BASE_URL_KEY} from {}", path.display()));
    } else {
        output::say(&format!("{BASE_URL_KEY} was not set in {}", path.display()));
    }
    Ok(())
}

fn settings_path(explicit: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(path) => Ok(path.clone()),
        None => Ok(dirs::home_dir()
            .context("no home directory: pass --settings FILE")?
            .join(".claude")
            .join("settings.json")),
    }
}

fn read(path: &Path) -> anyhow::Result<Value> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Object(Map::new())),
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not valid JSON", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Value::Object(Map::new())),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

/// Replaces the file atomically (temp file + rename), keeping its permissions.
fn write(path: &Path, settings: &Value) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(settings)?;
    text.push('\n');
    let temp = dir.join(format!(".settings.json.cc-relay-{}", std::process::id()));
    std::fs::write(&temp, text).with_context(|| format!("could not write {}", temp.display()))?;
    if let Ok(metadata) = std::fs::metadata(path) {
        std::fs::set_permissions(&temp, metadata.permissions())?;
    }
    std::fs::rename(&temp, path).with_context(|| format!("could not replace {}", path.display()))
}
