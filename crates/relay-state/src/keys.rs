//! Redis key and channel names, all under `state.key_prefix`.

/// How long one usage slot is: usage is charged per slot and a slot is
/// read while it is inside the last minute.
pub(crate) const SLOT_MS: u64 = 10_000;
/// Slots read: the current one and the six before it (a minute and a bit).
pub(crate) const SLOTS_READ: u64 = 7;
/// Usage slots outlive the window they count in, then Redis drops them.
pub(crate) const USAGE_TTL_MS: u64 = (SLOTS_READ + 6) * SLOT_MS;
/// Circuits and switches are small and few; a day keeps them past any
/// open period without leaving them forever.
pub(crate) const LONG_TTL_MS: u64 = 24 * 3600 * 1000;

#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn events(&self) -> String {
        format!("{}:events", self.prefix)
    }

    pub(crate) fn peers(&self) -> String {
        format!("{}:peers", self.prefix)
    }

    pub(crate) fn switches(&self) -> String {
        format!("{}:switches", self.prefix)
    }

    pub(crate) fn block(&self, provider: &str, key: &str, cooldown: bool) -> String {
        let kind = if cooldown { "cool" } else { "off" };
        format!("{}:block:{kind}:{provider}:{key}", self.prefix)
    }

    pub(crate) fn circuit(&self, provider: &str) -> String {
        format!("{}:circuit:{provider}", self.prefix)
    }

    pub(crate) fn affinity(&self, session: &str) -> String {
        format!("{}:affinity:{session}", self.prefix)
    }

    pub(crate) fn affinity_pattern(&self) -> String {
        format!("{}:affinity:*", self.prefix)
    }

    pub(crate) fn usage(&self, provider: &str, key: &str, slot: u64) -> String {
        format!("{}:usage:{provider}:{key}:{slot}", self.prefix)
    }
}
