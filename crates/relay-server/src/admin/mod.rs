//! The operator endpoints: `GET /metrics` and the management API under
//! `/admin/`. They bypass the clients' authentication and the concurrency
//! limit (a dashboard must see a relay that is full), and have their own
//! token, `server.admin.token` (and `server.admin.read_only_token`):
//!
//! - no token configured: `/admin/*` answers 404 as if it did not exist;
//! - a missing or wrong token: 401; compared in constant time;
//! - `server.admin.read_only` (the default), or the read-only token: write
//!   actions answer 403.
//!
//! `/metrics` is open unless `server.admin.protect_metrics` is set. Nothing
//! any of them returns contains a secret: keys appear as short ids.
//!
//! The operations exist once, in [`Management`] (`service.rs`); `http.rs`
//! serves them as `/admin/*` and the dashboard under `/ui/` (`ui.rs`), and
//! `grpc.rs` as the gRPC service `ccrelay.admin.v1.Admin` on `grpc.listen`.
//! Both take the same tokens with the same scopes ([`Access`]).

mod access;
mod error;
mod events;
pub mod grpc;
mod http;
mod service;
mod stats;
mod ui;

pub use access::Access;
pub use error::AdminError;
pub use http::{ADMIN_TOKEN_HEADER, Exposure, OperatorHandlers, is_operator_path};
pub use service::Management;
