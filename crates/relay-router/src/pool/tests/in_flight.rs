//! The running in-flight totals against the scan they replaced: two keys take
//! the same random reservations, responses, settlements and drops, one
//! summing its reservations one by one on every response as the code used to,
//! and they must agree on every admission and every bucket.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::support::{estimate, usage, wall_at_start};
use crate::pool::{KeyLimits, KeyState, LimitDimension, Reservation};

/// What a response says about one dimension; `None` fields are left out.
#[derive(Clone, Debug)]
struct Fields {
    limit: Option<u64>,
    remaining: Option<u64>,
    reset_secs: Option<u64>,
}

#[derive(Clone, Debug)]
enum Op {
    Reserve {
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
    Drop {
        slot: usize,
    },
    /// Through the key: the upstream has counted everything issued so far.
    ObserveKey {
        fields: Vec<Option<Fields>>,
    },
    /// Through one reservation: it and the ones before it were counted.
    ObserveVia {
        slot: usize,
        fields: Vec<Option<Fields>>,
    },
    RateLimited {
        slot: usize,
        fields: Vec<Option<Fields>>,
    },
    Configure {
        limits: KeyLimits,
    },
    Advance {
        millis: u64,
    },
}

/// Mostly ordinary amounts, sometimes ones whose sums overflow `u64`.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        12 => 0..5_000u64,
        1 => Just(u64::MAX),
        1 => u64::MAX / 4..u64::MAX,
    ]
}

fn fields() -> impl Strategy<Value = Vec<Option<Fields>>> {
    let one = (
        proptest::option::of(0..20_000u64),
        proptest::option::of(0..20_000u64),
        proptest::option::of(0..4u64),
    )
        .prop_map(|(limit, remaining, reset_secs)| Fields {
            limit,
            remaining,
            reset_secs,
        });
    proptest::collection::vec(proptest::option::of(one), 4)
}

fn limits() -> impl Strategy<Value = KeyLimits> {
    let limit = prop_oneof![Just(0u64), 1..50_000u64];
    (limit.clone(), limit.clone(), limit.clone(), limit).prop_map(|(rpm, itpm, otpm, tpm)| {
        KeyLimits {
            rpm,
            itpm,
            otpm,
            tpm,
        }
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (amount(), amount()).prop_map(|(input, max_output)| Op::Reserve { input, max_output }),
        3 => (any::<usize>(), amount(), amount())
            .prop_map(|(slot, input, output)| Op::Settle { slot, input, output }),
        1 => any::<usize>().prop_map(|slot| Op::Reject { slot }),
        1 => any::<usize>().prop_map(|slot| Op::Release { slot }),
        1 => any::<usize>().prop_map(|slot| Op::Drop { slot }),
        2 => fields().prop_map(|fields| Op::ObserveKey { fields }),
        4 => (any::<usize>(), fields()).prop_map(|(slot, fields)| Op::ObserveVia { slot, fields }),
        1 => (any::<usize>(), fields()).prop_map(|(slot, fields)| Op::RateLimited { slot, fields }),
        1 => limits().prop_map(|limits| Op::Configure { limits }),
        2 => (0..5_000u64).prop_map(|millis| Op::Advance { millis }),
    ]
}

const KINDS: [&str; 4] = ["requests", "input-tokens", "output-tokens", "tokens"];

fn header_map(fields: &[Option<Fields>], wall_now: std::time::SystemTime) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (kind, fields) in KINDS.iter().zip(fields) {
        let Some(fields) = fields else { continue };
        let reset = fields.reset_secs.map(|secs| {
            // Whole seconds, as Anthropic sends, so values repeat.
            let at = wall_now + Duration::from_secs(secs);
            humantime::format_rfc3339_seconds(at).to_string()
        });
        let values = [
            ("limit", fields.limit.map(|v| v.to_string())),
            ("remaining", fields.remaining.map(|v| v.to_string())),
            ("reset", reset),
        ];
        for (field, value) in values {
            if let Some(value) = value {
                let name = format!("anthropic-ratelimit-{kind}-{field}");
                let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
                map.insert(name, http::HeaderValue::from_str(&value).unwrap());
            }
        }
    }
    map
}

