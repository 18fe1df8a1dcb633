//! `weighted_round_robin`: nginx's smooth weighted round-robin. On each
//! request every candidate's current weight grows by its weight, the largest
//! current weight is chosen (ties: the earlier candidate), and the chosen one
//! gives back the total. Weights 5, 1, 1 pick `a a b a c a a`, spreading the
//! light providers out instead of bunching them.
//!
//! The chosen candidate comes first, then the rest by weight, heaviest first
//! (ties keep their order). Current weights live per configured provider:
//! a provider missing from the candidates (unavailable) keeps its value and
//! resumes from it, as nginx does with peers that are down. A name the
//! selector was not built with has no state and is never the smooth pick
//! unless no candidate is known.

use std::cmp::Reverse;
use std::sync::{Mutex, PoisonError};

use super::provider_index::ProviderIndex;
use super::{Candidate, share};

#[derive(Debug)]
pub(super) struct SmoothWeights {
    providers: ProviderIndex,
    /// Current weight per configured provider.
    current: Mutex<Vec<i64>>,
}

impl SmoothWeights {
    pub(super) fn new(providers: ProviderIndex) -> Self {
        let current = Mutex::new(vec![0; providers.len()]);
        Self { providers, current }
    }

    pub(super) fn arrange(&self, candidates: &[Candidate<'_>], order: &mut [usize]) {
        if order.len() < 2 {
            return;
        }
        let chosen = self.pick(candidates, order);
        order[..=chosen].rotate_right(1);
        order[1..].sort_by_key(|&i| Reverse(candidates[i].weight));
    }

    /// One round of the smooth algorithm; the chosen position in `order`.
    fn pick(&self, candidates: &[Candidate<'_>], order: &[usize]) -> usize {
        // The arithmetic cannot panic half-way, so a poisoned lock is consistent.
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        // What the round added, given back by the chosen one: the current
        // weights of the candidates keep summing to what they summed before.
        let mut total: i64 = 0;
        let mut best: Option<(usize, usize, i64)> = None;
        let mut hint = 0;
        for (position, &i) in order.iter().enumerate() {
            let Some(provider) = self.providers.position_near(candidates[i].name, hint) else {
                continue;
            };
            hint = provider + 1;
            let Some(weight) = current.get_mut(provider) else {
                continue;
            };
            let grown = i64::try_from(share(&candidates[i])).unwrap_or(i64::MAX);
            *weight = weight.saturating_add(grown);
            total = total.saturating_add(grown);
            if best.is_none_or(|(_, _, heaviest)| *weight > heaviest) {
                best = Some((position, provider, *weight));
            }
        }
        let Some((position, provider, _)) = best else {
            return 0;
        };
        if let Some(weight) = current.get_mut(provider) {
            *weight = weight.saturating_sub(total);
        }
        position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(names: &[&str]) -> SmoothWeights {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        SmoothWeights::new(ProviderIndex::new(&names))
    }

    fn weighted(name: &str, weight: u32) -> Candidate<'_> {
        Candidate {
            weight,
            ..Candidate::new(name)
        }
    }

    fn order(smooth: &SmoothWeights, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        smooth.arrange(candidates, &mut order);
        order
    }

    fn picks(smooth: &SmoothWeights, candidates: &[Candidate<'_>], count: usize) -> String {
        (0..count)
            .map(|_| candidates[order(smooth, candidates)[0]].name)
            .collect()
    }

    #[test]
    fn nginx_sequence_for_5_1_1() {
        let smooth = weights(&["a", "b", "c"]);
        let candidates = [weighted("a", 5), weighted("b", 1), weighted("c", 1)];
        assert_eq!(picks(&smooth, &candidates, 14), "aabacaaaabacaa");
    }

    #[test]
    fn the_pick_then_the_rest_by_weight() {
        let smooth = weights(&["a", "b", "c", "d"]);
        let candidates = [
            weighted("a", 1),
            weighted("b", 2),
            weighted("c", 9),
            weighted("d", 2),
        ];
        assert_eq!(order(&smooth, &candidates), [2, 1, 3, 0]);
        // Second round: a=2, b=4, c=4, d=4 -> b (the first of equals), then c, d, a.
        assert_eq!(order(&smooth, &candidates), [1, 2, 3, 0]);
    }

    #[test]
    fn shares_hold_over_many_rounds() {
        let smooth = weights(&["a", "b", "c"]);
        let candidates = [weighted("a", 3), weighted("b", 2), weighted("c", 5)];
        let mut counts = [0; 3];
        for _ in 0..1_000 {
            counts[order(&smooth, &candidates)[0]] += 1;
        }
        assert_eq!(counts, [300, 200, 500]);
    }

    #[test]
    fn an_unavailable_provider_is_skipped_and_resumes() {
        let smooth = weights(&["a", "b", "c"]);
        let all = [weighted("a", 1), weighted("b", 1), weighted("c", 1)];
        let without_b = [weighted("a", 1), weighted("c", 1)];
        assert_eq!(picks(&smooth, &all, 3), "abc");
        assert_eq!(picks(&smooth, &without_b, 4), "acac");
        assert_eq!(picks(&smooth, &all, 3), "abc");
    }

    #[test]
    fn unknown_names_are_never_the_smooth_pick() {
        let smooth = weights(&["a"]);
        let candidates = [weighted("stranger", 100), weighted("a", 1)];
        assert_eq!(picks(&smooth, &candidates, 3), "aaa");
        // Strangers' weights are not given back by the known: no drift.
        assert_eq!(*smooth.current.lock().unwrap(), [0]);
        let strangers = [weighted("x", 1), weighted("y", 5)];
        assert_eq!(order(&smooth, &strangers), [0, 1]);
    }

    #[test]
    fn zero_and_one_candidate() {
        let smooth = weights(&["a"]);
        assert!(order(&smooth, &[]).is_empty());
        assert_eq!(order(&smooth, &[weighted("a", 3)]), [0]);
    }
}
