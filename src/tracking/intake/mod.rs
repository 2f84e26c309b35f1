//! The one intake path for every conversion: server postbacks, pixels, API leads
//! and the hosted form all become a [`Conversion`] and go through [`decide`] inside
//! a group-committed transaction. The batch reads the balances and cap counters
//! it needs under row locks, decides each conversion against them, and writes the
//! accepted leads, their ledger lines, history, rollups and publisher postbacks in
//! that same transaction; an answer is given only after the commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;
use tokio::sync::watch;

use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::db::{DbConn, DbPool};
use crate::domain::channels;
use crate::domain::intake::{Channel, Params, Reason, dedupe_key, missing_fields};
use crate::domain::money::format_minor;
use crate::domain::offer::{OfferStatus, PayoutModel, apply_bps, split_price};
use crate::domain::terms::FrozenTerms;
use crate::error::AppError;
use crate::mail::{self, templates::OfferPausedLowBalance};
use crate::store::caps::CounterKey;
use crate::store::clicks::{self, Click};
use crate::store::leads::{self, LeadStatus, NewLead, Rejection};
use crate::store::ledger::{self, Transfer};
use crate::store::offers::{self, Membership, Offer};
use crate::store::{caps, now, postbacks, rollups, settings, terms, users, webhooks};
use crate::tracking::group_commit::{Batching, GroupCommit, WriterConn};
use crate::tracking::link_cache::LinkCache;
use crate::tracking::publisher_postbacks::PostbackSignal;

/// One conversion as it arrives, before any check that needs the database.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub channel: Channel,
    pub params: Params,
    /// The offer a pixel URL or an API body names.
    pub offer_id: Option<i64>,
    /// The publisher an API key or a hosted-form link belongs to.
    pub publisher_id: Option<i64>,
    /// Whether the person consented (API and form); `None` where it is not asked.
    pub consent: Option<bool>,
    /// The sender's address (the advertiser's server for postbacks).
    pub ip: String,
}

/// What intake answered. `MissingFields` is a refusal `missing_field`, naming the
/// required fields the conversion lacks (absent or blank).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted { lead_id: i64 },
    Duplicate { lead_id: i64 },
    Rejected { reason: Reason, detail: String },
    MissingFields { fields: Vec<String> },
}

/// Why `attempt` stopped, with what is known about the conversion by then.
enum Stop {
    Refused {
        reason: Reason,
        detail: String,
        who: Option<Box<Who>>,
    },
    Duplicate(i64),
    /// Refused `missing_field`, naming the fields.
    Missing {
        fields: Vec<String>,
        who: Box<Who>,
    },
    /// The same conversion was accepted earlier in this batch.
    DuplicateOfNew(usize),
}

/// The offer, publisher and click a conversion was put down to.
#[derive(Clone)]
struct Who {
    offer: Offer,
    publisher_id: i64,
    click: Option<Click>,
}

fn refuse(reason: Reason, who: Option<&Who>) -> Stop {
    Stop::Refused { reason, detail: reason.explain().to_string(), who: who.cloned().map(Box::new) }
}

fn refuse_with(reason: Reason, detail: impl Into<String>, who: Option<&Who>) -> Stop {
    Stop::Refused { reason, detail: detail.into(), who: who.cloned().map(Box::new) }
}

/// Whether the offer takes the conversion's channel, a signed pixel's signature,
/// and the amount it carries ([`channels::check`]); before anything else, so a
/// refused channel learns nothing (not even `duplicate`).
fn trusted(conv: &Conversion, who: &Who, frozen: &FrozenTerms) -> Result<(), Stop> {
    let click_id = who.click.as_ref().map(|c| c.click_id.as_str());
    let mut open = who.offer.channels();
    // A click of the offer's CPS days converts as a sale: only the advertiser's own
    // channels may report it once the offer has left CPS.
    if frozen.model() == PayoutModel::Cps && open.model != PayoutModel::Cps {
        (open.pixel, open.hosted_form, open.publisher_leads) = (false, false, false);
    }
    open.max_sale_minor = match frozen.model() {
        PayoutModel::Cps => Some(frozen.max_sale_minor.unwrap_or(crate::domain::offer::DEFAULT_MAX_SALE_MINOR)),
        _ => None,
    };
    channels::check(&open, conv.channel, &conv.params, click_id, &who.offer.postback_token)
        .map_err(|(reason, detail)| refuse_with(reason, detail, Some(who)))
}

/// A cap counter's `(leads, spend)`.
type Tally = (i64, i64);

