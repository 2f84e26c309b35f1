//! Clicks. Written in batches by the click writer, one transaction per batch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::clicks;

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = clicks)]
pub struct NewClick {
    pub click_id: String,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub sub1: String,
    pub sub2: String,
    pub sub3: String,
    pub sub4: String,
    pub sub5: String,
    pub source: String,
    pub ip: String,
    pub user_agent: String,
    pub referrer: String,
    pub country: Option<String>,
    pub redirect_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clicks)]
pub struct Click {
    pub id: i64,
    pub click_id: String,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub sub1: String,
    pub sub2: String,
    pub sub3: String,
    pub sub4: String,
    pub sub5: String,
    pub source: String,
    pub ip: String,
    pub user_agent: String,
    pub referrer: String,
    pub country: Option<String>,
    pub redirect_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Insert a batch in one transaction: one multi-row INSERT per chunk. Batch inserts
/// are one of the places where the two backends need their own arm.
pub fn insert_batch(conn: &mut DbConn, batch: &[NewClick]) -> QueryResult<usize> {
    // SQLite allows 32766 bound parameters per statement; 15 columns × 1000 rows fits both.
    conn.write_tx(|conn| {
        let mut n = 0;
        for chunk in batch.chunks(1000) {
            n += match conn {
                DbConn::Sqlite(c) => diesel::insert_into(clicks::table).values(chunk).execute(c)?,
                DbConn::Postgres(c) => diesel::insert_into(clicks::table).values(chunk).execute(c)?,
            };
        }
        Ok(n)
    })
}

pub fn find(conn: &mut DbConn, click_id: &str) -> QueryResult<Option<Click>> {
    clicks::table.filter(clicks::click_id.eq(click_id)).select(Click::as_select()).first(conn).optional()
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    clicks::table.count().get_result(conn)
}

/// The most recent click (for tests and the admin's traffic view).
pub fn latest(conn: &mut DbConn) -> QueryResult<Option<Click>> {
    clicks::table.order(clicks::id.desc()).select(Click::as_select()).first(conn).optional()
}
