//! AWS Signature Version 4 for Bedrock requests, by the `aws-sigv4` crate.
//!
//! The signing time is a parameter so tests can reproduce AWS's published
//! test vectors. Headers are applied here rather than with
//! `apply_to_request_http1x`, which panics on a value that is not a valid
//! header (a malformed session token must be an error, not a crash).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};

use crate::credentials::aws::AwsCredentials;

/// Signs `request` in place: adds `x-amz-date`, `x-amz-security-token` (with
/// a session token) and `authorization`, covering every header present.
/// Errors never contain a credential.
pub(crate) fn sign_request(
    request: &mut Request<Bytes>,
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), String> {
    let identity = Credentials::new(
        credentials.access_key_id.expose(),
        credentials.secret_access_key.expose(),
        credentials
            .session_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
        None,
        "cc-relay",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|err| format!("invalid signing parameters: {err}"))?
        .into();
    let mut headers = Vec::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        let value = value
            .to_str()
            .map_err(|_| format!("the {name} header is not visible ASCII and cannot be signed"))?;
        headers.push((name.as_str(), value));
    }
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(|err| format!("the request cannot be signed: {err}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|err| format!("signing failed: {err}"))?
        .into_parts();
    let (new_headers, _query) = instructions.into_parts();
    for header in new_headers {
        let name = HeaderName::from_static(header.name());
        let mut value = HeaderValue::from_str(header.value()).map_err(|_| {
            format!(
                "the signed {} header is not a valid header value (check the session token)",
                header.name()
            )
        })?;
        value.set_sensitive(header.sensitive() || name == http::header::AUTHORIZATION);
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
