//! The one intake path for every conversion: server postbacks, pixels, API leads
//! and the hosted form all become a [`Conversion`] and go through [`decide`] inside
//! a group-committed transaction (each conversion in its own savepoint). Accepting
//! a lead reserves its price (advertiser → escrow), counts it against the caps,
//! writes its history and rollups, and queues the publisher's postback, all in the
//! same database transaction; an answer is given only after that commit.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;
use tokio::sync::watch;

use crate::config::Config;
use crate::crypto::constant_time_eq;
use crate::db::{self, DbConn, DbPool};
use crate::domain::intake::{Channel, Params, Reason, dedupe_key};
use crate::domain::money::format_minor;
use crate::domain::offer::{OfferStatus, PayoutModel, apply_bps, split_price};
use crate::mail::{self, templates::OfferPausedLowBalance};
use crate::marketplace::fee_bps;
use crate::store::clicks::{self, Click};
use crate::store::leads::{self, NewLead, Rejection};
use crate::store::ledger::{self, PostError, Posting, Transfer};
use crate::store::offers::{self, Offer};
use crate::store::{caps, now, postbacks, settings, users};
use crate::tracking::group_commit::GroupCommit;

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

/// What intake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted { lead_id: i64 },
    Duplicate { lead_id: i64 },
    Rejected { reason: Reason, detail: String },
}

impl Outcome {
    pub fn rejected(reason: Reason) -> Outcome {
        Outcome::Rejected { reason, detail: reason.explain().to_string() }
    }
}

/// Why `attempt` stopped, with what is known about the conversion by then.
enum Stop {
    Refused { reason: Reason, detail: String, who: Option<Who> },
    Duplicate(i64),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Stop::Db(e)
    }
}

/// The offer, publisher and click a conversion was put down to.
#[derive(Clone)]
struct Who {
    offer: Offer,
    publisher_id: i64,
    click: Option<Click>,
}

fn refuse(reason: Reason, who: Option<&Who>) -> Stop {
    Stop::Refused { reason, detail: reason.explain().to_string(), who: who.cloned() }
}

fn refuse_with(reason: Reason, detail: impl Into<String>, who: Option<&Who>) -> Stop {
    Stop::Refused { reason, detail: detail.into(), who: who.cloned() }
}

