//! Phone numbers: the country national numbers are read with, parsing (with the
//! workarounds for the phone library), and the `invalid_phone` rule.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use phonenumber::PhoneNumber;
use phonenumber::country::Id as Region;
use serde_json::{Map, Value};

use super::contact::{PHONE_KEYS, field, first_field};
use super::{Check, Facts, INVALID_PHONE};

/// A country code as the phone library knows it: two letters, any case; "UK" is read as "GB".
fn region(code: &str) -> Option<Region> {
    let code = code.trim();
    let b = code.as_bytes();
    if b.len() != 2 || !b.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let up = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
    let up = if &up == b"UK" { *b"GB" } else { up };
    std::str::from_utf8(&up).ok().and_then(|s| Region::from_str(s).ok())
}

/// The country national phone numbers of this lead are read with: the lead's own
/// `country` field when it is a known ISO-2 code, else `fallback`.
pub(super) fn phone_region(fields: &Map<String, Value>, fallback: Option<&str>) -> Option<Region> {
    field(fields, "country").and_then(|c| region(&c)).or_else(|| fallback.and_then(region))
}

/// The ISO-2 country (upper case) that [`contact`] reads national phone numbers
/// with, for the same arguments; `None` when there is none (then only numbers in
/// international form parse).
pub fn phone_country(fields: &Map<String, Value>, fallback: Option<&str>) -> Option<String> {
    phone_region(fields, fallback).map(|r| r.as_ref().to_string())
}

/// Why a submitted phone is not a valid number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PhoneProblem {
    TooLong,
    NotANumber,
    NoCountry,
    UnknownCountryCode,
    TooShort,
    NotValid,
}

impl PhoneProblem {
    fn describe(self, region: Option<Region>) -> String {
        match self {
            PhoneProblem::TooLong => "the phone number has too many digits".into(),
            PhoneProblem::NotANumber => "the phone is not a number".into(),
            PhoneProblem::NoCountry => {
                "the phone is in national form and the lead's country is unknown; it needs a leading +country code"
                    .into()
            }
            PhoneProblem::UnknownCountryCode => "the phone's country calling code does not exist".into(),
            PhoneProblem::TooShort => "the phone number has too few digits".into(),
            PhoneProblem::NotValid => match region {
                Some(r) => format!("not a valid phone number (read for {})", r.as_ref()),
                None => "not a valid phone number".into(),
            },
        }
    }
}

/// Longest input handed to the phone parser; real numbers with formatting and an
/// extension stay well below this.
pub(super) const MAX_PHONE_LEN: usize = 64;

pub(super) fn parse_phone(raw: &str, region: Option<Region>) -> Result<PhoneNumber, PhoneProblem> {
    let raw = raw.trim();
    if raw.len() > MAX_PHONE_LEN {
        return Err(PhoneProblem::TooLong);
    }
    if !raw.bytes().any(|b| b.is_ascii_digit()) {
        return Err(PhoneProblem::NotANumber);
    }
    // The parser once panicked on crafted input (RUSTSEC-2023-0068); settlement must not.
    let parsed = catch_unwind(AssertUnwindSafe(|| parse_international_safe(raw, region)))
        .map_err(|_| PhoneProblem::NotANumber)?;
    let number = parsed.map_err(|e| match e {
        phonenumber::ParseError::InvalidCountryCode if region.is_none() && !raw.starts_with('+') => {
            PhoneProblem::NoCountry
        }
        phonenumber::ParseError::InvalidCountryCode => PhoneProblem::UnknownCountryCode,
        phonenumber::ParseError::TooLong => PhoneProblem::TooLong,
        phonenumber::ParseError::TooShortAfterIdd | phonenumber::ParseError::TooShortNsn => PhoneProblem::TooShort,
        _ => PhoneProblem::NotANumber,
    })?;
    if number.is_valid() { Ok(number) } else { Err(PhoneProblem::NotValid) }
}

