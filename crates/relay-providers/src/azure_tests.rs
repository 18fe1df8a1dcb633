//! The Azure AI Foundry provider through `prepare_request`.

use relay_config::KeyConfig;
use relay_core::{Secret, inspect_request};
use serde_json::json;

use super::*;
use crate::provider::Endpoint;
use crate::request::prepare_request;
use crate::test_util::TokenEndpoint;

fn config() -> ProviderConfig {
    ProviderConfig {
        name: "foundry".into(),
        kind: ProviderType::Azure,
        azure_resource_name: Some("my-resource".into()),
        keys: vec![KeyConfig {
            key: Secret::new("azure-resource-key"),
            ..KeyConfig::default()
        }],
        model_mapping: [(
            "claude-sonnet-4-5".to_owned(),
            "sonnet-deployment".to_owned(),
        )]
        .into(),
        ..ProviderConfig::default()
    }
}

async fn prepare(provider: &Azure, model: &str, credential: Credential<'_>) -> Request<Bytes> {
    let body = Bytes::from(json!({"model": model, "max_tokens": 8, "stream": true}).to_string());
    let summary = inspect_request(&body).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("anthropic-version", "2023-06-01".parse().unwrap());
    headers.insert("authorization", "Bearer client-token".parse().unwrap());
    let client = ClientRequest {
        endpoint: Endpoint::Messages,
        path_and_query: "/v1/messages?beta=true",
        headers: &headers,
        body: &body,
        summary: &summary,
    };
    prepare_request(provider, &client, credential)
        .await
        .unwrap()
}

#[tokio::test]
async fn resource_keys_and_deployments() {
    let provider = Azure::with_env(&config(), &|_| None).unwrap();
    let key = Secret::new("azure-resource-key");
    let request = prepare(&provider, "claude-sonnet-4-5", Credential::Key(&key)).await;
    assert_eq!(
        request.uri(),
        "https://my-resource.services.ai.azure.com/anthropic/v1/messages"
    );
    assert_eq!(request.headers()["x-api-key"], "azure-resource-key");
    assert_eq!(request.headers()["anthropic-version"], "2023-06-01");
    assert!(request.headers().get("authorization").is_none());
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(
        body,
        json!({"model": "sonnet-deployment", "max_tokens": 8, "stream": true})
    );
    assert!(
        provider
            .response_decoder(Endpoint::Messages, true)
            .is_none()
    );
}

#[tokio::test]
async fn a_default_deployment_and_api_version() {
    let mut config = config();
    config.azure_deployment_id = Some("default-deployment".into());
    config.azure_api_version = Some("2025-01-01".into());
    config.base_url = Some("http://127.0.0.1:9/anthropic/".into());
    let provider = Azure::with_env(&config, &|_| None).unwrap();
    let key = Secret::new("azure-resource-key");
    let request = prepare(&provider, "claude-haiku-4-5", Credential::Key(&key)).await;
    assert_eq!(
        request.uri(),
        "http://127.0.0.1:9/anthropic/v1/messages?api-version=2025-01-01"
    );
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(body["model"], "default-deployment");
    // The mapping still wins where it has an entry.
    assert_eq!(
        provider.upstream_model("claude-sonnet-4-5"),
        "sonnet-deployment"
    );
}

#[tokio::test]
async fn entra_id_tokens_without_keys() {
    let endpoint = TokenEndpoint::start("entra-access-token", 3600).await;
    let mut config = config();
    config.keys.clear();
    config.azure_tenant_id = Some("tenant".into());
    config.azure_client_id = Some("client".into());
    config.azure_client_secret = Some(Secret::new("client-secret"));
    config.azure_authority_host = Some(endpoint.url(""));
    let provider = Azure::with_env(&config, &|_| None).unwrap();
    for _ in 0..2 {
        let request = prepare(&provider, "claude-sonnet-4-5", Credential::None).await;
        assert_eq!(
            request.headers()["authorization"],
            "Bearer entra-access-token"
        );
        assert!(request.headers().get("x-api-key").is_none());
    }
    assert_eq!(endpoint.requests().len(), 1);
    assert!(!format!("{provider:?}").contains("client-secret"));
}

#[test]
fn missing_credentials_and_errors() {
    let mut bare = config();
    bare.keys.clear();
    let err = Azure::with_env(&bare, &|_| None).unwrap_err().to_string();
    assert!(
        err.starts_with("provider `foundry`: no credentials"),
        "{err}"
    );

    let provider = Azure::with_env(&config(), &|_| None).unwrap();
    let (status, body) = provider.translate_error(StatusCode::NOT_FOUND, &http::HeaderMap::new(),
        Bytes::from_static(br#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#),
    );
    assert_eq!(status, StatusCode::NOT_FOUND);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["error"]["type"], "not_found_error");
    assert_eq!(
        value["error"]["message"],
        "Azure AI Foundry DeploymentNotFound: The API deployment for this resource does not exist."
    );
    // Anthropic-shaped errors from Foundry pass unchanged.
    let anthropic = Bytes::from_static(
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    let out = provider.translate_error(
        StatusCode::from_u16(529).unwrap(),
        &http::HeaderMap::new(),
        anthropic.clone(),
    );
    assert_eq!(out.1, anthropic);
}
