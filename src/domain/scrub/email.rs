//! E-mail addresses: syntax ([`email_problem`] and the `invalid_email` rule) and
//! the provider-aware normalisation `duplicate_contact` compares ([`normalise_email`],
//! [`PROVIDERS`]).

use super::{Check, INVALID_EMAIL};

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

/// A mail provider that delivers several spellings of an address to one mailbox,
/// by its own documentation. `duplicate_contact` compares such addresses in one
/// form (DESIGN §7); every other domain's addresses are only trimmed and lower-cased,
/// since a `+tag` or a dot may name another mailbox there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// The provider's name, as a detail names it.
    pub name: &'static str,
    /// The domains it serves.
    pub domains: &'static [&'static str],
    /// `Some(d)`: every one of `domains` reaches the same mailbox, compared at `d`;
    /// `None`: each domain is its own (the same login on two of them may be two people).
    pub one_mailbox: Option<&'static str>,
    /// Dots in the part before the `@` are ignored (`j.doe` is `jdoe`).
    pub ignore_dots: bool,
    /// A hyphen and a dot in the login are the same character (compared as `.`).
    pub hyphen_is_dot: bool,
    /// A `+tag` after the login is ignored (`jdoe+promo` is `jdoe`).
    pub plus_tags: bool,
    /// What the rules come down to, in words for a detail.
    pub rule: &'static str,
    /// Where the provider documents them.
    pub source: &'static str,
}

/// The providers whose addresses are normalised, each from its documented rules.
pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "Gmail",
        domains: &["gmail.com", "googlemail.com"],
        one_mailbox: Some("gmail.com"),
        ignore_dots: true,
        hyphen_is_dot: false,
        plus_tags: true,
        rule: "dots and +tags do not count",
        source: "Gmail Help: \"Dots don't matter in Gmail addresses\" (answer 7436150), \
                 +aliases (answer 12096); googlemail.com is the same service as gmail.com",
    },
    Provider {
        name: "Yandex Mail",
        domains: &["yandex.ru", "yandex.com", "yandex.by", "yandex.kz", "ya.ru"],
        one_mailbox: Some("yandex.ru"),
        ignore_dots: false,
        hyphen_is_dot: true,
        plus_tags: true,
        rule: "its domains are one mailbox, a hyphen is a dot and +tags do not count",
        source: "Yandex ID Help \"Account registration\": the login john.2009 is the same as john-2009; \
                 \"Alternate email addresses\" and Mail for domain \"Mailbox aliases\": every mailbox has \
                 its login on each Yandex Mail domain; Yandex Mail takes login+tag addresses",
    },
    Provider {
        name: "iCloud Mail",
        domains: &["icloud.com", "me.com", "mac.com"],
        one_mailbox: Some("icloud.com"),
        ignore_dots: false,
        hyphen_is_dot: false,
        plus_tags: true,
        rule: "me.com and mac.com are icloud.com and +tags do not count",
        source: "Apple Support 118230 \"About your @icloud.com, @me.com, and @mac.com email addresses\": \
                 who has a me.com or mac.com address has the same one at icloud.com; iCloud Mail \
                 delivers login+tag to the login",
    },
    Provider {
        name: "Outlook.com",
        domains: &[
            "outlook.com",
            "hotmail.com",
            "live.com",
            "msn.com",
            "outlook.fr",
            "outlook.de",
            "outlook.es",
            "outlook.it",
            "hotmail.co.uk",
            "hotmail.fr",
            "hotmail.de",
            "hotmail.es",
            "hotmail.it",
            "live.co.uk",
            "live.fr",
            "live.de",
            "live.it",
        ],
        one_mailbox: None,
        ignore_dots: false,
        hyphen_is_dot: false,
        plus_tags: true,
        rule: "+tags do not count",
        source: "Microsoft: plus addressing in Outlook.com and Exchange Online (login+tag@…)",
    },
    Provider {
        name: "Proton Mail",
        domains: &["proton.me", "protonmail.com", "pm.me", "protonmail.ch"],
        one_mailbox: None,
        ignore_dots: false,
        hyphen_is_dot: false,
        plus_tags: true,
        rule: "+tags do not count",
        source: "Proton Support \"Types of email addresses and aliases\": unlimited +aliases",
    },
    Provider {
        name: "Fastmail",
        domains: &["fastmail.com", "fastmail.fm"],
        one_mailbox: None,
        ignore_dots: false,
        hyphen_is_dot: false,
        plus_tags: true,
        rule: "+tags do not count",
        source: "Fastmail Help \"Plus addressing and subdomain addressing\"",
    },
];

/// The provider serving `domain` (lower case), if its addresses are normalised.
pub fn provider(domain: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.domains.contains(&domain))
}

/// An address as `duplicate_contact` compares it (DESIGN §7): trimmed and
/// lower-cased, then by its provider's rules ([`PROVIDERS`]): `J.Doe+promo@GoogleMail.com`
/// → `jdoe@gmail.com`, `john-doe+x@ya.ru` → `john.doe@yandex.ru`. An address of
/// another domain, or one that is not `local@domain`, is only trimmed and lower-cased;
/// a rule that would leave nothing before the `@` (`+tag@gmail.com`) is not applied.
pub fn normalise_email(raw: &str) -> String {
    let e = raw.trim().to_lowercase();
    let Some((local, domain)) = e.split_once('@').filter(|(_, d)| !d.contains('@')) else {
        return e;
    };
    let Some(p) = provider(domain) else {
        return e;
    };
    let mut login = local;
    if p.plus_tags
        && let Some((head, _tag)) = login.split_once('+')
        && !head.is_empty()
    {
        login = head;
    }
    let mut login = login.to_string();
    if p.ignore_dots && login.chars().any(|c| c != '.') {
        login.retain(|c| c != '.');
    }
    if p.hyphen_is_dot {
        login = login.replace('-', ".");
    }
    format!("{login}@{}", p.one_mailbox.unwrap_or(domain))
}

