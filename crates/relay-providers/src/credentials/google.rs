//! Google OAuth2 access tokens for Vertex AI.
//!
//! Where credentials come from, first match wins: the provider's
//! `gcp_credentials_file`, `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's
//! application-default credentials (`gcloud auth application-default
//! login`), then the GCE/GKE/Cloud Run metadata server. A credentials file is
//! either a service account (a JWT assertion signed RS256 with its key, sent
//! to the file's `token_uri`) or an `authorized_user` (a refresh token).
//!
//! `ring` signs the assertion: it is already in the build through rustls and
//! takes the PKCS#8 key service-account files contain, so no RSA or JWT crate
//! is needed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::{Method, Request, Uri, header};
use relay_core::Secret;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Deserialize;

use super::http::TokenHttp;
use super::token::{AccessToken, TokenSource, form_post, request_token};
use super::{Env, read_json_file};
use crate::encoding::form;
use crate::provider::BoxFuture;

/// The scope Vertex AI needs.
pub(crate) const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
const DEFAULT_METADATA_HOST: &str = "metadata.google.internal";
/// Lifetime of the assertion; Google accepts at most one hour.
const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// The token source for a Vertex provider.
pub(crate) fn token_source(
    configured_file: Option<&str>,
    env: &Env,
) -> Result<Arc<dyn TokenSource>, String> {
    if let Some(path) = configured_file {
        return from_file(Path::new(path), "gcp_credentials_file");
    }
    if let Some(path) = env("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty()) {
        return from_file(Path::new(&path), "GOOGLE_APPLICATION_CREDENTIALS");
    }
    if let Some(path) = gcloud_adc_path(env).filter(|p| p.is_file()) {
        return from_file(&path, "gcloud application-default credentials");
    }
    let host = env("GCE_METADATA_HOST")
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_METADATA_HOST.to_owned());
    Ok(Arc::new(Metadata { host }))
}

/// `$CLOUDSDK_CONFIG/application_default_credentials.json`, else gcloud's default config directory.
fn gcloud_adc_path(env: &Env) -> Option<PathBuf> {
    let dir = match env("CLOUDSDK_CONFIG").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None if cfg!(windows) => PathBuf::from(env("APPDATA")?).join("gcloud"),
        None => PathBuf::from(env("HOME")?).join(".config").join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

#[derive(Deserialize)]
struct CredentialsFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: Option<String>,
    private_key: Option<Secret>,
    private_key_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    refresh_token: Option<Secret>,
    token_uri: Option<String>,
}

/// Reads a credentials file; `origin` says where its path came from, for messages.
pub(crate) fn from_file(path: &Path, origin: &str) -> Result<Arc<dyn TokenSource>, String> {
    let file: CredentialsFile = read_json_file(path, origin)?;
    let token_uri = file.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI);
    let token_uri: Uri = token_uri
        .parse()
        .map_err(|_| format!("the token_uri in the credentials file ({origin}) is not a URL"))?;
    let need = |field: &str| format!("the credentials file ({origin}) has no `{field}`");
    match file.kind.as_str() {
        "service_account" => {
            let email = file.client_email.ok_or_else(|| need("client_email"))?;
            let pem = file.private_key.ok_or_else(|| need("private_key"))?;
            let key = RsaKeyPair::from_pkcs8(&pem_to_der(pem.expose())?).map_err(|_| {
                format!(
                    "the private_key in the credentials file ({origin}) is not an RSA PKCS#8 key"
                )
            })?;
            Ok(Arc::new(ServiceAccount {
                email,
                key_id: file.private_key_id,
                key,
                token_uri,
            }))
        }
        "authorized_user" => Ok(Arc::new(AuthorizedUser {
            client_id: file.client_id.ok_or_else(|| need("client_id"))?,
            client_secret: file.client_secret.ok_or_else(|| need("client_secret"))?,
            refresh_token: file.refresh_token.ok_or_else(|| need("refresh_token"))?,
            token_uri,
        })),
        other => Err(format!(
            "the credentials file ({origin}) is of type `{other}`; cc-relay supports `service_account` and `authorized_user`"
        )),
    }
}

/// The DER bytes of a PEM `PRIVATE KEY` block.
fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("-----"))
        .collect();
    STANDARD
        .decode(body)
        .map_err(|_| "the private_key is not PEM-encoded".to_owned())
}

struct ServiceAccount {
    email: String,
    key_id: Option<String>,
    key: RsaKeyPair,
    token_uri: Uri,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("email", &self.email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// The signed JWT assertion (RFC 7523) for a token valid from `now`.
    fn assertion(&self, now: SystemTime) -> Result<String, String> {
        let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": self.key_id });
        let claims = serde_json::json!({
            "iss": self.email,
            "scope": CLOUD_PLATFORM_SCOPE,
            "aud": self.token_uri.to_string(),
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "could not sign the service-account assertion".to_owned())?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }
}

impl TokenSource for ServiceAccount {
    fn describe(&self) -> String {
        format!("service account {}", self.email)
    }

    fn fetch<'a>(&'a self, http: &'a TokenHttp) -> BoxFuture<'a, Result<AccessToken, String>> {
        Box::pin(async move {
            let assertion = self.assertion(SystemTime::now())?;
            let body = form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion),
            ]);
            request_token(http, form_post(self.token_uri.clone(), body)?).await
        })
    }
}

#[derive(Debug)]
struct AuthorizedUser {
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
    token_uri: Uri,
}

impl TokenSource for AuthorizedUser {
    fn describe(&self) -> String {
        format!("gcloud user credentials (client {})", self.client_id)
    }

    fn fetch<'a>(&'a self, http: &'a TokenHttp) -> BoxFuture<'a, Result<AccessToken, String>> {
        Box::pin(async move {
            let body = form(&[
                ("grant_type", "refresh_token"),
                ("client_id", &self.client_id),
                ("client_secret", self.client_secret.expose()),
                ("refresh_token", self.refresh_token.expose()),
            ]);
            request_token(http, form_post(self.token_uri.clone(), body)?).await
        })
    }
}

/// The metadata server of the machine the relay runs on.
#[derive(Debug)]
struct Metadata {
    host: String,
}

impl TokenSource for Metadata {
    fn describe(&self) -> String {
        format!("the metadata server at {}", self.host)
    }

    fn fetch<'a>(&'a self, http: &'a TokenHttp) -> BoxFuture<'a, Result<AccessToken, String>> {
        Box::pin(async move {
            let uri = format!(
                "http://{}/computeMetadata/v1/instance/service-accounts/default/token?scopes={}",
                self.host,
                crate::encoding::path_segment(CLOUD_PLATFORM_SCOPE)
            );
            let request = Request::builder()
                .method(Method::GET)
                .uri(uri)
                .header("metadata-flavor", "Google")
                .header(header::ACCEPT, "application/json")
                .body(Bytes::new())
                .map_err(|_| "GCE_METADATA_HOST does not form a valid URL".to_owned())?;
            request_token(http, request).await.map_err(|err| {
                format!("{err} (no Google credentials were found: set gcp_credentials_file or GOOGLE_APPLICATION_CREDENTIALS when not on Google Cloud)")
            })
        })
    }
}

#[cfg(test)]
#[path = "google_tests.rs"]
mod tests;
