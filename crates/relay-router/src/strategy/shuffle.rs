//! `shuffle` (Go: `simple-shuffle`): a shuffled deck of the configured
//! providers is dealt one card per request, and reshuffled once spent, so
//! every provider comes first exactly once per deck while the order between
//! decks is random. The rest of the order follows the deck from the dealt
//! card on (wrapping around).
//!
//! A dealt card whose provider is not among this request's candidates
//! (unavailable) is discarded and the next one dealt: that provider misses its
//! turn in this deck. Names the selector was not built with come last.

use std::sync::{Mutex, PoisonError};

use rand::Rng;
use rand::seq::SliceRandom;

use super::Candidate;
use super::provider_index::ProviderIndex;

#[derive(Debug)]
pub(super) struct Deck {
    providers: ProviderIndex,
    cards: Mutex<Cards>,
}

#[derive(Debug)]
struct Cards {
    /// Provider positions in dealing order.
    order: Vec<usize>,
    /// Where each provider's card is in `order`.
    place: Vec<usize>,
    /// The next card to deal; `order.len()` means spent.
    next: usize,
}

impl Cards {
    fn deal<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Option<(usize, usize)> {
        if self.order.is_empty() {
            return None;
        }
        if self.next >= self.order.len() {
            self.order.shuffle(rng);
            for (place, &provider) in self.order.iter().enumerate() {
                if let Some(slot) = self.place.get_mut(provider) {
                    *slot = place;
                }
            }
            self.next = 0;
        }
        let place = self.next;
        self.next += 1;
        self.order.get(place).map(|&provider| (provider, place))
    }
}

impl Deck {
    /// A deck that is shuffled on its first deal.
    pub(super) fn new(providers: ProviderIndex) -> Self {
        let count = providers.len();
        let cards = Cards {
            order: (0..count).collect(),
            place: (0..count).collect(),
            next: count,
        };
        Self {
            providers,
            cards: Mutex::new(cards),
        }
    }

    pub(super) fn arrange<R: Rng + ?Sized>(
        &self,
        candidates: &[Candidate<'_>],
        order: &mut [usize],
        rng: &mut R,
    ) {
        if order.len() < 2 {
            return;
        }
        let mut hint = 0;
        let providers: Vec<Option<usize>> = order
            .iter()
            .map(|&i| {
                let provider = self.providers.position_near(candidates[i].name, hint);
                hint = provider.map_or(hint, |provider| provider + 1);
                provider
            })
            .collect();
        let mut keyed: Vec<(usize, usize)> = {
            // Dealing cannot panic half-way, so a poisoned lock is consistent.
            let mut cards = self.cards.lock().unwrap_or_else(PoisonError::into_inner);
            let deck_size = cards.order.len();
            // Within two decks' worth of cards a candidate's card is dealt.
            let dealt = (0..2 * deck_size)
                .filter_map(|_| cards.deal(rng))
                .find(|(provider, _)| providers.contains(&Some(*provider)));
            let Some((_, dealt_place)) = dealt else {
                return;
            };
            providers
                .iter()
                .zip(order.iter())
                .map(|(provider, &i)| {
                    let distance = provider
                        .and_then(|provider| cards.place.get(provider))
                        .map_or(usize::MAX, |&place| {
                            (place + deck_size - dealt_place) % deck_size
                        });
                    (distance, i)
                })
                .collect()
        };
        keyed.sort_unstable();
        for (slot, (_, i)) in order.iter_mut().zip(keyed) {
            *slot = i;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    const NAMES: [&str; 4] = ["a", "b", "c", "d"];

    fn deck() -> Deck {
        let names: Vec<String> = NAMES.iter().map(|name| (*name).to_owned()).collect();
        Deck::new(ProviderIndex::new(&names))
    }

    fn order(deck: &Deck, candidates: &[Candidate<'_>], rng: &mut StdRng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        deck.arrange(candidates, &mut order, rng);
        order
    }

    fn all() -> Vec<Candidate<'static>> {
        NAMES.iter().map(|name| Candidate::new(name)).collect()
    }

    #[test]
    fn every_provider_comes_first_exactly_once_per_deck() {
        let deck = deck();
        let mut rng = StdRng::seed_from_u64(7);
        let mut decks = Vec::new();
        for _ in 0..50 {
            let mut firsts: Vec<usize> =
                (0..4).map(|_| order(&deck, &all(), &mut rng)[0]).collect();
            decks.push(firsts.clone());
            firsts.sort_unstable();
            assert_eq!(firsts, [0, 1, 2, 3]);
        }
        decks.dedup();
        assert!(decks.len() > 10, "decks are reshuffled: {decks:?}");
    }

    #[test]
    fn the_rest_follows_the_deck() {
        let deck = deck();
        let mut rng = StdRng::seed_from_u64(3);
        let first = order(&deck, &all(), &mut rng);
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3]);
        // The next request starts one card further along the same deck.
        let second = order(&deck, &all(), &mut rng);
        assert_eq!(second, [&first[1..], &first[..1]].concat());
    }

    #[test]
    fn first_picks_are_uniform() {
        let deck = deck();
        let mut rng = StdRng::seed_from_u64(11);
        let mut counts = [0u32; 4];
        for _ in 0..4_000 {
            counts[order(&deck, &all(), &mut rng)[0]] += 1;
        }
        assert_eq!(counts, [1_000; 4]);
    }

    #[test]
    fn unavailable_providers_are_skipped() {
        let deck = deck();
        let mut rng = StdRng::seed_from_u64(5);
        let available = [Candidate::new("b"), Candidate::new("d")];
        let mut counts = [0u32; 2];
        for _ in 0..1_000 {
            let picked = order(&deck, &available, &mut rng);
            assert_eq!(picked.len(), 2);
            counts[picked[0]] += 1;
        }
        assert!(
            counts.iter().all(|&count| (400..=600).contains(&count)),
            "{counts:?}"
        );
    }

    #[test]
    fn unknown_names_come_last() {
        let deck = deck();
        let mut rng = StdRng::seed_from_u64(1);
        let candidates = [
            Candidate::new("zz"),
            Candidate::new("a"),
            Candidate::new("c"),
        ];
        for _ in 0..20 {
            assert_eq!(order(&deck, &candidates, &mut rng)[2], 0);
        }
        let strangers = [Candidate::new("x"), Candidate::new("y")];
        assert_eq!(order(&deck, &strangers, &mut rng), [0, 1]);
    }

    #[test]
    fn zero_and_one_candidate() {
        let deck = deck();
        let mut rng = StdRng::seed_from_u64(1);
        assert!(order(&deck, &[], &mut rng).is_empty());
        assert_eq!(order(&deck, &[Candidate::new("c")], &mut rng), [0]);
    }
}
