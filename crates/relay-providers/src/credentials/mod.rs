//! Where cloud providers' credentials come from: the AWS chain (static keys,
//! environment, shared credentials/config files), Google OAuth2 tokens
//! (service accounts, gcloud user credentials, the metadata server) and
//! Microsoft Entra ID client-credentials tokens, with a cache that reuses a
//! token until shortly before it expires.
//!
//! The environment is passed in as a function ([`Env`]) rather than read
//! directly, so tests can describe one without touching the process's
//! (`std::env::set_var` is not thread-safe).

use std::path::Path;

use serde::de::DeserializeOwned;

pub(crate) mod aws;
pub(crate) mod azure;
pub(crate) mod google;
pub(crate) mod http;
mod ini;
pub(crate) mod token;

/// Looks up an environment variable.
pub(crate) type Env = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The process environment; `HOME` falls back to the platform's home directory.
pub(crate) fn process_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) if name == "HOME" => {
            dirs::home_dir().map(|home| home.to_string_lossy().into_owned())
        }
        Err(_) => None,
    }
}

/// Reads and parses a JSON credentials file. Messages name the file and
/// where its path came from, never its contents.
pub(crate) fn read_json_file<T: DeserializeOwned>(path: &Path, origin: &str) -> Result<T, String> {
    let text = std::fs::read(path)
        .map_err(|err| format!("cannot read {} ({origin}): {err}", path.display()))?;
    serde_json::from_slice(&text).map_err(|err| {
        // Only the position: serde's messages may quote a value from the file.
        format!(
            "{} ({origin}) is not a valid credentials file: JSON error at line {} column {}",
            path.display(),
            err.line(),
            err.column()
        )
    })
}
