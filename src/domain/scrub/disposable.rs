//! Disposable e-mail domains: the shipped list plus admin additions ([`Domains`])
//! and the `disposable_email` rule.
//!
//! The shipped list is built once per process from the files of `disposable/`
//! (see its README): `domains.txt`, vendored from the `disposable-email-domains`
//! package by `scripts/refresh-disposable-domains.sh`, and our own `local.txt`.
//! A [`Domains`] borrows it and holds only the admins' additions, so making one
//! (every settlement run, every lead page, every test) copies nothing big.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{LazyLock, OnceLock};

use sha2::{Digest, Sha256};

use super::{Check, DISPOSABLE_EMAIL};

/// The vendored list (about 120,000 domains, normalised by the refresh script).
const VENDORED: &str = include_str!("disposable/domains.txt");
/// Our additions (`domain`) and exceptions (`=domain`), see `disposable/local.txt`.
const LOCAL: &str = include_str!("disposable/local.txt");

/// The shipped list, built on first use.
struct Shipped {
    /// Every shipped domain; a domain covers its subdomains unless in `exact_only`.
    set: HashSet<&'static str>,
    /// `=domain` lines of `local.txt`: listed, but never as the parent of another domain.
    exact_only: HashSet<&'static str>,
    /// The shipped domains, sorted (for [`Domains::version`]).
    sorted: Vec<&'static str>,
    /// [`Domains::version`] of the shipped list alone.
    version: String,
}

static SHIPPED: LazyLock<Shipped> = LazyLock::new(|| {
    let mut set: HashSet<&'static str> = HashSet::with_capacity(VENDORED.len() / 18);
    let mut exact_only = HashSet::new();
    for line in VENDORED.lines().chain(LOCAL.lines()) {
        let exact = line.trim_start().starts_with('=');
        let Some(d) = clean(line.trim_start().trim_start_matches('=')) else { continue };
        set.insert(d);
        if exact {
            exact_only.insert(d);
        }
    }
    let mut sorted: Vec<&'static str> = set.iter().copied().collect();
    sorted.sort_unstable();
    let version = version_of(sorted.len(), sorted.iter().copied());
    Shipped { set, exact_only, sorted, version }
});

/// A line of a shipped file as a domain, borrowed: comment stripped, trimmed; `None`
/// for blank lines and for lines that are not already lower case (the refresh script
/// writes them so; a test checks every line).
fn clean(line: &'static str) -> Option<&'static str> {
    let d = line.split('#').next().unwrap_or_default().trim();
    (!d.is_empty() && !d.contains(char::is_whitespace) && !d.contains('@') && d == d.to_lowercase()).then_some(d)
}

/// One domain from an admin's entry: comment stripped, trimmed, lower-cased, a
/// leading `@` or `*.` and a trailing dot dropped.
fn normalise_domain(line: &str) -> Option<String> {
    let d = line.split('#').next().unwrap_or_default().trim();
    let d = d.trim_start_matches('@');
    let d = d.strip_prefix("*.").unwrap_or(d).trim_end_matches('.');
    if d.is_empty() || d.contains(char::is_whitespace) || d.contains('@') {
        return None;
    }
    Some(d.to_lowercase())
}

/// `disposable:<count>:<first 12 hex digits of the SHA-256 of the sorted list>`.
fn version_of<'a>(count: usize, sorted: impl Iterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for d in sorted {
        h.update(d.as_bytes());
        h.update(b"\n");
    }
    format!("disposable:{count}:{}", &hex::encode(h.finalize())[..12])
}

/// A set of disposable e-mail domains: the shipped list plus admin additions.
/// Cheap to make and to clone: the shipped list is shared, only the additions are held.
#[derive(Debug, Clone)]
pub struct Domains {
    shipped: &'static Shipped,
    /// Admin additions not already shipped.
    extra: HashSet<String>,
    version: OnceLock<String>,
}

impl std::fmt::Debug for Shipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shipped({} domains)", self.set.len())
    }
}

