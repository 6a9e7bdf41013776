//! The system locale, read once from the environment the desktop session gives (`LC_ALL`,
//! then `LC_TIME`, then `LANG`, as POSIX orders them), as a BCP 47 tag for the window's
//! `Intl.DateTimeFormat` (`en_AU.UTF-8` → `en-AU`), and the few date shapes notifications
//! need (the window formats its own dates with `Intl`).

/// The locale dates are shown in; `en-US` when the session names none (or `C`/`POSIX`).
pub fn system() -> String {
    from_vars(|k| std::env::var(k).ok())
}

fn from_vars(var: impl Fn(&str) -> Option<String>) -> String {
    ["LC_ALL", "LC_TIME", "LANG"]
        .iter()
        .filter_map(|k| var(k))
        .find(|v| !v.trim().is_empty())
        .and_then(|v| bcp47(&v))
        .unwrap_or_else(|| "en-US".to_owned())
}

/// `en_AU.UTF-8@euro` → `en-AU`; `C` and `POSIX` are no locale.
fn bcp47(posix: &str) -> Option<String> {
    let tag = posix.split(['.', '@']).next()?.trim();
    if tag.is_empty() || tag == "C" || tag == "POSIX" {
        return None;
    }
    let mut parts = tag.split(['_', '-']);
    let lang = parts.next()?.to_ascii_lowercase();
    if lang.len() < 2 || lang.len() > 3 || !lang.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    match parts.next() {
        Some(r) if (2..=3).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(format!("{lang}-{}", r.to_ascii_uppercase()))
        }
        _ => Some(lang),
    }
}

/// A calendar date in the locale's order: day/month/year for most of the world,
/// month/day/year in the US (and a few others), year-month-day in East Asia and Sweden.
pub fn date(locale: &str, y: i32, m: u8, d: u8) -> String {
    let region = locale.split('-').nth(1).unwrap_or("");
    let lang = locale.split('-').next().unwrap_or("");
    if lang == "en" && matches!(region, "US" | "PH" | "CA" | "") {
        format!("{m}/{d}/{y}")
    } else if matches!(lang, "zh" | "ja" | "ko" | "sv" | "lt" | "hu") {
        format!("{y}-{m:02}-{d:02}")
    } else {
        format!("{d:02}/{m:02}/{y}")
    }
}

/// Unix seconds as a local date and 24-hour time in the locale's order.
pub fn date_time(locale: &str, ts: i64) -> String {
    let (y, m, d, hh, mm) = local(ts);
    format!("{} {hh:02}:{mm:02}", date(locale, y, m, d))
}

/// Local year, month, day, hour and minute of unix seconds.
#[cfg(test)]
pub fn local_parts(ts: i64) -> (i32, u8, u8, u8, u8) {
    local(ts)
}

#[cfg(unix)]
fn local(ts: i64) -> (i32, u8, u8, u8, u8) {
    // SAFETY: `localtime_r` writes only into the `tm` it is given.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t: libc::time_t = ts as libc::time_t;
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return utc(ts);
    }
    (
        tm.tm_year + 1900,
        (tm.tm_mon + 1) as u8,
        tm.tm_mday as u8,
        tm.tm_hour as u8,
        tm.tm_min as u8,
    )
}

#[cfg(not(unix))]
fn local(ts: i64) -> (i32, u8, u8, u8, u8) {
    utc(ts)
}

fn utc(ts: i64) -> (i32, u8, u8, u8, u8) {
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let (days, secs) = (ts.div_euclid(86_400), ts.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d, (secs / 3600) as u8, (secs % 3600 / 60) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> String {
        from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_locale_comes_from_lc_all_then_lc_time_then_lang() {
        assert_eq!(with(&[("LANG", "en_AU.UTF-8")]), "en-AU");
        assert_eq!(
            with(&[("LANG", "en_AU.UTF-8"), ("LC_TIME", "de_DE.UTF-8")]),
            "de-DE"
        );
        assert_eq!(
            with(&[("LC_ALL", "en_NZ.UTF-8"), ("LC_TIME", "de_DE")]),
            "en-NZ"
        );
        assert_eq!(with(&[("LANG", "C.UTF-8")]), "en-US");
        assert_eq!(with(&[("LANG", "")]), "en-US");
        assert_eq!(with(&[]), "en-US");
        assert_eq!(with(&[("LANG", "fr")]), "fr");
    }

    #[test]
    fn dates_follow_the_locale() {
        assert_eq!(date("en-AU", 2027, 11, 24), "24/11/2027");
        assert_eq!(date("en-NZ", 2027, 11, 4), "04/11/2027");
        assert_eq!(date("en-US", 2027, 11, 24), "11/24/2027");
        assert_eq!(date("ja-JP", 2027, 11, 24), "2027-11-24");
        assert_eq!(utc(1_827_014_400), (2027, 11, 24, 0, 0));
        assert_eq!(utc(0), (1970, 1, 1, 0, 0));
    }
}
