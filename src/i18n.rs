//! Words for people: the message catalogue (Project Fluent `.ftl` files under
//! `locales/<lang>/`, embedded at compile time) and the functions pages, e-mails,
//! flash messages and CSVs read it through.
//!
//! Every code a person can see — an intake reason, a redirect reason, a scrub rule,
//! a status, a payout model — has a message `<kind>-<code>` whose value is its
//! label and whose `.explain` attribute is one line saying what it means
//! ([`label`], [`explain`], and [`tag`] for a page: the label with the code kept
//! beside it as `<code class="tag">`). Counts and durations are worded with the
//! plural the language needs ([`count_words`], [`duration_words`]).
//!
//! English is the only language today. Each function has a `_in` form that takes
//! a [`Lang`]; adding a language is adding its `.ftl` file and a [`Lang`] variant.

use std::fmt::Display;
use std::sync::LazyLock;

use askama::filters::Safe;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
}

impl Lang {
    pub const ALL: [Lang; 1] = [Lang::En];

    /// Its BCP 47 tag: `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
        }
    }

    /// Its `.ftl` files, in the order they are added to its bundle.
    fn sources(self) -> &'static [&'static str] {
        match self {
            Lang::En => &[include_str!("../locales/en/qualead.ftl")],
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

static BUNDLES: LazyLock<Vec<(Lang, Bundle)>> =
    LazyLock::new(|| Lang::ALL.iter().map(|&lang| (lang, bundle(lang))).collect());

/// A language's bundle. The files are part of the binary and a unit test parses
/// them, so a syntax error or a message defined twice is a bug caught before
/// release: it panics here.
fn bundle(lang: Lang) -> Bundle {
    let id: LanguageIdentifier = lang.tag().parse().expect("a valid language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Labels go into HTML and plain text, never next to right-to-left text of
    // another direction: no Unicode isolation marks around placeables.
    bundle.set_use_isolating(false);
    for source in lang.sources() {
        let resource = FluentResource::try_new((*source).to_string())
            .unwrap_or_else(|(_, errors)| panic!("locales/{}: {errors:?}", lang.tag()));
        bundle.add_resource(resource).unwrap_or_else(|errors| panic!("locales/{}: {errors:?}", lang.tag()));
    }
    bundle
}

fn bundle_of(lang: Lang) -> &'static Bundle {
    &BUNDLES.iter().find(|(l, _)| *l == lang).expect("every Lang has a bundle").1
}

/// A message's value (`attr` None) or attribute, if the catalogue has it.
fn message(lang: Lang, id: &str, attr: Option<&str>, args: Option<&FluentArgs>) -> Option<String> {
    let bundle = bundle_of(lang);
    let msg = bundle.get_message(id)?;
    let pattern = match attr {
        None => msg.value()?,
        Some(a) => msg.get_attribute(a)?.value(),
    };
    let mut errors = vec![];
    let out = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(id, ?errors, "message formatted with errors");
    }
    Some(out.into_owned())
}

/// What a code is: the kinds of codes a person can see, each with its message
/// prefix and the list of its codes (from the code that defines them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Why intake refused a conversion (`domain::intake::Reason`).
    Reason,
    /// Why a click went to the fallback page.
    Redirect,
    /// A scrub rule (DESIGN §7) or a soft signal of the quality score.
    Rule,
    LeadStatus,
    /// An advertiser's reason to reject early or return a lead.
    VerdictReason,
    OfferStatus,
    /// An offer's live state as a publisher sees it.
    Live,
    Membership,
    Model,
    Payout,
    Dispute,
    DisputeKind,
    Topup,
    Reconciliation,
    Revision,
    Role,
    AccountStatus,
    /// A webhook's or publisher postback's delivery.
    Delivery,
    /// Why a lead moved, besides a rule or a verdict reason: settlement, the
    /// offer's default, a dispute's ruling ([`Kind::LeadReason`] reads these too).
    History,
    /// Any reason in a lead's history or its list of reasons: a rule, an
    /// advertiser's verdict reason or a [`Kind::History`] code, looked up in that
    /// order. It has no messages of its own.
    LeadReason,
}

