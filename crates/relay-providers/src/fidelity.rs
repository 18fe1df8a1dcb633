//! What a backend may receive of a client's request beyond the model: which
//! `anthropic-beta` values (`betas`) and which top-level body fields
//! (`strip_fields`). Applied by [`crate::prepare_request`] to every
//! provider type after its own body transform, so a new backend gets it for
//! free. Edits splice bytes; a request that needs none goes out untouched.
//!
//! The built-in allow-lists come from the platforms' documentation and from
//! LiteLLM's per-provider table of the betas each platform accepts
//! (`litellm/anthropic_beta_headers_config.json` in BerriAI/litellm: its
//! `bedrock` and `vertex_ai` entries, identity-mapped values only). Betas a
//! platform does not know fail the whole request (`invalid beta flag`), so
//! an unknown one is dropped rather than forwarded.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use relay_config::{ProviderConfig, ProviderType};

/// Bedrock (InvokeModel): Amazon's Claude documentation lists these; the
/// newer ones follow LiteLLM's `bedrock` table.
pub const DEFAULT_BEDROCK_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "computer-use-2025-11-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
    "fine-grained-tool-streaming-2025-05-14",
    "compact-2026-01-12",
];

/// Vertex AI (rawPredict): LiteLLM's `vertex_ai` table. Claude Code's own
/// `claude-code-20250219` is not among them: Vertex refuses it.
pub const DEFAULT_VERTEX_BETAS: &[&str] = &[
    "computer-use-2025-01-24",
    "computer-use-2025-11-24",
    "compact-2026-01-12",
    "compact-2026-09-04",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "interleaved-thinking-2025-05-14",
    "per-turn-control-2026-07-01",
    "thinking-binding-controls-2026-08-01",
    "thinking-display-updates-2026-08-18",
    "tool-search-tool-2025-10-19",
    "web-search-2025-03-05",
];

/// The beta that makes `context_management` a known request field.
const CONTEXT_MANAGEMENT_BETA: &str = "context-management-";

/// Which betas travel to a backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BetaPolicy {
    All,
    Only(Vec<String>),
}

impl BetaPolicy {
    /// `betas` (or `bedrock_betas`) when set, else the type's default.
    pub fn from_config(config: &ProviderConfig) -> Self {
        match config.beta_list() {
            Some(list) if list.iter().any(|b| b.trim() == "*") => Self::All,
            Some(list) => Self::Only(list.iter().map(|b| b.trim().to_owned()).collect()),
            None => match config.kind {
                ProviderType::Bedrock => Self::only(DEFAULT_BEDROCK_BETAS),
                ProviderType::Vertex => Self::only(DEFAULT_VERTEX_BETAS),
                _ => Self::All,
            },
        }
    }

    fn only(list: &[&str]) -> Self {
        Self::Only(list.iter().map(|b| (*b).to_owned()).collect())
    }

    pub fn allows(&self, beta: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(list) => list.iter().any(|b| b == beta),
        }
    }
}

/// The fields removed from a request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StripPolicy {
    /// Exactly these, always (`strip_fields` set).
    Fields(Vec<String>),
    /// `context_management`, unless the context-management beta is forwarded
    /// (the default on Bedrock and Vertex, which refuse the field without it).
    ContextManagementWithoutBeta,
    None,
}

impl StripPolicy {
    pub fn from_config(config: &ProviderConfig) -> Self {
        match (&config.strip_fields, config.kind) {
            (Some(fields), _) => Self::Fields(fields.clone()),
            (None, ProviderType::Bedrock | ProviderType::Vertex) => {
                Self::ContextManagementWithoutBeta
            }
            (None, _) => Self::None,
        }
    }

    fn fields(&self, forwarded: &[String]) -> Vec<&str> {
        match self {
            Self::Fields(fields) => fields.iter().map(String::as_str).collect(),
            Self::ContextManagementWithoutBeta
                if !forwarded
                    .iter()
                    .any(|b| b.starts_with(CONTEXT_MANAGEMENT_BETA)) =>
            {
                vec!["context_management"]
            }
            Self::ContextManagementWithoutBeta | Self::None => Vec::new(),
        }
    }
}

