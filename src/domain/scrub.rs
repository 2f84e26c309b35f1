//! Scrub rules run at settlement (DESIGN §7) and the masking of contact data
//! for publishers (DESIGN §3). Pure functions: no I/O, no database. The DB
//! layer gathers [`Facts`] about a lead, [`evaluate`] judges them against the
//! offer's [`Terms`] and returns one [`Check`] per rule that the terms switch on.
//!
//! Details of checks are shown to advertisers and publishers alike, so they never
//! repeat personal data (no e-mail, phone or name), only what went wrong.
//!
//! [`evaluate`] runs for every settled lead (tens of thousands a second): it
//! builds nothing per call besides its checks and one lower-cased copy of the
//! user agent and of the name; phone numbers are only re-parsed for a lead whose
//! [`Contact::phone`] is missing while a phone was submitted.

use std::borrow::Cow;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;
use std::sync::LazyLock;

use phonenumber::country::Id as Region;
use phonenumber::{Mode, PhoneNumber};
use serde_json::{Map, Value};

use super::offer::Terms;

pub const MISSING_FIELD: &str = "missing_field";
pub const INVALID_EMAIL: &str = "invalid_email";
pub const DISPOSABLE_EMAIL: &str = "disposable_email";
pub const INVALID_PHONE: &str = "invalid_phone";
pub const DUPLICATE_CONTACT: &str = "duplicate_contact";
pub const GEO_MISMATCH: &str = "geo_mismatch";
pub const TOO_FAST: &str = "too_fast";
pub const IP_VELOCITY: &str = "ip_velocity";
pub const BOT_TRAFFIC: &str = "bot_traffic";
pub const GIBBERISH_NAME: &str = "gibberish_name";
pub const LOW_SCORE: &str = "low_score";

/// Every rule code, in the order of DESIGN §7's table: the order of [`Verdict::checks`].
pub const RULE_CODES: [&str; 11] = [
    MISSING_FIELD,
    INVALID_EMAIL,
    DISPOSABLE_EMAIL,
    INVALID_PHONE,
    DUPLICATE_CONTACT,
    GEO_MISMATCH,
    TOO_FAST,
    IP_VELOCITY,
    BOT_TRAFFIC,
    GIBBERISH_NAME,
    LOW_SCORE,
];

/// Soft signal: the lead has no usable phone number (none given, or an invalid
/// one while `invalid_phone` is switched off).
pub const SOFT_NO_PHONE: &str = "no_phone";
/// Soft signal: the lead has no click (posted through the API without a click id).
pub const SOFT_NO_CLICK: &str = "no_click";

/// Penalties of the quality score, in points taken from 100.
///
/// | signal | points |
/// |---|---|
/// | `missing_field` failed | 30 |
/// | `invalid_email` failed | 40 |
/// | `disposable_email` failed | 35 |
/// | `invalid_phone` failed | 30 |
/// | `duplicate_contact` failed | 40 |
/// | `geo_mismatch` failed | 30 |
/// | `too_fast` failed | 25 |
/// | `ip_velocity` failed | 25 |
/// | `bot_traffic` failed | 50 |
/// | `gibberish_name` failed | 30 |
/// | no usable phone (soft) | 5 |
/// | no click (soft) | 5 |
///
/// Only the checks that ran count: a rule the offer switches off costs nothing.
/// A free-mail address (gmail.com, …) is no penalty. The result is clamped to 0..=100.
pub const PENALTIES: &[(&str, i32)] = &[
    (MISSING_FIELD, 30),
    (INVALID_EMAIL, 40),
    (DISPOSABLE_EMAIL, 35),
    (INVALID_PHONE, 30),
    (DUPLICATE_CONTACT, 40),
    (GEO_MISMATCH, 30),
    (TOO_FAST, 25),
    (IP_VELOCITY, 25),
    (BOT_TRAFFIC, 50),
    (GIBBERISH_NAME, 30),
    (SOFT_NO_PHONE, 5),
    (SOFT_NO_CLICK, 5),
];

/// The penalty of a failed check or soft signal ([`PENALTIES`]); 0 for unknown codes.
pub fn penalty(code: &str) -> i32 {
    PENALTIES.iter().find(|(c, _)| *c == code).map_or(0, |(_, p)| *p)
}

// ---------------------------------------------------------------------------
// Contact normalisation
// ---------------------------------------------------------------------------

/// Lead field keys read as the e-mail, first non-blank wins.
pub const EMAIL_KEYS: &[&str] = &["email", "e_mail", "email_address"];
/// Lead field keys read as the phone, first non-blank wins.
pub const PHONE_KEYS: &[&str] = &["phone", "phone_number", "mobile", "tel"];
/// Lead field keys read as the whole name; otherwise `first_name` and `last_name` are joined.
pub const NAME_KEYS: &[&str] = &["name", "full_name"];

/// Contact values of a lead, normalised for comparison (DESIGN §7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// Trimmed and lower-cased.
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

fn field<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<Cow<'a, str>> {
    fields.get(key).and_then(text)
}

fn first_field<'a>(fields: &'a Map<String, Value>, keys: &[&str]) -> Option<Cow<'a, str>> {
    keys.iter().find_map(|k| field(fields, k))
}

