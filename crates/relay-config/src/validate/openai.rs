//! Checks for `type: openai` providers: the extra headers must be sendable,
//! and must not replace what the relay sets itself (credentials, framing).

use http::{HeaderName, HeaderValue};

use super::Problems;
use crate::path::join;
use crate::schema::{ProviderConfig, ProviderType};

/// Headers the relay computes or authenticates with; an extra header must not replace them.
const RESERVED: &[&str] = &[
    "authorization",
    "x-api-key",
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
];

pub(super) fn openai_fields(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    if provider.kind != ProviderType::Openai {
        return;
    }
    let headers_at = format!("{at}.openai.headers");
    for (name, value) in &provider.openai.headers {
        let key_at = join(&headers_at, name);
        match HeaderName::from_bytes(name.as_bytes()) {
            Err(_) => out.add(
                key_at,
                "is not a valid HTTP header name: use letters, digits and `-`",
            ),
            Ok(parsed) if RESERVED.contains(&parsed.as_str()) => out.add(
                key_at,
                "is set by the relay itself (credentials go in keys): remove it",
            ),
            Ok(_) if HeaderValue::from_str(value).is_err() => out.add(
                key_at,
                "has a value that cannot be sent as a header (line breaks or control characters)",
            ),
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::transparent_default;
    use crate::schema::{ProviderConfig, ProviderType};
    use crate::validate;

    #[test]
    fn extra_headers_must_be_sendable_and_not_the_relays_own() {
        let mut config = transparent_default();
        let mut p = ProviderConfig {
            name: "or".into(),
            kind: ProviderType::Openai,
            ..ProviderConfig::default()
        };
        for (name, value) in [
            ("HTTP-Referer", "https://example.com"),
            ("X-Title", "cc-relay"),
            ("Authorization", "Bearer x"),
            ("bad name", "v"),
            ("x-ok", "line\nbreak"),
        ] {
            p.openai.headers.insert(name.into(), value.into());
        }
        config.providers.push(p);
        let found: Vec<String> = validate(&config).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(
            found
                .iter()
                .any(|f| f.contains("openai.headers.Authorization")
                    && f.contains("set by the relay"))
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("bad name") && f.contains("not a valid"))
        );
        assert!(
            found
                .iter()
                .any(|f| f.contains("x-ok") && f.contains("cannot be sent"))
        );
    }
}
