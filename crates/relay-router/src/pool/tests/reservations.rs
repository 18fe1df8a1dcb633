//! One key's buckets: admitting, refusing with the right wait, and truing up.

use tokio::time::{Instant, advance};

use super::support::{estimate, millis, rpm, secs, state, usage};
use crate::pool::{DisableReason, KeyLimits, LimitDimension, UnavailableReason, Usage};

const NOTHING: crate::pool::Estimate = crate::pool::Estimate {
    input_tokens: 0,
    max_output_tokens: 0,
};

#[tokio::test(start_paused = true)]
async fn rpm_admits_a_burst_then_refills_one_request_per_second() {
    let key = state(rpm(60));
    let t0 = Instant::now();
    let held: Vec<_> = (0..60)
        .map(|_| key.try_reserve(NOTHING, t0).unwrap())
        .collect();
    let refused = key.try_reserve(NOTHING, t0).unwrap_err();
    assert_eq!(refused.until, t0 + secs(1));
    assert_eq!(
        refused.reason,
        UnavailableReason::Limit(LimitDimension::Requests)
    );
    held.into_iter().for_each(|r| r.settle(Usage::default()));
    assert!(
        key.try_reserve(NOTHING, t0).is_err(),
        "served requests stay counted"
    );

    advance(millis(999)).await;
    assert!(key.try_reserve(NOTHING, Instant::now()).is_err());
    advance(millis(1)).await;
    key.try_reserve(NOTHING, Instant::now())
        .unwrap()
        .settle(Usage::default());
    assert_eq!(
        key.try_reserve(NOTHING, Instant::now()).unwrap_err().until,
        t0 + secs(2)
    );

    advance(secs(10)).await;
    let now = Instant::now();
    let admitted: Vec<_> = (0..20)
        .filter_map(|_| key.try_reserve(NOTHING, now).ok())
        .collect();
    assert_eq!(admitted.len(), 10);
}