/// What one batch has read and what it will add when it ends. Every decision in the
/// batch is taken against these values, which are held under row locks (or the
/// SQLite write lock) until the batch commits, so they are exact.
struct Batch<'a> {
    config: &'a Config,
    at: NaiveDateTime,
    fee_default: i64,
    offers: HashMap<i64, Option<Offer>>,
    memberships: HashMap<(i64, i64), Option<Membership>>,
    clicks: HashMap<String, Click>,
    /// The leads the batch's clicks already have.
    click_leads: HashMap<String, Vec<leads::ClickLead>>,
    /// Locked balances as the batch has changed them, and the change to write.
    balances: HashMap<String, (i64, i64)>,
    /// Locked cap counters `(leads, spend)` as the batch has changed them, and the change.
    counters: HashMap<CounterKey, (Tally, Tally)>,
    rollups: BTreeMap<rollups::Key, rollups::Delta>,
    /// Leads accepted in this batch, written together when it ends.
    accepted: Vec<Accepted>,
    /// `(offer, dedupe key)` of the accepted leads, for duplicates within the batch.
    accepted_keys: HashMap<(i64, String), usize>,
    /// `(offer, click, event)` of the accepted leads with their txids, likewise.
    accepted_clicks: HashMap<(i64, String, String), Vec<AcceptedTxid>>,
    /// Whether an account (advertiser or publisher) is active, read with its offer or
    /// membership (no query of its own).
    active_accounts: HashMap<i64, bool>,
    /// Whether the batch paused an offer whose advertiser ran out of balance.
    paused_offer: bool,
    /// Each offer's versions of its terms (oldest first), read once per batch.
    terms: HashMap<i64, Vec<terms::TermsRow>>,
}

/// An accepted lead's place in the batch and its transaction id.
type AcceptedTxid = (usize, Option<String>);

/// A lead accepted in this batch, not yet written.
struct Accepted {
    lead: NewLead,
    reserve: Transfer,
    postback: bool,
}

/// A decision whose lead id is known only when the batch writes its leads.
enum Pending {
    Done(Outcome),
    New(usize),
    DuplicateOfNew(usize),
}

impl<'a> Batch<'a> {
    fn new(conn: &mut DbConn, config: &'a Config, jobs: &[Conversion]) -> QueryResult<Batch<'a>> {
        let ids: Vec<&str> = jobs.iter().filter_map(|j| j.params.click_id.as_deref()).collect();
        let clicks: HashMap<String, Click> =
            clicks::find_many(conn, &ids)?.into_iter().map(|c| (c.click_id.clone(), c)).collect();
        let mut batch = Batch {
            config,
            at: now(),
            fee_default: settings::platform_fee_bps(conn, config.platform_fee_bps)?,
            offers: HashMap::new(),
            memberships: HashMap::new(),
            clicks: HashMap::new(),
            click_leads: HashMap::new(),
            balances: HashMap::new(),
            counters: HashMap::new(),
            rollups: BTreeMap::new(),
            accepted: Vec::new(),
            accepted_keys: HashMap::new(),
            accepted_clicks: HashMap::new(),
            active_accounts: HashMap::new(),
            paused_offer: false,
            terms: HashMap::new(),
        };
        // Lock the balance of every advertiser the batch may charge, in one sorted
        // pass: processes sharing PostgreSQL then queue on these rows in the same
        // order (no deadlock), and every cap counter of an offer is only taken while
        // its advertiser's row is held.
        let mut offer_ids: Vec<i64> = clicks.values().map(|c| c.offer_id).collect();
        offer_ids.extend(jobs.iter().filter_map(|j| j.offer_id));
        offer_ids.sort_unstable();
        offer_ids.dedup();
        let mut advertisers = Vec::new();
        for id in offer_ids {
            if let Some(o) = batch.offer(conn, id)? {
                advertisers.push(o.advertiser_id);
            }
        }
        // With their escrow accounts, which an accepted lead credits: all in one
        // statement, in name order.
        let mut accounts: Vec<String> =
            advertisers.iter().flat_map(|id| [ledger::advertiser(*id), ledger::escrow(*id)]).collect();
        accounts.sort_unstable();
        accounts.dedup();
        if !accounts.is_empty() {
            for (account, value) in ledger::lock_balances(conn, &accounts)? {
                batch.balances.insert(account, (value, 0));
            }
        }
        // With the locks held, the leads of the batch's clicks, for the duplicate checks.
        let found: Vec<&str> = clicks.keys().map(String::as_str).collect();
        for lead in leads::by_clicks(conn, &found)? {
            if let Some(click) = lead.click_id.clone() {
                batch.click_leads.entry(click).or_default().push(lead);
            }
        }
        batch.clicks = clicks;
        Ok(batch)
    }

    fn offer(&mut self, conn: &mut DbConn, id: i64) -> QueryResult<Option<Offer>> {
        if let Some(o) = self.offers.get(&id) {
            return Ok(o.clone());
        }
        let found = offers::find_with_advertiser_active(conn, id)?;
        if let Some((o, active)) = &found {
            self.active_accounts.insert(o.advertiser_id, *active);
        }
        let o = found.map(|(o, _)| o);
        self.offers.insert(id, o.clone());
        Ok(o)
    }

    /// The terms in force for `offer` at `at` (the conversion's click, else now):
    /// the version's id and its terms. An offer with no stored version (made live
    /// before versions were kept, or outside the review) gets its current terms
    /// stored as in force since always.
    fn terms_at(&mut self, conn: &mut DbConn, offer: &Offer, at: NaiveDateTime) -> QueryResult<(i64, FrozenTerms)> {
        let rows = match self.terms.entry(offer.id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let mut rows = terms::for_offer(conn, offer.id)?;
                if rows.is_empty() {
                    let since = chrono::DateTime::UNIX_EPOCH.naive_utc();
                    terms::record(conn, offer.id, None, since, &terms::of_offer(offer))?;
                    rows = terms::for_offer(conn, offer.id)?;
                }
                e.insert(rows)
            }
        };
        let row = terms::in_force(rows, at).or(rows.first()).ok_or(diesel::result::Error::NotFound)?;
        // A version that does not read is never taken as free terms: the offer's
        // current ones apply (and the error is logged).
        Ok((row.id, row.terms().unwrap_or_else(|| terms::of_offer(offer))))
    }

