//! Top-up requests (DESIGN §8): an advertiser's word that it paid, until an admin
//! confirms it as a deposit or declines it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::topups;
use crate::store::now;

/// The ways an advertiser can pay, as the form offers them.
pub const METHODS: [&str; 4] = ["bank transfer", "card", "e-wallet", "other"];

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = topups)]
pub struct Topup {
    pub id: i64,
    pub advertiser_id: i64,
    pub amount_minor: i64,
    pub method: String,
    pub reference: String,
    /// `pending`, `confirmed` or `declined`.
    pub status: String,
    pub note: String,
    pub transaction_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
}

pub fn create(
    conn: &mut DbConn,
    advertiser_id: i64,
    amount_minor: i64,
    method: &str,
    reference: &str,
) -> QueryResult<Topup> {
    diesel::insert_into(topups::table)
        .values((
            topups::advertiser_id.eq(advertiser_id),
            topups::amount_minor.eq(amount_minor),
            topups::method.eq(method),
            topups::reference.eq(reference),
            topups::created_at.eq(now()),
        ))
        .returning(topups::id)
        .get_result::<i64>(conn)
        .and_then(|id| topups::table.find(id).select(Topup::as_select()).first(conn))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Topup>> {
    topups::table.find(id).select(Topup::as_select()).first(conn).optional()
}

/// Decide a pending request (`confirmed` with its deposit's transaction, or
/// `declined`); `false` when it was not pending any more.
pub fn decide(
    conn: &mut DbConn,
    id: i64,
    status: &str,
    admin_id: i64,
    transaction_id: Option<i64>,
    note: &str,
) -> QueryResult<bool> {
    let n = diesel::update(topups::table.find(id).filter(topups::status.eq("pending")))
        .set((
            topups::status.eq(status),
            topups::decided_by.eq(Some(admin_id)),
            topups::transaction_id.eq(transaction_id),
            topups::note.eq(note),
            topups::decided_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// An advertiser's requests, newest first.
pub fn of_advertiser(conn: &mut DbConn, advertiser_id: i64, limit: i64) -> QueryResult<Vec<Topup>> {
    topups::table
        .filter(topups::advertiser_id.eq(advertiser_id))
        .order(topups::id.desc())
        .limit(limit)
        .select(Topup::as_select())
        .load(conn)
}

/// The requests waiting for an admin, oldest first.
pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<Topup>> {
    topups::table.filter(topups::status.eq("pending")).order(topups::id).select(Topup::as_select()).load(conn)
}

/// How many of an advertiser's requests wait for an admin.
pub fn pending_count(conn: &mut DbConn, advertiser_id: i64) -> QueryResult<i64> {
    topups::table
        .filter(topups::advertiser_id.eq(advertiser_id))
        .filter(topups::status.eq("pending"))
        .count()
        .get_result(conn)
}
