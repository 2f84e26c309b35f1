//! The intake decision with no I/O (DESIGN §5): which offer, publisher and click a
//! conversion is put down to ([`attribute`]), whether it is refused, a duplicate
//! or accepted at which price ([`check`]), and whether caps and the advertiser's
//! balance take it ([`admit`]). The facts are what an intake batch read under its
//! locks; what the batch has accepted so far (counters, balances, dedupe keys) is
//! plain data, the [`Tally`], that the decision reads and [`admit`] updates.
//!
//! Refusals decided here: `bad_token`, `ip_not_allowed` (the postback's),
//! `unknown_click`, `click_offer_mismatch`, `click_expired`, `offer_inactive`,
//! `cap_reached`, `budget_exhausted`, `missing_consent`, `missing_field`,
//! `channel_not_allowed`, `bad_signature`, `amount_out_of_range` and
//! `invalid_request` for what only the offer can tell (an unknown event, a CPS
//! sale without an amount, no offer). Malformed parameters are `invalid_request`
//! at the HTTP edge, before a conversion exists ([`Params::from_pairs`]).
//!
//! [`Params::from_pairs`]: crate::domain::intake::Params::from_pairs

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};

use crate::domain::channels;
use crate::domain::intake::{Channel, Conversion, Reason, dedupe_key, missing_fields};
use crate::domain::lifecycle::{advertiser_account, escrow_account};
use crate::domain::offer::{DEFAULT_MAX_SALE_MINOR, OfferStatus, PayoutModel};
use crate::domain::terms::FrozenTerms;
use crate::store::caps::{self, CounterKey};
use crate::store::clicks::Click;
use crate::store::leads::ClickLead;
use crate::store::offers::{Membership, Offer};

/// Why a conversion is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Refused with a reason code and the message for the sender.
    Refused(Reason, String),
    /// Refused `missing_field`, naming the fields.
    Missing(Vec<String>),
    /// The conversion repeats a stored lead (its id).
    Duplicate(i64),
    /// The conversion repeats a lead accepted earlier in this batch (its place).
    DuplicateOfNew(usize),
}

fn refuse(reason: Reason) -> Stop {
    Stop::Refused(reason, reason.explain().to_string())
}

fn refuse_with(reason: Reason, detail: impl Into<String>) -> Stop {
    Stop::Refused(reason, detail.into())
}

/// The offer, publisher and click a conversion was put down to.
#[derive(Debug, Clone)]
pub struct Who {
    pub offer: Offer,
    pub publisher_id: i64,
    pub click: Option<Click>,
}

/// Put a conversion down to an offer, a publisher and (usually) a click. `click` is
/// the stored click its click id names; `offer` the offer it names: a postback's
/// by its token (see [`named_offer_token`]), another channel's by `offer_id`.
/// A refusal here knows no offer, so it is not kept for a publisher to see.
pub fn attribute(conv: &Conversion, click: Option<Click>, offer: Option<Offer>) -> Result<Who, Stop> {
    let p = &conv.params;
    match conv.channel {
        Channel::Postback => {
            if p.token.is_none() {
                return Err(refuse(Reason::BadToken));
            }
            if p.click_id.is_none() {
                return Err(refuse_with(Reason::InvalidRequest, "a postback needs click_id (or transaction_id)"));
            }
            let Some(offer) = offer else { return Err(refuse(Reason::BadToken)) };
            if let Some(nets) = offer.postback_nets()
                && !conv.ip.parse::<std::net::IpAddr>().is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip)))
            {
                return Err(refuse(Reason::IpNotAllowed));
            }
            let Some(click) = click else { return Err(refuse(Reason::UnknownClick)) };
            if click.offer_id != offer.id {
                return Err(refuse(Reason::ClickOfferMismatch));
            }
            Ok(Who { offer, publisher_id: click.publisher_id, click: Some(click) })
        }
        Channel::Pixel | Channel::Api | Channel::Form | Channel::Advertiser => {
            let Some(offer_id) = conv.offer_id else {
                return Err(refuse_with(Reason::InvalidRequest, "offer_id is missing"));
            };
            let Some(offer) = offer else {
                return Err(refuse_with(Reason::InvalidRequest, format!("there is no offer {offer_id}")));
            };
            match (click, &p.click_id, conv.publisher_id) {
                (None, Some(_), _) => Err(refuse(Reason::UnknownClick)),
                (None, None, None) => Err(refuse_with(Reason::UnknownClick, "no click id (parameter or cookie)")),
                (None, None, Some(publisher_id)) => Ok(Who { offer, publisher_id, click: None }),
                (Some(click), _, publisher) => {
                    if click.offer_id != offer.id || publisher.is_some_and(|p| p != click.publisher_id) {
                        Err(refuse(Reason::ClickOfferMismatch))
                    } else {
                        Ok(Who { offer, publisher_id: click.publisher_id, click: Some(click) })
                    }
                }
            }
        }
    }
}

