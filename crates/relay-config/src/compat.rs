//! The Go cc-relay's file, read with the Go relay's meaning.
//!
//! Runs between decoding and validation. It maps the Go keys that have a
//! cc-relay equivalent onto it, applies Go's defaults where cc-relay's
//! would change what a file means (zeros, `:8787`, providers without
//! `enabled`), leaves out what cannot be used (empty and placeholder keys),
//! and records one [`Warning`] for each, with what to write instead.
//! docs/configuration.md ("Coming from the Go cc-relay") lists every case.

use crate::node::Node;
use crate::schema::{
    CacheMode, CircuitBreakerConfig, Config, HealthCheckConfig, ProviderConfig, ProviderType,
    ServerConfig,
};
use crate::warning::{WarningKind, Warnings};

/// Providers whose entry has no `enabled` key: off, as in the Go relay.
/// Needs the tree, since the decoded `false` cannot tell omission apart.
pub(crate) fn providers_without_enabled(tree: &Node, warnings: &mut Warnings) {
    let Node::Map(root) = tree else { return };
    let Some((_, Node::Seq(providers))) = root.entries.iter().find(|(k, _)| k == "providers")
    else {
        return;
    };
    for (i, provider) in providers.iter().enumerate() {
        let Node::Map(fields) = provider else {
            continue;
        };
        if !fields.entries.iter().any(|(k, _)| k == "enabled") {
            warnings.add(
                format!("providers[{i}].enabled"),
                WarningKind::GoMeaning,
                "is not set, so this provider is off (as in the Go cc-relay): add `enabled: true` to send it traffic",
            );
        }
    }
}

/// Maps, defaults and leaves out, warning about each (see the module doc).
pub(crate) fn apply(config: &mut Config, warnings: &mut Warnings) {
    server(&mut config.server, warnings);
    metrics(config, warnings);
    grpc(config, warnings);
    health(config, warnings);
    cache(config, warnings);
    logging(config, warnings);
    for (i, provider) in config.providers.iter_mut().enumerate() {
        provider_keys(provider, &format!("providers[{i}]"), warnings);
    }
    weights(config);
}

/// Go's `":8787"` is every interface; cc-relay's listener needs a host.
fn every_interface(listen: &mut String, path: &str, warnings: &mut Warnings) {
    if let Some(port) = listen.strip_prefix(':') {
        let explicit = format!("0.0.0.0:{port}");
        warnings.add(
            path,
            WarningKind::GoMeaning,
            format!(
                "`{listen}` listens on every IPv4 interface ({explicit}), as in the Go cc-relay: \
                 write `{explicit}` to say so, or `127.0.0.1:{port}` to stay local"
            ),
        );
        *listen = explicit;
    }
}

fn server(server: &mut ServerConfig, warnings: &mut Warnings) {
    every_interface(&mut server.listen, "server.listen", warnings);
    if let Some(metrics) = &mut server.metrics_listen {
        every_interface(metrics, "server.metrics_listen", warnings);
    }
    // Zero means "the default", as in the Go relay.
    let defaults = ServerConfig::default();
    for (value, default) in [
        (&mut server.timeout_ms, defaults.timeout_ms),
        (&mut server.max_body_bytes, defaults.max_body_bytes),
        (&mut server.connect_timeout_ms, defaults.connect_timeout_ms),
        (
            &mut server.header_read_timeout_ms,
            defaults.header_read_timeout_ms,
        ),
    ] {
        if *value == 0 {
            *value = default;
        }
    }
}

