//! Masking of a lead's personal data for publishers (DESIGN §3): e-mail, phone,
//! name and every other field of the lead.

use std::panic::catch_unwind;

use serde_json::{Map, Value};

use super::phone::MAX_PHONE_LEN;

fn first_char_and(s: &str, tail: &str) -> String {
    match s.chars().next() {
        Some(c) => {
            let mut out = String::with_capacity(c.len_utf8() + tail.len());
            out.push(c);
            out.push_str(tail);
            out
        }
        None => String::new(),
    }
}

/// First character, then one `*` for each other character.
fn star_tail(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    if let Some(c) = chars.next() {
        out.push(c);
        out.extend(chars.map(|_| '*'));
    }
    out
}

/// `john.doe@example.com` → `j***@e******.com`: the first character of the
/// address, the first of the domain, and the top-level domain stay.
pub fn mask_email(s: &str) -> String {
    let e = s.trim().to_lowercase();
    match e.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let mut out = first_char_and(local, "***@");
            match domain.rsplit_once('.') {
                Some((head, tld)) if !head.is_empty() => {
                    out.push_str(&star_tail(head));
                    out.push('.');
                    out.push_str(tld);
                }
                _ => out.push_str(&first_char_and(domain, "***")),
            }
            out
        }
        _ => first_char_and(&e, "***"),
    }
}

/// Groups of stars for `hidden` digits: threes, never a group of one
/// (8 → `*** *** **`, 7 → `*** ** **`).
fn star_groups(hidden: usize) -> Vec<usize> {
    let mut groups = vec![3; hidden / 3];
    match hidden % 3 {
        0 => {}
        2 => groups.push(2),
        _ if groups.is_empty() => groups.push(1),
        _ => {
            // …3 + 1 → …2 + 2
            if let Some(last) = groups.last_mut() {
                *last = 2;
            }
            groups.push(2);
        }
    }
    groups
}

/// `+79161234589` (or `+7 916 123-45-89`) → `+7 *** *** ** 89`: the country
/// calling code and the last two digits stay. A number without `+` keeps only
/// its last two digits; fewer than five digits are all hidden.
pub fn mask_phone(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        return String::new();
    }
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
    if digits.len() < 5 {
        return "***".into();
    }
    let code = if s.starts_with('+') && s.len() <= MAX_PHONE_LEN {
        catch_unwind(|| phonenumber::parse(None, s)).ok().and_then(Result::ok).map(|n| n.code().value().to_string())
    } else {
        None
    };
    let national = match &code {
        Some(c) if digits.starts_with(c.as_bytes()) && digits.len() >= c.len() + 3 => &digits[c.len()..],
        _ => &digits[..],
    };
    let mut out = String::new();
    if let Some(c) = &code {
        out.push('+');
        out.push_str(c);
        out.push(' ');
    }
    for g in star_groups(national.len() - 2) {
        out.extend(std::iter::repeat_n('*', g));
        out.push(' ');
    }
    out.extend(national[national.len() - 2..].iter().map(|&b| char::from(b)));
    out
}

/// `John Doe` → `J*** D**`: the first letter of each word stays.
pub fn mask_name(s: &str) -> String {
    s.split_whitespace().map(star_tail).collect::<Vec<_>>().join(" ")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Email,
    Phone,
    Name,
    Country,
    Zip,
    Other,
}

fn field_kind(key: &str) -> FieldKind {
    let k = key.trim().to_ascii_lowercase();
    if k.contains("email") || k.contains("e_mail") || k.contains("e-mail") {
        FieldKind::Email
    } else if k.contains("phone")
        || k.contains("mobile")
        || k.contains("whatsapp")
        || matches!(k.as_str(), "tel" | "telephone" | "fax" | "cell")
    {
        FieldKind::Phone
    } else if k.ends_with("name") {
        FieldKind::Name
    } else if k == "country" {
        FieldKind::Country
    } else if matches!(
        k.as_str(),
        "zip" | "zipcode" | "zip_code" | "postcode" | "post_code" | "postal_code" | "postalcode"
    ) {
        FieldKind::Zip
    } else {
        FieldKind::Other
    }
}

fn mask_text(kind: FieldKind, s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        return String::new();
    }
    match kind {
        FieldKind::Email => mask_email(t),
        FieldKind::Phone => mask_phone(t),
        FieldKind::Name => mask_name(t),
        FieldKind::Country => t.to_string(),
        FieldKind::Zip => {
            let mut out: String = t.chars().take(2).collect();
            out.push_str("***");
            out
        }
        FieldKind::Other => first_char_and(t, "***"),
    }
}