/// The token a postback names its offer by, when it can be attributed at all (it
/// has a token and a click id); the loader reads the offer with that token.
pub fn named_offer_token(conv: &Conversion) -> Option<&str> {
    match (conv.channel, &conv.params.token, &conv.params.click_id) {
        (Channel::Postback, Some(token), Some(_)) => Some(token),
        _ => None,
    }
}

/// What an intake batch read for one attributed conversion.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub conv: &'a Conversion,
    pub who: &'a Who,
    /// The terms in force when the click happened (else at `now`).
    pub frozen: &'a FrozenTerms,
    pub advertiser_active: bool,
    /// The publisher's membership of the offer, if any.
    pub membership: Option<&'a Membership>,
    /// Whether the publisher's account is active (only read with a membership).
    pub publisher_active: bool,
    /// The stored leads of the conversion's click (of any offer and event).
    pub click_leads: &'a [ClickLead],
    /// Without a click: the stored lead of the offer with the conversion's
    /// [`dedupe_key`] (a publisher's transaction id), if any.
    pub keyed_lead: Option<i64>,
    pub now: NaiveDateTime,
}

/// The event a conversion counts as: the one it names, else the terms' first,
/// else `lead`.
pub fn event_of(frozen: &FrozenTerms, conv: &Conversion) -> String {
    match &conv.params.event {
        Some(e) => e.clone(),
        None => frozen.events.first().cloned().unwrap_or_else(|| "lead".into()),
    }
}

/// What [`check`] found of a conversion that passed every check but caps and budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The event, resolved against the terms' events.
    pub event: String,
    /// The conversion's [`dedupe_key`], if it has one.
    pub dedupe_key: Option<String>,
    /// What the conversion costs the advertiser, at the frozen terms.
    pub price: i64,
    /// The publisher's postback URL template (empty: no postback).
    pub postback_template: String,
}

/// Whether the offer takes the conversion's channel, a signed pixel's signature,
/// and the amount it carries ([`channels::check`]). A click of the offer's CPS days
/// converts as a sale: only the advertiser's own channels may report it once the
/// offer has left CPS.
fn trusted(f: &Facts) -> Result<(), Stop> {
    let (conv, who, frozen) = (f.conv, f.who, f.frozen);
    let click_id = who.click.as_ref().map(|c| c.click_id.as_str());
    let mut open = who.offer.channels();
    if frozen.model() == PayoutModel::Cps && open.model != PayoutModel::Cps {
        (open.pixel, open.hosted_form, open.publisher_leads) = (false, false, false);
    }
    open.max_sale_minor = match frozen.model() {
        PayoutModel::Cps => Some(frozen.max_sale_minor.unwrap_or(DEFAULT_MAX_SALE_MINOR)),
        _ => None,
    };
    channels::check(&open, conv.channel, &conv.params, click_id, &who.offer.postback_token)
        .map_err(|(reason, detail)| refuse_with(reason, detail))
}

