//! The Vertex provider through `prepare_request`, with a mock token endpoint.

use relay_core::inspect_request;
use serde_json::json;

use super::*;
use crate::request::prepare_request;
use crate::test_util::TokenEndpoint;

const TEST_KEY: &str = include_str!("../testdata/test_rsa_pkcs8.pem");

struct Setup {
    _dir: tempfile::TempDir,
    endpoint: TokenEndpoint,
    config: ProviderConfig,
}

async fn setup(region: &str) -> Setup {
    let endpoint = TokenEndpoint::start("ya29.vertex-token", 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sa.json");
    let file = json!({
        "type": "service_account", "client_email": "r@p.iam.gserviceaccount.com",
        "private_key": TEST_KEY, "private_key_id": "k", "token_uri": endpoint.url("/token"),
    });
    std::fs::write(&path, file.to_string()).unwrap();
    let config = ProviderConfig {
        name: "vertex".into(),
        kind: ProviderType::Vertex,
        gcp_project_id: Some("my-project".into()),
        gcp_region: Some(region.into()),
        gcp_credentials_file: Some(path.to_string_lossy().into_owned()),
        model_mapping: [(
            "claude-sonnet-4-5".to_owned(),
            "claude-sonnet-4-5@20250929".to_owned(),
        )]
        .into(),
        ..ProviderConfig::default()
    };
    Setup {
        _dir: dir,
        endpoint,
        config,
    }
}

async fn prepare(provider: &Vertex, endpoint: Endpoint, body: serde_json::Value) -> Request<Bytes> {
    let body = Bytes::from(body.to_string());
    let summary = inspect_request(&body).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("anthropic-version", "2023-06-01".parse().unwrap());
    headers.insert("anthropic-beta", "context-1m-2025-08-07".parse().unwrap());
    headers.insert("x-api-key", "client-key".parse().unwrap());
    let client = ClientRequest {
        endpoint,
        path_and_query: endpoint.as_str(),
        headers: &headers,
        body: &body,
        summary: &summary,
    };
    prepare_request(provider, &client, Credential::None)
        .await
        .unwrap()
}

#[tokio::test]
async fn messages_go_to_the_model_url_with_a_cached_token() {
    let setup = setup("us-east5").await;
    let provider = Vertex::with_env(&setup.config, &|_| None).unwrap();
    for stream in [true, false] {
        let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 8, "stream": stream,
                          "messages": [{"role": "user", "content": "hi"}]});
        let request = prepare(&provider, Endpoint::Messages, body).await;
        let method = if stream {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        assert_eq!(
            request.uri().to_string(),
            format!(
                "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:{method}"
            )
        );
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(
            body,
            json!({"max_tokens": 8, "stream": stream,
                   "messages": [{"role": "user", "content": "hi"}],
                   "anthropic_version": "vertex-2023-10-16"})
        );
        let headers = request.headers();
        assert_eq!(headers["authorization"], "Bearer ya29.vertex-token");
        assert_eq!(headers["anthropic-beta"], "context-1m-2025-08-07");
        assert!(headers.get("anthropic-version").is_none());
        assert!(headers.get("x-api-key").is_none());
    }
    assert_eq!(
        setup.endpoint.requests().len(),
        1,
        "the token is fetched once"
    );
    assert!(
        provider
            .response_decoder(Endpoint::Messages, true)
            .is_none()
    );
}

#[tokio::test]
async fn count_tokens_keeps_the_model_in_the_body() {
    let setup = setup("global").await;
    let provider = Vertex::with_env(&setup.config, &|_| None).unwrap();
    let body =
        json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]});
    let request = prepare(&provider, Endpoint::CountTokens, body).await;
    assert_eq!(
        request.uri().to_string(),
        "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global/publishers/anthropic/models/count-tokens:rawPredict"
    );
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    assert_eq!(
        body,
        json!({"model": "claude-sonnet-4-5@20250929",
               "messages": [{"role": "user", "content": "hi"}],
               "anthropic_version": "vertex-2023-10-16"})
    );
}

#[tokio::test]
async fn token_failures_are_credential_errors() {
    let endpoint = TokenEndpoint::failing(
        400,
        r#"{"error":"invalid_grant","error_description":"bad"}"#,
    )
    .await;
    let mut setup = setup("us-east5").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sa.json");
    let file = json!({"type": "service_account", "client_email": "r@p", "private_key": TEST_KEY,
                      "token_uri": endpoint.url("/token")});
    std::fs::write(&path, file.to_string()).unwrap();
    setup.config.gcp_credentials_file = Some(path.to_string_lossy().into_owned());
    let provider = Vertex::with_env(&setup.config, &|_| None).unwrap();
    let body = Bytes::from(json!({"model": "m", "max_tokens": 1}).to_string());
    let summary = inspect_request(&body).unwrap();
    let headers = HeaderMap::new();
    let client = ClientRequest {
        endpoint: Endpoint::Messages,
        path_and_query: "/v1/messages",
        headers: &headers,
        body: &body,
        summary: &summary,
    };
    let err = prepare_request(&provider, &client, Credential::None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "provider `vertex`: could not authenticate the upstream request: no Google access token from service account r@p: the token endpoint answered HTTP 400: bad"
    );
}

#[tokio::test]
async fn base_url_and_errors() {
    let mut setup = setup("europe-west1").await;
    setup.config.base_url = Some("http://127.0.0.1:9/".into());
    let provider = Vertex::with_env(&setup.config, &|_| None).unwrap();
    assert_eq!(provider.base_url(), "http://127.0.0.1:9");
    let (status, body) = provider.translate_error(StatusCode::FORBIDDEN, &http::HeaderMap::new(),
        Bytes::from_static(br#"{"error":{"code":403,"message":"Permission denied on resource project my-project.","status":"PERMISSION_DENIED"}}"#),
    );
    assert_eq!(status, StatusCode::FORBIDDEN);
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value["error"]["type"], "permission_error");
    let missing = ProviderConfig {
        gcp_credentials_file: Some("/nonexistent/sa.json".into()),
        ..setup.config.clone()
    };
    let err = Vertex::with_env(&missing, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot read /nonexistent/sa.json (gcp_credentials_file)"),
        "{err}"
    );
}
