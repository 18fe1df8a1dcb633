//! A string that never prints itself.

use std::fmt;
use std::sync::Arc;

/// A credential. `Debug` and `Display` show `[redacted]`; only [`Secret::expose`]
/// gives the value, so every place a key leaves the process is greppable.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Self(value.into())
    }

    /// The credential itself. Call only where it is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A short, stable, non-reversible id for logs, metrics and headers: 8 hex
    /// digits of an FNV-1a-64 hash finished with the SplitMix64 mixer, so keys
    /// that differ in one character get unrelated-looking ids. It identifies a
    /// key among a handful; it is not a security boundary.
    pub fn short_id(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.0.as_bytes() {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= hash >> 30;
        hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        hash ^= hash >> 27;
        hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
        hash ^= hash >> 31;
        format!("{:08x}", (hash >> 32) as u32)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::headers::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::headers::REDACTED)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("sk-ant-very-secret");
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "sk-ant-very-secret");
    }

    #[test]
    fn short_id_is_stable_and_short() {
        let a = Secret::new("key-a");
        assert_eq!(a.short_id(), Secret::new("key-a").short_id());
        assert_ne!(a.short_id(), Secret::new("key-b").short_id());
        assert_eq!(a.short_id().len(), 8);
        // One character apart, yet no shared prefix worth confusing.
        let (x, y) = (
            Secret::new("sk-a").short_id(),
            Secret::new("sk-b").short_id(),
        );
        assert_ne!(x[..4], y[..4]);
        assert!(!a.short_id().contains("key"));
    }
}
