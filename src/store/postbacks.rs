//! Platform → publisher postbacks: queued in the transaction of the lead event that
//! causes them, delivered by `tracking::publisher_postbacks` with retries, and
//! kept as a delivery log the publisher can read.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{offer_publishers, postback_deliveries};
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
    let Some(template) = template.filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    let payout = format_minor(lead.payout_minor);
    let url = fill_postback(
        &template,
        &PostbackValues {
            click_id: lead.click_id.as_deref().unwrap_or(""),
            subs: [&lead.sub1, &lead.sub2, &lead.sub3, &lead.sub4, &lead.sub5],
            lead_id: lead.id,
            offer_id: lead.offer_id,
            status: &lead.status,
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
