//! The client keys a running relay knows, replaced as a whole whenever the
//! store or the file changes, and each key's live state (its RPM window and
//! what it has spent), which outlives those replacements.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;
use dashmap::DashMap;
use subtle::ConstantTimeEq;

use super::enforce::{KeyRefusal, RpmWindow, Spent, check_budgets, check_validity};
use super::key::{ClientKey, KeyDigest, KeySource};

/// Every client key, by digest, shared by every configuration snapshot.
#[derive(Debug, Default)]
pub struct KeyDirectory {
    keys: ArcSwap<HashMap<KeyDigest, Arc<ClientKey>>>,
    live: DashMap<Arc<str>, Mutex<Live>>,
}

#[derive(Debug, Default)]
struct Live {
    rpm: RpmWindow,
    /// Totals the store reported at its last refresh.
    stored: Spent,
    /// Cost recorded here and not yet written to the store.
    pending: f64,
}

/// Two keys of one name, one in the file and one in the store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "client key `{name}` is defined twice: in server.auth.client_keys[{index}] and in the usage store; rename or revoke one"
)]
pub struct DuplicateKeyName {
    pub name: String,
    pub index: usize,
}

/// Merges the file's keys and the store's. A name in both is an error
/// naming both places; the file's key is kept.
pub fn merge_keys(
    config: Vec<ClientKey>,
    store: Vec<ClientKey>,
) -> (Vec<ClientKey>, Vec<DuplicateKeyName>) {
    let mut problems = Vec::new();
    let mut merged = config;
    for key in store {
        match merged.iter().find(|k| k.name == key.name) {
            Some(ClientKey {
                source: KeySource::Config(index),
                ..
            }) => problems.push(DuplicateKeyName {
                name: key.name.to_string(),
                index: *index,
            }),
            _ => merged.push(key),
        }
    }
    (merged, problems)
}

impl KeyDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes a new set of keys; the live state of keys that stay is kept.
    pub fn replace(&self, keys: Vec<ClientKey>) {
        let set: HashMap<_, _> = keys.into_iter().map(|k| (k.digest, Arc::new(k))).collect();
        self.live
            .retain(|id, _| set.values().any(|k| k.id.as_ref() == id.as_ref()));
        self.keys.store(Arc::new(set));
    }

    /// Whether any key exists: then clients must present one (or the relay's
    /// own credential).
    pub fn is_enabled(&self) -> bool {
        !self.keys.load().is_empty()
    }

    /// Every key, for listings.
    pub fn keys(&self) -> Vec<Arc<ClientKey>> {
        self.keys.load().values().cloned().collect()
    }

    /// Checks a presented key: known, valid, within its budgets and its RPM.
    pub fn authenticate(
        &self,
        presented: &[u8],
        now: SystemTime,
        instant: Instant,
    ) -> Result<Arc<ClientKey>, KeyRefusal> {
        let digest = KeyDigest::of(presented);
        let keys = self.keys.load();
        // The map is keyed by the digest, which reveals nothing of the key;
        // the final comparison is constant-time anyway.
        let key = keys
            .get(&digest)
            .filter(|k| bool::from(k.digest.0.ct_eq(&digest.0)))
            .ok_or(KeyRefusal::Unknown)?;
        check_validity(key, now)?;
        if key.budgets.is_empty() && key.rpm_limit.is_none() {
            return Ok(Arc::clone(key));
        }
        self.with_live(&key.id, |live| {
            let mut spent = live.stored;
            spent.add(live.pending);
            check_budgets(key, spent, now)?;
            if let Some(limit) = key.rpm_limit {
                live.rpm
                    .admit(limit, instant)
                    .map_err(|retry_after| KeyRefusal::Rpm {
                        name: key.name.to_string(),
                        limit,
                        retry_after,
                    })?;
            }
            Ok(())
        })?;
        Ok(Arc::clone(key))
    }

    /// The store's totals for a key, in the periods containing now.
    pub fn set_stored_spend(&self, id: &str, spent: Spent) {
        if self.has(id) {
            self.with_live(id, |live| live.stored = spent);
        }
    }

    /// A request of this key finished costing `usd`; counted at once, before
    /// the store has it.
    pub fn add_pending(&self, id: &str, usd: f64) {
        if self.has(id) {
            self.with_live(id, |live| live.pending += usd);
        }
    }

    /// `usd` of this key's pending cost reached the store. Called before the
    /// refresh that reads it, the cost is counted twice for up to one
    /// refresh interval (erring on the side of refusing).
    pub fn settle_pending(&self, id: &str, usd: f64) {
        if let Some(live) = self.live.get(id) {
            let mut live = live.lock().unwrap_or_else(PoisonError::into_inner);
            live.pending = (live.pending - usd).max(0.0);
        }
    }

    /// What a key has spent, as enforcement sees it.
    pub fn spent(&self, id: &str) -> Spent {
        self.live.get(id).map_or_else(Spent::default, |live| {
            let live = live.lock().unwrap_or_else(PoisonError::into_inner);
            let mut spent = live.stored;
            spent.add(live.pending);
            spent
        })
    }

    fn has(&self, id: &str) -> bool {
        self.keys.load().values().any(|k| k.id.as_ref() == id)
    }

    fn with_live<T>(&self, id: &str, f: impl FnOnce(&mut Live) -> T) -> T {
        if let Some(live) = self.live.get(id) {
            return f(&mut live.lock().unwrap_or_else(PoisonError::into_inner));
        }
        let entry = self.live.entry(Arc::from(id)).or_default();
        f(&mut entry.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
