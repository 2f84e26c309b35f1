//! Terms frozen per lead and reviewed offer changes (DESIGN "Trust"), with no I/O.
//!
//! A lead keeps the money and terms that were in force when its click happened:
//! [`FrozenTerms`] is that version, stored once per change in `offer_terms` and
//! named by each lead. An edit of a live offer's landing page, money or terms
//! becomes a revision an admin reviews ([`REVIEWED`], [`reviewed_changes`]); one that
//! lowers the payout or tightens the terms takes effect only after the offer's
//! notice period ([`tightening`]).

use serde::{Deserialize, Serialize};

use crate::domain::money::{Locale, format_money};
use crate::domain::offer::{OfferSpec, PayoutModel, Scrub, Terms};

/// The money and terms a lead is judged and paid by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FrozenTerms {
    pub payout_model: String,
    pub price_minor: Option<i64>,
    pub rate_bps: Option<i32>,
    /// The offer's own platform fee; `None` takes the platform default at intake.
    pub fee_bps: Option<i32>,
    pub events: Vec<String>,
    pub terms: Terms,
    /// CPS: the largest sale amount a conversion may report.
    pub max_sale_minor: Option<i64>,
    /// The notice an approved change that lowers the payout waits.
    pub notice_hours: u32,
}

impl FrozenTerms {
    pub fn model(&self) -> PayoutModel {
        PayoutModel::parse(&self.payout_model).unwrap_or(PayoutModel::Cpl)
    }

    /// What a conversion costs the advertiser: the fixed price, or for CPS the rate
    /// of the sale amount (`None` when a CPS conversion has no amount above zero).
    pub fn price_of(&self, amount_minor: Option<i64>) -> Option<i64> {
        match self.model() {
            PayoutModel::Cps => amount_minor
                .filter(|a| *a > 0)
                .map(|a| crate::domain::offer::apply_bps(a, self.rate_bps.map(i64::from).unwrap_or(0))),
            _ => Some(self.price_minor.unwrap_or(0)),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// `None` for a stored version that does not read (never a default price of 0).
    pub fn from_json(s: &str) -> Option<FrozenTerms> {
        serde_json::from_str(s).ok()
    }
}

/// Members of the offer body whose change on a live (active or paused) offer waits
/// for an admin. Everything else (name, description, category, visibility, time
/// zone, caps and budget, the channels the advertiser switches on or off, its
/// postback allow-list) takes effect at once.
pub const REVIEWED: &[&str] = &[
    "landing_url",
    "fallback_url",
    "payout_model",
    "price",
    "rate_bps",
    "events",
    "terms",
    "max_sale_amount",
    "notice_hours",
];

impl FrozenTerms {
    /// The terms a validated offer body sets, with the offer's own fee.
    pub fn of_spec(s: &OfferSpec, fee_bps: Option<i32>) -> FrozenTerms {
        FrozenTerms {
            payout_model: s.payout_model.as_str().to_string(),
            price_minor: s.price_minor,
            rate_bps: s.rate_bps,
            fee_bps,
            events: s.events.clone(),
            terms: s.terms.clone(),
            max_sale_minor: s.channels.max_sale_minor,
            notice_hours: s.notice_hours,
        }
    }
}

/// The reviewed members (names of [`REVIEWED`]) that differ between two validated bodies.
pub fn reviewed_changes(live: &OfferSpec, proposed: &OfferSpec) -> Vec<String> {
    let mut out = Vec::new();
    let mut differs = |name: &str, changed: bool| {
        if changed {
            out.push(name.to_string());
        }
    };
    differs("landing_url", live.landing_url != proposed.landing_url);
    differs("fallback_url", live.fallback_url != proposed.fallback_url);
    differs("payout_model", live.payout_model != proposed.payout_model);
    differs("price", live.price_minor != proposed.price_minor);
    differs("rate_bps", live.rate_bps != proposed.rate_bps);
    differs("events", live.events != proposed.events);
    differs("terms", live.terms != proposed.terms);
    differs("max_sale_amount", live.channels.max_sale_minor != proposed.channels.max_sale_minor);
    differs("notice_hours", live.notice_hours != proposed.notice_hours);
    out
}

/// `into` with the reviewed members taken from `from`: the live offer with an
/// approved revision's changes, or a proposed body with its reviewed members put
/// back to the live ones (what an edit changes at once).
pub fn copy_reviewed(into: &mut OfferSpec, from: &OfferSpec) {
    // The channel settings follow the payout model (a CPS offer's pixel is off
    // unless the advertiser turns it on): a model change carries them along.
    if into.payout_model != from.payout_model {
        into.channels = from.channels;
    }
    into.landing_url = from.landing_url.clone();
    into.fallback_url = from.fallback_url.clone();
    into.payout_model = from.payout_model;
    into.price_minor = from.price_minor;
    into.rate_bps = from.rate_bps;
    into.events = from.events.clone();
    into.terms = from.terms.clone();
    into.channels.max_sale_minor = from.channels.max_sale_minor;
    into.notice_hours = from.notice_hours;
}

/// Whose money a sentence speaks of: the advertiser's price (advertisers, admins)
/// or the publisher's payout after the fee (publishers never see the price or fee).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Price,
    Payout { fee_default_bps: i64 },
}

impl Side {
    /// The amount (or CPS rate in basis points) this side sees of `value`.
    fn of(self, value: i64, t: &FrozenTerms) -> i64 {
        match self {
            Side::Price => value,
            Side::Payout { fee_default_bps } => {
                crate::domain::offer::split_price(value, t.fee_bps.map(i64::from).unwrap_or(fee_default_bps)).1
            }
        }
    }
    fn word(self) -> &'static str {
        match self {
            Side::Price => "price",
            Side::Payout { .. } => "payout",
        }
    }
}

