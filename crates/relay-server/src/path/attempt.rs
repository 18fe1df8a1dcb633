//! Phase `attempts`, one at a time: [`Attempts::try_attempt`] sends one
//! attempt upstream and comes back with the client's response (delivered)
//! or with what the client should get if no later attempt does better
//! (failed). Reporting to the plan, and the failover bookkeeping that goes
//! with it, happen in one place, [`Attempts::report`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use relay_core::{ApiError, RequestSummary, Secret};
use relay_providers::{ClientRequest, Credential, Endpoint, Provider, prepare_request};
use relay_router::{Attempt, DeliveryEnd, Outcome, Plan, TransportFailure, Verdict};
use tokio::time::Instant;

use super::context::RouteInfo;
use super::estimate::{endpoint_missing, estimated_count};
use super::observe::DeliveryWatch;
use super::relayed::{is_event_stream, relay_response, routing_headers};
use super::stream::Fidelity;
use super::thinking::body_for;
use super::watch::watch_body;
use crate::body::{RelayBody, full};
use crate::runtime::Runtime;
use crate::state::AppState;
use crate::telemetry::RequestTelemetry;
use crate::upstream::UpstreamError;

/// The most of an upstream error body read to classify and translate it.
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// What every attempt of one request shares.
pub struct Attempts<'a> {
    pub state: &'a AppState,
    pub runtime: &'a Runtime,
    pub telemetry: &'a Arc<RequestTelemetry>,
    pub endpoint: Endpoint,
    pub path_and_query: &'a str,
    /// The client's headers, less the relay's own credentials.
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub summary: &'a RequestSummary,
    /// How long an upstream may take to send its response headers.
    pub header_timeout: Duration,
    /// How long a started response body may stay silent.
    pub idle_timeout: Duration,
    /// `server.sse_keepalive_ms`, when not 0.
    pub keepalive: Option<Duration>,
}

/// How one attempt ended.
pub enum Tried {
    /// The client's response, on its way; where it came from.
    Delivered(Response<RelayBody>, RouteInfo),
    /// The plan goes on; this is what the attempt leaves the client with
    /// if no later one does better.
    Failed(Fallback),
}

/// What the client gets when every attempt failed: the last upstream answer
/// beats the last transport failure, which beats "no provider supports this
/// endpoint", which beats the router's own reason the plan ran out.
pub enum Fallback {
    /// Nothing worth showing (the attempt's provider is gone, say).
    Skipped,
    Unsupported(ApiError),
    Transport(ApiError),
    Held(HeldResponse),
}

impl Fallback {
    fn rank(&self) -> u8 {
        match self {
            Self::Skipped => 0,
            Self::Unsupported(_) => 1,
            Self::Transport(_) => 2,
            Self::Held(_) => 3,
        }
    }

    /// Keeps `new` unless what is kept already ranks higher.
    pub fn keep_better(kept: &mut Option<Self>, new: Self) {
        if kept.as_ref().is_none_or(|kept| new.rank() >= kept.rank()) {
            *kept = Some(new);
        }
    }
}

/// An upstream error response held back while other candidates are tried.
pub struct HeldResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    pub route: RouteInfo,
}

impl HeldResponse {
    /// The client's response, and where it came from.
    pub fn into_response(self) -> (Response<RelayBody>, RouteInfo) {
        let mut response = Response::new(full(self.body));
        *response.status_mut() = self.status;
        for (name, value) in &self.headers {
            if !(relay_core::is_hop_by_hop(name) || name == header::CONTENT_LENGTH) {
                response.headers_mut().append(name.clone(), value.clone());
            }
        }
        (response, self.route)
    }
}

