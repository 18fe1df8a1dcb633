//! The Bedrock provider through `prepare_request`, as the server calls it.

use relay_config::KeyConfig;
use relay_core::{Secret, inspect_request};
use serde_json::json;

use super::*;
use crate::request::{ClientRequest, prepare_request};

fn config() -> ProviderConfig {
    ProviderConfig {
        name: "bedrock".into(),
        kind: ProviderType::Bedrock,
        aws_region: Some("eu-west-1".into()),
        aws_access_key_id: Some(Secret::new("AKIDEXAMPLE")),
        aws_secret_access_key: Some(Secret::new("bedrock-secret-key")),
        model_mapping: [(
            "claude-sonnet-4-5".to_owned(),
            "eu.anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned(),
        )]
        .into(),
        ..ProviderConfig::default()
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

async fn prepare(
    provider: &Bedrock,
    endpoint: Endpoint,
    body: &serde_json::Value,
    credential: Credential<'_>,
) -> Result<Request<Bytes>, ProviderError> {
    let body = Bytes::from(body.to_string());
    let summary = inspect_request(&body).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("anthropic-version", "2023-06-01".parse().unwrap());
    headers.insert(
        "anthropic-beta",
        "claude-code-20250219,interleaved-thinking-2025-05-14"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "x-amzn-bedrock-guardrailidentifier",
        "gr-1".parse().unwrap(),
    );
    headers.insert("x-claude-code-session-id", "s-1".parse().unwrap());
    headers.insert("content-type", "application/json".parse().unwrap());
    let client = ClientRequest {
        endpoint,
        path_and_query: endpoint.as_str(),
        headers: &headers,
        body: &body,
        summary: &summary,
    };
    prepare_request(provider, &client, credential).await
}

fn message(stream: bool) -> serde_json::Value {
    json!({"model": "claude-sonnet-4-5", "max_tokens": 32, "stream": stream,
           "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn streaming_requests_are_rewritten_and_signed() {
    let provider = Bedrock::with_env(&config(), &no_env).unwrap();
    let request = prepare(
        &provider,
        Endpoint::Messages,
        &message(true),
        Credential::None,
    )
    .await
    .unwrap();
    assert_eq!(
        request.uri(),
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
    );
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(
        body,
        json!({"max_tokens": 32, "messages": [{"role": "user", "content": "hi"}],
               "anthropic_version": "bedrock-2023-05-31",
               "anthropic_beta": ["interleaved-thinking-2025-05-14"]})
    );
    let headers = request.headers();
    let names: Vec<&str> = {
        let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names
    };
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-type",
            "x-amz-date",
            "x-amzn-bedrock-guardrailidentifier"
        ]
    );
    assert_eq!(headers["accept"], "application/vnd.amazon.eventstream");
    let authorization = headers["authorization"].to_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{authorization}"
    );
    assert!(authorization.contains("/eu-west-1/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amzn-bedrock-guardrailidentifier, Signature="));
    assert!(
        provider
            .response_decoder(Endpoint::Messages, true)
            .is_some()
    );
}

#[tokio::test]
async fn non_streaming_requests_use_invoke_and_no_decoder() {
    let provider = Bedrock::with_env(&config(), &no_env).unwrap();
    let request = prepare(
        &provider,
        Endpoint::Messages,
        &message(false),
        Credential::None,
    )
    .await
    .unwrap();
    assert!(request.uri().path().ends_with("/invoke"));
    assert_eq!(request.headers()["accept"], "application/json");
    assert!(
        provider
            .response_decoder(Endpoint::Messages, false)
            .is_none()
    );
}

#[tokio::test]
async fn pool_keys_are_bedrock_api_keys() {
    let mut config = config();
    config.aws_access_key_id = None;
    config.aws_secret_access_key = None;
    config.keys = vec![KeyConfig {
        key: Secret::new("bedrock-api-key-1"),
        ..KeyConfig::default()
    }];
    let provider = Bedrock::with_env(&config, &no_env).unwrap();
    let key = Secret::new("bedrock-api-key-1");
    let request = prepare(
        &provider,
        Endpoint::Messages,
        &message(false),
        Credential::Key(&key),
    )
    .await
    .unwrap();
    assert_eq!(
        request.headers()["authorization"],
        "Bearer bedrock-api-key-1"
    );
    assert!(request.headers()["authorization"].is_sensitive());
    assert!(request.headers().get("x-amz-date").is_none());
}

#[tokio::test]
async fn the_environment_bearer_token_is_used_without_keys() {
    let mut config = config();
    config.aws_access_key_id = None;
    config.aws_secret_access_key = None;
    let env = |name: &str| (name == "AWS_BEARER_TOKEN_BEDROCK").then(|| "env-api-key".to_owned());
    let provider = Bedrock::with_env(&config, &env).unwrap();
    let request = prepare(
        &provider,
        Endpoint::Messages,
        &message(false),
        Credential::None,
    )
    .await
    .unwrap();
    assert_eq!(request.headers()["authorization"], "Bearer env-api-key");
}

#[tokio::test]
async fn count_tokens_is_refused_clearly() {
    let provider = Bedrock::with_env(&config(), &no_env).unwrap();
    let err = prepare(
        &provider,
        Endpoint::CountTokens,
        &message(false),
        Credential::None,
    )
    .await
    .unwrap_err();
    let api = relay_core::ApiError::from(err);
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.message,
        "provider `bedrock` does not support /v1/messages/count_tokens"
    );
}

#[test]
fn building_fails_clearly_without_credentials_and_never_leaks_them() {
    let mut bare = config();
    bare.aws_access_key_id = None;
    bare.aws_secret_access_key = None;
    let err = Bedrock::with_env(&bare, &no_env).unwrap_err().to_string();
    assert!(
        err.starts_with("provider `bedrock`: no AWS credentials found"),
        "{err}"
    );

    let provider = Bedrock::with_env(&config(), &no_env).unwrap();
    let debug = format!("{provider:?}");
    assert!(
        !debug.contains("AKIDEXAMPLE") && !debug.contains("bedrock-secret-key"),
        "{debug}"
    );
    assert_eq!(
        provider.base_url(),
        "https://bedrock-runtime.eu-west-1.amazonaws.com"
    );
    assert_eq!(provider.region(), "eu-west-1");
}

#[test]
fn the_error_type_header_names_the_exception_when_the_body_does_not() {
    let provider = Bedrock::with_env(&config(), &no_env).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-amzn-errortype", http::HeaderValue::from_static("UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/"));
    let (status, body) = provider.translate_error(
        StatusCode::FORBIDDEN,
        &headers,
        Bytes::from_static(
            br#"{"message":"The security token included in the request is invalid."}"#,
        ),
    );
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["error"]["type"], "authentication_error", "{value}");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn errors_are_translated() {
    let provider = Bedrock::with_env(&config(), &no_env).unwrap();
    let (status, body) = provider.translate_error(
        StatusCode::TOO_MANY_REQUESTS,
        &http::HeaderMap::new(),
        Bytes::from_static(br#"{"message":"Too many tokens, please wait before trying again."}"#),
    );
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["error"]["type"], "rate_limit_error");
}
