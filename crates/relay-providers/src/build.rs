//! Building providers from configuration.

use std::sync::Arc;

use relay_config::{ProviderConfig, ProviderType};

use crate::anthropic_compatible::{AnthropicCompatible, Flavor};
use crate::error::ProviderError;
use crate::provider::Provider;

/// Builds the provider a `providers[]` entry describes.
pub fn build_provider(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
    let flavor = match config.kind {
        ProviderType::Anthropic => Flavor::Anthropic,
        ProviderType::Zai => Flavor::Zai,
        ProviderType::Minimax => Flavor::Minimax,
        ProviderType::Ollama => Flavor::Ollama,
        ProviderType::Bedrock | ProviderType::Vertex | ProviderType::Azure => {
            return Err(ProviderError::Config {
                provider: config.name.clone(),
                message: format!(
                    "type `{}` is not available in this build yet; see docs/providers.md",
                    config.kind.as_str()
                ),
            });
        }
    };
    let provider = AnthropicCompatible::new(flavor, config);
    // Validate the URL now, so a bad base_url fails the configuration, not a request.
    crate::provider::join_uri(provider.name(), provider.base_url(), "/v1/messages")?;
    Ok(Arc::new(provider))
}
