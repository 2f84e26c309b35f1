//! What an intake batch reads, and what it locks: the batch's clicks, offers,
//! balances and the leads of its clicks in bulk when it starts, the rest once per
//! offer, membership or counter, cached for the batch.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::QueryResult;

use super::{Batch, Conversion};
use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::db::DbConn;
use crate::domain::intake::decide::{self, Limit, Tally, Who};
use crate::domain::intake::dedupe_key;
use crate::domain::terms::FrozenTerms;
use crate::effects::Effects;
use crate::store::clicks::{self, Click};
use crate::store::offers::{self, Membership, Offer};
use crate::store::{caps, leads, ledger, rollups, settings, terms, users};

impl<'a> Batch<'a> {
    pub(super) fn new(
        conn: &mut DbConn,
        config: &'a Config,
        jobs: &[Conversion],
        at: NaiveDateTime,
    ) -> QueryResult<Batch<'a>> {
        let ids: Vec<&str> = jobs.iter().filter_map(|j| j.params.click_id.as_deref()).collect();
        let clicks: HashMap<String, Click> =
            clicks::find_many(conn, &ids)?.into_iter().map(|c| (c.click_id.clone(), c)).collect();
        let mut batch = Batch {
            config,
            at,
            fee_default: settings::platform_fee_bps(conn, config.platform_fee_bps)?,
            offers: HashMap::new(),
            memberships: HashMap::new(),
            clicks: HashMap::new(),
            click_leads: HashMap::new(),
            tally: Tally::default(),
            rollups: BTreeMap::new(),
            accepted: Vec::new(),
            active_accounts: HashMap::new(),
            effects: Effects::NONE,
            terms: HashMap::new(),
            cap_limits: HashMap::new(),
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
                batch.tally.balances.insert(account, (value, 0));
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

    pub(super) fn offer(&mut self, conn: &mut DbConn, id: i64) -> QueryResult<Option<Offer>> {
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

    /// The offer a conversion names: a postback's by its token, compared in
    /// constant time with the token of the click's offer, else read by token;
    /// another channel's by its `offer_id`.
    pub(super) fn named_offer(
        &mut self,
        conn: &mut DbConn,
        conv: &Conversion,
        click: Option<&Click>,
    ) -> QueryResult<Option<Offer>> {
        if conv.channel != crate::domain::intake::Channel::Postback {
            return match conv.offer_id {
                Some(id) => self.offer(conn, id),
                None => Ok(None),
            };
        }
        let Some(token) = decide::named_offer_token(conv) else { return Ok(None) };
        let click_offer = match click {
            Some(c) => self.offer(conn, c.offer_id)?,
            None => None,
        };
        match click_offer {
            Some(o) if constant_time_eq(&o.postback_token, token) => Ok(Some(o)),
            _ => offers::by_postback_token(conn, token),
        }
    }

    /// The terms in force for `offer` at `at` (the conversion's click, else now):
    /// the version's id and its terms. An offer with no stored version (made live
    /// before versions were kept, or outside the review) gets its current terms
    /// stored as in force since always.
    pub(super) fn terms_at(
        &mut self,
        conn: &mut DbConn,
        offer: &Offer,
        at: NaiveDateTime,
    ) -> QueryResult<(i64, FrozenTerms)> {
        let rows = match self.terms.entry(offer.id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
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

    pub(super) fn membership(
        &mut self,
        conn: &mut DbConn,
        offer_id: i64,
        publisher_id: i64,
    ) -> QueryResult<Option<Membership>> {
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
    pub(super) fn account_active(&mut self, conn: &mut DbConn, user_id: i64) -> QueryResult<bool> {
        if let Some(active) = self.active_accounts.get(&user_id) {
            return Ok(*active);
        }
        let active = !users::inactive_among(conn, &[user_id])?.contains(&user_id);
        self.active_accounts.insert(user_id, active);
        Ok(active)
    }

    /// Without a click, the stored lead with the conversion's key (a publisher's
    /// transaction id); a key with a click names the click, whose leads were read
    /// with the batch.
    pub(super) fn keyed_lead(
        &mut self,
        conn: &mut DbConn,
        conv: &Conversion,
        who: &Who,
        frozen: &FrozenTerms,
    ) -> QueryResult<Option<i64>> {
        if who.click.is_some() {
            return Ok(None);
        }
        let event = decide::event_of(frozen, conv);
        match dedupe_key(conv.params.txid.as_deref(), None, who.publisher_id, &event) {
            Some(key) => leads::find_by_key(conn, who.offer.id, &key),
            None => Ok(None),
        }
    }

    /// An account's balance, locked until the batch commits (most were locked
    /// together when the batch began).
    pub(super) fn lock_balance(&mut self, conn: &mut DbConn, account: &str) -> QueryResult<i64> {
        if let Some(value) = self.tally.balance(account) {
            return Ok(value);
        }
        let value = ledger::lock_balance(conn, account)?;
        self.tally.balances.insert(account.to_string(), (value, 0));
        Ok(value)
    }

    /// The counters a lead counts against, each locked once per batch.
    pub(super) fn lock_counters(&mut self, conn: &mut DbConn, limits: &[Limit]) -> QueryResult<()> {
        for (key, max_leads, _) in limits {
            if !self.tally.counters.contains_key(key) {
                let value = caps::lock(conn, key)?;
                self.tally.counters.insert(key.clone(), (value, (0, 0)));
            }
            if let Some(max) = max_leads {
                self.cap_limits.insert(key.clone(), *max);
            }
        }
        Ok(())
    }

    pub(super) fn rollup(&mut self, key: rollups::Key, delta: rollups::Delta) {
        *self.rollups.entry(key).or_default() += delta;
    }
}
