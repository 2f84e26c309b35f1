//! Money is integer minor units (`i64` cents). Decimal strings like `"12.50"` are the
//! only way amounts enter or leave as machine text (JSON, CSV, forms): [`format_minor`].
//! What a person reads is [`format_money`]: the amount with its currency, grouped and
//! punctuated for the reader's [`Locale`] (`$12,500.00`, `12 500,00 ₽`).

use std::collections::HashMap;
use std::sync::LazyLock;

use iso_currency::{Currency, IntoEnumIterator};

/// Format minor units as a decimal string with two places: `1250` → `"12.50"`.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The conventions a reader writes numbers in. English today; a language chosen by
/// the user (or the browser's `Accept-Language`) picks another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    Ru,
}

impl Locale {
    /// A language tag's locale (`en`, `en-GB`, `ru`, `ru-RU`), by its language.
    pub fn parse(tag: &str) -> Option<Locale> {
        let lang = tag.trim().split(['-', '_']).next().unwrap_or_default();
        match lang.to_ascii_lowercase().as_str() {
            "en" => Some(Locale::En),
            "ru" => Some(Locale::Ru),
            _ => None,
        }
    }

    /// The language tag (`<html lang>`).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
        }
    }

    /// Between groups of three digits.
    fn group(self) -> &'static str {
        match self {
            Locale::En => ",",
            // CLDR's Russian group separator: a no-break space.
            Locale::Ru => "\u{a0}",
        }
    }

    fn decimal_mark(self) -> char {
        match self {
            Locale::En => '.',
            Locale::Ru => ',',
        }
    }

    /// A plain number (a count) with the locale's thousands separators: `12,500`.
    pub fn count(self, n: i64) -> String {
        let digits = group(&n.unsigned_abs().to_string(), self.group());
        if n < 0 { format!("{MINUS}{digits}") } else { digits }
    }
}

/// The minus sign of amounts people read (U+2212); machine text keeps `-`.
pub const MINUS: char = '\u{2212}';

/// Currencies that keep a sign other currencies share too, as readers of English
/// and Russian know them: `$` is the US dollar, `£` the pound sterling, `¥` the yen.
const SHARED_SIGN_HOLDERS: [Currency; 3] = [Currency::USD, Currency::GBP, Currency::JPY];

/// The sign a reader knows each currency by (`$`, `€`, `£`, `₽`, `₹`…), from ISO 4217
/// data, worked out once: a single currency sign that no other current currency
/// uses, or one of the [`SHARED_SIGN_HOLDERS`]. A currency not in it (a sign made of
/// letters, `kr`, `zł`; one several currencies share, `₣`, `₩`; none) is written
/// with its code.
static SIGNS: LazyLock<HashMap<Currency, String>> = LazyLock::new(|| {
    let current = || Currency::iter().filter(|c| c.is_superseded().is_none() && !c.is_fund() && !c.is_special());
    let mut users: HashMap<String, usize> = HashMap::new();
    for c in current() {
        *users.entry(c.symbol().symbol).or_default() += 1;
    }
    let is_sign = |s: &str| {
        let mut chars = s.chars();
        matches!((chars.next(), chars.next()), (Some(c), None) if !c.is_alphanumeric() && c != '¤')
    };
    current()
        .filter_map(|c| {
            let sign = c.symbol().symbol;
            let known = is_sign(&sign) && (users.get(&sign) == Some(&1) || SHARED_SIGN_HOLDERS.contains(&c));
            known.then_some((c, sign))
        })
        .collect()
});

/// `digits` (ASCII, no sign) in groups of three from the right, joined by `sep`.
fn group(digits: &str, sep: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len());
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(d);
    }
    out
}

/// An amount in minor units and its currency (an ISO 4217 code), as a person reads
/// it: see [`format_money`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money<'a> {
    pub minor: i64,
    pub currency: &'a str,
}

impl Money<'_> {
    pub fn format(self, locale: Locale) -> String {
        format_money(self.minor, self.currency, locale)
    }
}

