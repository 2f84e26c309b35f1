//! Platform → publisher postbacks: queued in the transaction of the lead event that
//! causes them, delivered by `tracking::publisher_postbacks` with retries, and
//! kept as a delivery log the publisher can read.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{offer_publishers, offers, postback_deliveries};
use crate::domain::money::format_minor;
use crate::domain::tracking::{PostbackValues, fill_postback};
use crate::store::leads::Lead;
use crate::store::now;

/// Queue the publisher's postback for a lead event (`created`, `approved`,
/// `rejected`, `reversed`), if the publisher set a URL for this offer.
pub fn enqueue(conn: &mut DbConn, lead: &Lead, event: &str) -> QueryResult<Option<i64>> {
    let template: Option<String> = offer_publishers::table
        .filter(offer_publishers::offer_id.eq(lead.offer_id))
        .filter(offer_publishers::publisher_id.eq(lead.publisher_id))
        .select(offer_publishers::postback_template)
        .first(conn)
        .optional()?;
    match template {
        Some(t) => enqueue_with(conn, lead, event, &t),
        None => Ok(None),
    }
}

/// The publishers' postback URLs of some offers, by (offer, publisher), for callers
/// that queue many postbacks at once (settlement).
pub fn templates_for(conn: &mut DbConn, offer_ids: &[i64]) -> QueryResult<HashMap<(i64, i64), String>> {
    let rows: Vec<(i64, i64, String)> = offer_publishers::table
        .filter(offer_publishers::offer_id.eq_any(offer_ids))
        .filter(offer_publishers::postback_template.ne(""))
        .select((offer_publishers::offer_id, offer_publishers::publisher_id, offer_publishers::postback_template))
        .load(conn)?;
    Ok(rows.into_iter().map(|(o, p, t)| ((o, p), t)).collect())
}

