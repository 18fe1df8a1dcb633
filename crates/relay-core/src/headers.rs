//! Header names the relay gives meaning to, and which of them are secret.

use http::HeaderName;

/// Claude Code's per-conversation id, used for affinity.
pub const CLAUDE_CODE_SESSION_ID: &str = "x-claude-code-session-id";
/// The request id the relay accepts, generates and echoes.
pub const REQUEST_ID: &str = "x-request-id";

/// Headers whose values are credentials. They are never logged, never echoed,
/// and never forwarded upstream except as a provider decides (transparent mode).
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-goog-api-key",
    "api-key",
    "x-amz-security-token",
];

/// Whether a header carries a credential and must be redacted wherever it is shown.
pub fn is_secret_header(name: &HeaderName) -> bool {
    let name = name.as_str();
    SECRET_HEADERS.contains(&name)
}

/// The text shown instead of a secret value.
pub const REDACTED: &str = "[redacted]";

/// Hop-by-hop headers (RFC 9110 §7.6.1) that a proxy must not forward.
pub fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "proxy-authenticate"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_secret() {
        for name in ["authorization", "x-api-key", "cookie"] {
            assert!(is_secret_header(&HeaderName::from_static(name)), "{name}");
        }
        assert!(!is_secret_header(&HeaderName::from_static(
            "anthropic-version"
        )));
    }

    #[test]
    fn hop_by_hop_headers_are_known() {
        assert!(is_hop_by_hop(&HeaderName::from_static("transfer-encoding")));
        assert!(!is_hop_by_hop(&HeaderName::from_static("content-type")));
    }
}
