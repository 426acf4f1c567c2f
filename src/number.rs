//! Whole numbers as users write them in options and variables: decimal
//! digits only (no sign, space or exponent), so `1e3` or ` 5` is an error
//! and not a surprise.

use crate::error::quote;

/// Parse a whole decimal number in `min..=max`; the error says why, quoting
/// the text.
pub fn parse_number(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>().ok()
    } else {
        None
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{} is not a whole number from {min} to {max}",
            quote(s)
        )),
    }
}

/// Parse a signed whole decimal number (`-3`, `+2`, `7`).
pub fn parse_signed(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `x` (at least 0) rounded to whole units, or to tenths, as `{:.0}` and
/// `{:.1}` print it but without the float formatter (10 KB on MIPS).
pub fn rounded(x: f64, tenths: bool) -> String {
    if tenths {
        let t = (x * 10.0).round() as u64;
        format!("{}.{}", t / 10, t % 10)
    } else {
        format!("{}", x.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0010", 1, 32), Ok(10));
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            " 1",
            "1.0",
            "33",
            "1e3",
            "99999999999999999999999",
        ] {
            assert!(parse_number(bad, 1, 32).is_err(), "{bad}");
        }
        assert_eq!(parse_signed("-3"), Some(-3));
        assert_eq!(parse_signed("+3"), Some(3));
        assert_eq!(parse_signed("--3"), None);
        assert_eq!(parse_signed("-"), None);
    }
}
