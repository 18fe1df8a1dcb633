//! Candidates matched to configuration positions by name, for the strategies
//! that keep state per provider (smooth-WRR weights, the shuffle deck).

use std::collections::HashMap;

/// Up to this many providers a linear scan beats hashing the name.
const LINEAR_SCAN_MAX: usize = 16;

/// The configuration's provider names and their positions.
#[derive(Debug)]
pub(super) struct ProviderIndex {
    names: Vec<Box<str>>,
    /// Only for long provider lists.
    positions: Option<HashMap<Box<str>, usize>>,
}

impl ProviderIndex {
    pub(super) fn new(names: &[String]) -> Self {
        let names: Vec<Box<str>> = names.iter().map(|name| name.as_str().into()).collect();
        let positions = (names.len() > LINEAR_SCAN_MAX).then(|| {
            let mut positions = HashMap::with_capacity(names.len());
            for (position, name) in names.iter().enumerate().rev() {
                // Reversed so a duplicated name maps to its first position, as the scan does.
                positions.insert(name.clone(), position);
            }
            positions
        });
        Self { names, positions }
    }

    pub(super) fn len(&self) -> usize {
        self.names.len()
    }

    /// The provider's position in the configuration; `None` for a name the
    /// selector was not built with.
    pub(super) fn position(&self, name: &str) -> Option<usize> {
        match &self.positions {
            Some(positions) => positions.get(name).copied(),
            None => self.names.iter().position(|known| **known == *name),
        }
    }

    /// [`position`](Self::position), trying `hint` first. Candidates usually
    /// come in configuration order, so walking them with the hint set past the
    /// previous match costs one comparison per candidate instead of a scan.
    pub(super) fn position_near(&self, name: &str, hint: usize) -> Option<usize> {
        match self.names.get(hint) {
            Some(known) if **known == *name => Some(hint),
            _ => self.position(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("provider-{i}")).collect()
    }

    #[test]
    fn finds_positions_in_short_and_long_lists() {
        for count in [0, 1, 5, LINEAR_SCAN_MAX, LINEAR_SCAN_MAX + 1, 100] {
            let index = ProviderIndex::new(&names(count));
            assert_eq!(index.len(), count);
            for (position, name) in names(count).iter().enumerate() {
                assert_eq!(index.position(name), Some(position));
            }
            assert_eq!(index.position("unknown"), None);
        }
    }

    #[test]
    fn a_wrong_hint_still_finds_the_name() {
        let index = ProviderIndex::new(&names(5));
        assert_eq!(index.position_near("provider-3", 3), Some(3));
        assert_eq!(index.position_near("provider-3", 0), Some(3));
        assert_eq!(index.position_near("provider-3", 99), Some(3));
        assert_eq!(index.position_near("unknown", 2), None);
    }
}
