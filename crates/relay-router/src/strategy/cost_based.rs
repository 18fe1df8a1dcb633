//! `cost_based`: cheapest first for the request's model. A provider's cost is
//! its blended price per million tokens for a typical request of 3 input
//! tokens per output token: `0.75 × input + 0.25 × output`. Claude Code
//! requests are input-heavy, so input prices dominate, but output prices (often
//! 5x input) still count. Providers without prices come last; equal costs go
//! by priority (highest first), then keep their order.

use std::cmp::{Ordering, Reverse};

use super::Candidate;

/// Share of input tokens in the blended price (3 input : 1 output).
const INPUT_SHARE: f64 = 0.75;

fn blended_price(candidate: &Candidate<'_>) -> Option<f64> {
    candidate
        .cost
        .map(|(input, output)| INPUT_SHARE * input + (1.0 - INPUT_SHARE) * output)
}

fn cheaper_first(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

pub(super) fn arrange(candidates: &[Candidate<'_>], order: &mut [usize]) {
    order.sort_by(|&a, &b| {
        let (a, b) = (&candidates[a], &candidates[b]);
        cheaper_first(blended_price(a), blended_price(b))
            .then_with(|| Reverse(a.priority).cmp(&Reverse(b.priority)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(name: &str, cost: Option<(f64, f64)>, priority: u32) -> Candidate<'_> {
        Candidate {
            cost,
            priority,
            ..Candidate::new(name)
        }
    }

    fn names(candidates: &[Candidate<'static>]) -> Vec<&'static str> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        arrange(candidates, &mut order);
        order.iter().map(|&i| candidates[i].name).collect()
    }

    #[test]
    fn cheapest_blended_price_first_unknown_last_ties_by_priority() {
        let candidates = [
            priced("unknown", None, 9),
            priced("opus", Some((15.0, 75.0)), 1),
            // 0.75 * 3 + 0.25 * 15 = 6.0
            priced("sonnet", Some((3.0, 15.0)), 1),
            // 0.75 * 6 + 0.25 * 6 = 6.0: same cost, higher priority.
            priced("flat", Some((6.0, 6.0)), 2),
            priced("glm", Some((0.6, 2.2)), 1),
            priced("free", Some((0.0, 0.0)), 1),
        ];
        assert_eq!(
            names(&candidates),
            ["free", "glm", "flat", "sonnet", "opus", "unknown"]
        );
    }

    #[test]
    fn output_prices_count() {
        // Cheaper input, but much dearer output: 0.75 * 1 + 0.25 * 40 = 10.75 vs 8.
        let candidates = [
            priced("a", Some((1.0, 40.0)), 1),
            priced("b", Some((8.0, 8.0)), 1),
        ];
        assert_eq!(names(&candidates), ["b", "a"]);
    }

    #[test]
    fn zero_and_one_candidate() {
        assert!(names(&[]).is_empty());
        assert_eq!(names(&[priced("a", None, 1)]), ["a"]);
    }
}
