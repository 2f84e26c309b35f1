//! Money in and leads accepted: the advertisers' deposits and the demo's conversions
//! through intake.

use super::*;

/// Prepaid balances that cover the month's leads with room to spare, recorded by
/// the admin (external → advertiser).
pub(super) fn deposit(conn: &mut DbConn, world: &World, planned: &[Planned]) -> anyhow::Result<i64> {
    let mut spend = vec![0i64; world.advertisers.len()];
    for p in planned {
        spend[world.plans[p.offer].advertiser] += price_of(&world.offers[p.offer], p.amount_minor);
    }
    // Dated a day before the first lead, as a real advertiser pays before it buys,
    // so every month's statement starts from a funded balance.
    let at = planned.iter().map(|p| p.created_at).min().unwrap_or(world.t0) - Duration::days(1);
    let mut sum = 0;
    for (i, adv) in world.advertisers.iter().enumerate() {
        let total = round_up(spend[i] * 13 / 10 + 2_000_00, 1_000_00);
        let first = round_up(total * 6 / 10, 500_00);
        for (amount, memo) in [(first, "Initial prepayment (wire transfer)"), (total - first, "Top-up (card)")] {
            if amount > 0 {
                let tx =
                    must(conn, "record a deposit", |c| actions::deposit(c, &world.admin, adv.user.id, amount, memo))?;
                ledger::backdate(conn, tx, at)?;
                sum += amount;
            }
        }
    }
    Ok(sum)
}

/// `x` (not negative) rounded up to a multiple of `step`.
pub(super) fn round_up(x: i64, step: i64) -> i64 {
    (x + step - 1) / step * step
}

/// What a conversion costs the advertiser (as intake prices it).
pub(super) fn price_of(offer: &Offer, amount_minor: Option<i64>) -> i64 {
    match offer.model() {
        PayoutModel::Cps => apply_bps(amount_minor.unwrap_or(0), offer.rate_bps.map(i64::from).unwrap_or(0)),
        _ => offer.price_minor.unwrap_or(0),
    }
}

/// A cap counter's `(leads, spend)`.
pub(super) type Tally = (i64, i64);

/// One intake transaction for a batch of conversions, as the intake batch writes
/// them: advertisers' balances and the cap counters read under lock, each
/// conversion accepted (lead, history, price reserved advertiser → escrow) or
/// refused with its reason, then balances, counters and rollups written.
pub(super) fn intake(
    conn: &mut DbConn,
    world: &World,
    batch: &[Planned],
    fee_default: i64,
) -> anyhow::Result<(usize, usize)> {
    conn.write_tx(|c| -> anyhow::Result<(usize, usize)> {
        let names: BTreeSet<String> = batch
            .iter()
            .map(|p| world.offers[p.offer].advertiser_id)
            .flat_map(|a| [ledger::advertiser(a), ledger::escrow(a)])
            .collect();
        let mut balances: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for name in names {
            let value = ledger::lock_balance(c, &name)?;
            balances.insert(name, (value, 0));
        }
        let mut counters: BTreeMap<CounterKey, (Tally, Tally)> = BTreeMap::new();
        let mut deltas: BTreeMap<rollups::Key, rollups::Delta> = BTreeMap::new();
        let mut refusals = 0;
        for p in batch {
            let offer = &world.offers[p.offer];
            let publisher_id = world.publishers[p.publisher].user.id;
            let price = price_of(offer, p.amount_minor);
            let limits = caps::limits(offer, publisher_id, p.created_at);
            let mut refused = None;
            for (key, max_leads, max_spend) in &limits {
                if !counters.contains_key(key) {
                    counters.insert(key.clone(), (caps::lock(c, key)?, (0, 0)));
                }
                if counters.get(key).is_some_and(|(v, _)| caps::refuses(*v, price, *max_leads, *max_spend)) {
                    refused = Some(Reason::CapReached);
                    break;
                }
            }
            let advertiser = ledger::advertiser(offer.advertiser_id);
            if refused.is_none() && balances.get(&advertiser).is_none_or(|(v, _)| *v < price) {
                refused = Some(Reason::BudgetExhausted);
            }
            if let Some(reason) = refused {
                let (key, delta) = leads::record_rejection(
                    c,
                    &Rejection {
                        offer_id: offer.id,
                        publisher_id,
                        click_id: Some(&p.click.click_id),
                        channel: p.channel.as_str(),
                        event: &p.event,
                        txid: p.txid.as_deref(),
                        reason: reason.code(),
                        sub1: &p.click.subs[0],
                        at: p.created_at,
                    },
                )?;
                let d = deltas.entry(key).or_default();
                *d += delta;
                refusals += 1;
                continue;
            }
            let lead = new_lead(p, offer, publisher_id, price, fee_default);
            let (fee, payout) = (lead.fee_minor, lead.payout_minor);
            let id = leads::insert_row(c, &lead)?;
            let (key, delta) = leads::created_delta(&lead);
            let d = deltas.entry(key).or_default();
            *d += delta;
            let event =
                MoneyEvent::Accepted { advertiser_id: offer.advertiser_id, money: LeadMoney { price, payout, fee } };
            if price > 0 {
                let posting = Posting { kind: event.kind(), lead_id: Some(id), actor_id: None, memo: "price reserved" };
                ledger::record(c, &posting, &event.transfers(), p.created_at)?;
                for t in event.transfers() {
                    for (account, amount) in [(&t.from, -t.amount), (&t.to, t.amount)] {
                        if let Some((value, change)) = balances.get_mut(account) {
                            *value += amount;
                            *change += amount;
                        }
                    }
                }
            }
            for (key, _, _) in &limits {
                if let Some((value, change)) = counters.get_mut(key) {
                    *value = (value.0 + 1, value.1 + price);
                    *change = (change.0 + 1, change.1 + price);
                }
            }
        }
        for (account, (_, change)) in &balances {
            if *change != 0 {
                ledger::add_to_balance(c, account, *change)?;
            }
        }
        for (key, (_, (n, spend))) in &counters {
            if (*n, *spend) != (0, 0) {
                caps::add(c, key, *n, *spend)?;
            }
        }
        rollups::add_many(c, &deltas)?;
        Ok((batch.len() - refusals, refusals))
    })
}

/// The lead row intake writes for an accepted conversion.
pub(super) fn new_lead(p: &Planned, offer: &Offer, publisher_id: i64, price: i64, fee_default: i64) -> NewLead {
    crate::tracking::intake::new_lead(LeadParts {
        offer,
        frozen: &crate::store::terms::of_offer(offer),
        terms_id: None,
        publisher_id,
        click: Some(p.click.as_lead_click()),
        channel: p.channel,
        event: p.event.clone(),
        txid: p.txid.as_deref(),
        dedupe_key: dedupe_key(p.txid.as_deref(), Some(&p.click.click_id), publisher_id, &p.event),
        amount_minor: p.amount_minor,
        fields: &p.fields,
        consent: p.consent,
        sender_ip: &p.click.ip,
        price,
        platform_fee_bps: fee_default,
        at: p.created_at,
    })
}

pub(super) fn list(
    conn: &mut DbConn,
    status: LeadStatus,
    advertiser_id: Option<i64>,
) -> anyhow::Result<Vec<leads::Lead>> {
    let filter = leads::Filter { status: Some(status), advertiser_id, limit: Some(500), ..leads::Filter::default() };
    Ok(leads::list(conn, &filter)?)
}

/// How many leads are in `status`.
pub(super) fn count(conn: &mut DbConn, status: LeadStatus) -> anyhow::Result<i64> {
    Ok(leads::count_in(conn, status)?)
}
