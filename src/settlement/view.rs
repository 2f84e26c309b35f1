//! A lead as each role may read it (DESIGN §3, §11): the advertiser and admins see
//! the contact data, a publisher sees it masked; every admin view of unmasked
//! personal data goes to the audit log.

use chrono::NaiveDateTime;

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::domain::money::format_minor;
use crate::domain::scrub::{self, Check};
use crate::error::AppResult;
use crate::store::disputes::{self, Dispute};
use crate::store::leads::{self, Event, Lead, LeadStatus};

/// The full lead page / `GET /api/v1/leads/{id}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeadView {
    pub id: i64,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub advertiser_id: i64,
    pub status: LeadStatus,
    /// Failed rule codes, or the reason code of a person's decision.
    pub reasons: Vec<String>,
    /// Every rule's outcome, once settled.
    pub checks: Vec<Check>,
    pub score: Option<i32>,
    /// Decimal strings, each for whom it concerns (DESIGN §4): the price for the
    /// advertiser and admins, the payout for the publisher and admins, the fee for
    /// admins only; `null` otherwise.
    pub price: Option<String>,
    pub payout: Option<String>,
    pub fee: Option<String>,
    pub amount: Option<String>,
    pub event: String,
    pub channel: String,
    pub txid: Option<String>,
    pub click_id: Option<String>,
    pub subs: [String; 5],
    pub source: String,
    pub country: Option<String>,
    pub ip: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub history: Vec<Event>,
    pub disputes: Vec<Dispute>,
    pub disputed_from: Option<LeadStatus>,
    pub click_at: Option<NaiveDateTime>,
    pub hold_until: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// The offer terms the lead was accepted under and is judged by (DESIGN "Trust").
    pub terms: LeadTerms,
    /// `advertiser` mode, a pending lead, for its advertiser and admins: what the
    /// scrub rules say now (`approve` or `reject`); `checks` and `score` are theirs.
    pub recommendation: Option<String>,
}

/// The terms a lead keeps: their stored version, the terms themselves, and the
/// same in plain words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeadTerms {
    pub version: Option<i64>,
    /// Required fields, hold, return window and rate, conversion window,
    /// countries and scrub rules, at the top level of the JSON.
    #[serde(flatten)]
    pub terms: crate::domain::offer::Terms,
    /// The shared lists settlement used (empty until settled).
    pub lists_version: String,
    pub plain: Vec<String>,
}

impl LeadTerms {
    fn of(version: Option<i64>, t: crate::domain::offer::Terms, lists_version: String) -> LeadTerms {
        let plain = crate::domain::offer::plain_terms(&t, &Default::default());
        LeadTerms { version, terms: t, lists_version, plain }
    }
}

impl LeadView {
    /// Whether the lead is disputed because its advertiser returned it (not contested).
    pub fn is_return(&self) -> bool {
        self.disputed_from == Some(LeadStatus::Approved)
    }
}

/// A row of a lead list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeadRow {
    pub id: i64,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub status: LeadStatus,
    pub reasons: Vec<String>,
    pub score: Option<i32>,
    /// The price (advertiser, admin) and the payout (publisher, admin); `null` otherwise.
    pub price: Option<String>,
    pub payout: Option<String>,
    pub event: String,
    pub sub1: String,
    pub country: Option<String>,
    pub created_at: NaiveDateTime,
    pub hold_until: NaiveDateTime,
}

fn is_publisher(who: &Acting) -> bool {
    who.user.role() == Role::Publisher
}

/// What each role is shown of a lead's money: (price, payout, fee).
fn shown(who: &Acting) -> (bool, bool, bool) {
    match who.user.role() {
        Role::Admin => (true, true, true),
        Role::Advertiser => (true, false, false),
        Role::Publisher => (false, true, false),
    }
}

/// The lead for `who`, masked for publishers. An admin's view is audited.
pub fn lead(conn: &mut DbConn, who: &Acting, lead: Lead) -> AppResult<LeadView> {
    let masked = is_publisher(who);
    let (show_price, show_payout, show_fee) = shown(who);
    let history = leads::history(conn, lead.id)?;
    let disputes = disputes::for_lead(conn, lead.id)?;
    if who.user.role() == Role::Admin {
        who.audit(conn, "lead.view", ("lead", Some(lead.id)), "personal data shown")?;
    }
    let fields = if masked { scrub::mask_fields(&lead.fields_map()) } else { lead.fields_map() };
    let offer = crate::store::offers::find(conn, lead.offer_id)?;
    let frozen = crate::store::terms::of_lead(conn, lead.terms_id, offer.as_ref())?;
    let terms = LeadTerms::of(lead.terms_id, frozen.terms, lead.lists_version.clone());
    let advice = if lead.status == LeadStatus::Pending && terms.terms.advertiser_decides() && !masked {
        Some(crate::settlement::run::recommend(conn, &lead)?)
    } else {
        None
    };
    let recommendation = advice.as_ref().map(|v| if v.approved { "approve" } else { "reject" }.to_string());
    let (checks, score) = match advice {
        Some(v) => (v.checks, Some(v.score)),
        None if masked => (publisher_checks(&lead.checks), lead.score),
        None => (serde_json::from_str(&lead.checks).unwrap_or_default(), lead.score),
    };
    Ok(LeadView {
        id: lead.id,
        offer_id: lead.row.offer_id,
        publisher_id: lead.row.publisher_id,
        advertiser_id: lead.row.advertiser_id,
        status: lead.row.status,
        reasons: lead.reason_list(),
        checks,
        score,
        price: show_price.then(|| format_minor(lead.row.price_minor)),
        payout: show_payout.then(|| format_minor(lead.row.payout_minor)),
        fee: show_fee.then(|| format_minor(lead.row.fee_minor)),
        amount: lead.row.amount_minor.map(format_minor),
        event: lead.row.event,
        channel: lead.row.channel,
        txid: lead.row.txid,
        click_id: lead.row.click_id,
        subs: [lead.row.sub1, lead.row.sub2, lead.row.sub3, lead.row.sub4, lead.row.sub5],
        source: lead.row.source,
        country: lead.row.country,
        ip: if masked { mask_ip(&lead.row.ip) } else { lead.row.ip },
        fields,
        history,
        disputes,
        disputed_from: lead.disputed_from,
        click_at: lead.row.click_at,
        hold_until: lead.row.hold_until,
        decided_at: lead.decided_at,
        created_at: lead.row.created_at,
        terms,
        recommendation,
    })
}

