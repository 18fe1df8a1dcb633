//! Key pools: one per provider, choosing which API key serves a request and enforcing each key's rate limits.
