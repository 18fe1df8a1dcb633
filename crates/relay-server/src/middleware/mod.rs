//! The tower middleware stack, outermost first:
//! [`context`] (request id + one configuration snapshot) → [`access_log`] →
//! [`auth`] → [`concurrency`] → the handlers.
//!
//! Layers that care about a response's end (logging, in-flight counting)
//! attach a [`watch::BodyWatch`] to the body rather than buffering it, so
//! streamed events still pass through one by one.

pub mod access_log;
pub mod auth;
pub mod concurrency;
pub mod context;
pub mod watch;

use std::convert::Infallible;

use http::{Request, Response};
use hyper::body::Incoming;
use tower::Service;

use crate::body::RelayBody;

/// A service in the relay's stack.
pub trait HttpService:
    Service<
        Request<Incoming>,
        Response = Response<RelayBody>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
}

impl<S> HttpService for S where
    S: Service<
            Request<Incoming>,
            Response = Response<RelayBody>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// The future every layer returns.
pub type ResponseFuture =
    futures_util::future::BoxFuture<'static, Result<Response<RelayBody>, Infallible>>;
