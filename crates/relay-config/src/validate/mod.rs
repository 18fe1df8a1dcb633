//! Semantic checks on a decoded configuration. Every rule runs; every
//! problem is returned with its key path and a message that says what to do.
//! Messages never quote secrets, and never quote URLs (they may hold some).

use std::collections::HashMap;

use http::Uri;

use crate::error::Problem;
use crate::path::join;
use crate::schema::{
    CacheMode, Config, HealthConfig, LoggingConfig, ProviderConfig, RoutingConfig, RoutingStrategy,
    ServerConfig,
};

mod cloud;

/// Go cc-relay's key priorities: 0 low, 1 normal, 2 high.
const MAX_KEY_PRIORITY: u32 = 2;
const MAX_WEIGHT: u32 = 1000;
/// The shortest admin token accepted: it guards provider switches and reloads.
pub(crate) const MIN_ADMIN_TOKEN_LEN: usize = 16;
/// Bodies bigger than this are not worth a log line.
const MAX_BODY_LOG_SIZE: usize = 1024 * 1024;

/// Every problem with `config`; empty when it is usable.
pub fn validate(config: &Config) -> Vec<Problem> {
    let mut out = Problems(Vec::new());
    server(&config.server, &mut out);
    providers(&config.providers, &mut out);
    routing(&config.routing, &config.providers, &mut out);
    health(&config.health, &mut out);
    logging(&config.logging, &mut out);
    grpc(config, &mut out);
    if config.cache.mode == Some(CacheMode::Ha) {
        out.add(
            "cache.mode",
            "`ha` is not supported by cc-relay: caches are in-process; use single or disabled",
        );
    }
    out.0
}

struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem::new(path, message));
    }
}

/// A set, non-empty optional string. Empty means unset, as the loader
/// normalises it; checked here too for configs built in code.
fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn server(server: &ServerConfig, out: &mut Problems) {
    if let Err(why) = check_listen(&server.listen) {
        out.add("server.listen", why);
    }
    for (key, value) in [
        ("timeout_ms", server.timeout_ms),
        ("connect_timeout_ms", server.connect_timeout_ms),
        ("max_body_bytes", server.max_body_bytes),
        ("header_read_timeout_ms", server.header_read_timeout_ms),
    ] {
        if value == 0 {
            out.add(
                format!("server.{key}"),
                "must be greater than 0; remove it to use the default",
            );
        }
    }
    if let Some(metrics) = set(&server.metrics_listen) {
        if let Err(why) = check_listen(metrics) {
            out.add("server.metrics_listen", why);
        } else if metrics == server.listen && !metrics.ends_with(":0") {
            out.add(
                "server.metrics_listen",
                "is the same address as server.listen: remove it to serve /metrics on the main listener, or pick another port",
            );
        }
    }
    admin(server, out);
    read_only_token(server, out);
}

/// `grpc.listen`: an address, not the main listener's. Without an admin
/// token it still loads (Go files set it on their own), and every call is
/// refused; the relay warns at startup.
fn grpc(config: &Config, out: &mut Problems) {
    let Some(listen) = set(&config.grpc.listen) else {
        return;
    };
    if let Err(why) = check_listen(listen) {
        out.add("grpc.listen", why);
    } else if listen == config.server.listen && !listen.ends_with(":0") {
        out.add(
            "grpc.listen",
            "is the same address as server.listen: pick another port",
        );
    }
}

/// `server.admin.read_only_token`: as long as the admin token, and its own.
fn read_only_token(server: &ServerConfig, out: &mut Problems) {
    const PATH: &str = "server.admin.read_only_token";
    let Some(token) = server
        .admin
        .read_only_token
        .as_ref()
        .filter(|t| !t.is_empty())
    else {
        return;
    };
    if token.expose().chars().count() < MIN_ADMIN_TOKEN_LEN {
        out.add(
            PATH,
            format!("is shorter than {MIN_ADMIN_TOKEN_LEN} characters: use a long random value (e.g. `openssl rand -hex 24`)"),
        );
    }
    if server.admin.token.as_ref() == Some(token) {
        out.add(PATH, "is the same as server.admin.token: a read-only token must differ from the one that may write");
    }
    let client_secrets = [
        server.api_key.as_ref(),
        server.auth.api_key.as_ref(),
        server.auth.bearer_secret.as_ref(),
    ];
    if client_secrets.into_iter().flatten().any(|s| s == token) {
        out.add(PATH, "is the same as a client credential (server.auth): give the admin API a token of its own");
    }
}

