//! Hourly rollups per offer × publisher × sub1 (DESIGN §9), changed in the same
//! transaction as the event they count: a click batch, a lead accepted, a lead's
//! status change, a conversion refused at intake. Reports read only these rows.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConn;
use crate::db::schema::rollups;
use crate::per_backend;

/// The UTC hour an event falls in.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(at)
}

/// Which row a change goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub hour: NaiveDateTime,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub sub1: String,
}

impl Key {
    /// The row of an event at `at` (its UTC hour).
    pub fn at(at: NaiveDateTime, offer_id: i64, publisher_id: i64, sub1: &str) -> Key {
        Key { hour: hour_of(at), offer_id, publisher_id, sub1: sub1.to_string() }
    }
}

/// Amounts to add to a row (negative to take away).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    pub clicks: i64,
    pub unique_clicks: i64,
    pub leads: i64,
    pub intake_rejected: i64,
    pub pending: i64,
    pub approved: i64,
    pub rejected: i64,
    pub disputed: i64,
    pub reversed: i64,
    pub price_minor: i64,
    pub approved_price_minor: i64,
    pub approved_payout_minor: i64,
    pub approved_fee_minor: i64,
}

pub use crate::domain::lifecycle::LeadMoney;

impl Delta {
    /// A lead entering (`sign` = 1) or leaving (`sign` = −1) a status bucket.
    pub fn status(status: &str, sign: i64, money: LeadMoney) -> Delta {
        let mut d = Delta::default();
        match status {
            "pending" => d.pending = sign,
            "approved" => {
                d.approved = sign;
                d.approved_price_minor = sign * money.price;
                d.approved_payout_minor = sign * money.payout;
                d.approved_fee_minor = sign * money.fee;
            }
            "rejected" => d.rejected = sign,
            "disputed" => d.disputed = sign,
            "reversed" => d.reversed = sign,
            _ => {}
        }
        d
    }

    /// A status change: out of one bucket, into another.
    pub fn transition(from: &str, to: &str, money: LeadMoney) -> Delta {
        Delta::status(from, -1, money) + Delta::status(to, 1, money)
    }
}

impl std::ops::Add for Delta {
    type Output = Delta;
    fn add(self, o: Delta) -> Delta {
        Delta {
            clicks: self.clicks + o.clicks,
            unique_clicks: self.unique_clicks + o.unique_clicks,
            leads: self.leads + o.leads,
            intake_rejected: self.intake_rejected + o.intake_rejected,
            pending: self.pending + o.pending,
            approved: self.approved + o.approved,
            rejected: self.rejected + o.rejected,
            disputed: self.disputed + o.disputed,
            reversed: self.reversed + o.reversed,
            price_minor: self.price_minor + o.price_minor,
            approved_price_minor: self.approved_price_minor + o.approved_price_minor,
            approved_payout_minor: self.approved_payout_minor + o.approved_payout_minor,
            approved_fee_minor: self.approved_fee_minor + o.approved_fee_minor,
        }
    }
}

/// Add `delta` to the row of `key`, creating it when needed (one upsert).
pub fn add(conn: &mut DbConn, key: &Key, d: Delta) -> QueryResult<()> {
    add_many(conn, std::iter::once((key, &d)))
}

/// Add many deltas, one multi-row upsert per 200 rows. Give the keys in order
/// (a `BTreeMap` does): every writer takes rollup rows in key order, so two
/// transactions cannot wait on each other's rows.
pub fn add_many<'a>(conn: &mut DbConn, deltas: impl IntoIterator<Item = (&'a Key, &'a Delta)>) -> QueryResult<()> {
    use rollups::dsl as r;
    let rows: Vec<_> = deltas
        .into_iter()
        .map(|(key, d)| {
            (
                r::hour.eq(key.hour),
                r::offer_id.eq(key.offer_id),
                r::publisher_id.eq(key.publisher_id),
                r::sub1.eq(&key.sub1),
                r::clicks.eq(d.clicks),
                r::unique_clicks.eq(d.unique_clicks),
                r::leads.eq(d.leads),
                r::intake_rejected.eq(d.intake_rejected),
                r::pending.eq(d.pending),
                r::approved.eq(d.approved),
                r::rejected.eq(d.rejected),
                r::disputed.eq(d.disputed),
                r::reversed.eq(d.reversed),
                r::price_minor.eq(d.price_minor),
                r::approved_price_minor.eq(d.approved_price_minor),
                r::approved_payout_minor.eq(d.approved_payout_minor),
                r::approved_fee_minor.eq(d.approved_fee_minor),
            )
        })
        .collect();
    let sums = || {
        (
            r::clicks.eq(r::clicks + excluded(r::clicks)),
            r::unique_clicks.eq(r::unique_clicks + excluded(r::unique_clicks)),
            r::leads.eq(r::leads + excluded(r::leads)),
            r::intake_rejected.eq(r::intake_rejected + excluded(r::intake_rejected)),
            r::pending.eq(r::pending + excluded(r::pending)),
            r::approved.eq(r::approved + excluded(r::approved)),
            r::rejected.eq(r::rejected + excluded(r::rejected)),
            r::disputed.eq(r::disputed + excluded(r::disputed)),
            r::reversed.eq(r::reversed + excluded(r::reversed)),
            r::price_minor.eq(r::price_minor + excluded(r::price_minor)),
            r::approved_price_minor.eq(r::approved_price_minor + excluded(r::approved_price_minor)),
            r::approved_payout_minor.eq(r::approved_payout_minor + excluded(r::approved_payout_minor)),
            r::approved_fee_minor.eq(r::approved_fee_minor + excluded(r::approved_fee_minor)),
        )
    };
    for chunk in rows.chunks(200) {
        per_backend!(&mut *conn, c => diesel::insert_into(r::rollups)
            .values(chunk)
            .on_conflict((r::hour, r::offer_id, r::publisher_id, r::sub1))
            .do_update()
            .set(sums())
            .execute(c))?;
    }
    Ok(())
}

/// One rollup row, as reports read it.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = rollups)]
pub struct Row {
    pub hour: NaiveDateTime,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub sub1: String,
    pub clicks: i64,
    pub unique_clicks: i64,
    pub leads: i64,
    pub intake_rejected: i64,
    pub pending: i64,
    pub approved: i64,
    pub rejected: i64,
    pub disputed: i64,
    pub reversed: i64,
    pub price_minor: i64,
    pub approved_price_minor: i64,
    pub approved_payout_minor: i64,
    pub approved_fee_minor: i64,
}

/// Every row of an offer (tests, small reports).
pub fn for_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<Vec<Row>> {
    rollups::table.filter(rollups::offer_id.eq(offer_id)).order(rollups::hour).select(Row::as_select()).load(conn)
}

/// Totals of an offer's rows.
pub fn offer_totals(conn: &mut DbConn, offer_id: i64) -> QueryResult<Delta> {
    Ok(for_offer(conn, offer_id)?.iter().fold(Delta::default(), |acc, r| {
        acc + Delta {
            clicks: r.clicks,
            unique_clicks: r.unique_clicks,
            leads: r.leads,
            intake_rejected: r.intake_rejected,
            pending: r.pending,
            approved: r.approved,
            rejected: r.rejected,
            disputed: r.disputed,
            reversed: r.reversed,
            price_minor: r.price_minor,
            approved_price_minor: r.approved_price_minor,
            approved_payout_minor: r.approved_payout_minor,
            approved_fee_minor: r.approved_fee_minor,
        }
    }))
}