/// The reservation at `slot` (modulo) in both keys' lists, taken out.
fn take(held: &mut [Vec<Reservation>; 2], slot: usize) -> Option<[Reservation; 2]> {
    let len = held[0].len();
    (len > 0).then(|| held.each_mut().map(|list| list.swap_remove(slot % len)))
}

/// Running totals equal the scan, for every dimension.
fn assert_sums_match_scan(key: &KeyState) -> Result<(), TestCaseError> {
    key.with_in_flight(|in_flight| {
        for dimension in LimitDimension::ALL {
            let synced = in_flight.synced_through(dimension);
            prop_assert_eq!(in_flight.total(dimension), in_flight.scan(dimension, 0));
            prop_assert_eq!(
                in_flight.unseen(dimension),
                in_flight.scan(dimension, synced)
            );
        }
        Ok(())
    })
}

fn run(limits: KeyLimits, ops: &[Op]) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut now = t0;
    let fast = Arc::new(KeyState::new(limits, t0));
    let reference = Arc::new(KeyState::new(limits, t0));
    reference.with_in_flight(|in_flight| in_flight.reference = true);
    let keys = [&fast, &reference];
    let mut held: [Vec<Reservation>; 2] = [Vec::new(), Vec::new()];
    for op in ops {
        let wall_now = wall_at_start() + (now - t0);
        match op {
            Op::Reserve { input, max_output } => {
                let estimate = estimate(*input, *max_output);
                let [a, b] = keys.map(|key| key.try_reserve(estimate, now));
                match (a, b) {
                    (Ok(a), Ok(b)) => {
                        held[0].push(a);
                        held[1].push(b);
                    }
                    (Err(a), Err(b)) => prop_assert_eq!(a, b),
                    (a, b) => prop_assert!(false, "admission differs: {a:?} vs {b:?}"),
                }
            }
            Op::Settle {
                slot,
                input,
                output,
            } => {
                for reservation in take(&mut held, *slot).into_iter().flatten() {
                    reservation.settle(usage(*input, *output));
                }
            }
            Op::Reject { slot } => {
                for reservation in take(&mut held, *slot).into_iter().flatten() {
                    reservation.release_rejected();
                }
            }
            Op::Release { slot } => {
                for reservation in take(&mut held, *slot).into_iter().flatten() {
                    reservation.release_unused();
                }
            }
            Op::Drop { slot } => drop(take(&mut held, *slot)),
            Op::ObserveKey { fields } => {
                let map = header_map(fields, wall_now);
                keys.iter()
                    .for_each(|key| key.observe_headers_at(&map, now, wall_now));
            }
            Op::ObserveVia { slot, fields } => {
                let map = header_map(fields, wall_now);
                for list in &held {
                    if !list.is_empty() {
                        list[slot % list.len()].observe_headers_at(&map, now, wall_now);
                    }
                }
            }
            Op::RateLimited { slot, fields } => {
                let map = header_map(fields, wall_now);
                if let Some(pair) = take(&mut held, *slot) {
                    let [a, b] = pair.map(|r| r.rate_limited_at(&map, now, wall_now));
                    prop_assert_eq!(a, b);
                }
            }
            Op::Configure { limits } => keys
                .iter()
                .for_each(|key| key.set_configured_at(*limits, now)),
            Op::Advance { millis } => now += Duration::from_millis(*millis),
        }
        prop_assert_eq!(
            fast.snapshot(now),
            reference.snapshot(now),
            "after {:?}",
            op
        );
        assert_sums_match_scan(&fast)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn running_totals_match_the_scan(
        limits in limits(),
        ops in proptest::collection::vec(op(), 1..200),
    ) {
        run(limits, &ops)?;
    }
}
