//! The wall clock, in whole UNIX seconds, as the derivation sees it.

use crate::error::{Error, Result};

/// Current UNIX time in whole seconds (UTC).
pub fn now() -> Result<u64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Error::failure("the system clock is set before 1970; fix the clock"))
}

/// Current UNIX time in milliseconds, for timing a knock around a boundary.
pub fn now_ms() -> Result<u64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .map_err(|_| Error::failure("the system clock is set before 1970; fix the clock"))
}

/// `--at UNIX_SECONDS` if given, else the clock.
pub fn now_or(at: Option<u64>) -> Result<u64> {
    match at {
        Some(t) => Ok(t),
        None => now(),
    }
}

/// `2026-11-23 18:00:00 UTC`, for log lines (no time zone database needed).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// `2h 13m 5s`.
pub fn span(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (v, unit) in [(d, "d"), (h, "h"), (m, "m")] {
        if v > 0 || !out.is_empty() {
            out.push_str(&format!("{v}{unit} "));
        }
    }
    out.push_str(&format!("{s}s"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00:00 UTC");
        assert_eq!(span(5), "5s");
        assert_eq!(span(3600 + 61), "1h 1m 1s");
        assert_eq!(span(86400), "1d 0h 0m 0s");
    }
}
