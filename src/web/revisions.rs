//! Offer revisions as the pages show them (DESIGN "Trust"): what a change waiting
//! for review would change, from what to what, in plain words, and what became of
//! earlier ones. The admin's offer page decides them; the advertiser's shows them.

use crate::domain::local::Local;
use crate::domain::offer::{self, OfferBody};
use crate::store::offers::Offer;
use crate::store::revisions::Revision;

/// One changed member: what it is, what it is now, what it would become.
#[derive(Debug, Clone)]
pub struct Change {
    pub what: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone)]
pub struct RevisionView {
    pub id: i64,
    pub status: String,
    pub changes: Vec<Change>,
    /// How it lowers the payout or tightens the terms; empty for a raise.
    pub tightens: Vec<String>,
    pub note: String,
    pub created: String,
    /// When it takes (or took) effect, once approved.
    pub effective: String,
    pub applied: bool,
    /// The notice an approval would give, for a pending one (hours; 0 = at once).
    pub notice_hours: i64,
}

impl RevisionView {
    pub fn pending(&self) -> bool {
        self.status == "pending"
    }
    /// Approved, waiting for its notice to run out.
    pub fn scheduled(&self) -> bool {
        self.status == "approved" && !self.applied
    }
    pub fn status_words(&self) -> &'static str {
        match self.status.as_str() {
            "pending" => "waiting for review",
            "approved" if self.applied => "in effect",
            "approved" => "approved, takes effect later",
            "rejected" => "sent back",
            "superseded" => "replaced by a later change",
            _ => "unknown",
        }
    }
}

fn pay(body: &OfferBody, local: &Local) -> String {
    match body.payout_model.as_str() {
        "cps" => body.rate_bps.map(|b| format!("{} % of each sale", crate::web::offer_form::percent_of_bps(b))),
        model => {
            let unit = if model == "cpa" { "action" } else { "lead" };
            body.price.as_ref().map(|p| format!("{} per {unit}", local.amount(p)))
        }
    }
    .unwrap_or_default()
}

/// What `r` would change on `offer` as it runs now.
pub fn view(offer: &Offer, r: &Revision, local: &Local) -> RevisionView {
    let live = offer.body();
    let proposed: OfferBody = serde_json::from_value(r.body()).unwrap_or_else(|_| live.clone());
    let mut changes = Vec::new();
    let mut add = |what: &str, from: String, to: String| {
        if from != to {
            changes.push(Change { what: what.into(), from, to });
        }
    };
    add("Landing page", live.landing_url.clone(), proposed.landing_url.trim().to_string());
    add(
        "Fallback page",
        live.fallback_url.clone().unwrap_or_default(),
        proposed.fallback_url.clone().unwrap_or_default().trim().to_string(),
    );
    add("Payout model", live.payout_model.clone(), proposed.payout_model.clone());
    add("Price", pay(&live, local), pay(&proposed, local));
    add("Events", live.events.join(", "), proposed.events.join(", "));
    let old_terms = offer::plain_terms(&live.terms, &Default::default());
    let new_terms = offer::plain_terms(&proposed.terms, &Default::default());
    let removed: Vec<String> = old_terms.iter().filter(|t| !new_terms.contains(t)).cloned().collect();
    let added: Vec<String> = new_terms.iter().filter(|t| !old_terms.contains(t)).cloned().collect();
    if !removed.is_empty() || !added.is_empty() {
        add("Terms", removed.join(" · "), added.join(" · "));
    }
    if let (Ok(a), Ok(b)) = (offer::validate(&live), offer::validate(&proposed)) {
        let money = |m: Option<i64>| m.map(|m| local.money(m)).unwrap_or("—".into());
        add("Largest sale paid", money(a.channels.max_sale_minor), money(b.channels.max_sale_minor));
        add(
            "Notice of lowering changes",
            crate::i18n::count_words(i64::from(a.notice_hours), "hour"),
            crate::i18n::count_words(i64::from(b.notice_hours), "hour"),
        );
    }
    let tightens = r.tightens();
    RevisionView {
        id: r.id,
        status: r.status.clone(),
        changes,
        notice_hours: if tightens.is_empty() { 0 } else { crate::marketplace::notice_hours(offer) },
        tightens,
        note: r.note.clone(),
        created: local.time(r.created_at),
        effective: r.effective_at.map(|t| local.time(t)).unwrap_or_default(),
        applied: r.applied_at.is_some(),
    }
}

/// The revisions worth showing on an offer's page: the pending one, those
/// scheduled, and the last few decided.
pub fn views(offer: &Offer, list: &[Revision], local: &Local) -> Vec<RevisionView> {
    list.iter().take(10).map(|r| view(offer, r, local)).collect()
}
