//! Provider health: circuit breakers, in-flight counts and latency, shared across reloads.
