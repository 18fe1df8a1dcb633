//! A provider's pool of keys: picks the key for each attempt by the pool's
//! strategy and reserves capacity on it. Immutable apart from one atomic
//! cursor; all mutable state lives in the keys' own [`KeyState`]s.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use relay_config::{KeyConfig, PoolStrategy};
use relay_core::Secret;
use tokio::time::Instant;

use super::limits::{Estimate, KeyLimits};
use super::reservation::Reservation;
use super::select::{advance_past, candidate_order};
use super::state::{KeyState, Unavailable, UnavailableReason};

/// One key of a pool.
#[derive(Clone, Debug)]
pub struct PoolKey {
    pub secret: Secret,
    /// [`Secret::short_id`]: safe for logs, headers and exclusion lists.
    pub id: String,
    /// Share of traffic under the `weighted` strategy.
    pub weight: u32,
    pub state: Arc<KeyState>,
}

impl PoolKey {
    pub fn new(secret: Secret, weight: u32, state: Arc<KeyState>) -> Self {
        Self {
            id: secret.short_id(),
            secret,
            weight,
            state,
        }
    }

    /// A key with fresh state from its configuration (weight defaults to 1).
    pub fn from_config(config: &KeyConfig, now: Instant) -> Self {
        let state = KeyState::new(KeyLimits::from_config(config), now);
        Self::new(
            config.key.clone(),
            config.weight.unwrap_or(1),
            Arc::new(state),
        )
    }
}

/// A key chosen for an attempt, with capacity reserved on it.
#[derive(Debug)]
pub struct Lease {
    pub key: PoolKey,
    pub reservation: Reservation,
}

/// No key of the pool can take the request now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PoolExhausted {
    /// The earliest moment one of the keys could take it; `None` when no key
    /// was a candidate (empty pool, or every key excluded).
    pub retry_at: Option<Instant>,
    /// Why the key that frees up first is unavailable.
    pub reason: Option<UnavailableReason>,
}

impl fmt::Display for PoolExhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Some(reason) => write!(f, "every key is unavailable (soonest: {reason})"),
            None => f.write_str("no key left to try"),
        }
    }
}

/// [`KeyPool::acquire_specific`] could not reserve the key asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecificKeyError {
    /// The key is not (or no longer, after a reload) in this pool.
    #[error("the key is not in this pool")]
    NotInPool,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The keys of one provider and the strategy that picks among them.
#[derive(Debug)]
pub struct KeyPool {
    keys: Vec<PoolKey>,
    strategy: PoolStrategy,
    /// Rotation for `round_robin` and `least_loaded` tie-breaks.
    cursor: AtomicUsize,
}

impl KeyPool {
    pub fn new(keys: Vec<PoolKey>, strategy: PoolStrategy) -> Self {
        Self {
            keys,
            strategy,
            cursor: AtomicUsize::new(0),
        }
    }

    /// Chooses a key for a request and reserves `estimate` on it. `exclude`
    /// holds the ids of keys already tried for this request.
    pub fn acquire(
        &self,
        estimate: Estimate,
        now: Instant,
        exclude: &[&str],
    ) -> Result<Lease, PoolExhausted> {
        let candidates = candidate_order(&self.keys, self.strategy, &self.cursor, now, exclude);
        let mut soonest: Option<Unavailable> = None;
        for &index in &candidates.order {
            let key = &self.keys[index];
            match key.state.try_reserve(estimate, now) {
                Ok(reservation) => {
                    if self.strategy == PoolStrategy::RoundRobin {
                        advance_past(&self.cursor, &candidates, index, self.keys.len());
                    }
                    return Ok(Lease {
                        key: key.clone(),
                        reservation,
                    });
                }
                Err(unavailable) => {
                    if soonest.is_none_or(|s| unavailable.until < s.until) {
                        soonest = Some(unavailable);
                    }
                }
            }
        }
        Err(PoolExhausted {
            retry_at: soonest.map(|s| s.until),
            reason: soonest.map(|s| s.reason),
        })
    }

    /// Reserves `estimate` on one given key, e.g. the one a conversation
    /// used before (its prompt cache is warm there).
    pub fn acquire_specific(
        &self,
        key_id: &str,
        estimate: Estimate,
        now: Instant,
    ) -> Result<Lease, SpecificKeyError> {
        let key = self.get(key_id).ok_or(SpecificKeyError::NotInPool)?;
        let reservation = key.state.try_reserve(estimate, now)?;
        Ok(Lease {
            key: key.clone(),
            reservation,
        })
    }

    pub fn get(&self, key_id: &str) -> Option<&PoolKey> {
        self.keys.iter().find(|key| key.id == key_id)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Keys able to take a request now (one request, no tokens).
    pub fn available(&self, now: Instant) -> usize {
        self.keys
            .iter()
            .filter(|key| key.state.check(Estimate::default(), now).is_ok())
            .count()
    }

    pub fn keys(&self) -> &[PoolKey] {
        &self.keys
    }

    pub fn strategy(&self) -> PoolStrategy {
        self.strategy
    }
}
