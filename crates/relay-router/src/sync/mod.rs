//! The seam for sharing routing state with other relays.
//!
//! Local state stays authoritative for every decision: nothing here is
//! consulted on the request path, and no I/O happens in this crate. A state
//! backend (e.g. `relay-state`'s Redis sync) attaches to a [`RouterState`](crate::RouterState)
//! and then, from its own task:
//!
//! - waits on [`RouterState::changed`](crate::RouterState::changed) (a cooldown, a key set aside, a
//!   circuit change, a new affinity pin, signatures, an operator switch) or
//!   its sync interval, whichever comes first;
//! - reads what this instance knows with [`RouterState::export`](crate::RouterState::export) and the
//!   [`LocalEvent`]s from the [`SyncOutbox`] it got when attaching;
//! - merges what other instances published with the pure rules in
//!   [`merge`] ([`SharedView`]) and hands the result to
//!   [`RouterState::apply`](crate::RouterState::apply).
//!
//! What is shared and the consistency bound of each item are described in
//! docs/high-availability.md. Latency estimates, round-robin cursors and
//! in-flight counts are deliberately not shared: they describe this
//! instance's own connections and choices.

mod export;
pub mod merge;
mod nudge;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use export::{CircuitExport, KeyExport, LocalEvent, LocalExport, SyncOutbox};
pub use merge::{BlockReason, KeyBlock, Observation, Remote, SharedView, Stamp, UsageCell};
pub(crate) use nudge::Nudge;
