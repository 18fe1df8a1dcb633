//! Loading: read, parse, expand `${VAR}`, decode, normalise, validate.
//!
//! Problems from every stage are gathered into one `ConfigError::Invalid`, so
//! a file is fixed in one round trip. Validation is skipped only when the
//! decoded config cannot be trusted (a type error or a missing variable left a
//! value at a stand-in default), because its findings would be misleading.

use std::path::Path;

use relay_core::Secret;

use crate::compat;
use crate::decode::decode;
use crate::error::ConfigError;
use crate::expand::{Env, expand_tree};
use crate::node::{self, Node};
use crate::schema::{Config, ProviderConfig, ProviderType};
use crate::validate::validate;
use crate::warning::{Warning, Warnings};

/// A configuration that loaded, and what the operator should know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub config: Config,
    /// Keys accepted but read differently or not used, in file order per
    /// kind of check; report them (`validate` prints, `serve` logs).
    pub warnings: Vec<Warning>,
}

/// A configuration file's syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
}

impl Format {
    /// From the file's extension: `.yaml`/`.yml` or `.toml`, in any case.
    pub fn from_path(path: &Path) -> Result<Self, ConfigError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("yaml" | "yml") => Ok(Self::Yaml),
            Some("toml") => Ok(Self::Toml),
            _ => Err(ConfigError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Reads and loads a file, expanding `${VAR}` from the process environment.
/// Drops the warnings: callers that face an operator use [`load_file_reporting`].
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    load_file_reporting(path).map(|loaded| loaded.config)
}

/// [`load_file`], with the load warnings.
pub fn load_file_reporting(path: &Path) -> Result<Loaded, ConfigError> {
    let format = Format::from_path(path)?;
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load(&text, format, &|name| std::env::var(name).ok(), Some(path))
}

/// Loads configuration text, looking variables up with `env` (`None` = unset).
pub fn load_str(
    text: &str,
    format: Format,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    load(text, format, env, None).map(|loaded| loaded.config)
}

/// [`load_str`], with the load warnings.
pub fn load_str_reporting(
    text: &str,
    format: Format,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, ConfigError> {
    load(text, format, env, None)
}

fn load(
    text: &str,
    format: Format,
    env: Env<'_>,
    path: Option<&Path>,
) -> Result<Loaded, ConfigError> {
    let parsed = match format {
        Format::Yaml => node::from_yaml(text),
        Format::Toml => node::from_toml(text),
    };
    let mut tree: Node = parsed.map_err(|message| ConfigError::Parse {
        path: path.map(Path::to_path_buf),
        message,
    })?;

    let mut problems = Vec::new();
    let mut warnings = Warnings::default();
    expand_tree(&mut tree, env, &mut problems, &mut warnings);
    let env_ok = problems.is_empty();
    compat::providers_without_enabled(&tree, &mut warnings);

    let decoded = decode(tree);
    problems.extend(decoded.problems);
    let config = decoded.config.map(|mut config| {
        compat::apply(&mut config, &mut warnings);
        normalize(config)
    });
    if let (Some(config), true, false) = (&config, env_ok, decoded.had_type_errors) {
        problems.extend(validate(config));
    }
    match config {
        Some(config) if problems.is_empty() => Ok(Loaded {
            config,
            warnings: warnings.0,
        }),
        _ => Err(ConfigError::Invalid {
            path: path.map(Path::to_path_buf),
            problems,
        }),
    }
}

/// The configuration used when no file is found: a transparent relay to
/// Anthropic. It has no keys, so clients' own credentials pass through.
pub fn transparent_default() -> Config {
    Config {
        providers: vec![ProviderConfig {
            name: "anthropic".to_owned(),
            kind: ProviderType::Anthropic,
            enabled: true,
            base_url: Some("https://api.anthropic.com".to_owned()),
            ..ProviderConfig::default()
        }],
        ..Config::default()
    }
}

/// Empty optional values mean "unset": `default_provider: ""` (as the Go
/// example writes it) or `api_key: "${CC_RELAY_API_KEY:-}"`. Making them
/// `None` here spares every consumer from checking both.
fn normalize(mut config: Config) -> Config {
    let server = &mut config.server;
    for secret in [
        &mut server.api_key,
        &mut server.auth.api_key,
        &mut server.auth.bearer_secret,
        &mut server.admin.token,
    ] {
        clear_empty_secret(secret);
    }
    clear_empty(&mut server.metrics_listen);
    clear_empty(&mut config.routing.default_provider);
    for provider in &mut config.providers {
        for text in [
            &mut provider.base_url,
            &mut provider.aws_region,
            &mut provider.gcp_project_id,
            &mut provider.gcp_region,
            &mut provider.azure_resource_name,
            &mut provider.azure_deployment_id,
            &mut provider.azure_api_version,
            &mut provider.aws_profile,
            &mut provider.gcp_credentials_file,
            &mut provider.azure_tenant_id,
            &mut provider.azure_client_id,
            &mut provider.azure_authority_host,
        ] {
            clear_empty(text);
        }
        for secret in [
            &mut provider.aws_access_key_id,
            &mut provider.aws_secret_access_key,
            &mut provider.aws_session_token,
            &mut provider.azure_client_secret,
        ] {
            clear_empty_secret(secret);
        }
    }
    config
}

fn clear_empty(value: &mut Option<String>) {
    if value.as_deref().is_some_and(str::is_empty) {
        *value = None;
    }
}

fn clear_empty_secret(value: &mut Option<Secret>) {
    if value.as_ref().is_some_and(Secret::is_empty) {
        *value = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CacheMode, LogLevel};

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/config.yaml")).unwrap(),
            Format::Yaml
        );
        assert_eq!(
            Format::from_path(Path::new("config.YML")).unwrap(),
            Format::Yaml
        );
        assert_eq!(
            Format::from_path(Path::new("config.toml")).unwrap(),
            Format::Toml
        );
        let err = Format::from_path(Path::new("conf/config.json")).unwrap_err();
        assert!(err.to_string().contains("conf/config.json"), "{err}");
        assert!(Format::from_path(Path::new("config")).is_err());
    }