    fn membership(&mut self, conn: &mut DbConn, offer_id: i64, publisher_id: i64) -> QueryResult<Option<Membership>> {
        if let Some(m) = self.memberships.get(&(offer_id, publisher_id)) {
            return Ok(m.clone());
        }
        let found = offers::membership_with_publisher_active(conn, offer_id, publisher_id)?;
        if let Some((_, active)) = &found {
            self.active_accounts.insert(publisher_id, *active);
        }
        let m = found.map(|(m, _)| m);
        self.memberships.insert((offer_id, publisher_id), m.clone());
        Ok(m)
    }

    /// Known from the offer's or the membership's read, which come first; asked on
    /// its own otherwise.
    fn account_active(&mut self, conn: &mut DbConn, user_id: i64) -> QueryResult<bool> {
        if let Some(active) = self.active_accounts.get(&user_id) {
            return Ok(*active);
        }
        let active = !users::inactive_among(conn, &[user_id])?.contains(&user_id);
        self.active_accounts.insert(user_id, active);
        Ok(active)
    }

    fn balance(&mut self, conn: &mut DbConn, account: &str) -> QueryResult<i64> {
        if let Some((value, _)) = self.balances.get(account) {
            return Ok(*value);
        }
        let value = ledger::lock_balance(conn, account)?;
        self.balances.insert(account.to_string(), (value, 0));
        Ok(value)
    }

    fn move_money(&mut self, account: &str, delta: i64) {
        if let Some((value, change)) = self.balances.get_mut(account) {
            *value += delta;
            *change += delta;
        }
    }

    fn counter(&mut self, conn: &mut DbConn, key: &CounterKey) -> QueryResult<(i64, i64)> {
        if let Some((value, _)) = self.counters.get(key) {
            return Ok(*value);
        }
        let value = caps::lock(conn, key)?;
        self.counters.insert(key.clone(), (value, (0, 0)));
        Ok(value)
    }

    fn rollup(&mut self, key: rollups::Key, delta: rollups::Delta) {
        *self.rollups.entry(key).or_default() += delta;
    }