fn metrics(config: &mut Config, warnings: &mut Warnings) {
    let metrics = &config.metrics;
    if metrics.enabled == Some(false) {
        warnings.add(
            "metrics.enabled",
            WarningKind::NotUsed,
            "cc-relay always serves /metrics: set server.admin.protect_metrics: true to require the admin token, \
             or server.metrics_listen to serve it on a private address",
        );
    }
    if let Some(endpoint) = metrics.prometheus_endpoint.as_deref()
        && endpoint != "/metrics"
    {
        warnings.add(
            "metrics.prometheus_endpoint",
            WarningKind::NotUsed,
            "cc-relay serves metrics at /metrics only: point the scraper there",
        );
    }
    let Some(listen) = metrics.prometheus_listen.clone().filter(|l| !l.is_empty()) else {
        return;
    };
    if config.server.metrics_listen.is_some() {
        warnings.add(
            "metrics.prometheus_listen",
            WarningKind::NotUsed,
            "server.metrics_listen is set and wins: remove metrics.prometheus_listen",
        );
    } else if metrics.enabled != Some(false) {
        warnings.add(
            "metrics.prometheus_listen",
            WarningKind::Mapped,
            "read as server.metrics_listen (a listener serving only GET /metrics): write that instead",
        );
        let mut listen = listen;
        every_interface(&mut listen, "metrics.prometheus_listen", warnings);
        config.server.metrics_listen = Some(listen);
    }
}

fn grpc(config: &Config, warnings: &mut Warnings) {
    if config.grpc.listen.is_some() {
        warnings.add(
            "grpc.listen",
            WarningKind::NotUsed,
            "the gRPC management service is not served yet: manage the relay through the admin API at /admin/ \
             on server.listen (set server.admin.token), with `cc-relay status` or `cc-relay tui`",
        );
    }
    if config.grpc.web_listen.is_some() {
        warnings.add(
            "grpc.web_listen",
            WarningKind::NotUsed,
            "grpc-web is not served: the admin API at /admin/ is plain HTTP and JSON",
        );
    }
}

fn health(config: &mut Config, warnings: &mut Warnings) {
    let health = &mut config.health;
    if let Some(seconds) = health.check_interval_seconds {
        warnings.add(
            "health.check_interval_seconds",
            WarningKind::Mapped,
            format!(
                "read as health.health_check.interval_ms: {}: write that instead",
                seconds.saturating_mul(1000)
            ),
        );
        if seconds > 0 {
            health.health_check.interval_ms = seconds.saturating_mul(1000);
        }
    }
    let breaker = &mut health.circuit_breaker;
    if let Some(seconds) = breaker.recovery_timeout_seconds {
        warnings.add(
            "health.circuit_breaker.recovery_timeout_seconds",
            WarningKind::Mapped,
            format!(
                "read as health.circuit_breaker.open_duration_ms: {}: write that instead",
                seconds.saturating_mul(1000)
            ),
        );
        if seconds > 0 {
            breaker.open_duration_ms = seconds.saturating_mul(1000);
        }
    }
    if breaker.triggers.is_some() {
        warnings.add(
            "health.circuit_breaker.triggers",
            WarningKind::NotUsed,
            "cc-relay counts every retryable failure (429, 5xx, timeouts, connection errors) toward \
             health.circuit_breaker.failure_threshold: tune that instead",
        );
    }
    // Zero means "the default", as in the Go relay.
    let breaker_defaults = CircuitBreakerConfig::default();
    if breaker.failure_threshold == 0 {
        breaker.failure_threshold = breaker_defaults.failure_threshold;
    }
    if breaker.half_open_probes == 0 {
        breaker.half_open_probes = breaker_defaults.half_open_probes;
    }
    if health.health_check.interval_ms == 0 {
        health.health_check.interval_ms = HealthCheckConfig::default().interval_ms;
    }
}

const SHARED_STATE: &str = "cc-relay keeps routing state (affinity, learned limits, circuits) in process; \
                            to share it across instances use `state.backend: redis`";

fn cache(config: &Config, warnings: &mut Warnings) {
    let cache = &config.cache;
    match cache.mode {
        Some(CacheMode::Ha) => warnings.add(
            "cache.mode",
            WarningKind::NotUsed,
            format!("`ha` (Olric) is not used: {SHARED_STATE}"),
        ),
        Some(CacheMode::Single) => warnings.add(
            "cache.mode",
            WarningKind::NotUsed,
            "cc-relay has no cache to configure: its in-process state needs no settings; remove the cache section",
        ),
        Some(CacheMode::Disabled) | None => {}
    }
    if cache.olric.is_some() {
        warnings.add(
            "cache.olric",
            WarningKind::NotUsed,
            format!("Olric is not used: {SHARED_STATE}"),
        );
    }
    if cache.ristretto.is_some() {
        warnings.add(
            "cache.ristretto",
            WarningKind::NotUsed,
            "not used: cc-relay sizes its in-process caches itself (routing.affinity.max_entries bounds the largest)",
        );
    }
    for (key, set) in [
        ("enabled", cache.enabled.is_some()),
        ("backend", cache.backend.is_some()),
    ] {
        if set {
            warnings.add(
                format!("cache.{key}"),
                WarningKind::NotUsed,
                "not used (an older Go cc-relay key): cc-relay has no cache to configure; remove it",
            );
        }
    }
}

