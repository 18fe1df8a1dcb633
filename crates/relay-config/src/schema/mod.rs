//! The configuration file's schema, compatible with the Go cc-relay's YAML.
//!
//! Every struct takes its defaults from `Default`, so a file only names what
//! it changes. Unknown keys are not silently dropped: the loader collects them
//! (with their paths) and reports them together with every other error.
//! Durations are integers in milliseconds, as in the Go file.
//!
//! This module holds the file's top level and its small sections; the
//! `providers:` entries (keys, pooling, prices, cloud fields) are in
//! `provider`, re-exported here.

use std::collections::BTreeMap;

use relay_core::Secret;
use serde::Deserialize;

mod grpc;
mod provider;

pub use grpc::GrpcConfig;
pub use provider::{
    CostConfig, KeyConfig, ModelCost, PoolStrategy, PoolingConfig, ProviderConfig, ProviderType,
};

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Config {
    pub server: ServerConfig,
    pub routing: RoutingConfig,
    pub providers: Vec<ProviderConfig>,
    pub health: HealthConfig,
    pub logging: LoggingConfig,
    /// Accepted for compatibility with the Go file; cc-relay keeps its caches in process.
    pub cache: CacheConfig,
    /// The gRPC management service.
    pub grpc: GrpcConfig,
}

/// `server:`: the listener and the limits the relay enforces on clients.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Address to listen on. Not reloadable.
    pub listen: String,
    /// Legacy spelling of `auth.api_key`.
    pub api_key: Option<Secret>,
    pub auth: AuthConfig,
    /// How long to wait for an upstream's response headers, and the default for
    /// the idle gap allowed between two chunks of a streamed body.
    pub timeout_ms: u64,
    /// Idle gap allowed between two chunks of a streamed response; 0 = `timeout_ms`.
    pub stream_idle_timeout_ms: u64,
    /// TCP + TLS connect timeout for upstreams.
    pub connect_timeout_ms: u64,
    /// Requests handled at once; 0 = unlimited. Past it, new requests get 503.
    pub max_concurrent: usize,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: u64,
    /// Accept HTTP/2 cleartext (h2c) next to HTTP/1.1. Not reloadable.
    pub enable_http2: bool,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    pub shutdown_timeout_ms: u64,
    /// How long a client may take to send a request's headers (and, on a new
    /// connection, its first bytes) before the connection is closed: the
    /// slow-loris guard. Also the h2c keep-alive ping interval and timeout.
    pub header_read_timeout_ms: u64,
    /// A second listener serving only `GET /metrics`. Unset: `/metrics` is
    /// served on `listen`. Not reloadable.
    pub metrics_listen: Option<String>,
    /// The management API under `/admin/`.
    pub admin: AdminConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8787".into(),
            api_key: None,
            auth: AuthConfig::default(),
            timeout_ms: 600_000,
            stream_idle_timeout_ms: 0,
            connect_timeout_ms: 10_000,
            max_concurrent: 0,
            max_body_bytes: 32 * 1024 * 1024,
            enable_http2: true,
            shutdown_timeout_ms: 30_000,
            header_read_timeout_ms: 30_000,
            metrics_listen: None,
            admin: AdminConfig::default(),
        }
    }
}

/// `server.admin:`: the management API (`/admin/stats`, `/admin/events`,
/// provider switches, reload). It has its own token, separate from the
/// clients' credentials; without one it is off.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AdminConfig {
    /// Expected in `Authorization: Bearer` or `x-admin-token`. Unset: `/admin/*` answers 404.
    pub token: Option<Secret>,
    /// Refuse the write actions (disable/enable a provider, reload) with 403.
    pub read_only: bool,
    /// A second token that may only read (stats, events, configuration),
    /// whatever `read_only` says: for dashboards and people who watch.
    pub read_only_token: Option<Secret>,
    /// Require the admin token on `GET /metrics` too.
    pub protect_metrics: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            token: None,
            read_only: true,
            read_only_token: None,
            protect_metrics: false,
        }
    }
}

/// `server.auth:`: how clients prove they may use the relay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// Expected `x-api-key` value. Unset: API keys are not checked.
    pub api_key: Option<Secret>,
    /// Accept `Authorization: Bearer`.
    pub allow_bearer: bool,
    /// Alias of `allow_bearer` (Claude Code subscription users send bearer tokens).
    pub allow_subscription: bool,
    /// Expected bearer token. Unset with bearer allowed: any bearer token passes.
    pub bearer_secret: Option<Secret>,
}