/// Decide one conversion inside the caller's transaction (a savepoint of the batch).
fn attempt(conn: &mut DbConn, conv: &Conversion, fee_default: i64, at: NaiveDateTime) -> Result<i64, Stop> {
    let p = &conv.params;
    let who = attribute(conn, conv)?;
    let who_ref = Some(&who);
    let offer = &who.offer;

    // The event and the price come from the offer.
    let events = offer.events();
    let event = match &p.event {
        Some(e) => e.clone(),
        None => events.first().cloned().unwrap_or_else(|| "lead".into()),
    };
    if !events.is_empty() && !events.contains(&event) {
        return Err(refuse_with(
            Reason::InvalidRequest,
            format!("the offer has no event {event:?} (it has {})", events.join(", ")),
            who_ref,
        ));
    }
    let click_id = who.click.as_ref().map(|c| c.click_id.clone());

    // Idempotency first: a retry of an accepted conversion is answered `duplicate`
    // even if the offer has since been paused or capped.
    let key = dedupe_key(p.txid.as_deref(), click_id.as_deref(), &event);
    if let Some(key) = &key
        && let Some(id) = leads::find_by_key(conn, offer.id, key)?
    {
        return Err(Stop::Duplicate(id));
    }
    if let Some(click) = &who.click {
        let window = i64::from(offer.terms().conversion_window_days.max(1));
        if click.created_at + Duration::days(window) < at {
            return Err(refuse(Reason::ClickExpired, who_ref));
        }
    }
    if offer.status() != OfferStatus::Active {
        return Err(refuse(Reason::OfferInactive, who_ref));
    }
    let membership_ok = offers::membership(conn, offer.id, who.publisher_id)?.is_some_and(|m| m.is_approved());
    if !membership_ok {
        return Err(refuse_with(Reason::OfferInactive, "the publisher's link for this offer is not approved", who_ref));
    }
    if conv.consent == Some(false) {
        return Err(refuse(Reason::MissingConsent, who_ref));
    }
    let price = match offer.model() {
        PayoutModel::Cps => {
            let amount = p.amount_minor.filter(|a| *a > 0).ok_or_else(|| {
                refuse_with(Reason::InvalidRequest, "a CPS conversion needs the sale amount above zero", who_ref)
            })?;
            apply_bps(amount, offer.rate_bps.map(i64::from).unwrap_or(0))
        }
        _ => offer.price_minor.unwrap_or(0),
    };
    let fee_bps = fee_bps(offer, fee_default);
    let (fee, payout) = split_price(price, fee_bps);

    if !caps::take(conn, offer, who.publisher_id, price, at)? {
        return Err(refuse(Reason::CapReached, who_ref));
    }
    let click = who.click.as_ref();
    let hold = Duration::hours(i64::from(offer.terms().hold_hours));
    let new = NewLead {
        offer_id: offer.id,
        publisher_id: who.publisher_id,
        advertiser_id: offer.advertiser_id,
        click_id: click_id.clone(),
        channel: conv.channel.as_str().into(),
        event,
        txid: p.txid.clone(),
        dedupe_key: key.unwrap_or_else(|| format!("new:{}", crate::crypto::random_token(12))),
        status: "pending".into(),
        amount_minor: p.amount_minor,
        price_minor: price,
        fee_minor: fee,
        payout_minor: payout,
        fee_bps: i32::try_from(fee_bps).unwrap_or(0),
        fields: serde_json::to_string(&p.fields).unwrap_or_else(|_| "{}".into()),
        consent: conv.consent.unwrap_or(false),
        sub1: click.map(|c| c.sub1.clone()).unwrap_or_default(),
        sub2: click.map(|c| c.sub2.clone()).unwrap_or_default(),
        sub3: click.map(|c| c.sub3.clone()).unwrap_or_default(),
        sub4: click.map(|c| c.sub4.clone()).unwrap_or_default(),
        sub5: click.map(|c| c.sub5.clone()).unwrap_or_default(),
        source: click.map(|c| c.source.clone()).unwrap_or_default(),
        country: click.and_then(|c| c.country.clone()).or_else(|| p.fields.get("country").cloned()),
        ip: click.map(|c| c.ip.clone()).unwrap_or_else(|| conv.ip.clone()),
        click_at: click.map(|c| c.created_at),
        hold_until: at + hold,
        created_at: at,
        updated_at: at,
    };
    let lead_id = leads::insert(conn, &new)?;
    let posting = Posting { kind: "lead_accepted", lead_id: Some(lead_id), actor_id: None, memo: "price reserved" };
    let reserve = Transfer::new(ledger::advertiser(offer.advertiser_id), ledger::escrow(offer.advertiser_id), price);
    match ledger::post(conn, &posting, &[reserve]) {
        Ok(_) => {}
        Err(PostError::Insufficient(_)) => return Err(refuse(Reason::BudgetExhausted, who_ref)),
        Err(PostError::Db(e)) => return Err(Stop::Db(e)),
    }
    if let Some(lead) = leads::find(conn, lead_id)? {
        postbacks::enqueue(conn, &lead, "created")?;
    }
    Ok(lead_id)
}

