//! OpenAI-compatible backends (`type: openai`): any Chat Completions server
//! (OpenAI, OpenRouter, DeepSeek, Groq, Together, Fireworks, Mistral, xAI,
//! Gemini's OpenAI endpoint, vLLM, llama.cpp, LM Studio, Ollama's `/v1`),
//! with Messages translated to Chat Completions and back.
//!
//! - URL: `{base_url}/chat/completions`, base `https://api.openai.com/v1`
//!   unless `base_url` is set; the model is the client's after `model_mapping`.
//! - Body: see [`request`]; the dialect options are `providers[].openai`.
//! - Headers: no client header travels (Anthropic's mean nothing here);
//!   `openai.headers` are added. Auth: a pool key as `Authorization: Bearer`;
//!   without keys nothing (local servers).
//! - Responses: [`ChatStreamDecoder`] for streams, [`ChatJsonDecoder`] for
//!   JSON; errors by [`errors`]. `count_tokens` is not served (the relay
//!   answers it with its local estimate, or a `not_found_error`).

mod errors;
mod ids;
mod json;
mod request;
mod response;
mod stream;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri, header};
use relay_config::{OpenAiConfig, ProviderConfig, ProviderType};
use serde_json::{Map, Value};

pub use json::{ChatJsonDecoder, MAX_JSON_BYTES};
pub use stream::ChatStreamDecoder;

use crate::decoder::ResponseDecoder;
use crate::error::ProviderError;
use crate::provider::{
    BoxFuture, Credential, Endpoint, Provider, ProviderInfo, join_uri, set_secret_header,
};
use crate::request::ClientRequest;

/// Where `type: openai` goes without a `base_url`.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// An OpenAI-compatible provider.
#[derive(Debug)]
pub struct OpenAi {
    info: ProviderInfo,
    options: OpenAiConfig,
    headers: Vec<(HeaderName, HeaderValue)>,
    chat_uri: Uri,
}

impl OpenAi {
    pub fn new(config: &ProviderConfig) -> Result<Self, ProviderError> {
        let fail = |message: String| ProviderError::Config {
            provider: config.name.clone(),
            message,
        };
        let base_url = config
            .base_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(OPENAI_BASE_URL);
        let info = ProviderInfo::from_config(config, base_url);
        let chat_uri = join_uri(&info.name, &info.base_url, "/chat/completions")?;
        let mut headers = Vec::with_capacity(config.openai.headers.len());
        for (name, value) in &config.openai.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| fail(format!("openai.headers: `{name}` is not a header name")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| fail(format!("openai.headers.{name}: the value cannot be sent")))?;
            headers.push((name, value));
        }
        Ok(Self {
            info,
            options: config.openai.clone(),
            headers,
            chat_uri,
        })
    }

    fn refused(&self, message: String) -> ProviderError {
        ProviderError::Refused {
            provider: self.info.name.clone(),
            message,
        }
    }
}

impl Provider for OpenAi {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn kind(&self) -> ProviderType {
        ProviderType::Openai
    }

    fn owner(&self) -> &'static str {
        "openai-compatible"
    }

    fn supports(&self, endpoint: Endpoint) -> bool {
        endpoint == Endpoint::Messages
    }

    fn upstream_uri(
        &self,
        _request: &ClientRequest<'_>,
        _upstream_model: &str,
    ) -> Result<Uri, ProviderError> {
        Ok(self.chat_uri.clone())
    }

    fn forward_header(&self, _name: &HeaderName) -> bool {
        false
    }

    fn transform_body(
        &self,
        request: &ClientRequest<'_>,
        upstream_model: &str,
    ) -> Result<Bytes, ProviderError> {
        let body: Map<String, Value> = serde_json::from_slice(request.body)
            .map_err(|err| self.refused(format!("the request body is not a JSON object: {err}")))?;
        let chat = request::chat_request(&body, upstream_model, &self.options)
            .map_err(|refusal| self.refused(refusal.0))?;
        serde_json::to_vec(&chat)
            .map(Bytes::from)
            .map_err(|err| self.refused(err.to_string()))
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
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        let result = match credential {
            Credential::Key(key) => set_secret_header(
                &self.info.name,
                request,
                "authorization",
                &format!("Bearer {}", key.expose()),
            ),
            // Never the client's own credential: it is an Anthropic one.
            Credential::ClientOwn | Credential::None => Ok(()),
        };
        Box::pin(std::future::ready(result))
    }

    fn response_decoder(
        &self,
        endpoint: Endpoint,
        stream: bool,
    ) -> Option<Box<dyn ResponseDecoder>> {
        if endpoint != Endpoint::Messages {
            return None;
        }
        let reasoning = self.options.reasoning_field;
        Some(if stream {
            Box::new(ChatStreamDecoder::new(reasoning))
        } else {
            Box::new(ChatJsonDecoder::new(reasoning))
        })
    }

    fn health_check_uri(&self) -> Option<Uri> {
        join_uri(self.name(), self.base_url(), "/models").ok()
    }

    fn translate_error(
        &self,
        status: StatusCode,
        _headers: &HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Bytes) {
        errors::translate_error(status, &body)
    }
}

#[cfg(test)]
#[path = "provider_tests.rs"]
mod tests;
