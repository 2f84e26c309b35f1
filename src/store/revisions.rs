//! `offer_revisions`: edits of a live offer that wait for an admin (DESIGN "Trust").
//! Statuses: `pending` → `approved` (with the time it takes effect, then
//! `applied_at` once the offer carries it) | `rejected` (with a note) |
//! `superseded` (a newer edit replaced it before review).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::offer_revisions;
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = offer_revisions)]
pub struct Revision {
    pub id: i64,
    pub offer_id: i64,
    pub status: String,
    /// The proposed offer body (JSON).
    pub body: String,
    /// The reviewed members that change (JSON list).
    pub changes: String,
    /// In plain words, how it lowers the payout or tightens the terms (JSON list).
    pub tightens: String,
    pub note: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub effective_at: Option<NaiveDateTime>,
    pub applied_at: Option<NaiveDateTime>,
}

impl Revision {
    pub fn body(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
    pub fn changes(&self) -> Vec<String> {
        serde_json::from_str(&self.changes).unwrap_or_default()
    }
    pub fn tightens(&self) -> Vec<String> {
        serde_json::from_str(&self.tightens).unwrap_or_default()
    }
    /// Approved, but the offer does not carry it yet (its notice runs).
    pub fn scheduled(&self) -> bool {
        self.status == "approved" && self.applied_at.is_none()
    }
}

/// A new pending revision; an earlier pending one of the offer is superseded.
pub fn propose(
    conn: &mut DbConn,
    offer_id: i64,
    body: &serde_json::Value,
    changes: &[String],
    tightens: &[String],
    by: i64,
) -> QueryResult<Revision> {
    supersede_pending(conn, offer_id)?;
    let at = now();
    diesel::insert_into(offer_revisions::table)
        .values((
            offer_revisions::offer_id.eq(offer_id),
            offer_revisions::status.eq("pending"),
            offer_revisions::body.eq(body.to_string()),
            offer_revisions::changes.eq(list_json(changes)),
            offer_revisions::tightens.eq(list_json(tightens)),
            offer_revisions::note.eq(""),
            offer_revisions::created_by.eq(by),
            offer_revisions::created_at.eq(at),
        ))
        .returning(offer_revisions::id)
        .get_result::<i64>(conn)
        .and_then(|id| find(conn, id)?.ok_or(diesel::result::Error::NotFound))
}

fn list_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// Withdraw the offer's pending revision, if any (the edit that put its members back).
pub fn supersede_pending(conn: &mut DbConn, offer_id: i64) -> QueryResult<usize> {
    diesel::update(
        offer_revisions::table
            .filter(offer_revisions::offer_id.eq(offer_id))
            .filter(offer_revisions::status.eq("pending")),
    )
    .set((offer_revisions::status.eq("superseded"), offer_revisions::decided_at.eq(Some(now()))))
    .execute(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Revision>> {
    offer_revisions::table.find(id).select(Revision::as_select()).first(conn).optional()
}

/// An offer's revisions, newest first.
pub fn for_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<Vec<Revision>> {
    offer_revisions::table
        .filter(offer_revisions::offer_id.eq(offer_id))
        .order(offer_revisions::id.desc())
        .select(Revision::as_select())
        .load(conn)
}

/// The offer's revision waiting for review, if any.
pub fn pending(conn: &mut DbConn, offer_id: i64) -> QueryResult<Option<Revision>> {
    offer_revisions::table
        .filter(offer_revisions::offer_id.eq(offer_id))
        .filter(offer_revisions::status.eq("pending"))
        .order(offer_revisions::id.desc())
        .select(Revision::as_select())
        .first(conn)
        .optional()
}

/// Offers with a revision waiting for review: `(offer id, revision id)`.
pub fn all_pending(conn: &mut DbConn) -> QueryResult<Vec<(i64, i64)>> {
    offer_revisions::table
        .filter(offer_revisions::status.eq("pending"))
        .order(offer_revisions::id.asc())
        .select((offer_revisions::offer_id, offer_revisions::id))
        .load(conn)
}

/// Decide a pending revision (a conditional update: `false` if it was not pending).
pub fn decide(
    conn: &mut DbConn,
    id: i64,
    approved: bool,
    by: i64,
    note: &str,
    effective_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let n = diesel::update(offer_revisions::table.find(id).filter(offer_revisions::status.eq("pending")))
        .set((
            offer_revisions::status.eq(if approved { "approved" } else { "rejected" }),
            offer_revisions::decided_by.eq(Some(by)),
            offer_revisions::decided_at.eq(Some(now())),
            offer_revisions::note.eq(note),
            offer_revisions::effective_at.eq(effective_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Approved revisions whose time has come and that the offer does not carry yet,
/// in the order they take effect.
pub fn due(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<Vec<Revision>> {
    offer_revisions::table
        .filter(offer_revisions::status.eq("approved"))
        .filter(offer_revisions::applied_at.is_null())
        .filter(offer_revisions::effective_at.le(at))
        .order((offer_revisions::effective_at.asc(), offer_revisions::id.asc()))
        .select(Revision::as_select())
        .load(conn)
}

/// Mark a revision as carried by its offer (conditional: `false` if another
/// process applied it first).
pub fn mark_applied(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(offer_revisions::table.find(id).filter(offer_revisions::applied_at.is_null()))
        .set(offer_revisions::applied_at.eq(Some(at)))
        .execute(conn)?;
    Ok(n == 1)
}