#[tokio::test(start_paused = true)]
async fn a_request_that_never_left_is_refunded_and_a_rejected_one_is_not() {
    let key = state(rpm(2));
    let now = Instant::now();
    key.try_reserve(NOTHING, now).unwrap().release_unused();
    drop(key.try_reserve(NOTHING, now).unwrap());
    assert_eq!(key.snapshot(now).requests.remaining, Some(2));
    key.try_reserve(NOTHING, now).unwrap().release_rejected();
    assert_eq!(key.snapshot(now).requests.remaining, Some(1));
    assert_eq!(key.snapshot(now).used.requests, 1);
    assert_eq!(key.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn input_and_output_reservations_are_trued_up_on_settle() {
    let limits = KeyLimits {
        itpm: 1_000,
        otpm: 600,
        ..KeyLimits::default()
    };
    let key = state(limits);
    let t0 = Instant::now();
    let first = key.try_reserve(estimate(600, 500), t0).unwrap();
    let snapshot = key.snapshot(t0);
    assert_eq!(snapshot.input_tokens.remaining, Some(400));
    assert_eq!(snapshot.output_tokens.remaining, Some(100));

    let refused = key.try_reserve(estimate(600, 0), t0).unwrap_err();
    assert_eq!(
        refused.reason,
        UnavailableReason::Limit(LimitDimension::InputTokens)
    );
    assert_eq!(refused.until, t0 + secs(12), "200 tokens at 1000/min");
    let refused = key.try_reserve(estimate(0, 400), t0).unwrap_err();
    assert_eq!(
        refused.reason,
        UnavailableReason::Limit(LimitDimension::OutputTokens)
    );

    first.settle(usage(300, 120));
    let snapshot = key.snapshot(t0);
    assert_eq!(snapshot.input_tokens.remaining, Some(700));
    assert_eq!(
        snapshot.output_tokens.remaining,
        Some(480),
        "unused max_tokens refunded"
    );
    assert_eq!(snapshot.used.input_tokens, 300);
    assert_eq!(snapshot.used.output_tokens, 120);
    key.try_reserve(estimate(600, 400), t0).unwrap();
}

#[tokio::test(start_paused = true)]
async fn usage_above_the_estimate_is_charged_and_cache_reads_are_free() {
    let key = state(KeyLimits {
        itpm: 1_000,
        ..KeyLimits::default()
    });
    let now = Instant::now();
    let reservation = key.try_reserve(estimate(100, 0), now).unwrap();
    reservation.settle(Usage {
        input_tokens: 50,
        cache_creation_input_tokens: 250,
        cache_read_input_tokens: 5_000,
        output_tokens: 0,
    });
    let snapshot = key.snapshot(now);
    assert_eq!(snapshot.input_tokens.remaining, Some(700));
    assert_eq!(snapshot.used.cache_read_input_tokens, 5_000);
}

#[tokio::test(start_paused = true)]
async fn max_tokens_above_the_limit_waits_for_a_full_bucket() {
    let key = state(KeyLimits {
        otpm: 8_000,
        ..KeyLimits::default()
    });
    let t0 = Instant::now();
    key.try_reserve(estimate(0, 32_000), t0)
        .unwrap()
        .settle(usage(0, 32_000));
    let refused = key.try_reserve(estimate(0, 32_000), t0).unwrap_err();
    assert_eq!(
        refused.until,
        t0 + secs(240),
        "32000 tokens of debt at 8000/min"
    );
    advance(secs(240)).await;
    key.try_reserve(estimate(0, 32_000), Instant::now())
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn legacy_tpm_is_one_bucket_for_input_and_output() {
    let key = state(KeyLimits {
        tpm: 1_000,
        ..KeyLimits::default()
    });
    let now = Instant::now();
    let held = key.try_reserve(estimate(600, 300), now).unwrap();
    let refused = key.try_reserve(estimate(200, 0), now).unwrap_err();
    assert_eq!(
        refused.reason,
        UnavailableReason::Limit(LimitDimension::Tokens)
    );
    held.settle(usage(600, 100));
    key.try_reserve(estimate(200, 0), now).unwrap();
}

#[tokio::test(start_paused = true)]
async fn cooldowns_only_extend_and_then_expire() {
    let key = state(KeyLimits::default());
    let t0 = Instant::now();
    key.cool_down(t0 + secs(5));
    key.cool_down(t0 + secs(2));
    let refused = key.try_reserve(NOTHING, t0).unwrap_err();
    assert_eq!(refused.until, t0 + secs(5));
    assert_eq!(refused.reason, UnavailableReason::CoolingDown);
    assert_eq!(key.headroom(t0), 0.0);
    advance(secs(5)).await;
    key.try_reserve(NOTHING, Instant::now()).unwrap();
    assert_eq!(key.snapshot(Instant::now()).cooling_until, None);
}

#[tokio::test(start_paused = true)]
async fn disabled_keys_say_why_and_until_when() {
    let key = state(rpm(1));
    let t0 = Instant::now();
    key.disable_until(t0 + secs(3_600), DisableReason::InvalidKey);
    key.disable_until(t0 + secs(60), DisableReason::SpendLimit);
    let refused = key.try_reserve(NOTHING, t0).unwrap_err();
    assert_eq!(
        refused.reason,
        UnavailableReason::Disabled(DisableReason::InvalidKey)
    );
    assert_eq!(refused.until, t0 + secs(3_600));
    let snapshot = key.snapshot(t0);
    assert_eq!(snapshot.disabled_reason, Some(DisableReason::InvalidKey));
    assert_eq!(snapshot.headroom, 0.0);
    assert!(refused.to_string().contains("invalid key"));
}

#[tokio::test(start_paused = true)]
async fn reloads_keep_usage_and_can_lift_limits() {
    let key = state(rpm(10));
    let now = Instant::now();
    let _held: Vec<_> = (0..10)
        .map(|_| key.try_reserve(NOTHING, now).unwrap())
        .collect();
    key.set_configured_at(rpm(20), now);
    assert_eq!(key.snapshot(now).requests.remaining, Some(10));
    key.set_configured_at(rpm(5), now);
    assert_eq!(key.snapshot(now).requests.remaining, Some(0));
    key.set_configured_at(KeyLimits::default(), now);
    assert_eq!(key.snapshot(now).requests.remaining, None, "unlimited");
    key.set_configured_at(rpm(12), now);
    assert_eq!(
        key.snapshot(now).requests.remaining,
        Some(2),
        "in-flight counted"
    );
}

#[tokio::test(start_paused = true)]
async fn headroom_is_the_tightest_dimension() {
    let key = state(KeyLimits {
        rpm: 10,
        itpm: 1_000,
        ..KeyLimits::default()
    });
    let now = Instant::now();
    assert_eq!(key.headroom(now), 1.0);
    let _held = key.try_reserve(estimate(750, 0), now).unwrap();
    assert_eq!(key.headroom(now), 0.25);
    assert_eq!(state(KeyLimits::default()).headroom(now), 1.0);
}
