//! Loading files end to end: formats, env expansion, unknown keys, type
//! errors, validation, secrets, and the shipped example files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;

use relay_config::{
    Config, ConfigError, Format, LogFormat, LogLevel, ProviderType, RoutingStrategy,
    STARTER_CONFIG, load_file, load_str,
};

const ISSUE_YAML: &str = r#"
server: { listen: "127.0.0.1:8787", timeout_ms: 600000, max_concurrent: 0, max_body_bytes: 33554432, enable_http2: true,
          auth: { api_key: "${CC_RELAY_API_KEY}", allow_bearer: true, bearer_secret: "..." } }
routing: { strategy: failover, failover_timeout: 5000, debug: false, model_mapping: {}, default_provider: "" }
providers:
  - name: anthropic
    type: anthropic
    enabled: true
    base_url: "https://api.anthropic.com"
    models: [claude-sonnet-4-5]
    model_mapping: { "claude-sonnet-4-5": "glm-4.6" }
    keys: [ { key: "${ANTHROPIC_API_KEY}", rpm_limit: 50, itpm_limit: 30000, otpm_limit: 8000, priority: 1, weight: 1 } ]
health: { health_check: { enabled: true, interval_ms: 10000 }, circuit_breaker: { failure_threshold: 5, open_duration_ms: 30000, half_open_probes: 3 } }
logging: { level: info, format: pretty, output: stderr, debug_options: { log_request_body: false, max_body_log_size: 1000 } }
"#;

const ISSUE_TOML: &str = r#"
[server]
listen = "127.0.0.1:8787"
timeout_ms = 600000
max_concurrent = 0
max_body_bytes = 33554432
enable_http2 = true
auth = { api_key = "${CC_RELAY_API_KEY}", allow_bearer = true, bearer_secret = "..." }

[routing]
strategy = "failover"
failover_timeout = 5000
debug = false
model_mapping = {}
default_provider = ""

[[providers]]
name = "anthropic"
type = "anthropic"
enabled = true
base_url = "https://api.anthropic.com"
models = ["claude-sonnet-4-5"]
model_mapping = { "claude-sonnet-4-5" = "glm-4.6" }
keys = [{ key = "${ANTHROPIC_API_KEY}", rpm_limit = 50, itpm_limit = 30000, otpm_limit = 8000, priority = 1, weight = 1 }]

[health.health_check]
enabled = true
interval_ms = 10000

[health.circuit_breaker]
failure_threshold = 5
open_duration_ms = 30000
half_open_probes = 3

[logging]
level = "info"
format = "pretty"
output = "stderr"
debug_options = { log_request_body = false, max_body_log_size = 1000 }
"#;

const SECRET: &str = "sk-ant-api03-Zq8xY1vWm3kR7tLp0sNc4bJd9fHg2aEu6iOy5";

/// An environment holding `vars`.
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn keys_env() -> impl Fn(&str) -> Option<String> {
    env(&[
        ("CC_RELAY_API_KEY", "relay-secret"),
        ("ANTHROPIC_API_KEY", SECRET),
        ("ANTHROPIC_API_KEY_2", "sk-ant-second"),
        ("ZAI_API_KEY", "zai-key"),
    ])
}

fn yaml(text: &str) -> Result<Config, ConfigError> {
    load_str(text, Format::Yaml, &keys_env())
}

/// The problems of a file that must not load, as "path: message".
fn problems(text: &str, vars: &[(&str, &str)]) -> Vec<String> {
    match load_str(text, Format::Yaml, &env(vars)) {
        Ok(_) => panic!("loaded, but should not have:\n{text}"),
        Err(err) => err.problems().iter().map(ToString::to_string).collect(),
    }
}

const ONE_PROVIDER: &str = "providers: [ { name: a, enabled: true } ]\n";

#[test]
fn the_issue_example_loads() {
    let config = yaml(ISSUE_YAML).unwrap();
    assert_eq!(
        config.server.auth.api_key.as_ref().unwrap().expose(),
        "relay-secret"
    );
    assert!(config.server.auth.allow_bearer);
    assert_eq!(config.routing.default_provider, None, "\"\" means unset");
    let anthropic = &config.providers[0];
    assert_eq!(anthropic.kind, ProviderType::Anthropic);
    assert_eq!(anthropic.keys[0].key.expose(), SECRET);
    assert_eq!(
        (anthropic.keys[0].rpm_limit, anthropic.keys[0].priority),
        (50, Some(1))
    );
    assert_eq!(anthropic.model_mapping["claude-sonnet-4-5"], "glm-4.6");
    assert_eq!(config.logging.format, LogFormat::Pretty);
}

