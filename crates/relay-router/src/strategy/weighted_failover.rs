//! `weighted_failover`: each request draws a random order without
//! replacement, each draw proportional to weight among the candidates left.
//! The first choice is thus weight-proportional, and so is each failover step.
//! Exact integer draws over the weights: O(n²) for n candidates, which for
//! the handful of providers a relay has is cheaper than sorting random keys.

use rand::Rng;

use super::{Candidate, share};

pub(super) fn arrange<R: Rng + ?Sized>(
    candidates: &[Candidate<'_>],
    order: &mut [usize],
    rng: &mut R,
) {
    let mut remaining: u64 = order.iter().map(|&i| share(&candidates[i])).sum();
    for filled in 0..order.len().saturating_sub(1) {
        if remaining == 0 {
            return;
        }
        let mut ticket = rng.random_range(0..remaining);
        let mut drawn = filled;
        for (offset, &i) in order[filled..].iter().enumerate() {
            let weight = share(&candidates[i]);
            if ticket < weight {
                drawn = filled + offset;
                break;
            }
            ticket -= weight;
        }
        remaining -= share(&candidates[order[drawn]]);
        order.swap(filled, drawn);
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn weighted(name: &str, weight: u32) -> Candidate<'_> {
        Candidate {
            weight,
            ..Candidate::new(name)
        }
    }

    fn order(candidates: &[Candidate<'_>], rng: &mut StdRng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        arrange(candidates, &mut order, rng);
        order
    }

    #[test]
    fn first_picks_follow_the_weights() {
        let candidates = [weighted("a", 6), weighted("b", 3), weighted("c", 1)];
        let mut rng = StdRng::seed_from_u64(42);
        let draws = 20_000;
        let mut firsts = [0u32; 3];
        for _ in 0..draws {
            let order = order(&candidates, &mut rng);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2], "a permutation");
            firsts[order[0]] += 1;
        }
        for (count, expected) in firsts.iter().zip([0.6, 0.3, 0.1]) {
            let share = f64::from(*count) / f64::from(draws);
            assert!((share - expected).abs() < 0.015, "{firsts:?}");
        }
    }

    #[test]
    fn second_picks_are_weighted_among_the_rest() {
        // After a (weight 6) is drawn first, b and c follow 3:1.
        let candidates = [weighted("a", 6), weighted("b", 3), weighted("c", 1)];
        let mut rng = StdRng::seed_from_u64(9);
        let (mut b_second, mut a_first) = (0u32, 0u32);
        for _ in 0..20_000 {
            let order = order(&candidates, &mut rng);
            if order[0] == 0 {
                a_first += 1;
                b_second += u32::from(order[1] == 1);
            }
        }
        let share = f64::from(b_second) / f64::from(a_first);
        assert!((share - 0.75).abs() < 0.02, "{share}");
    }

    #[test]
    fn zero_and_one_candidate() {
        let mut rng = StdRng::seed_from_u64(1);
        assert!(order(&[], &mut rng).is_empty());
        assert_eq!(order(&[weighted("a", 4)], &mut rng), [0]);
    }
}
