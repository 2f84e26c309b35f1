//! Operations on offers and memberships shared by the web pages and the JSON API.
//! Each runs inside the caller's transaction, checks who may do it, and writes its
//! audit line (admin actions) and e-mails (outbox) in that same transaction. An
//! operation that changes what others must hear of returns its [`Effects`] beside
//! its result, for the caller to apply once the transaction commits.

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::domain::offer::{self, Actor, OfferBody, OfferStatus, Visibility};
use crate::domain::source_block;
use crate::domain::terms::{FrozenTerms, REVIEWED, Side, copy_reviewed, reviewed_changes, tightening};
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::mail::{
    self,
    templates::{
        MembershipDecided, OfferReviewed, OfferStatusChanged, OfferTermsChanged, PublisherApplied, RevisionReviewed,
    },
};
use crate::store::offers::{self, Membership, MembershipStatus, Offer};
use crate::store::revisions::{self, Revision};
use crate::store::source_blocks;
use crate::store::users::{self, User};
use crate::store::{settings, terms};
use chrono::{Duration, NaiveDateTime};

/// The offer, if `who` may see it; otherwise `NotFound` (never reveal that it exists).
/// Advertisers see their own; admins all; publishers active public/approval offers
/// and any offer they are a member of (except drafts under review).
pub fn visible_offer(conn: &mut DbConn, who: &User, id: i64) -> AppResult<(Offer, Option<Membership>)> {
    let offer = offers::find(conn, id)?.ok_or(AppError::NotFound)?;
    match who.role() {
        Role::Admin => Ok((offer, None)),
        Role::Advertiser if offer.advertiser_id == who.id => Ok((offer, None)),
        Role::Advertiser => Err(AppError::NotFound),
        Role::Publisher => {
            let member = offers::membership(conn, id, who.id)?;
            let listed = offer.status() == OfferStatus::Active && offer.visibility() != Visibility::Private;
            let as_member = member.is_some() && matches!(offer.status(), OfferStatus::Active | OfferStatus::Paused);
            if listed || as_member { Ok((offer, member)) } else { Err(AppError::NotFound) }
        }
    }
}

/// The offer if `who` owns it (or is an admin), for changes.
pub fn owned_offer(conn: &mut DbConn, who: &User, id: i64) -> AppResult<Offer> {
    let offer = offers::find(conn, id)?.ok_or(AppError::NotFound)?;
    match who.role() {
        Role::Admin => Ok(offer),
        Role::Advertiser if offer.advertiser_id == who.id => Ok(offer),
        Role::Advertiser => Err(AppError::NotFound),
        Role::Publisher => Err(AppError::Forbidden),
    }
}

pub fn create_offer(conn: &mut DbConn, who: &Acting, body: &OfferBody) -> AppResult<Offer> {
    if who.role() != Role::Advertiser {
        return Err(AppError::Forbidden);
    }
    let spec = offer::validate(body).map_err(AppError::Invalid)?;
    Ok(offers::create(conn, who.user.id, &spec)?)
}

/// Replace an offer's fields with `body` (validated as a whole). On a live offer
/// (active or paused) a change of a reviewed member (DESIGN "Trust": landing or
/// fallback URL, money, events, terms) becomes a pending revision for an admin,
/// returned beside the offer; the rest of the edit applies at once. The offer's
/// links change (landing page, fallback, caps, cookie window).
pub fn update_offer(
    conn: &mut DbConn,
    who: &Acting,
    id: i64,
    body: &OfferBody,
) -> AppResult<(Offer, Option<Revision>, Effects)> {
    owned_offer(conn, &who.user, id)?;
    let current = offers::lock(conn, id)?.ok_or(AppError::NotFound)?;
    if current.status() == OfferStatus::Archived {
        return Err(AppError::conflict("offer_archived", "An archived offer cannot be changed."));
    }
    let spec = offer::validate(body).map_err(AppError::Invalid)?;
    let live = matches!(current.status(), OfferStatus::Active | OfferStatus::Paused);
    let mut revision = None;
    let mut now_spec = spec.clone();
    if live {
        // A stored body that no longer validates (written before a rule) is
        // reviewed as a whole, so that the edit fixing it is possible.
        let live_spec = offer::validate(&current.body()).ok();
        let changes = match &live_spec {
            Some(l) => reviewed_changes(l, &spec),
            None => REVIEWED.iter().map(|m| m.to_string()).collect(),
        };
        if changes.is_empty() {
            // Reviewed members put back as they run: a change waiting for review
            // is withdrawn.
            revisions::supersede_pending(conn, id)?;
        } else {
            refuse_while_scheduled(conn, id, "change its landing page, money or terms after that")?;
            match &live_spec {
                Some(l) => copy_reviewed(&mut now_spec, l),
                None => now_spec = offer::validate(&current.body()).unwrap_or_else(|_| spec.clone()),
            }
            let old = terms::of_offer(&current);
            let new = proposed_terms(&current, &spec);
            let tightens = tightening(&old, &new, &who.currency, Side::Price);
            let body_json = serde_json::to_value(body).map_err(|e| AppError::Internal(e.into()))?;
            let r = revisions::propose(conn, id, &body_json, &changes, &tightens, who.user.id)?;
            who.audit(conn, "offer.revision", ("offer", Some(id)), &changes.join(", "))?;
            revision = Some(r);
        }
    }
    offers::update(conn, id, &now_spec)?;
    who.audit(conn, "offer.update", ("offer", Some(id)), &current.name)?;
    Ok((offers::find(conn, id)?.ok_or(AppError::NotFound)?, revision, Effects::LINKS))
}

