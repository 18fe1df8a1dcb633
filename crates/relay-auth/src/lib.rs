//! # relay-auth
//!
//! Decides whether a client may use the relay: an `x-api-key` and/or an
//! `Authorization: Bearer` token, each checked against a configured secret in
//! constant time (or, for bearer tokens, accepted as the client's own upstream
//! credential). The result also says which headers held *relay* credentials,
//! so the server can make sure they are never forwarded upstream.
//!
//! Depends on `relay-core` and `relay-config` only; knows nothing of servers.

mod chain;
mod secret_match;

pub use chain::{AuthChain, AuthError, Grant};
