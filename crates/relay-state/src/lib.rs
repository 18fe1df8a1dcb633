//! # relay-state
//!
//! Shares `relay-router`'s routing state with the other relays of a fleet
//! through Redis (or Valkey): key usage, cooldowns and keys set aside,
//! circuits, conversation affinity, thinking-signature origins and operator
//! switches. What is shared, how fast, and why the rest stays local is in
//! docs/high-availability.md.
//!
//! The request path never waits on Redis: one background task per process
//! reads the router's state through its sync seam (`relay_router::sync`),
//! publishes what changed, and merges what others published into local
//! state. Redis down, slow or holding garbage costs sharing, never a
//! request.
//!
//! Depends on `relay-core`, `relay-config` and `relay-router`; the server
//! starts it ([`StateSync::configure`]) and shows its [`StateStatus`].

mod keys;
mod status;
mod sync;
mod task;
mod wire;

pub use status::StateStatus;
pub use sync::StateSync;
