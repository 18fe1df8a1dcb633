//! Google Vertex AI (`type: vertex`): Claude through the `rawPredict` /
//! `streamRawPredict` methods of Anthropic's publisher models.
//!
//! - URL: `{base}/v1/projects/{gcp_project_id}/locations/{gcp_region}/publishers/anthropic/models/{model}:streamRawPredict`
//!   (`:rawPredict` without streaming), base
//!   `https://{region}-aiplatform.googleapis.com`, or
//!   `https://aiplatform.googleapis.com` for the `global` region, unless
//!   `base_url` is set. Model ids with `@` versions are used as given.
//!   `count_tokens` goes to `.../models/count-tokens:rawPredict`, the model
//!   staying in the body.
//! - Body: `model` removed (kept for `count_tokens`), `anthropic_version:
//!   "vertex-2023-10-16"` added; `anthropic-beta` stays a header.
//! - Auth: `Authorization: Bearer` with a Google OAuth2 token, cached by
//!   [`TokenCache`] (see [`crate::credentials::google`] for the sources).
//! - Responses are Anthropic's SSE/JSON already; Google-shaped errors are
//!   translated.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Request, StatusCode, Uri};
use relay_config::{ProviderConfig, ProviderType};
use relay_core::ErrorType;

use crate::credentials::Env;
use crate::credentials::google;
use crate::credentials::token::TokenCache;
use crate::encoding::path_segment;
use crate::error::ProviderError;
use crate::json_body::TopLevel;
use crate::provider::{BoxFuture, Credential, Endpoint, Provider, ProviderInfo, set_secret_header};
use crate::request::ClientRequest;

/// The `anthropic_version` Vertex AI requires.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// A Vertex AI provider.
#[derive(Debug)]
pub struct Vertex {
    info: ProviderInfo,
    project: String,
    region: String,
    tokens: TokenCache,
}

impl Vertex {
    /// Builds the provider; a configured or `GOOGLE_APPLICATION_CREDENTIALS`
    /// credentials file is read now, so a bad one fails the configuration.
    pub fn new(config: &ProviderConfig) -> Result<Self, ProviderError> {
        Self::with_env(config, &crate::credentials::process_env)
    }

    pub(crate) fn with_env(config: &ProviderConfig, env: &Env) -> Result<Self, ProviderError> {
        let fail = |message: String| ProviderError::Config {
            provider: config.name.clone(),
            message,
        };
        let required = |value: &Option<String>, key: &str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| fail(format!("{key} is required for type `vertex`")))
        };
        let project = required(&config.gcp_project_id, "gcp_project_id")?;
        let region = required(&config.gcp_region, "gcp_region")?;
        let base_url = match config.base_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if region == "global" => "https://aiplatform.googleapis.com".to_owned(),
            None => format!("https://{region}-aiplatform.googleapis.com"),
        };
        let source =
            google::token_source(config.gcp_credentials_file.as_deref(), env).map_err(fail)?;
        let provider = Self {
            // Vertex authenticates with OAuth tokens, never with pool keys.
            info: ProviderInfo {
                has_keys: false,
                ..ProviderInfo::from_config(config, &base_url)
            },
            project,
            region,
            tokens: TokenCache::new(source),
        };
        provider.model_uri("model", "rawPredict")?;
        Ok(provider)
    }

    fn model_uri(&self, model: &str, method: &str) -> Result<Uri, ProviderError> {
        // `@` is a valid path character and part of Vertex's model versions.
        let model = path_segment(model).replace("%40", "@");
        let path = format!(
            "/v1/projects/{}/locations/{}/publishers/anthropic/models/{model}:{method}",
            path_segment(&self.project),
            path_segment(&self.region),
        );
        crate::provider::join_uri(&self.info.name, &self.info.base_url, &path)
    }
}

impl Provider for Vertex {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn kind(&self) -> ProviderType {
        ProviderType::Vertex
    }

    fn owner(&self) -> &'static str {
        "google-vertex-ai"
    }

    fn upstream_uri(
        &self,
        request: &ClientRequest<'_>,
        upstream_model: &str,
    ) -> Result<Uri, ProviderError> {
        match request.endpoint {
            Endpoint::CountTokens => self.model_uri("count-tokens", "rawPredict"),
            Endpoint::Messages if request.summary.stream => {
                self.model_uri(upstream_model, "streamRawPredict")
            }
            Endpoint::Messages => self.model_uri(upstream_model, "rawPredict"),
        }
    }

    fn forward_header(&self, name: &HeaderName) -> bool {
        // The version travels in the body.
        name != "anthropic-version" && crate::headers::forwarded_by_default(name)
    }

    fn transform_body(
        &self,
        request: &ClientRequest<'_>,
        upstream_model: &str,
    ) -> Result<Bytes, ProviderError> {
        let body = if upstream_model == request.summary.model {
            request.body.clone()
        } else {
            relay_core::rewrite_model(request.body, request.summary, upstream_model)
        };
        let mut top = TopLevel::parse(&body).map_err(|err| ProviderError::Request {
            provider: self.info.name.clone(),
            message: format!("the request body is not a JSON object: {err}"),
        })?;
        if request.endpoint == Endpoint::Messages {
            top.remove("model");
        }
        if !top.contains("anthropic_version") {
            top.set("anthropic_version", &VERTEX_ANTHROPIC_VERSION);
        }
        Ok(top.to_bytes())
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a mut Request<Bytes>,
        _credential: Credential<'a>,
        _client_headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let token = self
                .tokens
                .token()
                .await
                .map_err(|err| ProviderError::Credentials {
                    provider: self.info.name.clone(),
                    message: format!(
                        "no Google access token from {}: {err}",
                        self.tokens.describe()
                    ),
                })?;
            set_secret_header(
                &self.info.name,
                request,
                "authorization",
                &format!("Bearer {}", token.expose()),
            )
        })
    }

    fn translate_error(
        &self,
        status: StatusCode,
        _headers: &http::HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Bytes) {
        crate::translate::translate(status, &body, None, "Vertex AI", google_status)
    }
}

/// Google's canonical error codes (`error.status`).
fn google_status(code: &str) -> Option<ErrorType> {
    Some(match code {
        "RESOURCE_EXHAUSTED" => ErrorType::RateLimitError,
        "UNAVAILABLE" => ErrorType::OverloadedError,
        "PERMISSION_DENIED" => ErrorType::PermissionError,
        "UNAUTHENTICATED" => ErrorType::AuthenticationError,
        "NOT_FOUND" => ErrorType::NotFoundError,
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => {
            ErrorType::InvalidRequestError
        }
        "DEADLINE_EXCEEDED" => ErrorType::TimeoutError,
        "INTERNAL" | "UNKNOWN" | "ABORTED" => ErrorType::ApiError,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "vertex_tests.rs"]
mod tests;
