//! Key pools: one per provider, choosing which API key serves a request and
//! enforcing each key's rate limits.
//!
//! Each key's limits are token buckets, one per dimension (requests, input
//! tokens, output tokens, and the legacy combined tokens), holding a minute's
//! worth and refilling continuously, as Anthropic's own limits do. Limits come
//! from configuration and from the `anthropic-ratelimit-*` headers of every
//! response; the lower applies. An attempt reserves its estimate before it is
//! sent ([`Reservation`]) and trues it up when its usage is known.
//!
//! [`KeyState`] (per key, survives reloads) is separate from [`KeyPool`]
//! (per provider and configuration), so a reload keeps what keys have used
//! and learned: the caller keeps the `Arc<KeyState>`s and hands them to the
//! new pools.
//!
//! Accounting choices, each explained where it is made:
//! - `tpm_limit` (legacy) is a fourth bucket that input and output tokens
//!   both draw from, used only when `itpm_limit` and `otpm_limit` are unset.
//! - ITPM counts input plus cache writes, not cache reads ([`Usage::itpm_tokens`]).
//! - A request that reached the upstream counts against RPM even without
//!   usage; one that never left is refunded ([`Reservation`]).
//! - `weighted` is weighted random, so it needs no shared mutable state.
//!
//! All decisions take a [`tokio::time::Instant`] so tests run on paused time.

mod bucket;
mod dimension;
mod headers;
mod in_flight;
mod key_pool;
mod limits;
mod reservation;
mod select;
mod snapshot;
mod state;

#[cfg(test)]
mod tests;

pub use key_pool::{KeyPool, Lease, PoolExhausted, PoolKey, SpecificKeyError};
pub use limits::{Estimate, KeyLimits, LimitDimension, Usage};
pub use reservation::{DEFAULT_RATE_LIMIT_COOLDOWN, Reservation};
pub use snapshot::{KeySnapshot, LimitSnapshot, UsageTotals};
pub use state::{DisableReason, KeyState, Unavailable, UnavailableReason};
