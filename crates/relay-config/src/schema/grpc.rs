//! `grpc:`: the gRPC management service (`ccrelay.admin.v1.Admin`), the Go
//! cc-relay's key.

use serde::Deserialize;

/// `grpc:`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GrpcConfig {
    /// Address the gRPC management service listens on (HTTP/2 cleartext);
    /// unset: off. It takes the admin token (`server.admin`). Not reloadable.
    pub listen: Option<String>,
}
