//! Bedrock's error vocabulary in Anthropic's terms, for errors before the
//! stream (HTTP status + JSON body) and exception frames inside it.
//!
//! The Anthropic type decides the status the client and the router see, so
//! failover treats Bedrock's throttling as a rate limit, its unavailability as
//! overload, and its validation errors as the client's fault.

use bytes::Bytes;
use http::StatusCode;
use relay_core::ErrorType;

use crate::translate::{self, short_code};

/// The Anthropic error type of a Bedrock exception name (either the
/// `x-amzn-ErrorType` form, `ThrottlingException`, or the event-stream
/// form, `throttlingException`).
pub(crate) fn error_type_for(exception: &str) -> Option<ErrorType> {
    let name = short_code(exception).to_ascii_lowercase();
    let name = name.strip_suffix("exception").unwrap_or(&name);
    Some(match name {
        "throttling" | "servicequotaexceeded" | "toomanyrequests" => ErrorType::RateLimitError,
        "validation" | "serialization" | "invalidrequest" => ErrorType::InvalidRequestError,
        "accessdenied" => ErrorType::PermissionError,
        "unrecognizedclient"
        | "invalidsignature"
        | "expiredtoken"
        | "incompletesignature"
        | "missingauthenticationtoken"
        | "unauthorized" => ErrorType::AuthenticationError,
        "resourcenotfound" => ErrorType::NotFoundError,
        "modeltimeout" => ErrorType::TimeoutError,
        "serviceunavailable" | "modelnotready" => ErrorType::OverloadedError,
        "internalserver" | "modelstreamerror" | "modelerror" | "internalfailure" => {
            ErrorType::ApiError
        }
        "requestentitytoolarge" | "payloadtoolarge" => ErrorType::RequestTooLarge,
        _ => return None,
    })
}

/// Translates a non-2xx Bedrock response. The exception name comes from the
/// body's `__type` / `code`, else the `x-amzn-ErrorType` header; failing
/// both, the status decides.
pub(crate) fn translate_error(
    status: StatusCode,
    error_type_header: Option<&str>,
    body: &Bytes,
) -> (StatusCode, Bytes) {
    translate::translate(status, body, error_type_header, "Bedrock", error_type_for)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn translated(status: u16, body: &str) -> (u16, serde_json::Value) {
        let status = StatusCode::from_u16(status).unwrap();
        let (status, body) = translate_error(status, None, &Bytes::from(body.to_owned()));
        (status.as_u16(), serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn bedrock_errors_become_anthropic_errors() {
        let cases = [
            (
                429,
                r#"{"message":"Too many requests, please wait before trying again."}"#,
                429,
                "rate_limit_error",
            ),
            (
                400,
                r#"{"message":"messages: field required"}"#,
                400,
                "invalid_request_error",
            ),
            (
                403,
                r#"{"message":"You don't have access to the model with the specified model ID."}"#,
                403,
                "permission_error",
            ),
            (
                404,
                r#"{"message":"Could not resolve the foundation model"}"#,
                404,
                "not_found_error",
            ),
            (
                503,
                r#"{"message":"Bedrock is unable to process your request."}"#,
                529,
                "overloaded_error",
            ),
            (
                500,
                r#"{"message":"Internal server error"}"#,
                500,
                "api_error",
            ),
            (
                408,
                r#"{"message":"Model has timed out"}"#,
                504,
                "timeout_error",
            ),
            (
                424,
                r#"{"message":"The model returned an error"}"#,
                500,
                "api_error",
            ),
        ];
        for (status, body, want_status, want_type) in cases {
            let (got_status, value) = translated(status, body);
            assert_eq!(got_status, want_status, "{body}");
            assert_eq!(value["type"], "error");
            assert_eq!(value["error"]["type"], want_type, "{body}");
            let message = value["error"]["message"].as_str().unwrap();
            assert!(message.starts_with("Bedrock: "), "{message}");
        }
    }

    #[test]
    fn an_exception_name_in_the_body_wins_over_the_status() {
        let (status, value) = translated(
            400,
            r#"{"__type":"com.amazon.coral.service#ServiceQuotaExceededException","message":"quota"}"#,
        );
        assert_eq!(status, 429);
        assert_eq!(value["error"]["type"], "rate_limit_error");
        assert_eq!(
            value["error"]["message"],
            "Bedrock ServiceQuotaExceededException: quota"
        );
        let (status, value) = translated(
            403,
            r#"{"__type":"UnrecognizedClientException","Message":"The security token included in the request is invalid."}"#,
        );
        assert_eq!(status, 401);
        assert_eq!(value["error"]["type"], "authentication_error");
    }

    #[test]
    fn stream_exception_names_map_too() {
        for (name, want) in [
            ("throttlingException", ErrorType::RateLimitError),
            ("modelStreamErrorException", ErrorType::ApiError),
            ("internalServerException", ErrorType::ApiError),
            ("validationException", ErrorType::InvalidRequestError),
            ("serviceUnavailableException", ErrorType::OverloadedError),
            ("modelTimeoutException", ErrorType::TimeoutError),
        ] {
            assert_eq!(error_type_for(name), Some(want), "{name}");
        }
        assert_eq!(error_type_for("somethingNew"), None);
    }
}