/// Mask every field of a lead for a publisher: e-mail, phone and name-like keys
/// with the functions above; `country` kept; zip/postcode to its first two
/// characters + `***`; any other text or number to its first character + `***`.
/// Booleans (consents) and nulls are kept; lists and objects become `***`.
pub fn mask_fields(fields: &Map<String, Value>) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| {
            let kind = field_kind(k);
            let masked = match v {
                Value::Null | Value::Bool(_) => v.clone(),
                Value::String(s) => Value::String(mask_text(kind, s)),
                Value::Number(n) => Value::String(mask_text(kind, &n.to_string())),
                Value::Array(_) | Value::Object(_) => Value::String("***".into()),
            };
            (k.clone(), masked)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use serde_json::json;

    // ---- masking ----

    #[test]
    fn mask_email_examples() {
        assert_eq!(mask_email("john@example.com"), "j***@e******.com");
        assert_eq!(mask_email(" John.Doe@Example.COM "), "j***@e******.com");
        assert_eq!(mask_email("a@b.co"), "a***@b.co");
        assert_eq!(mask_email("x@mail.example.co.uk"), "x***@m**************.uk");
        assert_eq!(mask_email("иван@пример.рф"), "и***@п*****.рф");
        assert_eq!(mask_email("nodomain"), "n***");
        assert_eq!(mask_email("x@localhost"), "x***@l***");
        assert_eq!(mask_email(""), "");
        assert!(!mask_email("secret.person@example.com").contains("secret"));
    }

    #[test]
    fn mask_phone_examples() {
        assert_eq!(mask_phone("+79161234589"), "+7 *** *** ** 89");
        assert_eq!(mask_phone("+7 (916) 123-45-89"), "+7 *** *** ** 89");
        assert_eq!(mask_phone("+12025550143"), "+1 *** *** ** 43");
        assert_eq!(mask_phone("+447400123456"), "+44 *** *** ** 56");
        assert_eq!(mask_phone("+4915123456789"), "+49 *** *** *** 89");
        assert_eq!(mask_phone("+37121234567"), "+371 *** *** 67");
        assert_eq!(mask_phone("8 916 123 45 89"), "*** *** *** 89");
        assert_eq!(mask_phone("555-0123"), "*** ** 23");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_phone("call me"), "***");
        assert_eq!(mask_phone(""), "");
        assert_eq!(star_groups(7), vec![3, 2, 2]);
        assert_eq!(star_groups(4), vec![2, 2]);
        assert_eq!(star_groups(1), vec![1]);
        assert_eq!(star_groups(0), Vec::<usize>::new());
    }

    #[test]
    fn mask_name_examples() {
        assert_eq!(mask_name("John Doe"), "J*** D**");
        assert_eq!(mask_name("  José   Ñúñez "), "J*** Ñ****");
        assert_eq!(mask_name("Anne-Marie"), "A*********");
        assert_eq!(mask_name("李小龍"), "李**");
        assert_eq!(mask_name("J."), "J*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn mask_fields_masks_everything_personal() {
        let f = obj(json!({
            "email": "john@example.com",
            "work_email": "j.doe@corp.example",
            "phone": "+79161234589",
            "mobile_phone": 79161234589_i64,
            "name": "John Doe",
            "first_name": "John",
            "last_name": "Doe",
            "country": "US",
            "zip": "10001",
            "postal_code": "SW1A 1AA",
            "city": "New York",
            "address": "1 Main St",
            "age": 42,
            "consent": true,
            "note": null,
            "tags": ["a"],
            "empty": "",
        }));
        let m = mask_fields(&f);
        assert_eq!(m.len(), f.len());
        assert_eq!(m["email"], "j***@e******.com");
        assert_eq!(m["work_email"], "j***@c***.example");
        assert_eq!(m["phone"], "+7 *** *** ** 89");
        assert_eq!(m["mobile_phone"], "*** *** *** 89");
        assert_eq!(m["name"], "J*** D**");
        assert_eq!(m["first_name"], "J***");
        assert_eq!(m["last_name"], "D**");
        assert_eq!(m["country"], "US");
        assert_eq!(m["zip"], "10***");
        assert_eq!(m["postal_code"], "SW***");
        assert_eq!(m["city"], "N***");
        assert_eq!(m["address"], "1***");
        assert_eq!(m["age"], "4***");
        assert_eq!(m["consent"], true);
        assert_eq!(m["note"], Value::Null);
        assert_eq!(m["tags"], "***");
        assert_eq!(m["empty"], "");
        let all = serde_json::to_string(&m).unwrap_or_default();
        for secret in ["john", "example.com", "1234", "Main", "York", "SW1A"] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
    }
}
