//! `providers:`: one entry per upstream, with its keys, key pool, prices and
//! the cloud providers' fields (see docs/providers.md).

use std::collections::BTreeMap;

use relay_core::Secret;
use serde::Deserialize;

use super::openai::OpenAiConfig;

/// One entry of `providers:`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProviderConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ProviderType,
    /// As in the Go cc-relay, a file must say `enabled: true`: omitted, the
    /// provider is off (the loader warns). `ProviderConfig::default()`, for
    /// configurations built in code, is enabled.
    #[serde(default)]
    pub enabled: bool,
    /// Overrides the type's default endpoint.
    pub base_url: Option<String>,
    /// Models this provider serves, as listed by `GET /v1/models`.
    pub models: Vec<String>,
    /// Client model name -> the name this provider knows it by. Keys may
    /// hold `*` wildcards (`claude-*haiku*`); an exact key beats a pattern,
    /// the most specific pattern (most literal characters) beats the others.
    pub model_mapping: BTreeMap<String, String>,
    /// Which `anthropic-beta` values reach this backend (header and body
    /// `anthropic_beta` alike): `["*"]` all, `[]` none. Unset: all, except on
    /// `bedrock` and `vertex`, which get a built-in allow-list.
    pub betas: Option<Vec<String>>,
    /// Top-level request fields removed before sending. Unset: none, except
    /// `context_management` on `bedrock` and `vertex` when the
    /// context-management beta is not forwarded to them.
    pub strip_fields: Option<Vec<String>>,
    pub keys: Vec<KeyConfig>,
    pub pooling: PoolingConfig,
    /// Provider preference for `failover` (higher first). Unset: the first key's, else 1.
    pub priority: Option<u32>,
    /// Share for weighted strategies. Unset: the first key's, else 1.
    pub weight: Option<u32>,
    /// Prices for `cost_based` routing.
    pub cost: Option<CostConfig>,

    // Cloud providers (see docs/providers.md).
    pub aws_region: Option<String>,
    pub aws_access_key_id: Option<Secret>,
    pub aws_secret_access_key: Option<Secret>,
    pub aws_session_token: Option<Secret>,
    /// `bedrock`: the profile to read from `~/.aws/credentials` and `~/.aws/config`
    /// when no static credentials are configured. Unset: `AWS_PROFILE`, else `default`.
    pub aws_profile: Option<String>,
    /// The older name of `betas`, still accepted (it was Bedrock's only).
    pub bedrock_betas: Option<Vec<String>>,
    pub gcp_project_id: Option<String>,
    pub gcp_region: Option<String>,
    /// `vertex`: a service-account or `authorized_user` JSON file. Unset:
    /// `GOOGLE_APPLICATION_CREDENTIALS`, then gcloud's application-default
    /// credentials, then the metadata server.
    pub gcp_credentials_file: Option<String>,
    pub azure_resource_name: Option<String>,
    pub azure_deployment_id: Option<String>,
    pub azure_api_version: Option<String>,
    /// `azure`: Microsoft Entra ID tenant for client-credentials tokens (used when
    /// the provider has no `keys`). Unset: `AZURE_TENANT_ID`.
    pub azure_tenant_id: Option<String>,
    /// `azure`: the Entra ID application (client) id. Unset: `AZURE_CLIENT_ID`.
    pub azure_client_id: Option<String>,
    /// `azure`: the Entra ID client secret. Unset: `AZURE_CLIENT_SECRET`.
    pub azure_client_secret: Option<Secret>,
    /// `azure`: the Entra ID authority. Unset: `AZURE_AUTHORITY_HOST`, else
    /// `https://login.microsoftonline.com` (sovereign clouds use their own).
    pub azure_authority_host: Option<String>,
    /// `openai`: the Chat Completions dialect options (see docs/providers.md).
    pub openai: OpenAiConfig,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: ProviderType::Anthropic,
            enabled: true,
            base_url: None,
            models: Vec::new(),
            model_mapping: BTreeMap::new(),
            betas: None,
            strip_fields: None,
            keys: Vec::new(),
            pooling: PoolingConfig::default(),
            priority: None,
            weight: None,
            cost: None,
            aws_region: None,
            aws_access_key_id: None,
            aws_secret_access_key: None,
            aws_session_token: None,
            aws_profile: None,
            bedrock_betas: None,
            gcp_project_id: None,
            gcp_region: None,
            gcp_credentials_file: None,
            azure_resource_name: None,
            azure_deployment_id: None,
            azure_api_version: None,
            azure_tenant_id: None,
            azure_client_id: None,
            azure_client_secret: None,
            azure_authority_host: None,
            openai: OpenAiConfig::default(),
        }
    }
}

impl ProviderConfig {
    /// The provider-level priority, falling back to the Go file's per-key value.
    pub fn effective_priority(&self) -> u32 {
        self.priority
            .or_else(|| self.keys.first().and_then(|k| k.priority))
            .unwrap_or(1)
    }

