//! Microsoft Entra ID (Azure AD) access tokens by the OAuth2
//! client-credentials grant, for Azure AI Foundry.
//!
//! Tenant, client id and secret come from the provider's configuration, or
//! all three from `AZURE_TENANT_ID` / `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET`
//! (the variables Azure's own SDKs read). `AZURE_AUTHORITY_HOST` or
//! `azure_authority_host` points at another cloud (or a test's mock).

use std::sync::Arc;

use http::Uri;
use relay_config::ProviderConfig;
use relay_core::Secret;

use super::Env;
use super::http::TokenHttp;
use super::token::{AccessToken, TokenSource, form_post, request_token};
use crate::encoding::{form, path_segment};
use crate::provider::BoxFuture;

/// The scope Azure AI services (Foundry included) accept.
pub(crate) const COGNITIVE_SERVICES_SCOPE: &str = "https://cognitiveservices.azure.com/.default";
const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The client-credentials source, when the configuration or environment has one.
pub(crate) fn token_source(
    config: &ProviderConfig,
    env: &Env,
) -> Result<Option<Arc<dyn TokenSource>>, String> {
    let (tenant, client_id, secret) = match (
        config.azure_tenant_id.clone(),
        config.azure_client_id.clone(),
        config.azure_client_secret.clone(),
    ) {
        (Some(tenant), Some(client), Some(secret)) => (tenant, client, secret),
        (None, None, None) => {
            match (
                env("AZURE_TENANT_ID"),
                env("AZURE_CLIENT_ID"),
                env("AZURE_CLIENT_SECRET"),
            ) {
                (Some(tenant), Some(client), Some(secret))
                    if !tenant.is_empty() && !client.is_empty() && !secret.is_empty() =>
                {
                    (tenant, client, Secret::new(secret))
                }
                _ => return Ok(None),
            }
        }
        _ => {
            return Err(
                "set azure_tenant_id, azure_client_id and azure_client_secret together".to_owned(),
            );
        }
    };
    let authority = config
        .azure_authority_host
        .clone()
        .or_else(|| env("AZURE_AUTHORITY_HOST").filter(|h| !h.is_empty()))
        .unwrap_or_else(|| DEFAULT_AUTHORITY.to_owned());
    let token_uri = format!(
        "{}/{}/oauth2/v2.0/token",
        authority.trim_end_matches('/'),
        path_segment(&tenant)
    );
    let token_uri: Uri = token_uri
        .parse()
        .map_err(|_| "the Entra ID authority host does not form a valid URL".to_owned())?;
    Ok(Some(Arc::new(ClientCredentials {
        client_id,
        secret,
        token_uri,
    })))
}

#[derive(Debug)]
struct ClientCredentials {
    client_id: String,
    secret: Secret,
    token_uri: Uri,
}

impl TokenSource for ClientCredentials {
    fn describe(&self) -> String {
        format!("Entra ID application {}", self.client_id)
    }

    fn fetch<'a>(&'a self, http: &'a TokenHttp) -> BoxFuture<'a, Result<AccessToken, String>> {
        Box::pin(async move {
            let body = form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &self.client_id),
                ("client_secret", self.secret.expose()),
                ("scope", COGNITIVE_SERVICES_SCOPE),
            ]);
            request_token(http, form_post(self.token_uri.clone(), body)?).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::token::TokenCache;
    use crate::test_util::{TokenEndpoint, form_fields};

    fn config() -> ProviderConfig {
        ProviderConfig {
            azure_tenant_id: Some("tenant-1".into()),
            azure_client_id: Some("client-1".into()),
            azure_client_secret: Some(Secret::new("entra-secret")),
            ..ProviderConfig::default()
        }
    }

    #[tokio::test]
    async fn client_credentials_tokens_are_fetched_once() {
        let endpoint = TokenEndpoint::start("entra-token", 3599).await;
        let mut config = config();
        config.azure_authority_host = Some(endpoint.url(""));
        let source = token_source(&config, &|_| None).unwrap().unwrap();
        assert!(!format!("{source:?}").contains("entra-secret"));
        let cache = TokenCache::new(source);
        for _ in 0..3 {
            assert_eq!(cache.token().await.unwrap().expose(), "entra-token");
        }
        let requests = endpoint.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].path, "/tenant-1/oauth2/v2.0/token");
        let fields = form_fields(&requests[0].body);
        assert_eq!(fields["grant_type"], "client_credentials");
        assert_eq!(fields["client_id"], "client-1");
        assert_eq!(fields["client_secret"], "entra-secret");
        assert_eq!(fields["scope"], COGNITIVE_SERVICES_SCOPE);
    }

    #[test]
    fn environment_fills_in_when_nothing_is_configured() {
        let env = |name: &str| match name {
            "AZURE_TENANT_ID" => Some("t".to_owned()),
            "AZURE_CLIENT_ID" => Some("c".to_owned()),
            "AZURE_CLIENT_SECRET" => Some("s".to_owned()),
            "AZURE_AUTHORITY_HOST" => Some("https://login.example.us/".to_owned()),
            _ => None,
        };
        let source = token_source(&ProviderConfig::default(), &env)
            .unwrap()
            .unwrap();
        assert!(
            format!("{source:?}").contains("https://login.example.us/t/oauth2/v2.0/token"),
            "{source:?}"
        );
        assert!(
            token_source(&ProviderConfig::default(), &|_| None)
                .unwrap()
                .is_none()
        );
        let partial = ProviderConfig {
            azure_client_id: Some("c".into()),
            ..ProviderConfig::default()
        };
        assert!(token_source(&partial, &env).is_err());
    }
}