impl Attempts<'_> {
    /// Sends one attempt and settles it with the plan.
    pub async fn try_attempt(&self, plan: &mut Plan<'_>, attempt: Attempt) -> Tried {
        let Some(provider) = self.runtime.provider(attempt.provider_index) else {
            return Tried::Failed(Fallback::Skipped);
        };
        let endpoint = self.endpoint;
        if !provider.supports(endpoint) && endpoint == Endpoint::CountTokens {
            // Answered here: nothing is recorded against the provider or its key.
            let route = route_of(&attempt);
            let routing = routing_headers(&self.runtime.router, &attempt, Instant::now());
            plan.skip(attempt);
            return Tried::Delivered(estimated_count(self.body, routing), route);
        }
        if !provider.supports(endpoint) {
            // Not a failure of the provider: it simply does not offer this endpoint.
            let error = ApiError::not_found(format!(
                "provider `{}` does not support {}, and no other provider could take the request",
                attempt.provider,
                endpoint.as_str()
            ));
            plan.skip(attempt);
            return Tried::Failed(Fallback::Unsupported(error));
        }
        self.telemetry
            .attempt(&attempt.provider, attempt.key_id.as_deref());
        let route = route_of(&attempt);
        let router = &self.runtime.router;
        let attempt_body = body_for(self.body, self.summary, router, &attempt.provider);
        let client = ClientRequest {
            endpoint,
            path_and_query: self.path_and_query,
            headers: self.headers,
            body: &attempt_body,
            summary: self.summary,
        };
        let credential = credential_for(provider.as_ref(), attempt.key.as_ref());
        let upstream_request = match prepare_request(provider.as_ref(), &client, credential).await {
            Ok(request) => request,
            Err(err) if err.is_refusal() => {
                // The request asks for what this provider cannot do: not its
                // failure, so no breaker or key is charged; another may serve it.
                tracing::debug!(provider = %attempt.provider, error = %err, "provider cannot serve this request");
                plan.skip(attempt);
                return Tried::Failed(Fallback::Unsupported(err.into()));
            }
            Err(err) => {
                tracing::warn!(provider = %attempt.provider, error = %err, "could not prepare the upstream request");
                self.report(plan, attempt, Outcome::Transport(TransportFailure::Connect));
                return Tried::Failed(Fallback::Transport(err.into()));
            }
        };
        tracing::debug!(provider = %route.provider, key_id = ?route.key_id, "sending upstream");
        let sent = Instant::now();
        let answer = self
            .state
            .upstream
            .send(upstream_request, self.header_timeout)
            .await;
        self.telemetry.waited(sent.elapsed());
        let response = match answer {
            Ok(response) => response,
            Err(err) => {
                tracing::warn!(provider = %route.provider, error = %err, "upstream attempt failed");
                let failure = match err {
                    UpstreamError::Connect(_) => TransportFailure::Connect,
                    UpstreamError::Timeout(_) => TransportFailure::Timeout,
                    UpstreamError::Transport(_) => TransportFailure::Broken,
                };
                self.report(plan, attempt, Outcome::Transport(failure));
                return Tried::Failed(Fallback::Transport(ApiError::from(&err)));
            }
        };
        if endpoint == Endpoint::CountTokens && count_answered(response.status()) {
            // Neither a count nor a 404/405 touches the circuit, the key's
            // cooldown or its message budget: the attempt is given back.
            let routing = routing_headers(&self.runtime.router, &attempt, Instant::now());
            plan.skip(attempt);
            if endpoint_missing(response.status()) {
                tracing::debug!(provider = %route.provider, status = response.status().as_u16(), "count_tokens not offered upstream: answering with an estimate");
                return Tried::Delivered(estimated_count(self.body, routing), route);
            }
            let response = relay_response(
                response,
                None,
                false,
                self.idle_timeout,
                routing,
                Fidelity::default(),
            );
            return Tried::Delivered(response, route);
        }
        if response.status().is_success() {
            self.deliver(plan, attempt, provider.as_ref(), response, route)
        } else {
            self.answered_error(plan, attempt, provider.as_ref(), response, route)
                .await
        }
    }

    /// A 2xx answer: phases `response headers` and `body watch`.
    fn deliver(
        &self,
        plan: &mut Plan<'_>,
        attempt: Attempt,
        provider: &dyn Provider,
        response: Response<Incoming>,
        route: RouteInfo,
    ) -> Tried {
        let outcome = Outcome::Response {
            status: response.status().as_u16(),
            headers: response.headers(),
            error_body: None,
        };
        let key_headers = routing_headers(&self.runtime.router, &attempt, Instant::now());
        let Verdict::Deliver(delivery) = self.report(plan, attempt, outcome) else {
            return Tried::Failed(Fallback::Skipped);
        };
        let decoder = provider.response_decoder(self.endpoint, self.summary.stream);
        // Decided once: a decoder says what it makes (Anthropic SSE, or a
        // translated JSON document); otherwise the upstream's content type.
        let event_stream = match decoder.as_ref() {
            Some(decoder) => decoder.content_type() == "text/event-stream",
            None => is_event_stream(response.headers()),
        };
        let fidelity = Fidelity {
            // The client sees the model it asked for, whatever the mapping sent.
            restore_model: (self.endpoint == Endpoint::Messages
                && provider.upstream_model(&self.summary.model) != self.summary.model)
                .then(|| self.summary.model.clone()),
            keepalive: self.keepalive,
        };
        let response = relay_response(
            response,
            decoder,
            event_stream,
            self.idle_timeout,
            key_headers,
            fidelity,
        );
        let watch = DeliveryWatch::new(delivery, event_stream, Arc::clone(self.telemetry));
        Tried::Delivered(watch_body(response, watch), route)
    }

    /// A non-2xx answer: translated, then delivered or held while the plan goes on.
    async fn answered_error(
        &self,
        plan: &mut Plan<'_>,
        attempt: Attempt,
        provider: &dyn Provider,
        response: Response<Incoming>,
        route: RouteInfo,
    ) -> Tried {
        let (parts, body) = response.into_parts();
        let reading = Instant::now();
        let error_body = read_error_body(body, self.header_timeout).await;
        self.telemetry.waited(reading.elapsed());
        let error_body = match error_body {
            Ok(body) => body,
            Err((failure, why)) => {
                self.report(plan, attempt, Outcome::Transport(failure));
                return Tried::Failed(Fallback::Transport(ApiError::bad_gateway(why)));
            }
        };
        let original = error_body.clone();
        let (status, error_body) =
            provider.translate_error(parts.status, &parts.headers, error_body);
        let translated = status != parts.status || error_body != original;
        let mut headers = parts.headers.clone();
        if translated {
            // The body is now Anthropic's JSON, whatever the backend sent.
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        headers.extend(routing_headers(
            &self.runtime.router,
            &attempt,
            Instant::now(),
        ));
        let outcome = Outcome::Response {
            status: status.as_u16(),
            headers: &parts.headers,
            error_body: Some(&error_body),
        };
        let verdict = self.report(plan, attempt, outcome);
        let held = HeldResponse {
            status,
            headers,
            body: error_body,
            route,
        };
        match verdict {
            Verdict::Deliver(delivery) => {
                delivery.finish(DeliveryEnd::default());
                let (response, route) = held.into_response();
                Tried::Delivered(response, route)
            }
            Verdict::Retry(reason) => {
                tracing::info!(provider = %held.route.provider, status = status.as_u16(), reason = reason.as_str(), "failing over");
                Tried::Failed(Fallback::Held(held))
            }
        }
    }

    /// Reports how an attempt ended; an abandoned attempt goes to the
    /// request's telemetry as a failover.
    fn report(&self, plan: &mut Plan<'_>, attempt: Attempt, outcome: Outcome<'_>) -> Verdict {
        let provider = Arc::clone(&attempt.provider);
        let verdict = plan.report(attempt, outcome, Instant::now());
        if let Verdict::Retry(reason) = verdict {
            self.telemetry.abandoned(&provider, reason);
        }
        verdict
    }
}

