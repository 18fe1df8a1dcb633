//! Phase `authenticate`: client authentication with the snapshot's auth
//! chain, for the routes whose table entry asks for it (not `/health`, not
//! the operator endpoints, which have their own token).

use http::HeaderMap;
use relay_core::ApiError;

use super::context::RequestContext;

/// Runs after `accept` and the route lookup, before `admit`. On success it
/// records the [`Grant`](relay_auth::Grant) in the context (the relay phase
/// strips the headers it names); it never changes the request.
pub fn authenticate(ctx: &mut RequestContext, headers: &HeaderMap) -> Result<(), ApiError> {
    match ctx.runtime.auth.check(headers) {
        Ok(grant) => {
            ctx.grant = Some(grant);
            Ok(())
        }
        Err(error) => {
            let error = ApiError::from(error);
            tracing::info!(error = %error, "client authentication failed");
            Err(error)
        }
    }
}
