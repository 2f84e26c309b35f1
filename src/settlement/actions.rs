//! What people do to leads and money after intake (DESIGN §6, §8): an advertiser
//! approves or rejects a pending lead early and returns an approved one; a
//! publisher contests a rejection; an admin rules on disputes and records
//! deposits. Each function runs inside the caller's transaction (`write_tx`),
//! checks who may act, moves the lead with its history and rollups, posts the
//! ledger transaction, queues e-mails, publisher postbacks and lead webhooks, and writes the audit
//! line of admin actions — all or nothing. What it queued comes back as [`Effects`]
//! beside its result, for the caller to apply once the transaction commits.

use chrono::Duration;

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::domain::lifecycle::{self, LeadStatus, MoneyEvent, Mover, Ruling};
use crate::domain::money::format_minor;
use crate::domain::netranges;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::mail::{
    self,
    templates::{DisputeDecided, LeadDisputed},
};
use crate::store::disputes::{self, Dispute};
use crate::store::leads::{self, Lead, Move};
use crate::store::ledger::{self, PostError, Posting};
use crate::store::users::{self, User};
use crate::store::{now, offers, postbacks, settings, webhooks};

/// The lead, if `who` may see it: its advertiser, its publisher, or an admin.
/// Anyone else gets `NotFound` (never reveal that it exists). For reading; actions
/// use [`visible_lead`], which also locks the row.
pub fn readable_lead(conn: &mut DbConn, who: &User, id: i64) -> AppResult<Lead> {
    let lead = leads::find(conn, id)?.ok_or(AppError::NotFound)?;
    may_see(who, lead)
}

/// [`readable_lead`], with the row locked for the rest of the transaction (see
/// [`leads::lock`]): what every action on a lead takes first.
pub fn visible_lead(conn: &mut DbConn, who: &User, id: i64) -> AppResult<Lead> {
    let lead = leads::lock(conn, id)?.ok_or(AppError::NotFound)?;
    may_see(who, lead)
}

fn may_see(who: &User, lead: Lead) -> AppResult<Lead> {
    let allowed = match who.role() {
        Role::Admin => true,
        Role::Advertiser => lead.advertiser_id == who.id,
        Role::Publisher => lead.publisher_id == who.id,
    };
    if allowed { Ok(lead) } else { Err(AppError::NotFound) }
}

/// Post a money event for a lead (or none), turning a refused debit into a clear error.
pub(crate) fn post_event(
    conn: &mut DbConn,
    event: &MoneyEvent,
    lead_id: Option<i64>,
    actor_id: Option<i64>,
    memo: &str,
) -> AppResult<Option<i64>> {
    let posting = Posting { kind: event.kind(), lead_id, actor_id, memo };
    match ledger::post(conn, &posting, &event.transfers()) {
        Ok(id) => Ok(id),
        Err(PostError::Insufficient(account)) if account.starts_with("advertiser:") => Err(AppError::conflict(
            "budget_exhausted",
            "The advertiser's balance cannot cover this; a deposit is needed first.",
        )),
        Err(PostError::Insufficient(account)) => {
            Err(AppError::conflict("insufficient_balance", format!("The balance of {account} cannot cover this.")))
        }
        Err(PostError::Db(e)) => Err(e.into()),
    }
}

/// The move of `lead` to `to` by `by`, as DESIGN §6's table allows it, or
/// `invalid_transition` (with the table's words for why).
fn allowed_move(lead: &Lead, to: LeadStatus, by: Mover) -> AppResult<&'static lifecycle::Transition> {
    lifecycle::transition(lead.status, to, lead.disputed_from, by)
        .map_err(|e| AppError::conflict("invalid_transition", format!("Not possible: {e}.")))
}

/// The mover an account acts as.
fn mover_of(who: &Acting) -> Mover {
    match who.role() {
        Role::Admin => Mover::Admin,
        Role::Advertiser => Mover::Advertiser,
        Role::Publisher => Mover::Publisher,
    }
}

/// Move `lead` from its current status to `to` with history and rollups; a lead that
/// someone else moved meanwhile is a conflict. Returns the lead as it is now, and
/// whether a postback or webhook delivery was queued.
fn move_lead(conn: &mut DbConn, lead: &Lead, to: LeadStatus, why: &Move) -> AppResult<(Lead, Effects)> {
    if !leads::transition(conn, lead, to, why)? {
        return Err(AppError::conflict("stale_lead", "The lead changed meanwhile; reload and try again."));
    }
    let now = leads::find(conn, lead.id)?.ok_or(AppError::NotFound)?;
    // The publisher hears of every status change (if it set a postback URL).
    let postback = postbacks::enqueue(conn, &now, to.as_str())?.is_some();
    // So does the advertiser's CRM (its lead webhooks, DESIGN §6a).
    let hooks = webhooks::enqueue(conn, &now, webhooks::event_of_move(lead.status, to))?;
    Ok((now, Effects::POSTBACKS.when(postback || hooks > 0)))
}