/// Every check of an attributed conversion but caps and budget, in order: the
/// channel may report it (before anything else, so that a refused channel learns
/// nothing, not even `duplicate`); the event is the offer's; it repeats no stored
/// lead and none accepted earlier in the batch (idempotency comes before the
/// offer's state: a retry of an accepted conversion is `duplicate` even once the
/// offer is paused); the click is within the conversion window; offer, advertiser,
/// membership and publisher are active; consent; required fields; a price.
pub fn check(f: &Facts, tally: &Tally) -> Result<Checked, Stop> {
    let (conv, who, frozen) = (f.conv, f.who, f.frozen);
    let (offer, p) = (&who.offer, &conv.params);
    trusted(f)?;
    let event = event_of(frozen, conv);
    if !frozen.events.is_empty() && !frozen.events.contains(&event) {
        let detail = format!("the offer has no event {event:?} (it has {})", frozen.events.join(", "));
        return Err(refuse_with(Reason::InvalidRequest, detail));
    }
    let click_id = who.click.as_ref().map(|c| c.click_id.as_str());
    let key = dedupe_key(p.txid.as_deref(), click_id, who.publisher_id, &event);
    if let Some(key) = &key {
        if let Some(index) = tally.accepted_keys.get(&(offer.id, key.clone())) {
            return Err(Stop::DuplicateOfNew(*index));
        }
        let stored = match click_id {
            Some(_) => f.click_leads.iter().find(|l| l.offer_id == offer.id && l.dedupe_key == *key).map(|l| l.id),
            None => f.keyed_lead,
        };
        if let Some(id) = stored {
            return Err(Stop::Duplicate(id));
        }
    }
    if let Some(click) = click_id {
        let same = |earlier: &Option<String>| channels::repeats(conv.channel, earlier.as_deref(), p.txid.as_deref());
        if let Some(earlier) = tally.accepted_clicks.get(&(offer.id, click.to_string(), event.clone()))
            && let Some((index, _)) = earlier.iter().find(|(_, tx)| same(tx))
        {
            return Err(Stop::DuplicateOfNew(*index));
        }
        if let Some(earlier) =
            f.click_leads.iter().find(|l| l.offer_id == offer.id && l.event == event && same(&l.txid))
        {
            return Err(Stop::Duplicate(earlier.id));
        }
    }
    let terms = &frozen.terms;
    if let Some(click) = &who.click {
        let window = i64::from(terms.conversion_window_days.max(1));
        if click.created_at + Duration::days(window) < f.now {
            return Err(refuse(Reason::ClickExpired));
        }
    }
    if offer.status() != OfferStatus::Active {
        return Err(refuse(Reason::OfferInactive));
    }
    if !f.advertiser_active {
        return Err(refuse_with(Reason::OfferInactive, "the advertiser's account is not active"));
    }
    let Some(membership) = f.membership.filter(|m| m.is_approved()) else {
        return Err(refuse_with(Reason::OfferInactive, "the publisher's link for this offer is not approved"));
    };
    if !f.publisher_active {
        return Err(refuse_with(Reason::OfferInactive, "the publisher's account is not active"));
    }
    // A click the offer's targeting or a source block sent to the fallback cannot convert.
    match who.click.as_ref().and_then(|c| c.redirect_reason.as_deref()) {
        Some(crate::domain::targeting::REASON) => return Err(refuse(Reason::NotTargeted)),
        Some(crate::domain::source_block::REASON) => return Err(refuse(Reason::SourceBlocked)),
        _ => {}
    }
    if conv.consent == Some(false) {
        return Err(refuse(Reason::MissingConsent));
    }
    // A lead that lacks a required field (of the terms of its click) could never
    // pass: refused before it holds budget or a cap.
    let fields = missing_fields(&terms.required_fields, &p.fields);
    if !fields.is_empty() {
        return Err(Stop::Missing(fields));
    }
    let Some(price) = frozen.price_of(p.amount_minor) else {
        return Err(refuse_with(Reason::InvalidRequest, "a CPS conversion needs the sale amount above zero"));
    };
    Ok(Checked { event, dedupe_key: key, price, postback_template: membership.postback_template.clone() })
}

/// A cap counter's `(leads, spend)`.
pub type Count = (i64, i64);

/// A counter a lead counts against, with its (max leads, max spend).
pub type Limit = (CounterKey, Option<i64>, Option<i64>);

