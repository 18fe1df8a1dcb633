//! Backends that speak the Anthropic Messages API natively: Anthropic itself,
//! Z.AI, MiniMax and Ollama. They differ only in defaults and in how a key is sent.

use bytes::Bytes;
use http::{HeaderMap, Request};
use relay_config::{ProviderConfig, ProviderType};

use crate::error::ProviderError;
use crate::provider::{
    BoxFuture, Credential, Provider, ProviderInfo, default_credential, set_secret_header,
};

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
    info: ProviderInfo,
}

impl AnthropicCompatible {
    pub fn new(flavor: Flavor, config: &ProviderConfig) -> Self {
        let base_url = config
            .base_url
            .as_deref()
            .filter(|url| !url.is_empty())
            .unwrap_or(flavor.default_base_url());
        Self {
            flavor,
            info: ProviderInfo::from_config(config, base_url),
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }
}

impl Provider for AnthropicCompatible {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn kind(&self) -> ProviderType {
        self.flavor.kind()
    }

    fn owner(&self) -> &'static str {
        self.flavor.owner()
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
                let result = set_secret_header(&self.info.name, request, "authorization", &value);
                Box::pin(std::future::ready(result))
            }
            _ => Box::pin(std::future::ready(default_credential(
                &self.info.name,
                request,
                credential,
                client_headers,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientRequest, Endpoint, prepare_request};
    use http::HeaderValue;
    use relay_config::KeyConfig;
    use relay_core::{Secret, inspect_request};

    fn config(kind: ProviderType, base_url: Option<&str>) -> ProviderConfig {
        ProviderConfig {
            name: "p".into(),
            kind,
            base_url: base_url.map(Into::into),
            keys: vec![KeyConfig {
                key: Secret::new("sk-pool"),
                ..KeyConfig::default()
            }],
            model_mapping: [("claude-sonnet-4-5".to_owned(), "glm-4.6".to_owned())].into(),
            ..ProviderConfig::default()
        }
    }

    fn client_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-api-key", "client-key"),
            ("authorization", "Bearer client-token"),
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "interleaved-thinking-2025-05-14"),
            ("connection", "keep-alive"),
            ("host", "127.0.0.1:8787"),
            ("content-length", "10"),
            ("accept-encoding", "gzip"),
            ("x-cc-relay-debug", "1"),
            ("x-claude-code-session-id", "abc"),
        ] {
            headers.insert(
                http::HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers
    }

    async fn prepare(
        flavor: Flavor,
        base_url: Option<&str>,
        credential: Credential<'_>,
    ) -> Request<Bytes> {
        let provider = AnthropicCompatible::new(flavor, &config(flavor.kind(), base_url));
        let body = Bytes::from_static(br#"{"model":"claude-sonnet-4-5","messages":[]}"#);
        let summary = inspect_request(&body).unwrap();
        let headers = client_headers();
        let client = ClientRequest {
            endpoint: Endpoint::Messages,
            path_and_query: "/v1/messages?beta=true",
            headers: &headers,
            body: &body,
            summary: &summary,
        };
        prepare_request(&provider, &client, credential)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn urls_keep_the_base_path_and_the_client_query() {
        let request = prepare(Flavor::Zai, None, Credential::None).await;
        assert_eq!(
            request.uri(),
            "https://api.z.ai/api/anthropic/v1/messages?beta=true"
        );
        let request = prepare(
            Flavor::Anthropic,
            Some("http://127.0.0.1:9/prefix/"),
            Credential::None,
        )
        .await;
        assert_eq!(
            request.uri(),
            "http://127.0.0.1:9/prefix/v1/messages?beta=true"
        );
    }

    #[tokio::test]
    async fn only_end_to_end_headers_travel_and_client_credentials_never_do() {
        let key = Secret::new("sk-pool");
        let request = prepare(Flavor::Anthropic, None, Credential::Key(&key)).await;
        let headers = request.headers();
        assert_eq!(headers["anthropic-version"], "2023-06-01");
        assert_eq!(headers["anthropic-beta"], "interleaved-thinking-2025-05-14");
        assert_eq!(headers["x-claude-code-session-id"], "abc");
        for dropped in [
            "connection",
            "host",
            "content-length",
            "accept-encoding",
            "x-cc-relay-debug",
            "authorization",
        ] {
            assert!(
                !headers.contains_key(dropped),
                "{dropped} must not be forwarded"
            );
        }
        assert_eq!(headers["x-api-key"], "sk-pool");
        assert!(
            headers["x-api-key"].is_sensitive(),
            "keys are never HPACK-indexed"
        );
    }

    #[tokio::test]
    async fn bearer_backends_get_the_key_as_a_bearer_token() {
        let key = Secret::new("sk-pool");
        for flavor in [Flavor::Zai, Flavor::Minimax, Flavor::Ollama] {
            let request = prepare(flavor, None, Credential::Key(&key)).await;
            assert_eq!(
                request.headers()["authorization"],
                "Bearer sk-pool",
                "{flavor:?}"
            );
            assert!(!request.headers().contains_key("x-api-key"), "{flavor:?}");
        }
    }

    #[tokio::test]
    async fn transparent_mode_copies_the_clients_own_credentials() {
        let request = prepare(Flavor::Anthropic, None, Credential::ClientOwn).await;
        assert_eq!(request.headers()["x-api-key"], "client-key");
        assert_eq!(request.headers()["authorization"], "Bearer client-token");
        let provider = AnthropicCompatible::new(Flavor::Zai, &config(ProviderType::Zai, None));
        assert!(
            !provider.passthrough_client_credentials(),
            "only Anthropic may see a client's Anthropic key"
        );
    }

    #[tokio::test]
    async fn the_mapping_rewrites_only_the_model() {
        let request = prepare(Flavor::Zai, None, Credential::None).await;
        assert_eq!(
            request.body().as_ref(),
            br#"{"model":"glm-4.6","messages":[]}"#
        );
    }

    #[test]
    fn defaults_per_flavor() {
        let ollama = AnthropicCompatible::new(Flavor::Ollama, &config(ProviderType::Ollama, None));
        assert_eq!(ollama.base_url(), "http://localhost:11434");
        assert_eq!(ollama.owner(), "ollama");
        let minimax =
            AnthropicCompatible::new(Flavor::Minimax, &config(ProviderType::Minimax, None));
        assert_eq!(minimax.base_url(), "https://api.minimax.io/anthropic");
        assert_eq!(minimax.upstream_model("claude-sonnet-4-5"), "glm-4.6");
        assert_eq!(minimax.upstream_model("other"), "other");
    }
}
