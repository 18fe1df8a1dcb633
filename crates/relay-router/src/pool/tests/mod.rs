//! Behaviour tests for key states and pools, on paused tokio time.

mod concurrency;
mod learning;
mod properties;
mod reservations;
mod strategies;
mod support;