/// The client's betas, from every `anthropic-beta` header (comma-separated)
/// and a body `anthropic_beta` list, once each in order, split into (kept,
/// dropped).
pub(crate) fn split_betas(
    policy: &BetaPolicy,
    headers: &HeaderMap,
    body_list: Option<Vec<String>>,
) -> (Vec<String>, Vec<String>) {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    let from_headers = headers
        .get_all("anthropic-beta")
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|b| b.trim().to_owned());
    for beta in body_list.into_iter().flatten().chain(from_headers) {
        if beta.is_empty() || kept.contains(&beta) || dropped.contains(&beta) {
            continue;
        }
        if policy.allows(&beta) {
            kept.push(beta);
        } else {
            dropped.push(beta);
        }
    }
    (kept, dropped)
}

/// The body's `anthropic_beta` list, if it has one.
pub(crate) fn body_betas(body: &[u8]) -> Option<Vec<String>> {
    memchr::memmem::find(body, b"anthropic_beta")?;
    let raw = relay_core::top_level_value(body, "anthropic_beta")?;
    serde_json::from_slice(raw).ok()
}

/// Applies both policies to a prepared request's headers and body. Returns
/// the new body when it changed.
pub(crate) fn apply(
    provider: &str,
    betas: &BetaPolicy,
    strip: &StripPolicy,
    headers: &mut HeaderMap,
    body: &Bytes,
) -> Option<Bytes> {
    let in_body = body_betas(body);
    let had_body_list = in_body.is_some();
    let body_count = in_body.as_ref().map_or(0, Vec::len);
    let (kept, dropped) = split_betas(betas, headers, in_body.clone());
    if !dropped.is_empty() {
        tracing::debug!(provider, betas = ?dropped, "dropping anthropic-beta values this provider does not accept");
        if headers.contains_key("anthropic-beta") {
            let from_headers: Vec<String> = headers
                .get_all("anthropic-beta")
                .into_iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|b| kept.iter().any(|k| k == b))
                .map(str::to_owned)
                .collect();
            headers.remove("anthropic-beta");
            let mut unique: Vec<String> = Vec::new();
            for beta in from_headers {
                if !unique.contains(&beta) {
                    unique.push(beta);
                }
            }
            if let Ok(value) = HeaderValue::from_str(&unique.join(","))
                && !unique.is_empty()
            {
                headers.insert("anthropic-beta", value);
            }
        }
    }
    let mut out: Option<Bytes> = None;
    if had_body_list && !dropped.is_empty() {
        let list: Vec<&String> = in_body
            .iter()
            .flatten()
            .filter(|b| kept.contains(b))
            .collect();
        let current = out.as_ref().unwrap_or(body);
        out = if list.is_empty() {
            relay_core::remove_top_level_fields(current, &["anthropic_beta"])
        } else if list.len() < body_count {
            let json = serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_owned());
            relay_core::replace_top_level_value(current, "anthropic_beta", &json)
        } else {
            None
        }
        .or(out);
    }
    let fields = strip.fields(&kept);
    if !fields.is_empty() {
        let current = out.as_ref().unwrap_or(body);
        if let Some(stripped) = relay_core::remove_top_level_fields(current, &fields) {
            tracing::debug!(provider, fields = ?fields, "removed request fields this provider does not accept");
            out = Some(stripped);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(kind: ProviderType) -> ProviderConfig {
        ProviderConfig {
            name: "p".into(),
            kind,
            ..ProviderConfig::default()
        }
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("anthropic-beta", v.parse().unwrap());
        }
        map
    }

    const CLAUDE_CODE_BETAS: &str = "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,thinking-token-count-2026-05-13";

    #[test]
    fn defaults_per_type() {
        for kind in [
            ProviderType::Anthropic,
            ProviderType::Zai,
            ProviderType::Minimax,
            ProviderType::Ollama,
            ProviderType::Azure,
        ] {
            assert_eq!(BetaPolicy::from_config(&config(kind)), BetaPolicy::All);
            assert_eq!(StripPolicy::from_config(&config(kind)), StripPolicy::None);
        }
        let vertex = BetaPolicy::from_config(&config(ProviderType::Vertex));
        assert!(vertex.allows("interleaved-thinking-2025-05-14"));
        assert!(!vertex.allows("claude-code-20250219"));
        let mut legacy = config(ProviderType::Bedrock);
        legacy.bedrock_betas = Some(vec!["*".into()]);
        assert_eq!(BetaPolicy::from_config(&legacy), BetaPolicy::All);
    }

    #[test]
    fn vertex_headers_are_filtered_and_context_management_stays_with_its_beta() {
        let vertex = config(ProviderType::Vertex);
        let (betas, strip) = (
            BetaPolicy::from_config(&vertex),
            StripPolicy::from_config(&vertex),
        );
        let body = Bytes::from_static(
            br#"{"max_tokens":1, "context_management": {"edits":[]}, "messages":[]}"#,
        );
        let mut h = headers(&[CLAUDE_CODE_BETAS]);
        // The context-management beta is allowed on Vertex, so the field stays.
        assert!(apply("v", &betas, &strip, &mut h, &body).is_none());
        assert_eq!(
            h["anthropic-beta"],
            "interleaved-thinking-2025-05-14,context-management-2025-06-27"
        );
        // Without the beta forwarded, the field goes.
        let only = BetaPolicy::Only(vec!["interleaved-thinking-2025-05-14".into()]);
        let mut h = headers(&[CLAUDE_CODE_BETAS]);
        let out = apply("v", &only, &strip, &mut h, &body).unwrap();
        assert_eq!(out, r#"{"max_tokens":1, "messages":[]}"#);
        assert_eq!(h["anthropic-beta"], "interleaved-thinking-2025-05-14");
    }

    #[test]
    fn a_body_list_is_filtered_in_place_and_removed_when_empty() {
        let policy = BetaPolicy::Only(vec!["a".into()]);
        let body = Bytes::from_static(br#"{"anthropic_beta": ["a", "b"], "x": 1}"#);
        let out = apply(
            "b",
            &policy,
            &StripPolicy::None,
            &mut HeaderMap::new(),
            &body,
        )
        .unwrap();
        assert_eq!(out, r#"{"anthropic_beta": ["a"], "x": 1}"#);
        let none = BetaPolicy::Only(Vec::new());
        let out = apply("b", &none, &StripPolicy::None, &mut headers(&["a"]), &body).unwrap();
        assert_eq!(out, r#"{"x": 1}"#);
        // Nothing dropped: the body and headers are untouched.
        let mut h = headers(&["a, a"]);
        assert!(apply("b", &BetaPolicy::All, &StripPolicy::None, &mut h, &body).is_none());
        assert_eq!(h["anthropic-beta"], "a, a");
    }

    #[test]
    fn configured_strip_fields_always_apply() {
        let strip = StripPolicy::Fields(vec!["metadata".into(), "service_tier".into()]);
        let body = Bytes::from_static(
            br#"{"metadata":{"user_id":"u"},"messages":[],"service_tier":"auto"}"#,
        );
        let out = apply("z", &BetaPolicy::All, &strip, &mut HeaderMap::new(), &body).unwrap();
        assert_eq!(out, r#"{"messages":[]}"#);
    }
}

#[cfg(test)]
mod model_tests {
    use relay_config::{ProviderConfig, ProviderType};

    use crate::{AnthropicCompatible, Flavor, Provider};

    #[test]
    fn upstream_model_takes_exact_keys_then_the_most_specific_pattern() {
        let config = ProviderConfig {
            name: "zai".into(),
            kind: ProviderType::Zai,
            model_mapping: [
                ("claude-*haiku*", "glm-4.5-air"),
                ("claude-opus-*", "glm-4.6"),
                ("claude-*", "glm-4.5"),
                ("claude-sonnet-4-5", "glm-4.6-exact"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            ..ProviderConfig::default()
        };
        let provider = AnthropicCompatible::new(Flavor::Zai, &config);
        for (client, upstream) in [
            ("claude-haiku-4-5-20251001", "glm-4.5-air"),
            ("claude-opus-4-8", "glm-4.6"),
            ("claude-sonnet-4-6", "glm-4.5"),
            ("claude-sonnet-4-5", "glm-4.6-exact"),
            ("glm-4.6", "glm-4.6"),
        ] {
            assert_eq!(provider.upstream_model(client), upstream, "{client}");
        }
    }
}