#[test]
fn the_same_in_toml_is_equal() {
    let from_toml = load_str(ISSUE_TOML, Format::Toml, &keys_env()).unwrap();
    assert_eq!(from_toml, yaml(ISSUE_YAML).unwrap());
}

#[test]
fn unset_keys_take_their_defaults() {
    let config = yaml(ONE_PROVIDER).unwrap();
    let defaults = Config::default();
    assert_eq!(config.server, defaults.server);
    assert_eq!(config.routing, defaults.routing);
    assert_eq!(config.health, defaults.health);
    assert_eq!(config.logging, defaults.logging);
    assert_eq!(config.server.listen, "127.0.0.1:8787");
    assert_eq!(config.server.max_body_bytes, 32 * 1024 * 1024);
    assert_eq!(config.routing.strategy, RoutingStrategy::Failover);
    assert_eq!(config.logging.level, LogLevel::Info);
    let provider = &config.providers[0];
    assert!(provider.enabled);
    assert_eq!(provider.kind, ProviderType::Anthropic);
    assert_eq!(
        (provider.effective_priority(), provider.effective_weight()),
        (1, 1)
    );
}

#[test]
fn empty_sections_keep_defaults() {
    let config =
        yaml("server:\nlogging:\n  level:\nproviders:\n  - name: a\n    enabled: true\n").unwrap();
    assert_eq!(config.server, Config::default().server);
}

#[test]
fn unknown_keys_are_all_reported_with_paths() {
    let text = "servr: {}\nserver: { listen: '127.0.0.1:1', auth: { alow_bearer: true } }\n\
                providers:\n  - { name: a, enabled: true }\n  - { name: b, enabled: true, kyes: [], keys: [ { key: k, rpm: 1 } ] }\n";
    assert_eq!(
        problems(text, &[]),
        [
            "servr: unknown key (did you mean `server`?)",
            "server.auth.alow_bearer: unknown key (did you mean `allow_bearer`?)",
            "providers[1].kyes: unknown key (did you mean `keys`?)",
            "providers[1].keys[0].rpm: unknown key: remove it; valid keys here are key, rpm_limit, itpm_limit, otpm_limit, tpm_limit, priority, weight, models",
        ]
    );
}

#[test]
fn type_errors_name_their_path() {
    let text = "server: { timeout_ms: abc }\nproviders: [ { name: a, enabled: true }, { name: b, enabled: true, keys: [ { key: k, rpm_limit: -5 } ] } ]";
    assert_eq!(
        problems(text, &[]),
        [
            r#"server.timeout_ms: invalid type: string "abc", expected u64"#,
            "providers[1].keys[0].rpm_limit: invalid value: integer `-5`, expected u64",
        ]
    );
}

#[test]
fn wrong_enum_values_list_the_valid_ones() {
    let found = problems(
        "routing: { strategy: fastest }\nproviders: [ { name: a, enabled: true, type: gemini } ]",
        &[],
    );
    assert_eq!(found.len(), 2);
    assert!(found[0].starts_with(
        "routing.strategy: unknown variant `fastest`, expected one of `failover`, `round_robin`"
    ));
    assert!(found[0].contains("`model_based`"), "{}", found[0]);
    assert!(found[1].starts_with("providers[0].type: unknown variant `gemini`"));
    assert!(found[1].contains("`anthropic`, `zai`"), "{}", found[1]);
}

