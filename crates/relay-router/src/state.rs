//! State that outlives any one configuration: key usage and learned limits,
//! circuit breakers, conversation affinity, and where thinking signatures
//! came from. A reload builds a new [`crate::Router`] over the same
//! `RouterState`, so a provider or key that still exists keeps its history.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};
use dashmap::{DashMap, DashSet};
use relay_config::AffinityConfig;
use relay_core::SignatureId;

use crate::health::{BreakerSettings, ProviderHealth};
use tokio::sync::mpsc;

use crate::pool::{KeyLimits, KeyState};
use crate::sync::{LocalEvent, Nudge};

/// Where a conversation was last served.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AffinityTarget {
    pub provider: Arc<str>,
    pub key_id: Option<String>,
}

/// The conversation cache and the settings it was built with.
#[derive(Debug)]
struct Affinity {
    settings: AffinityConfig,
    cache: moka::sync::Cache<String, AffinityTarget>,
}

impl Affinity {
    fn new(settings: &AffinityConfig) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(settings.max_entries.max(1))
            .time_to_idle(Duration::from_millis(settings.ttl_ms.max(1)))
            .build();
        Self {
            settings: settings.clone(),
            cache,
        }
    }
}

/// The router's process-lifetime state. Share one per process (`Arc`).
#[derive(Debug)]
pub struct RouterState {
    pub(crate) providers: DashMap<String, Arc<ProviderHealth>>,
    pub(crate) keys: DashMap<(String, String), Arc<KeyState>>,
    affinity: ArcSwap<Affinity>,
    /// Providers an operator switched off at run time; kept across reloads.
    disabled: DashSet<String>,
    pub(crate) signatures: moka::sync::Cache<SignatureId, Arc<str>>,
    /// The state sync's wake-up call and queue (see `crate::sync`).
    pub(crate) nudge: Arc<Nudge>,
    pub(crate) outbox: ArcSwapOption<mpsc::Sender<LocalEvent>>,
    pub(crate) dropped_events: AtomicU64,
}

/// How many thinking signatures' origins are remembered. Each entry is a
/// 64-bit fingerprint and a shared provider name.
const SIGNATURE_CAPACITY: u64 = 100_000;
/// A signature is only useful while its conversation is alive.
const SIGNATURE_TTL: Duration = Duration::from_secs(24 * 3600);

impl RouterState {
    pub fn new(affinity: &AffinityConfig) -> Self {
        Self {
            providers: DashMap::new(),
            keys: DashMap::new(),
            affinity: ArcSwap::from_pointee(Affinity::new(affinity)),
            disabled: DashSet::new(),
            signatures: moka::sync::Cache::builder()
                .max_capacity(SIGNATURE_CAPACITY)
                .time_to_idle(SIGNATURE_TTL)
                .build(),
            nudge: Arc::new(Nudge::default()),
            outbox: ArcSwapOption::empty(),
            dropped_events: AtomicU64::new(0),
        }
    }

    /// The provider's health, if a router recorded it.
    pub(crate) fn existing_provider_health(&self, name: &str) -> Option<Arc<ProviderHealth>> {
        self.providers.get(name).map(|entry| Arc::clone(&entry))
    }

    /// Records `health` as the provider's (unless one is recorded already)
    /// and applies `settings` to the recorded one.
    pub(crate) fn adopt_provider_health(
        &self,
        name: &str,
        health: &Arc<ProviderHealth>,
        settings: BreakerSettings,
    ) {
        let entry = self
            .providers
            .entry(name.to_owned())
            .or_insert_with(|| Arc::clone(health));
        entry.set_settings(settings);
    }

    /// The key's state, if a router recorded it.
    pub(crate) fn existing_key_state(&self, provider: &str, key_id: &str) -> Option<Arc<KeyState>> {
        self.keys
            .get(&(provider.to_owned(), key_id.to_owned()))
            .map(|entry| Arc::clone(&entry))
    }

    /// Records `key` as the key's state (unless one is recorded already) and
    /// applies the configured `limits` to the recorded one.
    pub(crate) fn adopt_key_state(
        &self,
        provider: &str,
        key_id: &str,
        key: &Arc<KeyState>,
        limits: KeyLimits,
    ) {
        let entry = self
            .keys
            .entry((provider.to_owned(), key_id.to_owned()))
            .or_insert_with(|| Arc::clone(key));
        entry.set_configured(limits);
    }

    /// Forgets providers and keys no configuration mentions any more.
    pub(crate) fn retain(&self, providers: &[&str], keys: &[(&str, &str)]) {
        self.providers
            .retain(|name, _| providers.contains(&name.as_str()));
        self.keys
            .retain(|(provider, key), _| keys.contains(&(provider.as_str(), key.as_str())));
    }

    /// Applies `routing.affinity` from a (re)loaded configuration. A change of
    /// size or idle time starts a fresh cache: moka's are fixed at creation.
    pub(crate) fn configure_affinity(&self, settings: &AffinityConfig) {
        if self.affinity.load().settings != *settings {
            tracing::info!(
                ttl_ms = settings.ttl_ms,
                max_entries = settings.max_entries,
                "affinity settings changed; conversations start afresh"
            );
            self.affinity.store(Arc::new(Affinity::new(settings)));
        }
    }

    pub(crate) fn affinity(&self, session: &str) -> Option<AffinityTarget> {
        self.affinity.load().cache.get(session)
    }

    pub(crate) fn remember_affinity(&self, session: &str, target: AffinityTarget) {
        if self.pin(session, target.clone()) {
            self.emit(|| LocalEvent::Affinity {
                session: session.to_owned(),
                target,
            });
        }
    }

    /// Pins a conversation; whether that changed anything.
    pub(crate) fn pin(&self, session: &str, target: AffinityTarget) -> bool {
        let affinity = self.affinity.load();
        let changed = affinity.cache.get(session).as_ref() != Some(&target);
        if changed {
            affinity.cache.insert(session.to_owned(), target);
        }
        changed
    }

    /// Switches a provider off (or back on) at run time, whatever the
    /// configuration says; the switch outlives reloads until undone.
    pub fn set_disabled(&self, provider: &str, disabled: bool) {
        self.switch(provider, disabled);
        self.emit(|| LocalEvent::Switch {
            provider: provider.to_owned(),
            disabled,
        });
    }

    pub(crate) fn switch(&self, provider: &str, disabled: bool) {
        if disabled {
            self.disabled.insert(provider.to_owned());
        } else {
            self.disabled.remove(provider);
        }
    }

    /// Whether an operator switched the provider off.
    pub fn is_disabled(&self, provider: &str) -> bool {
        !self.disabled.is_empty() && self.disabled.contains(provider)
    }

    /// Records that `provider` produced these thinking signatures.
    pub fn remember_signatures(&self, provider: &Arc<str>, signatures: &[SignatureId]) {
        for signature in signatures {
            self.signatures.insert(*signature, Arc::clone(provider));
        }
        if !signatures.is_empty() {
            self.emit(|| LocalEvent::Signatures {
                provider: Arc::clone(provider),
                ids: signatures.to_vec(),
            });
        }
    }

    /// The provider that produced a signature, if the relay saw it being made.
    pub fn signature_origin(&self, signature: SignatureId) -> Option<Arc<str>> {
        self.signatures.get(&signature)
    }

    /// Live entries in the affinity cache (approximate; for stats).
    pub fn affinity_entries(&self) -> u64 {
        self.affinity.load().cache.entry_count()
    }
}
