//! Scrub rules run at settlement (DESIGN §7) and the masking of contact data
//! for publishers (DESIGN §3). Pure functions: no I/O, no database. The DB
//! layer gathers [`Facts`] about a lead, [`evaluate`] judges them against the
//! offer's [`Terms`] and returns one [`Check`] per rule that the terms switch on.
//!
//! Details of checks are shown to advertisers and publishers alike, so they never
//! repeat personal data (no e-mail, phone or name), only what went wrong. One
//! exception: a failed `duplicate_contact` shows how the lead's own e-mail was
//! compared when its provider's rules changed it; the publisher's view of the lead
//! (`settlement::view`) replaces that by the rule's words, as it drops the lead id.
//!
//! [`evaluate`] runs for every settled lead (tens of thousands a second): it
//! builds nothing per call besides its checks and one lower-cased copy of the
//! user agent and of the name; phone numbers are only re-parsed for a lead whose
//! [`Contact::phone`] is missing while a phone was submitted.
//!
//! One file per concern: contact normalisation, phone numbers, e-mail syntax,
//! disposable domains, bots, names and masking; this file holds the rule codes,
//! the quality score and [`evaluate`], with the rules judged straight from the facts.

use serde_json::{Map, Value};

use super::netranges::NetKind;
use super::offer::{Scrub, Terms};
use crate::i18n::count_words;
use crate::i18n::duration_words;

mod bots;
mod contact;
mod disposable;
mod email;
mod masking;
mod names;
mod phone;
#[cfg(test)]
mod testing;

pub use bots::{BOT_MARKERS, bot_signature};
pub use contact::{Contact, EMAIL_KEYS, NAME_KEYS, PHONE_KEYS, contact, name_of};
pub use disposable::Domains;
pub use email::{PROVIDERS, Provider, email_problem, normalise_email, normalised_by_provider, provider};
pub use masking::{mask_email, mask_fields, mask_name, mask_phone};
pub use names::{NAME_RULES_VERSION, name_problem};
pub use phone::phone_country;

use disposable::check_disposable;
use email::check_email;
use phone::check_phone;

pub const MISSING_FIELD: &str = "missing_field";
pub const INVALID_EMAIL: &str = "invalid_email";
pub const DISPOSABLE_EMAIL: &str = "disposable_email";
pub const INVALID_PHONE: &str = "invalid_phone";
pub const DUPLICATE_CONTACT: &str = "duplicate_contact";
pub const GEO_MISMATCH: &str = "geo_mismatch";
pub const TOO_FAST: &str = "too_fast";
pub const SLOW_CONVERSION: &str = "slow_conversion";
pub const IP_VELOCITY: &str = "ip_velocity";
pub const DUPLICATE_CLICK: &str = "duplicate_click";
pub const BOT_TRAFFIC: &str = "bot_traffic";
pub const DATACENTER_IP: &str = "datacenter_ip";
pub const RELAY: &str = "relay";
pub const GIBBERISH_NAME: &str = "gibberish_name";
pub const LOW_SCORE: &str = "low_score";

/// Every rule code, in the order of DESIGN §7's table: the order of [`Verdict::checks`].
pub const RULE_CODES: [&str; 15] = [
    MISSING_FIELD,
    INVALID_EMAIL,
    DISPOSABLE_EMAIL,
    INVALID_PHONE,
    DUPLICATE_CONTACT,
    GEO_MISMATCH,
    TOO_FAST,
    SLOW_CONVERSION,
    IP_VELOCITY,
    DUPLICATE_CLICK,
    BOT_TRAFFIC,
    DATACENTER_IP,
    RELAY,
    GIBBERISH_NAME,
    LOW_SCORE,
];

/// Soft signal: the lead has no usable phone number (none given, or an invalid
/// one while `invalid_phone` is switched off).
pub const SOFT_NO_PHONE: &str = "no_phone";
/// Soft signal: the lead has no click (posted through the API without a click id).
pub const SOFT_NO_CLICK: &str = "no_click";
/// Soft signal: `duplicate_click` flagged the lead (more earlier clicks of its
/// visitor than the offer's flag, not more than its rejection).
pub const SOFT_REPEAT_CLICKS: &str = "repeat_clicks";

