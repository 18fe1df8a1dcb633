//! One configuration made ready to serve: providers, router and auth chain.
//!
//! A [`Runtime`] is built completely before it is used ("prepare", which may
//! fail) and then published with one atomic swap ("swap", which cannot). Each
//! request loads one snapshot at its start and uses it to the end, so a
//! stream begun before a reload finishes on the providers it started with.

use std::sync::Arc;

use relay_auth::AuthChain;
use relay_config::Config;
use relay_providers::{Provider, ProviderError, build_provider};
use relay_router::{Router, RouterState};

/// A configuration, ready to serve requests.
#[derive(Debug)]
pub struct Runtime {
    pub config: Arc<Config>,
    /// Aligned with `config.providers`; `None` for a disabled provider.
    providers: Vec<Option<Arc<dyn Provider>>>,
    pub router: Router,
    pub auth: AuthChain,
}

/// Why a configuration could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl Runtime {
    /// Builds everything a configuration needs. Nothing is shared with the
    /// running relay yet, so a failure leaves it untouched.
    pub fn prepare(config: Config, router_state: &Arc<RouterState>) -> Result<Self, PrepareError> {
        let providers = config
            .providers
            .iter()
            .map(|p| p.enabled.then(|| build_provider(p)).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        let router = Router::new(&config, Arc::clone(router_state));
        let auth = AuthChain::from_config(&config.server.auth, config.server.api_key.as_ref());
        Ok(Self {
            config: Arc::new(config),
            providers,
            router,
            auth,
        })
    }

    /// The provider at a position of `config.providers`, if it is enabled.
    pub fn provider(&self, index: usize) -> Option<&Arc<dyn Provider>> {
        self.providers.get(index).and_then(Option::as_ref)
    }

    /// Every enabled provider, in configuration order.
    pub fn enabled_providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.iter().flatten()
    }
}
