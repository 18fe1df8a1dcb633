//! `usage:` and `server.auth.client_keys`.

use std::collections::HashSet;

use super::Problems;
use crate::schema::{ClientKeyConfig, UsageConfig};

/// Client keys the relay issues start with this, so a relay can tell them
/// from a client's own upstream credential.
pub const CLIENT_KEY_PREFIX: &str = "ccr_";

pub(super) fn usage(usage: &UsageConfig, out: &mut Problems) {
    if let Some(url) = &usage.database_url {
        let url = url.expose();
        let known = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !known && !url.eq_ignore_ascii_case("off") {
            // The URL is not quoted: it may hold a password.
            out.add(
                "usage.database_url",
                "is neither `off`, an sqlite:PATH URL nor a postgres:// URL",
            );
        }
    }
    if usage.flush_interval_ms == 0 || usage.flush_interval_ms > 60_000 {
        out.add(
            "usage.flush_interval_ms",
            "must be from 1 to 60000; remove it to use the default (250)",
        );
    }
    if usage.buffer_rows == 0 {
        out.add(
            "usage.buffer_rows",
            "must be greater than 0; remove it to use the default (10000)",
        );
    }
}

pub(super) fn client_keys(keys: &[ClientKeyConfig], out: &mut Problems) {
    let mut names = HashSet::new();
    for (i, key) in keys.iter().enumerate() {
        let path = |field: &str| format!("server.auth.client_keys[{i}].{field}");
        if key.name.trim().is_empty() {
            out.add(path("name"), "is required");
        } else if !names.insert(key.name.as_str()) {
            out.add(
                path("name"),
                format!("`{}` is declared twice: names must be unique", key.name),
            );
        }
        match (&key.key, &key.key_sha256) {
            (Some(_), Some(_)) => out.add(path("key"), "give either key or key_sha256, not both"),
            (None, None) => out.add(
                path("key"),
                "is required: the key (`ccr_…`, e.g. ${VAR}) or its SHA-256 in key_sha256",
            ),
            (Some(secret), None) if !secret.expose().starts_with(CLIENT_KEY_PREFIX) => out.add(
                path("key"),
                format!(
                    "must start with `{CLIENT_KEY_PREFIX}` (make one with `cc-relay keys create`)"
                ),
            ),
            (None, Some(hash))
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                out.add(path("key_sha256"), "must be 64 hexadecimal digits")
            }
            _ => {}
        }
        if let Some(at) = &key.expires_at
            && humantime::parse_rfc3339_weak(at).is_err()
        {
            out.add(
                path("expires_at"),
                "is not an RFC 3339 time, e.g. 2027-01-31T00:00:00Z",
            );
        }
        for (j, pattern) in key.models.iter().enumerate() {
            if pattern.is_empty() {
                out.add(
                    format!("server.auth.client_keys[{i}].models[{j}]"),
                    "is empty",
                );
            }
        }
    }
}