    /// Write the accepted leads, their history, ledger lines and postbacks, and what
    /// the batch added to balances, counters and rollups; the new leads' ids and
    /// whether any publisher postback was queued.
    fn flush(self, conn: &mut DbConn) -> QueryResult<(Vec<i64>, bool)> {
        let rows: Vec<NewLead> = self.accepted.iter().map(|a| a.lead.clone()).collect();
        let stored = leads::insert_many(conn, &rows)?;
        let by_key: HashMap<(i64, &str), i64> =
            stored.iter().map(|(id, offer, key)| ((*offer, key.as_str()), *id)).collect();
        let mut ids = Vec::with_capacity(self.accepted.len());
        let mut postings = Vec::new();
        for a in &self.accepted {
            let id = by_key
                .get(&(a.lead.offer_id, a.lead.dedupe_key.as_str()))
                .copied()
                .ok_or(diesel::result::Error::NotFound)?;
            ids.push(id);
            if a.reserve.amount > 0 {
                postings.push((id, vec![a.reserve.clone()]));
            }
        }
        ledger::record_many(conn, "lead_accepted", "price reserved", &postings, self.at)?;
        let mut queued = false;
        let mut offer_ids: Vec<i64> = self.accepted.iter().map(|a| a.lead.offer_id).collect();
        offer_ids.sort_unstable();
        offer_ids.dedup();
        let hooks = webhooks::endpoints_for(conn, &offer_ids)?;
        for (a, id) in self.accepted.iter().zip(&ids) {
            let hooked = hooks.get(&a.lead.offer_id);
            if (a.postback || hooked.is_some())
                && let Some(lead) = leads::find(conn, *id)?
            {
                if a.postback {
                    postbacks::enqueue(conn, &lead, "created")?;
                    queued = true;
                }
                if let Some(h) = hooked {
                    queued |= webhooks::enqueue_to(conn, h, &lead, "accepted")? > 0;
                }
            }
        }
        let mut balances: Vec<(String, i64)> =
            self.balances.into_iter().filter(|(_, (_, d))| *d != 0).map(|(a, (_, d))| (a, d)).collect();
        balances.sort();
        ledger::add_to_balances(conn, &balances)?;
        let mut counters: Vec<_> = self.counters.into_iter().filter(|(_, (_, d))| *d != (0, 0)).collect();
        counters.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, (_, (leads, spend))) in counters {
            caps::add(conn, &key, leads, spend)?;
        }
        rollups::add_many(conn, &self.rollups)?;
        Ok((ids, queued))
    }

    /// Decide one conversion; an `Err` is a database error (the batch is retried).
    fn decide(&mut self, conn: &mut DbConn, conv: &Conversion) -> QueryResult<Pending> {
        match self.attempt(conn, conv)? {
            Ok(index) => Ok(Pending::New(index)),
            Err(Stop::Duplicate(lead_id)) => Ok(Pending::Done(Outcome::Duplicate { lead_id })),
            Err(Stop::DuplicateOfNew(index)) => Ok(Pending::DuplicateOfNew(index)),
            Err(Stop::Refused { reason, detail, who }) => {
                if let Some(who) = who {
                    self.after_refusal(conn, conv, &who, reason)?;
                }
                Ok(Pending::Done(Outcome::Rejected { reason, detail }))
            }
            Err(Stop::Missing { fields, who }) => {
                self.after_refusal(conn, conv, &who, Reason::MissingField)?;
                Ok(Pending::Done(Outcome::MissingFields { fields }))
            }
        }
    }

    /// Every check reads; nothing is written until the conversion is accepted.
    fn attempt(&mut self, conn: &mut DbConn, conv: &Conversion) -> QueryResult<Result<usize, Stop>> {
        let who = match self.attribute(conn, conv)? {
            Ok(who) => who,
            Err(stop) => return Ok(Err(stop)),
        };
        let who_ref = Some(&who);
        let offer = &who.offer;
        let p = &conv.params;
        let at = self.at;
        // The event, the price and the largest sale come from the terms in force
        // when the click happened (DESIGN "Trust"): a lead keeps them whatever the
        // offer says later. Which channels are open is the offer's live setting.
        let (terms_id, frozen) = self.terms_at(conn, offer, who.click.as_ref().map_or(at, |c| c.created_at))?;
        if let Err(stop) = trusted(conv, &who, &frozen) {
            return Ok(Err(stop));
        }
        let events = frozen.events.clone();
        let event = match &p.event {
            Some(e) => e.clone(),
            None => events.first().cloned().unwrap_or_else(|| "lead".into()),
        };
        if !events.is_empty() && !events.contains(&event) {
            let detail = format!("the offer has no event {event:?} (it has {})", events.join(", "));
            return Ok(Err(refuse_with(Reason::InvalidRequest, detail, who_ref)));
        }
        let click_id = who.click.as_ref().map(|c| c.click_id.clone());

        // The advertiser's balance row is locked first: on PostgreSQL this orders
        // every process's conversions of one advertiser, so the duplicate checks
        // below see what another process committed a moment ago.
        let advertiser = ledger::advertiser(offer.advertiser_id);
        let escrow = ledger::escrow(offer.advertiser_id);
        self.balance(conn, &advertiser)?;

        // Idempotency first: a retry of an accepted conversion is answered `duplicate`
        // even if the offer has since been paused or capped.
        let key = dedupe_key(p.txid.as_deref(), click_id.as_deref(), who.publisher_id, &event);
        if let Some(key) = &key {
            if let Some(index) = self.accepted_keys.get(&(offer.id, key.clone())) {
                return Ok(Err(Stop::DuplicateOfNew(*index)));
            }
            // A key with a click names the click, so its leads were read with the batch.
            let earlier = match &click_id {
                Some(click) => self
                    .click_leads
                    .get(click)
                    .and_then(|l| l.iter().find(|l| l.offer_id == offer.id && l.dedupe_key == *key))
                    .map(|l| l.id),
                None => leads::find_by_key(conn, offer.id, key)?,
            };
            if let Some(id) = earlier {
                return Ok(Err(Stop::Duplicate(id)));
            }
        }
        if let Some(click) = &click_id {
            let same =
                |earlier: &Option<String>| channels::repeats(conv.channel, earlier.as_deref(), p.txid.as_deref());
            if let Some(earlier) = self.accepted_clicks.get(&(offer.id, click.clone(), event.clone()))
                && let Some((index, _)) = earlier.iter().find(|(_, tx)| same(tx))
            {
                return Ok(Err(Stop::DuplicateOfNew(*index)));
            }
            if let Some(earlier) = self
                .click_leads
                .get(click)
                .and_then(|l| l.iter().find(|l| l.offer_id == offer.id && l.event == event && same(&l.txid)))
            {
                return Ok(Err(Stop::Duplicate(earlier.id)));
            }
        }
        let terms = &frozen.terms;
        if let Some(click) = &who.click {
            let window = i64::from(terms.conversion_window_days.max(1));
            if click.created_at + Duration::days(window) < at {
                return Ok(Err(refuse(Reason::ClickExpired, who_ref)));
            }
        }
        if offer.status() != OfferStatus::Active {
            return Ok(Err(refuse(Reason::OfferInactive, who_ref)));
        }
        if !self.account_active(conn, offer.advertiser_id)? {
            let detail = "the advertiser's account is not active";
            return Ok(Err(refuse_with(Reason::OfferInactive, detail, who_ref)));
        }
        let membership = self.membership(conn, offer.id, who.publisher_id)?.filter(|m| m.is_approved());
        let Some(membership) = membership else {
            let detail = "the publisher's link for this offer is not approved";
            return Ok(Err(refuse_with(Reason::OfferInactive, detail, who_ref)));
        };
        if !self.account_active(conn, who.publisher_id)? {
            let detail = "the publisher's account is not active";
            return Ok(Err(refuse_with(Reason::OfferInactive, detail, who_ref)));
        }
        if conv.consent == Some(false) {
            return Ok(Err(refuse(Reason::MissingConsent, who_ref)));
        }
        // A lead that lacks a required field (of the terms of its click) could never
        // pass: refused before it holds budget or a cap.
        let fields = missing_fields(&terms.required_fields, &p.fields);
        if !fields.is_empty() {
            return Ok(Err(Stop::Missing { fields, who: Box::new(who.clone()) }));
        }
        let Some(price) = frozen.price_of(p.amount_minor) else {
            let detail = "a CPS conversion needs the sale amount above zero";
            return Ok(Err(refuse_with(Reason::InvalidRequest, detail, who_ref)));
        };

        // Caps and the daily budget, against counters held for this transaction.
        let limits = caps::limits(offer, who.publisher_id, at);
        for (counter, max_leads, max_spend) in &limits {
            let (leads, spend) = self.counter(conn, counter)?;
            if caps::refuses((leads, spend), price, *max_leads, *max_spend) {
                return Ok(Err(refuse(Reason::CapReached, who_ref)));
            }
        }
        // The advertiser's balance must cover the price.
        if self.balance(conn, &advertiser)? < price {
            return Ok(Err(refuse(Reason::BudgetExhausted, who_ref)));
        }
        self.balance(conn, &escrow)?;

        // Accepted: write the lead, its ledger lines and its postback.
        let new = new_lead(LeadParts {
            offer,
            frozen: &frozen,
            terms_id: Some(terms_id),
            publisher_id: who.publisher_id,
            click: who.click.as_ref().map(LeadClick::from),
            channel: conv.channel,
            event,
            txid: p.txid.as_deref(),
            dedupe_key: key,
            amount_minor: p.amount_minor,
            fields: &p.fields,
            consent: conv.consent.unwrap_or(false),
            sender_ip: &conv.ip,
            price,
            platform_fee_bps: self.fee_default,
            at,
        });
        let (rollup_key, rollup_delta) = leads::created_delta(&new);
        self.rollup(rollup_key, rollup_delta);
        self.move_money(&advertiser, -price);
        self.move_money(&escrow, price);
        for (counter, _, _) in limits {
            if let Some((value, change)) = self.counters.get_mut(&counter) {
                *value = (value.0 + 1, value.1 + price);
                *change = (change.0 + 1, change.1 + price);
            }
        }
        let index = self.accepted.len();
        self.accepted_keys.insert((new.offer_id, new.dedupe_key.clone()), index);
        if let Some(click) = &new.click_id {
            let entry = self.accepted_clicks.entry((new.offer_id, click.clone(), new.event.clone())).or_default();
            entry.push((index, new.txid.clone()));
        }
        self.accepted.push(Accepted {
            lead: new,
            reserve: Transfer::new(advertiser, escrow, price),
            postback: !membership.postback_template.trim().is_empty(),
        });
        Ok(Ok(index))
    }

    /// Put a conversion down to an offer, a publisher and (usually) a click.
    fn attribute(&mut self, conn: &mut DbConn, conv: &Conversion) -> QueryResult<Result<Who, Stop>> {
        let p = &conv.params;
        let click = p.click_id.as_ref().and_then(|id| self.clicks.get(id)).cloned();
        match conv.channel {
            Channel::Postback => {
                let Some(token) = p.token.as_deref() else { return Ok(Err(refuse(Reason::BadToken, None))) };
                if p.click_id.is_none() {
                    let detail = "a postback needs click_id (or transaction_id)";
                    return Ok(Err(refuse_with(Reason::InvalidRequest, detail, None)));
                }
                // The token is compared, in constant time, with the token of the click's offer.
                let click_offer = match &click {
                    Some(c) => self.offer(conn, c.offer_id)?,
                    None => None,
                };
                let offer = match click_offer {
                    Some(o) if constant_time_eq(&o.postback_token, token) => o,
                    _ => match offers::by_postback_token(conn, token)? {
                        Some(o) => o,
                        None => return Ok(Err(refuse(Reason::BadToken, None))),
                    },
                };
                if let Some(nets) = offer.postback_nets()
                    && !conv.ip.parse::<std::net::IpAddr>().is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip)))
                {
                    return Ok(Err(refuse(Reason::IpNotAllowed, None)));
                }
                let Some(click) = click else { return Ok(Err(refuse(Reason::UnknownClick, None))) };
                if click.offer_id != offer.id {
                    return Ok(Err(refuse(Reason::ClickOfferMismatch, None)));
                }
                Ok(Ok(Who { offer, publisher_id: click.publisher_id, click: Some(click) }))
            }
            Channel::Pixel | Channel::Api | Channel::Form | Channel::Advertiser => {
                let Some(offer_id) = conv.offer_id else {
                    return Ok(Err(refuse_with(Reason::InvalidRequest, "offer_id is missing", None)));
                };
                let Some(offer) = self.offer(conn, offer_id)? else {
                    let detail = format!("there is no offer {offer_id}");
                    return Ok(Err(refuse_with(Reason::InvalidRequest, detail, None)));
                };
                Ok(match (click, &p.click_id, conv.publisher_id) {
                    (None, Some(_), _) => Err(refuse(Reason::UnknownClick, None)),
                    (None, None, None) => {
                        Err(refuse_with(Reason::UnknownClick, "no click id (parameter or cookie)", None))
                    }
                    (None, None, Some(publisher_id)) => Ok(Who { offer, publisher_id, click: None }),
                    (Some(click), _, publisher) => {
                        if click.offer_id != offer.id || publisher.is_some_and(|p| p != click.publisher_id) {
                            Err(refuse(Reason::ClickOfferMismatch, None))
                        } else {
                            Ok(Who { offer, publisher_id: click.publisher_id, click: Some(click) })
                        }
                    }
                })
            }
        }
    }

    /// Keep the refusal for the publisher to see; an exhausted balance pauses the
    /// offer and tells the advertiser (once: only the change from active does).
    fn after_refusal(&mut self, conn: &mut DbConn, conv: &Conversion, who: &Who, reason: Reason) -> QueryResult<()> {
        let event = conv.params.event.clone().unwrap_or_default();
        let (key, delta) = leads::record_rejection(
            conn,
            &Rejection {
                offer_id: who.offer.id,
                publisher_id: who.publisher_id,
                click_id: who.click.as_ref().map(|c| c.click_id.as_str()),
                channel: conv.channel.as_str(),
                event: &event,
                txid: conv.params.txid.as_deref(),
                reason: reason.code(),
                sub1: who.click.as_ref().map(|c| c.sub1.as_str()).unwrap_or(""),
                at: self.at,
            },
        )?;
        self.rollup(key, delta);
        // A browser pixel carries no secret and sets a CPS price by its amount: it
        // is refused when the balance cannot pay, but does not pause the offer.
        let untrusted_price = conv.channel == Channel::Pixel && who.offer.model() == PayoutModel::Cps;
        if reason != Reason::BudgetExhausted
            || untrusted_price
            || !offers::set_status(conn, who.offer.id, OfferStatus::Active, OfferStatus::Paused, None)?
        {
            return Ok(());
        }
        self.offers.remove(&who.offer.id);
        self.paused_offer = true;
        tracing::warn!(offer_id = who.offer.id, "offer paused: advertiser balance too low");
        let Some(advertiser) = users::find(conn, who.offer.advertiser_id)? else { return Ok(()) };
        let balance = self.balance(conn, &ledger::advertiser(advertiser.id))?;
        let price = price_of(&who.offer, conv.params.amount_minor).unwrap_or(0);
        let currency = &self.config.currency;
        let email = OfferPausedLowBalance {
            name: advertiser.display_name.clone(),
            offer_name: who.offer.name.clone(),
            balance: format!("{} {currency}", format_minor(balance)),
            price: format!("{} {currency}", format_minor(price)),
            link: self.config.url(&format!("/advertiser/offers/{}", who.offer.id)),
        };
        mail::enqueue(conn, &advertiser.email, &email)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
        Ok(())
    }
}