/// The counters a lead of the attributed conversion at `now` counts against.
pub fn limits(who: &Who, now: NaiveDateTime) -> Vec<Limit> {
    caps::limits(&who.offer, who.publisher_id, now)
}

/// An accepted lead's place in the batch and its transaction id.
type AcceptedTxid = (usize, Option<String>);

/// What one intake batch has read under its locks and changed so far. Every
/// decision in the batch is taken against these values, which the batch's locks
/// (row locks, or SQLite's write lock) keep exact until it commits.
#[derive(Debug, Default)]
pub struct Tally {
    /// Balances by ledger account: as the batch has changed them, and the change.
    pub balances: HashMap<String, (i64, i64)>,
    /// Cap counters: `(leads, spend)` as the batch has changed them, and the change.
    pub counters: HashMap<CounterKey, (Count, Count)>,
    /// How many conversions the batch has accepted.
    pub accepted: usize,
    /// `(offer, dedupe key)` of the accepted leads, for duplicates within the batch.
    accepted_keys: HashMap<(i64, String), usize>,
    /// `(offer, click, event)` of the accepted leads with their txids, likewise.
    accepted_clicks: HashMap<(i64, String, String), Vec<AcceptedTxid>>,
}

impl Tally {
    /// An account's balance as the batch has it (`None`: not read).
    pub fn balance(&self, account: &str) -> Option<i64> {
        self.balances.get(account).map(|(value, _)| *value)
    }

    fn move_money(&mut self, account: &str, delta: i64) {
        if let Some((value, change)) = self.balances.get_mut(account) {
            *value += delta;
            *change += delta;
        }
    }
}

/// What an accepted conversion reserves: the price from the advertiser's balance
/// to its escrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The lead's place among the batch's accepted leads.
    pub index: usize,
    pub advertiser: String,
    pub escrow: String,
}

/// Caps and the daily budget, then the advertiser's balance, against the batch's
/// [`Tally`] (the `limits`' counters and both accounts must be in it). Accepted:
/// the price moves from the advertiser's balance to escrow, counts on every
/// counter, and the conversion's keys are kept for later duplicates in the batch.
pub fn admit(
    conv: &Conversion,
    who: &Who,
    checked: &Checked,
    limits: &[Limit],
    tally: &mut Tally,
) -> Result<Admitted, Stop> {
    let offer = &who.offer;
    let price = checked.price;
    for (counter, max_leads, max_spend) in limits {
        let count = tally.counters.get(counter).map_or((0, 0), |(value, _)| *value);
        if caps::refuses(count, price, *max_leads, *max_spend) {
            return Err(refuse(Reason::CapReached));
        }
    }
    let advertiser = advertiser_account(offer.advertiser_id);
    let escrow = escrow_account(offer.advertiser_id);
    if tally.balance(&advertiser).unwrap_or(0) < price {
        return Err(refuse(Reason::BudgetExhausted));
    }
    tally.move_money(&advertiser, -price);
    tally.move_money(&escrow, price);
    for (counter, _, _) in limits {
        if let Some((value, change)) = tally.counters.get_mut(counter) {
            *value = (value.0 + 1, value.1 + price);
            *change = (change.0 + 1, change.1 + price);
        }
    }
    let index = tally.accepted;
    tally.accepted += 1;
    if let Some(key) = &checked.dedupe_key {
        tally.accepted_keys.insert((offer.id, key.clone()), index);
    }
    if let Some(click) = &who.click {
        let entry = tally.accepted_clicks.entry((offer.id, click.click_id.clone(), checked.event.clone())).or_default();
        entry.push((index, conv.params.txid.clone()));
    }
    Ok(Admitted { index, advertiser, escrow })
}

/// Whether a refusal pauses the offer: an exhausted balance does, unless the price
/// came from a browser pixel (it carries no secret and sets a CPS price by its
/// amount: refused when the balance cannot pay, but it pauses nothing).
pub fn pauses_offer(conv: &Conversion, who: &Who, reason: Reason) -> bool {
    let untrusted_price = conv.channel == Channel::Pixel && who.offer.model() == PayoutModel::Cps;
    reason == Reason::BudgetExhausted && !untrusted_price
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
