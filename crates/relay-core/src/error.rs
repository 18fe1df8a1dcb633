//! The Anthropic error body the relay answers with.
//!
//! Whether another upstream may do better is not decided here: the one
//! classification of an attempt's outcome is `relay_router::classify`.

use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;

/// The `error.type` values of the Anthropic Messages API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    PermissionError,
    NotFoundError,
    RequestTooLarge,
    RateLimitError,
    ApiError,
    OverloadedError,
    TimeoutError,
}

impl ErrorType {
    /// The wire name, as it appears in `error.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequestError => "invalid_request_error",
            Self::AuthenticationError => "authentication_error",
            Self::PermissionError => "permission_error",
            Self::NotFoundError => "not_found_error",
            Self::RequestTooLarge => "request_too_large",
            Self::RateLimitError => "rate_limit_error",
            Self::ApiError => "api_error",
            Self::OverloadedError => "overloaded_error",
            Self::TimeoutError => "timeout_error",
        }
    }

    /// The status Anthropic uses for this error type when no other is more precise.
    pub fn default_status(self) -> StatusCode {
        match self {
            Self::InvalidRequestError => StatusCode::BAD_REQUEST,
            Self::AuthenticationError => StatusCode::UNAUTHORIZED,
            Self::PermissionError => StatusCode::FORBIDDEN,
            Self::NotFoundError => StatusCode::NOT_FOUND,
            Self::RequestTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimitError => StatusCode::TOO_MANY_REQUESTS,
            Self::ApiError => StatusCode::INTERNAL_SERVER_ERROR,
            // 529 is Anthropic's own "overloaded" status.
            Self::OverloadedError => {
                StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            Self::TimeoutError => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// An error the relay answers with, in the Anthropic shape:
/// `{"type":"error","error":{"type":...,"message":...}}`.
///
/// Messages must never contain a secret: they are sent to clients and logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_type: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, error_type: ErrorType, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type,
            message: message.into(),
        }
    }

    /// 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            message,
        )
    }

    /// 401 `authentication_error`.
    pub fn authentication(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorType::AuthenticationError,
            message,
        )
    }

    /// 404 `not_found_error`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorType::NotFoundError, message)
    }

    /// 413 `request_too_large`.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorType::RequestTooLarge,
            message,
        )
    }

    /// 502 `api_error`: the upstream could not be reached or answered garbage.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, ErrorType::ApiError, message)
    }

    /// 503 `api_error`: the relay cannot take this request now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::ApiError,
            message,
        )
    }

    /// 503 `overloaded_error`: no healthy provider is left.
    pub fn overloaded(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::OverloadedError,
            message,
        )
    }

    /// 504 `timeout_error`: the upstream did not answer in time.
    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorType::TimeoutError,
            message,
        )
    }

    /// 429 `rate_limit_error`.
    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorType::RateLimitError,
            message,
        )
    }

    /// 500 `api_error`: a bug or an unexpected state in the relay.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::ApiError,
            message,
        )
    }

    /// The JSON body.
    pub fn to_json(&self) -> Bytes {
        let body = ErrorEnvelope {
            kind: "error",
            error: ErrorBody {
                kind: self.error_type.as_str(),
                message: &self.message,
            },
        };
        // Serialising two static strings and a String cannot fail.
        Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// The same error as a complete SSE `error` event, for streams already under way.
    pub fn to_sse_event(&self) -> Bytes {
        let json = self.to_json();
        let mut out = Vec::with_capacity(json.len() + 24);
        out.extend_from_slice(b"event: error\ndata: ");
        out.extend_from_slice(&json);
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.error_type.as_str(),
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_anthropic_shape() {
        let err = ApiError::invalid_request("model: field required \"quoted\"");
        let v: serde_json::Value = serde_json::from_slice(&err.to_json()).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["message"], "model: field required \"quoted\"");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn sse_event_is_one_complete_event() {
        let ev = ApiError::bad_gateway("upstream closed").to_sse_event();
        let s = std::str::from_utf8(&ev).unwrap();
        assert!(s.starts_with("event: error\ndata: {"));
        assert!(s.ends_with("}\n\n"));
        assert_eq!(s.matches("\n\n").count(), 1);
    }

    #[test]
    fn overloaded_default_status_is_529() {
        assert_eq!(ErrorType::OverloadedError.default_status().as_u16(), 529);
    }
}