impl Domains {
    /// The shipped list: `disposable/domains.txt` and `disposable/local.txt`.
    pub fn shipped() -> Domains {
        Domains { shipped: &SHIPPED, extra: HashSet::new(), version: OnceLock::new() }
    }

    /// The shipped list plus `extra` (trimmed and lower-cased; blank entries skipped).
    /// An addition covers its subdomains like a shipped domain.
    pub fn with(extra: impl IntoIterator<Item = String>) -> Domains {
        let shipped: &'static Shipped = &SHIPPED;
        let extra = extra
            .into_iter()
            .filter_map(|d| normalise_domain(&d))
            .filter(|d| !shipped.set.contains(d.as_str()))
            .collect();
        Domains { shipped, extra, version: OnceLock::new() }
    }

    /// The list's version as a lead records it: how many domains, and the first 12
    /// hex digits of the SHA-256 of the sorted list, one domain and a newline each
    /// (`disposable:4012:3fa9c1d0b2e4`). Worked out once per [`Domains`].
    pub fn version(&self) -> String {
        self.version
            .get_or_init(|| {
                if self.extra.is_empty() {
                    return self.shipped.version.clone();
                }
                let mut extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
                extra.sort_unstable();
                version_of(self.len(), Merged { a: &self.shipped.sorted, b: &extra })
            })
            .clone()
    }

    /// Whether `domain` or one of its parent domains is listed
    /// (`mail.mailinator.com` is covered by `mailinator.com`), case aside. An address
    /// is accepted too: only what follows its last `@` is looked at. A `=domain` of
    /// `local.txt` covers only itself.
    pub fn contains(&self, domain: &str) -> bool {
        let d = domain.rsplit('@').next().unwrap_or_default().trim().trim_end_matches('.');
        let lowered: Cow<'_, str> = if d.bytes().any(|b| b.is_ascii_uppercase()) || !d.is_ascii() {
            Cow::Owned(d.to_lowercase())
        } else {
            Cow::Borrowed(d)
        };
        let mut rest: &str = &lowered;
        let mut itself = true;
        while !rest.is_empty() {
            if self.shipped.set.contains(rest) && (itself || !self.shipped.exact_only.contains(rest)) {
                return true;
            }
            if self.extra.contains(rest) {
                return true;
            }
            match rest.find('.') {
                Some(i) => rest = &rest[i + 1..],
                None => break,
            }
            itself = false;
        }
        false
    }

    /// How many domains: shipped and added.
    pub fn len(&self) -> usize {
        self.shipped.set.len() + self.extra.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Two sorted, disjoint lists as one sorted sequence.
struct Merged<'a> {
    a: &'a [&'static str],
    b: &'a [&'a str],
}

