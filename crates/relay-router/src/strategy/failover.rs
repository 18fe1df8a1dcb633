//! `failover`: by priority, highest first; equal priorities keep the
//! candidates' (configuration) order. Also the order of standbys and the
//! tail of `model_based`.

use std::cmp::Reverse;

use super::Candidate;

pub(super) fn arrange(candidates: &[Candidate<'_>], order: &mut [usize]) {
    // Stable, so equal priorities keep their order.
    order.sort_by_key(|&i| Reverse(candidates[i].priority));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_priority(name: &str, priority: u32) -> Candidate<'_> {
        Candidate {
            priority,
            ..Candidate::new(name)
        }
    }

    #[test]
    fn highest_priority_first_and_ties_keep_their_order() {
        let candidates = [
            with_priority("a", 1),
            with_priority("b", 3),
            with_priority("c", 1),
            with_priority("d", 3),
            with_priority("e", 0),
        ];
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        arrange(&candidates, &mut order);
        assert_eq!(order, [1, 3, 0, 2, 4]);
    }

    #[test]
    fn zero_and_one_candidate() {
        let mut none: [usize; 0] = [];
        arrange(&[], &mut none);
        let mut one = [0];
        arrange(&[Candidate::new("a")], &mut one);
        assert_eq!(one, [0]);
    }
}
