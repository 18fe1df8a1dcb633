//! The router: the configured targets and the selection strategy.

use relay_config::{Config, RoutingStrategy};
use relay_core::{ApiError, Secret};

use crate::plan::{Attempt, Plan};

/// What the router needs to know about a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct RouteRequest<'a> {
    /// The model the client asked for.
    pub model: &'a str,
}

/// A provider the router may choose, in configuration order.
#[derive(Clone, Debug)]
pub struct Target {
    /// Position in the configuration's `providers` list.
    pub index: usize,
    pub name: String,
    pub keys: Vec<Secret>,
}

/// Why no attempt can be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no enabled provider is configured")]
    NoProvider,
}

impl From<RouteError> for ApiError {
    fn from(err: RouteError) -> Self {
        ApiError::overloaded(err.to_string())
    }
}

/// Routes requests across the enabled providers of one configuration.
#[derive(Debug)]
pub struct Router {
    strategy: RoutingStrategy,
    targets: Vec<Target>,
}

impl Router {
    /// The router for a configuration's enabled providers.
    pub fn from_config(config: &Config) -> Self {
        let targets = config
            .providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.enabled)
            .map(|(index, p)| Target {
                index,
                name: p.name.clone(),
                keys: p
                    .keys
                    .iter()
                    .map(|k| k.key.clone())
                    .filter(|k| !k.is_empty())
                    .collect(),
            })
            .collect();
        Self {
            strategy: config.routing.strategy,
            targets,
        }
    }

    /// The configured strategy.
    pub fn strategy(&self) -> RoutingStrategy {
        self.strategy
    }

    /// The enabled targets, in configuration order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The attempts to make for a request, best first.
    pub fn plan(&self, _request: &RouteRequest<'_>) -> Result<Plan, RouteError> {
        let first = self.targets.first().ok_or(RouteError::NoProvider)?;
        let attempt = Attempt {
            provider_index: first.index,
            provider: first.name.clone(),
            key: first.keys.first().cloned(),
        };
        Ok(Plan::new(vec![attempt]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_config::{KeyConfig, ProviderConfig};

    fn provider(name: &str, enabled: bool, key: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            name: name.into(),
            enabled,
            keys: key
                .map(|k| KeyConfig {
                    key: Secret::new(k),
                    ..KeyConfig::default()
                })
                .into_iter()
                .collect(),
            ..ProviderConfig::default()
        }
    }

    #[test]
    fn plans_the_first_enabled_provider_with_its_first_key() {
        let config = Config {
            providers: vec![
                provider("off", false, None),
                provider("a", true, Some("k1")),
                provider("b", true, None),
            ],
            ..Config::default()
        };
        let router = Router::from_config(&config);
        let mut plan = router.plan(&RouteRequest { model: "m" }).unwrap();
        let attempt = plan.next().unwrap();
        assert_eq!(attempt.provider, "a");
        assert_eq!(attempt.provider_index, 1);
        assert_eq!(attempt.key.as_ref().map(Secret::expose), Some("k1"));
    }

    #[test]
    fn no_enabled_provider_is_an_error() {
        let config = Config {
            providers: vec![provider("off", false, None)],
            ..Config::default()
        };
        let router = Router::from_config(&config);
        assert_eq!(
            router.plan(&RouteRequest { model: "m" }).unwrap_err(),
            RouteError::NoProvider
        );
    }
}
