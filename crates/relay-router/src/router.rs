//! The router for one configuration: its providers (targets), their key
//! pools and health, and the selection strategy.

use std::sync::Arc;
use std::time::Duration;

use relay_config::{Config, CostConfig, RoutingStrategy};
use relay_core::ApiError;
use tokio::time::Instant;

use crate::health::{BreakerSettings, CircuitState, ProviderHealth};
use crate::plan::Plan;
use crate::pool::{Estimate, KeyLimits, KeyPool, KeyState, PoolKey};
use crate::state::RouterState;
use crate::strategy::{Candidate, Selector};

/// What the router needs to know about a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct RouteRequest<'a> {
    /// The model the client asked for.
    pub model: &'a str,
    /// The conversation, for affinity: Claude Code's `x-claude-code-session-id`,
    /// or the session in `metadata.user_id`.
    pub session: Option<&'a str>,
    /// Tokens this request will use, for rate limits.
    pub estimate: Estimate,
}

/// A provider the router may choose.
#[derive(Debug)]
pub struct Target {
    /// Position in the configuration's `providers` list.
    pub index: usize,
    pub name: Arc<str>,
    pub priority: u32,
    pub weight: u32,
    pub cost: Option<CostConfig>,
    pub pool: KeyPool,
    pub health: Arc<ProviderHealth>,
}

/// Why no attempt can be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no enabled provider is configured")]
    NoProvider,
    #[error("every provider's circuit is open; the earliest may be retried in {retry_after:?}")]
    AllUnhealthy { retry_after: Duration },
    #[error("every key of every eligible provider is rate limited; retry in {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("the failover budget ran out")]
    BudgetExhausted,
}

impl From<&RouteError> for ApiError {
    fn from(err: &RouteError) -> Self {
        match err {
            RouteError::RateLimited { .. } => ApiError::rate_limited(err.to_string()),
            RouteError::NoProvider
            | RouteError::AllUnhealthy { .. }
            | RouteError::BudgetExhausted => ApiError::overloaded(err.to_string()),
        }
    }
}

impl RouteError {
    /// The `retry-after` to suggest to the client, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::AllUnhealthy { retry_after } => {
                Some(*retry_after)
            }
            Self::NoProvider | Self::BudgetExhausted => None,
        }
    }
}

/// Routes requests across the enabled providers of one configuration.
#[derive(Debug)]
pub struct Router {
    pub(crate) strategy: RoutingStrategy,
    pub(crate) selector: Selector,
    pub(crate) targets: Vec<Target>,
    pub(crate) state: Arc<RouterState>,
    pub(crate) failover_timeout: Duration,
    pub(crate) max_attempts: usize,
    pub(crate) affinity: bool,
    pub(crate) debug: bool,
    /// What [`Router::activate`] applies to the shared state.
    settings: Settings,
}

/// A configuration's settings for the state routers share.
#[derive(Debug)]
struct Settings {
    breaker: BreakerSettings,
    /// Every pool key's configured limits, in target then pool order.
    key_limits: Vec<KeyLimits>,
    affinity: relay_config::AffinityConfig,
}