/// `phonenumber::parse`, working around its handling of international numbers
/// with a default region: it strips the region's national prefix from them, so
/// `+49 151 23456789` read for US (prefix 1) came out as `+49 51 2345 6789`, and
/// `+39 06…` read for DE (prefix 0) lost Rome's 0. A number written with `+` is
/// therefore read without a region; one dialled with an international prefix
/// (`00 49…`, `011 33…`) is read again as `+` and the digits after that prefix.
fn parse_international_safe(raw: &str, region: Option<Region>) -> Result<PhoneNumber, phonenumber::ParseError> {
    use phonenumber::country::Source;
    let number = phonenumber::parse(region, raw)?;
    if region.is_none() {
        return Ok(number);
    }
    match number.code().source() {
        Source::Plus => Ok(phonenumber::parse(None, raw).unwrap_or(number)),
        Source::Idd => {
            let cc = number.code().value().to_string();
            let digit_ends: Vec<usize> =
                raw.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i + 1).take(5).collect();
            for idd_len in 2..=5 {
                let Some(&end) = digit_ends.get(idd_len - 1) else { break };
                let rest = raw[end..].trim_start_matches(|c: char| !c.is_ascii_digit());
                if !rest.chars().filter(char::is_ascii_digit).take(cc.len()).eq(cc.chars()) {
                    continue;
                }
                if let Ok(n) = phonenumber::parse(None, format!("+{rest}"))
                    && n.is_valid()
                {
                    return Ok(n);
                }
            }
            Ok(number)
        }
        _ => Ok(number),
    }
}

