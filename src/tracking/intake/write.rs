//! What an intake batch writes: each refusal as it is decided (kept for the
//! publisher; an exhausted balance pauses the offer and tells the advertiser),
//! and when the batch ends the accepted leads, their ledger lines, postbacks and
//! webhooks, and what the batch added to balances, counters and rollups.

use std::collections::HashMap;

use diesel::QueryResult;

use crate::db::DbConn;

use super::{Batch, Conversion};
use crate::domain::intake::Reason;
use crate::domain::intake::decide::{self, Who};
use crate::domain::offer::OfferStatus;
use crate::effects::Effects;
use crate::mail::{
    self,
    templates::{CapAlert, LowBalance, OfferPausedLowBalance},
};
use crate::store::leads::{self, Lead, NewLead, Rejection};
use crate::store::offers;
use crate::store::{caps, ledger, postbacks, rollups, terms, users, webhooks};

impl Batch<'_> {
    /// Write the accepted leads, their history, ledger lines, postbacks and
    /// webhooks, and what the batch added to balances, counters and rollups; the
    /// new leads' ids and what to signal once the batch has committed.
    pub(super) fn flush(self, conn: &mut DbConn) -> QueryResult<(Vec<i64>, Effects)> {
        let mut effects = self.effects;
        let rows: Vec<NewLead> = self.accepted.iter().map(|a| a.lead.clone()).collect();
        let inserted = leads::insert_many(conn, &rows)?;
        let by_key: HashMap<(i64, &str), i64> =
            inserted.iter().map(|(id, offer, key)| ((*offer, key.as_str()), *id)).collect();
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
        let mut offer_ids: Vec<i64> = self.accepted.iter().map(|a| a.lead.offer_id).collect();
        offer_ids.sort_unstable();
        offer_ids.dedup();
        let hooks = webhooks::endpoints_for(conn, &offer_ids)?;
        for (a, id) in self.accepted.iter().zip(&ids) {
            let hooked = hooks.get(&a.lead.offer_id);
            let postback = !a.postback_template.trim().is_empty();
            if !postback && hooked.is_none() {
                continue;
            }
            // The lead as stored, from what the batch has: it is not read back.
            let lead = Lead::stored(*id, a.lead.clone());
            if postback {
                postbacks::enqueue_with(conn, &lead, "created", &a.postback_template)?;
                effects |= Effects::POSTBACKS;
            }
            if let Some(h) = hooked {
                effects |= Effects::POSTBACKS.when(webhooks::enqueue_to(conn, h, &lead, "accepted")? > 0);
            }
        }
        // Advertisers whose available balance this batch lowered: (id, before, after).
        let lowered: Vec<(i64, i64, i64)> = self
            .tally
            .balances
            .iter()
            .filter(|(_, (_, d))| *d < 0)
            .filter_map(|(a, (after, d))| Some((a.strip_prefix("advertiser:")?.parse().ok()?, after - d, *after)))
            .collect();
        let mut balances: Vec<(String, i64)> =
            self.tally.balances.into_iter().filter(|(_, (_, d))| *d != 0).map(|(a, (_, d))| (a, d)).collect();
        balances.sort();
        ledger::add_to_balances(conn, &balances)?;
        effects |= tell_low_balances(conn, self.config, &lowered)?;
        let mut counters: Vec<_> = self.tally.counters.into_iter().filter(|(_, (_, d))| *d != (0, 0)).collect();
        counters.sort_by(|a, b| a.0.cmp(&b.0));
        let mut alerts = Vec::new();
        for (key, ((after, _), (leads, spend))) in counters {
            caps::add(conn, &key, leads, spend)?;
            // The tally holds the count as the batch left it, and what it added.
            if let Some(max) = self.cap_limits.get(&key)
                && let Some(alert) = caps::alert(after - leads, after, *max)
            {
                alerts.push((key, alert, after, *max));
            }
        }
        rollups::add_many(conn, &self.rollups)?;
        for (key, alert, count, max) in alerts {
            let offer = self.offers.get(&key.offer_id).and_then(Option::as_ref);
            if let Some(offer) = offer {
                effects |= tell_cap_alert(conn, self.config, offer, &key, alert, count, max)?;
            }
        }
        Ok((ids, effects))
    }

    /// Keep the refusal for the publisher to see; an exhausted balance pauses the
    /// offer and tells the advertiser (once: only the change from active does).
    pub(super) fn after_refusal(
        &mut self,
        conn: &mut DbConn,
        conv: &Conversion,
        who: &Who,
        reason: Reason,
    ) -> QueryResult<()> {
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
        if !decide::pauses_offer(conv, who, reason)
            || !offers::set_status(conn, who.offer.id, OfferStatus::Active, OfferStatus::Paused, None)?
        {
            return Ok(());
        }
        self.offers.remove(&who.offer.id);
        self.effects |= Effects::LINKS;
        tracing::warn!(offer_id = who.offer.id, "offer paused: advertiser balance too low");
        let Some(advertiser) = users::find(conn, who.offer.advertiser_id)? else { return Ok(()) };
        let balance = self.lock_balance(conn, &ledger::advertiser(advertiser.id))?;
        // What the conversion costs at the offer's current terms.
        let price = terms::of_offer(&who.offer).price_of(conv.params.amount_minor).unwrap_or(0);
        let email = OfferPausedLowBalance {
            name: advertiser.display_name.clone(),
            offer_name: who.offer.name.clone(),
            balance: self.config.money(balance),
            price: self.config.money(price),
            link: self.config.url(&format!("/advertiser/offers/{}", who.offer.id)),
        };
        mail::enqueue(conn, &advertiser.email, &email).map_err(as_query)?;
        let base = self.config.base_url.to_string();
        crate::marketplace::tell_publishers_of_status(
            conn,
            &base,
            &who.offer,
            OfferStatus::Active,
            OfferStatus::Paused,
        )
        .map_err(as_query)?;
        self.effects |= Effects::MAIL;
        Ok(())
    }
}

