//! `least_loaded`: fewest requests in flight first. Candidates with equal
//! loads take turns (rotated per request within their group) rather than being
//! broken by priority: at low traffic every provider is idle, and a fixed
//! tie-breaker would send everything to one of them.

use super::Candidate;
use super::round_robin::Rotation;

pub(super) fn arrange(rotation: &Rotation, candidates: &[Candidate<'_>], order: &mut [usize]) {
    if order.len() < 2 {
        return;
    }
    order.sort_by_key(|&i| candidates[i].in_flight);
    let turn = rotation.tick();
    let mut group_start = 0;
    while let Some(&first) = order.get(group_start) {
        let load = candidates[first].in_flight;
        let group_len = order[group_start..]
            .iter()
            .take_while(|&&i| candidates[i].in_flight == load)
            .count();
        order[group_start..group_start + group_len].rotate_left(turn % group_len);
        group_start += group_len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(name: &str, in_flight: u64) -> Candidate<'_> {
        Candidate {
            in_flight,
            ..Candidate::new(name)
        }
    }

    fn order(rotation: &Rotation, candidates: &[Candidate<'_>]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        arrange(rotation, candidates, &mut order);
        order
    }

    #[test]
    fn fewest_in_flight_first() {
        let rotation = Rotation::default();
        let candidates = [
            loaded("a", 7),
            loaded("b", 2),
            loaded("c", 0),
            loaded("d", 5),
        ];
        for _ in 0..4 {
            assert_eq!(order(&rotation, &candidates), [2, 1, 3, 0]);
        }
    }

    #[test]
    fn equal_loads_take_turns() {
        let rotation = Rotation::default();
        let candidates = [
            loaded("a", 1),
            loaded("b", 9),
            loaded("c", 1),
            loaded("d", 1),
        ];
        let orders: Vec<Vec<usize>> = (0..4).map(|_| order(&rotation, &candidates)).collect();
        assert_eq!(
            orders,
            [[0, 2, 3, 1], [2, 3, 0, 1], [3, 0, 2, 1], [0, 2, 3, 1]]
        );
    }

    #[test]
    fn zero_and_one_candidate() {
        let rotation = Rotation::default();
        assert!(order(&rotation, &[]).is_empty());
        assert_eq!(order(&rotation, &[loaded("a", 3)]), [0]);
    }
}