/// The terms a proposed body would put in force on `offer` (its own fee stays).
fn proposed_terms(offer: &Offer, spec: &offer::OfferSpec) -> FrozenTerms {
    FrozenTerms::of_spec(spec, offer.fee_bps)
}

/// Apply a JSON merge patch to an offer; a `"status"` member changes the status.
/// The patch merges into the offer's pending revision, if it has one, so that
/// successive edits add up.
pub fn patch_offer(
    conn: &mut DbConn,
    who: &Acting,
    id: i64,
    patch: &serde_json::Value,
) -> AppResult<(Offer, Option<Revision>, Effects)> {
    let current = owned_offer(conn, &who.user, id)?;
    let mut patch = patch.clone();
    let Some(obj) = patch.as_object_mut() else {
        return Err(AppError::invalid("the body must be a JSON object"));
    };
    let status = obj.remove("status");
    let mut offer = current.clone();
    let mut revision = None;
    let mut effects = Effects::NONE;
    if !obj.is_empty() {
        let mut merged = serde_json::to_value(edit_base(conn, &current)?).map_err(|e| AppError::Internal(e.into()))?;
        offer::merge_patch(&mut merged, &patch);
        offer::reset_model_defaults(&mut merged, &patch, current.model());
        let body: OfferBody = crate::error::read_json(merged)?;
        (offer, revision, effects) = update_offer(conn, who, id, &body)?;
    }
    if let Some(s) = status {
        let to = s.as_str().and_then(OfferStatus::parse).ok_or_else(|| {
            AppError::invalid("status must be one of draft, pending_review, active, paused, archived")
        })?;
        if to != offer.status() {
            let (moved, changed) = change_status(conn, who, id, to, None)?;
            offer = moved;
            effects |= changed;
        }
    }
    Ok((offer, revision, effects))
}

/// What an edit of `offer` starts from: the offer as it runs, with the reviewed
/// members of its pending revision (if any), so that successive edits add up and
/// what changed at once since (caps, channels) is not put back.
pub fn edit_base(conn: &mut DbConn, offer: &Offer) -> AppResult<OfferBody> {
    let live = offer.body();
    let Some(pending) = revisions::pending(conn, offer.id)? else { return Ok(live) };
    let mut base = serde_json::to_value(&live).map_err(|e| AppError::Internal(e.into()))?;
    let proposed = pending.body();
    let mut members: Vec<&str> = REVIEWED.to_vec();
    if proposed.get("payout_model") != base.get("payout_model") {
        members.extend(["pixel", "hosted_form", "publisher_leads", "pixel_signature"]);
    }
    for m in members {
        if let Some(v) = proposed.get(m) {
            base[m] = v.clone();
        }
    }
    Ok(serde_json::from_value(base).unwrap_or(live))
}

