//! The auth chain: every configured method is tried; any one granting access is enough.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::header::{AUTHORIZATION, HeaderMap, HeaderName};
use relay_config::{AuthConfig, CLIENT_KEY_PREFIX};
use relay_core::{ApiError, Secret};

use crate::client_keys::{ClientKey, KeyDirectory, KeyRefusal};
use crate::secret_match::SecretMatcher;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Why a request was refused. Messages never include what the client sent.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AuthError {
    #[error("missing credentials: send an x-api-key header{}", if *.bearer_allowed { " or an Authorization: Bearer token" } else { "" })]
    Missing { bearer_allowed: bool },
    #[error("invalid credentials")]
    Invalid,
    /// A client key (`ccr_…`) was refused: 401, or 429 for its limits.
    #[error(transparent)]
    ClientKey(KeyRefusal),
}

impl AuthError {
    /// How long until a retry may succeed (`retry-after`), when limited.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::ClientKey(refusal) => refusal.retry_after(),
            _ => None,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::ClientKey(refusal) => refusal.to_api_error(),
            other => ApiError::authentication(other.to_string()),
        }
    }
}

/// Who a granted request is, for the ledger.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ClientKind {
    /// No relay credential: the client's own upstream credential (or none)
    /// passes through.
    #[default]
    Transparent,
    /// The relay's one shared credential (`server.auth.api_key` / `bearer_secret`).
    Shared,
    /// A client key.
    Key(Arc<ClientKey>),
}

impl ClientKind {
    /// The ledger's client label: the key's name, `shared` or `transparent`.
    pub fn label(&self) -> &str {
        match self {
            Self::Transparent => "transparent",
            Self::Shared => "shared",
            Self::Key(key) => &key.name,
        }
    }

    pub fn key(&self) -> Option<&Arc<ClientKey>> {
        match self {
            Self::Key(key) => Some(key),
            _ => None,
        }
    }
}

/// What a successful check found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grant {
    /// Headers that carried the relay's own credentials. They must be removed
    /// before the request goes upstream; any other credential header is the
    /// client's own and may pass through in transparent mode.
    pub relay_credentials: Vec<HeaderName>,
    pub client: ClientKind,
}

impl Grant {
    fn shared(header: HeaderName) -> Self {
        Self {
            relay_credentials: vec![header],
            client: ClientKind::Shared,
        }
    }
}

/// The configured client authentication, built once per configuration.
#[derive(Clone, Debug, Default)]
pub struct AuthChain {
    api_key: Option<SecretMatcher>,
    bearer: BearerRule,
    /// Client keys; shared by every snapshot, kept current by the usage store.
    client_keys: Option<Arc<KeyDirectory>>,
}

#[derive(Clone, Debug, Default)]
enum BearerRule {
    #[default]
    Refused,
    /// Any bearer token is accepted: it is the client's own upstream credential.
    AnyToken,
    Secret(SecretMatcher),
}

impl AuthChain {
    /// The chain for `server.auth` (and the legacy `server.api_key`).
    pub fn from_config(auth: &AuthConfig, legacy_api_key: Option<&Secret>) -> Self {
        let api_key = auth
            .api_key
            .as_ref()
            .or(legacy_api_key)
            .filter(|key| !key.is_empty())
            .map(SecretMatcher::new);
        let bearer = match (
            auth.allow_bearer || auth.allow_subscription,
            &auth.bearer_secret,
        ) {
            (false, _) => BearerRule::Refused,
            (true, Some(secret)) if !secret.is_empty() => {
                BearerRule::Secret(SecretMatcher::new(secret))
            }
            (true, _) => BearerRule::AnyToken,
        };
        Self {
            api_key,
            bearer,
            client_keys: None,
        }
    }

    /// Also accepts the client keys of `directory`.
    pub fn with_client_keys(mut self, directory: Arc<KeyDirectory>) -> Self {
        self.client_keys = Some(directory);
        self
    }

    /// A chain that lets every request in.
    pub fn open() -> Self {
        Self::default()
    }

    /// Whether any method is configured; an open relay checks nothing. Once
    /// a client key exists, a client must present a credential.
    pub fn is_enabled(&self) -> bool {
        self.api_key.is_some()
            || !matches!(self.bearer, BearerRule::Refused)
            || self.client_keys.as_ref().is_some_and(|d| d.is_enabled())
    }