#[test]
fn problems_of_every_kind_are_reported_together() {
    let text = "server: { listen: nowhere, auth: { api_key: '${RELAY_KEY}' }, tmeout_ms: 5 }\n\
                routing: { default_provider: ghost }\ncache: { mode: ha }\n\
                providers: [ { name: b, enabled: true, type: bedrock, keys: [ { key: '${K1}' }, { key: '${K2}' } ] } ]";
    // A missing client credential stops validation (it would report the
    // stand-in values), but not the unknown-key check. Unset variables
    // elsewhere expand to "" (warnings, as in Go).
    let found = problems(text, &[]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("server.auth.api_key: environment variable RELAY_KEY is not set"));
    assert!(found[1].starts_with("server.tmeout_ms: unknown key (did you mean `timeout_ms`?)"));

    let found = problems(text, &[("RELAY_KEY", "r"), ("K1", "one"), ("K2", "two")]);
    let paths: Vec<_> = found.iter().map(|p| p.split(':').next().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "server.tmeout_ms",
            "server.listen",
            "providers[0].aws_region",
            "routing.default_provider",
        ]
    );
    let err = load_str(
        text,
        Format::Yaml,
        &env(&[("RELAY_KEY", "r"), ("K1", "one"), ("K2", "two")]),
    )
    .unwrap_err();
    assert_eq!(err.to_string().lines().count(), 5, "{err}");
}

#[test]
fn env_defaults_and_literal_dollars() {
    let text = "server: { auth: { bearer_secret: '${TOKEN:-fallback}', api_key: '${EMPTY:-dflt}' } }\n\
                providers: [ { name: '${NAME:-main}', enabled: true, base_url: 'https://${HOST}/p', keys: [ { key: 'a$$b$c' } ] } ]";
    let config = load_str(
        text,
        Format::Yaml,
        &env(&[("EMPTY", ""), ("HOST", "h.example")]),
    )
    .unwrap();
    assert_eq!(
        config.server.auth.bearer_secret.unwrap().expose(),
        "fallback"
    );
    assert_eq!(config.server.auth.api_key.unwrap().expose(), "dflt");
    assert_eq!(config.providers[0].name, "main");
    assert_eq!(
        config.providers[0].base_url.as_deref(),
        Some("https://h.example/p")
    );
    assert_eq!(config.providers[0].keys[0].key.expose(), "a$b$c");
}

#[test]
fn whole_expansions_become_numbers_and_bools_where_wanted() {
    // Unquoted references work in block style; flow style (`{ }`) needs quotes.
    let text = "server: { timeout_ms: '${T}', enable_http2: '${H2}' }\n\
                providers:\n  - name: a\n    enabled: true\n    priority: ${P:-}\n    keys:\n\
                \x20     - key: ${NUMERIC_KEY}\n        rpm_limit: ${RPM}\n        weight: ${W:-7}\n";
    let vars = [
        ("T", "1000"),
        ("H2", "false"),
        ("RPM", "50"),
        ("NUMERIC_KEY", "12345"),
    ];
    let config = load_str(text, Format::Yaml, &env(&vars)).unwrap();
    assert_eq!(config.server.timeout_ms, 1000);
    assert!(!config.server.enable_http2);
    let provider = &config.providers[0];
    assert_eq!(
        provider.priority, None,
        "${{P:-}} leaves an optional number unset"
    );
    assert_eq!(provider.keys[0].rpm_limit, 50);
    assert_eq!(provider.keys[0].weight, Some(7));
    assert_eq!(
        provider.keys[0].key.expose(),
        "12345",
        "a numeric-looking key stays text"
    );

    let toml = "[[providers]]\nname = \"a\"\nenabled = true\nkeys = [{ key = \"k\", rpm_limit = \"${RPM}\" }]\n";
    let config = load_str(toml, Format::Toml, &env(&[("RPM", "60")])).unwrap();
    assert_eq!(config.providers[0].keys[0].rpm_limit, 60);

    // Only a lone reference is reinterpreted.
    let found = problems("server: { timeout_ms: '${T}0 ms' }", &[("T", "1")]);
    assert_eq!(
        found,
        ["server.timeout_ms: invalid type: string (value not shown), expected u64"]
    );
}

