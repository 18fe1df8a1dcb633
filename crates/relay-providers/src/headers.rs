//! The header rule of `Provider::forward_header`, written once: the trait's
//! default is this rule, and providers that narrow it start from it.

use http::HeaderName;
use relay_core::{is_hop_by_hop, is_secret_header};

/// The default rule: no credentials, hop-by-hop headers, headers the relay recomputes, or the
/// relay's own `x-cc-relay-*`.
pub(crate) fn forwarded_by_default(name: &HeaderName) -> bool {
    !(is_hop_by_hop(name)
        || is_secret_header(name)
        || matches!(name.as_str(), "host" | "content-length" | "accept-encoding")
        || name.as_str().starts_with("x-cc-relay-"))
}
