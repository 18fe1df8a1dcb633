//! One test per rule, plus "all problems at once".

use relay_core::Secret;

use super::*;
use crate::load::transparent_default;
use crate::schema::{KeyConfig, ProviderType};

fn provider(name: &str, kind: ProviderType) -> ProviderConfig {
    ProviderConfig {
        name: name.to_owned(),
        kind,
        ..ProviderConfig::default()
    }
}

fn key(value: &str) -> KeyConfig {
    KeyConfig {
        key: Secret::new(value),
        ..KeyConfig::default()
    }
}

/// The problems of a valid base config after `change`, as "path: message".
fn problems(change: impl FnOnce(&mut Config)) -> Vec<String> {
    let mut config = transparent_default();
    change(&mut config);
    validate(&config).iter().map(ToString::to_string).collect()
}

/// The paths of those problems.
fn paths(change: impl FnOnce(&mut Config)) -> Vec<String> {
    let mut config = transparent_default();
    change(&mut config);
    validate(&config).into_iter().map(|p| p.path).collect()
}

#[test]
fn defaults_with_one_provider_are_valid() {
    assert!(problems(|_| {}).is_empty());
}

#[test]
fn listen_must_be_host_and_port() {
    for good in [
        "127.0.0.1:8787",
        "0.0.0.0:0",
        "[::1]:8787",
        "localhost:8787",
        "relay.internal:80",
    ] {
        assert!(check_listen(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "8787",
        ":8787",
        "localhost",
        "localhost:http",
        "127.0.0.1:70000",
        "::1:8787",
        "a b:1",
    ] {
        assert!(check_listen(bad).is_err(), "{bad}");
    }
    assert_eq!(
        paths(|c| c.server.listen = "nope".into()),
        ["server.listen"]
    );
}

#[test]
fn zero_timeouts_and_body_limit_are_rejected() {
    let found = paths(|c| {
        c.server.timeout_ms = 0;
        c.server.connect_timeout_ms = 0;
        c.server.max_body_bytes = 0;
        c.server.stream_idle_timeout_ms = 0;
        c.server.shutdown_timeout_ms = 0;
        c.server.header_read_timeout_ms = 0;
    });
    assert_eq!(
        found,
        [
            "server.timeout_ms",
            "server.connect_timeout_ms",
            "server.max_body_bytes",
            "server.header_read_timeout_ms"
        ]
    );
}

#[test]
fn needs_an_enabled_provider() {
    assert_eq!(paths(|c| c.providers.clear()), ["providers"]);
    assert_eq!(paths(|c| c.providers[0].enabled = false), ["providers"]);
}

#[test]
fn provider_names_are_required_and_unique() {
    let found = problems(|c| {
        c.providers.push(provider("", ProviderType::Zai));
        c.providers.push(provider("anthropic", ProviderType::Zai));
    });
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("providers[1].name: is empty"));
    assert!(
        found[1].starts_with("providers[2].name: `anthropic` is already the name of providers[0]")
    );
}

#[test]
fn base_url_must_be_absolute_http_without_query() {
    for good in [
        "https://api.z.ai/api/anthropic",
        "http://localhost:11434",
        "https://h/",
    ] {
        assert!(check_base_url(good).is_ok(), "{good}");
    }
    for bad in [
        "api.z.ai",
        "/v1",
        "ftp://h/x",
        "https://h/x?a=1",
        "https://user:pw@h/",
        "not a url",
        "https://",
    ] {
        assert!(check_base_url(bad).is_err(), "{bad}");
    }
    let found = problems(|c| c.providers[0].base_url = Some("https://user:sk-secret@h/".into()));
    assert_eq!(found.len(), 1);
    assert!(!found[0].contains("sk-secret"), "{found:?}");
}

#[test]
fn keys_must_be_non_empty_distinct_and_in_range() {
    let found = paths(|c| {
        let p = &mut c.providers[0];
        p.keys = vec![key("a"), key(""), key("a"), key("b"), key("c")];
        p.keys[3].priority = Some(3);
        p.keys[4].weight = Some(1001);
        p.keys[4].priority = Some(2);
        p.weight = Some(5000);
    });
    assert_eq!(
        found,
        [
            "providers[0].weight",
            "providers[0].keys[1].key",
            "providers[0].keys[2].key",
            "providers[0].keys[3].priority",
            "providers[0].keys[4].weight",
        ]
    );
}

#[test]
fn cloud_providers_need_their_settings() {
    let found = paths(|c| {
        c.providers.push(provider("b", ProviderType::Bedrock));
        c.providers.push(provider("v", ProviderType::Vertex));
        c.providers.push(provider("az", ProviderType::Azure));
        let mut ok_azure = provider("az2", ProviderType::Azure);
        ok_azure.base_url = Some("https://x.openai.azure.com".into());
        c.providers.push(ok_azure);
        let mut ok_vertex = provider("v2", ProviderType::Vertex);
        ok_vertex.gcp_project_id = Some("p".into());
        ok_vertex.gcp_region = Some("us-east5".into());
        c.providers.push(ok_vertex);
        let mut ok_bedrock = provider("b2", ProviderType::Bedrock);
        ok_bedrock.aws_region = Some("us-east-1".into());
        c.providers.push(ok_bedrock);
    });
    assert_eq!(
        found,
        [
            "providers[1].aws_region",
            "providers[2].gcp_project_id",
            "providers[2].gcp_region",
            "providers[3].azure_resource_name",
        ]
    );
}

#[test]
fn provider_model_mapping_targets_are_not_empty() {
    let found = paths(|c| {
        c.providers[0]
            .model_mapping
            .insert("claude-3.5".into(), String::new());
    });
    assert_eq!(found, [r#"providers[0].model_mapping."claude-3.5""#]);
}

#[test]
fn routing_names_existing_providers() {
    let found = problems(|c| {
        c.routing.default_provider = Some("nope".into());
        c.routing
            .model_mapping
            .insert("claude-opus".into(), "anthropic".into());
        c.routing.model_mapping.insert("glm".into(), "zai".into());
    });
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("routing.default_provider: no provider is named `nope`"));
    assert!(found[1].starts_with("routing.model_mapping.glm: no provider is named `zai`"));
    // Empty means unset.
    assert!(problems(|c| c.routing.default_provider = Some(String::new())).is_empty());
}

#[test]
fn model_based_needs_a_mapping_or_a_default() {
    assert_eq!(
        paths(|c| c.routing.strategy = RoutingStrategy::ModelBased),
        ["routing.strategy"]
    );
    assert!(
        problems(|c| {
            c.routing.strategy = RoutingStrategy::ModelBased;
            c.routing.default_provider = Some("anthropic".into());
        })
        .is_empty()
    );
    assert!(
        problems(|c| {
            c.routing.strategy = RoutingStrategy::ModelBased;
            c.routing
                .model_mapping
                .insert("claude".into(), "anthropic".into());
        })
        .is_empty()
    );
}

#[test]
fn weighted_strategies_need_a_positive_weight() {
    for strategy in [
        RoutingStrategy::WeightedRoundRobin,
        RoutingStrategy::WeightedFailover,
    ] {
        let found = paths(|c| {
            c.routing.strategy = strategy;
            c.providers[0].weight = Some(0);
            let mut disabled = provider("off", ProviderType::Zai);
            disabled.enabled = false;
            disabled.weight = Some(10);
            c.providers.push(disabled);
        });
        assert_eq!(found, ["routing.strategy"]);
    }
    // A per-key weight (Go files) counts, and other strategies do not care.
    assert!(
        problems(|c| {
            c.routing.strategy = RoutingStrategy::WeightedRoundRobin;
            c.providers[0].keys = vec![key("k")];
            c.providers[0].keys[0].weight = Some(3);
        })
        .is_empty()
    );
    assert!(problems(|c| c.providers[0].weight = Some(0)).is_empty());
}

#[test]
fn health_limits() {
    let found = paths(|c| {
        c.health.circuit_breaker.failure_threshold = 0;
        c.health.circuit_breaker.half_open_probes = 0;
        c.health.health_check.interval_ms = 0;
    });
    assert_eq!(
        found,
        [
            "health.health_check.interval_ms",
            "health.circuit_breaker.failure_threshold",
            "health.circuit_breaker.half_open_probes",
        ]
    );
    assert!(
        problems(|c| {
            c.health.health_check.enabled = false;
            c.health.health_check.interval_ms = 0;
        })
        .is_empty()
    );
}

#[test]
fn logging_limits() {
    let found = paths(|c| {
        c.logging.output = String::new();
        c.logging.debug_options.max_body_log_size = 1024 * 1024 + 1;
    });
    assert_eq!(
        found,
        ["logging.output", "logging.debug_options.max_body_log_size"]
    );
    assert!(problems(|c| c.logging.debug_options.max_body_log_size = 1024 * 1024).is_empty());
}

#[test]
fn every_problem_is_reported_at_once() {
    let found = paths(|c| {
        c.server.listen = "x".into();
        c.providers[0].keys = vec![key("")];
        c.routing.default_provider = Some("ghost".into());
        c.logging.output = String::new();
        c.server.timeout_ms = 0;
    });
    assert_eq!(found.len(), 5, "{found:?}");
}

#[test]
fn metrics_listen_must_be_an_address_other_than_listen() {
    assert!(problems(|c| c.server.metrics_listen = Some("127.0.0.1:9090".into())).is_empty());
    assert_eq!(
        paths(|c| c.server.metrics_listen = Some("9090".into())),
        ["server.metrics_listen"]
    );
    assert_eq!(
        paths(|c| c.server.metrics_listen = Some(c.server.listen.clone())),
        ["server.metrics_listen"]
    );
}

#[test]
fn admin_tokens_are_long_and_their_own() {
    let long = "admin-token-0123456789";
    assert!(problems(|c| c.server.admin.token = Some(Secret::new(long))).is_empty());
    let short = problems(|c| c.server.admin.token = Some(Secret::new("short")));
    assert_eq!(short.len(), 1);
    assert!(short[0].starts_with("server.admin.token"), "{short:?}");
    assert!(!short[0].contains("short:"), "the token is never quoted");
    let shared = problems(|c| {
        c.server.admin.token = Some(Secret::new(long));
        c.server.auth.api_key = Some(Secret::new(long));
    });
    assert_eq!(shared.len(), 1, "{shared:?}");
    assert!(!shared[0].contains(long));
}

#[test]
fn protected_metrics_need_an_admin_token() {
    assert_eq!(
        paths(|c| c.server.admin.protect_metrics = true),
        ["server.admin.protect_metrics"]
    );
    assert!(
        problems(|c| {
            c.server.admin.protect_metrics = true;
            c.server.admin.token = Some(Secret::new("admin-token-0123456789"));
        })
        .is_empty()
    );
}
