//! Builders shared by the pool tests.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};
use relay_config::PoolStrategy;
use relay_core::Secret;
use tokio::time::Instant;

use crate::pool::{Estimate, KeyLimits, KeyPool, KeyState, PoolKey, Usage};

/// The wall-clock time tests pretend `Instant::now()` is at test start.
pub(super) fn wall_at_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

/// `wall_at_start() + seconds` as RFC 3339, for `-reset` headers.
pub(super) fn rfc3339_after(seconds: u64) -> String {
    humantime::format_rfc3339(wall_at_start() + Duration::from_secs(seconds)).to_string()
}

pub(super) fn rpm(limit: u64) -> KeyLimits {
    KeyLimits {
        rpm: limit,
        ..KeyLimits::default()
    }
}

pub(super) fn state(limits: KeyLimits) -> Arc<KeyState> {
    Arc::new(KeyState::new(limits, Instant::now()))
}

pub(super) fn estimate(input_tokens: u64, max_output_tokens: u64) -> Estimate {
    Estimate {
        input_tokens,
        max_output_tokens,
    }
}

pub(super) fn usage(input_tokens: u64, output_tokens: u64) -> Usage {
    Usage {
        input_tokens,
        output_tokens,
        ..Usage::default()
    }
}

pub(super) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        map.insert(name, HeaderValue::from_str(value).unwrap());
    }
    map
}

/// A pool of `weights.len()` keys named `key-0`, `key-1`, … with those weights.
pub(super) fn pool(strategy: PoolStrategy, weights: &[u32], limits: KeyLimits) -> KeyPool {
    let keys = weights
        .iter()
        .enumerate()
        .map(|(i, weight)| PoolKey::new(Secret::new(format!("key-{i}")), *weight, state(limits)))
        .collect();
    KeyPool::new(keys, strategy)
}

/// The position in the pool of the key with this id.
pub(super) fn position(pool: &KeyPool, key_id: &str) -> usize {
    pool.keys().iter().position(|k| k.id == key_id).unwrap()
}

pub(super) fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

pub(super) fn millis(millis: u64) -> Duration {
    Duration::from_millis(millis)
}
