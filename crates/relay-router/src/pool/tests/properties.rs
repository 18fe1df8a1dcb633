//! Property tests: random sequences of operations keep the invariants, and
//! no header value, however odd, makes anything panic.
//!
//! Time here is synthetic (`t0 + offset` passed to every call): the state
//! never reads a clock, so no runtime is needed to move it.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use tokio::time::Instant;

use super::support::{estimate, usage, wall_at_start};
use crate::pool::{KeyLimits, KeyState, Reservation};

#[derive(Clone, Debug)]
enum Op {
    Acquire {
        input: u64,
        max_output: u64,
    },
    Settle {
        slot: usize,
        input: u64,
        output: u64,
    },
    Reject {
        slot: usize,
    },
    Release {
        slot: usize,
    },
    Advance {
        millis: u64,
    },
    LearnRequestLimit {
        limit: u64,
    },
    /// Only ever lowers the level: an upstream reporting more than we think
    /// is trusted by design, which no local bound could survive.
    RequestsRemaining {
        remaining: u64,
        reset_secs: Option<u64>,
        via: Option<usize>,
    },
    TokenHeaders {
        limit: u64,
        remaining: u64,
        reset_secs: u64,
    },
    CoolDown {
        millis: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..2_000u64, 0..4_000u64)
            .prop_map(|(input, max_output)| Op::Acquire { input, max_output }),
        2 => (any::<usize>(), 0..3_000u64, 0..5_000u64)
            .prop_map(|(slot, input, output)| Op::Settle { slot, input, output }),
        1 => any::<usize>().prop_map(|slot| Op::Reject { slot }),
        1 => any::<usize>().prop_map(|slot| Op::Release { slot }),
        3 => (0..20_000u64).prop_map(|millis| Op::Advance { millis }),
        1 => (1..100u64).prop_map(|limit| Op::LearnRequestLimit { limit }),
        1 => (0..100u64, proptest::option::of(0..120u64), proptest::option::of(any::<usize>()))
            .prop_map(|(remaining, reset_secs, via)| Op::RequestsRemaining {
                remaining,
                reset_secs,
                via,
            }),
        1 => (0..20_000u64, 0..20_000u64, 0..120u64)
            .prop_map(|(limit, remaining, reset_secs)| Op::TokenHeaders {
                limit,
                remaining,
                reset_secs,
            }),
        1 => (0..10_000u64).prop_map(|millis| Op::CoolDown { millis }),
    ]
}

fn limits() -> impl Strategy<Value = KeyLimits> {
    let tokens = prop_oneof![Just(0u64), 1_000..50_000u64];
    (1..30u64, tokens.clone(), tokens.clone(), tokens).prop_map(|(rpm, itpm, otpm, tpm)| {
        KeyLimits {
            rpm,
            itpm,
            otpm,
            tpm,
        }
    })
}

fn take(held: &mut Vec<Reservation>, slot: usize) -> Option<Reservation> {
    (!held.is_empty()).then(|| held.swap_remove(slot % held.len()))
}

fn header_map(pairs: &[(&str, String)]) -> http::HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            (name, http::HeaderValue::from_str(value).unwrap())
        })
        .collect()
}

fn reset_header(t0: Instant, now: Instant, after_secs: u64) -> String {
    let at = wall_at_start() + (now - t0) + Duration::from_secs(after_secs);
    humantime::format_rfc3339(at).to_string()
}

