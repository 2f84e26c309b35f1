//! Cap counters (DESIGN §4): leads per day / week / month / total, the daily budget,
//! and the per-publisher caps. Each accepted lead increments its counters with a
//! conditional UPDATE (`… WHERE leads < cap`) inside the intake transaction, so no
//! number of server processes sharing the database can pass a cap: PostgreSQL
//! re-checks the condition under the row lock, SQLite serialises writers.

use chrono::{Datelike, NaiveDateTime, TimeZone};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::cap_counters;
use crate::per_backend;
use crate::store::offers::Offer;

/// The counter rows a lead at `at` touches for this offer, with their limits.
struct Counter {
    publisher_id: i64,
    period: String,
    max_leads: Option<i64>,
    max_spend: Option<i64>,
}

/// Period keys in the offer's time zone: `d:2026-11-23`, `w:2026-W47`, `m:2026-11`, `t`.
pub fn periods(timezone: &str, at: NaiveDateTime) -> (String, String, String) {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    let local = tz.from_utc_datetime(&at).date_naive();
    let week = local.iso_week();
    (
        format!("d:{}", local.format("%Y-%m-%d")),
        format!("w:{}-W{:02}", week.year(), week.week()),
        format!("m:{}", local.format("%Y-%m")),
    )
}

fn counters(offer: &Offer, publisher_id: i64, at: NaiveDateTime) -> Vec<Counter> {
    let (day, week, month) = periods(&offer.timezone, at);
    let mut out = vec![
        Counter {
            publisher_id: 0,
            period: day.clone(),
            max_leads: offer.cap_daily,
            max_spend: offer.daily_budget_minor,
        },
        Counter { publisher_id: 0, period: week, max_leads: offer.cap_weekly, max_spend: None },
        Counter { publisher_id: 0, period: month, max_leads: offer.cap_monthly, max_spend: None },
        Counter { publisher_id: 0, period: "t".into(), max_leads: offer.cap_total, max_spend: None },
    ];
    if offer.publisher_cap_daily.is_some() {
        out.push(Counter { publisher_id, period: day, max_leads: offer.publisher_cap_daily, max_spend: None });
    }
    if offer.publisher_cap_total.is_some() {
        out.push(Counter { publisher_id, period: "t".into(), max_leads: offer.publisher_cap_total, max_spend: None });
    }
    // Only counters that limit something are kept.
    out.retain(|c| c.max_leads.is_some() || c.max_spend.is_some());
    out
}

/// Count one lead of `price` against every cap of the offer. `false` (and nothing
/// usable written: the caller rolls back) when any cap or the daily budget is full.
pub fn take(conn: &mut DbConn, offer: &Offer, publisher_id: i64, price: i64, at: NaiveDateTime) -> QueryResult<bool> {
    use cap_counters::dsl as c;
    for counter in counters(offer, publisher_id, at) {
        let key =
            (c::offer_id.eq(offer.id), c::publisher_id.eq(counter.publisher_id), c::period.eq(counter.period.clone()));
        per_backend!(&mut *conn, conn => diesel::insert_into(c::cap_counters)
            .values(key.clone())
            .on_conflict_do_nothing()
            .execute(conn))?;
        let row = c::cap_counters
            .filter(c::offer_id.eq(offer.id))
            .filter(c::publisher_id.eq(counter.publisher_id))
            .filter(c::period.eq(counter.period.clone()));
        let max_leads = counter.max_leads.unwrap_or(i64::MAX);
        let max_spend = counter.max_spend.unwrap_or(i64::MAX);
        let updated = diesel::update(row.filter(c::leads.lt(max_leads)).filter(c::spend_minor.le(max_spend - price)))
            .set((c::leads.eq(c::leads + 1), c::spend_minor.eq(c::spend_minor + price)))
            .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether a cap is already full right now (for sending clicks to the fallback).
/// A read, so only a hint; `take` is the one that decides.
pub fn full(conn: &mut DbConn, offer: &Offer, publisher_id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    use cap_counters::dsl as c;
    for counter in counters(offer, publisher_id, at) {
        let row: Option<(i64, i64)> = c::cap_counters
            .filter(c::offer_id.eq(offer.id))
            .filter(c::publisher_id.eq(counter.publisher_id))
            .filter(c::period.eq(&counter.period))
            .select((c::leads, c::spend_minor))
            .first(conn)
            .optional()?;
        let (leads, spend) = row.unwrap_or((0, 0));
        if counter.max_leads.is_some_and(|m| leads >= m) || counter.max_spend.is_some_and(|m| spend >= m) {
            return Ok(true);
        }
    }
    Ok(false)
}