/// Put a conversion down to an offer, a publisher and (usually) a click.
fn attribute(conn: &mut DbConn, conv: &Conversion) -> Result<Who, Stop> {
    let p = &conv.params;
    let click = match &p.click_id {
        Some(id) => clicks::find(conn, id)?,
        None => None,
    };
    match conv.channel {
        Channel::Postback => {
            let token = p.token.as_deref().ok_or_else(|| refuse(Reason::BadToken, None))?;
            if p.click_id.is_none() {
                return Err(refuse_with(Reason::InvalidRequest, "a postback needs click_id (or transaction_id)", None));
            }
            // The token is compared, in constant time, with the token of the click's offer.
            let click_offer = match &click {
                Some(c) => offers::find(conn, c.offer_id)?,
                None => None,
            };
            let offer = match click_offer {
                Some(o) if constant_time_eq(&o.postback_token, token) => o,
                _ => offers::by_postback_token(conn, token)?.ok_or_else(|| refuse(Reason::BadToken, None))?,
            };
            let allowed = offer.postback_ip_list();
            if !allowed.is_empty() && !allowed.iter().any(|a| ip_matches(a, &conv.ip)) {
                return Err(refuse(Reason::IpNotAllowed, None));
            }
            let click = click.ok_or_else(|| refuse(Reason::UnknownClick, None))?;
            if click.offer_id != offer.id {
                return Err(refuse(Reason::ClickOfferMismatch, None));
            }
            Ok(Who { offer, publisher_id: click.publisher_id, click: Some(click) })
        }
        Channel::Pixel | Channel::Api | Channel::Form => {
            let offer_id =
                conv.offer_id.ok_or_else(|| refuse_with(Reason::InvalidRequest, "offer_id is missing", None))?;
            let offer = offers::find(conn, offer_id)?
                .ok_or_else(|| refuse_with(Reason::InvalidRequest, format!("there is no offer {offer_id}"), None))?;
            match (click, &p.click_id, conv.publisher_id) {
                (None, Some(_), _) => Err(refuse(Reason::UnknownClick, None)),
                (None, None, None) => Err(refuse_with(Reason::UnknownClick, "no click id (parameter or cookie)", None)),
                (None, None, Some(publisher_id)) => Ok(Who { offer, publisher_id, click: None }),
                (Some(click), _, publisher) => {
                    if click.offer_id != offer.id || publisher.is_some_and(|p| p != click.publisher_id) {
                        return Err(refuse(Reason::ClickOfferMismatch, None));
                    }
                    Ok(Who { offer, publisher_id: click.publisher_id, click: Some(click) })
                }
            }
        }
    }
}

/// Whether an allow-list entry (an address or a CIDR) covers `ip`.
fn ip_matches(entry: &str, ip: &str) -> bool {
    let Ok(addr) = ip.parse::<std::net::IpAddr>() else { return false };
    if let Ok(net) = entry.parse::<ipnet::IpNet>() {
        return net.contains(&addr);
    }
    entry.parse::<std::net::IpAddr>().is_ok_and(|e| e == addr)
}

/// Decide one conversion in its own savepoint and keep what must be kept when it
/// is refused (the publisher-visible rejection, a paused offer).
pub fn decide(conn: &mut DbConn, conv: &Conversion, config: &Config) -> Result<Outcome, diesel::result::Error> {
    let at = now();
    let fee_default = settings::platform_fee_bps(conn, config.platform_fee_bps)?;
    let result = conn.transaction(|c| attempt(c, conv, fee_default, at));
    match result {
        Ok(lead_id) => Ok(Outcome::Accepted { lead_id }),
        Err(Stop::Duplicate(lead_id)) => Ok(Outcome::Duplicate { lead_id }),
        Err(Stop::Refused { reason, detail, who }) => {
            if let Some(who) = who {
                conn.transaction(|c| after_refusal(c, conv, &who, reason, config, at))?;
            }
            Ok(Outcome::Rejected { reason, detail })
        }
        Err(Stop::Db(e)) if crate::store::is_unique_violation(&e) => {
            // Another process stored the same conversion a moment ago.
            let event = conv.params.event.clone().unwrap_or_else(|| "lead".into());
            let key = dedupe_key(conv.params.txid.as_deref(), conv.params.click_id.as_deref(), &event);
            let offer_id = match (conv.offer_id, &conv.params.click_id) {
                (Some(id), _) => Some(id),
                (None, Some(click)) => clicks::find(conn, click)?.map(|c| c.offer_id),
                _ => None,
            };
            match (key, offer_id) {
                (Some(key), Some(offer_id)) => match leads::find_by_key(conn, offer_id, &key)? {
                    Some(lead_id) => Ok(Outcome::Duplicate { lead_id }),
                    None => Err(e),
                },
                _ => Err(e),
            }
        }
        Err(Stop::Db(e)) => Err(e),
    }
}