    #[test]
    fn empty_strings_become_unset() {
        let text = "server: { auth: { api_key: '${K:-}', bearer_secret: '' } }\n\
                    routing: { default_provider: '' }\nproviders: [ { name: a, enabled: true, base_url: '' } ]";
        let config = load_str(text, Format::Yaml, &no_env).unwrap();
        assert_eq!(config.server.auth.api_key, None);
        assert_eq!(config.server.auth.bearer_secret, None);
        assert_eq!(config.routing.default_provider, None);
        assert_eq!(config.providers[0].base_url, None);
    }

    #[test]
    fn transparent_default_is_valid() {
        let config = transparent_default();
        assert!(validate(&config).is_empty(), "{:?}", validate(&config));
        assert!(config.providers[0].keys.is_empty());
        assert_eq!(config.server.listen, "127.0.0.1:8787");
    }

    #[test]
    fn validation_is_skipped_after_type_errors() {
        let err = load_str("server: { timeout_ms: x }", Format::Yaml, &no_env).unwrap_err();
        // Only the type error: no "no enabled provider" noise.
        assert_eq!(err.problems().len(), 1, "{err}");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = load_str("server: [", Format::Yaml, &no_env).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        assert!(err.to_string().contains("line"), "{err}");
        let err = load_str("[server\n", Format::Toml, &no_env).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn go_compatibility_keys_are_accepted() {
        let text = "server: { api_key: legacy, auth: { allow_subscription: true } }\n\
                    cache: { mode: single, ristretto: { num_counters: 1000000, max_cost: 104857600, buffer_items: 64 } }\n\
                    logging: { pretty: true, format: console, level: warning, debug_options: { log_tls_metrics: true } }\n\
                    providers: [ { name: a, enabled: true, pooling: { enabled: true, strategy: round_robin }, keys: [ { key: k, tpm_limit: 9, priority: 2, weight: 3 } ] } ]";
        let config = load_str(text, Format::Yaml, &no_env).unwrap();
        assert_eq!(config.server.api_key.unwrap().expose(), "legacy");
        assert_eq!(config.cache.mode, Some(CacheMode::Single));
        assert_eq!(config.logging.level, LogLevel::Warn);
        assert_eq!(
            (
                config.providers[0].effective_priority(),
                config.providers[0].effective_weight()
            ),
            (2, 3)
        );
    }

    #[test]
    fn the_documented_examples_load() {
        let docs = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/configuration.md"
        ));
        let block = |lang: &str, nth_from_end: usize| {
            let fence = format!("```{lang}\n");
            let start = docs.rmatch_indices(&fence).nth(nth_from_end).unwrap().0 + fence.len();
            &docs[start..start + docs[start..].find("```").unwrap()]
        };
        // The YAML/TOML pair of "Formats" comes first in the file.
        let first = |lang: &str| {
            let fence = format!("```{lang}\n");
            let start = docs.find(&fence).unwrap() + fence.len();
            &docs[start..start + docs[start..].find("```").unwrap()]
        };
        let env = |name: &str| name.contains("API_KEY").then(|| format!("{name}-value"));
        let config = load_str(block("yaml", 0), Format::Yaml, &env).unwrap();
        assert_eq!(config.providers[0].keys[1].rpm_limit, 50);
        let yaml = load_str(first("yaml"), Format::Yaml, &env).unwrap();
        let toml = load_str(first("toml"), Format::Toml, &env).unwrap();
        assert_eq!(yaml, toml);
    }
}
