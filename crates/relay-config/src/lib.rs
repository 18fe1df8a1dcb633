//! # relay-config
//!
//! The cc-relay configuration: its schema (compatible with the Go cc-relay's
//! YAML), loading from YAML or TOML with `${VAR}` expansion, validation that
//! reports every problem with its key path, and hot reload.
//!
//! Depends only on `relay-core`. Nothing here knows about HTTP servers,
//! providers or routing decisions: it describes them.
//!
//! Loading goes: text -> format-neutral tree (`node`) -> `${VAR}` expansion
//! (`expand`) -> typed `Config` through a type-directed deserializer (`de`,
//! driven by `decode`, which collects unknown keys and type errors) ->
//! `validate`. [`ConfigWatcher`] reports changes of the file for hot reload.
//! See docs/configuration.md for the user-facing rules.

mod de;
mod decode;
mod error;
mod expand;
mod fuzz;
mod load;
mod node;
mod path;
mod schema;
mod validate;
mod watch;

pub use error::{ConfigError, Problem};
/// The fuzzing entry point, shared by the proptest suite and `fuzz/`; not
/// part of the API.
#[doc(hidden)]
pub use fuzz::config_case;
pub use load::{Format, load_file, load_str, transparent_default};
pub use schema::{
    AdminConfig, AffinityConfig, AuthConfig, CacheConfig, CacheMode, CircuitBreakerConfig, Config,
    CostConfig, DebugOptions, GrpcConfig, HealthCheckConfig, HealthConfig, KeyConfig, LogFormat,
    LogLevel, LoggingConfig, ModelCost, OlricConfig, PoolStrategy, PoolingConfig, ProviderConfig,
    ProviderType, RistrettoConfig, RoutingConfig, RoutingStrategy, ServerConfig,
};
pub use validate::validate;
pub use watch::{ConfigWatcher, DEFAULT_DEBOUNCE, MAX_DELAY_FACTOR, WatchError};

/// A commented starter configuration, written by `cc-relay config init`.
/// It loads and validates with no environment variables set.
pub const STARTER_CONFIG: &str = include_str!("starter.yaml");
