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
mod outcome;
mod plan;
mod pool;
mod router;
mod state;
mod strategy;
pub mod sync;

pub use health::{
    Admission, BreakerSettings, CircuitPermit, CircuitState, InFlightGuard, ProviderHealth,
};
pub use outcome::{
    Classification, FailoverReason, Outcome, RetryScope, TransportFailure, classify,
};
pub use plan::{Attempt, Delivery, DeliveryEnd, Plan, Verdict};
pub use pool::{
    DEFAULT_RATE_LIMIT_COOLDOWN, DisableReason, Estimate, KeyLimits, KeyPool, KeySnapshot,
    KeyState, Lease, LimitDimension, LimitSnapshot, PoolExhausted, PoolKey, Reservation,
    SpecificKeyError, Unavailable, UnavailableReason, Usage, UsageTotals,
};
pub use router::{RouteError, RouteRequest, Router, Target};
pub use state::{AffinityTarget, RouterState};
pub use strategy::{Candidate, Selector};
