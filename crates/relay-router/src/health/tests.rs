//! Circuit breaker and load tests through `ProviderHealth`, on paused time.

use std::time::Duration;

use tokio::time::{Instant, advance};

use super::*;

const OPEN: Duration = Duration::from_secs(30);

fn health(threshold: u32, probes: u32) -> ProviderHealth {
    ProviderHealth::new(BreakerSettings {
        failure_threshold: threshold,
        open_duration: OPEN,
        half_open_probes: probes,
    })
}

fn admitted(health: &ProviderHealth) -> Admission {
    let admission = health.admit(Instant::now());
    assert!(matches!(admission, Admission::Admitted(_)), "{admission:?}");
    admission
}

fn fail(health: &ProviderHealth) {
    health.record_failure(admitted(health), Instant::now());
}

fn succeed(health: &ProviderHealth) {
    health.record_success(admitted(health), Instant::now());
}

fn probe(health: &ProviderHealth) -> Admission {
    let admission = health.admit(Instant::now());
    assert!(admission.is_probe(), "expected a probe, got {admission:?}");
    admission
}

/// Opens the circuit from closed with `threshold` failures.
fn trip(health: &ProviderHealth) {
    for _ in 0..health.settings().failure_threshold {
        fail(health);
    }
}

fn open_until(health: &ProviderHealth) -> Instant {
    match health.state(Instant::now()) {
        CircuitState::Open { until } => until,
        other => panic!("expected open, got {other:?}"),
    }
}

#[test]
fn settings_come_from_the_config() {
    let settings = BreakerSettings::from_config(&relay_config::CircuitBreakerConfig {
        failure_threshold: 7,
        open_duration_ms: 1_500,
        half_open_probes: 2,
        ..relay_config::CircuitBreakerConfig::default()
    });
    assert_eq!(
        settings,
        BreakerSettings {
            failure_threshold: 7,
            open_duration: Duration::from_millis(1_500),
            half_open_probes: 2,
        }
    );
    assert_eq!(
        ProviderHealth::default().settings(),
        BreakerSettings::default()
    );
}