/// The advertiser (or an admin) approves or rejects a pending lead before its hold
/// ends. A rejection needs a reason code (DESIGN §6 return reasons).
pub fn decide_early(
    conn: &mut DbConn,
    who: &Acting,
    lead_id: i64,
    approve: bool,
    reason: &str,
    comment: &str,
) -> AppResult<(Lead, Effects)> {
    let lead = visible_lead(conn, &who.user, lead_id)?;
    if who.role() == Role::Publisher {
        return Err(AppError::Forbidden);
    }
    let to = if approve { LeadStatus::Approved } else { LeadStatus::Rejected };
    if lead.status != LeadStatus::Pending {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("Only pending leads can be decided early; this one is {}.", lead.status),
        ));
    }
    let posts = allowed_move(&lead, to, mover_of(who))?.posts;
    let (comment, reason) = (comment.trim(), reason.trim());
    if !approve {
        lifecycle::check_reason(reason, comment).map_err(|m| AppError::bad_request("invalid_reason", m))?;
    }
    let reason = if approve { "approved_early" } else { reason };
    let reasons = if approve { "[]".to_string() } else { json_list(&[reason]) };
    leads::set_reasons(conn, lead.id, &reasons)?;
    // Balances before rollups, the order every writer keeps (no deadlocks).
    if let Some(event) = posts.event(lead.advertiser_id, lead.publisher_id, lead.money()) {
        post_event(conn, &event, Some(lead.id), Some(who.user.id), reason)?;
    }
    let moved = move_lead(conn, &lead, to, &Move { actor_id: Some(who.user.id), reason, comment })?;
    who.audit(conn, &format!("lead.{to}"), ("lead", Some(lead.id)), reason)?;
    Ok(moved)
}

/// The advertiser returns an approved lead within the offer's return window, with a
/// reason; the lead is disputed until an admin rules. Past the offer's maximum
/// return rate an admin must first allow more returns.
pub fn return_lead(
    conn: &mut DbConn,
    who: &Acting,
    lead_id: i64,
    reason: &str,
    comment: &str,
) -> AppResult<(Dispute, Effects)> {
    let lead = visible_lead(conn, &who.user, lead_id)?;
    if who.role() != Role::Advertiser {
        return Err(AppError::Forbidden);
    }
    let (reason, comment) = (reason.trim(), comment.trim());
    lifecycle::check_reason(reason, comment).map_err(|m| AppError::bad_request("invalid_reason", m))?;
    if lead.status != LeadStatus::Approved {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("Only approved leads can be returned; this one is {}.", lead.status),
        ));
    }
    allowed_move(&lead, LeadStatus::Disputed, mover_of(who))?;
    let offer = offers::find(conn, lead.offer_id)?.ok_or(AppError::NotFound)?;
    // The window and the maximum rate the lead was accepted under (the rate itself
    // is counted across the offer).
    let terms = crate::store::terms::of_lead(conn, lead.terms_id, Some(&offer))?.terms;
    let decided = lead.decided_at.unwrap_or(lead.updated_at);
    if now() > decided + Duration::days(i64::from(terms.return_window_days)) {
        return Err(AppError::conflict(
            "return_window_closed",
            format!(
                "The return window of {} after approval has closed.",
                crate::i18n::count_words(i64::from(terms.return_window_days), "day")
            ),
        ));
    }
    if disputes::for_lead(conn, lead.id)?.iter().any(|d| d.kind == "return") {
        return Err(AppError::conflict("already_returned", "This lead was returned once already."));
    }
    let returned = disputes::returns_on_offer(conn, offer.id)?;
    let allowed = lifecycle::returns_allowed(
        terms.max_return_rate_pct,
        leads::approved_ever(conn, offer.id)?,
        offers::return_allowance(conn, offer.id)?,
    );
    if returned >= allowed {
        return Err(AppError::conflict(
            "return_rate_exceeded",
            format!(
                "Returns on this offer would pass its maximum return rate of {} %; an admin must allow more returns.",
                terms.max_return_rate_pct
            ),
        ));
    }
    open_dispute(conn, who, &lead, "return", reason, comment)
}

