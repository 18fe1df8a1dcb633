//! OpenAI-style errors (`{"error": {"message", "type", "code", "param"}}`,
//! before the stream or as a chunk inside it) in Anthropic's vocabulary, so
//! the client and the router's failover see a rate limit, an overload or the
//! client's own mistake as such. A context-length error reads "prompt is too
//! long", the words Claude Code looks for before it compacts a conversation.

use bytes::Bytes;
use http::StatusCode;
use relay_core::{ApiError, ErrorType};
use serde_json::Value;

use crate::translate;

const BACKEND: &str = "OpenAI-compatible backend";

/// The Anthropic type for an OpenAI error `code` or `type`.
fn error_type_for(code: &str) -> Option<ErrorType> {
    Some(match code {
        "context_length_exceeded"
        | "string_above_max_length"
        | "invalid_request_error"
        | "invalid_prompt"
        | "invalid_value"
        | "tokens_exceeded" => ErrorType::InvalidRequestError,
        "rate_limit_exceeded" | "rate_limit_error" | "requests" | "tokens" => {
            ErrorType::RateLimitError
        }
        // No quota is no rate limit: waiting does not help, another key might.
        "insufficient_quota" | "billing_hard_limit_reached" => ErrorType::PermissionError,
        "invalid_api_key" | "authentication_error" | "invalid_authentication" => {
            ErrorType::AuthenticationError
        }
        "model_not_found" | "not_found_error" => ErrorType::NotFoundError,
        "permission_denied" | "permission_error" | "unsupported_country_region_territory" => {
            ErrorType::PermissionError
        }
        "server_error" | "internal_error" | "api_error" => ErrorType::ApiError,
        "overloaded" | "overloaded_error" | "service_unavailable" | "engine_overloaded" => {
            ErrorType::OverloadedError
        }
        "timeout" => ErrorType::TimeoutError,
        _ => return None,
    })
}

/// Whether an error message is about the context window, in the words the
/// usual servers use (OpenAI, vLLM, llama.cpp, Ollama, OpenRouter).
fn is_context_overflow(code: Option<&str>, message: &str) -> bool {
    if code == Some("context_length_exceeded") {
        return true;
    }
    let message = message.to_ascii_lowercase();
    [
        "maximum context length",
        "context length",
        "context_length",
        "context window",
        "exceeds the available context size",
        "prompt is too long",
        "too many tokens",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

fn code_of(error: &Value) -> Option<&str> {
    [error.get("code"), error.get("type")]
        .into_iter()
        .flatten()
        .find_map(Value::as_str)
}

/// Translates a non-2xx Chat Completions response.
pub(crate) fn translate_error(status: StatusCode, body: &Bytes) -> (StatusCode, Bytes) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let code = error.and_then(code_of);
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if status.is_client_error()
        && status != StatusCode::TOO_MANY_REQUESTS
        && is_context_overflow(code, message)
    {
        let error = ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorType::InvalidRequestError,
            format!("prompt is too long: {BACKEND}: {message}"),
        );
        return (StatusCode::BAD_REQUEST, error.to_json());
    }
    // Generic codes (`server_error`, `invalid_request_error`) say less than the status.
    let specific = |code: &str| {
        error_type_for(code)
            .filter(|t| !matches!(t, ErrorType::ApiError | ErrorType::InvalidRequestError))
    };
    translate::translate(status, body, code, BACKEND, specific)
}

/// An `{"error": ...}` chunk inside a stream (OpenRouter, vLLM, LiteLLM send them).
pub(crate) fn stream_error(error: &Value) -> ApiError {
    let code = code_of(error);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .unwrap_or("the stream failed");
    // OpenRouter puts the HTTP status in a numeric `code`.
    let by_status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .map(translate::type_for_status);
    let error_type = code
        .and_then(error_type_for)
        .or(by_status)
        .unwrap_or(ErrorType::ApiError);
    let message = match code {
        Some(code) => format!("{BACKEND} {code}: {message}"),
        None => format!("{BACKEND}: {message}"),
    };
    ApiError::new(error_type.default_status(), error_type, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translated(status: u16, body: &str) -> (u16, Value) {
        let (status, body) = translate_error(
            StatusCode::from_u16(status).unwrap(),
            &Bytes::from(body.to_owned()),
        );
        (status.as_u16(), serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn openai_errors_become_anthropic_errors_by_status_and_code() {
        for (status, body, want_status, want_type) in [
            (
                429,
                r#"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}"#,
                429,
                "rate_limit_error",
            ),
            (
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
                403,
                "permission_error",
            ),
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#,
                401,
                "authentication_error",
            ),
            (
                404,
                r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#,
                404,
                "not_found_error",
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error","type":"server_error","code":null}}"#,
                500,
                "api_error",
            ),
            (
                503,
                r#"{"error":{"message":"The engine is currently overloaded","type":"server_error"}}"#,
                529,
                "overloaded_error",
            ),
            (503, "upstream unavailable", 529, "overloaded_error"),
            (502, "", 500, "api_error"),
            (
                400,
                r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature"}}"#,
                400,
                "invalid_request_error",
            ),
            // OpenRouter: a numeric code.
            (
                429,
                r#"{"error":{"message":"Rate limit exceeded","code":429}}"#,
                429,
                "rate_limit_error",
            ),
        ] {
            let (got_status, value) = translated(status, body);
            assert_eq!(
                (got_status, value["error"]["type"].as_str().unwrap()),
                (want_status, want_type),
                "{body}"
            );
            assert_eq!(value["type"], "error");
        }
    }

    #[test]
    fn context_overflow_reads_prompt_is_too_long() {
        for body in [
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#,
            r#"{"object":"error","message":"x","type":"BadRequestError","error":{"message":"This model's maximum context length is 32768 tokens"}}"#,
        ] {
            let (status, value) = translated(400, body);
            assert_eq!(status, 400);
            assert_eq!(value["error"]["type"], "invalid_request_error");
            let message = value["error"]["message"].as_str().unwrap();
            assert!(message.starts_with("prompt is too long: "), "{message}");
        }
    }

    #[test]
    fn stream_errors_keep_their_kind() {
        let error = stream_error(&serde_json::json!({"message": "Overloaded", "code": 529}));
        assert_eq!(error.error_type, ErrorType::OverloadedError);
        let error = stream_error(
            &serde_json::json!({"message": "slow down", "code": "rate_limit_exceeded"}),
        );
        assert_eq!(error.error_type, ErrorType::RateLimitError);
        let error = stream_error(&serde_json::json!("boom"));
        assert_eq!(error.error_type, ErrorType::ApiError);
    }
}