    /// Checks a request's headers.
    pub fn check(&self, headers: &HeaderMap) -> Result<Grant, AuthError> {
        if !self.is_enabled() {
            return Ok(Grant::default());
        }
        let api_key = headers.get(X_API_KEY).map(|v| v.as_bytes());
        let bearer = headers
            .get(AUTHORIZATION)
            .and_then(|v| bearer_token(v.as_bytes()));

        if let Some(directory) = &self.client_keys {
            let client_key = |v: &&[u8]| v.starts_with(CLIENT_KEY_PREFIX.as_bytes());
            let presented = match (api_key.filter(client_key), bearer.filter(client_key)) {
                (Some(key), _) => Some((key, X_API_KEY)),
                (None, Some(token)) => Some((token, AUTHORIZATION)),
                (None, None) => None,
            };
            if let Some((presented, header)) = presented {
                let key = directory
                    .authenticate(presented, SystemTime::now(), Instant::now())
                    .map_err(AuthError::ClientKey)?;
                return Ok(Grant {
                    relay_credentials: vec![header],
                    client: ClientKind::Key(key),
                });
            }
        }
        if let Some(matcher) = &self.api_key {
            if api_key.is_some_and(|presented| matcher.matches(presented)) {
                return Ok(Grant::shared(X_API_KEY));
            }
            // Newer Anthropic SDKs send the API key as a bearer token; it is still the relay's key.
            if bearer.is_some_and(|token| matcher.matches(token)) {
                return Ok(Grant::shared(AUTHORIZATION));
            }
        }
        if let Some(token) = bearer {
            match &self.bearer {
                BearerRule::Secret(matcher) if matcher.matches(token) => {
                    return Ok(Grant::shared(AUTHORIZATION));
                }
                BearerRule::AnyToken if !token.is_empty() => return Ok(Grant::default()),
                _ => {}
            }
        }
        let bearer_allowed = !matches!(self.bearer, BearerRule::Refused);
        if api_key.is_none() && bearer.is_none() {
            Err(AuthError::Missing { bearer_allowed })
        } else {
            Err(AuthError::Invalid)
        }
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
pub fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn config(
        api_key: Option<&str>,
        allow_bearer: bool,
        bearer_secret: Option<&str>,
    ) -> AuthConfig {
        AuthConfig {
            api_key: api_key.map(Secret::new),
            allow_bearer,
            allow_subscription: false,
            bearer_secret: bearer_secret.map(Secret::new),
            ..AuthConfig::default()
        }
    }

    #[test]
    fn open_chain_admits_everything_and_consumes_nothing() {
        let chain = AuthChain::from_config(&AuthConfig::default(), None);
        assert!(!chain.is_enabled());
        let grant = chain
            .check(&headers(&[("x-api-key", "client-own-key")]))
            .unwrap();
        assert!(grant.relay_credentials.is_empty());
    }

    #[test]
    fn api_key_must_match_and_is_consumed() {
        let chain = AuthChain::from_config(&config(Some("relay-key"), false, None), None);
        let grant = chain
            .check(&headers(&[("x-api-key", "relay-key")]))
            .unwrap();
        assert_eq!(grant.relay_credentials, vec![X_API_KEY]);
        assert_eq!(
            chain.check(&headers(&[("x-api-key", "wrong")])),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            chain.check(&HeaderMap::new()),
            Err(AuthError::Missing {
                bearer_allowed: false
            })
        );
    }

    #[test]
    fn legacy_server_api_key_is_used_when_auth_has_none() {
        let chain = AuthChain::from_config(&AuthConfig::default(), Some(&Secret::new("legacy")));
        assert!(chain.check(&headers(&[("x-api-key", "legacy")])).is_ok());
    }

    #[test]
    fn bearer_with_secret_is_checked_and_consumed() {
        let chain = AuthChain::from_config(&config(None, true, Some("tok")), None);
        let grant = chain
            .check(&headers(&[("authorization", "Bearer tok")]))
            .unwrap();
        assert_eq!(grant.relay_credentials, vec![AUTHORIZATION]);
        assert!(
            chain
                .check(&headers(&[("authorization", "bearer tok")]))
                .is_ok()
        );
        assert_eq!(
            chain.check(&headers(&[("authorization", "Bearer nope")])),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn bearer_without_secret_passes_through_as_the_clients_own() {
        let chain = AuthChain::from_config(&config(None, true, None), None);
        let grant = chain
            .check(&headers(&[("authorization", "Bearer sk-ant-oat-123")]))
            .unwrap();
        assert!(grant.relay_credentials.is_empty());
        assert!(
            chain
                .check(&headers(&[("authorization", "Bearer ")]))
                .is_err()
        );
        assert!(
            chain
                .check(&headers(&[("authorization", "Basic abc")]))
                .is_err()
        );
    }

    #[test]
    fn the_relay_key_is_accepted_as_a_bearer_token_and_consumed() {
        let chain = AuthChain::from_config(&config(Some("k"), false, None), None);
        let grant = chain
            .check(&headers(&[("authorization", "Bearer k")]))
            .unwrap();
        assert_eq!(grant.relay_credentials, vec![AUTHORIZATION]);
    }

    #[test]
    fn other_bearer_tokens_are_refused_when_bearer_is_not_allowed() {
        let chain = AuthChain::from_config(&config(Some("k"), false, None), None);
        assert_eq!(
            chain.check(&headers(&[("authorization", "Bearer other")])),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn either_method_may_grant() {
        let chain = AuthChain::from_config(&config(Some("k"), true, Some("t")), None);
        assert!(
            chain
                .check(&headers(&[
                    ("x-api-key", "wrong"),
                    ("authorization", "Bearer t")
                ]))
                .is_ok()
        );
        assert!(
            chain
                .check(&headers(&[
                    ("x-api-key", "k"),
                    ("authorization", "Bearer wrong")
                ]))
                .is_ok()
        );
    }

    #[test]
    fn errors_never_echo_what_was_sent() {
        let chain = AuthChain::from_config(&config(Some("k"), true, Some("t")), None);
        let err = chain
            .check(&headers(&[("x-api-key", "sk-leak-me")]))
            .unwrap_err();
        let api: ApiError = err.into();
        assert!(!api.message.contains("sk-leak-me"));
        assert_eq!(api.status.as_u16(), 401);
    }

    fn directory_with(
        name: &str,
        secret: &str,
        budgets: crate::client_keys::Budgets,
    ) -> Arc<KeyDirectory> {
        let directory = Arc::new(KeyDirectory::new());
        directory.replace(vec![ClientKey {
            id: format!("id-{name}").into(),
            name: name.into(),
            digest: crate::client_keys::KeyDigest::of(secret.as_bytes()),
            expires_at: None,
            revoked: false,
            models: Default::default(),
            rpm_limit: Some(1),
            budgets,
            source: crate::client_keys::KeySource::Store,
        }]);
        directory
    }

    #[test]
    fn client_keys_grant_by_either_header_and_are_consumed() {
        let directory = directory_with("alice", "ccr_alice", Default::default());
        let chain = AuthChain::from_config(&AuthConfig::default(), None)
            .with_client_keys(Arc::clone(&directory));
        assert!(chain.is_enabled(), "a client key closes an open relay");
        let grant = chain
            .check(&headers(&[("authorization", "Bearer ccr_alice")]))
            .unwrap();
        assert_eq!(grant.relay_credentials, vec![AUTHORIZATION]);
        assert_eq!(grant.client.label(), "alice");
        // RPM 1: the second request within the minute is limited.
        let limited = chain
            .check(&headers(&[("x-api-key", "ccr_alice")]))
            .unwrap_err();
        assert!(matches!(
            limited,
            AuthError::ClientKey(KeyRefusal::Rpm { .. })
        ));
        assert!(limited.retry_after().is_some());
        assert_eq!(ApiError::from(limited).status.as_u16(), 429);
        let unknown = chain
            .check(&headers(&[("x-api-key", "ccr_mallory")]))
            .unwrap_err();
        assert_eq!(unknown, AuthError::ClientKey(KeyRefusal::Unknown));
        assert_eq!(ApiError::from(unknown).status.as_u16(), 401);
        // Without a key, a relay with client keys refuses the client's own credential.
        assert_eq!(
            chain.check(&headers(&[("x-api-key", "sk-ant-own")])),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn the_shared_key_still_works_beside_client_keys() {
        let directory = directory_with("alice", "ccr_alice", Default::default());
        let chain = AuthChain::from_config(&config(Some("relay-key"), false, None), None)
            .with_client_keys(directory);
        let grant = chain
            .check(&headers(&[("x-api-key", "relay-key")]))
            .unwrap();
        assert_eq!(grant.client, ClientKind::Shared);
        let open = AuthChain::from_config(&AuthConfig::default(), None)
            .with_client_keys(Arc::new(KeyDirectory::new()));
        assert_eq!(
            open.check(&HeaderMap::new()).unwrap().client.label(),
            "transparent"
        );
    }

    #[test]
    fn a_spent_budget_refuses_with_its_reset() {
        let directory = directory_with(
            "bob",
            "ccr_bob",
            crate::client_keys::Budgets {
                daily: Some(0.001),
                ..Default::default()
            },
        );
        let chain = AuthChain::from_config(&AuthConfig::default(), None)
            .with_client_keys(Arc::clone(&directory));
        assert!(chain.check(&headers(&[("x-api-key", "ccr_bob")])).is_ok());
        directory.add_pending("id-bob", 0.002);
        let refused = chain
            .check(&headers(&[("x-api-key", "ccr_bob")]))
            .unwrap_err();
        let api = ApiError::from(refused.clone());
        assert_eq!(api.status.as_u16(), 429);
        assert!(api.message.contains("daily budget"), "{}", api.message);
        assert!(refused.retry_after().unwrap().as_secs() <= 86_400);
        directory.settle_pending("id-bob", 0.002);
        assert_eq!(directory.spent("id-bob").day, 0.0);
    }
}
