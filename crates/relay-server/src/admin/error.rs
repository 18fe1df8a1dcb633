//! Why a management operation was refused, once for both transports: each
//! variant says whose fault it is, and maps to an HTTP status (an
//! Anthropic-shaped error body) and a gRPC status code.

use http::StatusCode;
use relay_core::{ApiError, ErrorType, Fault};

use super::ADMIN_TOKEN_HEADER;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No admin token is configured: the API does not exist.
    #[error("the admin API is disabled (set server.admin.token)")]
    Disabled,
    #[error(
        "missing admin token: send Authorization: Bearer <server.admin.token> or {ADMIN_TOKEN_HEADER}"
    )]
    MissingToken,
    #[error("invalid admin token")]
    WrongToken,
    #[error(
        "the admin API is read-only for this token: use server.admin.token with server.admin.read_only: false to allow write actions"
    )]
    ReadOnly,
    #[error("no provider is named `{0}`")]
    NoProvider(String),
    #[error("the relay runs without a configuration file: there is nothing to reload")]
    NoConfigFile,
    /// The file could not be put into service; the old one still serves.
    /// The message lists every problem and never quotes a secret.
    #[error("reload failed; still serving generation {serving}: {message}")]
    ReloadFailed { serving: u64, message: String },
}

impl AdminError {
    /// The HTTP form. A disabled API answers 404, as if it did not exist.
    pub fn to_api_error(&self) -> ApiError {
        let message = self.to_string();
        match self {
            Self::Disabled => ApiError::not_found(message),
            Self::MissingToken | Self::WrongToken => ApiError::authentication(message),
            Self::ReadOnly => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorType::PermissionError,
                Fault::Client,
                message,
            ),
            Self::NoProvider(_) => ApiError::not_found(message),
            Self::NoConfigFile => ApiError::new(
                StatusCode::CONFLICT,
                ErrorType::InvalidRequestError,
                Fault::Client,
                message,
            ),
            Self::ReloadFailed { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorType::InvalidRequestError,
                Fault::Client,
                message,
            ),
        }
    }

    /// The gRPC form.
    pub fn to_status(&self) -> tonic::Status {
        let message = self.to_string();
        match self {
            Self::Disabled => tonic::Status::unimplemented(message),
            Self::MissingToken | Self::WrongToken => tonic::Status::unauthenticated(message),
            Self::ReadOnly => tonic::Status::permission_denied(message),
            Self::NoProvider(_) => tonic::Status::not_found(message),
            Self::NoConfigFile | Self::ReloadFailed { .. } => {
                tonic::Status::failed_precondition(message)
            }
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(error: AdminError) -> Self {
        error.to_api_error()
    }
}