/// `routing:`: how a request picks its provider.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RoutingConfig {
    pub strategy: RoutingStrategy,
    /// Total time budget for trying further candidates after a failure.
    pub failover_timeout: u64,
    /// Upper bound on upstream attempts per request; 0 = one per candidate.
    pub max_attempts: usize,
    /// Add `X-CC-Relay-*` routing headers to responses.
    pub debug: bool,
    /// `model_based`: model-name prefix -> provider name (longest prefix wins).
    pub model_mapping: BTreeMap<String, String>,
    /// `model_based`: provider for models no prefix matches.
    pub default_provider: Option<String>,
    /// Keeping a conversation on the provider and key that served it before.
    pub affinity: AffinityConfig,
}

/// `routing.affinity`: conversations (Claude Code's `x-claude-code-session-id`,
/// or the session in `metadata.user_id`) stay on one provider and key while it
/// can serve them, so thinking signatures stay valid and prompt caches warm.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AffinityConfig {
    pub enabled: bool,
    /// How long an idle conversation is remembered.
    pub ttl_ms: u64,
    /// How many conversations are remembered at most.
    pub max_entries: u64,
}

impl Default for AffinityConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl_ms: 3_600_000,
            max_entries: 10_000,
        }
    }
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            strategy: RoutingStrategy::default(),
            failover_timeout: 5_000,
            max_attempts: 0,
            debug: false,
            model_mapping: BTreeMap::new(),
            default_provider: None,
            affinity: AffinityConfig::default(),
        }
    }
}

/// `routing.strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingStrategy {
    #[default]
    #[serde(alias = "")]
    Failover,
    RoundRobin,
    WeightedRoundRobin,
    #[serde(alias = "simple-shuffle", alias = "simple_shuffle")]
    Shuffle,
    LeastLoaded,
    WeightedFailover,
    ModelBased,
    LatencyBased,
    CostBased,
}

impl RoutingStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failover => "failover",
            Self::RoundRobin => "round_robin",
            Self::WeightedRoundRobin => "weighted_round_robin",
            Self::Shuffle => "shuffle",
            Self::LeastLoaded => "least_loaded",
            Self::WeightedFailover => "weighted_failover",
            Self::ModelBased => "model_based",
            Self::LatencyBased => "latency_based",
            Self::CostBased => "cost_based",
        }
    }
}

/// `health:`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct HealthConfig {
    pub health_check: HealthCheckConfig,
    pub circuit_breaker: CircuitBreakerConfig,
}

/// `health.health_check`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct HealthCheckConfig {
    pub enabled: bool,
    pub interval_ms: u64,
}

impl Default for HealthCheckConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_ms: 10_000,
        }
    }
}

/// `health.circuit_breaker`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CircuitBreakerConfig {
    pub failure_threshold: u32,
    pub open_duration_ms: u64,
    pub half_open_probes: u32,
}

impl Default for CircuitBreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_duration_ms: 30_000,
            half_open_probes: 3,
        }
    }
}

/// `logging:`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct LoggingConfig {
    pub level: LogLevel,
    pub format: LogFormat,
    /// `stderr`, `stdout`, or a file path.
    pub output: String,
    /// Go-file compatibility: colours in the console format.
    pub pretty: bool,
    pub debug_options: DebugOptions,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            format: LogFormat::Pretty,
            output: "stderr".into(),
            pretty: false,
            debug_options: DebugOptions::default(),
        }
    }
}

/// `logging.level`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    #[default]
    Info,
    #[serde(alias = "warning")]
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// `logging.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    #[serde(alias = "console", alias = "text")]
    Pretty,
    Json,
}

/// `logging.debug_options`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DebugOptions {
    /// Log request bodies at debug level, truncated to `max_body_log_size`.
    pub log_request_body: bool,
    pub log_response_headers: bool,
    pub log_tls_metrics: bool,
    pub max_body_log_size: usize,
}

impl Default for DebugOptions {
    fn default() -> Self {
        Self {
            log_request_body: false,
            log_response_headers: false,
            log_tls_metrics: false,
            max_body_log_size: 1000,
        }
    }
}

/// `cache:`, accepted for compatibility with the Go file. cc-relay's caches
/// (affinity, learned limits) live in process; `ha` mode is not supported.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    pub mode: Option<CacheMode>,
    pub ristretto: RistrettoConfig,
    pub olric: OlricConfig,
}

/// `cache.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    Single,
    Ha,
    Disabled,
}

/// `cache.ristretto` (Go-file compatibility; sizes are advisory here).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RistrettoConfig {
    pub num_counters: i64,
    pub max_cost: i64,
    pub buffer_items: i64,
}

/// `cache.olric` (Go-file compatibility; not supported).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OlricConfig {
    pub addresses: Vec<String>,
    pub dmap_name: String,
    pub embedded: bool,
    pub bind_addr: String,
    pub peers: Vec<String>,
}
