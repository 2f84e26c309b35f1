//! Clicks. Written in batches by the click writer, one transaction per batch.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::collections::BTreeMap;

use crate::db::DbConn;
use crate::db::schema::clicks;
use crate::store::rollups::{self, Delta};

/// A click to write: a stored click has the same columns.
pub type NewClick = Click;

/// A click as stored (every column of `clicks`).
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = clicks, treat_none_as_default_value = false)]
pub struct Click {
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
    /// Where `country` was read: `header`, `database`, `approximate` or `unknown`
    /// ([`crate::domain::geo::CountrySource`]).
    pub country_source: String,
    /// The user agent's device kind: `desktop`, `phone`, `tablet`, `bot`, `unknown`.
    pub device: String,
    /// The user agent's OS family ([`crate::domain::device::OS_FAMILIES`]).
    pub os: String,
    /// Earlier clicks of the same IP address and user agent on the same link within
    /// the offer's `duplicate_click` window when the click was made (its default
    /// window while the rule is off), counted by the serving process up to
    /// [`crate::domain::scrub::REPEATS_COUNTED`] ([`crate::tracking::click_repeats`]).
    pub repeat_clicks: i32,
}

/// Store a batch of clicks and add their counts to the hourly rollups, atomically.
/// PostgreSQL does it in one prepared statement (see [`PgClickBatch`]): one round
/// trip and one commit per batch. SQLite, in one transaction of prepared single-row
/// statements (no round trips there, and nothing to parse again per batch).
pub fn insert_batch(conn: &mut DbConn, batch: &[NewClick]) -> QueryResult<usize> {
    if batch.is_empty() {
        return Ok(0);
    }
    // Counted under keys that borrow the clicks' values (no strings copied per
    // click); only the batch's few distinct keys are made into rollup keys.
    type ClickKey<'a> = (NaiveDateTime, i64, i64, [&'a str; 5], Option<&'a str>);
    let mut counted: BTreeMap<ClickKey, Delta> = BTreeMap::new();
    for click in batch {
        let subs = [&*click.sub1, &*click.sub2, &*click.sub3, &*click.sub4, &*click.sub5];
        let key =
            (rollups::hour_of(click.created_at), click.offer_id, click.publisher_id, subs, click.country.as_deref());
        *counted.entry(key).or_default() += Delta::click(click.redirect_reason.as_deref(), click.is_unique);
    }
    let deltas: Vec<(rollups::Key, Delta)> = counted
        .into_iter()
        .map(|((hour, offer_id, publisher_id, subs, country), d)| {
            (rollups::Key::at(hour, offer_id, publisher_id, subs, country), d)
        })
        .collect();
    let deltas = || deltas.iter().map(|(k, d)| (k, d));
    if let DbConn::Postgres(c) = conn {
        // A statement outside a transaction is one: the clicks and their rollups
        // commit together or not at all.
        PgClickBatch::new(batch, rollups::PgRollups::clicks_only(&rollups::sums(deltas()))).execute(c)?;
        return Ok(batch.len());
    }
    conn.write_tx(|conn| {
        if let DbConn::Sqlite(c) = &mut *conn {
            // Multi-row INSERTs of a few fixed sizes: each size's text is prepared once
            // and cached, and a statement carries many clicks instead of one.
            let mut rest = batch;
            insert_rows_of::<16>(c, &mut rest)?;
            insert_rows_of::<4>(c, &mut rest)?;
            insert_rows_of::<1>(c, &mut rest)?;
        }
        rollups::add_many(conn, deltas())?;
        Ok(batch.len())
    })
}

/// Insert the clicks at the front of `rest` into SQLite in statements of `N` rows
/// each, leaving the fewer than `N` after them in `rest`.
fn insert_rows_of<const N: usize>(c: &mut diesel::SqliteConnection, rest: &mut &[NewClick]) -> QueryResult<()> {
    while let Some((rows, tail)) = rest.split_first_chunk::<N>() {
        diesel::insert_into(clicks::table).values(rows).execute(c)?;
        *rest = tail;
    }
    Ok(())
}

/// A click batch as one PostgreSQL statement of fixed text: the rows as arrays,
/// `unnest`ed into `clicks`, and the batch's rollup sums (see
/// [`rollups::PgRollups`]). Unlike a multi-row INSERT of a new size, the text never
/// changes, so the connection prepares it once and every batch only binds and runs.
pub struct PgClickBatch<'a> {
    click_id: Vec<&'a str>,
    offer_id: Vec<i64>,
    publisher_id: Vec<i64>,
    subs: [Vec<&'a str>; 5],
    source: Vec<&'a str>,
    ip: Vec<&'a str>,
    user_agent: Vec<&'a str>,
    referrer: Vec<&'a str>,
    country: Vec<Option<&'a str>>,
    redirect_reason: Vec<Option<&'a str>>,
    created_at: Vec<NaiveDateTime>,
    is_unique: Vec<bool>,
    origin: [Vec<&'a str>; 3],
    repeat_clicks: Vec<i32>,
    rollups: rollups::PgRollups,
}

impl<'a> PgClickBatch<'a> {
    /// The batch's columns, borrowed from the clicks (no value is copied).
    fn new(batch: &'a [NewClick], rollups: rollups::PgRollups) -> PgClickBatch<'a> {
        let col = |f: fn(&'a NewClick) -> &'a str| batch.iter().map(f).collect::<Vec<_>>();
        PgClickBatch {
            click_id: col(|c| &c.click_id),
            offer_id: batch.iter().map(|c| c.offer_id).collect(),
            publisher_id: batch.iter().map(|c| c.publisher_id).collect(),
            subs: [col(|c| &c.sub1), col(|c| &c.sub2), col(|c| &c.sub3), col(|c| &c.sub4), col(|c| &c.sub5)],
            source: col(|c| &c.source),
            ip: col(|c| &c.ip),
            user_agent: col(|c| &c.user_agent),
            referrer: col(|c| &c.referrer),
            country: batch.iter().map(|c| c.country.as_deref()).collect(),
            redirect_reason: batch.iter().map(|c| c.redirect_reason.as_deref()).collect(),
            created_at: batch.iter().map(|c| c.created_at).collect(),
            is_unique: batch.iter().map(|c| c.is_unique).collect(),
            origin: [col(|c| &c.country_source), col(|c| &c.device), col(|c| &c.os)],
            repeat_clicks: batch.iter().map(|c| c.repeat_clicks).collect(),
            rollups,
        }
    }
}

impl diesel::query_builder::QueryId for PgClickBatch<'_> {
    type QueryId = PgClickBatch<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgClickBatch<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, Bool, Int4, Int8, Nullable, Text, Timestamp};
        out.push_sql(
            "WITH c AS (INSERT INTO clicks (click_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5, \
             source, ip, user_agent, referrer, country, redirect_reason, created_at, is_unique, \
             country_source, device, os, repeat_clicks) \
             SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.click_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.offer_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.publisher_id)?;
        for text in self.subs.iter().chain([&self.source, &self.ip, &self.user_agent, &self.referrer]) {
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
        for text in &self.origin {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Int4>, _>(&self.repeat_clicks)?;
        out.push_sql(")), ");
        self.rollups.walk_tail(&mut out)
    }
}

impl<Conn> RunQueryDsl<Conn> for PgClickBatch<'_> {}

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

/// The most recent click (for tests: a scan, clicks have no index by time).
pub fn latest(conn: &mut DbConn) -> QueryResult<Option<Click>> {
    clicks::table.order(clicks::created_at.desc()).select(Click::as_select()).first(conn).optional()
}
