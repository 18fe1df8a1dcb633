//! `round_robin`: each request starts one candidate further along; the rest
//! follow in rotated order. Also the tie-breaker of `least_loaded`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A shared request counter. It counts requests, not positions, so when the
/// candidate list shrinks or grows the rotation simply continues over the new
/// list.
#[derive(Debug, Default)]
pub(super) struct Rotation {
    next: AtomicUsize,
}

impl Rotation {
    pub(super) fn arrange(&self, order: &mut [usize]) {
        if order.len() < 2 {
            return;
        }
        let start = self.tick() % order.len();
        order.rotate_left(start);
    }

    /// This request's turn: 0, 1, 2, ... across all requests.
    pub(super) fn tick(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(rotation: &Rotation, len: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..len).collect();
        rotation.arrange(&mut order);
        order
    }

    #[test]
    fn cycles_exactly() {
        let rotation = Rotation::default();
        for _ in 0..3 {
            assert_eq!(next(&rotation, 3), [0, 1, 2]);
            assert_eq!(next(&rotation, 3), [1, 2, 0]);
            assert_eq!(next(&rotation, 3), [2, 0, 1]);
        }
    }

    #[test]
    fn every_candidate_starts_equally_often_while_the_list_changes() {
        let rotation = Rotation::default();
        let mut firsts = [0u32; 4];
        for _ in 0..12 {
            firsts[next(&rotation, 4)[0]] += 1;
            // A provider drops out and comes back between requests.
            let _ = next(&rotation, 3);
            let _ = next(&rotation, 3);
        }
        assert!(firsts.iter().all(|&count| count == 3), "{firsts:?}");
    }

    #[test]
    fn zero_and_one_candidate() {
        let rotation = Rotation::default();
        assert!(next(&rotation, 0).is_empty());
        assert_eq!(next(&rotation, 1), [0]);
    }
}
