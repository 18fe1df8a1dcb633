//! Constant-time comparison of a presented credential with a configured one.

use relay_core::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A configured secret, kept as its SHA-256 so comparisons take the same time
/// whatever the presented value's length or content.
#[derive(Clone)]
pub(crate) struct SecretMatcher {
    digest: [u8; 32],
}

impl SecretMatcher {
    pub(crate) fn new(secret: &Secret) -> Self {
        Self {
            digest: Sha256::digest(secret.expose().as_bytes()).into(),
        }
    }

    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented).into();
        presented.ct_eq(&self.digest).into()
    }
}

/// Whether `presented` is `expected`, compared in constant time: for
/// credentials checked outside the client auth chain (the admin token).
pub fn secret_matches(expected: &Secret, presented: &[u8]) -> bool {
    SecretMatcher::new(expected).matches(presented)
}

impl std::fmt::Debug for SecretMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretMatcher([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_same_bytes() {
        let m = SecretMatcher::new(&Secret::new("relay-secret"));
        assert!(m.matches(b"relay-secret"));
        assert!(!m.matches(b"relay-secreT"));
        assert!(!m.matches(b"relay-secret "));
        assert!(!m.matches(b""));
        assert!(secret_matches(&Secret::new("tok"), b"tok"));
        assert!(!secret_matches(&Secret::new("tok"), b"to"));
    }
}
