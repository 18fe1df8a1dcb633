//! Building providers from configuration.

use std::sync::Arc;

use relay_config::{ProviderConfig, ProviderType};

use crate::anthropic_compatible::{AnthropicCompatible, Flavor};
use crate::azure::Azure;
use crate::bedrock::Bedrock;
use crate::error::ProviderError;
use crate::openai::OpenAi;
use crate::provider::Provider;
use crate::vertex::Vertex;

/// Builds the provider a `providers[]` entry describes. Cloud providers read
/// their credentials now (from the configuration, the environment and the
/// usual files), so a missing or unreadable one fails the configuration with
/// a message saying what to set, rather than every request later.
pub fn build_provider(config: &ProviderConfig) -> Result<Arc<dyn Provider>, ProviderError> {
    let flavor = match config.kind {
        ProviderType::Anthropic => Flavor::Anthropic,
        ProviderType::Zai => Flavor::Zai,
        ProviderType::Minimax => Flavor::Minimax,
        ProviderType::Ollama => Flavor::Ollama,
        ProviderType::Bedrock => return Ok(Arc::new(Bedrock::new(config)?)),
        ProviderType::Vertex => return Ok(Arc::new(Vertex::new(config)?)),
        ProviderType::Azure => return Ok(Arc::new(Azure::new(config)?)),
        ProviderType::Openai => return Ok(Arc::new(OpenAi::new(config)?)),
    };
    let provider = AnthropicCompatible::new(flavor, config);
    // Validate the URL now, so a bad base_url fails the configuration, not a request.
    crate::provider::join_uri(provider.name(), provider.base_url(), "/v1/messages")?;
    Ok(Arc::new(provider))
}