fn admin(server: &ServerConfig, out: &mut Problems) {
    let admin = &server.admin;
    match admin.token.as_ref().filter(|t| !t.is_empty()) {
        Some(token) => {
            if token.expose().chars().count() < MIN_ADMIN_TOKEN_LEN {
                out.add(
                    "server.admin.token",
                    format!("is shorter than {MIN_ADMIN_TOKEN_LEN} characters: use a long random value (e.g. `openssl rand -hex 24`)"),
                );
            }
            let client_secrets = [
                server.api_key.as_ref(),
                server.auth.api_key.as_ref(),
                server.auth.bearer_secret.as_ref(),
            ];
            if client_secrets.into_iter().flatten().any(|s| s == token) {
                out.add(
                    "server.admin.token",
                    "is the same as a client credential (server.auth): give the admin API a token of its own",
                );
            }
        }
        None if admin.protect_metrics => out.add(
            "server.admin.protect_metrics",
            "needs server.admin.token: set a token, or remove protect_metrics to leave /metrics open",
        ),
        None => {}
    }
}

/// `host:port` as tokio binds it: an IP or a name (`localhost`), IPv6 in
/// brackets, and a numeric port.
fn check_listen(listen: &str) -> Result<(), String> {
    const HINT: &str = "write host:port, e.g. 127.0.0.1:8787, 0.0.0.0:8787 or [::1]:8787";
    if listen.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let Some((host, port)) = listen.rsplit_once(':') else {
        return Err(format!("missing port; {HINT}"));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("the port is not a number from 0 to 65535; {HINT}"));
    }
    let valid_name = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if host.is_empty() {
        Err(format!(
            "missing host (to listen on every interface use 0.0.0.0); {HINT}"
        ))
    } else if !valid_name {
        Err(format!(
            "the host is neither an IP address nor a host name; {HINT}"
        ))
    } else {
        Ok(())
    }
}

fn providers(providers: &[ProviderConfig], out: &mut Problems) {
    if !providers.iter().any(|p| p.enabled) {
        out.add(
            "providers",
            "no enabled provider: add one (e.g. `- { name: anthropic, type: anthropic }`) or set `enabled: true`",
        );
    }
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (i, provider) in providers.iter().enumerate() {
        let at = format!("providers[{i}]");
        if provider.name.is_empty() {
            out.add(
                format!("{at}.name"),
                "is empty: give every provider a unique name",
            );
        } else if let Some(first) = first_index.get(provider.name.as_str()) {
            out.add(
                format!("{at}.name"),
                format!(
                    "`{}` is already the name of providers[{first}]: provider names must be unique",
                    provider.name
                ),
            );
        } else {
            first_index.insert(&provider.name, i);
        }
        provider_fields(provider, &at, out);
    }
}

fn provider_fields(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    if let Some(url) = set(&provider.base_url)
        && let Err(why) = check_base_url(url)
    {
        out.add(format!("{at}.base_url"), why);
    }
    for (model, target) in &provider.model_mapping {
        if target.is_empty() {
            out.add(
                join(&format!("{at}.model_mapping"), model),
                "maps to an empty model name: give the name this provider knows the model by",
            );
        }
    }
    if let Some(weight) = provider.weight.filter(|w| *w > MAX_WEIGHT) {
        out.add(
            format!("{at}.weight"),
            format!("{weight} is above {MAX_WEIGHT}: use 0 to {MAX_WEIGHT}"),
        );
    }
    for (j, key) in provider.keys.iter().enumerate() {
        let key_at = format!("{at}.keys[{j}]");
        if key.key.is_empty() {
            out.add(
                format!("{key_at}.key"),
                "is empty: set the key (e.g. `${ANTHROPIC_API_KEY}`), or remove the entry to pass clients' own credentials through",
            );
        } else if provider.keys[..j].iter().any(|other| other.key == key.key) {
            out.add(
                format!("{key_at}.key"),
                "the same key is listed twice in this provider: remove one",
            );
        }
        if let Some(priority) = key.priority.filter(|p| *p > MAX_KEY_PRIORITY) {
            out.add(
                format!("{key_at}.priority"),
                format!("{priority} is out of range: use 0 (low), 1 (normal) or 2 (high)"),
            );
        }
        if let Some(weight) = key.weight.filter(|w| *w > MAX_WEIGHT) {
            out.add(
                format!("{key_at}.weight"),
                format!("{weight} is above {MAX_WEIGHT}: use 0 to {MAX_WEIGHT}"),
            );
        }
    }
    cloud::cloud_fields(provider, at, out);
}

