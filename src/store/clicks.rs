//! Clicks. Written in batches by the click writer, one transaction per batch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::collections::BTreeMap;

use crate::db::DbConn;
use crate::db::schema::clicks;
use crate::per_backend;
use crate::store::rollups::{self, Delta};

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
    pub is_unique: bool,
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
    pub is_unique: bool,
}

/// Insert a batch in one transaction: one multi-row INSERT per chunk (batch inserts
/// are one of the places where the two backends need their own arm), and the
/// batch's counts added to the hourly rollups.
pub fn insert_batch(conn: &mut DbConn, batch: &[NewClick]) -> QueryResult<usize> {
    // SQLite allows 32766 bound parameters per statement; 15 columns × 1000 rows fits both.
    conn.write_tx(|conn| {
        let mut n = 0;
        for chunk in batch.chunks(1000) {
            n += per_backend!(&mut *conn, c => diesel::insert_into(clicks::table).values(chunk).execute(c))?;
        }
        let mut deltas: BTreeMap<rollups::Key, Delta> = BTreeMap::new();
        for click in batch {
            let key = rollups::Key::at(
                click.created_at,
                click.offer_id,
                click.publisher_id,
                [&click.sub1, &click.sub2, &click.sub3, &click.sub4, &click.sub5],
                click.country.as_deref(),
            );
            let d = deltas.entry(key).or_default();
            d.clicks += 1;
            d.unique_clicks += i64::from(click.is_unique);
        }
        rollups::add_many(conn, &deltas)?;
        Ok(n)
    })
}

pub fn find(conn: &mut DbConn, click_id: &str) -> QueryResult<Option<Click>> {
    clicks::table.filter(clicks::click_id.eq(click_id)).select(Click::as_select()).first(conn).optional()
}

/// The clicks among `ids` that exist.
pub fn find_many(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<Click>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(clicks::table.filter(clicks::click_id.eq_any(chunk)).select(Click::as_select()).load(conn)?);
    }
    Ok(out)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    clicks::table.count().get_result(conn)
}

/// The most recent click (for tests and the admin's traffic view).
pub fn latest(conn: &mut DbConn) -> QueryResult<Option<Click>> {
    clicks::table.order(clicks::id.desc()).select(Click::as_select()).first(conn).optional()
}
