//! Disposable e-mail domains: the shipped list plus admin additions ([`Domains`])
//! and the `disposable_email` rule.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use super::{Check, DISPOSABLE_EMAIL};

static SHIPPED: LazyLock<HashSet<String>> =
    LazyLock::new(|| include_str!("disposable_domains.txt").lines().filter_map(normalise_domain).collect());

/// One domain from the list file or an admin's entry: comment stripped, trimmed,
/// lower-cased, a leading `@` or `*.` and a trailing dot dropped.
fn normalise_domain(line: &str) -> Option<String> {
    let d = line.split('#').next().unwrap_or_default().trim();
    let d = d.trim_start_matches('@');
    let d = d.strip_prefix("*.").unwrap_or(d).trim_end_matches('.');
    if d.is_empty() || d.contains(char::is_whitespace) || d.contains('@') {
        return None;
    }
    Some(d.to_lowercase())
}

/// A set of disposable e-mail domains: the shipped list plus admin additions.
#[derive(Debug, Clone)]
pub struct Domains {
    set: HashSet<String>,
}

impl Domains {
    /// The list shipped in `disposable_domains.txt` (one domain per line, `#` comments).
    pub fn shipped() -> Domains {
        Domains { set: SHIPPED.clone() }
    }

    /// The shipped list plus `extra` (trimmed and lower-cased; blank entries skipped).
    pub fn with(extra: impl IntoIterator<Item = String>) -> Domains {
        let mut set = SHIPPED.clone();
        set.extend(extra.into_iter().filter_map(|d| normalise_domain(&d)));
        Domains { set }
    }

    /// The list's version as a lead records it: how many domains, and the first 12
    /// hex digits of the SHA-256 of the sorted list (`disposable:4012:3fa9c1d0b2e4`).
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut sorted: Vec<&String> = self.set.iter().collect();
        sorted.sort_unstable();
        let mut h = Sha256::new();
        for d in &sorted {
            h.update(d.as_bytes());
            h.update(b"\n");
        }
        format!("disposable:{}:{}", sorted.len(), &hex::encode(h.finalize())[..12])
    }

    /// Whether `domain` or one of its parent domains is listed
    /// (`mail.mailinator.com` is covered by `mailinator.com`). An address is
    /// accepted too: only what follows its last `@` is looked at.
    pub fn contains(&self, domain: &str) -> bool {
        let d = domain.rsplit('@').next().unwrap_or_default().trim().trim_end_matches('.');
        let lowered: Cow<'_, str> = if d.bytes().any(|b| b.is_ascii_uppercase()) || !d.is_ascii() {
            Cow::Owned(d.to_lowercase())
        } else {
            Cow::Borrowed(d)
        };
        let mut rest: &str = &lowered;
        while !rest.is_empty() {
            if self.set.contains(rest) {
                return true;
            }
            match rest.find('.') {
                Some(i) => rest = &rest[i + 1..],
                None => break,
            }
        }
        false
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

pub(super) fn check_disposable(email: Option<&str>, disposable: &Domains) -> Check {
    let Some(domain) = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d) else {
        return Check::pass(DISPOSABLE_EMAIL, "no e-mail domain");
    };
    if disposable.contains(domain) {
        Check::fail(DISPOSABLE_EMAIL, format!("{} is a disposable-mail domain", domain.trim_end_matches('.')))
    } else {
        Check::pass(DISPOSABLE_EMAIL, "not a disposable-mail domain")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scrub::testing::*;
    use crate::domain::scrub::*;
    use serde_json::json;

    // ---- domains ----

    #[test]
    fn shipped_list_is_big_and_clean() {
        let d = Domains::shipped();
        assert!(d.len() >= 300, "only {} domains", d.len());
        for line in
            include_str!("disposable_domains.txt").lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            assert_eq!(line, line.trim().to_lowercase(), "list line not normalised: {line:?}");
            assert!(email_problem(&format!("x@{line}")).is_none(), "not a domain: {line}");
        }
        for common in [
            "gmail.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com",
            "mail.ru",
            "yandex.ru",
            "icloud.com",
            "proton.me",
            "gmx.de",
            "web.de",
            "qq.com",
            "163.com",
            "fastmail.com",
            "aol.com",
            "example.com",
        ] {
            assert!(!d.contains(common), "{common} must not be listed");
        }
    }

    #[test]
    fn domains_contains_parents_and_case() {
        let d = Domains::shipped();
        for listed in [
            "mailinator.com",
            "guerrillamail.com",
            "guerrillamail.net",
            "10minutemail.com",
            "temp-mail.org",
            "yopmail.com",
            "trashmail.com",
            "trashmail.de",
            "sharklasers.com",
            "getnada.com",
            "maildrop.cc",
            "dispostable.com",
        ] {
            assert!(d.contains(listed), "{listed}");
        }
        assert!(d.contains("mail.mailinator.com"));
        assert!(d.contains("a.b.c.yopmail.com"));
        assert!(d.contains("MAILINATOR.COM"));
        assert!(d.contains("mailinator.com."));
        assert!(d.contains("someone@Mailinator.com"));
        assert!(!d.contains("notmailinator.co"));
        assert!(!d.contains("mymailinator.com"), "a suffix that is not a parent domain");
        assert!(!d.contains("com"));
        assert!(!d.contains(""));
    }

    #[test]
    fn domains_with_extras() {
        let d = Domains::with(vec![
            "  Junk.Example ".to_string(),
            "@spam.test".into(),
            "*.wild.test".into(),
            "".into(),
            "# note".into(),
            "bad domain".into(),
        ]);
        assert!(d.contains("junk.example"));
        assert!(d.contains("x.junk.example"));
        assert!(d.contains("spam.test"));
        assert!(d.contains("a.wild.test"));
        assert!(d.contains("mailinator.com"), "shipped ones stay");
        assert_eq!(d.len(), Domains::shipped().len() + 3);
    }

    // ---- disposable_email ----

    #[test]
    fn disposable_email_rule() {
        let mut t = bare_terms();
        t.scrub.block_disposable = true;
        for e in [
            "bob@mailinator.com",
            "bob@MAIL.Mailinator.com",
            "x@guerrillamail.de",
            "x@yopmail.fr",
            "x@sharklasers.com",
            "y@10minutemail.com",
        ] {
            let v = Lead::new(json!({ "email": e }), None).eval(&t);
            let c = check(&v, DISPOSABLE_EMAIL);
            assert!(!c.passed, "{e}");
            assert!(c.detail.ends_with("is a disposable-mail domain"), "{}", c.detail);
        }
        for e in ["bob@gmail.com", "bob@company.com", "bob@mailinator.company.com", "not an email"] {
            assert!(check(&Lead::new(json!({ "email": e }), None).eval(&t), DISPOSABLE_EMAIL).passed, "{e}");
        }
        assert!(check(&Lead::new(json!({}), None).eval(&t), DISPOSABLE_EMAIL).passed);
        // Admin additions.
        let lead = Lead::new(json!({"email": "bob@burner.example"}), None);
        let extra = Domains::with(["burner.example".to_string()]);
        assert!(!check(&evaluate(&t, &lead.facts(), &extra), DISPOSABLE_EMAIL).passed);
    }
}