/// Minor units as a person reads them, in `locale`: the currency's sign where it has
/// a well-known one, else its code; thousands grouped; two decimals, as every amount
/// is kept (`format_minor`); negatives with a minus sign (U+2212).
///
/// | | en | ru |
/// |---|---|---|
/// | USD | `$12,500.00`, `−$5.00` | `12 500,00 $` |
/// | EUR | `€1,234.50` | `1 234,50 €` |
/// | RUB | `₽12,500.00` | `12 500,00 ₽` |
/// | CHF | `CHF 12,500.00` | `12 500,00 CHF` |
///
/// (Spaces in `ru` and before a code are no-break spaces.)
pub fn format_money(minor: i64, currency: &str, locale: Locale) -> String {
    let abs = minor.unsigned_abs();
    let number =
        format!("{}{}{:02}", group(&(abs / 100).to_string(), locale.group()), locale.decimal_mark(), abs % 100);
    let minus = if minor < 0 { MINUS.to_string() } else { String::new() };
    let code = currency.trim();
    let sign = Currency::from_code(code).and_then(|c| SIGNS.get(&c));
    match (locale, sign) {
        (Locale::En, Some(sign)) => format!("{minus}{sign}{number}"),
        (Locale::En, None) => format!("{minus}{code}\u{a0}{number}"),
        (Locale::Ru, sign) => format!("{minus}{number}\u{a0}{}", sign.map_or(code, String::as_str)),
    }
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

    const NBSP: &str = "\u{a0}";

    #[test]
    fn english_money_has_its_sign_and_groups() {
        assert_eq!(format_money(1_250_000, "USD", Locale::En), "$12,500.00");
        assert_eq!(format_money(123_450, "EUR", Locale::En), "€1,234.50");
        assert_eq!(format_money(99, "GBP", Locale::En), "£0.99");
        assert_eq!(format_money(1_250_000, "RUB", Locale::En), "₽12,500.00");
        assert_eq!(format_money(0, "USD", Locale::En), "$0.00");
        assert_eq!(format_money(-500, "USD", Locale::En), "\u{2212}$5.00");
        assert_eq!(format_money(-123_456_789, "EUR", Locale::En), "\u{2212}€1,234,567.89");
        assert_eq!(format_money(100_000, "USD", Locale::En), "$1,000.00");
        assert_eq!(format_money(10_000, "USD", Locale::En), "$100.00");
        assert_eq!(format_money(i64::MAX, "USD", Locale::En), "$92,233,720,368,547,758.07");
        assert_eq!(format_money(i64::MIN, "USD", Locale::En), "\u{2212}$92,233,720,368,547,758.08");
    }

    #[test]
    fn russian_money_puts_the_sign_after() {
        assert_eq!(format_money(1_250_000, "RUB", Locale::Ru), format!("12{NBSP}500,00{NBSP}₽"));
        assert_eq!(format_money(123_450, "USD", Locale::Ru), format!("1{NBSP}234,50{NBSP}$"));
        assert_eq!(format_money(123_450, "EUR", Locale::Ru), format!("1{NBSP}234,50{NBSP}€"));
        assert_eq!(format_money(0, "RUB", Locale::Ru), format!("0,00{NBSP}₽"));
        assert_eq!(format_money(-500, "RUB", Locale::Ru), format!("\u{2212}5,00{NBSP}₽"));
        assert_eq!(format_money(10_000_000_000, "RUB", Locale::Ru), format!("100{NBSP}000{NBSP}000,00{NBSP}₽"));
    }

    #[test]
    fn currencies_without_a_well_known_sign_show_their_code() {
        // CHF's sign (₣) is shared with several francs; kr and zł are letters.
        assert_eq!(format_money(1_250_000, "CHF", Locale::En), format!("CHF{NBSP}12,500.00"));
        assert_eq!(format_money(1_250_000, "CHF", Locale::Ru), format!("12{NBSP}500,00{NBSP}CHF"));
        assert_eq!(format_money(-150, "SEK", Locale::En), format!("\u{2212}SEK{NBSP}1.50"));
        assert_eq!(format_money(150, "PLN", Locale::En), format!("PLN{NBSP}1.50"));
        // CAD's `$` is the US dollar's.
        assert_eq!(format_money(150, "CAD", Locale::En), format!("CAD{NBSP}1.50"));
        // Signs only one currency has.
        assert_eq!(format_money(150, "INR", Locale::En), "₹1.50");
        assert_eq!(format_money(150, "UAH", Locale::Ru), format!("1,50{NBSP}₴"));
        assert_eq!(format_money(150, "JPY", Locale::En), "¥1.50");
        // A code ISO 4217 does not know is shown as it is.
        assert_eq!(format_money(150, "XYZ", Locale::En), format!("XYZ{NBSP}1.50"));
    }

    #[test]
    fn money_value_formats_like_the_function() {
        let m = Money { minor: 1_250_000, currency: "EUR" };
        assert_eq!(m.format(Locale::En), "€12,500.00");
        assert_eq!(m.format(Locale::Ru), format!("12{NBSP}500,00{NBSP}€"));
    }

    #[test]
    fn counts_group_like_money() {
        assert_eq!(Locale::En.count(15128), "15,128");
        assert_eq!(Locale::En.count(999), "999");
        assert_eq!(Locale::En.count(0), "0");
        assert_eq!(Locale::Ru.count(1_234_567), format!("1{NBSP}234{NBSP}567"));
        assert_eq!(Locale::En.count(-1234), "\u{2212}1,234");
    }

    #[test]
    fn locales_by_language_tag() {
        assert_eq!(Locale::parse("ru-RU"), Some(Locale::Ru));
        assert_eq!(Locale::parse("en_GB"), Some(Locale::En));
        assert_eq!(Locale::parse("RU"), Some(Locale::Ru));
        assert_eq!(Locale::parse("de"), None);
        assert_eq!(Locale::default().tag(), "en");
    }

    #[test]
    fn machine_text_is_unchanged() {
        assert_eq!(format_minor(1_250_000), "12500.00");
        assert_eq!(format_minor(-500), "-5.00");
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in ["", ".", "1.234", "1,50", "abc", "+1", "1e3", "99999999999999999999"] {
            assert!(parse_minor(bad).is_err(), "{bad}");
        }
    }
}
