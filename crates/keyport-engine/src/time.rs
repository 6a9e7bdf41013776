//! Unix-seconds time and the few conversions Keyport shows people, on the `time` crate.

use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `1h 05m`, `4m 12s`, `3d 4h`; a span at or below zero reads `expired`.
pub fn human_span(secs: i64) -> String {
    if secs <= 0 {
        return "expired".into();
    }
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// A span for a sentence: `5 minutes`, `1 hour 5 minutes`, `6 days 23 hours`, `40
/// seconds`; the two largest units, singular where it is one.
pub fn human_duration(secs: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400, "day"),
        (3600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let secs = secs.max(0);
    let word = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let Some(i) = UNITS.iter().position(|(size, _)| secs >= *size) else {
        return "0 seconds".into();
    };
    let (size, unit) = UNITS[i];
    let mut out = word(secs / size, unit);
    if let Some((smaller, unit)) = UNITS.get(i + 1) {
        let n = secs % size / smaller;
        if n > 0 {
            out = format!("{out} {}", word(n, unit));
        }
    }
    out
}

/// `YYYY-MM-DD` (an expiry typed from a vendor's admin screen) as the last second of that
/// day, UTC: a token dated the 31st still works on the 31st.
pub fn parse_date_end(s: &str) -> Option<i64> {
    let date = Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    (1970..=9999).contains(&date.year()).then_some(())?;
    let end = Time::from_hms(23, 59, 59).ok()?;
    Some(date.with_time(end).assume_utc().unix_timestamp())
}

/// `2026-11-23 14:05 UTC`.
pub fn format_utc(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_fail() {
        let t = parse_date_end("2026-12-31").expect("valid date");
        assert_eq!(format_utc(t), "2026-12-31 23:59 UTC");
        assert_eq!(parse_date_end("2026-02-31"), None);
        assert_eq!(parse_date_end("31/12/2026"), None);
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(human_span(0), "expired");
        assert_eq!(human_span(59), "59s");
        assert_eq!(human_span(1200), "20m 00s");
        assert_eq!(human_span(3 * 86_400 + 7200), "3d 2h");
        assert_eq!(human_duration(300), "5 minutes");
        assert_eq!(human_duration(3900), "1 hour 5 minutes");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(
            human_duration(86_400 * 6 + 3600 * 23 + 59),
            "6 days 23 hours"
        );
        assert_eq!(human_duration(86_400 + 30), "1 day");
        assert_eq!(human_duration(61), "1 minute 1 second");
        assert_eq!(human_duration(0), "0 seconds");
    }
}