    /// The configured beta allow-list: `betas`, else its older name `bedrock_betas`.
    pub fn beta_list(&self) -> Option<&[String]> {
        self.betas.as_deref().or(self.bedrock_betas.as_deref())
    }

    /// The provider-level weight, falling back to the Go file's per-key value.
    pub fn effective_weight(&self) -> u32 {
        self.weight
            .or_else(|| self.keys.first().and_then(|k| k.weight))
            .unwrap_or(1)
    }
}

/// `providers[].cost`: prices in US dollars per million tokens, used by
/// `cost_based` routing and by the usage ledger (one price configuration for
/// both). `models` overrides the prices for model-name prefixes (longest
/// prefix wins), matched against the client's model name. Unset cache prices
/// follow Anthropic's multipliers of the input price: writes 1.25x (5 min)
/// and 2x (1 h), reads 0.1x.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CostConfig {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    pub cache_write_5m_per_mtok: Option<f64>,
    pub cache_write_1h_per_mtok: Option<f64>,
    pub cache_read_per_mtok: Option<f64>,
    pub models: BTreeMap<String, ModelCost>,
}

/// One entry of `providers[].cost.models`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ModelCost {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    pub cache_write_5m_per_mtok: Option<f64>,
    pub cache_write_1h_per_mtok: Option<f64>,
    pub cache_read_per_mtok: Option<f64>,
}

/// Every price of one model, in US dollars per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TokenPrices {
    pub input: f64,
    pub output: f64,
    pub cache_write_5m: f64,
    pub cache_write_1h: f64,
    pub cache_read: f64,
}

impl TokenPrices {
    /// Input and output prices, with cache prices by Anthropic's multipliers
    /// where not given.
    pub fn new(
        input: f64,
        output: f64,
        cache_write_5m: Option<f64>,
        cache_write_1h: Option<f64>,
        cache_read: Option<f64>,
    ) -> Self {
        Self {
            input,
            output,
            cache_write_5m: cache_write_5m.unwrap_or(input * 1.25),
            cache_write_1h: cache_write_1h.unwrap_or(input * 2.0),
            cache_read: cache_read.unwrap_or(input * 0.1),
        }
    }
}

impl CostConfig {
    /// The (input, output) prices for a model.
    pub fn prices_for(&self, model: &str) -> (f64, f64) {
        let prices = self.token_prices(model);
        (prices.input, prices.output)
    }

    /// Every price for a model.
    pub fn token_prices(&self, model: &str) -> TokenPrices {
        self.models
            .iter()
            .filter(|(prefix, _)| model.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map_or_else(
                || {
                    TokenPrices::new(
                        self.input_per_mtok,
                        self.output_per_mtok,
                        self.cache_write_5m_per_mtok,
                        self.cache_write_1h_per_mtok,
                        self.cache_read_per_mtok,
                    )
                },
                |(_, c)| {
                    TokenPrices::new(
                        c.input_per_mtok,
                        c.output_per_mtok,
                        c.cache_write_5m_per_mtok,
                        c.cache_write_1h_per_mtok,
                        c.cache_read_per_mtok,
                    )
                },
            )
    }
}

/// `providers[].type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderType {
    Anthropic,
    Zai,
    Minimax,
    Ollama,
    Bedrock,
    Vertex,
    Azure,
    /// An OpenAI Chat Completions server, translated to and from Messages.
    Openai,
}

impl ProviderType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::Zai => "zai",
            Self::Minimax => "minimax",
            Self::Ollama => "ollama",
            Self::Bedrock => "bedrock",
            Self::Vertex => "vertex",
            Self::Azure => "azure",
            Self::Openai => "openai",
        }
    }
}

/// One entry of `providers[].keys`. A limit of 0 means "not set": the key
/// learns its real limits from the upstream's rate-limit headers.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct KeyConfig {
    pub key: Secret,
    pub rpm_limit: u64,
    pub itpm_limit: u64,
    pub otpm_limit: u64,
    /// Legacy combined input+output limit, used when the split ones are unset.
    pub tpm_limit: u64,
    /// Go-file compatibility: 0 low, 1 normal, 2 high.
    pub priority: Option<u32>,
    pub weight: Option<u32>,
    /// Go TOML files that put a provider's `models` under `[[providers.keys]]`
    /// (a scoping slip): accepted and ignored, as the Go relay does, with a warning.
    pub models: Option<Vec<String>>,
}

impl Default for KeyConfig {
    fn default() -> Self {
        Self {
            key: Secret::new(""),
            rpm_limit: 0,
            itpm_limit: 0,
            otpm_limit: 0,
            tpm_limit: 0,
            priority: None,
            weight: None,
            models: None,
        }
    }
}

/// `providers[].pooling`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PoolingConfig {
    pub strategy: PoolStrategy,
    /// Go-file compatibility; a pool is always used when a provider has keys.
    pub enabled: Option<bool>,
}

/// `providers[].pooling.strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolStrategy {
    #[default]
    #[serde(alias = "")]
    LeastLoaded,
    RoundRobin,
    Random,
    Weighted,
}
