//! The OpenAI-compatible provider through `prepare_request`, as the server
//! calls it, and its response decoders.

use relay_config::ReasoningField;
use relay_core::{ApiError, ErrorType, Secret, inspect_request};
use serde_json::json;

use super::*;
use crate::request::{ClientRequest, prepare_request};

fn config() -> ProviderConfig {
    let mut config = ProviderConfig {
        name: "openrouter".into(),
        kind: ProviderType::Openai,
        base_url: Some("https://openrouter.ai/api/v1/".into()),
        model_mapping: [("claude-sonnet-4-5".to_owned(), "openai/gpt-5".to_owned())].into(),
        ..ProviderConfig::default()
    };
    config
        .openai
        .headers
        .insert("X-Title".into(), "cc-relay".into());
    config
}

async fn prepare(
    provider: &OpenAi,
    body: &Value,
    credential: Credential<'_>,
) -> Result<Request<Bytes>, ProviderError> {
    let body = Bytes::from(body.to_string());
    let summary = inspect_request(&body).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("anthropic-version", "2023-06-01".parse().unwrap());
    headers.insert("anthropic-beta", "claude-code-20250219".parse().unwrap());
    headers.insert("x-claude-code-session-id", "s-1".parse().unwrap());
    let client = ClientRequest {
        endpoint: Endpoint::Messages,
        path_and_query: "/v1/messages?beta=true",
        headers: &headers,
        body: &body,
        summary: &summary,
    };
    prepare_request(provider, &client, credential).await
}

#[tokio::test]
async fn requests_go_to_chat_completions_with_a_bearer_key_and_no_anthropic_headers() {
    let provider = OpenAi::new(&config()).unwrap();
    let key = Secret::new("sk-or-v1-secret");
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 10, "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]});
    let request = prepare(&provider, &body, Credential::Key(&key))
        .await
        .unwrap();
    assert_eq!(
        request.uri(),
        "https://openrouter.ai/api/v1/chat/completions"
    );
    let headers = request.headers();
    assert_eq!(headers["authorization"], "Bearer sk-or-v1-secret");
    assert!(headers["authorization"].is_sensitive());
    assert_eq!(headers["x-title"], "cc-relay");
    assert_eq!(headers["content-type"], "application/json");
    for name in [
        "anthropic-version",
        "anthropic-beta",
        "x-claude-code-session-id",
        "x-api-key",
    ] {
        assert!(headers.get(name).is_none(), "{name} must not travel");
    }
    let sent: Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(sent["model"], "openai/gpt-5");
    assert_eq!(sent["messages"], json!([{"role": "user", "content": "hi"}]));

    // A local server without keys gets no credential, never the client's own.
    let request = prepare(&provider, &body, Credential::ClientOwn)
        .await
        .unwrap();
    assert!(request.headers().get("authorization").is_none());
}

#[tokio::test]
async fn an_inexpressible_request_is_refused_as_the_clients_error() {
    let provider = OpenAi::new(&config()).unwrap();
    let body = json!({"model": "m", "max_tokens": 10, "messages": [],
                      "tools": [{"type": "web_search_20250305", "name": "web_search"}]});
    let err = prepare(&provider, &body, Credential::None)
        .await
        .unwrap_err();
    assert!(err.is_refusal());
    let api = ApiError::from(err);
    assert_eq!(api.error_type, ErrorType::InvalidRequestError);
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert!(
        api.message.contains("web_search_20250305"),
        "{}",
        api.message
    );
}

#[test]
fn defaults_and_endpoints() {
    let provider = OpenAi::new(&ProviderConfig {
        name: "oai".into(),
        kind: ProviderType::Openai,
        ..ProviderConfig::default()
    })
    .unwrap();
    assert_eq!(provider.base_url(), OPENAI_BASE_URL);
    assert_eq!(
        provider.health_check_uri().unwrap(),
        "https://api.openai.com/v1/models"
    );
    assert!(provider.supports(Endpoint::Messages));
    assert!(!provider.supports(Endpoint::CountTokens));
    assert_eq!(
        provider
            .response_decoder(Endpoint::Messages, false)
            .unwrap()
            .content_type(),
        "application/json"
    );
    assert_eq!(
        provider
            .response_decoder(Endpoint::Messages, true)
            .unwrap()
            .content_type(),
        "text/event-stream"
    );
    let bad = OpenAi::new(&ProviderConfig {
        base_url: Some("not a url".into()),
        ..config()
    });
    assert!(bad.is_err());
}

#[test]
fn a_json_completion_becomes_an_anthropic_message() {
    let completion = json!({
        "id": "chatcmpl-abc123", "object": "chat.completion", "model": "deepseek-reasoner",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant",
            "reasoning_content": "Think first.",
            "content": "\n\n",
            "tool_calls": [
                {"id": "call_0", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
                {"id": "call_0", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"a\"}"}}
            ]
        }}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "prompt_cache_hit_tokens": 64}
    });
    let mut decoder = ChatJsonDecoder::with_nonce(ReasoningField::Auto, "N".into());
    let text = completion.to_string();
    let (a, b) = text.split_at(text.len() / 2);
    assert!(
        decoder
            .decode(Bytes::from(a.to_owned()))
            .unwrap()
            .is_empty()
    );
    assert!(
        decoder
            .decode(Bytes::from(b.to_owned()))
            .unwrap()
            .is_empty()
    );
    let message: Value = serde_json::from_slice(&decoder.finish().unwrap()).unwrap();
    assert_eq!(
        message,
        json!({
            "id": "msg_chatcmpl-abc123", "type": "message", "role": "assistant",
            "model": "deepseek-reasoner",
            "content": [
                {"type": "thinking", "thinking": "Think first.", "signature": ""},
                {"type": "tool_use", "id": "toolu_call_0_N", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_call_0_N_1", "name": "Read", "input": {"file_path": "a"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 36, "output_tokens": 20,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 64}
        })
    );
}

#[test]
fn a_json_body_that_is_not_a_completion_fails_to_decode() {
    let mut decoder = ChatJsonDecoder::new(ReasoningField::Auto);
    decoder
        .decode(Bytes::from_static(b"{\"choices\": []}"))
        .unwrap();
    assert!(decoder.finish().is_err());
    let mut decoder = ChatJsonDecoder::new(ReasoningField::Auto);
    decoder.decode(Bytes::from_static(b"<html>")).unwrap();
    assert!(decoder.finish().is_err());
}