/// A time as notices and e-mails state it (`2026-12-08 09:30 UTC`).
pub fn utc_minute(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `409 revision_scheduled` while an approved change of the offer waits for its
/// notice: changes of the reviewed members never overlap.
fn refuse_while_scheduled(conn: &mut DbConn, offer_id: i64, then: &str) -> AppResult<()> {
    match revisions::for_offer(conn, offer_id)?.into_iter().find(Revision::scheduled) {
        Some(s) => {
            let when = s.effective_at.as_ref().map(utc_minute).unwrap_or_default();
            Err(AppError::conflict(
                "revision_scheduled",
                format!("An approved change of this offer takes effect on {when}; {then}."),
            ))
        }
        None => Ok(()),
    }
}

/// When an approved revision takes effect: at once when it only raises the payout
/// or loosens the terms, else after the offer's notice period.
fn takes_effect(offer: &Offer, r: &Revision, at: NaiveDateTime) -> NaiveDateTime {
    if r.tightens().is_empty() { at } else { at + Duration::hours(notice_hours(offer)) }
}

/// The offer's notice period for changes that lower the payout or tighten the
/// terms (`notice_hours`, default 24).
pub fn notice_hours(offer: &Offer) -> i64 {
    i64::from(offer.notice_hours)
}

/// An admin's review note, trimmed: only admins review, and sending back needs a
/// note saying what the advertiser must change.
fn review_note<'a>(who: &Acting, approve: bool, note: &'a str) -> AppResult<&'a str> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let note = note.trim();
    if !approve && note.is_empty() {
        return Err(AppError::Invalid(
            [("note".to_string(), "Say what the advertiser must change.".to_string())].into(),
        ));
    }
    Ok(note)
}

/// An admin's decision on an offer's pending revision. Approved, it is in force for
/// clicks from the time it takes effect (its terms are stored now with that time),
/// and the offer carries it from then on ([`apply_due_revisions`]); the publishers
/// in the offer are e-mailed the changes and the date. Sent back, it needs a note.
/// The advertiser is e-mailed either way; an approval changes the offer's links.
pub fn review_revision(
    conn: &mut DbConn,
    who: &Acting,
    offer_id: i64,
    revision_id: i64,
    approve: bool,
    note: &str,
) -> AppResult<(Revision, Effects)> {
    let note = review_note(who, approve, note)?;
    let offer = offers::find(conn, offer_id)?.ok_or(AppError::NotFound)?;
    let r = revisions::find(conn, revision_id)?.filter(|r| r.offer_id == offer_id).ok_or(AppError::NotFound)?;
    if r.status != "pending" || offer.status() == OfferStatus::Archived {
        return Err(AppError::conflict("invalid_transition", "Only a revision waiting for review can be decided."));
    }
    if approve {
        refuse_while_scheduled(conn, offer_id, "decide this one after that")?;
    }
    let at = crate::store::now();
    let effective = approve.then(|| takes_effect(&offer, &r, at));
    if !revisions::decide(conn, r.id, approve, who.user.id, note, effective)? {
        return Err(AppError::conflict("stale_revision", "The revision changed meanwhile; reload and try again."));
    }
    let when = effective.as_ref().map(utc_minute).unwrap_or_default();
    let detail = match effective {
        Some(_) => format!("revision {} takes effect {when}", r.id),
        None => format!("revision {} sent back: {note}", r.id),
    };
    let action = if approve { "offer.revision.approve" } else { "offer.revision.reject" };
    who.audit(conn, action, ("offer", Some(offer_id)), &detail)?;
    let advertiser = users::find(conn, offer.advertiser_id)?.ok_or(AppError::NotFound)?;
    mail::enqueue(
        conn,
        &advertiser.email,
        &RevisionReviewed {
            name: advertiser.display_name,
            offer_name: offer.name.clone(),
            approved: approve,
            effective: when.clone(),
            note: note.to_string(),
            link: who.link(&format!("/advertiser/offers/{offer_id}")),
        },
    )?;
    if let Some(effective) = effective {
        let body: OfferBody = serde_json::from_value(r.body()).map_err(|e| AppError::Internal(e.into()))?;
        let proposed = offer::validate(&body).map_err(AppError::Invalid)?;
        let new_terms = proposed_terms(&offer, &proposed);
        terms::record(conn, offer_id, Some(r.id), effective, &new_terms)?;
        // Publishers read the change as their payout, never the price or the fee.
        let side = Side::Payout { fee_default_bps: settings::platform_fee_bps(conn, who.platform_fee_bps)? };
        let mut changes = tightening(&terms::of_offer(&offer), &new_terms, &who.currency, side);
        if changes.is_empty() {
            changes = publisher_changes(&r.changes());
        }
        for (m, email, name) in offers::members_of(conn, offer_id)? {
            if !m.is_approved() {
                continue;
            }
            mail::enqueue(
                conn,
                &email,
                &OfferTermsChanged {
                    name,
                    offer_name: offer.name.clone(),
                    changes: changes.clone(),
                    effective: when.clone(),
                    link: who.link(&format!("/publisher/offers/{offer_id}")),
                },
            )?;
        }
        if effective <= at {
            apply_revision(conn, &r, at)?;
        }
    }
    let effects = Effects::MAIL | Effects::LINKS.when(approve);
    Ok((revisions::find(conn, r.id)?.ok_or(AppError::NotFound)?, effects))
}

