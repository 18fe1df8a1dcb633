//! `latency_based`: power of two choices over the peak-EWMA latency
//! estimates. Two distinct candidates are drawn at random and the better one
//! goes first; the rest follow best first. Random pairs keep traffic from
//! stampeding onto whichever provider looked fastest a moment ago, while a
//! slow provider (the worse of every pair it is in) never comes first.
//!
//! "Better" is, as in tower's and Finagle's `PeakEwma`, the estimate scaled
//! by load: `latency × (in_flight + 1)`, so a fast provider that is already
//! busy yields to an idle one that is nearly as fast. Providers with no
//! (recent) estimate count as best, so they get measured, but only while
//! none of their requests is in flight: one measurement at a time, instead of
//! every request piling onto an unmeasured provider until its first answer.

use rand::Rng;

use super::Candidate;

/// Lower is better.
fn score(candidate: &Candidate<'_>) -> (u8, u128) {
    match candidate.latency {
        None if candidate.in_flight == 0 => (0, 0),
        Some(latency) => (
            1,
            latency
                .as_nanos()
                .saturating_mul(u128::from(candidate.in_flight) + 1),
        ),
        None => (2, u128::from(candidate.in_flight)),
    }
}

pub(super) fn arrange<R: Rng + ?Sized>(
    candidates: &[Candidate<'_>],
    order: &mut [usize],
    rng: &mut R,
) {
    // Stable, so equal scores keep their order.
    order.sort_by_key(|&i| score(&candidates[i]));
    if order.len() < 2 {
        return;
    }
    // Once sorted, the better of two random positions is the lower one.
    let first = rng.random_range(0..order.len());
    let mut second = rng.random_range(0..order.len() - 1);
    if second >= first {
        second += 1;
    }
    order[..=first.min(second)].rotate_right(1);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn measured(name: &str, millis: u64, in_flight: u64) -> Candidate<'_> {
        Candidate {
            latency: Some(Duration::from_millis(millis)),
            in_flight,
            ..Candidate::new(name)
        }
    }

    fn order(candidates: &[Candidate<'_>], rng: &mut StdRng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        arrange(candidates, &mut order, rng);
        order
    }

    #[test]
    fn the_faster_provider_comes_first_most_of_the_time() {
        let candidates = [
            measured("slow", 900, 0),
            measured("fast", 100, 0),
            measured("medium", 400, 0),
        ];
        let mut rng = StdRng::seed_from_u64(1);
        let draws = 30_000;
        let mut firsts = [0u32; 3];
        for _ in 0..draws {
            let order = order(&candidates, &mut rng);
            firsts[order[0]] += 1;
            // The rest by latency.
            let rest: Vec<usize> = order[1..].to_vec();
            let mut sorted = rest.clone();
            sorted.sort_by_key(|&i| candidates[i].latency);
            assert_eq!(rest, sorted);
        }
        // P2C over three: the best wins 2/3 of pairs, the middle 1/3, the worst none.
        assert_eq!(firsts[0], 0);
        let fast = f64::from(firsts[1]) / f64::from(draws);
        assert!((fast - 2.0 / 3.0).abs() < 0.015, "{firsts:?}");
    }

    #[test]
    fn of_two_the_faster_always_wins() {
        let candidates = [measured("slow", 300, 0), measured("fast", 299, 0)];
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..100 {
            assert_eq!(order(&candidates, &mut rng), [1, 0]);
        }
    }

    #[test]
    fn unmeasured_idle_providers_are_tried_first() {
        let candidates = [measured("fast", 10, 0), Candidate::new("new")];
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(order(&candidates, &mut rng), [1, 0]);
        // With a measurement on its way, it waits behind measured providers.
        let probing = [
            Candidate {
                in_flight: 1,
                ..Candidate::new("new")
            },
            measured("fast", 10, 0),
        ];
        assert_eq!(order(&probing, &mut rng), [1, 0]);
    }

    #[test]
    fn load_scales_the_estimate() {
        // 100 ms with 3 in flight (cost 400) loses to 250 ms idle.
        let candidates = [measured("busy", 100, 3), measured("idle", 250, 0)];
        let mut rng = StdRng::seed_from_u64(4);
        assert_eq!(order(&candidates, &mut rng), [1, 0]);
    }

    #[test]
    fn zero_and_one_candidate() {
        let mut rng = StdRng::seed_from_u64(5);
        assert!(order(&[], &mut rng).is_empty());
        assert_eq!(order(&[measured("a", 5, 0)], &mut rng), [0]);
    }
}