/// Webhook and publisher-postback delivery statuses (`webhook_deliveries`,
/// `postback_deliveries`).
pub const DELIVERY_STATUSES: [&str; 3] = ["pending", "delivered", "failed"];
/// Top-up request statuses (DESIGN §8).
pub const TOPUP_STATUSES: [&str; 3] = ["pending", "confirmed", "declined"];
/// A month's reconciliation state as the lists show it.
pub const RECONCILIATION_STATES: [&str; 6] = ["confirmed", "disputed", "resolved", "awaiting", "in_progress", "none"];
/// Reviewed changes of a live offer (DESIGN §13).
pub const REVISION_STATUSES: [&str; 4] = ["pending", "approved", "rejected", "superseded"];
/// Kinds of dispute.
pub const DISPUTE_KINDS: [&str; 2] = ["return", "contest"];
/// An offer's live state for a publisher (`web::publisher::live_state`).
pub const LIVE_STATES: [&str; 5] = ["live", "capped", "paused", "archived", "pending"];
/// The history reasons that are neither a rule nor a verdict reason.
pub const HISTORY_REASONS: [&str; 9] = [
    "settlement",
    crate::settlement::run::DEFAULT_APPROVED,
    crate::settlement::run::DEFAULT_REJECTED,
    "approved_early",
    "contested",
    "return_upheld",
    "return_denied",
    "contest_upheld",
    "contest_denied",
];

impl Kind {
    pub const ALL: [Kind; 20] = [
        Kind::Reason,
        Kind::Redirect,
        Kind::Rule,
        Kind::LeadStatus,
        Kind::VerdictReason,
        Kind::OfferStatus,
        Kind::Live,
        Kind::Membership,
        Kind::Model,
        Kind::Payout,
        Kind::Dispute,
        Kind::DisputeKind,
        Kind::Topup,
        Kind::Reconciliation,
        Kind::Revision,
        Kind::Role,
        Kind::AccountStatus,
        Kind::Delivery,
        Kind::History,
        Kind::LeadReason,
    ];

    /// The message id prefix: `lead-status` for `lead-status-approved`.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Reason => "reason",
            Kind::Redirect => "redirect",
            Kind::Rule => "rule",
            Kind::LeadStatus => "lead-status",
            Kind::VerdictReason => "verdict-reason",
            Kind::OfferStatus => "offer-status",
            Kind::Live => "live",
            Kind::Membership => "membership",
            Kind::Model => "model",
            Kind::Payout => "payout",
            Kind::Dispute => "dispute",
            Kind::DisputeKind => "dispute-kind",
            Kind::Topup => "topup",
            Kind::Reconciliation => "reconciliation",
            Kind::Revision => "revision",
            Kind::Role => "role",
            Kind::AccountStatus => "account-status",
            Kind::Delivery => "delivery",
            Kind::History => "history",
            Kind::LeadReason => "lead-reason",
        }
    }

    /// The kind of a prefix (as templates name it).
    pub fn parse(prefix: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    /// Every code of this kind, as the code that uses them lists them.
    pub fn codes(self) -> Vec<&'static str> {
        use crate::domain::{account, intake, lifecycle, offer, scrub};
        match self {
            Kind::Reason => intake::Reason::ALL.iter().map(|r| r.code()).collect(),
            Kind::Redirect => crate::tracking::click::REDIRECT_REASONS.to_vec(),
            Kind::Rule => {
                let mut v = scrub::RULE_CODES.to_vec();
                v.extend([scrub::SOFT_NO_PHONE, scrub::SOFT_NO_CLICK, scrub::SOFT_REPEAT_CLICKS]);
                v
            }
            Kind::LeadStatus => lifecycle::LeadStatus::NAMES.to_vec(),
            Kind::VerdictReason => lifecycle::RETURN_REASONS.to_vec(),
            Kind::OfferStatus => offer::OfferStatus::ALL.iter().map(|s| s.as_str()).collect(),
            Kind::Live => LIVE_STATES.to_vec(),
            Kind::Membership => crate::store::offers::MembershipStatus::ALL.iter().map(|s| s.as_str()).collect(),
            Kind::Model => offer::PayoutModel::ALL.iter().map(|m| m.as_str()).collect(),
            Kind::Payout => crate::api::money::PAYOUT_STATUSES.to_vec(),
            Kind::Dispute => crate::api::leads::DISPUTE_STATUSES.to_vec(),
            Kind::DisputeKind => DISPUTE_KINDS.to_vec(),
            Kind::Topup => TOPUP_STATUSES.to_vec(),
            Kind::Reconciliation => RECONCILIATION_STATES.to_vec(),
            Kind::Revision => REVISION_STATUSES.to_vec(),
            Kind::Role => account::Role::ALL.iter().map(|r| r.as_str()).collect(),
            Kind::AccountStatus => account::AccountStatus::ALL.iter().map(|s| s.as_str()).collect(),
            Kind::Delivery => DELIVERY_STATUSES.to_vec(),
            Kind::History => HISTORY_REASONS.to_vec(),
            Kind::LeadReason => {
                [Kind::Rule, Kind::VerdictReason, Kind::History].into_iter().flat_map(Kind::codes).collect()
            }
        }
    }

    /// The message of a code: `rule-geo_mismatch`; for [`Kind::LeadReason`], the
    /// first kind it reads from that has the code.
    fn id(self, code: &str) -> String {
        if self == Kind::LeadReason {
            let first = [Kind::Rule, Kind::VerdictReason, Kind::History]
                .into_iter()
                .find(|k| bundle_of(Lang::default()).has_message(&k.id(code)))
                .unwrap_or(Kind::History);
            return first.id(code);
        }
        format!("{}-{code}", self.prefix())
    }
}