/// Approved changes of an offer that have yet to take effect, as a publisher reads
/// them: when (in the reader's zone), and what changes for its payout and terms.
pub fn scheduled_changes(
    conn: &mut DbConn,
    offer: &Offer,
    local: &crate::domain::local::Local,
    fee_default_bps: i64,
) -> AppResult<Vec<(String, Vec<String>)>> {
    let side = Side::Payout { fee_default_bps };
    let mut out = Vec::new();
    for r in revisions::for_offer(conn, offer.id)?.into_iter().rev().filter(Revision::scheduled) {
        let Ok(body) = serde_json::from_value::<OfferBody>(r.body()) else { continue };
        let Ok(proposed) = offer::validate(&body) else { continue };
        let mut lines = tightening(&terms::of_offer(offer), &proposed_terms(offer, &proposed), &local.currency, side);
        if lines.is_empty() {
            lines = publisher_changes(&r.changes());
        }
        let when = r.effective_at.map(|t| local.time(t)).unwrap_or_default();
        out.push((when, lines));
    }
    Ok(out)
}

/// What a change that pays no less means to a publisher, member by member.
fn publisher_changes(members: &[String]) -> Vec<String> {
    members
        .iter()
        .map(|m| match m.as_str() {
            "price" | "rate_bps" => "the payout rises".to_string(),
            "landing_url" => "the landing page changes".to_string(),
            "fallback_url" => "the fallback page changes".to_string(),
            "terms" => "the terms loosen".to_string(),
            other => format!("the {} changes", other.replace('_', " ")),
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The offer takes an approved revision's reviewed members (its other members keep
/// what they are now); `false` if another process applied it first.
fn apply_revision(conn: &mut DbConn, r: &Revision, at: NaiveDateTime) -> AppResult<bool> {
    let offer = offers::lock(conn, r.offer_id)?.ok_or(AppError::NotFound)?;
    let body: OfferBody = serde_json::from_value(r.body()).map_err(|e| AppError::Internal(e.into()))?;
    let proposed = offer::validate(&body).map_err(AppError::Invalid)?;
    // Checked before anything is written: a revision that cannot apply is skipped
    // (and logged by the caller) without spoiling the others' transaction.
    let spec = match offer::validate(&offer.body()) {
        Ok(mut spec) => {
            copy_reviewed(&mut spec, &proposed);
            spec
        }
        Err(_) => proposed,
    };
    if !revisions::mark_applied(conn, r.id, at)? {
        return Ok(false);
    }
    offers::update(conn, r.offer_id, &spec)?;
    Ok(true)
}

/// Store the offer's terms as in force from now, once every approved change that is
/// due has taken effect on the offer (its row may lag the settlement loop).
fn record_live_terms(conn: &mut DbConn, offer_id: i64) -> AppResult<()> {
    apply_due_revisions(conn)?;
    let offer = offers::find(conn, offer_id)?.ok_or(AppError::NotFound)?;
    terms::record_current(conn, &offer)?;
    Ok(())
}

/// Let every approved revision whose notice has run take effect on its offer; how
/// many did. Run by the settlement loop (and `qualead settle`).
pub fn apply_due_revisions(conn: &mut DbConn) -> AppResult<usize> {
    let at = crate::store::now();
    let mut n = 0;
    for r in revisions::due(conn, at)? {
        match apply_revision(conn, &r, at) {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
            Err(e) => {
                tracing::error!(revision = r.id, offer_id = r.offer_id, error = %e, "an approved change cannot apply")
            }
        }
    }
    Ok(n)
}

/// Move an offer through its status machine, as its owner or an admin. Its links
/// change; a review decision e-mails the advertiser.
pub fn change_status(
    conn: &mut DbConn,
    who: &Acting,
    id: i64,
    to: OfferStatus,
    note: Option<&str>,
) -> AppResult<(Offer, Effects)> {
    let offer = owned_offer(conn, &who.user, id)?;
    let from = offer.status();
    let actor =
        if who.role() == Role::Admin && offer.advertiser_id != who.user.id { Actor::Admin } else { Actor::Owner };
    offer::transition(from, to, actor).map_err(|m| AppError::conflict("invalid_transition", m))?;
    // A review decision is only made through `review_offer`, which carries its note.
    if from == OfferStatus::PendingReview && to != OfferStatus::Archived && note.is_none() {
        return Err(AppError::conflict(
            "invalid_transition",
            "This offer waits for review: approve or reject it with a review.",
        ));
    }
    if !offers::set_status(conn, id, from, to, note)? {
        return Err(AppError::conflict("stale_offer", "The offer changed meanwhile; reload and try again."));
    }
    // An archived offer has no change to review.
    if to == OfferStatus::Archived {
        revisions::supersede_pending(conn, id)?;
    }
    // Going live puts the offer's terms in force for its clicks from now on (a
    // resume that changed nothing stores nothing).
    if to == OfferStatus::Active {
        record_live_terms(conn, id)?;
    }
    let review = from == OfferStatus::PendingReview && matches!(to, OfferStatus::Active | OfferStatus::Draft);
    let action =
        if review { if to == OfferStatus::Active { "offer.approve" } else { "offer.reject" } } else { "offer.status" };
    who.audit(
        conn,
        action,
        ("offer", Some(id)),
        &format!("{} → {}{}", from.as_str(), to.as_str(), note.map(|n| format!(": {n}")).unwrap_or_default()),
    )?;
    if review {
        let advertiser = users::find(conn, offer.advertiser_id)?.ok_or(AppError::NotFound)?;
        mail::enqueue(
            conn,
            &advertiser.email,
            &OfferReviewed {
                name: advertiser.display_name,
                offer_name: offer.name.clone(),
                approved: to == OfferStatus::Active,
                note: note.unwrap_or_default().to_string(),
                link: who.link(&format!("/advertiser/offers/{id}")),
            },
        )?;
    }
    let told = tell_publishers_of_status(conn, &who.base_url, &offer, from, to)?;
    let effects = Effects::LINKS | Effects::MAIL.when(review || told);
    Ok((offers::find(conn, id)?.ok_or(AppError::NotFound)?, effects))
}

/// E-mail every approved publisher of an offer that was paused, resumed or
/// archived (their clicks go to the fallback, or reach the landing page again);
/// whether anyone was told. `base_url` makes the link to the offer's page.
pub fn tell_publishers_of_status(
    conn: &mut DbConn,
    base_url: &str,
    offer: &Offer,
    from: OfferStatus,
    to: OfferStatus,
) -> anyhow::Result<bool> {
    let change = match (from, to) {
        (OfferStatus::Active, OfferStatus::Paused) => "paused",
        (OfferStatus::Paused, OfferStatus::Active) => "resumed",
        (OfferStatus::Active | OfferStatus::Paused, OfferStatus::Archived) => "ended",
        _ => return Ok(false),
    };
    let mut told = false;
    for (m, email, name) in offers::members_of(conn, offer.id)? {
        if !m.is_approved() {
            continue;
        }
        let mail = OfferStatusChanged {
            name,
            offer_name: offer.listing.name.clone(),
            change: change.to_string(),
            link: format!("{}/publisher/offers/{}", base_url.trim_end_matches('/'), offer.id),
        };
        mail::enqueue(conn, &email, &mail)?;
        told = true;
    }
    Ok(told)
}

/// An admin's review decision on a submitted offer.
pub fn review_offer(
    conn: &mut DbConn,
    who: &Acting,
    id: i64,
    approve: bool,
    note: &str,
) -> AppResult<(Offer, Effects)> {
    let note = review_note(who, approve, note)?;
    let to = if approve { OfferStatus::Active } else { OfferStatus::Draft };
    let offer = offers::find(conn, id)?.ok_or(AppError::NotFound)?;
    if offer.status() != OfferStatus::PendingReview {
        return Err(AppError::conflict(
            "invalid_transition",
            "Only offers waiting for review can be approved or rejected.",
        ));
    }
    change_status(conn, who, id, to, Some(note))
}

/// An admin sets or clears the per-offer platform fee. The offer's links change
/// (the fee is on the offer a link carries).
pub fn set_offer_fee(conn: &mut DbConn, who: &Acting, id: i64, fee_bps: Option<i32>) -> AppResult<(Offer, Effects)> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if fee_bps.is_some_and(|f| !(0..=10_000).contains(&f)) {
        return Err(AppError::Invalid([("fee_bps".to_string(), "Use 0 to 10000 basis points.".to_string())].into()));
    }
    offers::find(conn, id)?.ok_or(AppError::NotFound)?;
    offers::set_fee(conn, id, fee_bps)?;
    // The fee is part of the terms a lead keeps: a live offer's new fee applies to
    // clicks from now on.
    let offer = offers::find(conn, id)?.ok_or(AppError::NotFound)?;
    if matches!(offer.status(), OfferStatus::Active | OfferStatus::Paused) {
        record_live_terms(conn, id)?;
        // A change approved but not yet in effect keeps the new fee too.
        terms::set_fee_ahead(conn, id, fee_bps, crate::store::now())?;
    }
    let detail = fee_bps.map(|f| format!("fee {f} bps")).unwrap_or_else(|| "fee: platform default".into());
    who.audit(conn, "offer.fee", ("offer", Some(id)), &detail)?;
    Ok((offers::find(conn, id)?.ok_or(AppError::NotFound)?, Effects::LINKS))
}

/// A publisher joins an offer: `public` at once, `approval` waits, `private` only by invitation.
/// Joining again returns the existing membership (and changes nothing). A new
/// membership is a new link; an application e-mails the advertiser.
pub fn join(conn: &mut DbConn, who: &Acting, offer_id: i64) -> AppResult<(Membership, Effects)> {
    if who.role() != Role::Publisher {
        return Err(AppError::Forbidden);
    }
    let (offer, existing) = visible_offer(conn, &who.user, offer_id)?;
    if let Some(m) = existing {
        return Ok((m, Effects::NONE));
    }
    if offer.status() != OfferStatus::Active {
        return Err(AppError::conflict("offer_inactive", "This offer is not taking new publishers."));
    }
    let status = match offer.visibility() {
        Visibility::Public => MembershipStatus::Approved,
        Visibility::Approval => MembershipStatus::Pending,
        Visibility::Private => return Err(AppError::NotFound),
    };
    let m = offers::add_member(conn, offer_id, who.user.id, status, false)?;
    if status == MembershipStatus::Pending {
        let advertiser = users::find(conn, offer.advertiser_id)?.ok_or(AppError::NotFound)?;
        mail::enqueue(
            conn,
            &advertiser.email,
            &PublisherApplied {
                name: advertiser.display_name,
                offer_name: offer.name.clone(),
                publisher: format!("{} <{}>", who.user.display_name, who.user.email),
                link: who.link(&format!("/advertiser/offers/{offer_id}")),
            },
        )?;
    }
    Ok((m, Effects::LINKS | Effects::MAIL.when(status == MembershipStatus::Pending)))
}

/// The owner (or an admin) approves or declines a publisher's application: the
/// publisher's link changes and it is e-mailed (a decision made already changes nothing).
pub fn decide_membership(
    conn: &mut DbConn,
    who: &Acting,
    offer_id: i64,
    publisher_id: i64,
    approve: bool,
    note: &str,
) -> AppResult<(Membership, Effects)> {
    let offer = owned_offer(conn, &who.user, offer_id)?;
    let m = offers::membership(conn, offer_id, publisher_id)?.ok_or(AppError::NotFound)?;
    let to = if approve { MembershipStatus::Approved } else { MembershipStatus::Rejected };
    if m.status == to.as_str() {
        return Ok((m, Effects::NONE));
    }
    offers::decide_member(conn, m.id, to, note.trim())?;
    who.audit(
        conn,
        if approve { "membership.approve" } else { "membership.reject" },
        ("offer", Some(offer_id)),
        &format!("publisher #{publisher_id}"),
    )?;
    let publisher = users::find(conn, publisher_id)?.ok_or(AppError::NotFound)?;
    tell_publisher(conn, who, publisher, offer, approve, false, note)?;
    let m = offers::membership(conn, offer_id, publisher_id)?.ok_or(AppError::NotFound)?;
    Ok((m, Effects::LINKS | Effects::MAIL))
}

/// The owner invites a publisher (by e-mail) to a private or approval offer: an
/// approved membership, a new link and an e-mail (an approved publisher is left as it is).
pub fn invite(
    conn: &mut DbConn,
    who: &Acting,
    offer_id: i64,
    publisher_email: &str,
) -> AppResult<(Membership, Effects)> {
    let offer = owned_offer(conn, &who.user, offer_id)?;
    let email = crate::domain::account::normalize_email(publisher_email);
    let publisher = users::find_by_email(conn, &email)?.filter(|u| u.role() == Role::Publisher).ok_or_else(|| {
        AppError::Invalid([("email".to_string(), "No publisher account uses this e-mail address.".to_string())].into())
    })?;
    let m = match offers::membership(conn, offer_id, publisher.id)? {
        Some(m) if m.is_approved() => return Ok((m, Effects::NONE)),
        Some(m) => {
            offers::decide_member(conn, m.id, MembershipStatus::Approved, "invited")?;
            offers::membership(conn, offer_id, publisher.id)?.ok_or(AppError::NotFound)?
        }
        None => offers::add_member(conn, offer_id, publisher.id, MembershipStatus::Approved, true)?,
    };
    who.audit(conn, "membership.invite", ("offer", Some(offer_id)), &publisher.email)?;
    tell_publisher(conn, who, publisher, offer, true, true, "")?;
    Ok((m, Effects::LINKS | Effects::MAIL))
}

/// E-mail a publisher the owner's decision on its membership (or its invitation).
fn tell_publisher(
    conn: &mut DbConn,
    who: &Acting,
    publisher: User,
    offer: Offer,
    approved: bool,
    invited: bool,
    note: &str,
) -> AppResult<()> {
    let link = who.link(&format!("/publisher/offers/{}", offer.id));
    let mail = MembershipDecided {
        name: publisher.display_name,
        offer_name: offer.listing.name,
        approved,
        invited,
        note: note.trim().to_string(),
        link,
    };
    mail::enqueue(conn, &publisher.email, &mail)?;
    Ok(())
}

/// A publisher sets the URL its own tracker receives on lead events.
pub fn set_publisher_postback(conn: &mut DbConn, who: &Acting, offer_id: i64, template: &str) -> AppResult<Membership> {
    let m = offers::membership(conn, offer_id, who.user.id)?.filter(|m| m.is_approved()).ok_or(AppError::NotFound)?;
    let template = template.trim();
    if !template.is_empty()
        && let Some(p) = offer::url_problem(template, PUBLISHER_POSTBACK_MACROS)
    {
        return Err(AppError::Invalid([("postback_template".to_string(), p)].into()));
    }
    offers::set_postback_template(conn, m.id, template)?;
    offers::membership(conn, offer_id, who.user.id)?.ok_or(AppError::NotFound)
}

/// Macros a publisher's postback URL may contain (DESIGN §5).
pub const PUBLISHER_POSTBACK_MACROS: &[&str] =
    &["click_id", "sub1", "sub2", "sub3", "sub4", "sub5", "lead_id", "offer_id", "status", "payout", "event"];

/// What an offer pays: a fixed amount per lead or action, or a share of each sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pay {
    Fixed { minor: i64, unit: &'static str },
    Share { bps: i64 },
}

impl Pay {
    /// The advertiser's price; `None` when the offer carries none for its model.
    pub fn price(o: &Offer) -> Option<Pay> {
        match o.model() {
            offer::PayoutModel::Cps => o.rate_bps.map(|r| Pay::Share { bps: i64::from(r) }),
            m => o
                .price_minor
                .map(|minor| Pay::Fixed { minor, unit: if m == offer::PayoutModel::Cpa { "action" } else { "lead" } }),
        }
    }

    /// The publisher's payout: the price less the fee, rounded as DESIGN §8 says.
    pub fn after_fee(self, fee_bps: i64) -> Pay {
        match self {
            Pay::Fixed { minor, unit } => Pay::Fixed { minor: offer::split_price(minor, fee_bps).1, unit },
            Pay::Share { bps } => Pay::Share { bps: offer::split_price(bps, fee_bps).1 },
        }
    }
}

impl Pay {
    /// What it pays in words for a reader: `$14.40 per lead`, `15.00 % of each sale`.
    pub fn words(&self, local: &crate::domain::local::Local) -> String {
        match self {
            Pay::Fixed { minor, unit } => format!("{} per {unit}", local.money(*minor)),
            Pay::Share { .. } => self.to_string(),
        }
    }
}

impl std::fmt::Display for Pay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pay::Fixed { minor, unit } => write!(f, "{} per {unit}", crate::domain::money::format_minor(*minor)),
            Pay::Share { bps } => write!(f, "{}.{:02} % of each sale", bps / 100, bps % 100),
        }
    }
}

