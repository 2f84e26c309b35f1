//! Money is integer minor units (`i64` cents). Decimal strings like `"12.50"` are the
//! only way amounts enter or leave as text (JSON, CSV, forms).

/// Format minor units as a decimal string with two places: `1250` → `"12.50"`.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Parse a decimal amount (`"12"`, `"12.5"`, `"12.50"`) into minor units.
/// Refuses more than two decimals, signs other than a leading minus, and overflow.
pub fn parse_minor(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 2 {
        return Err(format!("{raw:?} is not an amount like 12.50"));
    }
    let whole: i64 = whole.parse().map_err(|_| format!("{raw:?} is too large"))?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().unwrap_or(0) };
    let minor =
        whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(|| format!("{raw:?} is too large"))?;
    Ok(if neg { -minor } else { minor })
}

/// `raw` is written exactly as the API's `Amount`: digits, then at most two decimals
/// (`^[0-9]+(\.[0-9]{1,2})?$`), no sign or spaces, at most 15 digits before the point.
pub fn is_plain_amount(raw: &str) -> bool {
    let (whole, frac) = raw.split_once('.').map_or((raw, None), |(w, f)| (w, Some(f)));
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    digits(whole) && whole.len() <= 15 && frac.is_none_or(|f| digits(f) && f.len() <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (text, minor) in [("0.00", 0), ("12.50", 1250), ("0.05", 5), ("-3.10", -310), ("1000000.00", 100_000_000)] {
            assert_eq!(format_minor(minor), text);
            assert_eq!(parse_minor(text), Ok(minor));
        }
        assert_eq!(parse_minor("12"), Ok(1200));
        assert_eq!(parse_minor("12.5"), Ok(1250));
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in ["", ".", "1.234", "1,50", "abc", "+1", "1e3", "99999999999999999999"] {
            assert!(parse_minor(bad).is_err(), "{bad}");
        }
    }
}