/// A code in words when the catalogue lacks it (a code from a newer version in
/// old data): `some_code` → `some code`.
fn fallback(code: &str) -> String {
    code.replace('_', " ")
}

/// A code's label: `Wrong country` for the rule `geo_mismatch`.
pub fn label(kind: Kind, code: &str) -> String {
    label_in(Lang::default(), kind, code)
}

pub fn label_in(lang: Lang, kind: Kind, code: &str) -> String {
    message(lang, &kind.id(code), None, None).unwrap_or_else(|| fallback(code))
}

/// A code's one-line explanation (a sentence with its full stop), or the empty
/// string when the catalogue has none.
pub fn explain(kind: Kind, code: &str) -> String {
    explain_in(Lang::default(), kind, code)
}

pub fn explain_in(lang: Lang, kind: Kind, code: &str) -> String {
    message(lang, &kind.id(code), Some("explain"), None).unwrap_or_default()
}

/// `Wrong country (geo_mismatch)`: a label with its code, for plain text
/// (e-mails, flash messages, CSV cells).
pub fn label_code(kind: Kind, code: &str) -> String {
    let l = label(kind, code);
    if code.is_empty() { l } else { format!("{l} ({code})") }
}

/// For a page: the label, then the code as a small tag for integrators, with the
/// explanation as the tooltip — `Wrong country <code class="tag">geo_mismatch</code>`.
/// `kind` is a [`Kind::prefix`] (`"lead-status"`), as templates name it. HTML,
/// escaped here.
pub fn tag(kind: &str, code: &(impl Display + ?Sized)) -> Safe<String> {
    let code = code.to_string();
    let Some(kind) = Kind::parse(kind) else {
        return Safe(format!("<code>{}</code>", escape(&code)));
    };
    if code.is_empty() {
        return Safe(String::new());
    }
    // Settlement writes the rules a lead failed as one reason: `geo_mismatch, too_fast`.
    if kind == Kind::LeadReason && code.contains(", ") {
        return Safe(code.split(", ").map(|c| tag(kind.prefix(), c).0).collect::<Vec<_>>().join(", "));
    }
    let explain = explain(kind, &code);
    let title = if explain.is_empty() { String::new() } else { format!(" title=\"{}\"", escape(&explain)) };
    Safe(format!(
        "<span class=\"label\"{title}>{}</span> <code class=\"tag\">{}</code>",
        escape(&label(kind, &code)),
        escape(&code)
    ))
}

/// Just the label, for a page where the code is shown elsewhere (a badge whose
/// class names it) — escaped by the template like any text.
pub fn words(kind: &str, code: &(impl Display + ?Sized)) -> String {
    let code = code.to_string();
    match Kind::parse(kind) {
        Some(k) => label(k, &code),
        None => fallback(&code),
    }
}

