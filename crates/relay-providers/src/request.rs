//! Turning a client request into an upstream request through a provider's hooks.

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use relay_core::RequestSummary;

use crate::error::ProviderError;
use crate::provider::{Credential, Endpoint, Provider};

/// What the relay received, after its own credentials were removed.
#[derive(Clone, Copy, Debug)]
pub struct ClientRequest<'a> {
    pub endpoint: Endpoint,
    /// Path and query as the client sent them, e.g. `/v1/messages?beta=true`.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub summary: &'a RequestSummary,
}

/// Builds the upstream request for one attempt: URL, forwarded headers,
/// (possibly transformed) body, the provider's beta and field policies
/// (see [`crate::fidelity`]), then credentials.
pub async fn prepare_request(
    provider: &dyn Provider,
    request: &ClientRequest<'_>,
    credential: Credential<'_>,
) -> Result<Request<Bytes>, ProviderError> {
    if !provider.supports(request.endpoint) {
        return Err(ProviderError::Unsupported {
            provider: provider.name().to_owned(),
            endpoint: request.endpoint.as_str(),
        });
    }
    let upstream_model = provider.upstream_model(&request.summary.model);
    let uri = provider.upstream_uri(request, upstream_model)?;
    let body = provider.transform_body(request, upstream_model)?;

    let mut upstream = Request::new(body);
    *upstream.method_mut() = Method::POST;
    *upstream.uri_mut() = uri;
    let headers = upstream.headers_mut();
    headers.reserve(request.headers.len());
    for (name, value) in request.headers {
        if provider.forward_header(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let info = provider.info();
    let (parts, body) = upstream.into_parts();
    let mut parts = parts;
    let body = crate::fidelity::apply(
        provider.name(),
        &info.betas,
        &info.strip_fields,
        &mut parts.headers,
        &body,
    )
    .unwrap_or(body);
    let mut upstream = Request::from_parts(parts, body);
    // Last: SigV4 signs the body as it will be sent.
    provider
        .authenticate(&mut upstream, credential, request.headers)
        .await?;
    Ok(upstream)
}
