//! `cc-relay config cc init|remove`: points Claude Code at the relay by
//! setting `env.ANTHROPIC_BASE_URL` in `~/.claude/settings.json`, and the
//! credential the relay's configuration expects from clients, touching
//! nothing else in the file (key order included).
//!
//! The credential: the relay's `server.auth.api_key` as `ANTHROPIC_API_KEY`;
//! else its `bearer_secret` as `ANTHROPIC_AUTH_TOKEN`; else, when the relay
//! checks nothing and every enabled provider has its own keys, a placeholder
//! `ANTHROPIC_AUTH_TOKEN` so Claude Code starts without a login (the Go
//! cc-relay writes the same value). A relay that passes clients' own
//! credentials through gets none: Claude Code's login is what it relays.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde_json::{Map, Value};

use relay_config::{Config, ProviderType};

use crate::cli::{CcInitArgs, CcRemoveArgs};
use crate::{config_path, output};

const BASE_URL_KEY: &str = "ANTHROPIC_BASE_URL";
const API_KEY: &str = "ANTHROPIC_API_KEY";
const AUTH_TOKEN: &str = "ANTHROPIC_AUTH_TOKEN";
/// What the Go cc-relay's `cc init` writes as `ANTHROPIC_AUTH_TOKEN`.
const PLACEHOLDER: &str = "managed-by-cc-relay";

/// The settings variable and value Claude Code needs to pass the relay's
/// client check, if any (see the module doc).
fn credential(config: &Config) -> Option<(&'static str, String)> {
    let auth = &config.server.auth;
    if let Some(key) = auth.api_key.as_ref().or(config.server.api_key.as_ref()) {
        return Some((API_KEY, key.expose().to_owned()));
    }
    if let Some(secret) = auth.bearer_secret.as_ref() {
        return Some((AUTH_TOKEN, secret.expose().to_owned()));
    }
    let bearer = auth.allow_bearer || auth.allow_subscription;
    let signs_itself = |p: &relay_config::ProviderConfig| {
        !p.keys.is_empty() || matches!(p.kind, ProviderType::Bedrock | ProviderType::Vertex)
    };
    let mut enabled = config.providers.iter().filter(|p| p.enabled).peekable();
    let all_keyed = enabled.peek().is_some() && enabled.all(signs_itself);
    (!bearer && all_keyed).then(|| (AUTH_TOKEN, PLACEHOLDER.to_owned()))
}

pub fn init(args: &CcInitArgs) -> anyhow::Result<()> {
    let (config, _) = config_path::load(args.config.config.as_deref())?;
    let proxy_url = args
        .proxy_url
        .clone()
        .unwrap_or_else(|| config_path::local_url(&config.server.listen));
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
    env.insert(BASE_URL_KEY.into(), Value::String(proxy_url.clone()));
    let credential = credential(&config);
    if let Some((name, value)) = &credential {
        env.insert((*name).into(), Value::String(value.clone()));
    }
    write(&path, &settings)?;
    let with = credential.map_or_else(String::new, |(name, _)| format!(" and {name}"));
    output::say(&format!(
        "Claude Code will use {proxy_url} (set {BASE_URL_KEY}{with} in {})",
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
    // What init wrote: the relay's credential (when the configuration
    // still names it) and the placeholder, the Go relay's included.
    let ours = config_path::load(args.config.config.as_deref())
        .ok()
        .and_then(|(config, _)| credential(&config));
    let mut removed = Vec::new();
    if let Some(env) = root.get_mut("env").and_then(Value::as_object_mut) {
        if env.shift_remove(BASE_URL_KEY).is_some() {
            removed.push(BASE_URL_KEY);
        }
        for name in [API_KEY, AUTH_TOKEN] {
            let value = env.get(name).and_then(Value::as_str);
            let written_by_us = value.is_some_and(|v| {
                v == PLACEHOLDER
                    || ours
                        .as_ref()
                        .is_some_and(|(n, ours)| *n == name && ours == v)
            });
            if written_by_us {
                env.shift_remove(name);
                removed.push(name);
            }
        }
        if env.is_empty() {
            root.shift_remove("env");
        }
    }
    if !removed.is_empty() {
        write(&path, &settings)?;
        output::say(&format!(
            "removed {} from {}",
            removed.join(", "),
            path.display()
        ));
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
