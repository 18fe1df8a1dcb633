//! Every file of the Go cc-relay's corpus (see `relay_test_support::go_corpus`)
//! loads, with the warnings it deserves and the Go relay's meaning.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use relay_config::{Format, Loaded, ProviderType, WarningKind, load_str_reporting};
use relay_test_support::go_corpus;

fn corpus() -> (PathBuf, BTreeMap<String, String>) {
    let dir = go_corpus::dir().unwrap_or_else(|why| panic!("{why}"));
    let env = go_corpus::env(&dir).unwrap_or_else(|why| panic!("{why}"));
    (dir, env)
}

fn load(path: &Path, env: &BTreeMap<String, String>) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let format = Format::from_path(path).map_err(|e| e.to_string())?;
    load_str_reporting(&text, format, &|name| env.get(name).cloned()).map_err(|e| e.to_string())
}

fn load_named(name: &str) -> Loaded {
    let (dir, env) = corpus();
    load(&dir.join(name), &env).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn warned(loaded: &Loaded, path: &str) -> Vec<(WarningKind, String)> {
    loaded
        .warnings
        .iter()
        .filter(|w| w.path == path)
        .map(|w| (w.kind, w.message.clone()))
        .collect()
}

#[test]
fn every_corpus_file_loads() {
    let (dir, env) = corpus();
    let files = go_corpus::files(&dir).unwrap_or_else(|why| panic!("{why}"));
    assert!(
        files.len() >= 83,
        "only {} files in {}",
        files.len(),
        dir.display()
    );
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| load(path, &env).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files do not load:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn warnings_never_quote_a_secret() {
    let (dir, env) = corpus();
    for path in go_corpus::files(&dir).unwrap_or_default() {
        let Ok(loaded) = load(&path, &env) else {
            continue;
        };
        for warning in &loaded.warnings {
            for (name, value) in &env {
                if value.len() >= 4 && (name.contains("KEY") || name.contains("SECRET")) {
                    assert!(
                        !warning.message.contains(value.as_str()),
                        "{}: {warning} quotes {name}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn the_go_example_maps_health_and_metrics_and_warns_about_grpc() {
    let loaded = load_named("config_init_template.yaml");
    let config = &loaded.config;
    assert_eq!(config.health.health_check.interval_ms, 30_000);
    assert_eq!(config.health.circuit_breaker.open_duration_ms, 60_000);
    assert_eq!(
        config.server.metrics_listen.as_deref(),
        Some("127.0.0.1:9100")
    );
    assert_eq!(config.grpc.listen.as_deref(), Some("127.0.0.1:9090"));
    for (path, kind) in [
        ("grpc.listen", WarningKind::NotUsed),
        ("metrics.prometheus_listen", WarningKind::Mapped),
        ("health.check_interval_seconds", WarningKind::Mapped),
        (
            "health.circuit_breaker.recovery_timeout_seconds",
            WarningKind::Mapped,
        ),
        ("health.circuit_breaker.triggers", WarningKind::NotUsed),
    ] {
        let found = warned(&loaded, path);
        assert_eq!(found.len(), 1, "{path}: {:?}", loaded.warnings);
        assert_eq!(found[0].0, kind, "{path}");
    }
    // `/metrics` is what cc-relay serves: nothing to say.
    assert!(warned(&loaded, "metrics.prometheus_endpoint").is_empty());
}

#[test]
fn ha_cache_is_accepted_with_the_shared_state_hint() {
    let loaded = load_named("docs_caching_09_two-node-cluster-example.yaml");
    let mode = warned(&loaded, "cache.mode");
    assert_eq!(mode.len(), 1, "{:?}", loaded.warnings);
    assert!(mode[0].1.contains("state.backend: redis"), "{mode:?}");
    assert_eq!(warned(&loaded, "cache.olric").len(), 1);
}

#[test]
fn every_interface_as_in_go() {
    let loaded = load_named("old_config_example.yaml");
    assert_eq!(loaded.config.server.listen, "0.0.0.0:8787");
    let found = warned(&loaded, "server.listen");
    assert_eq!(found[0].0, WarningKind::GoMeaning);
    assert!(found[0].1.contains("127.0.0.1:8787"), "{found:?}");
}

#[test]
fn bedrock_and_vertex_placeholder_keys_are_ignored() {
    for name in [
        "docs_providers_13_configuration.yaml",
        "docs_providers_14_configuration.toml",
    ] {
        let loaded = load_named(name);
        let bedrock = &loaded.config.providers[0];
        assert_eq!(bedrock.kind, ProviderType::Bedrock);
        assert!(
            bedrock.keys.is_empty(),
            "{name}: the placeholder stays a key"
        );
        assert!(bedrock.aws_access_key_id.is_some(), "{name}: SigV4 signing");
        assert_eq!(
            warned(&loaded, "providers[0].keys[0].key")[0].0,
            WarningKind::LeftOut
        );
    }
    for name in [
        "docs_providers_19_configuration.yaml",
        "docs_providers_20_configuration.toml",
    ] {
        let loaded = load_named(name);
        assert!(loaded.config.providers[0].keys.is_empty(), "{name}");
        assert_eq!(
            warned(&loaded, "providers[0].keys[0].key").len(),
            1,
            "{name}"
        );
    }
}

#[test]
fn toml_models_under_a_key_are_ignored_with_a_warning() {
    let loaded = load_named("docs_configuration_20_anthropic-provider.toml");
    let found = warned(&loaded, "providers[0].keys[0].models");
    assert_eq!(found.len(), 1, "{:?}", loaded.warnings);
    assert!(found[0].1.contains("[[providers.keys]]"), "{found:?}");
    // The Go relay drops them; so does cc-relay.
    assert!(loaded.config.providers[0].models.is_empty());
}

#[test]
fn a_provider_without_enabled_is_off_with_a_warning() {
    let text = "providers:\n  - { name: a, enabled: true }\n  - { name: b }\n  - { name: c, enabled: false }\n";
    let loaded = load_str_reporting(text, Format::Yaml, &|_| None).unwrap();
    let enabled: Vec<_> = loaded.config.providers.iter().map(|p| p.enabled).collect();
    assert_eq!(enabled, [true, false, false]);
    let found = warned(&loaded, "providers[1].enabled");
    assert_eq!(found.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(found[0].0, WarningKind::GoMeaning);
    assert!(found[0].1.contains("add `enabled: true`"), "{found:?}");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);

    let err =
        load_str_reporting("providers: [ { name: b } ]", Format::Yaml, &|_| None).unwrap_err();
    assert!(err.to_string().contains("add `enabled: true`"), "{err}");
}