/// Whether a required field counts as given: not null, not a blank string, not an empty list or object.
fn filled(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

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
fn phone_region(fields: &Map<String, Value>, fallback: Option<&str>) -> Option<Region> {
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
enum PhoneProblem {
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
const MAX_PHONE_LEN: usize = 64;

fn parse_phone(raw: &str, region: Option<Region>) -> Result<PhoneNumber, PhoneProblem> {
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

/// Normalise a lead's submitted fields (a JSON object of strings; keys like "email",
/// "phone", "name", also "first_name"+"last_name" joined, "country"). `country` is the ISO-2
/// country to parse national phone numbers with: the lead field "country" if valid, else this argument
/// (the click's country), else the first of the offer's allowed countries (the caller passes that).
/// email: trimmed, lower-cased (None when blank). phone: E.164 when it parses as a valid number,
/// otherwise None (the raw text is still judged by the invalid_phone rule). name: trimmed, inner whitespace collapsed.
pub fn contact(fields: &Map<String, Value>, country: Option<&str>) -> Contact {
    let email = first_field(fields, EMAIL_KEYS).map(|e| e.to_lowercase());
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

// ---------------------------------------------------------------------------
// Disposable domains
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Facts, checks, verdict
// ---------------------------------------------------------------------------

/// What settlement knows about a lead besides its fields (the DB layer fills this in).
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub fields: &'a Map<String, Value>,
    pub contact: &'a Contact,
    /// The click's (or lead's) country, ISO-2, None = unknown.
    pub country: Option<&'a str>,
    /// The country used for phone parsing (as passed to [`contact`]).
    pub phone_country: Option<&'a str>,
    /// The click's UA; None when the lead has no click (API lead).
    pub user_agent: Option<&'a str>,
    /// None when there is no click.
    pub seconds_from_click: Option<i64>,
    /// Leads on this offer from the same IP within 24h before this one (not counting it).
    pub leads_from_ip_24h: i64,
    /// Id of an earlier non-rejected lead with the same e-mail or phone within duplicate_days in scope (the DB finds it).
    pub duplicate_of: Option<i64>,
}

/// The outcome of one rule for one lead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Check {
    pub code: String,
    pub passed: bool,
    pub detail: String,
}

impl Check {
    fn pass(code: &str, detail: impl Into<String>) -> Check {
        Check { code: code.to_string(), passed: true, detail: detail.into() }
    }

    fn fail(code: &str, detail: impl Into<String>) -> Check {
        Check { code: code.to_string(), passed: false, detail: detail.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub checks: Vec<Check>,
    /// Quality score 0..=100 (see [`PENALTIES`]).
    pub score: i32,
    /// No check failed.
    pub approved: bool,
}

impl Verdict {
    /// The codes of the failed checks, in rule order.
    pub fn failed_codes(&self) -> Vec<String> {
        self.checks.iter().filter(|c| !c.passed).map(|c| c.code.clone()).collect()
    }
}

/// Evaluate every rule of §7 that the terms switch on, in the table's order, then low_score.
pub fn evaluate(terms: &Terms, facts: &Facts, disposable: &Domains) -> Verdict {
    let s = &terms.scrub;
    let mut checks = Vec::with_capacity(RULE_CODES.len());
    checks.push(check_missing_fields(&terms.required_fields, facts.fields));
    if s.check_email {
        checks.push(check_email(facts.contact.email.as_deref()));
    }
    if s.block_disposable {
        checks.push(check_disposable(facts.contact.email.as_deref(), disposable));
    }
    if s.check_phone {
        checks.push(check_phone(facts));
    }
    if s.duplicate_days > 0 {
        checks.push(match facts.duplicate_of {
            Some(id) => Check::fail(DUPLICATE_CONTACT, format!("same e-mail or phone as lead #{id}")),
            None => Check::pass(
                DUPLICATE_CONTACT,
                format!(
                    "no earlier lead with the same e-mail or phone within {} days ({} scope)",
                    s.duplicate_days, s.duplicate_scope
                ),
            ),
        });
    }
    if !terms.allowed_countries.is_empty() {
        checks.push(check_geo(facts.country, &terms.allowed_countries));
    }
    if s.min_seconds > 0 {
        let min = i64::from(s.min_seconds);
        checks.push(match facts.seconds_from_click {
            None => Check::pass(TOO_FAST, "no click"),
            Some(secs) if secs < min => {
                Check::fail(TOO_FAST, format!("converted {secs} s after the click; the minimum is {min} s"))
            }
            Some(secs) => Check::pass(TOO_FAST, format!("converted {secs} s after the click")),
        });
    }
    if s.max_leads_per_ip > 0 {
        let max = i64::from(s.max_leads_per_ip);
        let n = facts.leads_from_ip_24h;
        checks.push(if n >= max {
            Check::fail(IP_VELOCITY, format!("{n} earlier leads from this IP in 24 h; at most {max} are accepted"))
        } else {
            Check::pass(IP_VELOCITY, format!("{n} earlier leads from this IP in 24 h (at most {max})"))
        });
    }
    if s.block_bots {
        checks.push(match facts.user_agent {
            None => Check::pass(BOT_TRAFFIC, "no click"),
            Some(ua) => match bot_signature(ua) {
                Some(why) => Check::fail(BOT_TRAFFIC, why),
                None => Check::pass(BOT_TRAFFIC, "browser user agent"),
            },
        });
    }
    if s.check_name {
        checks.push(match facts.contact.name.as_deref() {
            None => Check::pass(GIBBERISH_NAME, "no name given"),
            Some(name) => match name_problem(name) {
                Some(why) => Check::fail(GIBBERISH_NAME, why),
                None => Check::pass(GIBBERISH_NAME, "plausible name"),
            },
        });
    }
    let score = score(&checks, facts);
    if s.min_score > 0 {
        let min = i64::from(s.min_score);
        checks.push(if i64::from(score) < min {
            Check::fail(LOW_SCORE, format!("quality score {score} is below the minimum {min}"))
        } else {
            Check::pass(LOW_SCORE, format!("quality score {score} (minimum {min})"))
        });
    }
    let approved = checks.iter().all(|c| c.passed);
    Verdict { checks, score, approved }
}

/// The quality score (0..=100) from the checks that ran and the soft signals of
/// `facts`; see [`PENALTIES`]. A `low_score` check among `checks` is ignored.
pub fn score(checks: &[Check], facts: &Facts) -> i32 {
    let mut score = 100;
    let mut phone_failed = false;
    for c in checks.iter().filter(|c| !c.passed && c.code != LOW_SCORE) {
        phone_failed |= c.code == INVALID_PHONE;
        score -= penalty(&c.code);
    }
    if facts.contact.phone.is_none() && !phone_failed {
        score -= penalty(SOFT_NO_PHONE);
    }
    if facts.user_agent.is_none() && facts.seconds_from_click.is_none() {
        score -= penalty(SOFT_NO_CLICK);
    }
    score.clamp(0, 100)
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

fn check_missing_fields(required: &[String], fields: &Map<String, Value>) -> Check {
    let present = |key: &str| {
        fields.get(key).is_some_and(filled)
            || (key == "name"
                && fields.get("first_name").is_some_and(filled)
                && fields.get("last_name").is_some_and(filled))
    };
    let mut missing: Vec<&str> = Vec::new();
    for key in required.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        if !present(key) && !missing.contains(&key) {
            missing.push(key);
        }
    }
    if !missing.is_empty() {
        Check::fail(MISSING_FIELD, format!("missing: {}", missing.join(", ")))
    } else if required.is_empty() {
        Check::pass(MISSING_FIELD, "no required fields")
    } else {
        Check::pass(MISSING_FIELD, "all required fields present")
    }
}

fn check_email(email: Option<&str>) -> Check {
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

fn check_disposable(email: Option<&str>, disposable: &Domains) -> Check {
    let Some(domain) = email.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d) else {
        return Check::pass(DISPOSABLE_EMAIL, "no e-mail domain");
    };
    if disposable.contains(domain) {
        Check::fail(DISPOSABLE_EMAIL, format!("{} is a disposable-mail domain", domain.trim_end_matches('.')))
    } else {
        Check::pass(DISPOSABLE_EMAIL, "not a disposable-mail domain")
    }
}

fn check_phone(facts: &Facts) -> Check {
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

fn check_geo(country: Option<&str>, allowed: &[String]) -> Check {
    match country.map(str::trim).filter(|c| !c.is_empty()) {
        None => Check::pass(GEO_MISMATCH, "country unknown"),
        Some(c) if allowed.iter().any(|a| a.trim().eq_ignore_ascii_case(c)) => {
            Check::pass(GEO_MISMATCH, format!("{} is allowed", c.to_ascii_uppercase()))
        }
        Some(c) => {
            let list = allowed.iter().map(|a| a.trim().to_ascii_uppercase()).collect::<Vec<_>>().join(", ");
            Check::fail(GEO_MISMATCH, format!("{} is not among the allowed countries ({list})", c.to_ascii_uppercase()))
        }
    }
}

// ---------------------------------------------------------------------------
// Bots
// ---------------------------------------------------------------------------

/// Lower-case fragments of user agents of crawlers, HTTP libraries, headless
/// browsers and automation tools, matched anywhere in the agent, ignoring case.
pub const BOT_MARKERS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl",
    "wget",
    "python",
    "aiohttp",
    "httpx",
    "httpclient",
    "http-client",
    "okhttp",
    "java/",
    "libwww",
    "lwp::",
    "scrapy",
    "axios",
    "node-fetch",
    "undici",
    "guzzlehttp",
    "postmanruntime",
    "insomnia",
    "httpie",
    "dart:io",
    "winhttp",
    "mechanize",
    "httrack",
    "nutch",
    "headless",
    "phantomjs",
    "selenium",
    "webdriver",
    "puppeteer",
    "playwright",
    "cypress",
    "lighthouse",
    "pagespeed",
    "facebookexternalhit",
    "ia_archiver",
    "mediapartners-google",
    "bingpreview",
    "skypeuripreview",
    "embedly",
    "chatgpt",
    "anthropic-ai",
    "zgrab",
    "masscan",
    "nmap",
    "nikto",
    "sqlmap",
];

/// Phones whose names contain "bot" (the Cubot brand): (text, offset of "bot" in it).
const NOT_BOTS: &[(&str, usize)] = &[("cubot", 2)];

/// [`BOT_MARKERS`] by first byte, so an agent is scanned once.
static MARKERS_BY_FIRST_BYTE: LazyLock<[Vec<&'static str>; 128]> = LazyLock::new(|| {
    let mut index: [Vec<&'static str>; 128] = std::array::from_fn(|_| Vec::new());
    for m in BOT_MARKERS {
        index[usize::from(m.as_bytes()[0] & 0x7f)].push(m);
    }
    index
});

fn is_not_bot_at(ua: &[u8], i: usize) -> bool {
    NOT_BOTS.iter().any(|(text, offset)| {
        i >= *offset
            && ua.get(i - offset..i - offset + text.len()).is_some_and(|w| w.eq_ignore_ascii_case(text.as_bytes()))
    })
}

/// Why `ua` looks automated, or `None` for an ordinary browser.
pub fn bot_signature(ua: &str) -> Option<String> {
    let ua = ua.trim();
    if ua.is_empty() {
        return Some("empty user agent".into());
    }
    if !ua.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Some("user agent has no letters".into());
    }
    let bytes = ua.as_bytes();
    let index = &*MARKERS_BY_FIRST_BYTE;
    for (i, b) in bytes.iter().enumerate() {
        if !b.is_ascii() {
            continue;
        }
        for m in &index[usize::from(b.to_ascii_lowercase())] {
            let hit = bytes.get(i..i + m.len()).is_some_and(|w| w.eq_ignore_ascii_case(m.as_bytes()));
            if hit && !(*m == "bot" && is_not_bot_at(bytes, i)) {
                return Some(format!("user agent of an automated client (\"{m}\")"));
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// Keyboard rows (QWERTY, QWERTZ, AZERTY and digits). Five keys in a row, either
/// direction, make a keyboard mash.
const KEYBOARD_ROWS: &[&str] = &[
    "qwertyuiop",
    "asdfghjkl;",
    "zxcvbnm,./",
    "qwertzuiop",
    "yxcvbnm,.-",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn,;:!",
    "1234567890",
];

/// Length of a keyboard-row run that counts as a mash.
const MASH_LEN: usize = 5;

/// Every run of [`MASH_LEN`] keys along a keyboard row, both directions.
static MASHES: LazyLock<HashSet<[u8; MASH_LEN]>> = LazyLock::new(|| {
    let mut out = HashSet::new();
    for row in KEYBOARD_ROWS {
        let fwd: Vec<u8> = row.bytes().collect();
        let rev: Vec<u8> = row.bytes().rev().collect();
        for keys in [fwd, rev] {
            for w in keys.windows(MASH_LEN) {
                let mut key = [0; MASH_LEN];
                key.copy_from_slice(w);
                out.insert(key);
            }
        }
    }
    out
});

/// Whole names (lower case) that are placeholders, not people.
const PLACEHOLDER_NAMES: &[&str] = &[
    "test",
    "testing",
    "tester",
    "testtest",
    "test test",
    "test user",
    "test name",
    "test lead",
    "asdf",
    "qwerty",
    "null",
    "undefined",
    "none",
    "n/a",
    "unknown",
    "noname",
    "no name",
    "fake",
    "fake name",
    "dummy",
    "xxx",
    "xyz",
    "abc",
    "abcd",
    "foo",
    "foo bar",
    "lorem ipsum",
];

const VOWELS: &[u8] = b"aeiouy";

/// A Latin word (ASCII letters only) of this length or more without a vowel is gibberish.
const NO_VOWEL_WORD_LEN: usize = 6;
/// This many consonants in a row is gibberish (real names reach 7: "Hirschsprung", "Lichtschlag").
const CONSONANT_RUN: usize = 8;

/// Why `name` is implausible as a person's name, or `None`.
///
/// Fails on: no letters at all; one character four times in a row; five keys of a
/// keyboard row in order ("asdfg", "poiuy"); a placeholder ("test", "n/a"); and, for
/// words written in plain ASCII Latin letters only, a word of six or more letters
/// without a vowel (a e i o u y) or eight consonants in a row. Words in other
/// scripts or with accented letters are never judged by the vowel rules.
pub fn name_problem(name: &str) -> Option<String> {
    if !name.chars().any(char::is_alphabetic) {
        return Some("the name has no letters".into());
    }
    let mut prev = None;
    let mut run = 0;
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_whitespace() {
            prev = None;
            continue;
        }
        if prev == Some(c) {
            run += 1;
            if run >= 4 {
                return Some("the name repeats one character four times".into());
            }
        } else {
            prev = Some(c);
            run = 1;
        }
    }
    let lower = name.to_lowercase();
    let collapsed = collapse_whitespace(&lower);
    if PLACEHOLDER_NAMES.contains(&collapsed.as_str()) {
        return Some(format!("\"{collapsed}\" is a placeholder, not a name"));
    }
    if let Some(m) = lower.as_bytes().windows(MASH_LEN).find(|w| MASHES.contains(*w)) {
        return Some(format!("the name looks like a keyboard mash (\"{}\")", String::from_utf8_lossy(m)));
    }
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            continue;
        }
        let b = word.as_bytes();
        if b.len() >= NO_VOWEL_WORD_LEN && !b.iter().any(|c| VOWELS.contains(c)) {
            return Some("a word of the name has no vowel".into());
        }
        let mut consonants = 0;
        for c in b {
            consonants = if VOWELS.contains(c) { 0 } else { consonants + 1 };
            if consonants >= CONSONANT_RUN {
                return Some("the name has too many consonants in a row".into());
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Masking (DESIGN §3)
// ---------------------------------------------------------------------------

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
    use crate::domain::offer::Scrub;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    /// Terms with every switchable rule off, so a test turns on only what it looks at.
    fn bare_terms() -> Terms {
        Terms {
            required_fields: vec![],
            allowed_countries: vec![],
            scrub: Scrub {
                duplicate_days: 0,
                duplicate_scope: "offer".into(),
                min_seconds: 0,
                max_leads_per_ip: 0,
                block_disposable: false,
                block_bots: false,
                check_email: false,
                check_phone: false,
                check_name: false,
                min_score: 0,
            },
            ..Terms::default()
        }
    }

    struct Lead {
        fields: Map<String, Value>,
        contact: Contact,
        country: Option<&'static str>,
        ua: Option<&'static str>,
        secs: Option<i64>,
        ip_leads: i64,
        dup: Option<i64>,
    }

    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

    impl Lead {
        fn new(fields: Value, country: Option<&'static str>) -> Lead {
            let fields = obj(fields);
            let contact = contact(&fields, country);
            Lead { fields, contact, country, ua: Some(CHROME), secs: Some(60), ip_leads: 0, dup: None }
        }

        fn facts(&self) -> Facts<'_> {
            Facts {
                fields: &self.fields,
                contact: &self.contact,
                country: self.country,
                phone_country: self.country,
                user_agent: self.ua,
                seconds_from_click: self.secs,
                leads_from_ip_24h: self.ip_leads,
                duplicate_of: self.dup,
            }
        }

        fn eval(&self, terms: &Terms) -> Verdict {
            evaluate(terms, &self.facts(), &Domains::shipped())
        }
    }

    fn good_lead() -> Lead {
        Lead::new(json!({"email": "Jane.Roe@Example.com", "phone": "+1 202 555 0143", "name": "Jane Roe"}), Some("US"))
    }

    fn check<'a>(v: &'a Verdict, code: &str) -> &'a Check {
        v.checks.iter().find(|c| c.code == code).unwrap_or_else(|| panic!("no {code} check in {v:?}"))
    }

    // ---- contact ----

    #[test]
    fn contact_normalises_email_phone_name() {
        let f = obj(
            json!({"email": "  John.Doe+Promo@GMail.COM ", "phone": "8 (916) 123-45-67", "name": "  John \t  Ronald\n Doe "}),
        );
        let c = contact(&f, Some("RU"));
        assert_eq!(c.email.as_deref(), Some("john.doe+promo@gmail.com"));
        assert_eq!(c.phone.as_deref(), Some("+79161234567"));
        assert_eq!(c.name.as_deref(), Some("John Ronald Doe"));
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

    // ---- missing_field ----

    #[test]
    fn missing_field_rule() {
        let mut t = bare_terms();
        t.required_fields = vec!["email".into(), "phone".into(), "zip".into()];
        let lead = Lead::new(json!({"email": "a@b.co", "phone": "  ", "zip": null}), None);
        let v = lead.eval(&t);
        let c = check(&v, MISSING_FIELD);
        assert!(!c.passed);
        assert_eq!(c.detail, "missing: phone, zip");
        assert!(!v.approved);

        let lead = Lead::new(json!({"email": "a@b.co", "phone": 12025550143_i64, "zip": "10001"}), None);
        assert!(check(&lead.eval(&t), MISSING_FIELD).passed);

        // Always listed, even with nothing required.
        let v = Lead::new(json!({}), None).eval(&bare_terms());
        assert_eq!(check(&v, MISSING_FIELD).detail, "no required fields");
        assert!(v.approved);
    }

    #[test]
    fn missing_field_exact_keys_and_name_parts() {
        let mut t = bare_terms();
        t.required_fields = vec!["name".into()];
        assert!(
            check(&Lead::new(json!({"first_name": "Ann", "last_name": "Lee"}), None).eval(&t), MISSING_FIELD).passed
        );
        assert!(!check(&Lead::new(json!({"first_name": "Ann"}), None).eval(&t), MISSING_FIELD).passed);
        assert!(
            !check(&Lead::new(json!({"first_name": "Ann", "last_name": " "}), None).eval(&t), MISSING_FIELD).passed
        );
        // The reverse does not hold: "first_name" is its own key.
        t.required_fields = vec!["first_name".into()];
        assert!(!check(&Lead::new(json!({"name": "Ann Lee"}), None).eval(&t), MISSING_FIELD).passed);
        // Exact keys: "Email" is not "email"; an alias does not count either.
        t.required_fields = vec!["email".into()];
        assert!(!check(&Lead::new(json!({"Email": "a@b.co"}), None).eval(&t), MISSING_FIELD).passed);
        assert!(!check(&Lead::new(json!({"e_mail": "a@b.co"}), None).eval(&t), MISSING_FIELD).passed);
        // false and 0 are values; an empty list is not.
        t.required_fields = vec!["consent".into(), "age".into(), "tags".into()];
        let c = Lead::new(json!({"consent": false, "age": 0, "tags": []}), None).eval(&t);
        assert_eq!(check(&c, MISSING_FIELD).detail, "missing: tags");
        // Listed twice, reported once.
        t.required_fields = vec!["zip".into(), "zip".into()];
        assert_eq!(check(&Lead::new(json!({}), None).eval(&t), MISSING_FIELD).detail, "missing: zip");
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

    // ---- duplicate_contact ----

    #[test]
    fn duplicate_contact_rule() {
        let mut t = bare_terms();
        t.scrub.duplicate_days = 30;
        let mut lead = good_lead();
        let c = check(&lead.eval(&t), DUPLICATE_CONTACT).clone();
        assert!(c.passed);
        assert_eq!(c.detail, "no earlier lead with the same e-mail or phone within 30 days (offer scope)");
        lead.dup = Some(4711);
        let v = lead.eval(&t);
        assert_eq!(check(&v, DUPLICATE_CONTACT).detail, "same e-mail or phone as lead #4711");
        assert!(!v.approved);
        t.scrub.duplicate_days = 0;
        assert!(lead.eval(&t).checks.iter().all(|c| c.code != DUPLICATE_CONTACT));
    }

    // ---- geo_mismatch ----

    #[test]
    fn geo_mismatch_rule() {
        let mut t = bare_terms();
        t.allowed_countries = vec!["US".into(), "ca".into()];
        let mut lead = good_lead();
        for (country, passed) in [
            (Some("US"), true),
            (Some("us"), true),
            (Some("CA"), true),
            (Some("DE"), false),
            (None, true),
            (Some(" "), true),
        ] {
            lead.country = country;
            let v = lead.eval(&t);
            assert_eq!(check(&v, GEO_MISMATCH).passed, passed, "{country:?}");
        }
        lead.country = Some("de");
        assert_eq!(check(&lead.eval(&t), GEO_MISMATCH).detail, "DE is not among the allowed countries (US, CA)");
        lead.country = None;
        assert_eq!(check(&lead.eval(&t), GEO_MISMATCH).detail, "country unknown");
        assert!(lead.eval(&bare_terms()).checks.iter().all(|c| c.code != GEO_MISMATCH));
    }

    // ---- too_fast ----

    #[test]
    fn too_fast_rule() {
        let mut t = bare_terms();
        t.scrub.min_seconds = 10;
        let mut lead = good_lead();
        for (secs, passed) in
            [(Some(9), false), (Some(10), true), (Some(0), false), (Some(-5), false), (Some(3600), true), (None, true)]
        {
            lead.secs = secs;
            assert_eq!(check(&lead.eval(&t), TOO_FAST).passed, passed, "{secs:?}");
        }
        lead.secs = Some(3);
        assert_eq!(check(&lead.eval(&t), TOO_FAST).detail, "converted 3 s after the click; the minimum is 10 s");
        lead.secs = None;
        assert_eq!(check(&lead.eval(&t), TOO_FAST).detail, "no click");
    }

    // ---- ip_velocity ----

    #[test]
    fn ip_velocity_rule() {
        let mut t = bare_terms();
        t.scrub.max_leads_per_ip = 3;
        let mut lead = good_lead();
        // Three leads from one IP are fine; the fourth (3 before it) fails.
        for (before, passed) in [(0, true), (2, true), (3, false), (10, false)] {
            lead.ip_leads = before;
            assert_eq!(check(&lead.eval(&t), IP_VELOCITY).passed, passed, "{before}");
        }
        lead.ip_leads = 3;
        assert_eq!(
            check(&lead.eval(&t), IP_VELOCITY).detail,
            "3 earlier leads from this IP in 24 h; at most 3 are accepted"
        );
        t.scrub.max_leads_per_ip = 1;
        lead.ip_leads = 0;
        assert!(check(&lead.eval(&t), IP_VELOCITY).passed);
        lead.ip_leads = 1;
        assert!(!check(&lead.eval(&t), IP_VELOCITY).passed);
    }

    // ---- bot_traffic ----

    const BROWSERS: &[&str] = &[
        CHROME,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 10; CUBOT P40) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/430.0.0.33.113;FBBV/500000000;FBDV/iPhone14,2;FBMD/iPhone;FBSN/iOS;FBSV/16.6;FBSS/3;FBLC/en_US]",
        "Mozilla/5.0 (Linux; Android 12; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.5615.136 Mobile Safari/537.36 Instagram 280.0.0.18.114 Android",
        "Mozilla/5.0 (Linux; Android 11; RMX2193) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 YaBrowser/23.3.1 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 OPR/108.0.0.0",
        "Mozilla/5.0 (Linux; U; Android 8.1.0; en-US; Redmi 5A Build/OPM1.171019.026) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_32.5.0 JsSdk/2.0 NetType/WIFI BytedanceWebview/d8a21c6",
    ];

    const BOTS: &[&str] = &[
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "Wget/1.21.4",
        "python-requests/2.31.0",
        "Python-urllib/3.11",
        "Go-http-client/2.0",
        "Java/17.0.2",
        "okhttp/4.12.0",
        "Apache-HttpClient/4.5.14 (Java/17.0.8)",
        "libwww-perl/6.72",
        "Scrapy/2.11.0 (+https://scrapy.org)",
        "axios/1.6.8",
        "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36",
        "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
        "Mozilla/5.0 Selenium",
        "Puppeteer",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Playwright/1.43",
        "PostmanRuntime/7.37.3",
        "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
        "Mozilla/5.0 (compatible; archive.org_bot +http://archive.org/details/archive.org_bot)",
        "UptimeRobot/2.0",
        "Dart/3.3 (dart:io)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36 Chrome-Lighthouse",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/117.0 Safari/537.36 Cypress/13.6.0",
        "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
        "MJ12bot",
        "CRAWLER",
    ];

    #[test]
    fn browsers_are_not_bots() {
        for ua in BROWSERS {
            assert_eq!(bot_signature(ua), None, "{ua}");
        }
    }

    #[test]
    fn bots_are_bots() {
        for ua in BOTS {
            assert!(bot_signature(ua).is_some(), "{ua}");
        }
        assert_eq!(bot_signature("curl/8.5.0").as_deref(), Some("user agent of an automated client (\"curl\")"));
        assert_eq!(
            bot_signature("Mozilla/5.0 (compatible; Googlebot/2.1)").as_deref(),
            Some("user agent of an automated client (\"bot\")")
        );
        assert_eq!(bot_signature("  ").as_deref(), Some("empty user agent"));
        assert_eq!(bot_signature("-").as_deref(), Some("user agent has no letters"));
        // A Cubot phone next to a real bot marker is still a bot.
        assert!(bot_signature("CUBOT X30 Googlebot").is_some());
        assert!(bot_signature("ÜberPhone bot").is_some());
    }

    #[test]
    fn bot_traffic_rule() {
        let mut t = bare_terms();
        t.scrub.block_bots = true;
        let mut lead = good_lead();
        assert_eq!(check(&lead.eval(&t), BOT_TRAFFIC).detail, "browser user agent");
        lead.ua = Some("");
        assert!(!check(&lead.eval(&t), BOT_TRAFFIC).passed);
        lead.ua = Some("   ");
        assert!(!check(&lead.eval(&t), BOT_TRAFFIC).passed);
        lead.ua = Some("python-requests/2.31");
        assert!(!check(&lead.eval(&t), BOT_TRAFFIC).passed);
        lead.ua = None;
        lead.secs = None;
        let v = lead.eval(&t);
        assert!(check(&v, BOT_TRAFFIC).passed);
        assert_eq!(check(&v, BOT_TRAFFIC).detail, "no click");
    }

    // ---- gibberish_name ----

    const REAL_NAMES: &[&str] = &[
        "Li",
        "Wu",
        "Ng",
        "Bo",
        "O'Brien",
        "Anne-Marie",
        "José Ñúñez",
        "John Doe",
        "Mary-Jane O'Connor",
        "D'Angelo",
        "Jean-Luc Picard",
        "Nguyễn Văn An",
        "Trần Thị Hương",
        "Björk Guðmundsdóttir",
        "Þórður Ólafsson",
        "Søren Kierkegaard",
        "Zbigniew Brzęczyszczykiewicz",
        "Grzegorz Brzeczyszczykiewicz",
        "Krzysztof Szczepański",
        "Wojciech Szczesny",
        "Przemyslaw Szczygiel",
        "Mkrtchyan",
        "Henrikh Mkhitaryan",
        "Aram Mkrtchian",
        "Harald Hirschsprung",
        "Lichtschlag",
        "Karl Schwarzschild",
        "Fleischhacker",
        "Albrechtsberger",
        "Nkosazana Dlamini-Zuma",
        "Ngozi Okonjo-Iweala",
        "Chukwuemeka Nwosu",
        "Tshepo Mthembu",
        "Nkosinathi Nxumalo",
        "Llwyd",
        "Gwynn Rhys",
        "Dafydd ap Gwilym",
        "Siobhán Ní Bhriain",
        "Keʻalohilani Kamakawiwoʻole",
        "Ruud van Nistelrooy",
        "Dirk Kuyt",
        "Petr Vlk",
        "Strnad",
        "Mtchedlishvili",
        "Tskhadadze",
        "Zhang Xiaoming",
        "Zhuang Zhou",
        "Xi Jinping",
        "Kim Min-jun",
        "Park Ji-sung",
        "Oyelaran Oluwaseun",
        "Srinivas Ramanujan",
        "Shchukin",
        "Khrushchev",
        "Vladimir Shchegolkov",
        "Yevgeny Zamyatin",
        "Aaron Aaronson",
        "Phyllis",
        "Glynn",
        "Flynn",
        "Lynch",
        "Nyx",
        "Sky",
        "Mohammed bin Rashid Al Maktoum",
        "Abdul-Rahman Al-Saud",
        "Иван Петров",
        "Анна-Мария Сидорова",
        "Щукин Щербаков",
        "李小龍",
        "山田太郎",
        "김민준",
        "محمد عبد الله",
        "דוד כהן",
        "Γιώργος Παπαδόπουλος",
        "สมชาย ใจดี",
        "अमित शर्मा",
        "გიორგი ბერიძე",
        "Արամ Խաչատրյան",
        "J. R. R. Tolkien",
        "Louis XIV",
        "Martin Luther King Jr.",
        "Bongbong Marcos",
        "Joyjoy Santos",
        "Hatsune Miku",
        "Xóchitl Gálvez",
        "Ayşe Yılmaz",
        "Çağlar Söyüncü",
        "Đorđe Balašević",
        "Mrksic",
        "Knightley",
        "Ashcroft",
        "Weiss",
        "Sassoon",
        "Caddell",
        "Giuseppe Verdi",
        "Hawaii Kai",
        "Aloha Nui",
    ];

    #[test]
    fn real_names_pass() {
        for n in REAL_NAMES {
            assert_eq!(name_problem(n), None, "{n}");
        }
    }

    #[test]
    fn gibberish_names_fail() {
        for (n, why) in [
            ("12345", "no letters"),
            ("!!!", "no letters"),
            ("---", "no letters"),
            ("1980 2000", "no letters"),
            ("Aaaa", "four times"),
            ("Johnnnn Smith", "four times"),
            ("John ....", "four times"),
            ("asdfg", "keyboard"),
            ("Asdfgh Jkl", "keyboard"),
            ("qwerty uiop", "keyboard"),
            ("John Qwert", "keyboard"),
            ("zxcvb", "keyboard"),
            ("hjkl;", "keyboard"),
            ("Lkjhg", "keyboard"),
            ("poiuy trewq", "keyboard"),
            ("azerty", "keyboard"),
            ("John 12345", "keyboard"),
            ("test", "placeholder"),
            ("Test Test", "placeholder"),
            ("N/A", "placeholder"),
            ("null", "placeholder"),
            ("dfkjgh", "no vowel"),
            ("Bcdfgh Smith", "no vowel"),
            ("sdkfjlwqrt", "no vowel"),
            ("Hjsdkfhwrtplka", "consonants in a row"),
        ] {
            let got = name_problem(n);
            assert!(got.as_deref().is_some_and(|g| g.contains(why)), "{n:?}: expected {why:?}, got {got:?}");
        }
    }

    #[test]
    fn gibberish_name_rule() {
        let mut t = bare_terms();
        t.scrub.check_name = true;
        assert!(check(&good_lead().eval(&t), GIBBERISH_NAME).passed);
        let v = Lead::new(json!({"first_name": "asdfg", "last_name": "hjkl"}), None).eval(&t);
        assert!(!check(&v, GIBBERISH_NAME).passed);
        assert_eq!(check(&Lead::new(json!({}), None).eval(&t), GIBBERISH_NAME).detail, "no name given");
        assert!(
            check(&Lead::new(json!({"first_name": "José", "last_name": "Ñúñez"}), None).eval(&t), GIBBERISH_NAME)
                .passed
        );
    }

    // ---- score, low_score, evaluate as a whole ----

    #[test]
    fn penalties_cover_every_rule_but_low_score() {
        for code in RULE_CODES.iter().filter(|c| **c != LOW_SCORE) {
            assert!(penalty(code) > 0, "{code}");
        }
        assert_eq!(penalty(LOW_SCORE), 0);
        assert_eq!(penalty("free_mail"), 0);
        assert_eq!(penalty(BOT_TRAFFIC), 50);
    }

    #[test]
    fn default_terms_good_lead() {
        let v = good_lead().eval(&Terms::default());
        assert!(v.approved, "{v:?}");
        assert_eq!(v.score, 100);
        let codes: Vec<&str> = v.checks.iter().map(|c| c.code.as_str()).collect();
        // Default terms: duplicates 30 days, disposable, bots, e-mail, phone, name checks on.
        assert_eq!(
            codes,
            vec![
                MISSING_FIELD,
                INVALID_EMAIL,
                DISPOSABLE_EMAIL,
                INVALID_PHONE,
                DUPLICATE_CONTACT,
                BOT_TRAFFIC,
                GIBBERISH_NAME
            ]
        );
        assert!(v.failed_codes().is_empty());
    }

    #[test]
    fn all_rules_on_listed_in_table_order() {
        let mut t = Terms { allowed_countries: vec!["US".into()], ..Terms::default() };
        t.scrub.min_seconds = 5;
        t.scrub.max_leads_per_ip = 5;
        t.scrub.min_score = 50;
        let v = good_lead().eval(&t);
        let codes: Vec<&str> = v.checks.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, RULE_CODES.to_vec());
        assert!(v.approved);
        assert_eq!(check(&v, LOW_SCORE).detail, "quality score 100 (minimum 50)");
    }

    #[test]
    fn score_weights_and_soft_signals() {
        let mut t = Terms::default();
        t.scrub.min_score = 60;
        // A disposable e-mail and a bot: 100 - 35 - 50 = 15.
        let mut lead =
            Lead::new(json!({"email": "x@mailinator.com", "phone": "+12025550143", "name": "Jane Roe"}), Some("US"));
        lead.ua = Some("curl/8");
        let v = lead.eval(&t);
        assert_eq!(v.score, 15);
        assert_eq!(v.failed_codes(), vec![DISPOSABLE_EMAIL, BOT_TRAFFIC, LOW_SCORE]);
        assert_eq!(check(&v, LOW_SCORE).detail, "quality score 15 is below the minimum 60");

        // No phone and no click: 100 - 5 - 5 = 90, still approved.
        let mut lead = Lead::new(json!({"email": "jane@example.com", "name": "Jane Roe"}), None);
        lead.ua = None;
        lead.secs = None;
        let v = lead.eval(&t);
        assert_eq!(v.score, 90);
        assert!(v.approved);

        // An invalid phone costs 30, not 30 + 5.
        let v =
            Lead::new(json!({"email": "jane@example.com", "phone": "123", "name": "Jane Roe"}), Some("US")).eval(&t);
        assert_eq!(v.score, 70);
        // With the phone rule off, an invalid phone is only "no usable phone".
        t.scrub.check_phone = false;
        let v =
            Lead::new(json!({"email": "jane@example.com", "phone": "123", "name": "Jane Roe"}), Some("US")).eval(&t);
        assert_eq!(v.score, 95);
        assert!(v.approved);

        // Free mail is no penalty.
        let v =
            Lead::new(json!({"email": "jane@gmail.com", "phone": "+12025550143", "name": "Jane Roe"}), None).eval(&t);
        assert_eq!(v.score, 100);
    }

    #[test]
    fn score_clamps_at_zero() {
        let mut t = Terms {
            required_fields: vec!["email".into(), "zip".into()],
            allowed_countries: vec!["US".into()],
            ..Terms::default()
        };
        t.scrub.min_seconds = 10;
        t.scrub.max_leads_per_ip = 1;
        t.scrub.min_score = 1;
        let mut lead = Lead::new(json!({"email": "x@mailinator", "phone": "5", "name": "asdfgh"}), Some("DE"));
        lead.ua = Some("HeadlessChrome");
        lead.secs = Some(1);
        lead.ip_leads = 9;
        lead.dup = Some(1);
        let v = lead.eval(&t);
        assert_eq!(v.score, 0);
        assert!(!v.approved);
        assert_eq!(v.failed_codes().len(), RULE_CODES.len() - 1, "all but disposable: {:?}", v.failed_codes());
        assert!(check(&v, LOW_SCORE).detail.contains("below"));
    }

    #[test]
    fn low_score_off_when_min_zero() {
        let mut lead = good_lead();
        lead.ua = Some("curl/8");
        let v = lead.eval(&Terms::default());
        assert_eq!(v.score, 50);
        assert!(v.checks.iter().all(|c| c.code != LOW_SCORE));
        assert_eq!(v.failed_codes(), vec![BOT_TRAFFIC.to_string()]);
    }

    #[test]
    fn check_serialises() {
        let c = Check::fail(TOO_FAST, "converted 1 s after the click");
        let s = serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(s, r#"{"code":"too_fast","passed":false,"detail":"converted 1 s after the click"}"#);
        let back: Check = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, c);
    }

    #[test]
    fn evaluate_is_fast() {
        // A loose guard, not a benchmark: the hot path must not re-parse phones or rebuild tables.
        let lead = good_lead();
        let terms = Terms::default();
        let domains = Domains::shipped();
        let facts = lead.facts();
        let _ = evaluate(&terms, &facts, &domains);
        let start = std::time::Instant::now();
        for _ in 0..20_000 {
            std::hint::black_box(evaluate(&terms, &facts, &domains));
        }
        let elapsed = start.elapsed();
        assert!(elapsed.as_secs() < 5, "20k evaluations took {elapsed:?}");
    }

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
