//! E-mail syntax: [`email_problem`] and the `invalid_email` rule.

use super::{Check, INVALID_EMAIL};

pub(super) fn check_email(email: Option<&str>) -> Check {
    match email {
        None => Check::pass(INVALID_EMAIL, "no e-mail given"),
        Some(e) => match email_problem(e) {
            Some(why) => Check::fail(INVALID_EMAIL, why),
            None => Check::pass(INVALID_EMAIL, "well-formed address"),
        },
    }
}

/// Characters allowed in the local part besides ASCII letters and digits (RFC 5322
/// `atext` and the dot). Quoted local parts are refused: no lead form needs them.
const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";

/// Why `e` is not a syntactically valid address, or `None`. Non-ASCII letters are
/// allowed on both sides (internationalised addresses and IDN domains), as are
/// punycode labels (`xn--…`) and `+tags`.
pub fn email_problem(e: &str) -> Option<&'static str> {
    if e.is_empty() {
        return Some("the e-mail is empty");
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the e-mail contains spaces");
    }
    if e.len() > 254 {
        return Some("the e-mail is longer than 254 characters");
    }
    let Some((local, domain)) = e.split_once('@') else {
        return Some("the e-mail has no @");
    };
    if domain.contains('@') {
        return Some("the e-mail has more than one @");
    }
    if local.is_empty() {
        return Some("nothing before the @");
    }
    if local.len() > 64 {
        return Some("the part before the @ is longer than 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("misplaced dot before the @");
    }
    if !local.chars().all(|c| c.is_ascii_alphanumeric() || LOCAL_SPECIALS.contains(c) || !c.is_ascii()) {
        return Some("a character before the @ is not allowed");
    }
    if domain.is_empty() {
        return Some("nothing after the @");
    }
    if domain.ends_with('.') {
        return Some("the domain ends with a dot");
    }
    if domain.starts_with('.') || domain.contains("..") {
        return Some("misplaced dot in the domain");
    }
    if !domain.contains('.') {
        return Some("the domain has no dot");
    }
    if domain.len() > 253 {
        return Some("the domain is longer than 253 characters");
    }
    let mut labels = domain.split('.').peekable();
    while let Some(label) = labels.next() {
        if label.len() > 63 {
            return Some("a domain label is longer than 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("a domain label starts or ends with a hyphen");
        }
        let ok_char = |c: char| {
            c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && !matches!(c, '。' | '．' | '｡' | '＠'))
        };
        if !label.chars().all(ok_char) {
            return Some("a character of the domain is not allowed");
        }
        if labels.peek().is_none() {
            let punycode = label.len() >= 5
                && label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let letters = label.chars().count() >= 2 && label.chars().all(char::is_alphabetic);
            if !punycode && !letters {
                return Some("the top-level domain must be at least two letters");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use serde_json::json;

    // ---- invalid_email ----

    #[test]
    fn valid_emails() {
        for e in [
            "a@b.co",
            "john.doe@example.com",
            "john.doe+promo@gmail.com",
            "x_y-z@sub.domain.example.org",
            "o'brien@example.ie",
            "user@xn--80ak6aa92e.com",
            "user@example.xn--p1ai",
            "пользователь@пример.рф",
            "josé@bücher.de",
            "1234567890@123.example.com",
            "a!#$%&'*+/=?^_`{|}~-@example.com",
            "user@my-domain.co.uk",
        ] {
            assert_eq!(email_problem(e), None, "{e}");
        }
        let local = "a".repeat(64);
        assert_eq!(email_problem(&format!("{local}@example.com")), None);
    }

    #[test]
    fn invalid_emails() {
        for (e, why) in [
            ("", "empty"),
            ("plainaddress", "no @"),
            ("a@b", "no dot"),
            ("a@b.", "ends with a dot"),
            ("john@example.com.", "ends with a dot"),
            ("john@example..com", "misplaced dot"),
            ("john@.example.com", "misplaced dot"),
            ("john..doe@example.com", "misplaced dot"),
            (".john@example.com", "misplaced dot"),
            ("john.@example.com", "misplaced dot"),
            ("john@@example.com", "more than one @"),
            ("a@b@example.com", "more than one @"),
            ("john doe@example.com", "spaces"),
            ("john@exa mple.com", "spaces"),
            ("@example.com", "nothing before"),
            ("john@", "nothing after"),
            ("john@example.c", "top-level"),
            ("john@example.123", "top-level"),
            ("john@1.2.3.4", "top-level"),
            ("john@[1.2.3.4]", "not allowed"),
            ("john@-example.com", "hyphen"),
            ("john@example-.com", "hyphen"),
            ("john@exam_ple.com", "not allowed"),
            ("\"john\"@example.com", "not allowed"),
            ("john(comment)@example.com", "not allowed"),
            ("john@example。co.uk", "not allowed"),
        ] {
            let got = email_problem(e);
            assert!(got.is_some_and(|g| g.contains(why)), "{e:?}: expected {why:?}, got {got:?}");
        }
        let long_local = "a".repeat(65);
        assert!(email_problem(&format!("{long_local}@example.com")).is_some_and(|g| g.contains("64")));
        let long_label = "a".repeat(64);
        assert!(email_problem(&format!("a@{long_label}.com")).is_some_and(|g| g.contains("63")));
        let long = format!("a@{}.com", ["abcdefghij"; 25].join("."));
        assert!(long.len() > 254);
        assert!(email_problem(&long).is_some_and(|g| g.contains("254")));
    }

    #[test]
    fn invalid_email_rule() {
        let mut t = bare_terms();
        t.scrub.check_email = true;
        // Upper case is normalised away by `contact`.
        let v = Lead::new(json!({"email": "  JOHN.DOE@EXAMPLE.COM "}), None).eval(&t);
        assert!(check(&v, INVALID_EMAIL).passed);
        let v = Lead::new(json!({"email": "john@example"}), None).eval(&t);
        let c = check(&v, INVALID_EMAIL);
        assert!(!c.passed);
        assert_eq!(c.detail, "the domain has no dot");
        assert!(!c.detail.contains("john"), "no personal data in details");
        assert_eq!(v.failed_codes(), vec![INVALID_EMAIL.to_string()]);
        // No e-mail: the rule passes (missing_field judges absence).
        let v = Lead::new(json!({"phone": "+12025550143"}), None).eval(&t);
        assert_eq!(check(&v, INVALID_EMAIL).detail, "no e-mail given");
        assert!(v.approved);
        // Switched off: not listed.
        assert!(
            Lead::new(json!({"email": "x"}), None).eval(&bare_terms()).checks.iter().all(|c| c.code != INVALID_EMAIL)
        );
    }
}