#[test]
fn secrets_never_appear_in_messages() {
    let cases = [
        format!("{ONE_PROVIDER}server: {{ timeout_ms: '{SECRET}' }}"),
        format!("providers: [ {{ name: a, enabled: true, keys: '{SECRET}' }} ]"),
        format!("providers: [ {{ name: a, enabled: true, keys: [ {{ key: k, rpm_limit: '{SECRET}' }} ] }} ]"),
        format!("providers: [ {{ name: a, enabled: true, type: '{SECRET}' }} ]"),
        format!("providers: [ {{ name: a, enabled: true, keys: [ '{SECRET}' ] }} ]"),
        format!("providers: [ {{ name: a, enabled: true, base_url: 'https://u:{SECRET}@h/' }} ]"),
        format!("{ONE_PROVIDER}routing: {{ strategy: '{SECRET}' }}"),
        "providers: [ { name: a, enabled: true, keys: [ { key: k, rpm_limit: '${ANTHROPIC_API_KEY}' } ] } ]"
            .to_owned(),
        "providers: [ { name: a, enabled: true, type: '${ANTHROPIC_API_KEY}' } ]".to_owned(),
        "providers: [ { name: a, enabled: true, keys: [ { key: k, weight: 'x${ANTHROPIC_API_KEY}' } ] } ]"
            .to_owned(),
    ];
    for text in &cases {
        let err = yaml(text).expect_err(text);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(SECRET), "leaked in:\n{shown}");
        assert!(!shown.contains("Zq8xY1"), "leaked in:\n{shown}");
    }
    let toml = format!("[server]\napi_key = {SECRET}\n");
    let err = load_str(&toml, Format::Toml, &keys_env()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("Zq8xY1"), "{err}");
    let config = yaml(ISSUE_YAML).unwrap();
    assert!(!format!("{config:?}").contains("Zq8xY1"));
}

#[test]
fn load_file_picks_the_format_from_the_extension() {
    let dir = tempfile::tempdir().unwrap();
    let minimal_toml = "[[providers]]\nname = \"a\"\nenabled = true\n";
    for (name, text) in [
        ("c.yaml", ONE_PROVIDER),
        ("c.yml", ONE_PROVIDER),
        ("c.toml", minimal_toml),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        assert_eq!(load_file(&path).unwrap().providers[0].name, "a", "{name}");
    }

    let json = dir.path().join("c.json");
    std::fs::write(&json, "{}").unwrap();
    let err = load_file(&json).unwrap_err();
    assert!(matches!(err, ConfigError::UnknownFormat { .. }));
    assert!(err.to_string().contains("c.json"), "{err}");

    let missing = dir.path().join("missing.yaml");
    let err = load_file(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.to_string().contains("missing.yaml"), "{err}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "server: { tmeout_ms: 1 }\n").unwrap();
    let err = load_file(&bad).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("config file {} is invalid", bad.display())),
        "{err}"
    );
}

#[test]
fn starter_config_is_valid() {
    let config = load_str(STARTER_CONFIG, Format::Yaml, &env(&[])).unwrap();
    assert_eq!(
        config.server.auth.api_key, None,
        "no CC_RELAY_API_KEY: no client check"
    );
    assert_eq!(config.providers.len(), 1);
    let config = load_str(
        STARTER_CONFIG,
        Format::Yaml,
        &env(&[("CC_RELAY_API_KEY", "k")]),
    )
    .unwrap();
    assert_eq!(config.server.auth.api_key.unwrap().expose(), "k");
}

fn shipped(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn shipped_example_files_are_valid() {
    let example = yaml(&shipped("example.yaml")).unwrap();
    let names: Vec<_> = example.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["anthropic", "zai", "ollama"]);
    assert_eq!(example.providers[0].keys.len(), 2);
    let minimal = load_str(
        &shipped("minimal.yaml"),
        Format::Yaml,
        &env(&[("ANTHROPIC_API_KEY", "k")]),
    )
    .unwrap();
    assert_eq!(minimal.providers[0].keys[0].key.expose(), "k");
    // Without their variables, they say which are missing: the client
    // credential is an error, the provider keys are warnings.
    let err = load_str(&shipped("example.yaml"), Format::Yaml, &env(&[])).unwrap_err();
    assert_eq!(err.problems().len(), 1, "{err}");
    let loaded = relay_config::load_str_reporting(
        &shipped("example.yaml"),
        Format::Yaml,
        &env(&[("CC_RELAY_API_KEY", "relay-client-key")]),
    )
    .unwrap();
    let unset: Vec<_> = loaded
        .warnings
        .iter()
        .filter(|w| w.kind == relay_config::WarningKind::Variable)
        .map(|w| w.path.as_str())
        .collect();
    assert_eq!(unset.len(), 3, "{:?}", loaded.warnings);
}
