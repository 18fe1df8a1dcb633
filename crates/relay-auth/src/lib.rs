//! # relay-auth
//!
//! Decides whether a client may use the relay: an `x-api-key` and/or an
//! `Authorization: Bearer` token, each checked against a configured secret in
//! constant time (the relay's API key is accepted in either header, since
//! newer Anthropic SDKs send keys as bearer tokens) (or, for bearer tokens, accepted as the client's own upstream
//! credential). The result also says which headers held *relay* credentials,
//! so the server can make sure they are never forwarded upstream.
//!
//! Client keys (`ccr_…`, [`client_keys`]) are checked beside the relay's own
//! credential: by digest, then expiry, budgets and RPM; the allowed models
//! once the request's model is known.
//!
//! Depends on `relay-core` and `relay-config` only; knows nothing of servers.

mod chain;
pub mod client_keys;
mod secret_match;

pub use chain::{AuthChain, AuthError, ClientKind, Grant, bearer_token};
pub use client_keys::{ClientKey, KeyDirectory, KeyRefusal};
pub use secret_match::secret_matches;
