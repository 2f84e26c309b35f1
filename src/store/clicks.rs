//! Clicks. Written in batches by the click writer, one transaction per batch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::collections::BTreeMap;

use crate::db::DbConn;
use crate::db::schema::clicks;
use crate::per_backend;
use crate::store::rollups::{self, Delta};

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = clicks, treat_none_as_default_value = false)]
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

/// Store a batch of clicks and add their counts to the hourly rollups, atomically.
/// PostgreSQL does it in one prepared statement (see [`PgClickBatch`]): one round
/// trip and one commit per batch. SQLite, in one transaction of multi-row INSERTs
/// and upserts.
pub fn insert_batch(conn: &mut DbConn, batch: &[NewClick]) -> QueryResult<usize> {
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
    if batch.is_empty() {
        return Ok(0);
    }
    if let DbConn::Postgres(c) = conn {
        // A statement outside a transaction is one: the clicks and their rollups
        // commit together or not at all.
        PgClickBatch::new(batch, &rollups::sums(&deltas)).execute(c)?;
        return Ok(batch.len());
    }
    // SQLite allows 32766 bound parameters per statement; 16 columns × 1000 rows fits.
    conn.write_tx(|conn| {
        let mut n = 0;
        for chunk in batch.chunks(1000) {
            n += per_backend!(&mut *conn, c => diesel::insert_into(clicks::table).values(chunk).execute(c))?;
        }
        rollups::add_many(conn, &deltas)?;
        Ok(n)
    })
}

/// A click batch as one PostgreSQL statement of fixed text: the rows as arrays,
/// `unnest`ed into `clicks`, and the batch's sums upserted into `rollup_totals` and
/// then `rollups` (the dimension rows wait for the totals through the sub-select, so
/// rollup rows are locked in the same order as every other writer takes them).
/// Unlike a multi-row INSERT of a new size, or diesel's upserts, the text never
/// changes, so the connection prepares it once and every batch only binds and runs.
pub struct PgClickBatch {
    click_id: Vec<String>,
    offer_id: Vec<i64>,
    publisher_id: Vec<i64>,
    subs: [Vec<String>; 5],
    source: Vec<String>,
    ip: Vec<String>,
    user_agent: Vec<String>,
    referrer: Vec<String>,
    country: Vec<Option<String>>,
    redirect_reason: Vec<Option<String>>,
    created_at: Vec<NaiveDateTime>,
    is_unique: Vec<bool>,
    t_offer: Vec<i64>,
    t_hour: Vec<NaiveDateTime>,
    t_publisher: Vec<i64>,
    t_clicks: Vec<i64>,
    t_unique: Vec<i64>,
    r_hour: Vec<NaiveDateTime>,
    r_offer: Vec<i64>,
    r_publisher: Vec<i64>,
    r_dim: Vec<String>,
    r_value: Vec<String>,
    r_clicks: Vec<i64>,
    r_unique: Vec<i64>,
}

impl PgClickBatch {
    fn new(batch: &[NewClick], sums: &rollups::Sums) -> PgClickBatch {
        let col = |f: fn(&NewClick) -> String| batch.iter().map(f).collect::<Vec<_>>();
        PgClickBatch {
            click_id: col(|c| c.click_id.clone()),
            offer_id: batch.iter().map(|c| c.offer_id).collect(),
            publisher_id: batch.iter().map(|c| c.publisher_id).collect(),
            subs: [
                col(|c| c.sub1.clone()),
                col(|c| c.sub2.clone()),
                col(|c| c.sub3.clone()),
                col(|c| c.sub4.clone()),
                col(|c| c.sub5.clone()),
            ],
            source: col(|c| c.source.clone()),
            ip: col(|c| c.ip.clone()),
            user_agent: col(|c| c.user_agent.clone()),
            referrer: col(|c| c.referrer.clone()),
            country: batch.iter().map(|c| c.country.clone()).collect(),
            redirect_reason: batch.iter().map(|c| c.redirect_reason.clone()).collect(),
            created_at: batch.iter().map(|c| c.created_at).collect(),
            is_unique: batch.iter().map(|c| c.is_unique).collect(),
            t_offer: sums.totals.iter().map(|t| t.0).collect(),
            t_hour: sums.totals.iter().map(|t| t.1).collect(),
            t_publisher: sums.totals.iter().map(|t| t.2).collect(),
            t_clicks: sums.totals.iter().map(|t| t.3.clicks).collect(),
            t_unique: sums.totals.iter().map(|t| t.3.unique_clicks).collect(),
            r_hour: sums.rows.iter().map(|r| r.hour).collect(),
            r_offer: sums.rows.iter().map(|r| r.offer_id).collect(),
            r_publisher: sums.rows.iter().map(|r| r.publisher_id).collect(),
            r_dim: sums.rows.iter().map(|r| r.dim.clone()).collect(),
            r_value: sums.rows.iter().map(|r| r.value.clone()).collect(),
            r_clicks: sums.rows.iter().map(|r| r.metrics.clicks).collect(),
            r_unique: sums.rows.iter().map(|r| r.metrics.unique_clicks).collect(),
        }
    }
}

impl diesel::query_builder::QueryId for PgClickBatch {
    type QueryId = PgClickBatch;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgClickBatch {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, Bool, Int8, Nullable, Text, Timestamp};
        out.push_sql(
            "WITH c AS (INSERT INTO clicks (click_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, \
             source, ip, user_agent, referrer, country, redirect_reason, created_at, is_unique) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.click_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.offer_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.publisher_id)?;
        for sub in &self.subs {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(sub)?;
        }
        for text in [&self.source, &self.ip, &self.user_agent, &self.referrer] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.country)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.redirect_reason)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Bool>, _>(&self.is_unique)?;
        out.push_sql(
            ")), t AS (INSERT INTO rollup_totals (offer_id, hour, publisher_id, clicks, unique_clicks) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Int8>, _>(&self.t_offer)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.t_hour)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.t_publisher)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.t_clicks)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.t_unique)?;
        out.push_sql(
            ") ON CONFLICT (offer_id, hour, publisher_id) DO UPDATE SET \
             clicks = rollup_totals.clicks + excluded.clicks, \
             unique_clicks = rollup_totals.unique_clicks + excluded.unique_clicks RETURNING 1) \
             INSERT INTO rollups (hour, offer_id, publisher_id, dim, value, clicks, unique_clicks) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Timestamp>, _>(&self.r_hour)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.r_offer)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.r_publisher)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.r_dim)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.r_value)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.r_clicks)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.r_unique)?;
        out.push_sql(
            ") WHERE (SELECT count(*) FROM t) >= 0 \
             ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET \
             clicks = rollups.clicks + excluded.clicks, \
             unique_clicks = rollups.unique_clicks + excluded.unique_clicks",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for PgClickBatch {}

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
