//! Contact normalisation: which lead fields are the e-mail, phone and name, and
//! [`contact`], the normalised values settlement compares and judges.

use std::borrow::Cow;

use phonenumber::Mode;
use serde_json::{Map, Value};

use super::phone::{parse_phone, phone_region};

/// Lead field keys read as the e-mail, first non-blank wins.
pub const EMAIL_KEYS: &[&str] = &["email", "e_mail", "email_address"];
/// Lead field keys read as the phone, first non-blank wins.
pub const PHONE_KEYS: &[&str] = &["phone", "phone_number", "mobile", "tel"];
/// Lead field keys read as the whole name; otherwise `first_name` and `last_name` are joined.
pub const NAME_KEYS: &[&str] = &["name", "full_name"];

/// Contact values of a lead, normalised for comparison (DESIGN §7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// Trimmed, lower-cased and normalised by its provider's rules ([`super::normalise_email`]).
    pub email: Option<String>,
    /// E.164 (`+79161234567`), only when the number is valid.
    pub phone: Option<String>,
    /// Trimmed, inner whitespace collapsed to one space.
    pub name: Option<String>,
}

/// The text of a field value: trimmed non-blank strings, and numbers (a phone
/// sent as a JSON number). Everything else is no text.
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then_some(Cow::Borrowed(t))
        }
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

pub(super) fn field<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<Cow<'a, str>> {
    fields.get(key).and_then(text)
}

pub(super) fn first_field<'a>(fields: &'a Map<String, Value>, keys: &[&str]) -> Option<Cow<'a, str>> {
    keys.iter().find_map(|k| field(fields, k))
}

pub(super) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Normalise a lead's submitted fields (a JSON object of strings; keys like "email",
/// "phone", "name", also "first_name"+"last_name" joined, "country"). `country` is the ISO-2
/// country to parse national phone numbers with: the lead field "country" if valid, else this argument
/// (the click's country), else the first of the offer's allowed countries (the caller passes that).
/// email: trimmed, lower-cased, then normalised by its provider's rules (`j.doe+promo@gmail.com` →
/// `jdoe@gmail.com`, see [`super::normalise_email`]; None when blank). phone: E.164 when it parses as a valid number,
/// otherwise None (the raw text is still judged by the invalid_phone rule). name: trimmed, inner whitespace collapsed.
pub fn contact(fields: &Map<String, Value>, country: Option<&str>) -> Contact {
    let email = first_field(fields, EMAIL_KEYS).map(|e| super::normalise_email(&e));
    let phone = first_field(fields, PHONE_KEYS)
        .and_then(|raw| parse_phone(&raw, phone_region(fields, country)).ok())
        .map(|n| n.format().mode(Mode::E164).to_string());
    Contact { email, phone, name: name_of(fields) }
}

/// The lead's name, normalised (trimmed, inner whitespace collapsed): `name` or
/// `full_name`, else `first_name` and `last_name` joined. Cheap, unlike the phone
/// in [`contact`], for callers that already hold the normalised e-mail and phone.
pub fn name_of(fields: &Map<String, Value>) -> Option<String> {
    match first_field(fields, NAME_KEYS) {
        Some(n) => Some(collapse_whitespace(&n)),
        None => {
            let parts = [field(fields, "first_name"), field(fields, "last_name")];
            let joined = parts.iter().flatten().map(|p| p.as_ref()).collect::<Vec<_>>().join(" ");
            (!joined.is_empty()).then(|| collapse_whitespace(&joined))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use serde_json::json;

    #[test]
    fn contact_normalises_email_phone_name() {
        let f = obj(
            json!({"email": "  John.Doe+Promo@GMail.COM ", "phone": "8 (916) 123-45-67", "name": "  John \t  Ronald\n Doe "}),
        );
        let c = contact(&f, Some("RU"));
        assert_eq!(c.email.as_deref(), Some("johndoe@gmail.com"));
        assert_eq!(c.phone.as_deref(), Some("+79161234567"));
        assert_eq!(c.name.as_deref(), Some("John Ronald Doe"));
    }

    #[test]
    fn contact_email_of_another_domain_keeps_dots_and_tags() {
        let c = contact(&obj(json!({"e_mail": " John.Doe+Promo@Example.COM "})), None);
        assert_eq!(c.email.as_deref(), Some("john.doe+promo@example.com"));
    }

    #[test]
    fn contact_blank_values_are_none() {
        let c = contact(&obj(json!({"email": "   ", "phone": "", "name": " \t "})), Some("US"));
        assert_eq!(c, Contact::default());
        assert_eq!(contact(&Map::new(), None), Contact::default());
    }

    #[test]
    fn contact_joins_first_and_last_name() {
        let c = contact(&obj(json!({"first_name": " Anne-Marie ", "last_name": "  de  la Cruz"})), None);
        assert_eq!(c.name.as_deref(), Some("Anne-Marie de la Cruz"));
        let c = contact(&obj(json!({"first_name": "Cher"})), None);
        assert_eq!(c.name.as_deref(), Some("Cher"));
        let c = contact(&obj(json!({"last_name": "Smith", "first_name": ""})), None);
        assert_eq!(c.name.as_deref(), Some("Smith"));
        // "name" wins over the parts.
        let c = contact(&obj(json!({"name": "Full Name", "first_name": "A", "last_name": "B"})), None);
        assert_eq!(c.name.as_deref(), Some("Full Name"));
    }
}
