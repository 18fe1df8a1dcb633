//! Behaviour tests for key states and pools, on paused tokio time.

mod concurrency;
mod headers;
mod in_flight;
mod learning;
mod properties;
mod reservations;
mod strategies;
mod support;
