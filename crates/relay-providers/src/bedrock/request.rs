//! The Bedrock request: the model moves into the URL, `model` and `stream`
//! leave the body, `anthropic_version` is added, and the client's
//! `anthropic-beta` header values move into the body's `anthropic_beta`,
//! keeping only the betas the provider's `betas` policy allows (Bedrock
//! rejects betas it does not know; see [`crate::fidelity`]).

use bytes::Bytes;
use http::{HeaderMap, Uri};

use crate::encoding::path_segment;
use crate::error::ProviderError;
use crate::fidelity::{BetaPolicy, split_betas};
use crate::json_body::TopLevel;

/// The `anthropic_version` Bedrock requires.
pub const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// The body Bedrock's `InvokeModel` takes for a Messages request.
pub(crate) fn transform_body(
    provider: &str,
    body: &Bytes,
    headers: &HeaderMap,
    filter: &BetaPolicy,
) -> Result<Bytes, ProviderError> {
    let mut top = TopLevel::parse(body).map_err(|err| ProviderError::Request {
        provider: provider.to_owned(),
        message: format!("the request body is not a JSON object: {err}"),
    })?;
    let in_body = top
        .get("anthropic_beta")
        .and_then(|raw| serde_json::from_str::<Vec<String>>(raw).ok());
    let (kept, dropped) = split_betas(filter, headers, in_body);
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

    fn policy(list: Option<&[&str]>) -> BetaPolicy {
        BetaPolicy::from_config(&relay_config::ProviderConfig {
            kind: relay_config::ProviderType::Bedrock,
            betas: list.map(|l| l.iter().map(|b| (*b).to_owned()).collect()),
            ..relay_config::ProviderConfig::default()
        })
    }

    fn headers(betas: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for beta in betas {
            map.append("anthropic-beta", beta.parse().unwrap());
        }
        map
    }

    fn transform(body: &str, betas: &[&str], filter: &BetaPolicy) -> serde_json::Value {
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
            &policy(None),
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
            transform_body("b", &Bytes::from(body), &HeaderMap::new(), &BetaPolicy::All).unwrap();
        assert_eq!(
            out,
            r#"{"messages":[{"role":"user","content":"x"}],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}"#
        );
    }

    #[test]
    fn the_allow_list_is_configurable() {
        let body =
            r#"{"model":"m","anthropic_beta":["a"],"anthropic_version":"bedrock-2023-05-31"}"#;
        let custom = policy(Some(&["b"]));
        let out = transform(body, &["b, c", "b"], &custom);
        assert_eq!(
            out,
            json!({"anthropic_version": "bedrock-2023-05-31", "anthropic_beta": ["b"]})
        );
        let all = policy(Some(&["*"]));
        let out = transform(body, &["b, c"], &all);
        assert_eq!(out["anthropic_beta"], json!(["a", "b", "c"]));
        let none = policy(Some(&[]));
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