/// Earlier clicks of one visitor on one link are counted up to this many
/// (`clicks.repeat_clicks`): each process remembers that many click times per
/// visitor (`tracking::click_repeats`).
pub const REPEATS_COUNTED: usize = 64;

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
/// | `slow_conversion` failed | 20 |
/// | `ip_velocity` failed | 25 |
/// | `duplicate_click` failed | 30 |
/// | `bot_traffic` failed | 50 |
/// | `datacenter_ip` failed | 40 |
/// | `relay` failed | 10 |
/// | `gibberish_name` failed | 30 |
/// | no usable phone (soft) | 5 |
/// | no click (soft) | 5 |
/// | `duplicate_click` flagged (soft) | 10 |
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
    (SLOW_CONVERSION, 20),
    (IP_VELOCITY, 25),
    (DUPLICATE_CLICK, 30),
    (BOT_TRAFFIC, 50),
    (DATACENTER_IP, 40),
    (RELAY, 10),
    (GIBBERISH_NAME, 30),
    (SOFT_NO_PHONE, 5),
    (SOFT_NO_CLICK, 5),
    (SOFT_REPEAT_CLICKS, 10),
];

/// The penalty of a failed check or soft signal ([`PENALTIES`]); 0 for unknown codes.
pub fn penalty(code: &str) -> i32 {
    PENALTIES.iter().find(|(c, _)| *c == code).map_or(0, |(_, p)| *p)
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
    /// How many earlier clicks the click's visitor (IP address and user agent) made
    /// on the link within the offer's `duplicate_click` window (`clicks.repeat_clicks`);
    /// None when there is no click.
    pub repeat_clicks: Option<i64>,
    /// Leads on this offer from the same IP within 24h before this one (not counting it).
    pub leads_from_ip_24h: i64,
    /// An earlier non-rejected lead with the same e-mail or phone within duplicate_days in scope (the DB finds it).
    pub duplicate_of: Option<Duplicate>,
    /// The network of the visitor's address (the click's, or a browser channel's
    /// own): None when no visitor address is known (a server's conversion without a click).
    pub network: Option<NetKind>,
}

