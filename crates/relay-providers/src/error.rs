//! Errors raised while preparing an upstream request.

use relay_core::ApiError;

/// A provider could not be built, or could not prepare a request.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The configuration cannot produce a working provider.
    #[error("provider `{provider}`: {message}")]
    Config { provider: String, message: String },
    /// This provider does not serve the endpoint at all.
    #[error("provider `{provider}` does not support {endpoint}")]
    Unsupported {
        provider: String,
        endpoint: &'static str,
    },
    /// Credentials could not be obtained or applied (token fetch failed, signing failed).
    #[error("provider `{provider}`: could not authenticate the upstream request: {message}")]
    Credentials { provider: String, message: String },
    /// The request cannot be expressed for this provider.
    #[error("provider `{provider}`: {message}")]
    Request { provider: String, message: String },
    /// The client asked for something this provider cannot do (an Anthropic
    /// feature a translated backend has no equivalent for). Not the
    /// provider's failure: another provider may serve it, and if none does
    /// the client gets an `invalid_request_error` naming the feature.
    #[error("provider `{provider}` cannot serve this request: {message}")]
    Refused { provider: String, message: String },
}

impl ProviderError {
    /// Whether the request, not the provider, is the cause: such an attempt
    /// is skipped (no breaker or key is charged with it).
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }
}

impl From<ProviderError> for ApiError {
    fn from(err: ProviderError) -> Self {
        match &err {
            // Another provider may well serve it, so these are the upstream side's fault.
            ProviderError::Unsupported { .. } => ApiError::not_found(err.to_string()),
            ProviderError::Credentials { .. } => ApiError::bad_gateway(err.to_string()),
            ProviderError::Config { .. } | ProviderError::Request { .. } => {
                ApiError::bad_gateway(err.to_string())
            }
            ProviderError::Refused { .. } => ApiError::invalid_request(err.to_string()),
        }
    }
}
