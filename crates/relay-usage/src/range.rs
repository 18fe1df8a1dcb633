//! Time ranges as people write them: `24h`, `7d`, `90m`, a date
//! (`2026-12-01`, UTC midnight) or an RFC 3339 time.

use std::time::{Duration, SystemTime};

/// `text` as a moment, relative ones counted back from `now`.
pub fn parse_moment(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let text = text.trim();
    if let Ok(ago) = humantime::parse_duration(text) {
        return Ok(now.checked_sub(ago).unwrap_or(SystemTime::UNIX_EPOCH));
    }
    if text.len() == 10
        && let Ok(day) = humantime::parse_rfc3339(&format!("{text}T00:00:00Z"))
    {
        return Ok(day);
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| {
        format!(
            "`{text}` is neither a duration (24h, 7d), a date (2026-12-01) nor an RFC 3339 time"
        )
    })
}

/// `[since, until)`: since defaults to 24 hours ago, until to now.
pub fn parse_range(
    since: Option<&str>,
    until: Option<&str>,
    now: SystemTime,
) -> Result<(SystemTime, SystemTime), String> {
    let since = match since {
        Some(s) => parse_moment(s, now)?,
        None => now - Duration::from_secs(86_400),
    };
    let until = match until {
        Some(u) => parse_moment(u, now)?,
        // Just past now, so a row written this millisecond is included.
        None => now + Duration::from_millis(1),
    };
    if until <= since {
        return Err("the range is empty: --until must be after --since".into());
    }
    Ok((since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dates_and_times() {
        let now = humantime::parse_rfc3339("2026-12-04T12:00:00Z").unwrap();
        let at = |s| humantime::parse_rfc3339(s).unwrap();
        assert_eq!(parse_moment("24h", now), Ok(at("2026-12-03T12:00:00Z")));
        assert_eq!(parse_moment("7d", now), Ok(at("2026-11-27T12:00:00Z")));
        assert_eq!(
            parse_moment("2026-12-01", now),
            Ok(at("2026-12-01T00:00:00Z"))
        );
        assert_eq!(
            parse_moment("2026-12-01T05:00:00Z", now),
            Ok(at("2026-12-01T05:00:00Z"))
        );
        assert!(parse_moment("yesterday", now).is_err());
        assert!(parse_range(Some("1h"), Some("2h"), now).is_err());
    }
}