pub(super) fn check_phone(facts: &Facts) -> Check {
    if facts.contact.phone.is_some() {
        return Check::pass(INVALID_PHONE, "valid number");
    }
    let Some(raw) = first_field(facts.fields, PHONE_KEYS) else {
        return Check::pass(INVALID_PHONE, "no phone given");
    };
    let region = phone_region(facts.fields, facts.phone_country);
    match parse_phone(&raw, region) {
        Ok(_) => Check::pass(INVALID_PHONE, "valid number"),
        Err(problem) => Check::fail(INVALID_PHONE, problem.describe(region)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use crate::domain::scrub::*;
    use serde_json::json;

    #[test]
    fn contact_phone_country_resolution() {
        // The lead's own country beats the argument.
        let c = contact(&obj(json!({"phone": "07400 123456", "country": "gb"})), Some("US"));
        assert_eq!(c.phone.as_deref(), Some("+447400123456"));
        // "UK" is read as GB.
        let c = contact(&obj(json!({"phone": "07400 123456", "country": "UK"})), None);
        assert_eq!(c.phone.as_deref(), Some("+447400123456"));
        // An unusable lead country falls back to the argument.
        let c = contact(&obj(json!({"phone": "06 12 34 56 78", "country": "France"})), Some("fr"));
        assert_eq!(c.phone.as_deref(), Some("+33612345678"));
        // No country at all: only international numbers.
        assert_eq!(contact(&obj(json!({"phone": "07400 123456"})), None).phone, None);
        assert_eq!(contact(&obj(json!({"phone": "+44 7400 123456"})), None).phone.as_deref(), Some("+447400123456"));
        // International numbers parse whatever the country.
        let c = contact(&obj(json!({"phone": "+49 151 23456789"})), Some("US"));
        assert_eq!(c.phone.as_deref(), Some("+4915123456789"));
        // 00 prefix from Germany.
        let c = contact(&obj(json!({"phone": "00 44 7400 123456"})), Some("DE"));
        assert_eq!(c.phone.as_deref(), Some("+447400123456"));
        // International numbers whose national part starts with the default region's
        // national prefix keep it (works around the phone crate, see parse_international_safe).
        for (raw, region, e164) in [
            ("+49 151 23456789", "US", "+4915123456789"),
            ("tel:+49-151-23456789", "US", "+4915123456789"),
            ("+33 1 42 68 53 00", "US", "+33142685300"),
            ("+39 06 6982 1234", "DE", "+390669821234"),
            ("011 49 151 23456789", "US", "+4915123456789"),
            ("011 33 1 42 68 53 00", "US", "+33142685300"),
            ("0039 06 6982 1234", "DE", "+390669821234"),
            ("8 10 49 151 23456789", "RU", "+4915123456789"),
            ("0011 49 151 23456789", "AU", "+4915123456789"),
            ("06 6982 1234", "IT", "+390669821234"),
            ("+1 202 555 0143 ext. 12", "DE", "+12025550143"),
        ] {
            let c = contact(&obj(json!({ "phone": raw })), Some(region));
            assert_eq!(c.phone.as_deref(), Some(e164), "{raw} read for {region}");
        }
        assert_eq!(phone_country(&obj(json!({"country": "uk"})), Some("US")).as_deref(), Some("GB"));
        assert_eq!(phone_country(&obj(json!({"country": "ZZ"})), Some("us")).as_deref(), Some("US"));
        assert_eq!(phone_country(&Map::new(), Some("Narnia")), None);
    }

    #[test]
    fn contact_phone_invalid_or_number_typed() {
        assert_eq!(contact(&obj(json!({"phone": "555-0123"})), Some("US")).phone, None);
        assert_eq!(contact(&obj(json!({"phone": "not a phone"})), Some("US")).phone, None);
        // A phone sent as a JSON number.
        let c = contact(&obj(json!({"phone": 12025550143_i64})), Some("US"));
        assert_eq!(c.phone.as_deref(), Some("+12025550143"));
        // Aliases.
        let c = contact(&obj(json!({"mobile": "+7 916 123 45 67", "e_mail": "A@B.CO"})), None);
        assert_eq!(c.phone.as_deref(), Some("+79161234567"));
        assert_eq!(c.email.as_deref(), Some("a@b.co"));
    }

    #[test]
    fn crafted_phone_input_never_panics() {
        for raw in [
            ".;phone-context=",
            "+dwPAA;phone-context=AA",
            "tel:é;phone-context=+é",
            "+\u{1F4A9};phone-context=\u{1F4A9}",
            "++++",
            "+0",
            &"9".repeat(500),
        ] {
            let _ = contact(&obj(json!({ "phone": raw })), Some("US"));
            let _ = mask_phone(raw);
        }
    }

    // ---- invalid_phone ----

    #[test]
    fn invalid_phone_rule() {
        let mut t = bare_terms();
        t.scrub.check_phone = true;
        let ok = |f: Value, c: Option<&'static str>| check(&Lead::new(f, c).eval(&t), INVALID_PHONE).clone();
        assert!(ok(json!({"phone": "+7 916 123-45-67"}), None).passed);
        assert!(ok(json!({"phone": "8 916 123 45 67"}), Some("RU")).passed);
        assert!(ok(json!({"phone": "(202) 555-0143"}), Some("us")).passed);
        assert!(ok(json!({"phone": "98765 43210"}), Some("IN")).passed);
        assert!(ok(json!({"phone": "+1 202 555 0143 ext. 12"}), Some("US")).passed);
        assert_eq!(ok(json!({"name": "x"}), Some("US")).detail, "no phone given");

        let c = ok(json!({"phone": "555-0123"}), Some("US"));
        assert!(!c.passed);
        assert_eq!(c.detail, "not a valid phone number (read for US)");
        let c = ok(json!({"phone": "07400 123456"}), None);
        assert!(!c.passed);
        assert!(c.detail.contains("country is unknown"), "{}", c.detail);
        let c = ok(json!({"phone": "call me maybe"}), Some("US"));
        assert_eq!(c.detail, "the phone is not a number");
        let c = ok(json!({"phone": "+999 1234567"}), Some("US"));
        assert_eq!(c.detail, "the phone's country calling code does not exist");
        let c = ok(json!({"phone": "12345678901234567890"}), Some("US"));
        assert_eq!(c.detail, "the phone number has too many digits");
        let c = ok(json!({"phone": "111-111-1111"}), Some("US"));
        assert!(!c.passed);
        // A GB number is not valid when read as US.
        assert!(!ok(json!({"phone": "07400 123456"}), Some("US")).passed);
        // The lead's own country field is used.
        assert!(ok(json!({"phone": "07400 123456", "country": "GB"}), Some("US")).passed);
    }

    #[test]
    fn invalid_phone_reparses_when_contact_lacks_phone() {
        // The DB layer may hand in a contact without phone; the raw field decides.
        let mut t = bare_terms();
        t.scrub.check_phone = true;
        let mut lead = Lead::new(json!({"phone": "+12025550143"}), None);
        lead.contact.phone = None;
        assert!(check(&lead.eval(&t), INVALID_PHONE).passed);
    }
}