/// The earlier lead `duplicate_contact` found: the first by id, and what it shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate {
    pub lead_id: i64,
    /// The same normalised e-mail.
    pub email: bool,
    /// The same phone (E.164).
    pub phone: bool,
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
            Some(dup) => Check::fail(DUPLICATE_CONTACT, duplicate_detail(&dup, facts)),
            None => Check::pass(
                DUPLICATE_CONTACT,
                format!(
                    "no earlier lead with the same e-mail or phone within {} ({} scope)",
                    crate::i18n::count_words(i64::from(s.duplicate_days), "day"),
                    s.duplicate_scope
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
                let (secs, min) = (count_words(secs, "second"), count_words(min, "second"));
                Check::fail(TOO_FAST, format!("converted {secs} after the click; the minimum is {min}"))
            }
            // Seconds where they matter (near the minimum), words past a minute.
            Some(secs) if secs < 60 => {
                Check::pass(TOO_FAST, format!("converted {} after the click", count_words(secs, "second")))
            }
            Some(secs) => Check::pass(TOO_FAST, format!("converted {} after the click", duration_words(secs))),
        });
    }
    if s.max_conversion_days > 0 {
        let days = i64::from(s.max_conversion_days);
        checks.push(match facts.seconds_from_click {
            None => Check::pass(SLOW_CONVERSION, "no click"),
            Some(secs) if secs > days * 86_400 => Check::fail(
                SLOW_CONVERSION,
                format!(
                    "converted {} after the click; the offer pays conversions within {}",
                    duration_words(secs),
                    count_words(days, "day")
                ),
            ),
            Some(secs) => Check::pass(SLOW_CONVERSION, format!("converted {} after the click", duration_words(secs))),
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
    if s.duplicate_click_minutes > 0 {
        checks.push(check_duplicate_click(s, facts.repeat_clicks));
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
    if s.block_datacenter {
        checks.push(match facts.network {
            None => Check::pass(DATACENTER_IP, "no visitor address (a server's conversion without a click)"),
            Some(NetKind::Datacenter { provider }) => {
                Check::fail(DATACENTER_IP, format!("the visitor's address is in a hosting range ({provider})"))
            }
            Some(NetKind::Relay { provider }) => {
                Check::pass(DATACENTER_IP, format!("a privacy relay ({provider}), not a datacenter"))
            }
            Some(NetKind::Other) => Check::pass(DATACENTER_IP, "not a hosting or cloud address"),
        });
    }
    if s.block_relay {
        checks.push(match facts.network {
            Some(NetKind::Relay { provider }) => {
                Check::fail(RELAY, format!("the visitor came through a privacy relay ({provider})"))
            }
            Some(_) => Check::pass(RELAY, "not a privacy relay"),
            None => Check::pass(RELAY, "no visitor address (a server's conversion without a click)"),
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
    let score = score(terms, &checks, facts);
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
/// `facts` under `terms`; see [`PENALTIES`]. A `low_score` check among `checks` is ignored.
pub fn score(terms: &Terms, checks: &[Check], facts: &Facts) -> i32 {
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
    if repeat_clicks_judged(&terms.scrub, facts.repeat_clicks) == Repeats::Flagged {
        score -= penalty(SOFT_REPEAT_CLICKS);
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

/// `same e-mail as lead #4711 (j.doe+promo@gmail.com compares as jdoe@gmail.com)`:
/// what the lead shares with which, and how its e-mail was compared when its
/// provider's rules changed more than the case.
fn duplicate_detail(dup: &Duplicate, facts: &Facts) -> String {
    let what = match (dup.email, dup.phone) {
        (true, true) => "e-mail and phone",
        (true, false) => "e-mail",
        (false, true) => "phone",
        (false, false) => "e-mail or phone",
    };
    let mut detail = format!("same {what} as lead #{}", dup.lead_id);
    if dup.email
        && let (Some(raw), Some(compared)) = (contact::first_field(facts.fields, EMAIL_KEYS), &facts.contact.email)
        && let Some((plain, _)) = normalised_by_provider(&raw, compared)
    {
        detail.push_str(&format!(" ({plain} compares as {compared})"));
    }
    detail
}

/// How `duplicate_click` judges a click's earlier clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeats {
    /// The rule is off, or the lead has no click.
    NotJudged,
    Pass,
    Flagged,
    Rejected,
}

fn repeat_clicks_judged(s: &Scrub, repeat_clicks: Option<i64>) -> Repeats {
    let Some(n) = repeat_clicks.filter(|_| s.duplicate_click_minutes > 0) else { return Repeats::NotJudged };
    let (flag, reject) = (i64::from(s.duplicate_click_flag), i64::from(s.duplicate_click_reject));
    if reject > 0 && n > reject {
        Repeats::Rejected
    } else if n > flag {
        Repeats::Flagged
    } else {
        Repeats::Pass
    }
}

/// `this IP address and browser clicked the link 7 times within 10 minutes before
/// this click; more than 5 is flagged, more than 20 rejected`: the count and the
/// offer's thresholds, never the address or the browser.
fn check_duplicate_click(s: &Scrub, repeat_clicks: Option<i64>) -> Check {
    let Some(n) = repeat_clicks else { return Check::pass(DUPLICATE_CLICK, "no click") };
    let window = duration_words(i64::from(s.duplicate_click_minutes) * 60);
    let (flag, reject) = (s.duplicate_click_flag, s.duplicate_click_reject);
    let times = match n {
        1 => "once".to_string(),
        n if n >= REPEATS_COUNTED as i64 => format!("{n} times or more"),
        n => format!("{n} times"),
    };
    let seen = format!("this IP address and browser clicked the link {times} within {window} before this click");
    let limits = match (flag, reject) {
        (_, r) if r > 0 && r <= flag => format!("more than {r} is rejected"),
        (f, 0) => format!("more than {f} is flagged, never rejected"),
        (f, r) => format!("more than {f} is flagged, more than {r} rejected"),
    };
    match repeat_clicks_judged(s, Some(n)) {
        Repeats::Rejected => Check::fail(DUPLICATE_CLICK, format!("{seen}; {limits}")),
        Repeats::Flagged => Check::pass(DUPLICATE_CLICK, format!("flagged: {seen}; {limits}")),
        _ if n == 0 => Check::pass(
            DUPLICATE_CLICK,
            format!("no earlier click from this IP address and browser on the link within {window} ({limits})"),
        ),
        _ => Check::pass(DUPLICATE_CLICK, format!("{seen} ({limits})")),
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

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

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

    // ---- slow_conversion ----

    #[test]
    fn slow_conversion_rule() {
        let mut t = bare_terms();
        t.scrub.max_conversion_days = 7;
        let mut lead = good_lead();
        lead.secs = Some(8 * 86_400 + 5);
        let v = lead.eval(&t);
        assert_eq!(
            check(&v, SLOW_CONVERSION).detail,
            "converted 8 days after the click; the offer pays conversions within 7 days"
        );
        assert!(!v.approved);
        lead.secs = Some(7 * 86_400);
        assert!(check(&lead.eval(&t), SLOW_CONVERSION).passed, "exactly N days is in time");
        lead.secs = Some(90 * 60 + 5);
        assert_eq!(check(&lead.eval(&t), SLOW_CONVERSION).detail, "converted 1 hour 30 minutes after the click");
        lead.secs = None;
        assert_eq!(check(&lead.eval(&t), SLOW_CONVERSION).detail, "no click");
        t.scrub.max_conversion_days = 0;
        assert!(lead.eval(&t).checks.iter().all(|c| c.code != SLOW_CONVERSION), "off at 0");
    }

    // ---- datacenter_ip, relay ----

    #[test]
    fn datacenter_and_relay_rules() {
        let mut t = bare_terms();
        t.scrub.block_datacenter = true;
        let mut lead = good_lead();
        let cases = [
            (Some(NetKind::Datacenter { provider: "AWS" }), false, "the visitor's address is in a hosting range (AWS)"),
            (
                Some(NetKind::Relay { provider: "iCloud Private Relay" }),
                true,
                "a privacy relay (iCloud Private Relay), not a datacenter",
            ),
            (Some(NetKind::Other), true, "not a hosting or cloud address"),
            (None, true, "no visitor address (a server's conversion without a click)"),
        ];
        for (network, passed, detail) in cases {
            lead.network = network;
            let v = lead.eval(&t);
            let c = check(&v, DATACENTER_IP);
            assert_eq!((c.passed, c.detail.as_str()), (passed, detail), "{network:?}");
            assert!(v.checks.iter().all(|c| c.code != RELAY), "relay is off by default");
        }
        t.scrub.block_relay = true;
        lead.network = Some(NetKind::Relay { provider: "iCloud Private Relay" });
        let v = lead.eval(&t);
        assert!(check(&v, DATACENTER_IP).passed && !check(&v, RELAY).passed && !v.approved);
        assert_eq!(v.score, 100 - penalty(RELAY), "a relay is a weak signal");
        lead.network = Some(NetKind::Datacenter { provider: "Hetzner" });
        assert_eq!(lead.eval(&t).score, 100 - penalty(DATACENTER_IP));
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
        lead.dup = Some(Duplicate { lead_id: 4711, email: true, phone: false });
        let v = lead.eval(&t);
        assert_eq!(check(&v, DUPLICATE_CONTACT).detail, "same e-mail as lead #4711");
        assert!(!v.approved);
        lead.dup = Some(Duplicate { lead_id: 4711, email: false, phone: true });
        assert_eq!(check(&lead.eval(&t), DUPLICATE_CONTACT).detail, "same phone as lead #4711");
        lead.dup = Some(Duplicate { lead_id: 12, email: true, phone: true });
        assert_eq!(check(&lead.eval(&t), DUPLICATE_CONTACT).detail, "same e-mail and phone as lead #12");
        t.scrub.duplicate_days = 0;
        assert!(lead.eval(&t).checks.iter().all(|c| c.code != DUPLICATE_CONTACT));
    }

    #[test]
    fn duplicate_contact_detail_shows_the_normalisation() {
        let mut t = bare_terms();
        t.scrub.duplicate_days = 30;
        let detail = |email: &str, dup: Duplicate| {
            let mut lead = Lead::new(json!({ "email": email, "phone": "+12025550143" }), None);
            lead.dup = Some(dup);
            check(&lead.eval(&t), DUPLICATE_CONTACT).detail.clone()
        };
        let by_email = Duplicate { lead_id: 4711, email: true, phone: false };
        assert_eq!(
            detail(" J.Doe+Promo@GMail.com ", by_email),
            "same e-mail as lead #4711 (j.doe+promo@gmail.com compares as jdoe@gmail.com)"
        );
        assert_eq!(
            detail("john-doe+x@ya.ru", by_email),
            "same e-mail as lead #4711 (john-doe+x@ya.ru compares as john.doe@yandex.ru)"
        );
        // Only the case changed, or not a provider's address: nothing to show.
        assert_eq!(detail("JDoe@Gmail.com", by_email), "same e-mail as lead #4711");
        assert_eq!(detail("j.doe+promo@example.com", by_email), "same e-mail as lead #4711");
        // A match on the phone says nothing of the e-mail.
        let by_phone = Duplicate { lead_id: 9, email: false, phone: true };
        assert_eq!(detail("j.doe+promo@gmail.com", by_phone), "same phone as lead #9");
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
        assert_eq!(
            check(&lead.eval(&t), TOO_FAST).detail,
            "converted 3 seconds after the click; the minimum is 10 seconds"
        );
        for (secs, words) in [(45, "45 seconds"), (150, "2 minutes"), (175_646, "2 days"), (7_500, "2 hours 5 minutes")]
        {
            lead.secs = Some(secs);
            assert_eq!(check(&lead.eval(&t), TOO_FAST).detail, format!("converted {words} after the click"));
        }
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

    // ---- duplicate_click ----

    #[test]
    fn duplicate_click_rule() {
        let mut t = bare_terms();
        t.scrub.duplicate_click_minutes = 10;
        t.scrub.duplicate_click_flag = 5;
        t.scrub.duplicate_click_reject = 20;
        let mut lead = good_lead();
        let outcome = |lead: &Lead, t: &Terms| {
            let v = lead.eval(t);
            let c = check(&v, DUPLICATE_CLICK).clone();
            (c.passed, c.detail, v.score, v.approved)
        };
        lead.repeats = Some(0);
        assert_eq!(
            outcome(&lead, &t),
            (
                true,
                "no earlier click from this IP address and browser on the link within 10 minutes \
                 (more than 5 is flagged, more than 20 rejected)"
                    .into(),
                100,
                true
            )
        );
        lead.repeats = Some(5);
        assert_eq!(
            outcome(&lead, &t),
            (
                true,
                "this IP address and browser clicked the link 5 times within 10 minutes before this click \
                 (more than 5 is flagged, more than 20 rejected)"
                    .into(),
                100,
                true
            ),
            "at the flag: passes unflagged"
        );
        // Flagged: the check passes, the lead is approved, the score loses the soft signal.
        lead.repeats = Some(14);
        assert_eq!(
            outcome(&lead, &t),
            (
                true,
                "flagged: this IP address and browser clicked the link 14 times within 10 minutes before this \
                 click; more than 5 is flagged, more than 20 rejected"
                    .into(),
                100 - penalty(SOFT_REPEAT_CLICKS),
                true
            )
        );
        lead.repeats = Some(20);
        assert!(outcome(&lead, &t).0, "at the rejection: flagged, not rejected");
        lead.repeats = Some(21);
        assert_eq!(
            outcome(&lead, &t),
            (
                false,
                "this IP address and browser clicked the link 21 times within 10 minutes before this click; \
                 more than 5 is flagged, more than 20 rejected"
                    .into(),
                100 - penalty(DUPLICATE_CLICK),
                false
            ),
            "a rejection costs the rule's penalty, not the flag's too"
        );
        lead.repeats = Some(REPEATS_COUNTED as i64);
        assert!(check(&lead.eval(&t), DUPLICATE_CLICK).detail.contains("64 times or more"));
        // No rejection threshold: flagged however many.
        t.scrub.duplicate_click_reject = 0;
        let (passed, detail, score, approved) = outcome(&lead, &t);
        assert!(passed && approved && score == 90, "{detail}");
        assert!(detail.ends_with("more than 5 is flagged, never rejected"), "{detail}");
        // A flag of 0: any earlier click flags; once, in words.
        t.scrub.duplicate_click_flag = 0;
        lead.repeats = Some(1);
        let (passed, detail, score, _) = outcome(&lead, &t);
        assert!(
            passed
                && score == 90
                && detail.starts_with("flagged: this IP address and browser clicked the link once within 10 minutes"),
            "{detail}"
        );
        // No click: nothing to count, no penalty.
        lead.repeats = None;
        assert_eq!(outcome(&lead, &t), (true, "no click".into(), 100, true));
        // Off at 0 minutes: no check, and no soft signal whatever the count.
        t.scrub.duplicate_click_minutes = 0;
        lead.repeats = Some(40);
        let v = lead.eval(&t);
        assert!(v.checks.iter().all(|c| c.code != DUPLICATE_CLICK) && v.score == 100, "{v:?}");
    }

    #[test]
    fn a_flagged_lead_can_fall_below_the_minimum_score() {
        let mut t = bare_terms();
        t.scrub.duplicate_click_minutes = 10;
        t.scrub.duplicate_click_flag = 2;
        t.scrub.min_score = 95;
        let mut lead = good_lead();
        lead.repeats = Some(3);
        let v = lead.eval(&t);
        assert!(check(&v, DUPLICATE_CLICK).passed);
        assert_eq!(v.failed_codes(), vec![LOW_SCORE.to_string()]);
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
        // Default terms: duplicates 30 days, disposable, bots, datacenters, e-mail,
        // phone, name checks on.
        assert_eq!(
            codes,
            vec![
                MISSING_FIELD,
                INVALID_EMAIL,
                DISPOSABLE_EMAIL,
                INVALID_PHONE,
                DUPLICATE_CONTACT,
                BOT_TRAFFIC,
                DATACENTER_IP,
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
        t.scrub.block_relay = true;
        t.scrub.max_conversion_days = 30;
        t.scrub.duplicate_click_minutes = 10;
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
        t.scrub.block_relay = true;
        t.scrub.max_conversion_days = 1;
        t.scrub.duplicate_click_minutes = 10;
        t.scrub.duplicate_click_reject = 3;
        let mut lead = Lead::new(json!({"email": "x@mailinator", "phone": "5", "name": "asdfgh"}), Some("DE"));
        lead.repeats = Some(9);
        lead.network = Some(NetKind::Datacenter { provider: "AWS" });
        lead.ua = Some("HeadlessChrome");
        lead.secs = Some(1);
        lead.ip_leads = 9;
        lead.dup = Some(Duplicate { lead_id: 1, email: true, phone: false });
        let v = lead.eval(&t);
        assert_eq!(v.score, 0);
        assert!(!v.approved);
        // A datacenter is no relay, and a conversion 1 s after its click is not slow:
        // all but disposable, relay and slow_conversion fail.
        assert_eq!(v.failed_codes().len(), RULE_CODES.len() - 3, "{:?}", v.failed_codes());
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
}