/// Leads `who` may see, filtered; the role's scope overrides the filter's.
pub fn list(conn: &mut DbConn, who: &Acting, filter: &leads::Filter) -> AppResult<Vec<LeadRow>> {
    let mut f = filter.clone();
    match who.user.role() {
        Role::Admin => {}
        Role::Advertiser => f.advertiser_id = Some(who.user.id),
        Role::Publisher => f.publisher_id = Some(who.user.id),
    }
    let (show_price, show_payout, _) = shown(who);
    Ok(leads::list(conn, &f)?
        .into_iter()
        .map(|l| LeadRow {
            id: l.id,
            offer_id: l.row.offer_id,
            publisher_id: l.row.publisher_id,
            status: l.row.status,
            reasons: l.reason_list(),
            score: l.score,
            price: show_price.then(|| format_minor(l.row.price_minor)),
            payout: show_payout.then(|| format_minor(l.row.payout_minor)),
            event: l.row.event,
            sub1: l.row.sub1,
            country: l.row.country,
            created_at: l.row.created_at,
            hold_until: l.row.hold_until,
        })
        .collect())
}

/// Rule outcomes for a publisher: a duplicate names no lead id (the earlier lead
/// may be another publisher's), and no address: how the lead's e-mail was compared
/// is told by its provider's rule (`same e-mail as an earlier lead (compared as a
/// Gmail address: dots and +tags do not count)`).
fn publisher_checks(stored: &str) -> Vec<Check> {
    let mut checks: Vec<Check> = serde_json::from_str(stored).unwrap_or_default();
    for c in checks.iter_mut().filter(|c| c.code == scrub::DUPLICATE_CONTACT && !c.passed) {
        c.detail = publisher_duplicate_detail(&c.detail);
    }
    checks
}

/// `same e-mail as lead #4711 (j.doe+promo@gmail.com compares as jdoe@gmail.com)` →
/// `same e-mail as an earlier lead (compared as a Gmail address: dots and +tags do
/// not count)`. A detail from before the e-mail and phone were told apart becomes
/// `same e-mail or phone as an earlier lead`.
fn publisher_duplicate_detail(stored: &str) -> String {
    let what = ["e-mail and phone", "e-mail", "phone"]
        .into_iter()
        .find(|w| stored.starts_with(&format!("same {w} as lead #")))
        .unwrap_or("e-mail or phone");
    let mut detail = format!("same {what} as an earlier lead");
    let compared = stored.rsplit_once(" compares as ").map(|(_, c)| c.trim_end_matches(')'));
    if let Some(p) = compared.and_then(|c| c.rsplit_once('@')).and_then(|(_, d)| scrub::provider(d)) {
        detail.push_str(&format!(" (compared as a {} address: {})", p.name, p.rule));
    }
    detail
}

/// `203.0.113.5` → `203.0.113.*`; IPv6 keeps its first four groups.
pub fn mask_ip(ip: &str) -> String {
    if let Some((head, _)) = ip.rsplit_once('.') {
        return format!("{head}.*");
    }
    if ip.contains(':') {
        let head: Vec<&str> = ip.split(':').take(4).collect();
        return format!("{}:*", head.join(":"));
    }
    ip.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dup(detail: &str) -> String {
        let stored = serde_json::to_string(&[
            Check { code: scrub::DUPLICATE_CONTACT.into(), passed: false, detail: detail.into() },
            Check { code: scrub::TOO_FAST.into(), passed: false, detail: "converted 1 s after the click".into() },
        ])
        .unwrap_or_default();
        let checks = publisher_checks(&stored);
        assert_eq!(checks[1].detail, "converted 1 s after the click", "other details stay");
        checks[0].detail.clone()
    }

    #[test]
    fn a_publisher_sees_no_lead_id_and_no_address() {
        assert_eq!(
            dup("same e-mail as lead #4711 (j.doe+promo@gmail.com compares as jdoe@gmail.com)"),
            "same e-mail as an earlier lead (compared as a Gmail address: dots and +tags do not count)"
        );
        assert_eq!(
            dup("same e-mail and phone as lead #7 (john-doe@ya.ru compares as john.doe@yandex.ru)"),
            "same e-mail and phone as an earlier lead (compared as a Yandex Mail address: its domains are one \
             mailbox, a hyphen is a dot and +tags do not count)"
        );
        assert_eq!(dup("same e-mail as lead #12"), "same e-mail as an earlier lead");
        assert_eq!(dup("same phone as lead #12"), "same phone as an earlier lead");
        assert_eq!(dup("same e-mail or phone as lead #12"), "same e-mail or phone as an earlier lead");
        let d = dup("same e-mail as lead #4711 (j.doe+promo@gmail.com compares as jdoe@gmail.com)");
        assert!(!d.contains('#') && !d.contains('@') && !d.contains("doe"), "{d}");
    }
}
