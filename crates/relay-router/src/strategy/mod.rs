//! Provider selection strategies: the order in which a request tries providers.
//!
//! A [`Selector`] is built once per configuration and orders a request's
//! [`Candidate`]s: the result is every candidate index, the first being the
//! choice and the rest the failover order. It is pure and fast: no I/O, no
//! clock, and per-strategy state (rotation counters, smooth-WRR weights, the
//! shuffle deck) in atomics or a mutex held only for O(n) arithmetic.
//!
//! The caller passes only the providers it may use now (enabled, circuit not
//! open), in configuration order, so ties that "keep configuration order" keep
//! the slice order. The list may change from one request to the next; every
//! strategy copes, and the stateful ones keep their state per provider name.
//!
//! Rules shared by every strategy:
//! - Weight 0 means standby: such candidates come after every candidate with
//!   a positive weight, among themselves by priority (highest first). When all
//!   weights are 0, all candidates are ordered by the strategy as if their
//!   weights were equal.
//! - Zero and one candidate are valid inputs.
//!
//! The strategies, one file each: `failover`, `round_robin`,
//! `weighted_round_robin`, `shuffle`, `least_loaded`, `weighted_failover`,
//! `model_based`, `latency_based`, `cost_based`.

mod cost_based;
mod failover;
mod latency_based;
mod least_loaded;
mod model_based;
mod provider_index;
mod round_robin;
mod shuffle;
#[cfg(test)]
mod tests;
mod weighted_failover;
mod weighted_round_robin;

use std::time::Duration;

use relay_config::{RoutingConfig, RoutingStrategy};

use model_based::ModelRoutes;
use provider_index::ProviderIndex;
use round_robin::Rotation;
use shuffle::Deck;
use weighted_round_robin::SmoothWeights;

/// What a strategy knows about one provider for this request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate<'a> {
    pub name: &'a str,
    /// Higher first (`failover`, and ties elsewhere).
    pub priority: u32,
    /// Share for the weighted strategies; 0 = standby (see the module docs).
    pub weight: u32,
    /// Requests in flight to this provider now.
    pub in_flight: u64,
    /// Peak-EWMA latency estimate; `None` = not measured (recently).
    pub latency: Option<Duration>,
    /// (input, output) US dollars per million tokens for this request's model.
    pub cost: Option<(f64, f64)>,
}

impl<'a> Candidate<'a> {
    /// A candidate with priority 1, weight 1, idle, unmeasured, with no price:
    /// the configuration's defaults.
    pub fn new(name: &'a str) -> Self {
        Self {
            name,
            priority: 1,
            weight: 1,
            in_flight: 0,
            latency: None,
            cost: None,
        }
    }
}

/// Orders candidates under one configuration's routing strategy.
#[derive(Debug)]
pub struct Selector {
    strategy: RoutingStrategy,
    state: State,
}

/// Each strategy's own state.
#[derive(Debug)]
enum State {
    Failover,
    RoundRobin(Rotation),
    WeightedRoundRobin(SmoothWeights),
    Shuffle(Deck),
    LeastLoaded(Rotation),
    WeightedFailover,
    ModelBased(ModelRoutes),
    LatencyBased,
    CostBased,
}

impl Selector {
    /// A selector for `strategy` over the configuration's providers (names in
    /// configuration order; candidates are matched to them by name).
    pub fn new(
        strategy: RoutingStrategy,
        routing: &RoutingConfig,
        provider_names: &[String],
    ) -> Self {
        let state = match strategy {
            RoutingStrategy::Failover => State::Failover,
            RoutingStrategy::RoundRobin => State::RoundRobin(Rotation::default()),
            RoutingStrategy::WeightedRoundRobin => {
                State::WeightedRoundRobin(SmoothWeights::new(ProviderIndex::new(provider_names)))
            }
            RoutingStrategy::Shuffle => {
                State::Shuffle(Deck::new(ProviderIndex::new(provider_names)))
            }
            RoutingStrategy::LeastLoaded => State::LeastLoaded(Rotation::default()),
            RoutingStrategy::WeightedFailover => State::WeightedFailover,
            RoutingStrategy::ModelBased => State::ModelBased(ModelRoutes::new(routing)),
            RoutingStrategy::LatencyBased => State::LatencyBased,
            RoutingStrategy::CostBased => State::CostBased,
        };
        Self { strategy, state }
    }

    pub fn strategy(&self) -> RoutingStrategy {
        self.strategy
    }

    /// Every candidate index, best first, for a request for `model`.
    pub fn order(&self, candidates: &[Candidate<'_>], model: &str) -> Vec<usize> {
        let mut order = Vec::with_capacity(candidates.len());
        self.order_into(candidates, model, &mut order);
        order
    }

    /// [`order`](Self::order) into a caller's buffer (cleared first), so a hot
    /// path can reuse one allocation.
    pub fn order_into(&self, candidates: &[Candidate<'_>], model: &str, order: &mut Vec<usize>) {
        order.clear();
        order.extend((0..candidates.len()).filter(|&i| candidates[i].weight > 0));
        let active = if order.is_empty() {
            order.extend(0..candidates.len());
            candidates.len()
        } else {
            let active = order.len();
            order.extend((0..candidates.len()).filter(|&i| candidates[i].weight == 0));
            active
        };
        let (active, standby) = order.split_at_mut(active);
        self.arrange(candidates, active, model);
        failover::arrange(candidates, standby);
    }

    fn arrange(&self, candidates: &[Candidate<'_>], order: &mut [usize], model: &str) {
        match &self.state {
            State::Failover => failover::arrange(candidates, order),
            State::RoundRobin(rotation) => rotation.arrange(order),
            State::WeightedRoundRobin(weights) => weights.arrange(candidates, order),
            State::Shuffle(deck) => deck.arrange(candidates, order, &mut rand::rng()),
            State::LeastLoaded(rotation) => least_loaded::arrange(rotation, candidates, order),
            State::WeightedFailover => {
                weighted_failover::arrange(candidates, order, &mut rand::rng());
            }
            State::ModelBased(routes) => routes.arrange(candidates, order, model),
            State::LatencyBased => latency_based::arrange(candidates, order, &mut rand::rng()),
            State::CostBased => cost_based::arrange(candidates, order),
        }
    }
}

/// A candidate's share for the weighted strategies. Standbys (weight 0) only
/// reach a strategy when every candidate is a standby, and then count as equals.
fn share(candidate: &Candidate<'_>) -> u64 {
    u64::from(candidate.weight.max(1))
}
