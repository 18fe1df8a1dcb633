//! # relay-config
//!
//! The cc-relay configuration: its schema (compatible with the Go cc-relay's
//! YAML), loading from YAML or TOML with `${VAR}` expansion, validation that
//! reports every problem with its key path, and hot reload.
//!
//! Depends only on `relay-core`. Nothing here knows about HTTP servers,
//! providers or routing decisions: it describes them.

mod schema;

pub use schema::{
    AuthConfig, CacheConfig, CacheMode, CircuitBreakerConfig, Config, DebugOptions, HealthCheckConfig,
    HealthConfig, KeyConfig, LogFormat, LogLevel, LoggingConfig, OlricConfig, PoolStrategy, PoolingConfig,
    ProviderConfig, ProviderType, RistrettoConfig, RoutingConfig, RoutingStrategy, ServerConfig,
};