/// The click an accepted conversion is put down to, as far as its lead row copies it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeadClick<'a> {
    pub click_id: &'a str,
    pub subs: [&'a str; 5],
    pub source: &'a str,
    pub country: Option<&'a str>,
    pub ip: &'a str,
    pub at: NaiveDateTime,
}

impl<'a> From<&'a Click> for LeadClick<'a> {
    fn from(c: &'a Click) -> LeadClick<'a> {
        LeadClick {
            click_id: &c.click_id,
            subs: [&c.sub1, &c.sub2, &c.sub3, &c.sub4, &c.sub5],
            source: &c.source,
            country: c.country.as_deref(),
            ip: &c.ip,
            at: c.created_at,
        }
    }
}

/// What the lead row of an accepted conversion is made of (see [`new_lead`]).
pub(crate) struct LeadParts<'a> {
    pub offer: &'a Offer,
    /// The terms the lead is accepted under (price, fee, hold, countries).
    pub frozen: &'a FrozenTerms,
    /// Their stored version, if any (`offer_terms`).
    pub terms_id: Option<i64>,
    pub publisher_id: i64,
    pub click: Option<LeadClick<'a>>,
    pub channel: Channel,
    /// The event, already resolved against the offer's events.
    pub event: String,
    pub txid: Option<&'a str>,
    /// The conversion's [`dedupe_key`]; `None` gets a key of its own (`new:…`).
    pub dedupe_key: Option<String>,
    pub amount_minor: Option<i64>,
    pub fields: &'a BTreeMap<String, String>,
    pub consent: bool,
    /// The sender's address, kept as the lead's when there is no click.
    pub sender_ip: &'a str,
    /// What the conversion costs the advertiser ([`price_of`]).
    pub price: i64,
    /// The platform's fee, for offers that set none of their own.
    pub platform_fee_bps: i64,
    pub at: NaiveDateTime,
}

