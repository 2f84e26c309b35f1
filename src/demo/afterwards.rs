//! What happens after leads settle: returns, contests and rulings, payouts, and the
//! offer an advertiser paused.

use super::*;

pub(super) const RETURNS: &[(&str, &str)] = &[
    ("bad_contact", "The phone number is disconnected; three call attempts over two days."),
    ("consumer_denies", "The consumer says they never asked for a quote."),
    ("duplicate", "The same household came through our own website the day before."),
    ("out_of_criteria", "The caller rents the property: outside the published criteria."),
    ("fraud_suspected", "Contact details belong to someone who did not fill in the form."),
];

pub(super) const CONTESTS: &[&str] = &[
    "The customer confirmed by phone that this is their real address and number.",
    "This visitor came from our newsletter, not from a bot; we can share the signup log.",
    "Different person at the same address: the earlier lead was their spouse.",
];

/// What people do after settlement: early decisions on pending leads, returns of
/// approved leads, contests of rejected ones, and the admin's rulings. Some
/// disputes stay open. Returns how many disputes were opened.
pub(super) fn people(conn: &mut DbConn, world: &World, rng: &mut StdRng) -> anyhow::Result<usize> {
    // SunPeak decides two pending leads early (if enough are pending).
    let sunpeak = &world.advertisers[0];
    let pending = list(conn, LeadStatus::Pending, Some(sunpeak.user.id))?;
    if pending.len() >= 6 {
        let (a, b) = (pending[pending.len() - 1].id, pending[pending.len() - 2].id);
        let _ = attempt(conn, |c| {
            actions::decide_early(c, sunpeak, a, true, "", "Installer visit already booked.").map(unheard)
        })?;
        let _ = attempt(conn, |c| {
            actions::decide_early(c, sunpeak, b, false, "out_of_criteria", "The homeowner's roof faces north only.")
                .map(unheard)
        })?;
    }

    let mut disputes = 0;
    // Returns: upheld (reversed), denied (approved again), and left open (disputed).
    let approved = list(conn, LeadStatus::Approved, None)?;
    let wanted = (count(conn, LeadStatus::Approved)? / 40).clamp(3, 30) as usize;
    let mut candidates: Vec<&leads::Lead> =
        approved.iter().filter(|l| l.publisher_id != world.publishers[JUNK_PUBLISHER].user.id).collect();
    candidates.extend(approved.iter().filter(|l| l.publisher_id == world.publishers[JUNK_PUBLISHER].user.id));
    let mut opened = 0;
    for lead in candidates {
        if opened == wanted {
            break;
        }
        let Some(adv) = world.advertisers.iter().find(|a| a.user.id == lead.advertiser_id) else { continue };
        let (reason, comment) = if lead.event == "sale" {
            ("other", "The order was returned for a full refund.")
        } else {
            pick(rng, RETURNS)
        };
        let mut dispute = attempt(conn, |c| actions::return_lead(c, adv, lead.id, reason, comment).map(unheard))?;
        if let Err(AppError::Conflict { code: "return_rate_exceeded", .. }) = dispute {
            // Past the offer's maximum return rate an admin must allow more returns.
            let offer = lead.offer_id;
            must(conn, "allow returns", |c| actions::allow_returns(c, &world.admin, offer, 10))?;
            dispute = attempt(conn, |c| actions::return_lead(c, adv, lead.id, reason, comment).map(unheard))?;
        }
        let Ok(dispute) = dispute else { continue };
        disputes += 1;
        let ruling = match opened % 3 {
            0 => Some((Ruling::Upheld, "Call recordings confirm it; the return is accepted.")),
            1 => Some((Ruling::Denied, "The lead met the published terms when it was delivered; return denied.")),
            _ => None,
        };
        if let Some((ruling, note)) = ruling {
            must(conn, "rule on a return", |c| actions::rule(c, &world.admin, dispute.id, ruling, note).map(unheard))?;
        }
        opened += 1;
    }

    // Contests: upheld (approved after all), denied (rejected again), left open.
    let rejected = list(conn, LeadStatus::Rejected, None)?;
    let wanted = (count(conn, LeadStatus::Rejected)? / 40).clamp(3, 20) as usize;
    let mut opened = 0;
    let mut order: Vec<&leads::Lead> =
        rejected.iter().filter(|l| l.publisher_id != world.publishers[JUNK_PUBLISHER].user.id).collect();
    order.extend(rejected.iter().filter(|l| l.publisher_id == world.publishers[JUNK_PUBLISHER].user.id));
    for lead in order {
        if opened == wanted {
            break;
        }
        let Some(publisher) = world.publishers.iter().find(|p| p.user.id == lead.publisher_id) else { continue };
        let comment = CONTESTS[opened % CONTESTS.len()];
        let Ok(dispute) = attempt(conn, |c| actions::contest(c, publisher, lead.id, comment).map(unheard))? else {
            continue;
        };
        disputes += 1;
        let ruling = match opened % 3 {
            0 => Some((Ruling::Upheld, "The advertiser's own CRM shows the customer; the lead is paid.")),
            1 => Some((Ruling::Denied, "The rule that rejected the lead applies as published.")),
            _ => None,
        };
        if let Some((ruling, note)) = ruling {
            // An upheld contest needs the advertiser's balance; without it the dispute stays open.
            let _ = attempt(conn, |c| actions::rule(c, &world.admin, dispute.id, ruling, note).map(unheard))?;
        }
        opened += 1;
    }
    Ok(disputes)
}

/// Payout requests: some paid by the admin, some still waiting.
pub(super) fn payouts(conn: &mut DbConn, world: &World) -> anyhow::Result<usize> {
    let minimum = settings::payout_minimum_minor(conn)?;
    let plan: [(usize, i64, bool, &str); 5] = [
        (0, 60, true, "PayPal maya@greenhomejournal.com"),
        (0, 50, false, "PayPal maya@greenhomejournal.com"),
        (1, 70, true, "Bank transfer, account ending 4471"),
        (2, 50, false, "Bank transfer, account ending 0932"),
        (3, 80, true, "Wise, EUR account"),
    ];
    let mut n = 0;
    for (publisher, pct, paid, method) in plan {
        let p = &world.publishers[publisher];
        let available = money::publisher_balance(conn, p.user.id)?.available;
        let amount = available * pct / 100 / 100 * 100;
        if amount < minimum {
            continue;
        }
        let Ok(payout) = attempt(conn, |c| money::request_payout(c, p, amount, method))? else { continue };
        n += 1;
        if paid {
            let note = format!("Paid, reference DEMO-{:04}", payout.id);
            must(conn, "pay a payout", |c| money::mark_paid(c, &world.admin, payout.id, &note).map(unheard))?;
        }
    }
    Ok(n)
}

/// BrightCover pauses its life insurance offer (traffic stopped six days ago).
pub(super) fn pause(conn: &mut DbConn, world: &World) -> anyhow::Result<()> {
    for (i, plan) in world.plans.iter().enumerate() {
        if plan.stage == Stage::Paused {
            let (adv, id) = (&world.advertisers[plan.advertiser], world.offers[i].id);
            must(conn, "pause an offer", |c| {
                marketplace::change_status(c, adv, id, OfferStatus::Paused, None).map(unheard)
            })?;
        }
    }
    Ok(())
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
