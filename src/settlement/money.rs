//! Balances as each role reads them, payout requests and their payment (DESIGN §8, §11).

use diesel::prelude::*;

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::domain::lifecycle::MoneyEvent;
use crate::domain::money::format_minor;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::mail::{self, templates::PayoutPaid};
use crate::settlement::actions::post_event;
use crate::store::payouts::{self, Payout};
use crate::store::{ledger, settings, users};

/// An advertiser's money: what it can spend and what is held for its pending leads.
#[derive(Debug, Clone, Copy, serde::Serialize, PartialEq, Eq)]
pub struct AdvertiserBalance {
    pub available: i64,
    pub escrow: i64,
}

pub fn advertiser_balance(conn: &mut DbConn, advertiser_id: i64) -> QueryResult<AdvertiserBalance> {
    Ok(AdvertiserBalance {
        available: ledger::balance(conn, &ledger::advertiser(advertiser_id))?,
        escrow: ledger::balance(conn, &ledger::escrow(advertiser_id))?,
    })
}

/// A publisher's money: `balance` is earned (approved) minus paid out; `requested`
/// is held by open payout requests; `available` = balance − requested is what can
/// still be requested; `pending` is the payout of leads not yet decided.
#[derive(Debug, Clone, Copy, serde::Serialize, PartialEq, Eq)]
pub struct PublisherBalance {
    pub available: i64,
    pub pending: i64,
    pub requested: i64,
    pub balance: i64,
}

pub fn publisher_balance(conn: &mut DbConn, publisher_id: i64) -> QueryResult<PublisherBalance> {
    let balance = ledger::balance(conn, &ledger::publisher(publisher_id))?;
    let requested = payouts::requested_sum(conn, publisher_id)?;
    let pending = crate::store::leads::pending_payout_of(conn, publisher_id)?;
    Ok(PublisherBalance { available: balance - requested, pending, requested, balance })
}

/// A publisher asks to be paid `amount_minor` (at least the minimum, at most what
/// is available). The publisher's balance row is locked first, so two requests at
/// once cannot both take the same money.
pub fn request_payout(conn: &mut DbConn, who: &Acting, amount_minor: i64, method: &str) -> AppResult<Payout> {
    if who.role() != Role::Publisher {
        return Err(AppError::Forbidden);
    }
    let minimum = settings::payout_minimum_minor(conn)?;
    if amount_minor < minimum {
        return Err(AppError::bad_request("below_minimum", format!("The smallest payout is {}.", who.money(minimum))));
    }
    let method = method.trim();
    if method.chars().count() > 200 {
        return Err(AppError::invalid("the payout method is longer than 200 characters"));
    }
    ledger::lock_balance(conn, &ledger::publisher(who.user.id))?;
    let b = publisher_balance(conn, who.user.id)?;
    if amount_minor > b.available {
        return Err(AppError::conflict(
            "insufficient_balance",
            format!("You can request up to {} now.", who.money(b.available.max(0))),
        ));
    }
    Ok(payouts::create(conn, who.user.id, amount_minor, method)?)
}

/// An admin marks a requested payout paid: publisher → external, and an e-mail.
pub fn mark_paid(conn: &mut DbConn, who: &Acting, payout_id: i64, note: &str) -> AppResult<(Payout, Effects)> {
    if who.role() != Role::Admin {
        return Err(AppError::Forbidden);
    }
    let payout = payouts::find(conn, payout_id)?.ok_or(AppError::NotFound)?;
    if payout.status != "requested" {
        return Err(AppError::conflict("payout_closed", format!("This payout is already {}.", payout.status)));
    }
    let note = note.trim();
    if note.chars().count() > 2000 {
        return Err(AppError::invalid("the note is longer than 2000 characters"));
    }
    let event = MoneyEvent::PayoutPaid { publisher_id: payout.publisher_id, amount: payout.amount_minor };
    // A reversal may have clawed back part of the balance since the request.
    let balance = ledger::lock_balance(conn, &ledger::publisher(payout.publisher_id))?;
    if balance < payout.amount_minor {
        return Err(AppError::conflict(
            "insufficient_balance",
            format!("The publisher's balance is {} now; cancel this request.", who.money(balance)),
        ));
    }
    let tx = post_event(conn, &event, None, Some(who.user.id), &format!("payout #{payout_id}"))?
        .ok_or_else(|| AppError::invalid("a payout moves money"))?;
    if !payouts::mark_paid(conn, payout_id, who.user.id, tx, note)? {
        return Err(AppError::conflict("payout_closed", "This payout changed meanwhile."));
    }
    who.audit(conn, "payout.paid", ("payout", Some(payout_id)), &format_minor(payout.amount_minor))?;
    let mut effects = Effects::NONE;
    if let Some(p) = users::find(conn, payout.publisher_id)? {
        mail::enqueue(
            conn,
            &p.email,
            &PayoutPaid {
                name: p.display_name,
                payout_id,
                amount: who.money(payout.amount_minor),
                note: note.into(),
                link: who.link("/publisher/statement"),
            },
        )?;
        effects = Effects::MAIL;
    }
    Ok((payouts::find(conn, payout_id)?.ok_or(AppError::NotFound)?, effects))
}

/// The publisher withdraws its own request, or an admin declines it.
pub fn cancel_payout(conn: &mut DbConn, who: &Acting, payout_id: i64, note: &str) -> AppResult<Payout> {
    let payout = payouts::find(conn, payout_id)?.ok_or(AppError::NotFound)?;
    let allowed = match who.role() {
        Role::Admin => true,
        Role::Publisher => payout.publisher_id == who.user.id,
        Role::Advertiser => false,
    };
    if !allowed {
        return Err(AppError::NotFound);
    }
    if note.trim().chars().count() > 2000 {
        return Err(AppError::invalid("the note is longer than 2000 characters"));
    }
    if !payouts::cancel(conn, payout_id, note.trim())? {
        return Err(AppError::conflict("payout_closed", format!("This payout is already {}.", payout.status)));
    }
    who.audit(conn, "payout.cancel", ("payout", Some(payout_id)), note.trim())?;
    payouts::find(conn, payout_id)?.ok_or(AppError::NotFound)
}
