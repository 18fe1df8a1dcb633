//! Header rules shared by providers that override `forward_header`.

use http::HeaderName;
use relay_core::{is_hop_by_hop, is_secret_header};

/// The trait's default rule (a provider overriding the hook cannot call it):
/// no credentials, hop-by-hop headers, headers the relay recomputes, or the
/// relay's own `x-cc-relay-*`.
pub(crate) fn forwarded_by_default(name: &HeaderName) -> bool {
    !(is_hop_by_hop(name)
        || is_secret_header(name)
        || matches!(name.as_str(), "host" | "content-length" | "accept-encoding")
        || name.as_str().starts_with("x-cc-relay-"))
}
