//! Unix-seconds time, and the few conversions Keyport shows people.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `1h 05m`, `4m 12s`, `3d 4h`; negative spans read as `expired`.
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

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses `YYYY-MM-DD` (an expiry date typed from a vendor's admin screen) as the end of
/// that day, UTC: a token dated the 31st still works on the 31st.
pub fn parse_date_end(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-31 and friends: the date must survive a round trip.
    (civil_from_days(days) == (y, m, d)).then_some(days * 86_400 + 86_399)
}

/// `2026-11-23 14:05 UTC`.
pub fn format_utc(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
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
    }
}
