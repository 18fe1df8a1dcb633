//! Phase `admit`: `server.max_concurrent`. Past the limit a request is
//! refused at once with 503, rather than queued behind streams that may last
//! minutes. A request counts until its response body is finished or dropped.
//! The limit comes from the request's snapshot, so a reload changes it
//! without losing the count. Only the routes whose table entry says so count
//! (the relay's API, not `/health` or the operator endpoints: a supervisor or
//! a dashboard must be able to see a relay that is full).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use relay_core::ApiError;

use super::context::RequestContext;
use crate::state::AppState;

/// Holds one in-flight slot until dropped.
#[derive(Debug)]
pub struct Slot(Arc<AppState>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs after `authenticate`, before the handler. Takes a slot (held by the
/// response body's watch until the body is done with), or refuses.
pub fn admit(state: &Arc<AppState>, ctx: &RequestContext) -> Result<Slot, ApiError> {
    let limit = ctx.runtime.config.server.max_concurrent;
    let previous = state.in_flight.fetch_add(1, Ordering::AcqRel);
    let slot = Slot(Arc::clone(state));
    if limit > 0 && previous >= limit {
        drop(slot);
        return Err(ApiError::unavailable(format!(
            "the relay is at its limit of {limit} concurrent requests"
        )));
    }
    Ok(slot)
}