impl<'a> Iterator for Merged<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let from_a = match (self.a.first(), self.b.first()) {
            (Some(x), Some(y)) => x <= y,
            (x, _) => x.is_some(),
        };
        if from_a {
            let (x, rest) = self.a.split_first()?;
            self.a = rest;
            Some(x)
        } else {
            let (y, rest) = self.b.split_first()?;
            self.b = rest;
            Some(y)
        }
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
        assert!(d.len() >= 100_000, "only {} domains", d.len());
        let lines = |text: &'static str| {
            text.lines().map(|l| l.split('#').next().unwrap_or_default().trim()).filter(|l| !l.is_empty())
        };
        for line in lines(VENDORED).chain(lines(LOCAL).map(|l| l.trim_start_matches('='))) {
            assert_eq!(line, line.to_lowercase(), "list line not lower case: {line:?}");
            assert!(email_problem(&format!("x@{line}")).is_none(), "not a domain: {line}");
        }
        assert_eq!(
            d.len(),
            lines(VENDORED).chain(lines(LOCAL)).map(|l| l.trim_start_matches('=')).collect::<HashSet<_>>().len()
        );
        for common in [
            "gmail.com",
            "googlemail.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com",
            "live.com",
            "mail.ru",
            "bk.ru",
            "yandex.ru",
            "ya.ru",
            "icloud.com",
            "me.com",
            "proton.me",
            "protonmail.com",
            "gmx.de",
            "gmx.net",
            "web.de",
            "t-online.de",
            "orange.fr",
            "qq.com",
            "163.com",
            "naver.com",
            "fastmail.com",
            "aol.com",
            "example.com",
            "uw.edu.pl",
            "student.uw.edu.pl",
            "someone.za.com",
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
            // local.txt, not in the vendored list
            "tempmail.com",
            "throwaway.email",
            "mail.tm",
            // exact-only: the bare domain is still blocked
            "edu.pl",
        ] {
            assert!(d.contains(listed), "{listed}");
        }
        assert!(d.contains("mail.mailinator.com"));
        assert!(d.contains("x.mailinator.com"));
        assert!(d.contains("a.b.c.yopmail.com"));
        assert!(d.contains("x.tempmail.com"), "local additions cover subdomains");
        assert!(d.contains("anything.33mail.com"), "a wildcard entry of the package");
        assert!(d.contains("MAILINATOR.COM"));
        assert!(d.contains("X.Mailinator.Com"));
        assert!(d.contains("BOB@MAILINATOR.COM"));
        assert!(d.contains("mailinator.com."));
        assert!(d.contains("someone@Mailinator.com"));
        assert!(d.contains(" bob@mailinator.com "));
        assert!(!d.contains("notmailinator.co"));
        assert!(!d.contains("mymailinator.com"), "a suffix that is not a parent domain");
        assert!(!d.contains("mailinator.com.example.org"), "a listed name inside another domain");
        assert!(!d.contains("uw.edu.pl"), "an exact-only entry is nobody's parent");
        assert!(!d.contains("com"));
        assert!(!d.contains(""));
    }

    #[test]
    fn everything_blocked_before_vendoring_stays_blocked() {
        // A sample of the hand-kept list the vendored one replaced, from both sides.
        let d = Domains::shipped();
        for was in [
            "10minmail.com",
            "emailondeck.com",
            "guerillamail.de",
            "jetable.fr.nf",
            "mega.zik.dyndns.org",
            "temp-mail.ru",
            "zehnminuten.de",
            "guerrillamail.de",
            "yopmail.fr",
            "mailnesia.com",
            "spambog.com",
            "mintemail.com",
        ] {
            assert!(d.contains(was), "{was}");
        }
    }

    #[test]
    fn domains_are_cheap_and_shared() {
        let start = std::time::Instant::now();
        for _ in 0..1000 {
            let d = Domains::with(["burner.example".to_string()]);
            std::hint::black_box(d.clone());
        }
        assert!(start.elapsed().as_secs() < 2, "1,000 lists took {:?}", start.elapsed());
        assert!(std::ptr::eq(Domains::shipped().shipped, Domains::with(vec![]).shipped));
    }

    #[test]
    fn version_counts_and_hashes_the_sorted_list() {
        let naive = |d: &Domains, extra: &[&str]| {
            let mut all: Vec<&str> = SHIPPED.set.iter().copied().chain(extra.iter().copied()).collect();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), d.len());
            version_of(all.len(), all.into_iter())
        };
        let shipped = Domains::shipped();
        assert_eq!(shipped.version(), naive(&shipped, &[]));
        assert!(shipped.version().starts_with(&format!("disposable:{}:", shipped.len())));
        // Additions sort among the shipped ones ("0…" first, "zzz…" last); a shipped
        // one added again changes nothing.
        let extra = ["0000-burner.example", "mmm-burner.example", "zzzz-burner.example"];
        let d = Domains::with(extra.iter().map(|e| e.to_string()).chain(["Mailinator.com".to_string()]));
        assert_eq!(d.len(), shipped.len() + 3);
        assert_eq!(d.version(), naive(&d, &extra));
        assert_ne!(d.version(), shipped.version());
        assert_eq!(d.clone().version(), d.version());
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
