//! The per-request metrics of one route (provider, key, model), resolved
//! once and kept.
//!
//! A `Family::get_or_create` hashes and compares every label string and
//! takes the family's lock; a finished request touched seven families that
//! way (7k instructions, callgrind). prometheus-client's counters and
//! histograms are handles onto shared storage, so the ones a route uses are
//! looked up on its first request and cloned into this cache; later requests
//! pay one lookup. A route's duration, time-to-first-token, overhead and token
//! series therefore exist (at zero) from its first request on, whether or not
//! that request streamed or reported usage. Nothing here is ever removed:
//! the label values are bounded by the configuration (see
//! [`super::labels`]), and the families these handles belong to are never
//! cleared.

use std::sync::{Arc, Mutex, PoisonError};

use dashmap::DashMap;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

/// The labels a route's handles are cached under.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(super) struct RouteKey {
    pub provider: Arc<str>,
    pub key_id: String,
    pub model: String,
}

/// Token kinds, in the order of [`RouteMetrics::tokens`].
pub(super) const TOKEN_KINDS: [&str; 4] = ["input", "output", "cache_read", "cache_creation"];

/// Handles onto one route's series.
#[derive(Debug)]
pub(super) struct RouteMetrics {
    labels: RouteKey,
    pub duration: Histogram,
    pub ttft: Histogram,
    pub overhead: Histogram,
    pub tokens: [Counter; 4],
    /// `cc_relay_requests_total` by (status, outcome): a handful per route,
    /// so a short list beats a map.
    requests: Mutex<Vec<(u16, &'static str, Counter)>>,
}

impl RouteMetrics {
    pub fn new(
        labels: RouteKey,
        duration: Histogram,
        ttft: Histogram,
        overhead: Histogram,
        tokens: [Counter; 4],
    ) -> Self {
        Self {
            labels,
            duration,
            ttft,
            overhead,
            tokens,
            requests: Mutex::default(),
        }
    }

    pub fn labels(&self) -> &RouteKey {
        &self.labels
    }

    /// The request counter for `status` and `outcome`; `create` looks it up
    /// in its family the first time.
    pub fn requests(
        &self,
        status: u16,
        outcome: &'static str,
        create: impl FnOnce() -> Counter,
    ) -> Counter {
        let mut known = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, counter)) = known.iter().find(|(s, o, _)| *s == status && *o == outcome)
        {
            return counter.clone();
        }
        let counter = create();
        known.push((status, outcome, counter.clone()));
        counter
    }
}

/// Route handles by route.
#[derive(Debug, Default)]
pub(super) struct RouteCache {
    routes: DashMap<RouteKey, Arc<RouteMetrics>>,
}

impl RouteCache {
    /// The route's handles; `create` resolves them the first time.
    pub fn get(
        &self,
        key: RouteKey,
        create: impl FnOnce(&RouteKey) -> RouteMetrics,
    ) -> Arc<RouteMetrics> {
        if let Some(found) = self.routes.get(&key) {
            return Arc::clone(&found);
        }
        let created = Arc::new(create(&key));
        Arc::clone(self.routes.entry(key).or_insert(created).value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(model: &str) -> RouteKey {
        RouteKey {
            provider: Arc::from("primary"),
            key_id: "k1".to_owned(),
            model: model.to_owned(),
        }
    }

    fn metrics() -> RouteMetrics {
        RouteMetrics::new(
            route("a"),
            Histogram::new([1.0]),
            Histogram::new([1.0]),
            Histogram::new([1.0]),
            Default::default(),
        )
    }

    #[test]
    fn a_route_is_resolved_once_and_its_handles_share_storage() {
        let cache = RouteCache::default();
        let mut created = 0;
        let first = cache.get(route("a"), |_| {
            created += 1;
            metrics()
        });
        let again = cache.get(route("a"), |_| {
            created += 1;
            metrics()
        });
        assert_eq!(created, 1);
        assert!(Arc::ptr_eq(&first, &again));
        cache.get(route("b"), |_| {
            created += 1;
            metrics()
        });
        assert_eq!(created, 2);
    }

    #[test]
    fn request_counters_are_kept_per_status_and_outcome() {
        let route = metrics();
        let family_counter = Counter::default();
        let mut looked_up = 0;
        for _ in 0..3 {
            route
                .requests(200, "complete", || {
                    looked_up += 1;
                    family_counter.clone()
                })
                .inc();
        }
        assert_eq!(looked_up, 1);
        assert_eq!(family_counter.get(), 3);
        route.requests(200, "aborted", Counter::default).inc();
        route.requests(529, "complete", Counter::default).inc();
        assert_eq!(family_counter.get(), 3);
    }
}
