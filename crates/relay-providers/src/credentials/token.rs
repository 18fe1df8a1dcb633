//! OAuth2 access tokens: the source that fetches one, and the cache that
//! makes sure requests reuse it until shortly before it expires.
//!
//! Only one fetch runs at a time per provider: concurrent requests that find
//! the token stale wait for that fetch instead of starting their own. If a
//! refresh fails while the old token is still valid, the old one is used and
//! the refresh is retried on the next request.

use std::fmt::Debug;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use relay_core::Secret;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::http::TokenHttp;
use crate::provider::BoxFuture;

/// Refresh this long before expiry (or at half the lifetime of short-lived tokens).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Lifetime assumed when a token response gives none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// A bearer token and when it stops being valid.
#[derive(Clone, Debug)]
pub(crate) struct AccessToken {
    pub(crate) value: Secret,
    pub(crate) lifetime: Duration,
}

/// Something that can obtain a fresh access token.
pub(crate) trait TokenSource: Send + Sync + Debug {
    /// What the token comes from, for error messages (never a secret).
    fn describe(&self) -> String;
    fn fetch<'a>(&'a self, http: &'a TokenHttp) -> BoxFuture<'a, Result<AccessToken, String>>;
}

#[derive(Debug)]
struct Cached {
    value: Secret,
    refresh_at: Instant,
    expires_at: Instant,
}

/// A [`TokenSource`] with its current token.
#[derive(Debug)]
pub(crate) struct TokenCache {
    source: Arc<dyn TokenSource>,
    http: OnceLock<TokenHttp>,
    slot: Mutex<Option<Cached>>,
}

impl TokenCache {
    pub(crate) fn new(source: Arc<dyn TokenSource>) -> Self {
        Self {
            source,
            http: OnceLock::new(),
            slot: Mutex::new(None),
        }
    }

    pub(crate) fn describe(&self) -> String {
        self.source.describe()
    }

    /// A valid token: the cached one, or a fresh one when it is due for refresh.
    pub(crate) async fn token(&self) -> Result<Secret, String> {
        let mut slot = self.slot.lock().await;
        let now = Instant::now();
        if let Some(cached) = slot.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(cached.value.clone());
        }
        let http = self.http.get_or_init(TokenHttp::new);
        match self.source.fetch(http).await {
            Ok(token) => {
                let now = Instant::now();
                let margin = REFRESH_MARGIN.min(token.lifetime / 2);
                let value = token.value.clone();
                *slot = Some(Cached {
                    value: token.value,
                    refresh_at: now + token.lifetime.saturating_sub(margin),
                    expires_at: now + token.lifetime,
                });
                Ok(value)
            }
            Err(err) => match slot.as_ref().filter(|c| now < c.expires_at) {
                Some(still_valid) => {
                    tracing::warn!(source = %self.source.describe(), error = %err, "token refresh failed; using the current token until it expires");
                    Ok(still_valid.value.clone())
                }
                None => Err(err),
            },
        }
    }
}

/// The standard OAuth2 token response (RFC 6749 §5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// Sends a token request and reads an OAuth2 token response. Error texts
/// quote the endpoint's error description, never the request.
pub(crate) async fn request_token(
    http: &TokenHttp,
    request: Request<Bytes>,
) -> Result<AccessToken, String> {
    let (status, body) = http.send(request).await?;
    if status != StatusCode::OK {
        let reason = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| crate::translate::foreign_message(&v))
            .unwrap_or_default();
        return Err(format!(
            "the token endpoint answered HTTP {}{}{reason}",
            status.as_u16(),
            if reason.is_empty() { "" } else { ": " }
        ));
    }
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|err| format!("the token endpoint's answer is not a token response: {err}"))?;
    if parsed.access_token.is_empty() {
        return Err("the token endpoint returned an empty access_token".to_owned());
    }
    // Some endpoints send `expires_in` as a string.
    let seconds = match parsed.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    Ok(AccessToken {
        value: Secret::new(parsed.access_token),
        lifetime: seconds.map_or(DEFAULT_LIFETIME, Duration::from_secs),
    })
}

/// A `POST` with a form body, as OAuth2 token endpoints take.
pub(crate) fn form_post(uri: http::Uri, form: String) -> Result<Request<Bytes>, String> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Bytes::from(form))
        .map_err(|err| format!("could not build the token request: {err}"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Debug)]
    struct Counting {
        fetches: AtomicUsize,
        lifetime: Duration,
        fail_after: usize,
    }

    impl TokenSource for Counting {
        fn describe(&self) -> String {
            "test source".into()
        }
        fn fetch<'a>(&'a self, _: &'a TokenHttp) -> BoxFuture<'a, Result<AccessToken, String>> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n >= self.fail_after {
                    return Err("down".into());
                }
                Ok(AccessToken {
                    value: Secret::new(format!("token-{n}")),
                    lifetime: self.lifetime,
                })
            })
        }
    }

    fn cache(lifetime: Duration, fail_after: usize) -> (Arc<Counting>, TokenCache) {
        let source = Arc::new(Counting {
            fetches: AtomicUsize::new(0),
            lifetime,
            fail_after,
        });
        let cache = TokenCache::new(Arc::clone(&source) as Arc<dyn TokenSource>);
        (source, cache)
    }

    #[tokio::test(start_paused = true)]
    async fn reuses_the_token_until_the_refresh_margin() {
        let (source, cache) = cache(Duration::from_secs(3600), usize::MAX);
        for _ in 0..5 {
            assert_eq!(cache.token().await.unwrap().expose(), "token-0");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        // 5 minutes before expiry it is refreshed, before any request could fail with it.
        tokio::time::advance(Duration::from_secs(3600 - 301)).await;
        assert_eq!(cache.token().await.unwrap().expose(), "token-0");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(cache.token().await.unwrap().expose(), "token-1");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn short_lived_tokens_refresh_at_half_life() {
        let (source, cache) = cache(Duration::from_secs(60), usize::MAX);
        cache.token().await.unwrap();
        tokio::time::advance(Duration::from_secs(29)).await;
        cache.token().await.unwrap();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(2)).await;
        cache.token().await.unwrap();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_the_valid_token_then_fails() {
        let (_, cache) = cache(Duration::from_secs(3600), 1);
        assert_eq!(cache.token().await.unwrap().expose(), "token-0");
        tokio::time::advance(Duration::from_secs(3500)).await;
        assert_eq!(cache.token().await.unwrap().expose(), "token-0");
        tokio::time::advance(Duration::from_secs(200)).await;
        assert_eq!(cache.token().await.unwrap_err(), "down");
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_fetch() {
        let (source, cache) = cache(Duration::from_secs(3600), usize::MAX);
        let cache = Arc::new(cache);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.token().await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().expose(), "token-0");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }
}
