//! Active health checks: while a provider's circuit is open, probe a real
//! endpoint of it every `health.health_check.interval_ms`. An answer that
//! shows the server is up (any status below 500 other than 429: a 401 or 404
//! still proves the server is there and serving) ends the open period at
//! once: the circuit turns half-open, so traffic returns without waiting for
//! the open period to pass. It never closes the circuit (see
//! `relay_router`'s health doc): the next real requests are the probes that
//! decide, and a provider that keeps failing keeps its growing backoff.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use relay_providers::{Credential, Provider};
use tokio::time::Instant;

use crate::state::AppState;

/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs until the task is aborted; reads its settings from each new snapshot.
pub async fn run(state: Arc<AppState>) {
    loop {
        let runtime = state.snapshot();
        let settings = &runtime.config.health.health_check;
        tokio::time::sleep(Duration::from_millis(settings.interval_ms.max(100))).await;
        if !settings.enabled {
            continue;
        }
        let now = Instant::now();
        for target in runtime.router.targets() {
            if !target.health.needs_probe(now) {
                continue;
            }
            let Some(provider) = runtime.provider(target.index) else {
                continue;
            };
            let (state, provider) = (Arc::clone(&state), Arc::clone(provider));
            let key = target.pool.keys().first().map(|k| k.secret.clone());
            let health = Arc::clone(&target.health);
            let name = Arc::clone(&target.name);
            tokio::spawn(async move {
                if probe(&state, provider.as_ref(), key.as_ref()).await {
                    health.health_check_passed();
                    tracing::info!(provider = %name, "health check passed; circuit half-open");
                }
            });
        }
    }
}

/// Whether the provider answered its health endpoint like a working API.
async fn probe(
    state: &AppState,
    provider: &dyn Provider,
    key: Option<&relay_core::Secret>,
) -> bool {
    let Some(uri) = provider.health_check_uri() else {
        return false;
    };
    let mut request = Request::new(Bytes::new());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = uri;
    request.headers_mut().insert(
        "anthropic-version",
        http::HeaderValue::from_static("2023-06-01"),
    );
    let credential = key.map_or(Credential::None, Credential::Key);
    if let Err(err) = provider
        .authenticate(&mut request, credential, &HeaderMap::new())
        .await
    {
        tracing::debug!(provider = provider.name(), error = %err, "health check could not authenticate");
        return false;
    }
    match state.upstream.send(request, PROBE_TIMEOUT).await {
        Ok(response) => {
            let status = response.status().as_u16();
            tracing::debug!(provider = provider.name(), status, "health check answered");
            status < 500 && status != 429
        }
        Err(err) => {
            tracing::debug!(provider = provider.name(), error = %err, "health check failed");
            false
        }
    }
}
