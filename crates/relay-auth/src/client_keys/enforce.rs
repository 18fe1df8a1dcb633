//! The decisions a client key's limits make, as pure functions of the key,
//! what it has spent and the time, so each is tested without a clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use relay_core::{ApiError, ErrorType};
use time::{Date, OffsetDateTime, Time};

use super::key::{Budgets, ClientKey};

/// A budget's period, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    /// ISO week: from Monday 00:00.
    Week,
    Month,
}

impl Period {
    pub const ALL: [Self; 3] = [Self::Day, Self::Week, Self::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "daily",
            Self::Week => "weekly",
            Self::Month => "monthly",
        }
    }

    /// When the period containing `now` began.
    pub fn start(self, now: SystemTime) -> SystemTime {
        let date = OffsetDateTime::from(now).date();
        let first = match self {
            Self::Day => date,
            Self::Week => {
                let back = i64::from(date.weekday().number_days_from_monday());
                date.checked_sub(time::Duration::days(back)).unwrap_or(date)
            }
            Self::Month => date.replace_day(1).unwrap_or(date),
        };
        midnight(first)
    }

    /// When the period containing `now` ends (the next one begins).
    pub fn end(self, now: SystemTime) -> SystemTime {
        let start = OffsetDateTime::from(self.start(now)).date();
        let next = match self {
            Self::Day => start.next_day(),
            Self::Week => start.checked_add(time::Duration::days(7)),
            Self::Month => {
                let (year, month) = (start.year(), start.month());
                let (year, month) = match month.next() {
                    time::Month::January => (year + 1, time::Month::January),
                    next => (year, next),
                };
                Date::from_calendar_date(year, month, 1).ok()
            }
        };
        next.map_or(now + Duration::from_secs(86_400), midnight)
    }
}

fn midnight(date: Date) -> SystemTime {
    date.with_time(Time::MIDNIGHT).assume_utc().into()
}

impl Budgets {
    pub fn limit(&self, period: Period) -> Option<f64> {
        match period {
            Period::Day => self.daily,
            Period::Week => self.weekly,
            Period::Month => self.monthly,
        }
    }
}

/// What a key has spent, in US dollars, in the periods containing "now".
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Spent {
    pub day: f64,
    pub week: f64,
    pub month: f64,
}

impl Spent {
    pub fn get(&self, period: Period) -> f64 {
        match period {
            Period::Day => self.day,
            Period::Week => self.week,
            Period::Month => self.month,
        }
    }

    pub fn add(&mut self, usd: f64) {
        self.day += usd;
        self.week += usd;
        self.month += usd;
    }
}

/// Why a client key was refused. Messages name the key, never its secret.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum KeyRefusal {
    #[error("invalid client key")]
    Unknown,
    #[error("client key `{0}` has been revoked")]
    Revoked(String),
    #[error("client key `{0}` has expired")]
    Expired(String),
    #[error("client key `{name}` may not use model `{model}`: allowed {allowed}")]
    Model {
        name: String,
        model: String,
        allowed: String,
    },
    #[error("client key `{name}` is over its limit of {limit} requests per minute")]
    Rpm {
        name: String,
        limit: u32,
        retry_after: Duration,
    },
    #[error(
        "client key `{name}` has spent its {} budget of ${limit:.2} (spent ${spent:.4}); it resets at {}",
        period.as_str(),
        humantime::format_rfc3339_seconds(*resets_at)
    )]
    Budget {
        name: String,
        period: Period,
        limit: f64,
        spent: f64,
        resets_at: SystemTime,
        retry_after: Duration,
    },
}

impl KeyRefusal {
    /// How long until a retry may succeed (`retry-after`), for 429s.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Rpm { retry_after, .. } | Self::Budget { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The Anthropic-shaped error: 401, 403 or 429.
    pub fn to_api_error(&self) -> ApiError {
        let message = self.to_string();
        match self {
            Self::Unknown | Self::Revoked(_) | Self::Expired(_) => {
                ApiError::authentication(message)
            }
            Self::Model { .. } => ApiError::new(
                http::StatusCode::FORBIDDEN,
                ErrorType::PermissionError,
                message,
            ),
            Self::Rpm { .. } | Self::Budget { .. } => ApiError::rate_limited(message),
        }
    }
}

/// Revocation and expiry.
pub fn check_validity(key: &ClientKey, now: SystemTime) -> Result<(), KeyRefusal> {
    if key.revoked {
        return Err(KeyRefusal::Revoked(key.name.to_string()));
    }
    match key.expires_at {
        Some(at) if at <= now => Err(KeyRefusal::Expired(key.name.to_string())),
        _ => Ok(()),
    }
}

/// The key's allowed-model patterns.
pub fn check_model(key: &ClientKey, model: &str) -> Result<(), KeyRefusal> {
    if key.models.allows(model) {
        return Ok(());
    }
    Err(KeyRefusal::Model {
        name: key.name.to_string(),
        model: model.to_owned(),
        allowed: key.models.as_slice().join(", "),
    })
}

/// Every budget against what was spent: the first one used up refuses,
/// with the time its period resets.
pub fn check_budgets(key: &ClientKey, spent: Spent, now: SystemTime) -> Result<(), KeyRefusal> {
    for period in Period::ALL {
        let Some(limit) = key.budgets.limit(period) else {
            continue;
        };
        let used = spent.get(period);
        if used >= limit {
            let resets_at = period.end(now);
            return Err(KeyRefusal::Budget {
                name: key.name.to_string(),
                period,
                limit,
                spent: used,
                resets_at,
                retry_after: ceil_secs(resets_at.duration_since(now).unwrap_or_default()),
            });
        }
    }
    Ok(())
}

