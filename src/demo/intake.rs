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

/// The address the advertisers' servers send postbacks from (a documentation range).
fn server_ip(advertiser: usize) -> String {
    format!("198.51.100.{}", 10 + advertiser)
}

/// A planned conversion as its channel hands it to intake: the advertiser's server
/// postback with the offer's token, the browser pixel, the hosted form, or the
/// publisher's API call, each with the click it came from.
fn conversion(world: &World, p: &Planned) -> Conversion {
    let offer = &world.offers[p.offer];
    let publisher_id = world.publishers[p.publisher].user.id;
    let params = Params {
        click_id: Some(p.click.click_id.clone()),
        token: (p.channel == Channel::Postback).then(|| offer.postback_token.clone()),
        event: Some(p.event.clone()),
        amount_minor: p.amount_minor,
        txid: p.txid.clone(),
        fields: p.fields.clone(),
        sig: None,
    };
    let (offer_id, publisher_id, consent, ip) = match p.channel {
        Channel::Postback => (None, None, None, server_ip(world.plans[p.offer].advertiser)),
        Channel::Pixel => (Some(offer.id), None, None, p.click.ip.clone()),
        _ => (Some(offer.id), Some(publisher_id), Some(p.consent), p.click.ip.clone()),
    };
    Conversion { channel: p.channel, params, offer_id, publisher_id, consent, ip }
}

/// Send the conversions through the real intake, each at the moment it converted
/// (one intake transaction each, as a quiet hour's traffic would commit): leads
/// accepted with their price reserved, refusals kept with their reason, caps and
/// budgets judged exactly as for live traffic. Returns (accepted, refused).
pub(super) fn intake(
    conn: &mut DbConn,
    config: &Config,
    world: &World,
    planned: &[Planned],
) -> anyhow::Result<(usize, usize)> {
    let (mut accepted, mut refused) = (0, 0);
    for p in planned {
        let at = p.created_at.and_utc();
        let (outcomes, _effects) = process_at(conn, &[conversion(world, p)], config, at)?;
        for outcome in outcomes {
            match outcome {
                Outcome::Accepted { .. } => accepted += 1,
                Outcome::Duplicate { .. } => {}
                Outcome::Rejected { .. } | Outcome::MissingFields { .. } => refused += 1,
            }
        }
    }
    Ok((accepted, refused))
}
