//! Checking the SigV4 signatures the relay sent to the mock Bedrock.

use std::time::SystemTime;

use relay_test_support::RecordedRequest;

/// Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization {
    credential: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(value: &str) -> Authorization {
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .unwrap_or_else(|| panic!("not a SigV4 authorization: {value}"));
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(", ") {
        let (name, v) = part.split_once('=').unwrap();
        match name {
            "Credential" => credential = Some(v.to_owned()),
            "SignedHeaders" => signed = Some(v.split(';').map(str::to_owned).collect()),
            "Signature" => signature = Some(v.to_owned()),
            other => panic!("unexpected authorization part {other}"),
        }
    }
    Authorization {
        credential: credential.unwrap(),
        signed_headers: signed.unwrap(),
        signature: signature.unwrap(),
    }
}

/// Signs what the mock received again, with the same credentials and the
/// request's own `x-amz-date`, and returns the signature: equal to the one
/// sent only if nothing signed was changed between the relay and the mock.
fn resign(
    request: &RecordedRequest,
    base_url: &str,
    credentials: (&str, &str, Option<&str>),
    region: &str,
) -> String {
    let auth = parse_authorization(request.header("authorization").unwrap());
    let amz_date = request.header("x-amz-date").unwrap();
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &amz_date[0..4],
        &amz_date[4..6],
        &amz_date[6..8],
        &amz_date[9..11],
        &amz_date[11..13],
        &amz_date[13..15]
    );
    let time: SystemTime = humantime::parse_rfc3339(&rfc3339).unwrap();
    let headers: Vec<(&str, &str)> = auth
        .signed_headers
        .iter()
        .filter(|name| !matches!(name.as_str(), "x-amz-date" | "x-amz-security-token"))
        .map(|name| (name.as_str(), request.header(name).unwrap()))
        .collect();
    let identity = aws_credential_types::Credentials::new(
        credentials.0,
        credentials.1,
        credentials.2.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("bedrock")
        .time(time)
        .settings(aws_sigv4::http_request::SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!("{base_url}{}", request.path_and_query);
    let signable = aws_sigv4::http_request::SignableRequest::new(
        request.method.as_str(),
        &uri,
        headers.into_iter(),
        aws_sigv4::http_request::SignableBody::Bytes(&request.body),
    )
    .unwrap();
    let (_, signature) = aws_sigv4::http_request::sign(signable, &params)
        .unwrap()
        .into_parts();
    signature
}

/// Asserts `request` carries a SigV4 signature for Bedrock in `region` with
/// these credentials, over the headers that matter, and that signing what
/// arrived gives the same signature.
pub fn assert_sigv4_signed(
    request: &RecordedRequest,
    base_url: &str,
    credentials: (&str, &str, Option<&str>),
    region: &str,
) {
    let authorization = parse_authorization(request.header("authorization").unwrap());
    assert!(
        authorization
            .credential
            .starts_with(&format!("{}/", credentials.0))
    );
    assert!(
        authorization
            .credential
            .ends_with(&format!("/{region}/bedrock/aws4_request"))
    );
    for signed in ["content-type", "host", "x-amz-date"] {
        assert!(
            authorization.signed_headers.iter().any(|h| h == signed),
            "{signed} unsigned"
        );
    }
    if let Some(token) = credentials.2 {
        assert_eq!(request.header("x-amz-security-token"), Some(token));
        assert!(
            authorization
                .signed_headers
                .iter()
                .any(|h| h == "x-amz-security-token")
        );
    }
    let resigned = resign(request, base_url, credentials, region);
    assert_eq!(
        authorization.signature, resigned,
        "the signature covers what arrived"
    );
}
