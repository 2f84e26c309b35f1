//! Disputes: an advertiser's return of an approved lead, or a publisher's contest
//! of a rejection, and the admin's ruling (DESIGN §6).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{disputes, offers, users};
use crate::store::leads::Lead;
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = disputes)]
pub struct Dispute {
    pub id: i64,
    pub lead_id: i64,
    pub offer_id: i64,
    /// `return` (from approved) or `contest` (from rejected).
    pub kind: String,
    pub opened_by: i64,
    pub reason: String,
    pub comment: String,
    /// `open`, `upheld` or `denied`.
    pub status: String,
    pub ruled_by: Option<i64>,
    pub note: String,
    pub created_at: NaiveDateTime,
    pub ruled_at: Option<NaiveDateTime>,
}

/// Open a dispute on a lead; returns it.
pub fn open(
    conn: &mut DbConn,
    lead: &Lead,
    kind: &str,
    opened_by: i64,
    reason: &str,
    comment: &str,
) -> QueryResult<Dispute> {
    diesel::insert_into(disputes::table)
        .values((
            disputes::lead_id.eq(lead.id),
            disputes::offer_id.eq(lead.offer_id),
            disputes::kind.eq(kind),
            disputes::opened_by.eq(opened_by),
            disputes::reason.eq(reason),
            disputes::comment.eq(comment),
            disputes::status.eq("open"),
            disputes::created_at.eq(now()),
        ))
        .returning(disputes::id)
        .get_result::<i64>(conn)
        .and_then(|id| disputes::table.find(id).select(Dispute::as_select()).first(conn))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Dispute>> {
    disputes::table.find(id).select(Dispute::as_select()).first(conn).optional()
}

/// Every dispute of a lead, oldest first.
pub fn for_lead(conn: &mut DbConn, lead_id: i64) -> QueryResult<Vec<Dispute>> {
    disputes::table.filter(disputes::lead_id.eq(lead_id)).order(disputes::id).select(Dispute::as_select()).load(conn)
}

/// Close an open dispute with a ruling; `false` when it was not open any more.
pub fn close(conn: &mut DbConn, id: i64, status: &str, admin_id: i64, note: &str) -> QueryResult<bool> {
    let n = diesel::update(disputes::table.find(id).filter(disputes::status.eq("open")))
        .set((
            disputes::status.eq(status),
            disputes::ruled_by.eq(Some(admin_id)),
            disputes::note.eq(note),
            disputes::ruled_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// A row of the admin dispute queue: the dispute, the offer's name and who opened it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueRow {
    #[serde(flatten)]
    pub dispute: Dispute,
    pub offer_name: String,
    pub opened_by_email: String,
}

/// Disputes with `status` (all when `None`), newest first for closed ones and
/// oldest first for the open queue.
pub fn queue(conn: &mut DbConn, status: Option<&str>, limit: i64) -> QueryResult<Vec<QueueRow>> {
    let mut q = disputes::table
        .inner_join(offers::table.on(offers::id.eq(disputes::offer_id)))
        .inner_join(users::table.on(users::id.eq(disputes::opened_by)))
        .select((Dispute::as_select(), offers::name, users::email))
        .limit(limit)
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(disputes::status.eq(s.to_string()));
    }
    q = if status == Some("open") { q.order(disputes::id.asc()) } else { q.order(disputes::id.desc()) };
    let rows: Vec<(Dispute, String, String)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(dispute, offer_name, opened_by_email)| QueueRow { dispute, offer_name, opened_by_email })
        .collect())
}

pub fn open_count(conn: &mut DbConn) -> QueryResult<i64> {
    disputes::table.filter(disputes::status.eq("open")).count().get_result(conn)
}

/// Returns on an offer that count against its return rate: open or upheld (a
/// denied return did not return anything).
pub fn returns_on_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<i64> {
    disputes::table
        .filter(disputes::offer_id.eq(offer_id))
        .filter(disputes::kind.eq("return"))
        .filter(disputes::status.ne("denied"))
        .count()
        .get_result(conn)
}
