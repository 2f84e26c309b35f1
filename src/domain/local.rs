//! How one reader sees money and time: in their [`Locale`], in the network's
//! currency, and in their time zone. Every page builds one from its viewer
//! (`Page::local`); e-mails read money in English and time in UTC.

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::domain::money::{self, Locale};

/// A stored (UTC) time, by value or through references (templates hand out `&&T`).
pub trait UtcTime {
    fn utc(&self) -> NaiveDateTime;
}

impl UtcTime for NaiveDateTime {
    fn utc(&self) -> NaiveDateTime {
        *self
    }
}

impl<T: UtcTime + ?Sized> UtcTime for &T {
    fn utc(&self) -> NaiveDateTime {
        (**self).utc()
    }
}

/// An amount or a count in minor units, by value or through references.
pub trait Minor {
    fn minor(&self) -> i64;
}

impl Minor for i64 {
    fn minor(&self) -> i64 {
        *self
    }
}

impl<T: Minor + ?Sized> Minor for &T {
    fn minor(&self) -> i64 {
        (**self).minor()
    }
}

/// A reader's conventions: locale, currency (ISO 4217 code) and time zone.
#[derive(Debug, Clone)]
pub struct Local {
    pub locale: Locale,
    pub currency: String,
    pub tz: Tz,
}

impl Local {
    /// `timezone` is an IANA name (`Europe/Berlin`); one that is not known reads as UTC.
    pub fn new(locale: Locale, currency: &str, timezone: &str) -> Local {
        Local { locale, currency: currency.to_string(), tz: timezone.parse().unwrap_or(chrono_tz::UTC) }
    }

    /// Minor units with the currency, e.g. `$12,500.00` (`money::format_money`).
    pub fn money(&self, minor: impl Minor) -> String {
        money::format_money(minor.minor(), &self.currency, self.locale)
    }

    /// An amount kept as machine text (`"12.50"`, as the API has it) read as money;
    /// text that is not such an amount is shown as it is.
    pub fn amount(&self, decimal: impl AsRef<str>) -> String {
        let text = decimal.as_ref();
        money::parse_minor(text).map(|m| self.money(m)).unwrap_or_else(|_| text.to_string())
    }

    /// A count with thousands separators: `15,128`.
    pub fn count(&self, n: impl Minor) -> String {
        self.locale.count(n.minor())
    }

    /// A whole number kept as text (`"15128"`, as CSV has it) with thousands
    /// separators; other text (`40.00 %`, `—`) is shown as it is.
    pub fn number(&self, text: impl AsRef<str>) -> String {
        let text = text.as_ref();
        text.parse::<i64>().map(|n| self.count(n)).unwrap_or_else(|_| text.to_string())
    }

    fn at(&self, utc: &NaiveDateTime) -> chrono::DateTime<Tz> {
        Utc.from_utc_datetime(utc).with_timezone(&self.tz)
    }

    /// A UTC time in the reader's zone, to the minute: `2026-12-07 09:40`.
    pub fn time(&self, utc: impl UtcTime) -> String {
        self.at(&utc.utc()).format("%Y-%m-%d %H:%M").to_string()
    }

    /// The same to the second: `2026-12-07 09:40:05`.
    pub fn time_s(&self, utc: impl UtcTime) -> String {
        self.at(&utc.utc()).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// The clock alone, to the second: `09:40:05`.
    pub fn clock(&self, utc: impl UtcTime) -> String {
        self.at(&utc.utc()).format("%H:%M:%S").to_string()
    }

    /// The reader's calendar day of a UTC time: `2026-12-07`.
    pub fn date(&self, utc: impl UtcTime) -> String {
        self.at(&utc.utc()).format("%Y-%m-%d").to_string()
    }

    /// The zone by name and its offset at `now`: `Europe/Berlin (UTC+01:00)`, or `UTC`.
    pub fn zone_at(&self, now: &NaiveDateTime) -> String {
        if self.tz == chrono_tz::UTC {
            return "UTC".into();
        }
        format!("{} (UTC{})", self.tz.name(), self.at(now).format("%:z"))
    }

    /// [`Local::zone_at`] now.
    pub fn zone(&self) -> String {
        self.zone_at(&Utc::now().naive_utc())
    }
}

impl Default for Local {
    /// English, US dollars, UTC.
    fn default() -> Local {
        Local { locale: Locale::En, currency: "USD".into(), tz: chrono_tz::UTC }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 5)).expect("time")
    }

    #[test]
    fn times_are_shown_in_the_readers_zone() {
        let ny = Local::new(Locale::En, "USD", "America/New_York");
        let tokyo = Local::new(Locale::En, "USD", "Asia/Tokyo");
        let at = t(2026, 12, 7, 3, 40);
        assert_eq!(ny.time(at), "2026-12-06 22:40");
        assert_eq!(tokyo.time(at), "2026-12-07 12:40");
        assert_eq!(ny.time_s(at), "2026-12-06 22:40:05");
        assert_eq!(ny.date(at), "2026-12-06");
        assert_eq!(tokyo.clock(at), "12:40:05");
        // Summer time moves the offset.
        assert_eq!(ny.time(t(2026, 7, 1, 12, 0)), "2026-07-01 08:00");
    }

    #[test]
    fn the_zone_is_named_with_its_offset() {
        let winter = t(2026, 12, 7, 12, 0);
        let summer = t(2026, 7, 1, 12, 0);
        assert_eq!(Local::new(Locale::En, "EUR", "Europe/Berlin").zone_at(&winter), "Europe/Berlin (UTC+01:00)");
        assert_eq!(Local::new(Locale::En, "EUR", "Europe/Berlin").zone_at(&summer), "Europe/Berlin (UTC+02:00)");
        assert_eq!(Local::new(Locale::En, "USD", "America/New_York").zone_at(&winter), "America/New_York (UTC-05:00)");
        assert_eq!(Local::new(Locale::En, "INR", "Asia/Kolkata").zone_at(&winter), "Asia/Kolkata (UTC+05:30)");
        assert_eq!(Local::new(Locale::En, "USD", "UTC").zone_at(&winter), "UTC");
        // An unknown name reads as UTC rather than failing the page.
        assert_eq!(Local::new(Locale::En, "USD", "Mars/Olympus").zone_at(&winter), "UTC");
    }

    #[test]
    fn money_in_the_readers_currency_and_locale() {
        let eur = Local::new(Locale::En, "EUR", "UTC");
        assert_eq!(eur.money(246_027), "€2,460.27");
        assert_eq!(eur.amount("14.40"), "€14.40");
        assert_eq!(eur.amount("not money"), "not money");
        assert_eq!(eur.count(15128), "15,128");
        assert_eq!(eur.number("15128"), "15,128");
        assert_eq!(eur.number("40.00 %"), "40.00 %");
        assert_eq!(eur.number("—"), "—");
        let rub = Local::new(Locale::Ru, "RUB", "Europe/Moscow");
        assert_eq!(rub.money(246_027), "2\u{a0}460,27\u{a0}₽");
    }
}