/// The pending lead row of an accepted conversion: the price split into fee and
/// payout at the offer's fee, the subs, source and address of the click, the
/// country of the click (else the one sent), the normalised contact, and the hold
/// from `at`. Intake and `qualead demo` both build their leads here.
pub(crate) fn new_lead(parts: LeadParts<'_>) -> NewLead {
    let LeadParts {
        offer,
        frozen,
        terms_id,
        publisher_id,
        click,
        channel,
        event,
        txid,
        dedupe_key,
        amount_minor,
        fields,
        consent,
        sender_ip,
        price,
        platform_fee_bps,
        at,
    } = parts;
    let terms = &frozen.terms;
    let fee_bps = frozen.fee_bps.map(i64::from).unwrap_or(platform_fee_bps);
    let (fee, payout) = split_price(price, fee_bps);
    let country = click.and_then(|c| c.country).map(str::to_owned).or_else(|| fields.get("country").cloned());
    let contact = normalised_contact(fields, country.as_deref(), &terms.allowed_countries);
    let [sub1, sub2, sub3, sub4, sub5] = click.map(|c| c.subs.map(str::to_owned)).unwrap_or_default();
    NewLead {
        offer_id: offer.id,
        publisher_id,
        advertiser_id: offer.advertiser_id,
        click_id: click.map(|c| c.click_id.to_owned()),
        channel: channel.as_str().into(),
        event,
        txid: txid.map(str::to_owned),
        dedupe_key: dedupe_key.unwrap_or_else(|| format!("new:{}", crate::crypto::random_token(12))),
        status: LeadStatus::Pending,
        amount_minor,
        price_minor: price,
        fee_minor: fee,
        payout_minor: payout,
        fee_bps: i32::try_from(fee_bps).unwrap_or(0),
        fields: serde_json::to_string(fields).unwrap_or_else(|_| "{}".into()),
        consent,
        sub1,
        sub2,
        sub3,
        sub4,
        sub5,
        source: click.map(|c| c.source.to_owned()).unwrap_or_default(),
        country,
        ip: click.map_or(sender_ip, |c| c.ip).to_owned(),
        click_at: click.map(|c| c.at),
        hold_until: at + Duration::hours(i64::from(terms.hold_hours)),
        created_at: at,
        updated_at: at,
        email_norm: contact.email,
        phone_norm: contact.phone,
        terms_id,
    }
}

