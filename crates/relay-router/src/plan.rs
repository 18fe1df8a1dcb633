//! A plan: the ordered attempts for one request.

use relay_core::Secret;

/// One upstream attempt: a provider and, if it has a pool, one of its keys.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// Position of the provider in the configuration's `providers` list.
    pub provider_index: usize,
    pub provider: String,
    /// The key to authenticate with; `None` when the provider has no keys.
    pub key: Option<Secret>,
}

/// The attempts for one request, best first. Iterate it; stop at the first
/// attempt that succeeds or fails in a way no other attempt could fix.
#[derive(Debug)]
pub struct Plan {
    attempts: std::vec::IntoIter<Attempt>,
}

impl Plan {
    pub(crate) fn new(attempts: Vec<Attempt>) -> Self {
        Self {
            attempts: attempts.into_iter(),
        }
    }
}

impl Iterator for Plan {
    type Item = Attempt;

    fn next(&mut self) -> Option<Attempt> {
        self.attempts.next()
    }
}