/// Runs `ops` on one key; returns (admission times, unused-release times).
fn run(limits: KeyLimits, ops: &[Op]) -> Result<(Vec<Duration>, Vec<Duration>), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let key = Arc::new(KeyState::new(limits, t0));
    let mut held: Vec<Reservation> = Vec::new();
    let (mut admitted, mut refunded) = (Vec::new(), Vec::new());
    for op in ops {
        let wall_now = wall_at_start() + (now - t0);
        match *op {
            Op::Acquire { input, max_output } => {
                match key.try_reserve(estimate(input, max_output), now) {
                    Ok(reservation) => {
                        held.push(reservation);
                        admitted.push(now - t0);
                    }
                    Err(unavailable) => prop_assert!(unavailable.until > now),
                }
            }
            Op::Settle {
                slot,
                input,
                output,
            } => {
                take(&mut held, slot)
                    .into_iter()
                    .for_each(|r| r.settle(usage(input, output)));
            }
            Op::Reject { slot } => take(&mut held, slot)
                .into_iter()
                .for_each(Reservation::release_rejected),
            Op::Release { slot } => {
                if let Some(reservation) = take(&mut held, slot) {
                    reservation.release_unused();
                    refunded.push(now - t0);
                }
            }
            Op::Advance { millis } => now += Duration::from_millis(millis),
            Op::LearnRequestLimit { limit } => {
                let map = header_map(&[("anthropic-ratelimit-requests-limit", limit.to_string())]);
                key.observe_headers_at(&map, now, wall_now);
            }
            Op::RequestsRemaining {
                remaining,
                reset_secs,
                via,
            } => {
                let current = key.snapshot(now).requests.remaining.unwrap_or(0);
                let mut pairs = vec![(
                    "anthropic-ratelimit-requests-remaining",
                    remaining.min(current).to_string(),
                )];
                if let Some(after) = reset_secs {
                    pairs.push((
                        "anthropic-ratelimit-requests-reset",
                        reset_header(t0, now, after),
                    ));
                }
                let map = header_map(&pairs);
                match via.filter(|_| !held.is_empty()) {
                    Some(slot) => held[slot % held.len()].observe_headers_at(&map, now, wall_now),
                    None => key.observe_headers_at(&map, now, wall_now),
                }
            }
            Op::TokenHeaders {
                limit,
                remaining,
                reset_secs,
            } => {
                let reset = reset_header(t0, now, reset_secs);
                let mut pairs = Vec::new();
                for kind in ["input", "output"] {
                    let prefix = format!("anthropic-ratelimit-{kind}-tokens");
                    pairs.push((format!("{prefix}-limit"), limit.to_string()));
                    pairs.push((format!("{prefix}-remaining"), remaining.to_string()));
                    pairs.push((format!("{prefix}-reset"), reset.clone()));
                }
                let pairs: Vec<(&str, String)> =
                    pairs.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
                key.observe_headers_at(&header_map(&pairs), now, wall_now);
            }
            Op::CoolDown { millis } => key.cool_down(now + Duration::from_millis(millis)),
        }
        let headroom = key.headroom(now);
        prop_assert!((0.0..=1.0).contains(&headroom), "headroom {headroom}");
        prop_assert_eq!(key.in_flight(), held.len());
    }
    drop(held);
    prop_assert_eq!(key.in_flight(), 0);
    prop_assert_eq!(key.snapshot(now).in_flight, 0);
    Ok((admitted, refunded))
}

const HEADER_NAMES: [&str; 14] = [
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-input-tokens-limit",
    "anthropic-ratelimit-input-tokens-remaining",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-limit",
    "anthropic-ratelimit-output-tokens-remaining",
    "anthropic-ratelimit-output-tokens-reset",
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-tokens-reset",
    "retry-after",
    "retry-after-ms",
];

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let date = (
        0..10_000u32,
        0..14u32,
        0..33u32,
        0..25u32,
        0..61u32,
        0..62u32,
    )
        .prop_map(|(y, mo, d, h, mi, s)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"));
    let http_date = (0..33u32, 0..12usize, 0..10_000u32, 0..25u32).prop_map(|(d, m, y, h)| {
        let month = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ][m];
        format!("Mon, {d:02} {month} {y} {h:02}:00:00 GMT")
    });
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        "[0-9.+-]{0,30}",
        date,
        http_date,
        "\\PC{0,40}",
    ]
    .prop_map(String::into_bytes)
    .boxed()
    .prop_union(proptest::collection::vec(any::<u8>(), 0..40).boxed())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_operations_keep_the_invariants(
        limits in limits(),
        ops in proptest::collection::vec(op(), 1..150),
    ) {
        let (admitted, refunded) = run(limits, &ops)?;
        // A full bucket plus a minute of refill: at most twice the limit in
        // any minute, plus capacity handed back by requests that never left.
        let window = Duration::from_secs(60);
        let burst = 2 * usize::try_from(limits.rpm).unwrap();
        for (i, start) in admitted.iter().enumerate() {
            let end = *start + window;
            let count = admitted[i..].iter().take_while(|t| **t <= end).count();
            let refunds = refunded.iter().filter(|t| (*start..=end).contains(*t)).count();
            prop_assert!(count <= burst + refunds, "{count} admitted from {start:?}, {refunds} refunded");
        }
    }

    #[test]
    fn arbitrary_header_values_never_panic(
        values in proptest::collection::vec((0..HEADER_NAMES.len(), header_value()), 0..20),
        wall_secs in 0..40_000_000_000u64,
        limits in limits(),
    ) {
        let mut map = http::HeaderMap::new();
        for (index, bytes) in values {
            if let Ok(value) = http::HeaderValue::from_bytes(&bytes) {
                map.append(HEADER_NAMES[index], value);
            }
        }
        let wall_now = UNIX_EPOCH + Duration::from_secs(wall_secs);
        let now = Instant::now();
        let key = Arc::new(KeyState::new(limits, now));
        key.observe_headers_at(&map, now, wall_now);
        let reservation = key.try_reserve(estimate(10, 10), now);
        if let Ok(reservation) = reservation {
            reservation.observe_headers_at(&map, now, wall_now);
            let until = reservation.rate_limited_at(&map, now, wall_now);
            prop_assert!(until >= now);
        }
        let headroom = key.headroom(now);
        prop_assert!((0.0..=1.0).contains(&headroom));
        if let Err(unavailable) = key.check(estimate(10, 10), now) {
            prop_assert!(unavailable.until > now);
            prop_assert!(key.check(estimate(10, 10), unavailable.until).is_ok());
        }
        prop_assert_eq!(key.snapshot(now).in_flight, 0);
    }
}