fn check_base_url(url: &str) -> Result<(), String> {
    const EXAMPLE: &str = "write an absolute URL such as https://api.example.com/anthropic";
    let Ok(uri) = url.parse::<Uri>() else {
        return Err(format!("is not a valid URL: {EXAMPLE}"));
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("must start with http:// or https://: {EXAMPLE}"));
    }
    match uri.authority() {
        Some(authority) if authority.as_str().contains('@') => {
            Err("must not contain credentials: put them in the provider's keys".to_owned())
        }
        Some(authority) if !authority.host().is_empty() => match uri.query() {
            Some(_) => Err(
                "must not have a query string (`?...`): the relay appends the API path, e.g. /v1/messages".to_owned(),
            ),
            None => Ok(()),
        },
        _ => Err(format!("has no host: {EXAMPLE}")),
    }
}

fn routing(routing: &RoutingConfig, providers: &[ProviderConfig], out: &mut Problems) {
    let exists = |name: &str| providers.iter().any(|p| p.name == name);
    let default_provider = set(&routing.default_provider);
    if let Some(name) = default_provider.filter(|n| !exists(n)) {
        out.add(
            "routing.default_provider",
            format!("no provider is named `{name}`: use one of the names under providers"),
        );
    }
    for (model, target) in &routing.model_mapping {
        if !exists(target) {
            out.add(
                join("routing.model_mapping", model),
                format!("no provider is named `{target}`: map to one of the names under providers"),
            );
        }
    }
    if routing.strategy == RoutingStrategy::ModelBased
        && routing.model_mapping.is_empty()
        && default_provider.is_none()
    {
        out.add(
            "routing.strategy",
            "`model_based` needs routing.model_mapping (model prefix -> provider name) or routing.default_provider",
        );
    }
    let weighted = matches!(
        routing.strategy,
        RoutingStrategy::WeightedRoundRobin | RoutingStrategy::WeightedFailover
    );
    let enabled: Vec<_> = providers.iter().filter(|p| p.enabled).collect();
    if weighted && !enabled.is_empty() && enabled.iter().all(|p| p.effective_weight() == 0) {
        out.add(
            "routing.strategy",
            format!(
                "`{}` needs at least one enabled provider with a weight above 0: set `weight` on one",
                routing.strategy.as_str()
            ),
        );
    }
}

fn health(health: &HealthConfig, out: &mut Problems) {
    if health.health_check.enabled && health.health_check.interval_ms == 0 {
        out.add(
            "health.health_check.interval_ms",
            "must be greater than 0 while health checks are enabled; remove it to use the default (10000)",
        );
    }
    let breaker = &health.circuit_breaker;
    for (key, value) in [
        ("failure_threshold", breaker.failure_threshold),
        ("half_open_probes", breaker.half_open_probes),
    ] {
        if value == 0 {
            out.add(
                format!("health.circuit_breaker.{key}"),
                "must be at least 1; remove it to use the default",
            );
        }
    }
}

fn logging(logging: &LoggingConfig, out: &mut Problems) {
    if logging.output.is_empty() {
        out.add(
            "logging.output",
            "is empty: use stderr, stdout or a file path",
        );
    }
    let size = logging.debug_options.max_body_log_size;
    if size > MAX_BODY_LOG_SIZE {
        out.add(
            "logging.debug_options.max_body_log_size",
            format!("{size} is above the limit of {MAX_BODY_LOG_SIZE} bytes (1 MiB): lower it"),
        );
    }
}

#[cfg(test)]
mod tests;
