//! Top-up requests (DESIGN §8): an advertiser asks from its balance page (amount,
//! method, its payment's reference), every admin is e-mailed; an admin confirms
//! it as a deposit (one ledger transaction, audited) or declines it with a note;
//! the advertiser is e-mailed either way. Nothing moves before an admin confirms.

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::{AccountStatus, Role};
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::mail::{
    self,
    templates::{TopupDecided, TopupRequested},
};
use crate::settlement::actions;
use crate::store::topups::{self, METHODS, Topup};
use crate::store::users;

/// The longest payment reference kept.
pub const MAX_REFERENCE: usize = 200;
/// The longest note on a decision kept.
pub const MAX_NOTE: usize = 500;
/// Requests an advertiser may have waiting at once.
pub const MAX_PENDING: i64 = 5;

/// Text typed in a form: trimmed, control characters dropped, at most `max` characters.
fn clean_text(raw: &str, max: usize) -> String {
    crate::domain::tracking::clean(raw.trim(), max)
}

/// An advertiser asks for a top-up; every active admin is e-mailed.
pub fn request(
    conn: &mut DbConn,
    who: &Acting,
    amount_minor: i64,
    method: &str,
    reference: &str,
) -> AppResult<(Topup, Effects)> {
    if who.role() != Role::Advertiser {
        return Err(AppError::Forbidden);
    }
    if amount_minor <= 0 || amount_minor > crate::domain::intake::MAX_AMOUNT_MINOR {
        return Err(AppError::invalid("The amount must be above 0.00 and at most 1,000,000,000.00."));
    }
    let method = METHODS
        .iter()
        .find(|m| **m == method.trim())
        .ok_or_else(|| AppError::invalid(format!("Choose how you paid: {}.", METHODS.join(", "))))?;
    if topups::pending_count(conn, who.user.id)? >= MAX_PENDING {
        return Err(AppError::invalid(format!(
            "You have {MAX_PENDING} top-up requests waiting already: an admin answers them first."
        )));
    }
    let reference = clean_text(reference, MAX_REFERENCE);
    let t = topups::create(conn, who.user.id, amount_minor, method, &reference)?;
    let advertiser = format!("{} <{}>", who.user.display_name, who.user.email);
    for admin in users::list(conn, Some(Role::Admin), Some(AccountStatus::Active), 100)? {
        let mail = TopupRequested {
            name: admin.display_name.clone(),
            advertiser: advertiser.clone(),
            topup_id: t.id,
            amount: who.money(amount_minor),
            method: method.to_string(),
            reference: reference.clone(),
            link: who.link("/admin/deposits#topups"),
        };
        mail::enqueue(conn, &admin.email, &mail)?;
    }
    Ok((t, Effects::MAIL))
}

/// A request still waiting, or why it cannot be decided.
fn pending(conn: &mut DbConn, who: &Acting, id: i64) -> AppResult<Topup> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let t = topups::find(conn, id)?.ok_or(AppError::NotFound)?;
    if t.status != "pending" {
        return Err(AppError::conflict("topup_closed", format!("This top-up request is already {}.", t.status)));
    }
    Ok(t)
}

/// An admin confirms the money arrived: a deposit of the amount (external →
/// advertiser, audited) in the same transaction, and an e-mail to the advertiser.
pub fn confirm(conn: &mut DbConn, who: &Acting, id: i64, note: &str) -> AppResult<(Topup, Effects)> {
    let t = pending(conn, who, id)?;
    let memo = if t.reference.is_empty() {
        format!("top-up #{} ({})", t.id, t.method)
    } else {
        format!("top-up #{} ({}, {})", t.id, t.method, t.reference)
    };
    let tx = actions::deposit(conn, who, t.advertiser_id, t.amount_minor, &memo)?;
    decide(conn, who, t, "confirmed", Some(tx), note)
}

/// An admin declines a request, saying why (the money did not arrive, say).
pub fn decline(conn: &mut DbConn, who: &Acting, id: i64, note: &str) -> AppResult<(Topup, Effects)> {
    let t = pending(conn, who, id)?;
    if note.trim().is_empty() {
        return Err(AppError::invalid("Say why the request is declined: the advertiser reads it."));
    }
    who.audit(conn, "topup.decline", ("user", Some(t.advertiser_id)), &format!("#{}: {}", t.id, note.trim()))?;
    decide(conn, who, t, "declined", None, note)
}

fn decide(
    conn: &mut DbConn,
    who: &Acting,
    t: Topup,
    status: &str,
    tx: Option<i64>,
    note: &str,
) -> AppResult<(Topup, Effects)> {
    let note = clean_text(note, MAX_NOTE);
    let note = note.as_str();
    if !topups::decide(conn, t.id, status, who.user.id, tx, note)? {
        return Err(AppError::conflict("topup_closed", "This top-up request changed meanwhile."));
    }
    if let Some(a) = users::find(conn, t.advertiser_id)? {
        let mail = TopupDecided {
            name: a.display_name,
            topup_id: t.id,
            amount: who.money(t.amount_minor),
            confirmed: status == "confirmed",
            note: note.to_string(),
            link: who.link("/advertiser/balance"),
        };
        mail::enqueue(conn, &a.email, &mail)?;
    }
    let t = topups::find(conn, t.id)?.ok_or(AppError::NotFound)?;
    Ok((t, Effects::MAIL))
}
