//! Small encoders the cloud providers share: URL path segments and
//! `application/x-www-form-urlencoded` bodies for token requests.

use std::fmt::Write as _;

/// Percent-encodes everything but RFC 3986's unreserved characters, so a
/// model id such as `anthropic.claude-v2:1` or an inference-profile ARN
/// (with `/` and `:`) stays one path segment.
pub(crate) fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// An `application/x-www-form-urlencoded` body from name/value pairs.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_component(name, &mut out);
        out.push('=');
        form_component(value, &mut out);
    }
    out
}

fn form_component(value: &str, out: &mut String) {
    for byte in value.bytes() {
        match byte {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'*') => {
                out.push(char::from(b));
            }
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_keep_only_unreserved() {
        assert_eq!(
            path_segment("anthropic.claude-3-5-sonnet-20240620-v1:0"),
            "anthropic.claude-3-5-sonnet-20240620-v1%3A0"
        );
        assert_eq!(
            path_segment("arn:aws:bedrock:us-east-1:1:inference-profile/us.x"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x"
        );
        assert_eq!(path_segment("é ~"), "%C3%A9%20~");
    }

    #[test]
    fn form_bodies_escape_reserved_characters() {
        assert_eq!(
            form(&[("scope", "https://x/.default"), ("a b", "c&d=e+")]),
            "scope=https%3A%2F%2Fx%2F.default&a+b=c%26d%3De%2B"
        );
    }
}
