//! Turning a cloud backend's own error bodies into Anthropic's error shape.
//!
//! Bedrock answers `{"message": "..."}` (type in a header, sometimes in
//! `__type`), Google `{"error": {"code", "message", "status"}}` (sometimes in
//! a one-element list), Azure's gateway `{"error": {"code", "message"}}`.
//! Clients and the router's failover understand one vocabulary, so each is
//! rewritten; a body that already has the Anthropic shape is kept as is.

use bytes::Bytes;
use http::StatusCode;
use relay_core::{ApiError, ErrorType};
use serde_json::Value;

/// Longest upstream message quoted in a translated error.
const MAX_MESSAGE_CHARS: usize = 1000;

/// An Anthropic error body.
pub(crate) fn error_body(error_type: ErrorType, message: &str) -> Bytes {
    ApiError::new(error_type.default_status(), error_type, message).to_json()
}

/// Whether `value` already is `{"type":"error","error":{"type":..}}`.
pub(crate) fn is_anthropic_error(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("error")
        && value
            .get("error")
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            .is_some()
}

/// The Anthropic error type for an HTTP status, when nothing more precise is known.
pub(crate) fn type_for_status(status: StatusCode) -> ErrorType {
    match status.as_u16() {
        400 | 422 => ErrorType::InvalidRequestError,
        401 => ErrorType::AuthenticationError,
        403 => ErrorType::PermissionError,
        404 => ErrorType::NotFoundError,
        408 | 504 => ErrorType::TimeoutError,
        413 => ErrorType::RequestTooLarge,
        429 => ErrorType::RateLimitError,
        503 | 529 => ErrorType::OverloadedError,
        _ => ErrorType::ApiError,
    }
}

/// The human-readable message in a foreign error body, if any.
pub(crate) fn foreign_message(value: &Value) -> Option<String> {
    let value = match value {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let error = value.get("error");
    let message = text(value.get("message"))
        .or_else(|| text(value.get("Message")))
        .or_else(|| text(error.and_then(|e| e.get("message"))))
        .or_else(|| text(value.get("error_description")))
        .or_else(|| text(error))?;
    Some(truncate(&message))
}

/// A foreign error code in the body (`__type`, `code`, Google's `status`), if any.
pub(crate) fn foreign_code(value: &Value) -> Option<String> {
    let value = match value {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let error = value.get("error");
    [
        value.get("__type"),
        value.get("code"),
        value.get("Code"),
        error.and_then(|e| e.get("status")),
        error.and_then(|e| e.get("code")),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| v.as_str().map(str::to_owned))
}

fn truncate(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

/// The generic translation: keeps Anthropic-shaped bodies, otherwise maps the
/// status (refined by `classify` on the foreign code) to an Anthropic type and
/// that type's status, keeping the upstream's message.
pub(crate) fn translate(
    status: StatusCode,
    body: &Bytes,
    header_code: Option<&str>,
    backend: &str,
    classify: impl Fn(&str) -> Option<ErrorType>,
) -> (StatusCode, Bytes) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if parsed.as_ref().is_some_and(is_anthropic_error) {
        return (status, body.clone());
    }
    let code = parsed
        .as_ref()
        .and_then(foreign_code)
        .or_else(|| header_code.map(str::to_owned));
    let error_type = code
        .as_deref()
        .and_then(&classify)
        .unwrap_or_else(|| type_for_status(status));
    let message = parsed
        .as_ref()
        .and_then(foreign_message)
        .or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            (!text.is_empty()).then(|| truncate(text))
        })
        .unwrap_or_else(|| format!("{backend} answered HTTP {}", status.as_u16()));
    let message = match code {
        Some(code) => format!("{backend} {}: {message}", short_code(&code)),
        None => format!("{backend}: {message}"),
    };
    (
        error_type.default_status(),
        error_body(error_type, &message),
    )
}

/// `ThrottlingException` from `com.amazon.coral.service#ThrottlingException`
/// or `ThrottlingException:http://internal.amazon.com/...`.
pub(crate) fn short_code(code: &str) -> &str {
    let code = code.rsplit('#').next().unwrap_or(code);
    code.split(':').next().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &Bytes) -> Value {
        serde_json::from_slice(body).unwrap()
    }

    #[test]
    fn anthropic_errors_are_kept() {
        let body = Bytes::from_static(br#"{"type":"error","error":{"type":"x","message":"m"}}"#);
        let (status, out) = translate(StatusCode::IM_A_TEAPOT, &body, None, "b", |_| None);
        assert_eq!((status, out), (StatusCode::IM_A_TEAPOT, body));
    }

    #[test]
    fn google_errors_map_by_status_and_keep_the_message() {
        let body = Bytes::from_static(
            br#"[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]"#,
        );
        let (status, out) = translate(
            StatusCode::TOO_MANY_REQUESTS,
            &body,
            None,
            "Vertex AI",
            |_| None,
        );
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let v = parse(&out);
        assert_eq!(v["error"]["type"], "rate_limit_error");
        assert_eq!(
            v["error"]["message"],
            "Vertex AI RESOURCE_EXHAUSTED: Quota exceeded"
        );
    }

    #[test]
    fn unavailable_becomes_overloaded_529_and_plain_text_is_quoted() {
        let body = Bytes::from_static(b"upstream connect error");
        let (status, out) = translate(
            StatusCode::SERVICE_UNAVAILABLE,
            &body,
            None,
            "Azure",
            |_| None,
        );
        assert_eq!(status.as_u16(), 529);
        let v = parse(&out);
        assert_eq!(v["error"]["type"], "overloaded_error");
        assert_eq!(v["error"]["message"], "Azure: upstream connect error");
        let (_, out) = translate(
            StatusCode::BAD_GATEWAY,
            &Bytes::new(),
            None,
            "Azure",
            |_| None,
        );
        assert_eq!(
            parse(&out)["error"]["message"],
            "Azure: Azure answered HTTP 502"
        );
    }

    #[test]
    fn codes_are_shortened() {
        assert_eq!(
            short_code("com.amazon.coral.validate#ValidationException"),
            "ValidationException"
        );
        assert_eq!(
            short_code("ThrottlingException:http://internal.amazon.com/coral/"),
            "ThrottlingException"
        );
    }

    #[test]
    fn long_messages_are_truncated() {
        let long = "x".repeat(5000);
        assert_eq!(truncate(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }
}