/// A code's explanation, by the prefix a template names.
pub fn explains(kind: &str, code: &(impl Display + ?Sized)) -> String {
    Kind::parse(kind).map(|k| explain(k, &code.to_string())).unwrap_or_default()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A count with its noun in the right plural: `1 lead`, `2 leads`, `0 leads`.
/// `unit` is a noun of the catalogue (`count-<unit>`): lead, click, conversion,
/// offer, publisher, dispute, payout, row, time, second, minute, hour, day.
pub fn count_words(n: i64, unit: &str) -> String {
    count_words_in(Lang::default(), n, unit)
}

pub fn count_words_in(lang: Lang, n: i64, unit: &str) -> String {
    let mut args = FluentArgs::new();
    args.set("n", FluentValue::from(n));
    message(lang, &format!("count-{unit}"), None, Some(&args)).unwrap_or_else(|| {
        tracing::warn!(unit, "no count message for this unit");
        format!("{n} {unit}")
    })
}

/// A sentence of the catalogue that depends on a number `$n` (its plural
/// forms are the catalogue's): `sentence("network-blocks", 2)`.
pub fn sentence(id: &str, n: impl TryInto<i64>) -> String {
    let n = n.try_into().unwrap_or(i64::MAX);
    let mut args = FluentArgs::new();
    args.set("n", FluentValue::from(n));
    message(Lang::default(), id, None, Some(&args)).unwrap_or_else(|| {
        tracing::warn!(id, "no such message");
        String::new()
    })
}

/// A duration for a report cell, at most two units, rounded down: `under a
/// minute`, `45 minutes`, `3 hours 20 minutes`, `1 day 4 hours`, `12 days`.
pub fn duration_words(secs: i64) -> String {
    duration_words_in(Lang::default(), secs)
}

pub fn duration_words_in(lang: Lang, secs: i64) -> String {
    let secs = secs.max(0);
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let pair = |big: String, small: String| {
        let mut args = FluentArgs::new();
        args.set("big", FluentValue::from(big.clone()));
        args.set("small", FluentValue::from(small.clone()));
        message(lang, "duration-pair", None, Some(&args)).unwrap_or_else(|| format!("{big} {small}"))
    };
    let c = |n: i64, unit: &str| count_words_in(lang, n, unit);
    if days > 0 {
        if hours > 0 { pair(c(days, "day"), c(hours, "hour")) } else { c(days, "day") }
    } else if hours > 0 {
        if minutes > 0 { pair(c(hours, "hour"), c(minutes, "minute")) } else { c(hours, "hour") }
    } else if minutes > 0 {
        c(minutes, "minute")
    } else {
        message(lang, "duration-under-minute", None, None).unwrap_or_else(|| "under a minute".into())
    }
}

/// A duration in one unit, rounded up, for "within …": `a minute`, `20 minutes`,
/// `5 hours` (below two days), `3 days`.
pub fn within_words(secs: i64) -> String {
    within_words_in(Lang::default(), secs)
}

pub fn within_words_in(lang: Lang, secs: i64) -> String {
    let up = |unit: i64| (secs.max(0) + unit - 1) / unit;
    if secs <= 60 {
        message(lang, "duration-a-minute", None, None).unwrap_or_else(|| "a minute".into())
    } else if up(60) < 60 {
        count_words_in(lang, up(60), "minute")
    } else if up(3600) < 48 {
        count_words_in(lang, up(3600), "hour")
    } else {
        count_words_in(lang, up(86_400), "day")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_parses() {
        for lang in Lang::ALL {
            let _ = bundle(lang);
        }
    }

    #[test]
    fn every_code_has_a_label_and_an_explanation() {
        let mut missing = vec![];
        for lang in Lang::ALL {
            for kind in Kind::ALL {
                let codes = kind.codes();
                assert!(!codes.is_empty(), "{kind:?} lists no codes");
                for code in codes {
                    let id = kind.id(code);
                    let label = message(lang, &id, None, None);
                    let explain = message(lang, &id, Some("explain"), None);
                    match (&label, &explain) {
                        (Some(l), Some(e)) if !l.trim().is_empty() && !e.trim().is_empty() => {
                            assert!(!l.contains('_'), "{}: label of {id} is a code: {l}", lang.tag());
                            assert!(e.ends_with('.'), "{}: explanation of {id} is not a sentence: {e}", lang.tag());
                        }
                        _ => missing.push(format!("{}:{id}", lang.tag())),
                    }
                }
            }
        }
        assert!(missing.is_empty(), "the catalogue lacks a label or explanation for: {missing:?}");
    }

    #[test]
    fn labels_and_explanations_read_from_the_catalogue() {
        assert_eq!(label(Kind::Rule, "geo_mismatch"), "Wrong country");
        assert_eq!(label(Kind::Reason, "budget_exhausted"), "Out of budget");
        assert_eq!(label(Kind::Model, "cpl"), "Per lead");
        assert_eq!(explain(Kind::Reason, "missing_field"), "The conversion lacks a field the offer requires.");
        // Same code, another kind, another word.
        assert_eq!(label(Kind::Membership, "rejected"), "declined");
        assert_eq!(label(Kind::LeadStatus, "rejected"), "rejected");
        // A code the catalogue does not know still reads as words.
        assert_eq!(label(Kind::Rule, "some_new_rule"), "some new rule");
        assert_eq!(explain(Kind::Rule, "some_new_rule"), "");
        assert_eq!(label_code(Kind::Rule, "geo_mismatch"), "Wrong country (geo_mismatch)");
    }

    #[test]
    fn a_tag_keeps_the_code_beside_its_label_and_escapes() {
        let html = tag("rule", "geo_mismatch").0;
        assert_eq!(
            html,
            "<span class=\"label\" title=\"The click came from a country the offer does not allow.\">Wrong country</span> \
             <code class=\"tag\">geo_mismatch</code>"
        );
        assert_eq!(
            tag("rule", "<b>x").0,
            "<span class=\"label\">&lt;b&gt;x</span> <code class=\"tag\">&lt;b&gt;x</code>"
        );
        assert_eq!(tag("no-such-kind", "a_b").0, "<code>a_b</code>");
        assert!(tag("lead-status", &crate::domain::lifecycle::LeadStatus::Pending).0.contains(">pending<"));
        assert_eq!(words("offer-status", "pending_review"), "pending review");
        assert_eq!(words("account-status", "pending_approval"), "waiting for approval");
    }

    #[test]
    fn counts_take_the_plural_the_number_needs() {
        assert_eq!(count_words(1, "lead"), "1 lead");
        assert_eq!(count_words(2, "lead"), "2 leads");
        assert_eq!(count_words(0, "lead"), "0 leads");
        assert_eq!(count_words(21, "lead"), "21 leads");
        assert_eq!(count_words(1, "hour"), "1 hour");
        assert_eq!(count_words(3, "hour"), "3 hours");
        assert_eq!(count_words(1, "time"), "once");
        assert_eq!(count_words(14, "time"), "14 times");
        assert_eq!(sentence("network-blocks", 1_usize), "1 network-wide block set by Qualead also applies.");
        assert_eq!(sentence("network-blocks", 3_usize), "3 network-wide blocks set by Qualead also apply.");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(duration_words(0), "under a minute");
        assert_eq!(duration_words(59), "under a minute");
        assert_eq!(duration_words(60), "1 minute");
        assert_eq!(duration_words(45 * 60 + 30), "45 minutes");
        assert_eq!(duration_words(3 * 3600 + 20 * 60 + 5), "3 hours 20 minutes");
        assert_eq!(duration_words(3600), "1 hour");
        assert_eq!(duration_words(86_400 + 4 * 3600 + 59), "1 day 4 hours");
        assert_eq!(duration_words(12 * 86_400 + 30 * 60), "12 days");
        assert_eq!(duration_words(-5), "under a minute");
        assert_eq!(within_words(30), "a minute");
        assert_eq!(within_words(61), "2 minutes");
        assert_eq!(within_words(5 * 3600), "5 hours");
        assert_eq!(within_words(47 * 3600 + 1), "2 days");
    }
}
