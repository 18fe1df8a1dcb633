//! Learning limits from response headers, and 429s.

use tokio::time::{Instant, advance};

use super::support::{estimate, headers, rfc3339_after, rpm, secs, state, usage, wall_at_start};
use crate::pool::{
    DEFAULT_RATE_LIMIT_COOLDOWN, Estimate, KeyLimits, LimitDimension, UnavailableReason,
};

const ONE: Estimate = Estimate {
    input_tokens: 0,
    max_output_tokens: 0,
};

#[tokio::test(start_paused = true)]
async fn nothing_remaining_blocks_until_the_reported_reset() {
    let key = state(KeyLimits::default());
    let t0 = Instant::now();
    let reset = rfc3339_after(30);
    let map = headers(&[
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", &reset),
    ]);
    key.observe_headers_at(&map, t0, wall_at_start());
    let refused = key.try_reserve(ONE, t0).unwrap_err();
    assert_eq!(refused.until, t0 + secs(30));
    assert_eq!(
        refused.reason,
        UnavailableReason::Limit(LimitDimension::Requests)
    );
    assert_eq!(key.snapshot(t0).requests.blocked_until, Some(t0 + secs(30)));
    advance(secs(30)).await;
    key.try_reserve(ONE, Instant::now()).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_learned_limit_applies_when_none_is_configured() {
    let key = state(KeyLimits::default());
    let now = Instant::now();
    let map = headers(&[
        ("anthropic-ratelimit-requests-limit", "5"),
        ("anthropic-ratelimit-requests-remaining", "5"),
    ]);
    key.observe_headers_at(&map, now, wall_at_start());
    let admitted: Vec<_> = (0..8)
        .filter_map(|_| key.try_reserve(ONE, now).ok())
        .collect();
    assert_eq!(admitted.len(), 5);
    let snapshot = key.snapshot(now).requests;
    assert_eq!(
        (snapshot.configured, snapshot.learned, snapshot.effective),
        (None, Some(5), Some(5))
    );
}

#[tokio::test(start_paused = true)]
async fn the_lower_of_configured_and_learned_applies() {
    let now = Instant::now();
    let map = headers(&[
        ("anthropic-ratelimit-requests-limit", "100"),
        ("anthropic-ratelimit-requests-remaining", "100"),
    ]);
    let configured_lower = state(rpm(3));
    configured_lower.observe_headers_at(&map, now, wall_at_start());
    let admitted: Vec<_> = (0..8)
        .filter_map(|_| configured_lower.try_reserve(ONE, now).ok())
        .collect();
    assert_eq!(admitted.len(), 3);

    let learned_lower = state(rpm(500));
    learned_lower.observe_headers_at(&map, now, wall_at_start());
    assert_eq!(learned_lower.snapshot(now).requests.effective, Some(100));
}

#[tokio::test(start_paused = true)]
async fn upstream_usage_counts_against_a_lower_configured_limit() {
    let key = state(rpm(50));
    let now = Instant::now();
    let map = headers(&[
        ("anthropic-ratelimit-requests-limit", "100"),
        ("anthropic-ratelimit-requests-remaining", "80"),
    ]);
    key.observe_headers_at(&map, now, wall_at_start());
    assert_eq!(key.snapshot(now).requests.remaining, Some(30));
}

#[tokio::test(start_paused = true)]
async fn reservations_the_upstream_has_not_seen_are_deducted() {
    let now = Instant::now();
    let map = headers(&[("anthropic-ratelimit-requests-remaining", "8")]);

    let key = state(rpm(10));
    let first = key.try_reserve(ONE, now).unwrap();
    let _later: Vec<_> = (0..2).map(|_| key.try_reserve(ONE, now).unwrap()).collect();
    first.observe_headers_at(&map, now, wall_at_start());
    assert_eq!(key.snapshot(now).requests.remaining, Some(6));

    let key = state(rpm(10));
    let _all: Vec<_> = (0..3).map(|_| key.try_reserve(ONE, now).unwrap()).collect();
    key.observe_headers_at(&map, now, wall_at_start());
    assert_eq!(
        key.snapshot(now).requests.remaining,
        Some(8),
        "all assumed seen"
    );
}

#[tokio::test(start_paused = true)]
async fn a_synced_reservation_keeps_the_upstreams_input_count() {
    let limits = KeyLimits {
        itpm: 1_000,
        otpm: 1_000,
        ..KeyLimits::default()
    };
    let now = Instant::now();
    let synced = state(limits);
    let reservation = synced.try_reserve(estimate(500, 400), now).unwrap();
    let map = headers(&[
        ("anthropic-ratelimit-input-tokens-remaining", "700"),
        ("anthropic-ratelimit-output-tokens-remaining", "600"),
    ]);
    reservation.observe_headers_at(&map, now, wall_at_start());
    reservation.settle(usage(300, 100));

    let unsynced = state(limits);
    unsynced
        .try_reserve(estimate(500, 400), now)
        .unwrap()
        .settle(usage(300, 100));

    for key in [synced, unsynced] {
        let snapshot = key.snapshot(now);
        assert_eq!(snapshot.input_tokens.remaining, Some(700));
        assert_eq!(snapshot.output_tokens.remaining, Some(900));
    }
}

#[tokio::test(start_paused = true)]
async fn a_limit_learned_mid_burst_counts_what_is_in_flight() {
    let key = state(KeyLimits::default());
    let now = Instant::now();
    let _held: Vec<_> = (0..3).map(|_| key.try_reserve(ONE, now).unwrap()).collect();
    let map = headers(&[("anthropic-ratelimit-requests-limit", "5")]);
    key.observe_headers_at(&map, now, wall_at_start());
    assert_eq!(key.snapshot(now).requests.remaining, Some(2));
}

#[tokio::test(start_paused = true)]
async fn combined_token_headers_feed_the_legacy_bucket_only_alone() {
    let now = Instant::now();
    let key = state(KeyLimits::default());
    let alone = headers(&[
        ("anthropic-ratelimit-tokens-limit", "1000"),
        ("anthropic-ratelimit-tokens-remaining", "10"),
    ]);
    key.observe_headers_at(&alone, now, wall_at_start());
    assert_eq!(key.snapshot(now).tokens.remaining, Some(10));

    let key = state(KeyLimits::default());
    let mut with_split = alone.clone();
    with_split.extend(headers(&[(
        "anthropic-ratelimit-input-tokens-limit",
        "2000",
    )]));
    key.observe_headers_at(&with_split, now, wall_at_start());
    let snapshot = key.snapshot(now);
    assert_eq!(snapshot.tokens.effective, None);
    assert_eq!(snapshot.input_tokens.effective, Some(2_000));
}

#[tokio::test(start_paused = true)]
async fn malformed_headers_teach_nothing() {
    let key = state(rpm(10));
    let now = Instant::now();
    let before = key.snapshot(now);
    let map = headers(&[
        ("anthropic-ratelimit-requests-limit", "-1"),
        ("anthropic-ratelimit-requests-remaining", "ten"),
        ("anthropic-ratelimit-requests-reset", "tomorrow"),
        ("anthropic-ratelimit-input-tokens-limit", "0"),
        (
            "anthropic-ratelimit-output-tokens-remaining",
            "99999999999999999999999",
        ),
    ]);
    key.observe_headers_at(&map, now, wall_at_start());
    assert_eq!(key.snapshot(now), before);
}

#[tokio::test(start_paused = true)]
async fn a_429_cools_the_key_down_for_its_retry_after() {
    let key = state(KeyLimits {
        rpm: 10,
        itpm: 1_000,
        ..KeyLimits::default()
    });
    let t0 = Instant::now();
    let reservation = key.try_reserve(estimate(400, 0), t0).unwrap();
    let map = headers(&[("retry-after", "7")]);
    let until = reservation.rate_limited_at(&map, t0, wall_at_start());
    assert_eq!(until, t0 + secs(7));
    let snapshot = key.snapshot(t0);
    assert_eq!(snapshot.cooling_until, Some(t0 + secs(7)));
    assert_eq!(
        snapshot.requests.remaining,
        Some(9),
        "the request reached the upstream"
    );
    assert_eq!(
        snapshot.input_tokens.remaining,
        Some(1_000),
        "its tokens are refunded"
    );
    assert_eq!(snapshot.in_flight, 0);

    advance(secs(7)).await;
    let reservation = key.try_reserve(ONE, Instant::now()).unwrap();
    let until = reservation.rate_limited_at(&headers(&[]), Instant::now(), wall_at_start());
    assert_eq!(until, Instant::now() + DEFAULT_RATE_LIMIT_COOLDOWN);
}
