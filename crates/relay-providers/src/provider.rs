//! The [`Provider`] trait: one backend, described by hooks with defaults.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use relay_config::ProviderType;
use relay_core::{ModelMap, Secret};

use crate::decoder::ResponseDecoder;
use crate::error::ProviderError;
use crate::fidelity::{BetaPolicy, StripPolicy};
use crate::request::ClientRequest;

/// A boxed future, so `Provider` stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The relayed API endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1/messages`
    Messages,
    /// `POST /v1/messages/count_tokens`
    CountTokens,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Messages => "/v1/messages",
            Self::CountTokens => "/v1/messages/count_tokens",
        }
    }
}

/// What credential authenticates one upstream attempt.
#[derive(Clone, Copy, Debug)]
pub enum Credential<'a> {
    /// A key from the provider's pool.
    Key(&'a Secret),
    /// No pool key: the client's own `x-api-key` / `Authorization` travel on
    /// (transparent mode). The relay's own credentials were removed before.
    ClientOwn,
    /// Nothing to add (a local backend that needs no key).
    None,
}

/// What every provider is, whatever its wire format: built once from its
/// configuration entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    pub name: String,
    /// Without a trailing slash.
    pub base_url: String,
    pub models: Vec<String>,
    pub model_mapping: BTreeMap<String, String>,
    /// `model_mapping` compiled: exact keys, then `*` patterns.
    pub model_map: ModelMap<String>,
    pub has_keys: bool,
    /// Which `anthropic-beta` values this backend receives.
    pub betas: BetaPolicy,
    /// Which top-level body fields are removed before sending.
    pub strip_fields: StripPolicy,
}

impl ProviderInfo {
    /// The identity of `config`, served at `base_url`.
    pub fn from_config(config: &relay_config::ProviderConfig, base_url: &str) -> Self {
        Self {
            name: config.name.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            models: config.models.clone(),
            model_mapping: config.model_mapping.clone(),
            model_map: ModelMap::from_table(&config.model_mapping),
            has_keys: config.keys.iter().any(|key| !key.key.is_empty()),
            betas: BetaPolicy::from_config(config),
            strip_fields: StripPolicy::from_config(config),
        }
    }
}

/// One configured backend.
///
/// Only the identity methods are required. Every hook has a default that fits
/// an Anthropic-compatible API; a provider overrides what differs, the way
/// Bedrock overrides the URL, the body and authentication.
pub trait Provider: Send + Sync + Debug {
    /// The configured identity every provider has.
    fn info(&self) -> &ProviderInfo;
    /// The configured `type`.
    fn kind(&self) -> ProviderType;
    /// Who runs the backend, for `/v1/models`' `owned_by`-style listings.
    fn owner(&self) -> &'static str;

    /// The configured name (unique within a configuration).
    fn name(&self) -> &str {
        &self.info().name
    }
    /// The base URL requests are sent to (no trailing slash).
    fn base_url(&self) -> &str {
        &self.info().base_url
    }
    /// Models this provider serves, as configured.
    fn models(&self) -> &[String] {
        &self.info().models
    }
    /// Client model name -> upstream model name.
    fn model_mapping(&self) -> &BTreeMap<String, String> {
        &self.info().model_mapping
    }
    /// Whether the provider has keys of its own (a pool); without, see [`Provider::passthrough_client_credentials`].
    fn has_keys(&self) -> bool {
        self.info().has_keys
    }

    /// Whether a keyless provider forwards the client's own credentials.
    /// True only for Anthropic: other backends would receive a credential
    /// they cannot use and must not see.
    fn passthrough_client_credentials(&self) -> bool {
        false
    }

    /// Whether this provider can serve `endpoint`.
    fn supports(&self, _endpoint: Endpoint) -> bool {
        true
    }

    /// The model name to send upstream: the mapping's target (exact key,
    /// else the most specific `*` pattern), else the client's.
    fn upstream_model<'a>(&'a self, client_model: &'a str) -> &'a str {
        self.info()
            .model_map
            .get(client_model)
            .map_or(client_model, String::as_str)
    }

    /// Where the request goes: the base URL joined with the client's path and query.
    fn upstream_uri(
        &self,
        request: &ClientRequest<'_>,
        _upstream_model: &str,
    ) -> Result<Uri, ProviderError> {
        join_uri(self.name(), self.base_url(), request.path_and_query)
    }

