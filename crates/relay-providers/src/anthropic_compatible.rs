//! Backends that speak the Anthropic Messages API natively: Anthropic itself,
//! Z.AI, MiniMax and Ollama. They differ only in defaults and in how a key is sent.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, Request};
use relay_config::{ProviderConfig, ProviderType};

use crate::error::ProviderError;
use crate::provider::{BoxFuture, Credential, Provider, default_credential, set_secret_header};

/// Which Anthropic-compatible backend, and so which defaults apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Anthropic,
    Zai,
    Minimax,
    Ollama,
}

impl Flavor {
    fn default_base_url(self) -> &'static str {
        match self {
            Self::Anthropic => "https://api.anthropic.com",
            Self::Zai => "https://api.z.ai/api/anthropic",
            Self::Minimax => "https://api.minimax.io/anthropic",
            Self::Ollama => "http://localhost:11434",
        }
    }

    fn owner(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::Zai => "zhipu-ai",
            Self::Minimax => "minimax",
            Self::Ollama => "ollama",
        }
    }

    fn kind(self) -> ProviderType {
        match self {
            Self::Anthropic => ProviderType::Anthropic,
            Self::Zai => ProviderType::Zai,
            Self::Minimax => ProviderType::Minimax,
            Self::Ollama => ProviderType::Ollama,
        }
    }
}

/// A provider for an Anthropic-compatible backend.
#[derive(Debug)]
pub struct AnthropicCompatible {
    flavor: Flavor,
    name: String,
    base_url: String,
    models: Vec<String>,
    model_mapping: BTreeMap<String, String>,
    has_keys: bool,
}

impl AnthropicCompatible {
    pub fn new(flavor: Flavor, config: &ProviderConfig) -> Self {
        let base_url = config
            .base_url
            .as_deref()
            .filter(|url| !url.is_empty())
            .unwrap_or(flavor.default_base_url())
            .trim_end_matches('/')
            .to_owned();
        Self {
            flavor,
            name: config.name.clone(),
            base_url,
            models: config.models.clone(),
            model_mapping: config.model_mapping.clone(),
            has_keys: !config.keys.is_empty(),
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }
}

impl Provider for AnthropicCompatible {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ProviderType {
        self.flavor.kind()
    }

    fn owner(&self) -> &'static str {
        self.flavor.owner()
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn models(&self) -> &[String] {
        &self.models
    }

    fn model_mapping(&self) -> &BTreeMap<String, String> {
        &self.model_mapping
    }

    fn has_keys(&self) -> bool {
        self.has_keys
    }

    fn passthrough_client_credentials(&self) -> bool {
        self.flavor == Flavor::Anthropic
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a mut Request<Bytes>,
        credential: Credential<'a>,
        client_headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        match (self.flavor, credential) {
            // Z.AI, MiniMax and Ollama document bearer tokens for their Anthropic endpoints.
            (Flavor::Zai | Flavor::Minimax | Flavor::Ollama, Credential::Key(key)) => {
                let value = format!("Bearer {}", key.expose());
                let result = set_secret_header(&self.name, request, "authorization", &value);
                Box::pin(std::future::ready(result))
            }
            _ => Box::pin(std::future::ready(default_credential(
                &self.name,
                request,
                credential,
                client_headers,
            ))),
        }
    }
}
