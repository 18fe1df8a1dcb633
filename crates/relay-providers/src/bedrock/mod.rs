//! Amazon Bedrock (`type: bedrock`): Claude through `InvokeModel` /
//! `InvokeModelWithResponseStream`.
//!
//! - URL: `{base}/model/{model}/invoke` or `.../invoke-with-response-stream`,
//!   base `https://bedrock-runtime.{aws_region}.amazonaws.com` unless
//!   `base_url` is set; the model is the client's after `model_mapping`.
//! - Body: see [`request`]. Only `x-amzn-bedrock-*` client headers travel
//!   (guardrails, tracing); Anthropic's headers mean nothing to Bedrock.
//! - Auth: a pool key is a Bedrock API key (`Authorization: Bearer`);
//!   without keys, SigV4 (service `bedrock`) or `AWS_BEARER_TOKEN_BEDROCK`
//!   from the chain in [`crate::credentials::aws`], always applied.
//! - Responses: streams are decoded by [`BedrockStreamDecoder`]; JSON bodies
//!   are Anthropic's already; errors are translated by [`errors`].
//! - `count_tokens` is not served: the relay answers it with a
//!   `not_found_error` naming the provider (see docs/providers.md).

mod errors;
mod eventstream;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
mod request;
mod signing;

use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri, header};
use relay_config::{ProviderConfig, ProviderType};

pub use eventstream::{BedrockStreamDecoder, MAX_FRAME_BYTES};
pub use request::BEDROCK_ANTHROPIC_VERSION;

use crate::credentials::Env;
use crate::credentials::aws::{self, BedrockAuth};
use crate::decoder::ResponseDecoder;
use crate::error::ProviderError;
use crate::fidelity::BetaPolicy;
use crate::provider::{BoxFuture, Credential, Endpoint, Provider, ProviderInfo, set_secret_header};
use crate::request::ClientRequest;

/// The SigV4 service name of Bedrock's runtime API.
const SIGNING_SERVICE: &str = "bedrock";

/// A Bedrock provider.
#[derive(Debug)]
pub struct Bedrock {
    info: ProviderInfo,
    region: String,
    betas: BetaPolicy,
    /// How requests without a pool key authenticate; `None` when the provider has keys.
    auth: Option<BedrockAuth>,
}

impl Bedrock {
    /// Builds the provider, resolving credentials from the configuration and
    /// the process environment.
    pub fn new(config: &ProviderConfig) -> Result<Self, ProviderError> {
        Self::with_env(config, &crate::credentials::process_env)
    }

    pub(crate) fn with_env(config: &ProviderConfig, env: &Env) -> Result<Self, ProviderError> {
        let fail = |message: String| ProviderError::Config {
            provider: config.name.clone(),
            message,
        };
        let region = config
            .aws_region
            .clone()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| fail("aws_region is required for type `bedrock`".to_owned()))?;
        let base_url = match config.base_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://bedrock-runtime.{region}.amazonaws.com"),
        };
        let has_keys = !config.keys.is_empty();
        let auth = if has_keys {
            None
        } else {
            Some(aws::resolve(config, env).map_err(fail)?)
        };
        if let Some(auth) = &auth {
            tracing::debug!(provider = %config.name, auth = auth.kind(), "bedrock credentials resolved");
        }
        let provider = Self {
            info: ProviderInfo::from_config(config, &base_url),
            region,
            betas: BetaPolicy::from_config(config),
            auth,
        };
        request::invoke_uri(&provider.info.name, &provider.info.base_url, "model", true)?;
        Ok(provider)
    }

    /// The AWS region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Adds the configured AWS credentials to a finished request: a bearer
    /// token (Bedrock API key) header, or a SigV4 signature over the request
    /// as it will be sent (so it runs last).
    fn add_aws_credentials(
        &self,
        request: &mut Request<Bytes>,
        auth: &BedrockAuth,
    ) -> Result<(), ProviderError> {
        match auth {
            BedrockAuth::Bearer(token) => set_secret_header(
                &self.info.name,
                request,
                "authorization",
                &format!("Bearer {}", token.expose()),
            ),
            BedrockAuth::SigV4(credentials) => signing::sign_request(
                request,
                credentials,
                &self.region,
                SIGNING_SERVICE,
                SystemTime::now(),
            )
            .map_err(|message| ProviderError::Credentials {
                provider: self.info.name.clone(),
                message,
            }),
        }
    }
}

impl Provider for Bedrock {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn kind(&self) -> ProviderType {
        ProviderType::Bedrock
    }

    fn owner(&self) -> &'static str {
        "aws-bedrock"
    }

    fn supports(&self, endpoint: Endpoint) -> bool {
        endpoint == Endpoint::Messages
    }

    fn upstream_uri(
        &self,
        request: &ClientRequest<'_>,
        upstream_model: &str,
    ) -> Result<Uri, ProviderError> {
        request::invoke_uri(
            &self.info.name,
            &self.info.base_url,
            upstream_model,
            request.summary.stream,
        )
    }

    fn forward_header(&self, name: &HeaderName) -> bool {
        name.as_str().starts_with("x-amzn-bedrock-")
    }

    fn transform_body(
        &self,
        request: &ClientRequest<'_>,
        _upstream_model: &str,
    ) -> Result<Bytes, ProviderError> {
        request::transform_body(&self.info.name, request.body, request.headers, &self.betas)
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a mut Request<Bytes>,
        credential: Credential<'a>,
        _client_headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        let headers = request.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let stream = request
            .uri()
            .path()
            .ends_with("/invoke-with-response-stream");
        let accept = if stream {
            "application/vnd.amazon.eventstream"
        } else {
            "application/json"
        };
        request
            .headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static(accept));
        let result = match (credential, &self.auth) {
            (Credential::Key(key), _) => set_secret_header(
                &self.info.name,
                request,
                "authorization",
                &format!("Bearer {}", key.expose()),
            ),
            // Signed whatever the client sent: its own credentials never reach AWS.
            (Credential::ClientOwn | Credential::None, Some(auth)) => {
                self.add_aws_credentials(request, auth)
            }
            (Credential::ClientOwn | Credential::None, None) => Err(ProviderError::Credentials {
                provider: self.info.name.clone(),
                message: "no pool key was chosen and no AWS credentials are configured".to_owned(),
            }),
        };
        Box::pin(std::future::ready(result))
    }

    fn response_decoder(
        &self,
        endpoint: Endpoint,
        stream: bool,
    ) -> Option<Box<dyn ResponseDecoder>> {
        (endpoint == Endpoint::Messages && stream)
            .then(|| Box::new(BedrockStreamDecoder::new()) as Box<dyn ResponseDecoder>)
    }

    fn translate_error(
        &self,
        status: StatusCode,
        headers: &http::HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Bytes) {
        let error_type = headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok());
        errors::translate_error(status, error_type, &body)
    }
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
