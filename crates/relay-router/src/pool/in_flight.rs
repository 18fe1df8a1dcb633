//! The reservations in flight on one key, and per dimension how much of them
//! the upstream had already counted when it last reported a `remaining`.
//!
//! Every response with rate-limit headers needs two sums per dimension: all
//! that is in flight, and what the upstream has not counted yet. Summing the
//! reservations each time made a response cost O(in flight) under the key's
//! lock, so a burst of n requests cost O(n²). The sums are kept as running
//! totals instead, so a response costs O(log n).

use std::collections::BTreeMap;

use super::limits::{Estimate, LimitDimension};

#[derive(Clone, Copy, Debug, Default)]
struct Sums {
    /// Reservations numbered up to this one were already counted by the
    /// upstream when it last reported a `remaining` for this dimension.
    synced_through: u64,
    /// What every reservation in flight takes. `u128` so the sum of any
    /// number of `u64` amounts is exact (the saturating operations on it
    /// never saturate; they only rule out a panic); reads saturate to `u64`,
    /// which is what a saturating sum of the amounts gives.
    total: u128,
    /// The part of `total` taken by reservations numbered up to `synced_through`.
    seen: u128,
}

#[derive(Debug, Default)]
pub(crate) struct InFlight {
    /// Reservations not settled yet, by sequence number (issue order).
    by_seq: BTreeMap<u64, Estimate>,
    sums: [Sums; 4],
    /// Test-only: answer from a scan of `by_seq`, as before the running
    /// totals, so property tests can compare the two.
    #[cfg(test)]
    pub(crate) reference: bool,
}

fn saturate(sum: u128) -> u64 {
    u64::try_from(sum).unwrap_or(u64::MAX)
}

impl InFlight {
    pub(crate) fn len(&self) -> usize {
        self.by_seq.len()
    }

    pub(crate) fn insert(&mut self, seq: u64, estimate: Estimate) {
        if let Some(old) = self.by_seq.insert(seq, estimate) {
            // Sequence numbers are never reused; stay exact if one were.
            self.subtract(seq, &old);
        }
        for dimension in LimitDimension::ALL {
            let sums = &mut self.sums[dimension.index()];
            let amount = u128::from(estimate.amount(dimension));
            sums.total = sums.total.saturating_add(amount);
            // New reservations are numbered above any synced point, so this
            // never happens; it keeps `seen` exact regardless.
            if seq <= sums.synced_through {
                sums.seen = sums.seen.saturating_add(amount);
            }
        }
    }

    /// Ends reservation `seq`: what it reserved, and per dimension whether
    /// the upstream had counted it in a reported `remaining`.
    pub(crate) fn remove(&mut self, seq: u64) -> Option<(Estimate, [bool; 4])> {
        let estimate = self.by_seq.remove(&seq)?;
        Some((estimate, self.subtract(seq, &estimate)))
    }

    fn subtract(&mut self, seq: u64, estimate: &Estimate) -> [bool; 4] {
        LimitDimension::ALL.map(|dimension| {
            let sums = &mut self.sums[dimension.index()];
            let amount = u128::from(estimate.amount(dimension));
            sums.total = sums.total.saturating_sub(amount);
            let counted = seq <= sums.synced_through;
            if counted {
                sums.seen = sums.seen.saturating_sub(amount);
            }
            counted
        })
    }

    /// The upstream has counted `dimension`'s reservations up to `through`.
    /// The synced point only moves forward, and each reservation crosses it
    /// once, so this costs O(log n) amortised.
    pub(crate) fn sync(&mut self, dimension: LimitDimension, through: u64) {
        let sums = &mut self.sums[dimension.index()];
        if through <= sums.synced_through {
            return;
        }
        let crossed = self
            .by_seq
            .range(sums.synced_through + 1..=through)
            .map(|(_, estimate)| u128::from(estimate.amount(dimension)))
            .fold(0, u128::saturating_add);
        sums.seen = sums.seen.saturating_add(crossed);
        sums.synced_through = through;
    }

    /// What every reservation in flight takes from `dimension`.
    pub(crate) fn total(&self, dimension: LimitDimension) -> u64 {
        #[cfg(test)]
        if self.reference {
            return self.scan(dimension, 0);
        }
        saturate(self.sums[dimension.index()].total)
    }

    /// What reservations in flight that the upstream has not counted yet
    /// take from `dimension`.
    pub(crate) fn unseen(&self, dimension: LimitDimension) -> u64 {
        #[cfg(test)]
        if self.reference {
            return self.scan(dimension, self.synced_through(dimension));
        }
        let sums = &self.sums[dimension.index()];
        saturate(sums.total.saturating_sub(sums.seen))
    }

    #[cfg(test)]
    pub(crate) fn synced_through(&self, dimension: LimitDimension) -> u64 {
        self.sums[dimension.index()].synced_through
    }

    /// The reference the running totals replace: what reservations numbered
    /// above `after` take from `dimension`, summed one by one.
    #[cfg(test)]
    pub(crate) fn scan(&self, dimension: LimitDimension, after: u64) -> u64 {
        self.by_seq
            .range(after.saturating_add(1)..)
            .map(|(_, estimate)| estimate.amount(dimension))
            .fold(0, u64::saturating_add)
    }
}
