//! Google credentials: file discovery, the signed assertion, and fetching
//! from mock token endpoints.

use std::collections::HashMap;

use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

use super::*;
use crate::credentials::token::TokenCache;
use crate::test_util::{TokenEndpoint, form_fields};

const TEST_KEY: &str = include_str!("../../testdata/test_rsa_pkcs8.pem");

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn service_account_json(token_uri: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "p",
        "private_key_id": "kid-1",
        "private_key": TEST_KEY,
        "client_email": "relay@p.iam.gserviceaccount.com",
        "token_uri": token_uri,
    })
    .to_string()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn discovery_order_is_config_env_gcloud_then_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let configured = write(
        &dir,
        "a.json",
        &service_account_json("http://127.0.0.1:1/a"),
    );
    let from_env = write(
        &dir,
        "b.json",
        &service_account_json("http://127.0.0.1:1/b"),
    );
    let env = env_of(&[("GOOGLE_APPLICATION_CREDENTIALS", &from_env)]);
    let source = token_source(Some(&configured), &env).unwrap();
    assert!(format!("{source:?}").contains("/a"), "{source:?}");
    let source = token_source(None, &env).unwrap();
    assert!(format!("{source:?}").contains("/b"), "{source:?}");

    let gcloud = dir.path().join(".config/gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    let user = serde_json::json!({
        "type": "authorized_user", "client_id": "cid", "client_secret": "csecret",
        "refresh_token": "rtoken"
    });
    std::fs::write(
        gcloud.join("application_default_credentials.json"),
        user.to_string(),
    )
    .unwrap();
    let home = dir.path().to_string_lossy().into_owned();
    let source = token_source(None, &env_of(&[("HOME", &home)])).unwrap();
    assert_eq!(source.describe(), "gcloud user credentials (client cid)");
    let debug = format!("{source:?}");
    assert!(
        !debug.contains("csecret") && !debug.contains("rtoken"),
        "{debug}"
    );

    let source = token_source(None, &env_of(&[("GCE_METADATA_HOST", "127.0.0.1:9")])).unwrap();
    assert_eq!(source.describe(), "the metadata server at 127.0.0.1:9");
}

#[test]
fn bad_files_are_explained_without_their_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "bad.json",
        r#"{"type": "service_account", "private_key": "sekrit"#,
    );
    let err = from_file(Path::new(&path), "gcp_credentials_file").unwrap_err();
    assert!(err.contains("not a valid credentials file"), "{err}");
    assert!(!err.contains("sekrit"));

    let path = write(
        &dir,
        "nokey.json",
        r#"{"type":"service_account","client_email":"e","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#,
    );
    let err = from_file(Path::new(&path), "gcp_credentials_file").unwrap_err();
    assert!(err.contains("not an RSA PKCS#8 key"), "{err}");

    let path = write(&dir, "ext.json", r#"{"type":"external_account"}"#);
    let err = from_file(Path::new(&path), "x").unwrap_err();
    assert!(err.contains("`external_account`"), "{err}");
    let err = from_file(&dir.path().join("missing.json"), "x").unwrap_err();
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn the_assertion_is_a_verifiable_rs256_jwt() {
    let key = RsaKeyPair::from_pkcs8(&pem_to_der(TEST_KEY).unwrap()).unwrap();
    let public = key.public().as_ref().to_vec();
    let account = ServiceAccount {
        email: "relay@p.iam.gserviceaccount.com".into(),
        key_id: Some("kid-1".into()),
        key,
        token_uri: "https://oauth2.example/token".parse().unwrap(),
    };
    let now = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let jwt = account.assertion(now).unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let decode = |part: &str| -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    assert_eq!(
        decode(parts[0]),
        serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
    );
    assert_eq!(
        decode(parts[1]),
        serde_json::json!({
            "iss": "relay@p.iam.gserviceaccount.com",
            "scope": CLOUD_PLATFORM_SCOPE,
            "aud": "https://oauth2.example/token",
            "iat": 1_700_000_000u64,
            "exp": 1_700_003_600u64,
        })
    );
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let signed = format!("{}.{}", parts[0], parts[1]);
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
        .verify(signed.as_bytes(), &signature)
        .expect("the signature verifies with the key's public half");
}

#[tokio::test]
async fn service_account_tokens_come_from_the_files_token_uri_once() {
    let endpoint = TokenEndpoint::start("ya29.test-token", 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "sa.json",
        &service_account_json(&endpoint.url("/token")),
    );
    let cache = TokenCache::new(from_file(Path::new(&path), "test").unwrap());
    for _ in 0..3 {
        assert_eq!(cache.token().await.unwrap().expose(), "ya29.test-token");
    }
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/token");
    let fields = form_fields(&requests[0].body);
    assert_eq!(
        fields["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(fields["assertion"].split('.').count(), 3);
}

#[tokio::test]
async fn authorized_user_and_metadata_sources_fetch_tokens() {
    let endpoint = TokenEndpoint::start("user-token", 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let user = serde_json::json!({
        "type": "authorized_user", "client_id": "cid", "client_secret": "cs",
        "refresh_token": "rt", "token_uri": endpoint.url("/oauth")
    });
    let path = write(&dir, "user.json", &user.to_string());
    let cache = TokenCache::new(from_file(Path::new(&path), "test").unwrap());
    assert_eq!(cache.token().await.unwrap().expose(), "user-token");
    let fields = form_fields(&endpoint.requests()[0].body);
    assert_eq!(fields["grant_type"], "refresh_token");
    assert_eq!(fields["refresh_token"], "rt");

    let host = endpoint.url("").trim_start_matches("http://").to_owned();
    let source = token_source(None, &env_of(&[("GCE_METADATA_HOST", &host)])).unwrap();
    let cache = TokenCache::new(source);
    assert_eq!(cache.token().await.unwrap().expose(), "user-token");
    let request = &endpoint.requests()[1];
    assert!(
        request
            .path
            .starts_with("/computeMetadata/v1/instance/service-accounts/default/token?scopes="),
        "{}",
        request.path
    );
    assert_eq!(request.headers["metadata-flavor"], "Google");
}

#[tokio::test]
async fn token_endpoint_errors_are_reported() {
    let endpoint = TokenEndpoint::failing(
        401,
        r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "sa.json",
        &service_account_json(&endpoint.url("/token")),
    );
    let cache = TokenCache::new(from_file(Path::new(&path), "test").unwrap());
    let err = cache.token().await.unwrap_err();
    assert_eq!(
        err,
        "the token endpoint answered HTTP 401: Invalid JWT Signature."
    );
}