/// A sliding one-minute window of admitted requests.
#[derive(Debug, Default)]
pub struct RpmWindow {
    admitted: VecDeque<Instant>,
}

const MINUTE: Duration = Duration::from_secs(60);

impl RpmWindow {
    /// Admits a request at `now` unless `limit` were admitted in the last minute;
    /// refused: how long until the oldest leaves the window.
    pub fn admit(&mut self, limit: u32, now: Instant) -> Result<(), Duration> {
        while self
            .admitted
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) >= MINUTE)
        {
            self.admitted.pop_front();
        }
        if self.admitted.len() >= limit as usize {
            let oldest = self.admitted.front().copied().unwrap_or(now);
            return Err(ceil_secs(MINUTE.saturating_sub(now - oldest)));
        }
        self.admitted.push_back(now);
        Ok(())
    }
}

/// Whole seconds, rounded up and at least one: `retry-after` is in seconds.
fn ceil_secs(duration: Duration) -> Duration {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::client_keys::key::{KeyDigest, KeySource, ModelPatterns};

    fn at(rfc3339: &str) -> SystemTime {
        humantime::parse_rfc3339(rfc3339).unwrap()
    }

    fn key(budgets: Budgets) -> ClientKey {
        ClientKey {
            id: "k1".into(),
            name: Arc::from("alice"),
            digest: KeyDigest::of(b"x"),
            expires_at: Some(at("2026-12-31T00:00:00Z")),
            revoked: false,
            models: ModelPatterns::new(vec!["claude-haiku-*".into()]),
            rpm_limit: Some(2),
            budgets,
            source: KeySource::Store,
        }
    }

    #[test]
    fn periods_are_utc_calendar_day_iso_week_and_month() {
        // 2026-12-04 is a Friday.
        let now = at("2026-12-04T15:30:00Z");
        assert_eq!(Period::Day.start(now), at("2026-12-04T00:00:00Z"));
        assert_eq!(Period::Day.end(now), at("2026-12-05T00:00:00Z"));
        assert_eq!(Period::Week.start(now), at("2026-11-30T00:00:00Z"));
        assert_eq!(Period::Week.end(now), at("2026-12-07T00:00:00Z"));
        assert_eq!(Period::Month.start(now), at("2026-12-01T00:00:00Z"));
        assert_eq!(Period::Month.end(now), at("2027-01-01T00:00:00Z"));
        let monday = at("2026-11-30T00:00:00Z");
        assert_eq!(Period::Week.start(monday), monday);
    }

    #[test]
    fn expiry_and_revocation_refuse() {
        let mut k = key(Budgets::default());
        assert!(check_validity(&k, at("2026-12-30T23:59:59Z")).is_ok());
        let expired = check_validity(&k, at("2026-12-31T00:00:00Z")).unwrap_err();
        assert_eq!(expired.to_api_error().status.as_u16(), 401);
        k.revoked = true;
        assert_eq!(
            check_validity(&k, at("2026-01-01T00:00:00Z")),
            Err(KeyRefusal::Revoked("alice".into()))
        );
    }

    #[test]
    fn models_outside_the_patterns_are_forbidden() {
        let k = key(Budgets::default());
        assert!(check_model(&k, "claude-haiku-4-5").is_ok());
        let refusal = check_model(&k, "claude-opus-4-5").unwrap_err();
        let api = refusal.to_api_error();
        assert_eq!(api.status.as_u16(), 403);
        assert_eq!(api.error_type, ErrorType::PermissionError);
        assert!(api.message.contains("claude-haiku-*"), "{}", api.message);
    }

    #[test]
    fn a_spent_budget_names_itself_and_its_reset() {
        let k = key(Budgets {
            daily: Some(5.0),
            weekly: None,
            monthly: Some(0.001),
        });
        let now = at("2026-12-04T23:00:00Z");
        assert!(check_budgets(&k, Spent::default(), now).is_ok());
        let spent = Spent {
            day: 0.0005,
            week: 0.0005,
            month: 0.0012,
        };
        let refusal = check_budgets(&k, spent, now).unwrap_err();
        let api = refusal.to_api_error();
        assert_eq!(api.status.as_u16(), 429);
        assert!(
            api.message.contains("monthly budget of $0.00"),
            "{}",
            api.message
        );
        assert!(
            api.message.contains("2027-01-01T00:00:00Z"),
            "{}",
            api.message
        );
        assert_eq!(
            refusal.retry_after(),
            Some(Duration::from_secs(27 * 86_400 + 3600))
        );
        // The daily budget comes first when both are spent.
        let both = Spent {
            day: 6.0,
            week: 6.0,
            month: 6.0,
        };
        match check_budgets(&k, both, now) {
            Err(KeyRefusal::Budget {
                period,
                retry_after,
                ..
            }) => {
                assert_eq!(period, Period::Day);
                assert_eq!(retry_after, Duration::from_secs(3600));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rpm_is_a_sliding_minute() {
        let mut window = RpmWindow::default();
        let t0 = Instant::now();
        assert!(window.admit(2, t0).is_ok());
        assert!(window.admit(2, t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(
            window.admit(2, t0 + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(window.admit(2, t0 + Duration::from_secs(60)).is_ok());
        assert_eq!(
            window.admit(2, t0 + Duration::from_millis(60_500)),
            Err(Duration::from_secs(10))
        );
    }
}