/// The publisher contests a rejected lead, with a comment; an admin rules.
pub fn contest(conn: &mut DbConn, who: &Acting, lead_id: i64, comment: &str) -> AppResult<(Dispute, Effects)> {
    let lead = visible_lead(conn, &who.user, lead_id)?;
    if who.role() != Role::Publisher {
        return Err(AppError::Forbidden);
    }
    let comment = comment.trim();
    if comment.is_empty() || comment.chars().count() > 2000 {
        return Err(AppError::bad_request("invalid_reason", "Say why the rejection is wrong (up to 2000 characters)."));
    }
    if lead.status != LeadStatus::Rejected {
        return Err(AppError::conflict(
            "invalid_transition",
            format!("Only rejected leads can be contested; this one is {}.", lead.status),
        ));
    }
    allowed_move(&lead, LeadStatus::Disputed, mover_of(who))?;
    if disputes::for_lead(conn, lead.id)?.iter().any(|d| d.kind == "contest") {
        return Err(AppError::conflict("already_contested", "This rejection was contested once already."));
    }
    open_dispute(conn, who, &lead, "contest", "contested", comment)
}

fn open_dispute(
    conn: &mut DbConn,
    who: &Acting,
    lead: &Lead,
    kind: &str,
    reason: &str,
    comment: &str,
) -> AppResult<(Dispute, Effects)> {
    leads::set_disputed_from(conn, lead.id, lead.status)?;
    let (_, mut effects) =
        move_lead(conn, lead, LeadStatus::Disputed, &Move { actor_id: Some(who.user.id), reason, comment })?;
    let dispute = disputes::open(conn, lead, kind, who.user.id, reason, comment)?;
    // Tell the other party.
    let other = if kind == "return" { lead.publisher_id } else { lead.advertiser_id };
    let offer = offers::find(conn, lead.offer_id)?.ok_or(AppError::NotFound)?;
    if let Some(u) = users::find(conn, other)? {
        let (who_text, verb) = if kind == "return" {
            ("The advertiser", "returned the approved")
        } else {
            ("The publisher", "contested the rejection of")
        };
        mail::enqueue(
            conn,
            &u.email,
            &LeadDisputed {
                name: u.display_name.clone(),
                who: who_text.into(),
                verb: verb.into(),
                lead_id: lead.id,
                offer_name: offer.name.clone(),
                reason: reason.into(),
                comment: comment.into(),
                link: who.link(&lead_path(&u, lead.id)),
            },
        )?;
        effects |= Effects::MAIL;
    }
    Ok((dispute, effects))
}

/// An admin rules on an open dispute: upheld or denied, with a note. The lead
/// moves per [`lifecycle::ruling_outcome`] with its ledger postings; both parties
/// are e-mailed.
pub fn rule(
    conn: &mut DbConn,
    who: &Acting,
    dispute_id: i64,
    ruling: Ruling,
    note: &str,
) -> AppResult<(Dispute, Effects)> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let note = note.trim();
    if note.chars().count() > 2000 {
        return Err(AppError::invalid("the note is longer than 2000 characters"));
    }
    let dispute = disputes::find(conn, dispute_id)?.ok_or(AppError::NotFound)?;
    if dispute.status != "open" {
        return Err(AppError::conflict("dispute_closed", format!("This dispute was already {}.", dispute.status)));
    }
    let lead = leads::lock(conn, dispute.lead_id)?.ok_or(AppError::NotFound)?;
    let Some((to, money)) = lead
        .disputed_from
        .and_then(|from| lifecycle::ruling_outcome(from, ruling, lead.advertiser_id, lead.publisher_id, lead.money()))
    else {
        return Err(AppError::conflict("invalid_transition", "This lead is not in a dispute that can be ruled on."));
    };
    if lead.status != LeadStatus::Disputed {
        return Err(AppError::conflict("stale_lead", "The lead is not disputed any more."));
    }
    if !disputes::close(conn, dispute.id, ruling.as_str(), who.user.id, note)? {
        return Err(AppError::conflict("dispute_closed", "This dispute was ruled on meanwhile."));
    }
    let reason = format!("{}_{}", dispute.kind, ruling.as_str());
    if let Some(event) = money {
        post_event(conn, &event, Some(lead.id), Some(who.user.id), &reason)?;
    }
    let (moved, mut effects) =
        move_lead(conn, &lead, to, &Move { actor_id: Some(who.user.id), reason: &reason, comment: note })?;
    who.audit(conn, "dispute.rule", ("dispute", Some(dispute.id)), &format!("{reason}: {note}"))?;
    let offer = offers::find(conn, lead.offer_id)?.ok_or(AppError::NotFound)?;
    for party in [lead.advertiser_id, lead.publisher_id] {
        let Some(u) = users::find(conn, party)? else { continue };
        mail::enqueue(
            conn,
            &u.email,
            &DisputeDecided {
                name: u.display_name.clone(),
                lead_id: lead.id,
                offer_name: offer.name.clone(),
                kind: dispute.kind.clone(),
                decision: ruling.as_str().into(),
                status: moved.status.to_string(),
                note: note.into(),
                link: who.link(&lead_path(&u, lead.id)),
            },
        )?;
        effects |= Effects::MAIL;
    }
    Ok((disputes::find(conn, dispute.id)?.ok_or(AppError::NotFound)?, effects))
}

