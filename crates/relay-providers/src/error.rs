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
        }
    }
}