fn logging(config: &Config, warnings: &mut Warnings) {
    if config.logging.debug_options.log_tls_metrics {
        warnings.add(
            "logging.debug_options.log_tls_metrics",
            WarningKind::NotUsed,
            "not used: cc-relay logs no TLS handshake metrics; upstream latency is in the access log and /metrics",
        );
    }
}

/// Bedrock API keys, as AWS issues them: long-term ones are base64 of
/// `BedrockAPIKey-...` (`ABSK...`), short-term ones start `bedrock-api-key-`.
fn is_bedrock_api_key(key: &str) -> bool {
    key.starts_with("ABSK") || key.starts_with("bedrock-api-key-")
}

fn provider_keys(provider: &mut ProviderConfig, at: &str, warnings: &mut Warnings) {
    for (j, key) in provider.keys.iter().enumerate() {
        if key.models.is_some() {
            warnings.add(
                format!("{at}.keys[{j}].models"),
                WarningKind::NotUsed,
                "ignored, as the Go cc-relay ignores it: `models` belongs to the provider (in TOML, above its \
                 first [[providers.keys]]), not to a key",
            );
        }
    }
    if provider.pooling.enabled == Some(false) && provider.keys.len() > 1 {
        warnings.add(
            format!("{at}.pooling.enabled"),
            WarningKind::NotUsed,
            "a provider's keys are always pooled: list one key to use only that key",
        );
    }
    let placeholder_reason = match provider.kind {
        ProviderType::Bedrock => Some(
            "is not a Bedrock API key (those start with ABSK or bedrock-api-key-), so it is ignored: requests are \
             signed with SigV4 from aws_access_key_id or the AWS environment/profile; remove the key",
        ),
        ProviderType::Vertex => Some(
            "is ignored: Vertex AI authenticates with Google OAuth2 tokens (gcp_credentials_file, \
             GOOGLE_APPLICATION_CREDENTIALS, gcloud credentials or the metadata server); remove the key",
        ),
        _ => None,
    };
    let had_keys = !provider.keys.is_empty();
    let mut j = 0;
    provider.keys.retain(|key| {
        let path = format!("{at}.keys[{j}].key");
        j += 1;
        if key.key.is_empty() {
            warnings.add(
                path,
                WarningKind::LeftOut,
                "is empty, so it is left out of the pool: set it (e.g. `${ANTHROPIC_API_KEY}`) or remove the entry",
            );
            return false;
        }
        let placeholder = match provider.kind {
            ProviderType::Bedrock => !is_bedrock_api_key(key.key.expose()),
            ProviderType::Vertex => true,
            _ => false,
        };
        if let (true, Some(reason)) = (placeholder, placeholder_reason) {
            warnings.add(path, WarningKind::LeftOut, reason);
            return false;
        }
        true
    });
    let cloud_signed = matches!(provider.kind, ProviderType::Bedrock | ProviderType::Vertex);
    if had_keys && provider.keys.is_empty() && !cloud_signed && provider.enabled {
        // Fail closed: keyless, the provider would pass clients' own
        // credentials through to it instead.
        provider.enabled = false;
        warnings.add(
            format!("{at}.keys"),
            WarningKind::LeftOut,
            "every key is empty, so this provider is off (keyless, it would pass clients' own credentials \
             through): set the keys, or remove `keys` to relay clients' credentials on purpose",
        );
    }
}

/// All-zero weights mean weight 1 for everyone, as in the Go relay.
fn weights(config: &mut Config) {
    let enabled = || config.providers.iter().filter(|p| p.enabled);
    if enabled().count() > 0 && enabled().all(|p| p.effective_weight() == 0) {
        for provider in config.providers.iter_mut().filter(|p| p.enabled) {
            provider.weight = Some(1);
        }
    }
}