    /// Whether a client header travels upstream. Credentials never do here
    /// (transparent mode re-adds them in `authenticate`), nor hop-by-hop headers,
    /// nor ones the relay recomputes.
    /// An override that narrows the rule starts from
    /// `crate::headers::forwarded_by_default`, the same rule.
    fn forward_header(&self, name: &HeaderName) -> bool {
        crate::headers::forwarded_by_default(name)
    }

    /// The body to send: the client's bytes, with only the model value replaced
    /// when the mapping changes it.
    fn transform_body(
        &self,
        request: &ClientRequest<'_>,
        upstream_model: &str,
    ) -> Result<Bytes, ProviderError> {
        if upstream_model == request.summary.model {
            return Ok(request.body.clone());
        }
        Ok(relay_core::rewrite_model(
            request.body,
            request.summary,
            upstream_model,
        ))
    }

    /// Adds credentials to the prepared request. The default sends a pool key as
    /// `x-api-key`, and in transparent mode copies the client's own credentials.
    fn authenticate<'a>(
        &'a self,
        request: &'a mut Request<Bytes>,
        credential: Credential<'a>,
        client_headers: &'a HeaderMap,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(std::future::ready(default_credential(
            self.name(),
            request,
            credential,
            client_headers,
        )))
    }

    /// A decoder for the response body when the backend does not answer in
    /// Anthropic's wire format (Bedrock's event stream). `None`: relayed as is.
    fn response_decoder(
        &self,
        _endpoint: Endpoint,
        _stream: bool,
    ) -> Option<Box<dyn ResponseDecoder>> {
        None
    }

    /// Where the active health check probes this provider while its circuit
    /// is open: a real, cheap endpoint. `None`: no active check.
    fn health_check_uri(&self) -> Option<Uri> {
        join_uri(self.name(), self.base_url(), "/v1/models").ok()
    }

    /// Turns an upstream error response (non-2xx, body complete) into the
    /// Anthropic error shape, so clients and failover see one vocabulary.
    /// The default keeps it unchanged: Anthropic-compatible backends already
    /// answer in that shape.
    fn translate_error(
        &self,
        status: StatusCode,
        _headers: &HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Bytes) {
        (status, body)
    }
}

/// Joins a base URL (which may carry a path prefix, such as `/api/anthropic`) with a client path.
pub(crate) fn join_uri(
    provider: &str,
    base_url: &str,
    path_and_query: &str,
) -> Result<Uri, ProviderError> {
    let joined = format!("{}{}", base_url.trim_end_matches('/'), path_and_query);
    joined.parse::<Uri>().map_err(|err| ProviderError::Config {
        provider: provider.to_owned(),
        message: format!("base_url does not form a valid URL with {path_and_query}: {err}"),
    })
}

/// Sets a credential header, marked sensitive so HTTP/2 HPACK never indexes it.
pub(crate) fn set_secret_header(
    provider: &str,
    request: &mut Request<Bytes>,
    name: &'static str,
    value: &str,
) -> Result<(), ProviderError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| ProviderError::Credentials {
        provider: provider.to_owned(),
        message: format!("the configured key is not a valid {name} header value"),
    })?;
    value.set_sensitive(true);
    request
        .headers_mut()
        .insert(HeaderName::from_static(name), value);
    Ok(())
}

/// The default credential rule: a pool key as `x-api-key`; in transparent
/// mode, the client's own `x-api-key` / `Authorization`.
pub(crate) fn default_credential(
    provider: &str,
    request: &mut Request<Bytes>,
    credential: Credential<'_>,
    client_headers: &HeaderMap,
) -> Result<(), ProviderError> {
    match credential {
        Credential::Key(key) => set_secret_header(provider, request, "x-api-key", key.expose()),
        Credential::ClientOwn => {
            for name in [
                http::header::AUTHORIZATION,
                HeaderName::from_static("x-api-key"),
            ] {
                if let Some(value) = client_headers.get(&name) {
                    let mut value = value.clone();
                    value.set_sensitive(true);
                    request.headers_mut().insert(name, value);
                }
            }
            Ok(())
        }
        Credential::None => Ok(()),
    }
}
