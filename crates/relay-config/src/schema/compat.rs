//! Sections and keys that exist only because the Go cc-relay's file has
//! them. Each is read into cc-relay's own settings where one fits, and
//! warned about where none does (see `crate::compat`).

use serde::Deserialize;

/// `metrics:` (Go). cc-relay always serves Prometheus metrics at `/metrics`,
/// on `server.listen` or on `server.metrics_listen`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    pub enabled: Option<bool>,
    /// Go: the metrics path. cc-relay serves `/metrics` only.
    pub prometheus_endpoint: Option<String>,
    /// Go: a separate metrics listener; read as `server.metrics_listen`.
    pub prometheus_listen: Option<String>,
}

/// `health.circuit_breaker.triggers` (Go): per-kind failure counts.
/// cc-relay counts every retryable failure toward `failure_threshold`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct BreakerTriggers {
    pub rate_limit_errors: Option<u32>,
    pub timeout_errors: Option<u32>,
    pub server_errors: Option<u32>,
}
