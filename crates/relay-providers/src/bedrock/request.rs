//! The Bedrock request: the model moves into the URL, `model` and `stream`
//! leave the body, `anthropic_version` is added, and the client's
//! `anthropic-beta` header values move into the body's `anthropic_beta`,
//! keeping only the betas Bedrock accepts (it rejects the others).

use bytes::Bytes;
use http::{HeaderMap, Uri};

use crate::encoding::path_segment;
use crate::error::ProviderError;
use crate::json_body::TopLevel;

/// The `anthropic_version` Bedrock requires.
pub const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// The betas Bedrock documents for Claude models; the default allow-list.
pub const DEFAULT_BEDROCK_BETAS: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// Which betas travel to Bedrock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BetaFilter {
    All,
    Only(Vec<String>),
}

impl BetaFilter {
    pub(crate) fn from_config(betas: Option<&[String]>) -> Self {
        match betas {
            None => Self::Only(
                DEFAULT_BEDROCK_BETAS
                    .iter()
                    .map(|b| (*b).to_owned())
                    .collect(),
            ),
            Some(list) if list.iter().any(|b| b.trim() == "*") => Self::All,
            Some(list) => Self::Only(list.iter().map(|b| b.trim().to_owned()).collect()),
        }
    }

    fn allows(&self, beta: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(list) => list.iter().any(|b| b == beta),
        }
    }
}

/// The betas the client asked for (every `anthropic-beta` header, comma-separated
/// values, plus any `anthropic_beta` already in the body), in order, once each,
/// split into (kept, dropped).
fn betas(
    headers: &HeaderMap,
    body: &TopLevel<'_>,
    filter: &BetaFilter,
) -> (Vec<String>, Vec<String>) {
    let mut all: Vec<String> = Vec::new();
    if let Some(existing) = body
        .get("anthropic_beta")
        .and_then(|raw| serde_json::from_str::<Vec<String>>(raw).ok())
    {
        all.extend(existing);
    }
    for value in headers.get_all("anthropic-beta") {
        let Ok(value) = value.to_str() else { continue };
        all.extend(value.split(',').map(|b| b.trim().to_owned()));
    }
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for beta in all.into_iter().filter(|b| !b.is_empty()) {
        if kept.contains(&beta) || dropped.contains(&beta) {
            continue;
        }
        if filter.allows(&beta) {
            kept.push(beta);
        } else {
            dropped.push(beta);
        }
    }
    (kept, dropped)
}

/// The body Bedrock's `InvokeModel` takes for a Messages request.
pub(crate) fn transform_body(
    provider: &str,
    body: &Bytes,
    headers: &HeaderMap,
    filter: &BetaFilter,
) -> Result<Bytes, ProviderError> {
    let mut top = TopLevel::parse(body).map_err(|err| ProviderError::Request {
        provider: provider.to_owned(),
        message: format!("the request body is not a JSON object: {err}"),
    })?;
    let (kept, dropped) = betas(headers, &top, filter);
    if !dropped.is_empty() {
        tracing::debug!(provider, betas = ?dropped, "dropping anthropic-beta values Bedrock does not accept");
    }
    top.remove("model");
    top.remove("stream");
    top.remove("anthropic_beta");
    if !top.contains("anthropic_version") {
        top.set("anthropic_version", &BEDROCK_ANTHROPIC_VERSION);
    }
    if !kept.is_empty() {
        top.set("anthropic_beta", &kept);
    }
    Ok(top.to_bytes())
}

/// `{base}/model/{model}/invoke[-with-response-stream]`.
pub(crate) fn invoke_uri(
    provider: &str,
    base_url: &str,
    model: &str,
    stream: bool,
) -> Result<Uri, ProviderError> {
    let action = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    let path = format!("/model/{}/{action}", path_segment(model));
    crate::provider::join_uri(provider, base_url, &path)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn headers(betas: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for beta in betas {
            map.append("anthropic-beta", beta.parse().unwrap());
        }
        map
    }

    fn transform(body: &str, betas: &[&str], filter: &BetaFilter) -> serde_json::Value {
        let out =
            transform_body("b", &Bytes::from(body.to_owned()), &headers(betas), filter).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn golden_body() {
        let body = r#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"system":"be brief","messages":[{"role":"user","content":"hi"}]}"#;
        let out = transform(
            body,
            &[
                "interleaved-thinking-2025-05-14,claude-code-20250219",
                "context-1m-2025-08-07",
            ],
            &BetaFilter::from_config(None),
        );
        assert_eq!(
            out,
            json!({
                "max_tokens": 64,
                "system": "be brief",
                "messages": [{"role": "user", "content": "hi"}],
                "anthropic_version": "bedrock-2023-05-31",
                "anthropic_beta": ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"],
            })
        );
    }

    #[test]
    fn exact_bytes_without_betas() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1}"#;
        let out =
            transform_body("b", &Bytes::from(body), &HeaderMap::new(), &BetaFilter::All).unwrap();
        assert_eq!(
            out,
            r#"{"messages":[{"role":"user","content":"x"}],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}"#
        );
    }

    #[test]
    fn the_allow_list_is_configurable() {
        let body =
            r#"{"model":"m","anthropic_beta":["a"],"anthropic_version":"bedrock-2023-05-31"}"#;
        let custom = BetaFilter::from_config(Some(&["b".to_owned()]));
        let out = transform(body, &["b, c", "b"], &custom);
        assert_eq!(
            out,
            json!({"anthropic_version": "bedrock-2023-05-31", "anthropic_beta": ["b"]})
        );
        let all = BetaFilter::from_config(Some(&["*".to_owned()]));
        let out = transform(body, &["b, c"], &all);
        assert_eq!(out["anthropic_beta"], json!(["a", "b", "c"]));
        let none = BetaFilter::from_config(Some(&[]));
        assert!(
            transform(body, &["b"], &none)
                .get("anthropic_beta")
                .is_none()
        );
    }

    #[test]
    fn urls_carry_the_encoded_model() {
        let uri = invoke_uri(
            "b",
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            true,
        )
        .unwrap();
        assert_eq!(
            uri,
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        );
        let uri = invoke_uri("b", "http://127.0.0.1:9/prefix/", "m", false).unwrap();
        assert_eq!(uri, "http://127.0.0.1:9/prefix/model/m/invoke");
    }
}