/// How `raw` compares when normalisation did more than trim and lower-case it:
/// `(raw trimmed and lower-cased, compared form, provider)`; `None` otherwise.
pub fn normalised_by_provider(raw: &str, compared: &str) -> Option<(String, &'static Provider)> {
    let plain = raw.trim().to_lowercase();
    if plain == compared {
        return None;
    }
    let domain = plain.rsplit_once('@').map(|(_, d)| d)?;
    provider(domain).map(|p| (plain.clone(), p))
}

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

    // ---- normalisation ----

    #[test]
    fn gmail_ignores_dots_tags_and_googlemail() {
        for e in [
            "jdoe@gmail.com",
            "j.doe@gmail.com",
            " J.Doe+Promo@GMail.com ",
            "j.d.o.e+a+b@googlemail.com",
            "JDOE@GOOGLEMAIL.COM",
        ] {
            assert_eq!(normalise_email(e), "jdoe@gmail.com", "{e}");
        }
        assert_eq!(normalise_email("+tag@gmail.com"), "+tag@gmail.com", "nothing would be left");
        assert_eq!(normalise_email("jane-doe@gmail.com"), "jane-doe@gmail.com", "a hyphen counts at Gmail");
    }

    #[test]
    fn yandex_domains_are_one_mailbox_and_a_hyphen_is_a_dot() {
        for e in [
            "john.doe@yandex.ru",
            "john-doe@yandex.ru",
            "John.Doe+shop@Yandex.com",
            "john-doe@ya.ru",
            "john.doe@yandex.by",
            "john.doe+x@yandex.kz",
        ] {
            assert_eq!(normalise_email(e), "john.doe@yandex.ru", "{e}");
        }
        assert_eq!(normalise_email("johndoe@yandex.ru"), "johndoe@yandex.ru", "dots count at Yandex");
        // Not among the documented Yandex Mail domains: left alone.
        assert_eq!(normalise_email("john-doe+x@yandex.ua"), "john-doe+x@yandex.ua");
    }

    #[test]
    fn icloud_domains_are_one_mailbox_and_tags_go() {
        for e in ["j.appleseed@icloud.com", "J.Appleseed+news@me.com", "j.appleseed@mac.com"] {
            assert_eq!(normalise_email(e), "j.appleseed@icloud.com", "{e}");
        }
    }

    #[test]
    fn outlook_proton_fastmail_drop_tags_only() {
        for (e, want) in [
            ("Jane.Roe+promo@Outlook.com", "jane.roe@outlook.com"),
            ("jane.roe+x@hotmail.com", "jane.roe@hotmail.com"),
            ("jane.roe+x@live.com", "jane.roe@live.com"),
            ("jane.roe+x@hotmail.co.uk", "jane.roe@hotmail.co.uk"),
            ("jane.roe+news@proton.me", "jane.roe@proton.me"),
            ("jane.roe+news@protonmail.com", "jane.roe@protonmail.com"),
            ("jane.roe+news@pm.me", "jane.roe@pm.me"),
            ("jane.roe+news@protonmail.ch", "jane.roe@protonmail.ch"),
            ("jane.roe+news@fastmail.com", "jane.roe@fastmail.com"),
            ("jane.roe+news@fastmail.fm", "jane.roe@fastmail.fm"),
        ] {
            assert_eq!(normalise_email(e), want, "{e}");
        }
        // Each of these domains is its own mailbox.
        assert_ne!(normalise_email("jane@hotmail.com"), normalise_email("jane@outlook.com"));
        assert_ne!(normalise_email("jane@pm.me"), normalise_email("jane@proton.me"));
    }

    #[test]
    fn other_domains_are_only_trimmed_and_lower_cased() {
        for (e, want) in [
            ("  J.Doe+Promo@Example.COM ", "j.doe+promo@example.com"),
            ("john-doe@mail.ru", "john-doe@mail.ru"),
            ("j.doe+x@gmail.com.evil.example", "j.doe+x@gmail.com.evil.example"),
            ("j.doe+x@sub.gmail.com", "j.doe+x@sub.gmail.com"),
            ("not an email", "not an email"),
            ("a@b@gmail.com", "a@b@gmail.com"),
        ] {
            assert_eq!(normalise_email(e), want, "{e}");
        }
    }

    #[test]
    fn provider_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for p in PROVIDERS {
            assert!(!p.domains.is_empty() && !p.rule.is_empty() && !p.source.is_empty(), "{}", p.name);
            if let Some(home) = p.one_mailbox {
                assert!(p.domains.contains(&home), "{}", p.name);
            }
            for d in p.domains {
                assert!(seen.insert(*d), "{d} listed twice");
                assert_eq!(*d, d.to_lowercase());
                assert!(email_problem(&format!("x@{d}")).is_none(), "{d}");
                assert_eq!(provider(d).map(|q| q.name), Some(p.name));
            }
        }
        assert_eq!(provider("example.com"), None);
    }

    #[test]
    fn normalised_by_provider_only_when_more_than_case() {
        let n = |raw: &str| normalised_by_provider(raw, &normalise_email(raw)).map(|(plain, p)| (plain, p.name));
        assert_eq!(n(" J.Doe@Gmail.com"), Some(("j.doe@gmail.com".to_string(), "Gmail")));
        assert_eq!(n("JDoe@Gmail.com"), None);
        assert_eq!(n("J.Doe+x@Example.com"), None);
        assert_eq!(n("jane@me.com"), Some(("jane@me.com".to_string(), "iCloud Mail")));
    }

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