/// What a conversion costs the advertiser: the offer's fixed price, or for CPS its
/// rate of the sale amount (`None` when a CPS conversion has no amount above zero).
fn price_of(offer: &Offer, amount_minor: Option<i64>) -> Option<i64> {
    match offer.model() {
        PayoutModel::Cps => {
            amount_minor.filter(|a| *a > 0).map(|a| apply_bps(a, offer.rate_bps.map(i64::from).unwrap_or(0)))
        }
        _ => Some(offer.price_minor.unwrap_or(0)),
    }
}

/// What a committed batch still has to tell others.
struct AfterCommit {
    /// A publisher postback was queued: wake the delivery worker.
    postbacks: bool,
    /// An offer was paused for its advertiser's balance: clicks must see it.
    offer_paused: bool,
}

/// Decide and store a batch of conversions in the caller's write transaction: an
/// outcome per conversion, and what to signal once the transaction has committed
/// (see [`AfterCommit`]). Any database error fails the whole batch (the caller
/// rolls back and retries).
fn process(conn: &mut DbConn, jobs: &[Conversion], config: &Config) -> QueryResult<(Vec<Outcome>, AfterCommit)> {
    let mut batch = Batch::new(conn, config, jobs)?;
    let mut pending = Vec::with_capacity(jobs.len());
    for conv in jobs {
        pending.push(batch.decide(conn, conv)?);
    }
    let offer_paused = batch.paused_offer;
    let (ids, queued) = batch.flush(conn)?;
    let outcomes = pending
        .into_iter()
        .map(|p| match p {
            Pending::Done(outcome) => outcome,
            Pending::New(i) => Outcome::Accepted { lead_id: ids[i] },
            Pending::DuplicateOfNew(i) => Outcome::Duplicate { lead_id: ids[i] },
        })
        .collect();
    Ok((outcomes, AfterCommit { postbacks: queued, offer_paused }))
}

/// Group commit for conversions: one write transaction per batch. A `None` answer
/// means the conversion could not be stored (answer 503).
#[derive(Clone)]
pub struct IntakeWriter(GroupCommit<Conversion, Option<Outcome>>);

const MAX_BATCH: usize = 512;

