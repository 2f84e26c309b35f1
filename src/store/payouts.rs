//! Publisher payout requests. The money moves (publisher → external) only when an
//! admin marks a request paid; until then the request holds part of the publisher's
//! balance so it cannot be requested twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{payouts, users};
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = payouts)]
pub struct Payout {
    pub id: i64,
    pub publisher_id: i64,
    pub amount_minor: i64,
    /// `requested`, `paid` or `cancelled`.
    pub status: String,
    pub method: String,
    pub note: String,
    pub transaction_id: Option<i64>,
    pub paid_by: Option<i64>,
    pub requested_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
}

pub fn create(conn: &mut DbConn, publisher_id: i64, amount_minor: i64, method: &str) -> QueryResult<Payout> {
    diesel::insert_into(payouts::table)
        .values((
            payouts::publisher_id.eq(publisher_id),
            payouts::amount_minor.eq(amount_minor),
            payouts::status.eq("requested"),
            payouts::method.eq(method),
            payouts::requested_at.eq(now()),
        ))
        .returning(payouts::id)
        .get_result::<i64>(conn)
        .and_then(|id| payouts::table.find(id).select(Payout::as_select()).first(conn))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Payout>> {
    payouts::table.find(id).select(Payout::as_select()).first(conn).optional()
}

/// Mark a requested payout paid (with its ledger transaction); `false` when it was
/// not `requested` any more.
pub fn mark_paid(conn: &mut DbConn, id: i64, admin_id: i64, transaction_id: i64, note: &str) -> QueryResult<bool> {
    let n = diesel::update(payouts::table.find(id).filter(payouts::status.eq("requested")))
        .set((
            payouts::status.eq("paid"),
            payouts::paid_by.eq(Some(admin_id)),
            payouts::transaction_id.eq(Some(transaction_id)),
            payouts::note.eq(note),
            payouts::paid_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn cancel(conn: &mut DbConn, id: i64, note: &str) -> QueryResult<bool> {
    let n = diesel::update(payouts::table.find(id).filter(payouts::status.eq("requested")))
        .set((payouts::status.eq("cancelled"), payouts::note.eq(note)))
        .execute(conn)?;
    Ok(n == 1)
}

/// The sum of a publisher's requests not yet paid.
pub fn requested_sum(conn: &mut DbConn, publisher_id: i64) -> QueryResult<i64> {
    let s: Option<i64> = payouts::table
        .filter(payouts::publisher_id.eq(publisher_id))
        .filter(payouts::status.eq("requested"))
        .select(crate::store::sum_bigint("amount_minor"))
        .first(conn)?;
    Ok(s.unwrap_or(0))
}

pub fn for_publisher(conn: &mut DbConn, publisher_id: i64, limit: i64) -> QueryResult<Vec<Payout>> {
    payouts::table
        .filter(payouts::publisher_id.eq(publisher_id))
        .order(payouts::id.desc())
        .limit(limit)
        .select(Payout::as_select())
        .load(conn)
}

/// Payouts with `status` (all when `None`) and the publisher's e-mail, for admins.
pub fn list(conn: &mut DbConn, status: Option<&str>, limit: i64) -> QueryResult<Vec<(Payout, String)>> {
    let mut q = payouts::table
        .inner_join(users::table.on(users::id.eq(payouts::publisher_id)))
        .select((Payout::as_select(), users::email))
        .order(payouts::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(payouts::status.eq(s.to_string()));
    }
    q.load(conn)
}