fn route_of(attempt: &Attempt) -> RouteInfo {
    RouteInfo {
        provider: attempt.provider.to_string(),
        key_id: attempt.key_id.clone(),
        affinity_hit: attempt.affinity_hit,
    }
}

/// A `count_tokens` answer that is not the provider's failure: a count, or
/// the endpoint missing.
fn count_answered(status: StatusCode) -> bool {
    status.is_success() || endpoint_missing(status)
}

fn credential_for<'a>(provider: &dyn Provider, key: Option<&'a Secret>) -> Credential<'a> {
    match key {
        Some(key) => Credential::Key(key),
        None if provider.passthrough_client_credentials() => Credential::ClientOwn,
        None => Credential::None,
    }
}

/// Reads an upstream error body, bounded in size and time.
async fn read_error_body(
    body: Incoming,
    timeout: Duration,
) -> Result<Bytes, (TransportFailure, &'static str)> {
    let collect = Limited::new(body, MAX_ERROR_BODY).collect();
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => Err((
            TransportFailure::Timeout,
            "the upstream's error response did not arrive in time",
        )),
        Ok(Err(err)) if err.is::<LengthLimitError>() => Err((
            TransportFailure::Broken,
            "the upstream's error response was larger than 1 MiB",
        )),
        Ok(Err(_)) => Err((
            TransportFailure::Broken,
            "the upstream's error response was cut short",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}