impl IntakeWriter {
    /// Start the writer; after a batch that queued publisher postbacks commits, it
    /// wakes their delivery worker through `postbacks`, and after one that paused an
    /// offer it clears `links`, so that the offer's clicks go to the fallback at once.
    pub fn start(
        pool: DbPool,
        config: Arc<Config>,
        postbacks: PostbackSignal,
        links: Arc<LinkCache>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<(IntakeWriter, tokio::task::JoinHandle<()>)> {
        let (writer, handle) = GroupCommit::start(
            "intake-writer",
            1,
            // Left at the HTTP workers' priority: a lower one made no difference to
            // accepted postbacks (stop 23), and this writer does most of intake's work.
            Batching { max: MAX_BATCH, linger: config.writer_linger, nice: 0 },
            pool,
            intake_session,
            shutdown,
            Arc::new(move |conn: &mut WriterConn, batch: Vec<Conversion>| {
                commit(conn, &config, &postbacks, &links, &batch)
            }),
        )?;
        Ok((IntakeWriter(writer), handle))
    }

    /// Answer this thread's conversions through one wake per batch (call it on an
    /// HTTP worker thread; see [`GroupCommit::serve_this_thread`]).
    pub fn serve_this_thread(&self) {
        self.0.serve_this_thread();
    }

    /// Decide a conversion; `None` when it could not be stored (try again).
    pub async fn submit(&self, conv: Conversion) -> Option<Outcome> {
        self.0.submit(conv).await.flatten()
    }
}

/// The intake writer's session settings.
///
/// PostgreSQL: every read of an intake batch is a lookup by key (a click id, a
/// lead's click, an offer, a balance row). The planner, pricing pages as if read
/// from disk, prefers scanning a table of a few hundred pages to a few dozen index
/// probes, and keeps a prepared statement's plan from when `leads` was small until
/// autovacuum analyses it: a batch then read every lead. The writer's own session
/// therefore plans without sequential scans wherever an index serves.
///
/// SQLite: no foreign-key checks, so that the batch's bulk inserts need no
/// statement journal (see [`crate::store::all_rows_in`]). Every id the writer
/// stores was read or returned in the same write transaction, which holds the
/// whole database, and nothing deletes offers, users, clicks or leads; PostgreSQL,
/// and every other SQLite connection, still check them.
fn intake_session(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Postgres(c) => c.batch_execute("SET enable_seqscan = off"),
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA foreign_keys = OFF"),
    }
}

fn commit(
    conn: &mut WriterConn,
    config: &Config,
    postbacks: &PostbackSignal,
    links: &LinkCache,
    batch: &[Conversion],
) -> Vec<Option<Outcome>> {
    let n = batch.len();
    let stored = |conn: &mut WriterConn, jobs: &[Conversion]| {
        let (out, after) = conn.run(|c| Ok(c.write_tx(|c| process(c, jobs, config))?))?;
        if after.postbacks {
            postbacks.wake();
        }
        if after.offer_paused {
            links.clear();
        }
        Ok::<_, AppError>(out)
    };
    // The whole batch in one transaction; a failure (a busy database, a deadlock or
    // a duplicate raced in by another process) rolls it back and it runs again.
    for attempt in 0..3u32 {
        match stored(conn, batch) {
            Ok(out) => return out.into_iter().map(Some).collect(),
            Err(e) => {
                tracing::warn!(error = %e, conversions = n, attempt, "conversion batch rolled back");
                std::thread::sleep(std::time::Duration::from_millis(20 << attempt));
            }
        }
    }
    // Then one by one, so that one conversion that cannot be stored does not keep
    // the others from being answered.
    let mut out = Vec::with_capacity(n);
    for one in batch.chunks(1) {
        match stored(conn, one) {
            Ok(mut v) => out.push(v.pop()),
            Err(e) => {
                tracing::error!(error = %e, "conversion could not be stored");
                out.push(None);
            }
        }
    }
    out
}

/// Record an intake answer in the metrics.
pub fn count(metrics: &crate::metrics::Metrics, outcome: Option<&Outcome>) {
    let label = match outcome {
        Some(Outcome::Accepted { .. }) => "accepted",
        Some(Outcome::Duplicate { .. }) => "duplicate",
        Some(Outcome::Rejected { reason, .. }) => reason.code(),
        Some(Outcome::MissingFields { .. }) => Reason::MissingField.code(),
        None => "error",
    };
    metrics.conversions.with_label_values(&[label]).inc();
}

/// The lead's e-mail and phone normalised as settlement compares them (DESIGN §7),
/// stored with the lead so that `duplicate_contact` is an index lookup. Phones are
/// read for the lead's country, else the offer's first allowed country.
fn normalised_contact(
    fields: &BTreeMap<String, String>,
    country: Option<&str>,
    allowed_countries: &[String],
) -> crate::domain::scrub::Contact {
    if fields.is_empty() {
        return Default::default();
    }
    let map: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    let country = country.or(allowed_countries.first().map(String::as_str));
    crate::domain::scrub::contact(&map, country)
}