impl Router {
    /// The router for a configuration's enabled providers, sharing `state`
    /// (key usage, circuits, affinity) with the routers before it.
    ///
    /// Building a router only reads `state`: it reuses the health and key
    /// state already there and makes new ones for providers and keys that
    /// are new, without recording them. So a router may be built and
    /// dropped (a reload that fails later) without changing anything;
    /// [`activate`](Self::activate) makes it the one `state` follows.
    pub fn new(config: &Config, state: Arc<RouterState>) -> Self {
        let breaker = BreakerSettings::from_config(&config.health.circuit_breaker);
        let now = tokio::time::Instant::now();
        let mut key_limits = Vec::new();
        let targets: Vec<Target> = config
            .providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.enabled)
            .map(|(index, p)| {
                let keys = p
                    .keys
                    .iter()
                    .filter(|k| !k.key.is_empty())
                    .map(|k| {
                        let id = k.key.short_id();
                        let limits = KeyLimits::from_config(k);
                        key_limits.push(limits);
                        let state = state.existing_key_state(&p.name, &id).unwrap_or_else(|| {
                            // A new key wakes the state sync on cooldowns and disables.
                            let key =
                                KeyState::new(limits, now).with_nudge(Arc::clone(&state.nudge));
                            Arc::new(key)
                        });
                        PoolKey {
                            secret: k.key.clone(),
                            id,
                            weight: k.weight.unwrap_or(1),
                            state,
                        }
                    })
                    .collect();
                Target {
                    index,
                    name: Arc::from(p.name.as_str()),
                    priority: p.effective_priority(),
                    weight: p.effective_weight(),
                    cost: p.cost.clone(),
                    pool: KeyPool::new(keys, p.pooling.strategy),
                    health: state.existing_provider_health(&p.name).unwrap_or_else(|| {
                        Arc::new(ProviderHealth::new(breaker).with_nudge(Arc::clone(&state.nudge)))
                    }),
                }
            })
            .collect();
        let provider_names: Vec<String> = targets.iter().map(|t| t.name.to_string()).collect();
        Self {
            strategy: config.routing.strategy,
            selector: Selector::new(config.routing.strategy, &config.routing, &provider_names),
            targets,
            state,
            failover_timeout: Duration::from_millis(config.routing.failover_timeout),
            max_attempts: config.routing.max_attempts,
            affinity: config.routing.affinity.enabled,
            debug: config.routing.debug,
            settings: Settings {
                breaker,
                key_limits,
                affinity: config.routing.affinity.clone(),
            },
        }
    }

    /// Makes this router's configuration the shared state's: its providers'
    /// and keys' state is recorded (with this configuration's breaker
    /// settings and key limits), providers and keys it no longer has are
    /// forgotten, and the affinity settings apply. Call it once, when the
    /// router starts serving (a reload's swap); it cannot fail. Reloads must
    /// not interleave their `new` and `activate`.
    pub fn activate(&self) {
        let mut limits = self.settings.key_limits.iter();
        let mut live_keys: Vec<(&str, &str)> = Vec::new();
        for target in &self.targets {
            self.state
                .adopt_provider_health(&target.name, &target.health, self.settings.breaker);
            for key in target.pool.keys() {
                let configured = limits.next().copied().unwrap_or_default();
                self.state
                    .adopt_key_state(&target.name, &key.id, &key.state, configured);
                live_keys.push((&target.name, &key.id));
            }
        }
        let names: Vec<&str> = self.targets.iter().map(|t| &*t.name).collect();
        self.state.retain(&names, &live_keys);
        self.state.configure_affinity(&self.settings.affinity);
    }

    /// The configured strategy.
    pub fn strategy(&self) -> RoutingStrategy {
        self.strategy
    }

    /// Whether responses should carry the `X-CC-Relay-*` routing headers.
    pub fn debug_headers(&self) -> bool {
        self.debug
    }

    /// The enabled providers, in configuration order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The target for a provider name.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| &*t.name == name)
    }

    /// The state shared across reloads.
    pub fn state(&self) -> &Arc<RouterState> {
        &self.state
    }

    /// Whether `provider` would take a request now: it is configured and
    /// enabled, no operator switched it off, and its circuit admits. Every
    /// listing that says "active" asks this.
    pub fn is_active(&self, provider: &str, now: Instant) -> bool {
        self.target(provider).is_some_and(|target| {
            !self.state.is_disabled(provider) && target.health.is_available(now)
        })
    }

    /// A provider's circuit, for listings.
    pub fn circuit(&self, name: &str, now: Instant) -> Option<CircuitState> {
        self.target(name).map(|t| t.health.state(now))
    }

    /// The attempts to make for a request, best first; they are produced one
    /// at a time, so each reserves capacity only when it is actually tried.
    pub fn plan(&self, request: &RouteRequest<'_>, now: Instant) -> Result<Plan<'_>, RouteError> {
        if self.targets.is_empty() {
            return Err(RouteError::NoProvider);
        }
        // The selector orders the providers that can serve now; the others go
        // last, where the plan skips them but learns when the first reopens.
        let (available, unavailable): (Vec<usize>, Vec<usize>) = (0..self.targets.len())
            .filter(|&i| !self.state.is_disabled(&self.targets[i].name))
            .partition(|&i| self.targets[i].health.is_available(now));
        let candidates: Vec<Candidate<'_>> = available
            .iter()
            .map(|&i| {
                let t = &self.targets[i];
                Candidate {
                    name: &t.name,
                    priority: t.priority,
                    weight: t.weight,
                    in_flight: t.health.in_flight(),
                    latency: t.health.latency_estimate(now),
                    cost: t.cost.as_ref().map(|c| c.prices_for(request.model)),
                }
            })
            .collect();
        let mut order: Vec<usize> = self
            .selector
            .order(&candidates, request.model)
            .into_iter()
            .map(|i| available[i])
            .collect();
        order.extend(unavailable);
        let sticky = if self.affinity {
            request.session.and_then(|s| self.state.affinity(s))
        } else {
            None
        };
        Ok(Plan::new(self, order, request, sticky, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outcome, Verdict};
    use http::HeaderMap;
    use relay_config::{KeyConfig, ProviderConfig};
    use relay_core::Secret;

    fn config(names: &[&str]) -> Config {
        let mut config = Config::default();
        config.health.circuit_breaker.failure_threshold = 1;
        config.providers = names
            .iter()
            .map(|name| ProviderConfig {
                name: (*name).into(),
                keys: vec![KeyConfig {
                    key: Secret::new(format!("sk-{name}")),
                    ..KeyConfig::default()
                }],
                ..ProviderConfig::default()
            })
            .collect();
        config
    }

    /// A router for `config` that is serving (built, then activated).
    fn active(config: &Config, state: &Arc<RouterState>) -> Router {
        let router = Router::new(config, Arc::clone(state));
        router.activate();
        router
    }

    #[tokio::test(start_paused = true)]
    async fn building_a_router_changes_no_shared_state() {
        let state = Arc::new(RouterState::new(&Default::default()));
        let router = active(&config(&["a", "b"]), &state);
        assert_eq!(serve(&router, None, 500), "a");
        // A reload that is prepared and then dropped (it failed later) must
        // not forget `a`'s open circuit, nor adopt `c`.
        drop(Router::new(&config(&["b", "c"]), Arc::clone(&state)));
        assert!(matches!(
            router.circuit("a", Instant::now()),
            Some(CircuitState::Open { .. })
        ));
        let again = Router::new(&config(&["a", "b"]), Arc::clone(&state));
        assert!(
            matches!(
                again.circuit("a", Instant::now()),
                Some(CircuitState::Open { .. })
            ),
            "the state of `a` was kept"
        );
        assert!(state.existing_provider_health("c").is_none());
    }

    fn request(session: Option<&str>) -> RouteRequest<'_> {
        RouteRequest {
            model: "m",
            session,
            estimate: Estimate {
                input_tokens: 10,
                max_output_tokens: 10,
            },
        }
    }

    /// Serves one request with `status`; returns the provider tried first.
    fn serve(router: &Router, session: Option<&str>, status: u16) -> String {
        let now = Instant::now();
        let mut plan = router.plan(&request(session), now).unwrap();
        let attempt = plan.next_attempt(now).unwrap();
        let provider = attempt.provider.to_string();
        let headers = HeaderMap::new();
        if let Verdict::Deliver(delivery) = plan.report(
            attempt,
            Outcome::Response {
                status,
                headers: &headers,
                error_body: None,
            },
            now,
        ) {
            delivery.finish(crate::DeliveryEnd::default());
        }
        provider
    }

    #[tokio::test(start_paused = true)]
    async fn an_operator_can_switch_a_provider_off_and_on() {
        let state = Arc::new(RouterState::new(&Default::default()));
        let router = active(&config(&["a", "b"]), &state);
        assert_eq!(serve(&router, None, 200), "a");
        state.set_disabled("a", true);
        assert_eq!(serve(&router, None, 200), "b");
        // The switch outlives a reload.
        let reloaded = active(&config(&["a", "b"]), &state);
        assert_eq!(serve(&reloaded, None, 200), "b");
        state.set_disabled("a", false);
        assert_eq!(serve(&reloaded, None, 200), "a");
    }

    #[tokio::test(start_paused = true)]
    async fn circuits_and_affinity_survive_a_reload() {
        let state = Arc::new(RouterState::new(&Default::default()));
        let router = active(&config(&["a", "b"]), &state);
        assert_eq!(serve(&router, None, 500), "a");
        assert!(
            router
                .circuit("a", Instant::now())
                .is_some_and(|c| matches!(c, CircuitState::Open { .. }))
        );
        // The session sticks to b, which served it.
        assert_eq!(serve(&router, Some("s1"), 200), "b");

        let reloaded = active(&config(&["a", "b", "c"]), &state);
        assert!(matches!(
            reloaded.circuit("a", Instant::now()),
            Some(CircuitState::Open { .. })
        ));
        assert_eq!(
            serve(&reloaded, Some("s1"), 200),
            "b",
            "affinity kept across the reload"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn removed_providers_forget_their_state() {
        let state = Arc::new(RouterState::new(&Default::default()));
        let router = active(&config(&["a", "b"]), &state);
        serve(&router, None, 500);
        let _without_a = active(&config(&["b"]), &state);
        let with_a_again = active(&config(&["a", "b"]), &state);
        assert_eq!(
            with_a_again.circuit("a", Instant::now()),
            Some(CircuitState::Closed)
        );
    }
}
