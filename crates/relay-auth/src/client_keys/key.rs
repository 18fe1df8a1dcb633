//! A client key as the relay enforces it: who, until when, which models, how
//! fast, how much. The secret itself is never kept: only its SHA-256.

use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine;
use relay_config::{CLIENT_KEY_PREFIX, ClientKeyConfig};
use relay_core::Secret;
use sha2::{Digest, Sha256};

/// A key's SHA-256, the only form in which the relay stores it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    pub fn of(presented: &[u8]) -> Self {
        Self(Sha256::digest(presented).into())
    }

    /// Lowercase hex, as stored and as `key_sha256` is written.
    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl std::fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyDigest([redacted])")
    }
}

/// A new random key (`ccr_` and 32 random bytes, base64url): shown once,
/// then only its digest is kept.
pub fn generate_key() -> (Secret, KeyDigest) {
    let bytes: [u8; 32] = rand::random();
    let key = format!(
        "{CLIENT_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let digest = KeyDigest::of(key.as_bytes());
    (Secret::new(key), digest)
}

/// Budgets in US dollars; `None`: no limit for that period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Budgets {
    pub daily: Option<f64>,
    pub weekly: Option<f64>,
    pub monthly: Option<f64>,
}

impl Budgets {
    pub fn is_empty(&self) -> bool {
        self.daily.is_none() && self.weekly.is_none() && self.monthly.is_none()
    }
}

/// Where a key is defined: names must be unique across both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `server.auth.client_keys[i]`.
    Config(usize),
    /// The usage store (`cc-relay keys`, `/admin/keys`).
    Store,
}

/// One client key, ready to enforce.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientKey {
    /// Stable id: the store's id, or `config:<name>`.
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub digest: KeyDigest,
    pub expires_at: Option<SystemTime>,
    pub revoked: bool,
    pub models: ModelPatterns,
    pub rpm_limit: Option<u32>,
    pub budgets: Budgets,
    pub source: KeySource,
}

impl ClientKey {
    /// The key `server.auth.client_keys[index]` declares; `None` when the
    /// entry is invalid (validation has reported it).
    pub fn from_config(index: usize, config: &ClientKeyConfig) -> Option<Self> {
        let digest = match (&config.key, &config.key_sha256) {
            (Some(secret), None) => KeyDigest::of(secret.expose().as_bytes()),
            (None, Some(hex)) => KeyDigest::from_hex(&hex.to_ascii_lowercase())?,
            _ => return None,
        };
        let expires_at = match &config.expires_at {
            Some(at) => Some(humantime::parse_rfc3339_weak(at).ok()?),
            None => None,
        };
        Some(Self {
            id: format!("config:{}", config.name).into(),
            name: config.name.as_str().into(),
            digest,
            expires_at,
            revoked: false,
            models: ModelPatterns::new(config.models.clone()),
            rpm_limit: config.rpm_limit.filter(|&rpm| rpm > 0),
            budgets: Budgets {
                daily: config.budget.daily_usd.map(|b| b.get()),
                weekly: config.budget.weekly_usd.map(|b| b.get()),
                monthly: config.budget.monthly_usd.map(|b| b.get()),
            },
            source: KeySource::Config(index),
        })
    }
}

/// Allowed-model globs: `*` matches any run of characters; empty allows all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelPatterns(Vec<String>);

impl ModelPatterns {
    pub fn new(patterns: Vec<String>) -> Self {
        Self(patterns)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn allows(&self, model: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| glob_matches(p, model))
    }
}

/// `*`-only glob match, linear in practice: on a mismatch it backtracks only
/// to the last star.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_stars_anywhere() {
        let haiku = ModelPatterns::new(vec!["claude-haiku-*".into()]);
        assert!(haiku.allows("claude-haiku-4-5"));
        assert!(!haiku.allows("claude-opus-4-5"));
        assert!(ModelPatterns::default().allows("anything"));
        assert!(glob_matches("*sonnet*", "claude-sonnet-4-5"));
        assert!(glob_matches("a*b*c", "axxbyyc"));
        assert!(!glob_matches("a*b*c", "axxbyy"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
    }

    #[test]
    fn generated_keys_have_the_prefix_and_their_digest() {
        let (key, digest) = generate_key();
        assert!(key.expose().starts_with("ccr_"));
        assert_eq!(key.expose().len(), 4 + 43);
        assert_eq!(KeyDigest::of(key.expose().as_bytes()), digest);
        assert_eq!(KeyDigest::from_hex(&digest.to_hex()), Some(digest));
        assert_ne!(generate_key().1, digest);
    }
}
