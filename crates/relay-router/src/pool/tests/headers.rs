//! Reading rate-limit headers in one pass, with a key's remembered resets,
//! against the per-name lookups it replaced: random responses, with repeated,
//! malformed and near-miss headers, must give the same reports.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use tokio::time::Instant;

use crate::pool::LimitDimension;
use crate::pool::headers::{LastReset, LimitReport, RateLimitHeaders, instant_at};

const KINDS: [&str; 4] = ["requests", "input-tokens", "output-tokens", "tokens"];

/// The reading this module replaced: one `HeaderMap::get` per name.
fn reference(headers: &HeaderMap, now: Instant, wall_now: SystemTime) -> [Option<LimitReport>; 4] {
    let get = |name: String| headers.get(name)?.to_str().ok().map(str::trim);
    let mut reports = [None; 4];
    for (dimension, kind) in LimitDimension::ALL.into_iter().zip(KINDS) {
        let prefix = format!("anthropic-ratelimit-{kind}");
        let report = LimitReport {
            limit: get(format!("{prefix}-limit")).and_then(|v| v.parse().ok()),
            remaining: get(format!("{prefix}-remaining")).and_then(|v| v.parse().ok()),
            reset: get(format!("{prefix}-reset"))
                .and_then(|v| humantime::parse_rfc3339(v).ok())
                .map(|at| instant_at(at, wall_now, now)),
        };
        if report != LimitReport::default() {
            reports[dimension.index()] = Some(report);
        }
    }
    if reports[1].is_some() || reports[2].is_some() {
        reports[3] = None;
    }
    reports
}

fn name() -> impl Strategy<Value = String> {
    let field = prop_oneof![Just("limit"), Just("remaining"), Just("reset")];
    let rate_limit = (0..KINDS.len(), field)
        .prop_map(|(kind, field)| format!("anthropic-ratelimit-{}-{field}", KINDS[kind]));
    let other = prop_oneof![
        Just("content-type".to_owned()),
        Just("retry-after".to_owned()),
        Just("anthropic-ratelimit-requests".to_owned()),
        Just("anthropic-ratelimit--limit".to_owned()),
        Just("anthropic-ratelimit-foo-limit".to_owned()),
        Just("anthropic-ratelimit-tokens-limit-x".to_owned()),
        Just("x-anthropic-ratelimit-tokens-limit".to_owned()),
        "anthropic-ratelimit-[a-z-]{0,20}",
    ];
    prop_oneof![4 => rate_limit, 1 => other]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    // Few distinct resets, so the remembered one is often hit, sometimes with
    // nanoseconds or padding, sometimes malformed or too long to remember.
    let reset = (
        0..3u64,
        prop_oneof![Just(""), Just(".5"), Just(".123456789")],
    )
        .prop_map(|(secs, fraction)| {
            let at = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs));
            at.to_string().replace('Z', &format!("{fraction}Z"))
        });
    prop_oneof![
        3 => reset.clone(),
        1 => reset.prop_map(|r| format!(" {r}  ")),
        1 => Just("2025-01-01T00:00:00.1234567890123Z".to_owned()),
        2 => (0..1_000u64).prop_map(|n| n.to_string()),
        1 => "[0-9 TZ:.-]{0,36}",
    ]
    .prop_map(String::into_bytes)
    .boxed()
    .prop_union(proptest::collection::vec(any::<u8>(), 0..12).boxed())
}

fn response() -> impl Strategy<Value = Vec<(String, Vec<u8>, bool)>> {
    proptest::collection::vec((name(), value(), any::<bool>()), 0..16)
}

fn header_map(pairs: &[(String, Vec<u8>, bool)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value, append) in pairs {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) else {
            continue;
        };
        match append {
            true => map.append(name, value),
            false => map.insert(name, value).is_some(),
        };
    }
    map
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn one_pass_with_remembered_resets_matches_lookups(
        responses in proptest::collection::vec(response(), 1..12),
        wall_secs in 0..4u64,
    ) {
        let now = Instant::now();
        let wall_now = UNIX_EPOCH + Duration::from_secs(wall_secs);
        let mut resets: [LastReset; 4] = Default::default();
        for pairs in &responses {
            let map = header_map(pairs);
            let got = RateLimitHeaders::read(&map).reports(&mut resets, now, wall_now);
            prop_assert_eq!(got, reference(&map, now, wall_now), "{:?}", map);
        }
    }
}