fn after_refusal(
    conn: &mut DbConn,
    conv: &Conversion,
    who: &Who,
    reason: Reason,
    config: &Config,
    at: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    let event = conv.params.event.clone().unwrap_or_default();
    leads::record_rejection(
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
            at,
        },
    )?;
    if reason == Reason::BudgetExhausted
        && offers::set_status(conn, who.offer.id, OfferStatus::Active, OfferStatus::Paused, None)?
        && let Some(advertiser) = users::find(conn, who.offer.advertiser_id)?
    {
        let balance = ledger::balance(conn, &ledger::advertiser(advertiser.id))?;
        let price = match who.offer.model() {
            PayoutModel::Cps => {
                apply_bps(conv.params.amount_minor.unwrap_or(0), who.offer.rate_bps.map(i64::from).unwrap_or(0))
            }
            _ => who.offer.price_minor.unwrap_or(0),
        };
        let email = OfferPausedLowBalance {
            name: advertiser.display_name.clone(),
            offer_name: who.offer.name.clone(),
            balance: format!("{} {}", format_minor(balance), config.currency),
            price: format!("{} {}", format_minor(price), config.currency),
            link: config.url(&format!("/advertiser/offers/{}", who.offer.id)),
        };
        mail::enqueue(conn, &advertiser.email, &email)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
        tracing::warn!(offer_id = who.offer.id, "offer paused: advertiser balance too low");
    }
    Ok(())
}

/// Group commit for conversions: one write transaction per batch, one savepoint
/// per conversion. A `None` answer means the batch did not commit (answer 503).
#[derive(Clone)]
pub struct IntakeWriter(GroupCommit<Conversion, Option<Outcome>>);

const MAX_BATCH: usize = 512;

impl IntakeWriter {
    pub fn start(
        pool: DbPool,
        config: Arc<Config>,
        shutdown: watch::Receiver<bool>,
    ) -> (IntakeWriter, tokio::task::JoinHandle<()>) {
        let (writer, handle) = GroupCommit::start(
            MAX_BATCH,
            shutdown,
            Box::new(move |batch| {
                let pool = pool.clone();
                let config = config.clone();
                Box::pin(async move { commit(&pool, &config, batch).await })
            }),
        );
        (IntakeWriter(writer), handle)
    }

    /// Decide a conversion; `None` when it could not be stored (try again).
    pub async fn submit(&self, conv: Conversion) -> Option<Outcome> {
        self.0.submit(conv).await.flatten()
    }
}

async fn commit(pool: &DbPool, config: &Arc<Config>, batch: Vec<Conversion>) -> Vec<Option<Outcome>> {
    let n = batch.len();
    let batch = Arc::new(batch);
    for attempt in 0..3u32 {
        let jobs = batch.clone();
        let config = config.clone();
        let result = db::run(pool, move |c| {
            Ok(c.write_tx(|c| {
                let mut out = Vec::with_capacity(jobs.len());
                for conv in jobs.iter() {
                    match decide(c, conv, &config) {
                        Ok(outcome) => out.push(Some(outcome)),
                        Err(e) => {
                            tracing::error!(error = %e, "conversion failed");
                            out.push(None);
                        }
                    }
                }
                Ok::<_, diesel::result::Error>(out)
            })?)
        })
        .await;
        match result {
            Ok(out) => return out,
            Err(e) => {
                tracing::error!(error = %e, conversions = n, attempt, "conversion batch failed to commit");
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    vec![None; n]
}

/// Record an intake answer in the metrics.
pub fn count(metrics: &crate::metrics::Metrics, outcome: Option<&Outcome>) {
    let label = match outcome {
        Some(Outcome::Accepted { .. }) => "accepted",
        Some(Outcome::Duplicate { .. }) => "duplicate",
        Some(Outcome::Rejected { reason, .. }) => reason.code(),
        None => "error",
    };
    metrics.conversions.with_label_values(&[label]).inc();
}