/// Effective fee of an offer: its override, else the platform default.
/// The marketplace a publisher browses, filtered on what it is shown: a minimum
/// amount (`min_price` in the query) is compared with the payout after the fee, never
/// with the price, so bisecting the filter cannot reveal the price or the fee. CPS
/// offers (a share, not an amount) are not filtered by it.
pub fn publisher_market(
    conn: &mut DbConn,
    publisher_id: i64,
    filter: &offers::MarketFilter,
    platform_fee_bps: i64,
) -> diesel::QueryResult<Vec<(Offer, Option<offers::Membership>)>> {
    // The query's price >= min keeps every offer whose payout (never above the price) may pass.
    let mut rows = offers::marketplace(conn, publisher_id, filter)?;
    if let Some(min) = filter.min_price_minor {
        rows.retain(|(o, _)| match Pay::price(o).map(|p| p.after_fee(fee_bps(o, platform_fee_bps))) {
            Some(Pay::Fixed { minor, .. }) => minor >= min,
            _ => true,
        });
    }
    Ok(rows)
}

pub fn fee_bps(offer: &Offer, platform_default: i64) -> i64 {
    offer.fee_bps.map(i64::from).unwrap_or(platform_default)
}

/// Where a new traffic-source block applies, as its author asks: an offer (None =
/// the whole network, admins only) and a publisher (None = every publisher).
pub fn add_source_block(
    conn: &mut DbConn,
    who: &Acting,
    scope: source_blocks::Scope,
    field: &str,
    mode: &str,
    value: &str,
) -> AppResult<(i64, Effects)> {
    let invalid = |m: String| AppError::Invalid([("value".to_string(), m)].into());
    match scope.offer_id {
        Some(offer_id) => {
            // An admin types the offer's id: an unknown one is a mistake to name.
            owned_offer(conn, &who.user, offer_id).map_err(|e| match e {
                AppError::NotFound if who.role() == Role::Admin => invalid("No offer has that id.".into()),
                e => e,
            })?;
            if let Some(pid) = scope.publisher_id
                && offers::membership(conn, offer_id, pid)?.is_none()
            {
                return Err(invalid("That publisher does not run this offer.".into()));
            }
        }
        None if who.role() != Role::Admin => return Err(AppError::Forbidden),
        None => {
            if let Some(pid) = scope.publisher_id
                && users::find(conn, pid)?.is_none_or(|u| u.role() != Role::Publisher)
            {
                return Err(invalid("No publisher has that id.".into()));
            }
        }
    }
    let spec = source_block::parse(field, mode, value).map_err(invalid)?;
    let id = source_blocks::add(conn, scope, &spec, who.user.id)?
        .ok_or_else(|| invalid("That block is there already.".into()))?;
    let whom = scope.publisher_id.map_or("every publisher".to_string(), |p| format!("publisher #{p}"));
    let words = source_block::describe(spec.field, spec.mode.as_str(), &spec.value);
    who.audit(conn, "source_block.add", ("offer", scope.offer_id), &format!("{words}, for {whom}"))?;
    Ok((id, Effects::LINKS))
}

/// Remove a traffic-source block: an offer's by its advertiser (or an admin), the
/// network's by an admin. Its links take clicks from that source again.
pub fn remove_source_block(conn: &mut DbConn, who: &Acting, id: i64) -> AppResult<(source_blocks::Block, Effects)> {
    let block = source_blocks::find(conn, id)?.ok_or(AppError::NotFound)?;
    match block.offer_id {
        Some(offer_id) => {
            owned_offer(conn, &who.user, offer_id)?;
            // A block an admin set on the offer is the admin's to lift.
            if who.role() != Role::Admin
                && users::find(conn, block.created_by)?.is_some_and(|u| u.role() == Role::Admin)
            {
                return Err(AppError::Forbidden);
            }
        }
        None if who.role() != Role::Admin => return Err(AppError::NotFound),
        None => {}
    }
    source_blocks::remove(conn, id)?;
    who.audit(conn, "source_block.remove", ("offer", block.offer_id), &block.words())?;
    Ok((block, Effects::LINKS))
}