/// In plain words, each way `new` pays less or asks more than `old`; empty when it
/// only raises the payout or loosens the terms, which then takes effect at once.
/// Money is told from `side`'s point of view.
pub fn tightening(old: &FrozenTerms, new: &FrozenTerms, currency: &str, side: Side) -> Vec<String> {
    let mut out = Vec::new();
    // In English: the same lines go to pages and e-mails.
    let money = |m: Option<i64>| format_money(m.unwrap_or(0), currency, Locale::En);
    let word = side.word();
    if old.model() != new.model() {
        out.push(format!("the payout model changes from {} to {}", old.model().label(), new.model().label()));
    } else if new.model() == PayoutModel::Cps {
        let (a, b) =
            (side.of(i64::from(old.rate_bps.unwrap_or(0)), old), side.of(i64::from(new.rate_bps.unwrap_or(0)), new));
        if b < a {
            let pct = |b: i64| format!("{}.{:02} %", b / 100, b % 100);
            out.push(format!("the {word} falls from {} to {} of each sale", pct(a), pct(b)));
        }
        // A version stored before the maximum existed had the default one.
        let max = |t: &FrozenTerms| t.max_sale_minor.unwrap_or(crate::domain::offer::DEFAULT_MAX_SALE_MINOR);
        if max(new) < max(old) {
            out.push(format!(
                "the largest sale paid falls from {} to {}",
                money(Some(max(old))),
                money(Some(max(new)))
            ));
        }
    } else {
        let (a, b) = (side.of(old.price_minor.unwrap_or(0), old), side.of(new.price_minor.unwrap_or(0), new));
        if b < a {
            out.push(format!("the {word} falls from {} to {}", money(Some(a)), money(Some(b))));
        }
    }
    let removed: Vec<&String> = old.events.iter().filter(|e| !new.events.contains(e)).collect();
    if !removed.is_empty() {
        out.push(format!(
            "events no longer paid: {}",
            removed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let (o, n) = (&old.terms, &new.terms);
    let added: Vec<&String> = n.required_fields.iter().filter(|f| !o.required_fields.contains(f)).collect();
    if !added.is_empty() {
        out.push(format!("newly required fields: {}", added.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
    }
    let more = |out: &mut Vec<String>, what: &str, a: u32, b: u32, unit: &str| {
        if b > a {
            out.push(format!("{what} rises from {a} to {b}{unit}"));
        }
    };
    let less = |out: &mut Vec<String>, what: &str, a: u32, b: u32, unit: &str| {
        if b < a {
            out.push(format!("{what} falls from {a} to {b}{unit}"));
        }
    };
    more(&mut out, "the hold", o.hold_hours, n.hold_hours, " hours");
    more(&mut out, "the return window", o.return_window_days, n.return_window_days, " days");
    more(&mut out, "the maximum return rate", o.max_return_rate_pct, n.max_return_rate_pct, " %");
    less(&mut out, "the conversion window", o.conversion_window_days, n.conversion_window_days, " days");
    out.extend(super::targeting::narrowed(o, n));
    if n.advertiser_decides() && !o.advertiser_decides() {
        out.push("the advertiser's verdict decides each lead instead of the scrub rules".into());
    }
    if n.advertiser_decides() && !n.default_approves() && (!o.advertiser_decides() || o.default_approves()) {
        out.push("a lead the advertiser has not decided when the hold ends is rejected".into());
    }
    let (os, ns) = (&o.scrub, &n.scrub);
    more(&mut out, "the duplicate look-back", os.duplicate_days, ns.duplicate_days, " days");
    if os.duplicate_scope != ns.duplicate_scope && ns.duplicate_scope == "advertiser" {
        out.push("duplicates are sought across all of the advertiser's offers".into());
    }
    more(&mut out, "the minimum time from click to lead", os.min_seconds, ns.min_seconds, " seconds");
    if ns.max_conversion_days != 0 && (os.max_conversion_days == 0 || ns.max_conversion_days < os.max_conversion_days) {
        out.push(format!(
            "conversions more than {} after the click are rejected",
            crate::i18n::count_words(i64::from(ns.max_conversion_days), "day")
        ));
    }
    if ns.max_leads_per_ip != 0 && (os.max_leads_per_ip == 0 || ns.max_leads_per_ip < os.max_leads_per_ip) {
        out.push(format!(
            "at most {} per IP address in 24 hours",
            crate::i18n::count_words(i64::from(ns.max_leads_per_ip), "lead")
        ));
    }
    if duplicate_click_tightens(os, ns)
        && let Some(words) = crate::domain::offer::duplicate_click_words(ns)
    {
        out.push(format!("repeated clicks: {words}"));
    }
    let switched_on = |out: &mut Vec<String>, what: &str, a: bool, b: bool| {
        if b && !a {
            out.push(format!("{what} is switched on"));
        }
    };
    switched_on(&mut out, "the disposable e-mail check", os.block_disposable, ns.block_disposable);
    switched_on(&mut out, "the bot check", os.block_bots, ns.block_bots);
    switched_on(&mut out, "the datacenter check", os.block_datacenter, ns.block_datacenter);
    switched_on(&mut out, "the privacy-relay check", os.block_relay, ns.block_relay);
    switched_on(&mut out, "the e-mail check", os.check_email, ns.check_email);
    switched_on(&mut out, "the phone check", os.check_phone, ns.check_phone);
    switched_on(&mut out, "the name check", os.check_name, ns.check_name);
    more(&mut out, "the minimum quality score", os.min_score, ns.min_score, "");
    // A shorter notice would let the next cut take effect sooner: it waits out the old one.
    less(&mut out, "the notice before a lowering change", old.notice_hours, new.notice_hours, " hours");
    out
}

/// Whether `new`'s `duplicate_click` judges some click more harshly than `old`'s:
/// switched on, a longer window, a lower flag, or a rejection where there was none
/// or at a lower count.
fn duplicate_click_tightens(old: &Scrub, new: &Scrub) -> bool {
    if new.duplicate_click_minutes == 0 {
        return false;
    }
    if old.duplicate_click_minutes == 0 {
        return true;
    }
    let rejects_sooner = new.duplicate_click_reject > 0
        && (old.duplicate_click_reject == 0 || new.duplicate_click_reject < old.duplicate_click_reject);
    new.duplicate_click_minutes > old.duplicate_click_minutes
        || new.duplicate_click_flag < old.duplicate_click_flag
        || rejects_sooner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpl(price: i64) -> FrozenTerms {
        FrozenTerms { payout_model: "cpl".into(), price_minor: Some(price), ..Default::default() }
    }

    #[test]
    fn raises_and_loosening_take_effect_at_once() {
        assert!(tightening(&cpl(1000), &cpl(1200), "USD", Side::Price).is_empty());
        let mut looser = cpl(1000);
        looser.terms.hold_hours = 24;
        assert!(tightening(&cpl(1000), &looser, "USD", Side::Price).is_empty());
    }

    #[test]
    fn lowers_and_tightening_wait_for_the_notice() {
        let t = tightening(&cpl(1000), &cpl(800), "USD", Side::Price);
        assert_eq!(t, vec!["the price falls from $10.00 to $8.00".to_string()]);
        let t = tightening(&cpl(1000), &cpl(800), "USD", Side::Payout { fee_default_bps: 2000 });
        assert_eq!(t, vec!["the payout falls from $8.00 to $6.40".to_string()], "no price or fee");
        let mut stricter = cpl(1000);
        stricter.terms.required_fields.push("zip".into());
        stricter.terms.scrub.min_seconds = 30;
        stricter.terms.allowed_countries = vec!["US".into()];
        let t = tightening(&cpl(1000), &stricter, "USD", Side::Price);
        assert!(t.iter().any(|l| l.contains("zip")), "{t:?}");
        assert!(t.iter().any(|l| l.contains("30 seconds")), "{t:?}");
        assert!(t.iter().any(|l| l.contains("every country to US")), "{t:?}");
        let cps = |rate| FrozenTerms { payout_model: "cps".into(), rate_bps: Some(rate), ..Default::default() };
        assert_eq!(tightening(&cps(500), &cps(400), "USD", Side::Price).len(), 1);
        assert_eq!(tightening(&cpl(1000), &cps(400), "USD", Side::Price).len(), 1);
    }

    #[test]
    fn the_advertisers_verdict_and_a_reject_default_are_tightening() {
        let mut verdict = cpl(1000);
        verdict.terms.decision = "advertiser".into();
        let t = tightening(&cpl(1000), &verdict, "USD", Side::Price);
        assert_eq!(t, vec!["the advertiser's verdict decides each lead instead of the scrub rules".to_string()]);
        let mut reject = verdict.clone();
        reject.terms.decision_default = "reject".into();
        let t = tightening(&verdict, &reject, "USD", Side::Price);
        assert_eq!(t, vec!["a lead the advertiser has not decided when the hold ends is rejected".to_string()]);
        assert!(tightening(&reject, &cpl(1000), "USD", Side::Price).is_empty(), "back to the rules loosens");
    }

    #[test]
    fn a_stricter_duplicate_click_rule_is_tightening() {
        let with = |minutes, flag, reject| {
            let mut t = cpl(1000);
            t.terms.scrub.duplicate_click_minutes = minutes;
            t.terms.scrub.duplicate_click_flag = flag;
            t.terms.scrub.duplicate_click_reject = reject;
            t
        };
        let t = tightening(&cpl(1000), &with(10, 5, 20), "USD", Side::Price);
        assert_eq!(
            t,
            vec![
                "repeated clicks: a lead whose click follows more than 5 clicks from the same IP address and browser \
                 on this link within 10 minutes is flagged (its quality score drops); after more than 20, it is rejected"
                    .to_string()
            ]
        );
        let base = with(10, 5, 20);
        for stricter in [with(30, 5, 20), with(10, 3, 20), with(10, 5, 10)] {
            assert_eq!(tightening(&base, &stricter, "USD", Side::Price).len(), 1, "{:?}", stricter.terms.scrub);
        }
        assert_eq!(tightening(&with(10, 5, 0), &with(10, 5, 30), "USD", Side::Price).len(), 1, "rejects at all");
        for looser in [with(5, 5, 20), with(10, 8, 20), with(10, 5, 30), with(10, 5, 0), cpl(1000)] {
            assert!(tightening(&base, &looser, "USD", Side::Price).is_empty(), "{:?}", looser.terms.scrub);
        }
    }

    #[test]
    fn a_shorter_notice_is_tightening() {
        let mut long = cpl(1000);
        long.notice_hours = 720;
        let t = tightening(&long, &cpl(1000), "USD", Side::Price);
        assert_eq!(t, vec!["the notice before a lowering change falls from 720 to 0 hours".to_string()]);
    }

    #[test]
    fn cps_price_is_the_frozen_rate_of_the_sale() {
        let t = FrozenTerms { payout_model: "cps".into(), rate_bps: Some(1000), ..Default::default() };
        assert_eq!(t.price_of(Some(10_000)), Some(1_000));
        assert_eq!(t.price_of(None), None);
        assert_eq!(cpl(1234).price_of(Some(99)), Some(1234));
    }
}