/// An admin records a deposit for an advertiser: external → advertiser.
pub fn deposit(conn: &mut DbConn, who: &Acting, advertiser_id: i64, amount_minor: i64, memo: &str) -> AppResult<i64> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if amount_minor <= 0 || amount_minor > crate::domain::intake::MAX_AMOUNT_MINOR {
        return Err(AppError::invalid("the amount must be above 0.00 and at most 1,000,000,000.00"));
    }
    let advertiser = users::find(conn, advertiser_id)?.ok_or(AppError::NotFound)?;
    // An id that is not an advertiser's names no advertiser: as for an unknown id.
    if advertiser.role() != Role::Advertiser {
        return Err(AppError::NotFound);
    }
    let memo = memo.trim();
    let event = MoneyEvent::Deposit { advertiser_id, amount: amount_minor };
    let tx = post_event(conn, &event, None, Some(who.user.id), memo)?.ok_or(AppError::NotFound)?;
    who.audit(
        conn,
        "ledger.deposit",
        ("user", Some(advertiser_id)),
        &format!("{} for {}{}", format_minor(amount_minor), advertiser.email, opt_note(memo)),
    )?;
    Ok(tx)
}

/// An admin allows `extra` returns on an offer beyond its maximum return rate.
pub fn allow_returns(conn: &mut DbConn, who: &Acting, offer_id: i64, extra: i64) -> AppResult<()> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if !(0..=1_000_000).contains(&extra) {
        return Err(AppError::invalid("extra returns must be 0 to 1000000"));
    }
    offers::find(conn, offer_id)?.ok_or(AppError::NotFound)?;
    offers::set_return_allowance(conn, offer_id, extra, who.user.id)?;
    who.audit(conn, "offer.returns", ("offer", Some(offer_id)), &format!("{extra} extra returns allowed"))?;
    Ok(())
}

/// The page of a lead for a user of its role.
pub fn lead_path(user: &User, lead_id: i64) -> String {
    match user.role() {
        Role::Admin => format!("/admin/leads/{lead_id}"),
        Role::Advertiser => format!("/advertiser/leads/{lead_id}"),
        Role::Publisher => format!("/publisher/leads/{lead_id}"),
    }
}

fn json_list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn opt_note(memo: &str) -> String {
    if memo.is_empty() { String::new() } else { format!(": {memo}") }
}

/// An admin adds a domain to the disposable-domain list (used from the next run).
pub fn add_disposable_domain(conn: &mut DbConn, who: &Acting, raw: &str) -> AppResult<String> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let domain = crate::store::disposable::normalise(raw).map_err(AppError::invalid)?;
    if crate::store::disposable::add(conn, &domain, who.user.id)? {
        who.audit(conn, "disposable.add", ("domain", None), &domain)?;
    }
    Ok(domain)
}

/// An admin sets its own datacenter and privacy-relay ranges (CIDRs or addresses,
/// one per line), added to the shipped lists; how many of each.
pub fn set_network_ranges(conn: &mut DbConn, who: &Acting, datacenter: &str, relay: &str) -> AppResult<(usize, usize)> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let mut counts = [0; 2];
    for (i, (key, field, text)) in
        [(settings::DATACENTER_RANGES, "datacenter", datacenter), (settings::RELAY_RANGES, "relay", relay)]
            .into_iter()
            .enumerate()
    {
        let nets = netranges::parse_cidrs(text).map_err(|e| AppError::invalid(format!("{field} ranges, {e}")))?;
        counts[i] = nets.len();
        settings::set(conn, key, text.trim())?;
    }
    who.audit(
        conn,
        "network_ranges.set",
        ("settings", None),
        &format!("{} datacenter, {} relay", counts[0], counts[1]),
    )?;
    Ok((counts[0], counts[1]))
}

/// An admin removes a domain it added (the shipped list stays as shipped).
pub fn remove_disposable_domain(conn: &mut DbConn, who: &Acting, domain: &str) -> AppResult<()> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    if !crate::store::disposable::remove(conn, domain)? {
        return Err(AppError::NotFound);
    }
    who.audit(conn, "disposable.remove", ("domain", None), domain)?;
    Ok(())
}
