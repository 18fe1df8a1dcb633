//! Short human forms of numbers, durations and times, sized for table cells.

use serde_json::Value;

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `123456` → `123k`, `7_890_000` → `7.9M`: for narrow cells.
pub fn compact(n: u64) -> String {
    // Precision loss above 2^53 does not matter for a display.
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    match n {
        0..1_000 => n.to_string(),
        1_000..10_000 => format!("{:.1}k", f / 1e3),
        10_000..1_000_000 => format!("{:.0}k", f / 1e3),
        1_000_000..10_000_000 => format!("{:.1}M", f / 1e6),
        10_000_000..1_000_000_000 => format!("{:.0}M", f / 1e6),
        _ => format!("{:.1}G", f / 1e9),
    }
}

/// A latency: `0.08 ms`, `812 ms`, `2.1 s`, `1m 05s`.
pub fn millis(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        "-".to_owned()
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1_000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1_000.0)
    } else {
        duration(ms / 1_000.0)
    }
}

/// An optional latency, `-` when unknown.
pub fn opt_millis(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_owned(), millis)
}

/// A span of seconds: `12s`, `5m 03s`, `1h 02m`, `3d 04h`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "-".to_owned();
    }
    // Whole seconds are all a display needs; the cast saturates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m {:02}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h {:02}m", s / 3_600, s % 3_600 / 60),
        _ => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3_600),
    }
}

/// An event's `time` as `HH:MM:SS` (UTC): RFC 3339 text is cut, a Unix
/// timestamp in seconds or milliseconds is converted; anything else is `-`.
pub fn clock(time: &Value) -> String {
    match time {
        Value::String(text) => text
            .split_once('T')
            .and_then(|(_, rest)| rest.get(..8))
            .unwrap_or(text.get(..8).unwrap_or(text))
            .to_owned(),
        Value::Number(n) => match n.as_f64() {
            Some(t) if t.is_finite() && t >= 0.0 => {
                // Anything past the year 33658 in seconds is milliseconds.
                let secs = if t > 1e12 { t / 1_000.0 } else { t };
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let day_secs = (secs as u64) % 86_400;
                format!(
                    "{:02}:{:02}:{:02}",
                    day_secs / 3_600,
                    day_secs % 3_600 / 60,
                    day_secs % 60
                )
            }
            _ => "-".to_owned(),
        },
        _ => "-".to_owned(),
    }
}

/// The filled part of a `width`-cell bar for `remaining` of `limit`, or
/// `None` when either is unknown.
pub fn bar_fill(remaining: Option<u64>, limit: Option<u64>, width: usize) -> Option<usize> {
    let (remaining, limit) = (remaining?, limit?);
    if limit == 0 {
        return Some(0);
    }
    let remaining = remaining.min(limit);
    // Rounds up, so any capacity left shows at least one cell.
    let cells = (u128::from(remaining) * width as u128).div_ceil(u128::from(limit));
    Some(usize::try_from(cells).unwrap_or(width))
}

/// A fraction as a whole percentage: `0.82` → `82%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.0}%", (fraction * 100.0).clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(123_456_789), "123,456,789");
        assert_eq!(compact(950), "950");
        assert_eq!(compact(1_234), "1.2k");
        assert_eq!(compact(123_456), "123k");
        assert_eq!(compact(7_890_000), "7.9M");
    }

    #[test]
    fn latencies_and_durations() {
        assert_eq!(millis(0.08), "0.08 ms");
        assert_eq!(millis(812.4), "812 ms");
        assert_eq!(millis(2_100.0), "2.1 s");
        assert_eq!(millis(65_000.0), "1m 05s");
        assert_eq!(opt_millis(None), "-");
        assert_eq!(duration(12.5), "13s");
        assert_eq!(duration(303.0), "5m 03s");
        assert_eq!(duration(3_720.0), "1h 02m");
        assert_eq!(duration(273_600.0), "3d 04h");
        assert_eq!(duration(f64::NAN), "-");
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(&json!("2025-01-02T12:03:04.123Z")), "12:03:04");
        assert_eq!(clock(&json!(3_723)), "01:02:03");
        assert_eq!(clock(&json!(1_700_000_000)), "22:13:20");
        assert_eq!(clock(&json!(1_700_000_000_000_u64)), "22:13:20");
        assert_eq!(clock(&json!(null)), "-");
    }

    #[test]
    fn bars() {
        assert_eq!(bar_fill(Some(41), Some(50), 10), Some(9));
        assert_eq!(bar_fill(Some(1), Some(1_000), 10), Some(1));
        assert_eq!(bar_fill(Some(0), Some(50), 10), Some(0));
        assert_eq!(bar_fill(Some(80), Some(50), 10), Some(10));
        assert_eq!(bar_fill(None, Some(50), 10), None);
        assert_eq!(bar_fill(Some(5), Some(0), 10), Some(0));
        assert_eq!(percent(0.823), "82%");
    }
}