#[tokio::test(start_paused = true)]
async fn a_closed_circuit_admits_and_stays_closed_below_the_threshold() {
    let health = health(3, 1);
    fail(&health);
    fail(&health);
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
    assert!(matches!(
        health.admit(Instant::now()),
        Admission::Admitted(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_consecutive_failure_count() {
    let health = health(3, 1);
    for _ in 0..10 {
        fail(&health);
        fail(&health);
        succeed(&health);
    }
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_threshold_opens_and_an_open_circuit_rejects_until_its_end() {
    let health = health(3, 1);
    trip(&health);
    let until = open_until(&health);
    assert_eq!(until, Instant::now() + OPEN);
    assert!(!health.is_available(Instant::now()));
    assert!(health.needs_probe(Instant::now()));

    advance(OPEN - Duration::from_millis(1)).await;
    assert!(matches!(
        health.admit(Instant::now()),
        Admission::Rejected { until: Some(u) } if u == until
    ));

    advance(Duration::from_millis(1)).await;
    assert_eq!(health.state(Instant::now()), CircuitState::HalfOpen);
    assert!(health.is_available(Instant::now()));
    assert!(!health.needs_probe(Instant::now()));
    assert!(probe(&health).is_probe());
}

#[tokio::test(start_paused = true)]
async fn half_open_admits_at_most_the_configured_probes() {
    let health = health(1, 2);
    trip(&health);
    advance(OPEN).await;
    let first = probe(&health);
    let second = probe(&health);
    assert!(!health.is_available(Instant::now()));
    assert!(matches!(
        health.admit(Instant::now()),
        Admission::Rejected { until: None }
    ));
    drop((first, second));
}

#[tokio::test(start_paused = true)]
async fn consecutive_probe_successes_close_the_circuit() {
    let health = health(1, 3);
    trip(&health);
    advance(OPEN).await;
    let probes = [probe(&health), probe(&health), probe(&health)];
    for (done, permit) in probes.into_iter().enumerate() {
        assert_eq!(
            health.state(Instant::now()),
            CircuitState::HalfOpen,
            "{done}"
        );
        health.record_success(permit, Instant::now());
    }
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
    assert!(matches!(
        health.admit(Instant::now()),
        Admission::Admitted(_)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_succeeded_probe_keeps_its_slot() {
    let health = health(1, 2);
    trip(&health);
    advance(OPEN).await;
    let first = probe(&health);
    health.record_success(first, Instant::now());
    let _second = probe(&health);
    assert!(health.admit(Instant::now()).is_rejected());
}

#[tokio::test(start_paused = true)]
async fn probe_failures_reopen_with_doubling_backoff_capped_at_eight() {
    let health = health(1, 1);
    trip(&health);
    let mut periods = Vec::new();
    for _ in 0..6 {
        let opened = Instant::now();
        let until = open_until(&health);
        periods.push(until - opened);
        advance(until - opened).await;
        let permit = probe(&health);
        health.record_failure(permit, Instant::now());
    }
    let expected: Vec<_> = [1, 2, 4, 8, 8, 8].iter().map(|&k| OPEN * k).collect();
    assert_eq!(periods, expected);
}

#[tokio::test(start_paused = true)]
async fn closing_resets_the_backoff() {
    let health = health(1, 1);
    trip(&health);
    advance(OPEN).await;
    let permit = probe(&health);
    health.record_failure(permit, Instant::now());
    advance(OPEN * 2).await;
    let permit = probe(&health);
    health.record_success(permit, Instant::now());
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);

    trip(&health);
    assert_eq!(open_until(&health), Instant::now() + OPEN);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_gives_its_slot_back() {
    let health = health(1, 1);
    trip(&health);
    advance(OPEN).await;
    let cancelled = probe(&health);
    assert!(health.admit(Instant::now()).is_rejected());
    drop(cancelled);
    let permit = probe(&health);
    health.record_success(permit, Instant::now());
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn outcomes_from_before_a_state_change_are_ignored() {
    let health = health(2, 2);
    let slow_failure = admitted(&health);
    let slow_success = admitted(&health);
    trip(&health);
    let until = open_until(&health);
    health.record_failure(slow_failure, Instant::now());
    assert_eq!(
        open_until(&health),
        until,
        "a stale failure does not extend"
    );
    health.record_success(slow_success, Instant::now());
    assert_eq!(open_until(&health), until, "a stale success does not close");

    advance(OPEN).await;
    let stale_probe = probe(&health);
    let reopening = probe(&health);
    health.record_failure(reopening, Instant::now());
    advance(OPEN * 2).await;
    let first = probe(&health);
    drop(stale_probe);
    let second = probe(&health);
    assert!(
        health.admit(Instant::now()).is_rejected(),
        "a stale drop frees nothing"
    );
    for permit in [first, second] {
        health.record_success(permit, Instant::now());
    }
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn passive_outcomes_count_only_while_closed() {
    let health = health(2, 1);
    health.record_failure(Admission::Passive, Instant::now());
    health.record_success(Admission::Passive, Instant::now());
    health.record_failure(Admission::Passive, Instant::now());
    assert_eq!(
        health.state(Instant::now()),
        CircuitState::Closed,
        "a success reset the count"
    );
    health.record_failure(Admission::Passive, Instant::now());
    let until = open_until(&health);

    health.record_failure(Admission::Passive, Instant::now());
    assert_eq!(open_until(&health), until, "open: ignored");
    advance(OPEN).await;
    let trial = probe(&health);
    health.record_success(Admission::Passive, Instant::now());
    health.record_failure(Admission::Passive, Instant::now());
    assert_eq!(
        health.state(Instant::now()),
        CircuitState::HalfOpen,
        "probes decide"
    );
    health.record_success(trial, Instant::now());
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
}

#[tokio::test(start_paused = true)]
async fn recording_a_rejection_does_nothing() {
    let health = health(1, 1);
    trip(&health);
    let rejected = health.admit(Instant::now());
    assert!(rejected.is_rejected());
    health.record_success(rejected, Instant::now());
    assert!(matches!(
        health.state(Instant::now()),
        CircuitState::Open { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_passing_health_check_turns_an_open_circuit_half_open() {
    let health = health(1, 2);
    health.health_check_passed();
    assert_eq!(
        health.state(Instant::now()),
        CircuitState::Closed,
        "no effect when closed"
    );

    trip(&health);
    assert!(health.needs_probe(Instant::now()));
    health.health_check_passed();
    assert_eq!(health.state(Instant::now()), CircuitState::HalfOpen);
    assert!(!health.needs_probe(Instant::now()));

    // Real probes decide; a failure re-opens with the doubled period.
    let permit = probe(&health);
    health.record_failure(permit, Instant::now());
    assert_eq!(open_until(&health), Instant::now() + OPEN * 2);
}

#[tokio::test(start_paused = true)]
async fn force_close_closes_and_resets() {
    let health = health(2, 1);
    trip(&health);
    health.force_close();
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
    fail(&health);
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
    fail(&health);
    assert_eq!(open_until(&health), Instant::now() + OPEN);
}

#[tokio::test(start_paused = true)]
async fn settings_update_in_place() {
    let health = health(5, 1);
    fail(&health);
    health.set_settings(BreakerSettings {
        failure_threshold: 2,
        open_duration: Duration::from_secs(5),
        half_open_probes: 1,
    });
    fail(&health);
    assert_eq!(open_until(&health), Instant::now() + Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn zero_settings_act_as_one() {
    let health = health(0, 0);
    fail(&health);
    assert_eq!(
        health.state(Instant::now()),
        CircuitState::Open {
            until: Instant::now() + OPEN
        }
    );
    advance(OPEN).await;
    let permit = probe(&health);
    assert!(health.admit(Instant::now()).is_rejected());
    health.record_success(permit, Instant::now());
    assert_eq!(health.state(Instant::now()), CircuitState::Closed);
}

#[test]
fn state_names() {
    let names = [
        CircuitState::Closed.as_str(),
        CircuitState::Open {
            until: Instant::now(),
        }
        .as_str(),
        CircuitState::HalfOpen.as_str(),
    ];
    assert_eq!(names, ["closed", "open", "half_open"]);
}

#[test]
fn in_flight_counts_live_guards() {
    let health = ProviderHealth::default();
    let first = health.start_request();
    let second = health.start_request();
    assert_eq!(health.in_flight(), 2);
    drop(first);
    assert_eq!(health.in_flight(), 1);
    drop(second);
    assert_eq!(health.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn latency_through_provider_health() {
    let health = ProviderHealth::default();
    assert_eq!(health.latency_estimate(Instant::now()), None);
    health.observe_latency(Duration::from_millis(300), Instant::now());
    health.observe_latency(Duration::from_secs(2), Instant::now());
    assert_eq!(
        health.latency_estimate(Instant::now()),
        Some(Duration::from_secs(2))
    );
    advance(Duration::from_secs(10)).await;
    health.observe_latency(Duration::from_millis(300), Instant::now());
    let estimate = health.latency_estimate(Instant::now()).expect("measured");
    assert!(estimate < Duration::from_millis(1_000) && estimate > Duration::from_millis(900));
    advance(Duration::from_secs(60)).await;
    assert_eq!(health.latency_estimate(Instant::now()), None);
}

#[test]
fn provider_health_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ProviderHealth>();
    assert_send_sync::<Admission>();
    assert_send_sync::<InFlightGuard>();
}
