//! `state:`: where the routing state that several relays share lives.
//!
//! `memory` (the default) keeps everything in the process, as a single relay
//! needs. `redis` shares key usage, learned limits, cooldowns, circuits,
//! affinity and operator switches with every relay that uses the same Redis
//! (or Valkey) and `key_prefix`; decisions still read local state only (see
//! docs/high-availability.md).

use relay_core::Secret;
use serde::Deserialize;

/// `state:`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct StateConfig {
    pub backend: StateBackend,
    /// `redis://[user:password@]host[:port][/db]`, `rediss://` for TLS,
    /// `redis+unix:///path` or `unix:///path`. A secret: it may hold a password.
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key and channel, so several relay fleets can
    /// share one Redis.
    pub key_prefix: String,
    /// How often usage deltas, learned limits and the heartbeat are written
    /// and read. Cooldowns, circuits, affinity and switches are announced at
    /// once over pub/sub as well.
    pub sync_interval_ms: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            backend: StateBackend::Memory,
            redis_url: None,
            key_prefix: "cc-relay".to_owned(),
            sync_interval_ms: 1_000,
        }
    }
}

/// `state.backend`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateBackend {
    /// In-process only: no server needed.
    #[default]
    #[serde(alias = "")]
    Memory,
    /// Shared through Redis or Valkey.
    #[serde(alias = "valkey")]
    Redis,
}

impl StateBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
        }
    }
}

/// What a Redis URL points at, without its credentials: safe to log and
/// show. Parsed by [`RedisEndpoint::parse`], which also validates the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisEndpoint {
    pub tls: bool,
    /// `host:port`, or the socket path for `unix://`.
    pub address: String,
    pub db: u32,
}

impl RedisEndpoint {
    /// Checks a Redis URL's shape. The error never quotes the URL (it may
    /// hold a password).
    pub fn parse(url: &str) -> Result<Self, &'static str> {
        let (scheme, rest) = url.split_once("://").ok_or(
            "is not a URL: write redis://host:port/db, rediss://... for TLS, or unix:///path",
        )?;
        let tls = match scheme {
            "redis" | "valkey" => false,
            "rediss" | "valkeys" => true,
            "unix" | "redis+unix" | "valkey+unix" => {
                let path = rest.split('?').next().unwrap_or_default();
                if !path.starts_with('/') {
                    return Err("a unix URL needs an absolute socket path: unix:///run/redis.sock");
                }
                return Ok(Self {
                    tls: false,
                    address: path.to_owned(),
                    db: 0,
                });
            }
            _ => return Err("has an unknown scheme: use redis://, rediss:// (TLS) or unix://"),
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        // The password may contain '@'; the host part follows the last one.
        let host_port = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        if host_port.is_empty() {
            return Err("has no host: write redis://host:port/db");
        }
        let (host, port) = split_port(host_port)?;
        if host.is_empty() {
            return Err("has no host: write redis://host:port/db");
        }
        let db = match path.trim_end_matches('/') {
            "" => 0,
            db => db
                .parse()
                .map_err(|_| "has a database that is not a number: write redis://host:port/0")?,
        };
        Ok(Self {
            tls,
            address: format!("{host}:{port}"),
            db,
        })
    }
}

impl std::fmt::Display for RedisEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.address.starts_with('/') {
            return write!(f, "unix://{}", self.address);
        }
        let scheme = if self.tls { "rediss" } else { "redis" };
        write!(f, "{scheme}://{}/{}", self.address, self.db)
    }
}

fn split_port(host_port: &str) -> Result<(&str, u16), &'static str> {
    const BAD_PORT: &str = "has a port that is not a number from 1 to 65535";
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("has an unclosed [IPv6] host")?;
        (host, after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port = match port {
        None => 6379,
        Some(port) => port.parse().ok().filter(|p| *p > 0).ok_or(BAD_PORT)?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_drop_credentials() {
        let e = RedisEndpoint::parse("rediss://user:p@ss@cache.internal:6380/2").unwrap();
        assert_eq!(e.to_string(), "rediss://cache.internal:6380/2");
        let e = RedisEndpoint::parse("redis://127.0.0.1").unwrap();
        assert_eq!(e.to_string(), "redis://127.0.0.1:6379/0");
        let e = RedisEndpoint::parse("redis://[::1]:7000/").unwrap();
        assert_eq!(e.address, "::1:7000");
        assert!(RedisEndpoint::parse("unix:///run/redis.sock").is_ok());
    }

    #[test]
    fn bad_urls_are_refused_without_quoting_them() {
        for url in [
            "cache:6379",
            "http://secret@host",
            "redis://:pw@",
            "redis://host:0",
            "redis://host:x/1",
            "redis://host/db",
            "unix://relative",
        ] {
            let why = RedisEndpoint::parse(url).unwrap_err();
            assert!(
                !why.contains("secret") && !why.contains("pw"),
                "{url}: {why}"
            );
        }
    }
}
