//! # relay-router
//!
//! Decides where each request goes: which provider, and which of its keys,
//! in which order to try them, and what each attempt's outcome teaches
//! (rate limits, failures) for the next decision.
//!
//! The router is a library of decisions and feedback, with no HTTP server or
//! client types in its API, so other Rust proxies can embed it: ask for a
//! [`Plan`], try its [`Attempt`]s in order, report each outcome.
//!
//! Depends on `relay-core` and `relay-config` only.

mod health;
mod plan;
mod pool;
mod router;
mod strategy;

pub use plan::{Attempt, Plan};
pub use router::{RouteError, RouteRequest, Router, Target};