/// E-mail a cap alert (DESIGN §4): to the advertiser, and to the publishers it
/// concerns (every approved one of the offer, or the one whose own cap it is).
fn tell_cap_alert(
    conn: &mut DbConn,
    config: &crate::config::Config,
    offer: &crate::store::offers::Offer,
    key: &caps::CounterKey,
    alert: caps::CapAlert,
    count: i64,
    max: i64,
) -> QueryResult<Effects> {
    let mut to: Vec<(String, String, String)> = Vec::new();
    if let Some(a) = users::find(conn, offer.advertiser_id)? {
        to.push((a.email, a.display_name, config.url(&format!("/advertiser/offers/{}", offer.id))));
    }
    for (m, email, name) in offers::members_of(conn, offer.id)? {
        if m.is_approved() && (key.publisher_id == 0 || key.publisher_id == m.publisher_id) {
            to.push((email, name, config.url(&format!("/publisher/offers/{}", offer.id))));
        }
    }
    for (email, name, link) in &to {
        let mail = CapAlert {
            name: name.clone(),
            offer_name: offer.name.clone(),
            cap: caps::cap_name(key).to_string(),
            count,
            max,
            reached: alert == caps::CapAlert::Reached,
            link: link.clone(),
        };
        mail::enqueue(conn, email, &mail).map_err(as_query)?;
    }
    Ok(Effects::MAIL.when(!to.is_empty()))
}

/// E-mail each advertiser whose available balance this batch took below the
/// threshold it set (DESIGN §8), once as it crosses: `(id, before, after)`.
fn tell_low_balances(
    conn: &mut DbConn,
    config: &crate::config::Config,
    lowered: &[(i64, i64, i64)],
) -> QueryResult<Effects> {
    if lowered.is_empty() {
        return Ok(Effects::NONE);
    }
    let ids: Vec<i64> = lowered.iter().map(|(id, _, _)| *id).collect();
    let thresholds = crate::store::balance_alerts::of_many(conn, &ids)?;
    let mut effects = Effects::NONE;
    for (id, before, after) in lowered {
        let Some(threshold) = thresholds.get(id) else { continue };
        if !(*before >= *threshold && *after < *threshold) {
            continue;
        }
        let Some(a) = users::find(conn, *id)? else { continue };
        let mail = LowBalance {
            name: a.display_name,
            balance: config.money(*after),
            threshold: config.money(*threshold),
            link: config.url("/advertiser/balance#topup"),
        };
        mail::enqueue(conn, &a.email, &mail).map_err(as_query)?;
        effects |= Effects::MAIL;
    }
    Ok(effects)
}

/// An e-mail that could not be queued, as the intake transaction's error (it rolls
/// the batch back like a failed write).
fn as_query(e: anyhow::Error) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(e.to_string().into())
}
