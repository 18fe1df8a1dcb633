//! `grpc:`: the gRPC management listener of the Go cc-relay's file.
//!
//! Accepted so Go files load; cc-relay does not serve gRPC yet, and the
//! loader warns about every key set here (see `compat`).

use serde::Deserialize;

/// `grpc:`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GrpcConfig {
    /// Address of the gRPC management service (Go: `127.0.0.1:9090`).
    pub listen: Option<String>,
    /// Go: address of a grpc-web listener for browser UIs.
    pub web_listen: Option<String>,
}
