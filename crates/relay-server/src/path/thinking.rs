//! Making a conversation valid for the provider an attempt goes to: thinking
//! blocks whose signatures another backend produced are dropped. Signatures
//! the relay never saw being made are kept: it knows, it does not guess.

use bytes::Bytes;
use relay_core::{RequestSummary, drop_foreign_thinking, may_carry_thinking};
use relay_router::Router;

/// The body to send to `provider`: the client's own, unless it carries
/// thinking blocks `provider` cannot verify.
pub fn body_for(body: &Bytes, summary: &RequestSummary, router: &Router, provider: &str) -> Bytes {
    let Some(span) = summary.messages_span.clone() else {
        return body.clone();
    };
    if !may_carry_thinking(body) {
        return body.clone();
    }
    let state = router.state();
    let keep = |signature| {
        state
            .signature_origin(signature)
            .is_none_or(|origin| &*origin == provider)
    };
    match drop_foreign_thinking(body, span, keep) {
        Some(rewrite) => {
            tracing::info!(
                provider,
                dropped = rewrite.dropped,
                "dropped thinking blocks signed by another backend"
            );
            rewrite.body
        }
        None => body.clone(),
    }
}