/// Queue a postback for a lead event with the publisher's URL template already in hand.
pub fn enqueue_with(conn: &mut DbConn, lead: &Lead, event: &str, template: &str) -> QueryResult<Option<i64>> {
    if template.trim().is_empty() {
        return Ok(None);
    }
    let payout = format_minor(lead.payout_minor);
    let url = fill_postback(
        template,
        &PostbackValues {
            click_id: lead.click_id.as_deref().unwrap_or(""),
            subs: [&lead.sub1, &lead.sub2, &lead.sub3, &lead.sub4, &lead.sub5],
            lead_id: lead.id,
            offer_id: lead.offer_id,
            status: lead.status.as_str(),
            payout: &payout,
            event: &lead.event,
        },
    );
    let at = now();
    let id = diesel::insert_into(postback_deliveries::table)
        .values((
            postback_deliveries::lead_id.eq(lead.id),
            postback_deliveries::offer_id.eq(lead.offer_id),
            postback_deliveries::publisher_id.eq(lead.publisher_id),
            postback_deliveries::event.eq(event),
            postback_deliveries::url.eq(url),
            postback_deliveries::status.eq("pending"),
            postback_deliveries::next_attempt_at.eq(at),
            postback_deliveries::created_at.eq(at),
        ))
        .returning(postback_deliveries::id)
        .get_result(conn)?;
    Ok(Some(id))
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = postback_deliveries)]
pub struct Delivery {
    pub id: i64,
    pub lead_id: i64,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub event: String,
    pub url: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub response_code: Option<i32>,
    pub last_error: String,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// A publisher's delivery log, newest first.
pub fn for_publisher(conn: &mut DbConn, publisher_id: i64, limit: i64) -> QueryResult<Vec<Delivery>> {
    postback_deliveries::table
        .filter(postback_deliveries::publisher_id.eq(publisher_id))
        .order(postback_deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

pub fn for_lead(conn: &mut DbConn, lead_id: i64) -> QueryResult<Vec<Delivery>> {
    postback_deliveries::table
        .filter(postback_deliveries::lead_id.eq(lead_id))
        .order(postback_deliveries::id)
        .select(Delivery::as_select())
        .load(conn)
}

/// After this many failed attempts a delivery is marked `failed` and no longer retried.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claimed delivery stays with one sender before another may take it
/// (a process that died mid-send). Longer than one attempt can take.
const LEASE: Duration = Duration::seconds(60);
/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::hours(1);
/// How much of an error message is kept.
const ERROR_CHARS: usize = 500;

/// Claim up to `limit` due deliveries for `LEASE`: pending ones whose time has come
/// and that no live sender holds. Each claim is a conditional update that re-checks
/// the same condition, so of two processes racing for a row only one gets it
/// (PostgreSQL re-evaluates the condition after the other's update commits; SQLite
/// has one writer at a time).
pub fn claim_due(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Delivery>> {
    let t = now();
    let due = || {
        postback_deliveries::status
            .eq("pending")
            .and(postback_deliveries::next_attempt_at.le(t))
            .and(postback_deliveries::locked_until.is_null().or(postback_deliveries::locked_until.lt(t)))
    };
    let candidates: Vec<i64> = postback_deliveries::table
        .filter(due())
        .order(postback_deliveries::next_attempt_at)
        .limit(limit)
        .select(postback_deliveries::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let row = diesel::update(postback_deliveries::table.find(id).filter(due()))
            .set(postback_deliveries::locked_until.eq(Some(t + LEASE)))
            .returning(postback_deliveries::all_columns)
            .get_result(conn)
            .optional()?;
        claimed.extend(row);
    }
    Ok(claimed)
}

/// The publisher's tracker answered 2xx.
pub fn mark_delivered(conn: &mut DbConn, id: i64, code: i32) -> QueryResult<usize> {
    let t = now();
    diesel::update(postback_deliveries::table.find(id))
        .set((
            postback_deliveries::status.eq("delivered"),
            postback_deliveries::attempts.eq(postback_deliveries::attempts + 1),
            postback_deliveries::response_code.eq(Some(code)),
            postback_deliveries::last_error.eq(""),
            postback_deliveries::locked_until.eq(None::<NaiveDateTime>),
            postback_deliveries::delivered_at.eq(Some(t)),
        ))
        .execute(conn)
}

/// What became of a delivery after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again at this time.
    RetryAt(NaiveDateTime),
    /// `MAX_ATTEMPTS` reached: the delivery is `failed`.
    GaveUp,
}

/// Record a failed attempt (`code` is the HTTP status if the tracker answered):
/// retry after [`retry_delay`] from `base`, or give up after `MAX_ATTEMPTS`.
/// `attempts_before` is the count of the claimed row, which the lease keeps ours.
pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    attempts_before: i32,
    code: Option<i32>,
    error: &str,
    base: Duration,
) -> QueryResult<AfterFailure> {
    let attempts = attempts_before + 1;
    let t = now();
    let (status, after) = if attempts >= MAX_ATTEMPTS {
        ("failed", AfterFailure::GaveUp)
    } else {
        ("pending", AfterFailure::RetryAt(t + retry_delay(attempts, base)))
    };
    let next = match after {
        AfterFailure::RetryAt(at) => at,
        AfterFailure::GaveUp => t,
    };
    diesel::update(postback_deliveries::table.find(id))
        .set((
            postback_deliveries::status.eq(status),
            postback_deliveries::attempts.eq(attempts),
            postback_deliveries::next_attempt_at.eq(next),
            postback_deliveries::response_code.eq(code),
            postback_deliveries::last_error.eq(truncate(error)),
            postback_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(after)
}

/// The guard refused the target (a private address, a bad scheme): never retried.
pub fn mark_blocked(conn: &mut DbConn, id: i64, reason: &str) -> QueryResult<usize> {
    diesel::update(postback_deliveries::table.find(id))
        .set((
            postback_deliveries::status.eq("blocked"),
            postback_deliveries::last_error.eq(truncate(reason)),
            postback_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// `base`, twice that, four times … after each failed attempt, capped at one hour.
pub fn retry_delay(attempts: i32, base: Duration) -> Duration {
    let factor = 1i32 << (attempts - 1).clamp(0, 20);
    base.checked_mul(factor).unwrap_or(MAX_DELAY).min(MAX_DELAY)
}

fn truncate(text: &str) -> String {
    text.chars().take(ERROR_CHARS).collect()
}

/// One line of a publisher's delivery log: the delivery and its offer's name.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub delivery: Delivery,
    pub offer_name: String,
}

/// A publisher's latest `limit` deliveries with their offers' names, newest first.
pub fn log_for_publisher(conn: &mut DbConn, publisher_id: i64, limit: i64) -> QueryResult<Vec<LogRow>> {
    let deliveries = for_publisher(conn, publisher_id, limit)?;
    let mut ids: Vec<i64> = deliveries.iter().map(|d| d.offer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: HashMap<i64, String> = offers::table
        .filter(offers::id.eq_any(ids))
        .select((offers::id, offers::name))
        .load(conn)?
        .into_iter()
        .collect();
    Ok(deliveries
        .into_iter()
        .map(|d| LogRow { offer_name: names.get(&d.offer_id).cloned().unwrap_or_default(), delivery: d })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_caps_at_an_hour() {
        let base = Duration::seconds(30);
        assert_eq!(retry_delay(1, base).num_seconds(), 30);
        assert_eq!(retry_delay(2, base).num_seconds(), 60);
        assert_eq!(retry_delay(5, base).num_seconds(), 480);
        assert_eq!(retry_delay(7, base).num_seconds(), 1920);
        assert_eq!(retry_delay(8, base).num_seconds(), 3600);
        assert_eq!(retry_delay(40, base).num_seconds(), 3600);
        assert_eq!(retry_delay(3, Duration::milliseconds(10)).num_milliseconds(), 40);
    }

    #[test]
    fn errors_are_kept_short() {
        assert_eq!(truncate(&"é".repeat(900)).chars().count(), 500);
    }
}
