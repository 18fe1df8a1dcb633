//! Azure AI Foundry (`type: azure`): Claude deployments behind Foundry's
//! Anthropic-compatible endpoint.
//!
//! - URL: `https://{azure_resource_name}.services.ai.azure.com/anthropic/v1/messages`
//!   (or `{base_url}/v1/messages`), with `?api-version=` when
//!   `azure_api_version` is set.
//! - Model: deployment names are the model ids. `model_mapping` maps client
//!   names to deployments; `azure_deployment_id`, when set, is used for every
//!   model the mapping does not name.
//! - Auth: a pool key is the resource key (`x-api-key`); without keys,
//!   Microsoft Entra ID tokens (client credentials, cached) as
//!   `Authorization: Bearer`.
//! - Body and responses are Anthropic's; gateway errors are translated.

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, Uri};
use relay_config::{ProviderConfig, ProviderType};
use relay_core::ErrorType;

use crate::credentials::token::TokenCache;
use crate::credentials::{Env, azure};
use crate::encoding::path_segment;
use crate::error::ProviderError;
use crate::provider::{BoxFuture, Credential, Provider, ProviderInfo, join_uri, set_secret_header};
use crate::request::ClientRequest;

/// An Azure AI Foundry provider.
#[derive(Debug)]
pub struct Azure {
    info: ProviderInfo,
    deployment: Option<String>,
    api_version: Option<String>,
    /// Entra ID tokens for requests without a pool key.
    tokens: Option<TokenCache>,
}

impl Azure {
    pub fn new(config: &ProviderConfig) -> Result<Self, ProviderError> {
        Self::with_env(config, &crate::credentials::process_env)
    }

    pub(crate) fn with_env(config: &ProviderConfig, env: &Env) -> Result<Self, ProviderError> {
        let fail = |message: String| ProviderError::Config {
            provider: config.name.clone(),
            message,
        };
        let base_url = match (
            config.base_url.as_deref().filter(|u| !u.is_empty()),
            config
                .azure_resource_name
                .as_deref()
                .filter(|r| !r.is_empty()),
        ) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(resource)) => format!(
                "https://{}.services.ai.azure.com/anthropic",
                path_segment(resource)
            ),
            (None, None) => {
                return Err(fail(
                    "azure_resource_name (or base_url) is required for type `azure`".to_owned(),
                ));
            }
        };
        let has_keys = !config.keys.is_empty();
        let tokens = azure::token_source(config, env)
            .map_err(fail)?
            .map(TokenCache::new);
        if !has_keys && tokens.is_none() {
            return Err(fail(
                "no credentials: add the resource key under keys, or set azure_tenant_id, azure_client_id and azure_client_secret (or AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) for Entra ID tokens".to_owned(),
            ));
        }
        let provider = Self {
            info: ProviderInfo::from_config(config, &base_url),
            deployment: config.azure_deployment_id.clone().filter(|d| !d.is_empty()),
            api_version: config.azure_api_version.clone().filter(|v| !v.is_empty()),
            tokens,
        };
        provider.uri("/v1/messages")?;
        Ok(provider)
    }

    fn uri(&self, path: &str) -> Result<Uri, ProviderError> {
        let path_and_query = match &self.api_version {
            Some(version) => format!("{path}?api-version={}", path_segment(version)),
            None => path.to_owned(),
        };
        join_uri(&self.info.name, &self.info.base_url, &path_and_query)
    }
}

impl Provider for Azure {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn kind(&self) -> ProviderType {
        ProviderType::Azure
    }

    fn owner(&self) -> &'static str {
        "azure-ai-foundry"
    }

    fn upstream_model<'a>(&'a self, client_model: &'a str) -> &'a str {
        match (self.info.model_map.get(client_model), &self.deployment) {
            (Some(mapped), _) => mapped,
            (None, Some(deployment)) => deployment,
            (None, None) => client_model,
        }
    }

    fn upstream_uri(
        &self,
        request: &ClientRequest<'_>,
        _upstream_model: &str,
    ) -> Result<Uri, ProviderError> {
        self.uri(request.endpoint.as_str())
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a mut Request<Bytes>,
        credential: Credential<'a>,
        _client_headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            match (credential, &self.tokens) {
                (Credential::Key(key), _) => {
                    set_secret_header(&self.info.name, request, "x-api-key", key.expose())
                }
                (Credential::ClientOwn | Credential::None, Some(tokens)) => {
                    let token = tokens
                        .token()
                        .await
                        .map_err(|err| ProviderError::Credentials {
                            provider: self.info.name.clone(),
                            message: format!("no Entra ID token for {}: {err}", tokens.describe()),
                        })?;
                    set_secret_header(
                        &self.info.name,
                        request,
                        "authorization",
                        &format!("Bearer {}", token.expose()),
                    )
                }
                (Credential::ClientOwn | Credential::None, None) => {
                    Err(ProviderError::Credentials {
                        provider: self.info.name.clone(),
                        message: "no pool key was chosen and Entra ID is not configured".to_owned(),
                    })
                }
            }
        })
    }

    fn translate_error(
        &self,
        status: StatusCode,
        _headers: &http::HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Bytes) {
        crate::translate::translate(status, &body, None, "Azure AI Foundry", azure_code)
    }
}

/// Azure's gateway error codes that say more than the status.
fn azure_code(code: &str) -> Option<ErrorType> {
    Some(match code {
        "DeploymentNotFound" | "NotFound" => ErrorType::NotFoundError,
        "content_filter" | "InvalidRequest" | "BadRequest" => ErrorType::InvalidRequestError,
        "429" | "RateLimitExceeded" | "TooManyRequests" => ErrorType::RateLimitError,
        "401" | "Unauthorized" | "InvalidAuthenticationToken" => ErrorType::AuthenticationError,
        "403" | "PermissionDenied" | "Forbidden" => ErrorType::PermissionError,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "azure_tests.rs"]
mod tests;
