//! Hourly rollups per offer × publisher × dimension value (DESIGN §9), changed in
//! the same transaction as the event they count: a click batch, a lead accepted, a
//! lead's status change, a conversion refused at intake. Reports read only these.
//!
//! Every event is counted once under each dimension of [`DIMS`]: `all` (the
//! `rollup_totals` table: one row per hour × offer × publisher, stored in offer and
//! hour order), and sub1–sub5 and country (the `rollups` table, one row per value).
//! A report grouped by a sub or country reads that dimension's rows; reports by
//! hour, day, offer or publisher read the totals. Each dimension adds up to the
//! same totals.
//!
//! An empty value (no sub2, no country) has no row of its own: it is what the
//! totals hold beyond the dimension's stored values ([`with_empty_values`]). Most
//! traffic carries sub1 at most, so a batch of events then writes two rows per hour
//! × offer × publisher instead of seven.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, Timelike};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Text, Timestamp};
use diesel::sqlite::Sqlite;

use crate::db::DbConn;
use crate::db::schema::{rollup_totals, rollups};
use crate::per_backend;

/// The dimensions every event is counted under, in the order they are written.
pub const DIMS: [&str; 7] = ["all", "sub1", "sub2", "sub3", "sub4", "sub5", "country"];

/// The dimension of totals (`rollup_totals`): reports by hour, day, offer and
/// publisher read it.
pub const BASE_DIM: &str = "all";

/// The UTC hour an event falls in.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(at)
}

/// Where an event is counted: its hour, offer, publisher and dimension values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub hour: NaiveDateTime,
    pub offer_id: i64,
    pub publisher_id: i64,
    /// sub1..sub5
    pub subs: [String; 5],
    /// Two-letter country, or empty when unknown.
    pub country: String,
}

impl Key {
    /// The key of an event at `at` (its UTC hour).
    pub fn at(at: NaiveDateTime, offer_id: i64, publisher_id: i64, subs: [&str; 5], country: Option<&str>) -> Key {
        Key {
            hour: hour_of(at),
            offer_id,
            publisher_id,
            subs: subs.map(str::to_string),
            country: country.unwrap_or("").to_string(),
        }
    }

    /// The value of dimension number `i` of [`DIMS`].
    fn value(&self, i: usize) -> &str {
        match i {
            0 => "",
            1..=5 => &self.subs[i - 1],
            _ => &self.country,
        }
    }
}

/// The store's side of the metric columns (listed once, in
/// [`crate::domain::rollup::with_metrics`]): selecting them and the upserts.
macro_rules! metrics {
    ($($f:ident),* $(,)?) => {
        /// A rollup row's metric columns, selected into a [`Delta`] (embedded in [`Row`]).
        impl<DB: diesel::backend::Backend> Selectable<DB> for Delta {
            type SelectExpression = ($(rollups::$f,)*);
            fn construct_selection() -> Self::SelectExpression {
                ($(rollups::$f,)*)
            }
        }

        /// The metric columns of `rollup_totals`, to select into a [`Delta`].
        pub fn totals_columns() -> ($(rollup_totals::$f,)*) {
            ($(rollup_totals::$f,)*)
        }

        /// A totals row as one single-row SQLite upsert of fixed text (prepared once
        /// per connection; diesel's multi-row upserts are prepared for every use).
        struct SqliteTotal<'a>(&'a (i64, NaiveDateTime, i64, Delta));

        impl QueryFragment<Sqlite> for SqliteTotal<'_> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
                let (offer_id, hour, publisher_id, d) = self.0;
                out.push_sql("INSERT INTO rollup_totals (offer_id, hour, publisher_id");
                push_metric_names(&mut out, METRICS);
                out.push_sql(") VALUES (");
                out.push_bind_param::<BigInt, _>(offer_id)?;
                out.push_sql(", ");
                out.push_bind_param::<Timestamp, _>(hour)?;
                out.push_sql(", ");
                out.push_bind_param::<BigInt, _>(publisher_id)?;
                $(
                    out.push_sql(", ");
                    out.push_bind_param::<BigInt, _>(&d.$f)?;
                )*
                out.push_sql(") ON CONFLICT (offer_id, hour, publisher_id) DO UPDATE SET ");
                push_metric_sums(&mut out, METRICS, "rollup_totals");
                Ok(())
            }
        }

        /// A dimension row as one single-row SQLite upsert of fixed text.
        struct SqliteRow<'a>(&'a Row);

        impl QueryFragment<Sqlite> for SqliteRow<'_> {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
                let (row, d) = (self.0, &self.0.metrics);
                out.push_sql("INSERT INTO rollups (hour, offer_id, publisher_id, dim, value");
                push_metric_names(&mut out, METRICS);
                out.push_sql(") VALUES (");
                out.push_bind_param::<Timestamp, _>(&row.hour)?;
                out.push_sql(", ");
                out.push_bind_param::<BigInt, _>(&row.offer_id)?;
                out.push_sql(", ");
                out.push_bind_param::<BigInt, _>(&row.publisher_id)?;
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(&row.dim)?;
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(&row.value)?;
                $(
                    out.push_sql(", ");
                    out.push_bind_param::<BigInt, _>(&d.$f)?;
                )*
                out.push_sql(") ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET ");
                push_metric_sums(&mut out, METRICS, "rollups");
                Ok(())
            }
        }

        /// Each metric of many rows, as one array per metric (PostgreSQL `unnest`).
        struct MetricArrays {
            $($f: Vec<i64>,)*
        }

        impl MetricArrays {
            fn of<'x>(deltas: impl Iterator<Item = &'x Delta> + Clone) -> MetricArrays {
                MetricArrays { $($f: deltas.clone().map(|d| d.$f).collect(),)* }
            }

            /// `, $1, $2, …`: the arrays of `metrics`, in that order.
            fn push_binds<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>, metrics: &[&str]) -> QueryResult<()> {
                for m in metrics {
                    let values = match *m {
                        $(stringify!($f) => &self.$f,)*
                        _ => return Err(diesel::result::Error::QueryBuilderError(format!("no metric {m}").into())),
                    };
                    out.push_sql(", ");
                    out.push_bind_param::<Array<BigInt>, _>(values)?;
                }
                Ok(())
            }
        }
    };
}

/// The metrics a click batch changes ([`Delta::click`]): its rollup statement
/// names only these.
pub const CLICK_METRICS: &[&str] =
    &["clicks", "unique_clicks", "fallback_clicks", "off_target_clicks", "blocked_clicks"];

/// `, clicks, unique_clicks, …`
fn push_metric_names<DB: diesel::backend::Backend>(out: &mut AstPass<'_, '_, DB>, metrics: &[&str]) {
    for m in metrics {
        out.push_sql(", ");
        out.push_sql(m);
    }
}

/// `clicks = t.clicks + excluded.clicks, …`: an upsert adds to the stored row.
fn push_metric_sums<DB: diesel::backend::Backend>(out: &mut AstPass<'_, '_, DB>, metrics: &[&str], table: &str) {
    for (i, m) in metrics.iter().enumerate() {
        if i > 0 {
            out.push_sql(", ");
        }
        for part in [m, " = ", table, ".", m, " + excluded.", m] {
            out.push_sql(part);
        }
    }
}

/// Rollup sums as one PostgreSQL statement of fixed text: the totals rows as
/// arrays `unnest`ed into an upsert of `rollup_totals`, then the dimension rows into
/// one of `rollups` (they wait for the totals through the sub-select, so rollup
/// rows are locked in the order of [`sums`]). The text never changes with the
/// number of rows, so a connection prepares it once.
pub struct PgRollups {
    t_offer: Vec<i64>,
    t_hour: Vec<NaiveDateTime>,
    t_publisher: Vec<i64>,
    t_metrics: MetricArrays,
    r_hour: Vec<NaiveDateTime>,
    r_offer: Vec<i64>,
    r_publisher: Vec<i64>,
    r_dim: Vec<String>,
    r_value: Vec<String>,
    r_metrics: MetricArrays,
    /// The metric columns the statement writes: all of them, or (for a click
    /// batch, whose text has its own statement id) [`CLICK_METRICS`].
    metrics: &'static [&'static str],
}

impl PgRollups {
    pub fn new(sums: &Sums) -> PgRollups {
        PgRollups::of_metrics(sums, METRICS)
    }

    /// Sums that change only the click counts, written without the other columns:
    /// a statement with five metric arrays instead of eighteen is less to bind,
    /// start and evaluate for every click batch. Only for a statement with a
    /// [`QueryId`] of its own (the text differs from [`PgRollups::new`]'s).
    pub(crate) fn clicks_only(sums: &Sums) -> PgRollups {
        PgRollups::of_metrics(sums, CLICK_METRICS)
    }

    fn of_metrics(sums: &Sums, metrics: &'static [&'static str]) -> PgRollups {
        PgRollups {
            metrics,
            t_offer: sums.totals.iter().map(|t| t.0).collect(),
            t_hour: sums.totals.iter().map(|t| t.1).collect(),
            t_publisher: sums.totals.iter().map(|t| t.2).collect(),
            t_metrics: MetricArrays::of(sums.totals.iter().map(|t| &t.3)),
            r_hour: sums.rows.iter().map(|r| r.hour).collect(),
            r_offer: sums.rows.iter().map(|r| r.offer_id).collect(),
            r_publisher: sums.rows.iter().map(|r| r.publisher_id).collect(),
            r_dim: sums.rows.iter().map(|r| r.dim.clone()).collect(),
            r_value: sums.rows.iter().map(|r| r.value.clone()).collect(),
            r_metrics: MetricArrays::of(sums.rows.iter().map(|r| &r.metrics)),
        }
    }

    /// `t AS (…upsert of the totals…) INSERT INTO rollups …`: what follows `WITH`
    /// (or `WITH x AS (…),`) in a statement that writes these sums.
    pub fn walk_tail<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("t AS (INSERT INTO rollup_totals (offer_id, hour, publisher_id");
        push_metric_names(out, self.metrics);
        out.push_sql(") SELECT * FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.t_offer)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.t_hour)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.t_publisher)?;
        self.t_metrics.push_binds(out, self.metrics)?;
        out.push_sql(") ON CONFLICT (offer_id, hour, publisher_id) DO UPDATE SET ");
        push_metric_sums(out, self.metrics, "rollup_totals");
        out.push_sql(" RETURNING 1) INSERT INTO rollups (hour, offer_id, publisher_id, dim, value");
        push_metric_names(out, self.metrics);
        out.push_sql(") SELECT * FROM unnest(");
        out.push_bind_param::<Array<Timestamp>, _>(&self.r_hour)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.r_offer)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.r_publisher)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.r_dim)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.r_value)?;
        self.r_metrics.push_binds(out, self.metrics)?;
        out.push_sql(") WHERE (SELECT count(*) FROM t) >= 0 ON CONFLICT (hour, offer_id, publisher_id, dim, value) DO UPDATE SET ");
        push_metric_sums(out, self.metrics, "rollups");
        Ok(())
    }
}

impl QueryFragment<Pg> for PgRollups {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH ");
        self.walk_tail(&mut out)
    }
}

/// Fixed-text statements: prepared once per connection, found again by type.
macro_rules! static_query {
    ($($t:ident),*) => {$(
        impl QueryId for $t<'_> {
            type QueryId = $t<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl<Conn> RunQueryDsl<Conn> for $t<'_> {}
    )*};
}
static_query!(SqliteTotal, SqliteRow);

impl QueryId for PgRollups {
    type QueryId = PgRollups;
    const HAS_STATIC_QUERY_ID: bool = true;
}
impl<Conn> RunQueryDsl<Conn> for PgRollups {}

crate::with_metrics!(metrics);

pub use crate::domain::lifecycle::{LeadMoney, LeadStatus};
pub use crate::domain::rollup::{Delta, METRICS};

/// One stored row: where, and its metrics.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = rollups)]
pub struct Row {
    pub hour: NaiveDateTime,
    pub offer_id: i64,
    pub publisher_id: i64,
    pub dim: String,
    pub value: String,
    #[diesel(embed)]
    pub metrics: Delta,
}

/// Add `delta` under `key`, creating rows when needed.
pub fn add(conn: &mut DbConn, key: &Key, d: Delta) -> QueryResult<()> {
    add_many(conn, std::iter::once((key, &d)))
}

/// Many deltas summed by place: each is counted in the totals (in (offer, hour,
/// publisher) order) and under every dimension whose value it has (in (hour,
/// offer, publisher, dim, value) order). Writers take rollup rows in these orders,
/// so two transactions cannot wait on each other's rows.
pub struct Sums {
    pub totals: Vec<(i64, NaiveDateTime, i64, Delta)>,
    pub rows: Vec<Row>,
}

pub fn sums<'a>(deltas: impl IntoIterator<Item = (&'a Key, &'a Delta)>) -> Sums {
    let mut totals: BTreeMap<(i64, NaiveDateTime, i64), Delta> = BTreeMap::new();
    let mut rows: BTreeMap<(NaiveDateTime, i64, i64, usize, &str), Delta> = BTreeMap::new();
    for (key, d) in deltas {
        *totals.entry((key.offer_id, key.hour, key.publisher_id)).or_default() += *d;
        for i in 1..DIMS.len() {
            let value = key.value(i);
            if !value.is_empty() {
                *rows.entry((key.hour, key.offer_id, key.publisher_id, i, value)).or_default() += *d;
            }
        }
    }
    Sums {
        totals: totals.into_iter().map(|((o, h, p), d)| (o, h, p, d)).collect(),
        rows: rows
            .into_iter()
            .map(|((hour, offer_id, publisher_id, i, value), metrics)| Row {
                hour,
                offer_id,
                publisher_id,
                dim: DIMS[i].to_string(),
                value: value.to_string(),
                metrics,
            })
            .collect(),
    }
}

/// Add many deltas (see [`sums`]): on PostgreSQL by one statement, on SQLite by a
/// prepared single-row upsert per row (no round trips there).
pub fn add_many<'a>(conn: &mut DbConn, deltas: impl IntoIterator<Item = (&'a Key, &'a Delta)>) -> QueryResult<()> {
    let sums = sums(deltas);
    if sums.totals.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Postgres(c) => {
            PgRollups::new(&sums).execute(c)?;
        }
        DbConn::Sqlite(c) => {
            for t in &sums.totals {
                SqliteTotal(t).execute(c)?;
            }
            for r in &sums.rows {
                SqliteRow(r).execute(c)?;
            }
        }
    }
    Ok(())
}

/// The totals rows, as [`Row`]s of dimension [`BASE_DIM`].
fn totals_rows(conn: &mut DbConn, offer_id: Option<i64>) -> QueryResult<Vec<Row>> {
    use rollup_totals::dsl as t;
    let rows: Vec<(NaiveDateTime, i64, i64, Delta)> = per_backend!(conn, c => {
        let mut q = t::rollup_totals
            .select((t::hour, t::offer_id, t::publisher_id, totals_columns()))
            .order((t::hour, t::offer_id, t::publisher_id))
            .into_boxed();
        if let Some(o) = offer_id {
            q = q.filter(t::offer_id.eq(o));
        }
        q.load(c)
    })?;
    Ok(rows
        .into_iter()
        .map(|(hour, offer_id, publisher_id, metrics)| Row {
            hour,
            offer_id,
            publisher_id,
            dim: BASE_DIM.to_string(),
            value: String::new(),
            metrics,
        })
        .collect())
}

/// An offer's rows of one dimension (tests, small reports).
pub fn for_offer(conn: &mut DbConn, offer_id: i64, dim: &str) -> QueryResult<Vec<Row>> {
    dimension_rows(conn, Some(offer_id), dim)
}

/// Totals of an offer's rows.
pub fn offer_totals(conn: &mut DbConn, offer_id: i64) -> QueryResult<Delta> {
    Ok(for_offer(conn, offer_id, BASE_DIM)?.iter().fold(Delta::default(), |acc, r| acc + r.metrics))
}

/// Every row of one dimension (the rollup-agreement test and rebuild checks).
pub fn all_of(conn: &mut DbConn, dim: &str) -> QueryResult<Vec<Row>> {
    dimension_rows(conn, None, dim)
}

/// The rows of one dimension (of one offer, or of all), the empty value's put
/// back, in (hour, offer, publisher, value) order.
fn dimension_rows(conn: &mut DbConn, offer_id: Option<i64>, dim: &str) -> QueryResult<Vec<Row>> {
    let totals = totals_rows(conn, offer_id)?;
    if dim == BASE_DIM {
        return Ok(totals);
    }
    let mut q = rollups::table.filter(rollups::dim.eq(dim)).select(Row::as_select()).into_boxed();
    if let Some(o) = offer_id {
        q = q.filter(rollups::offer_id.eq(o));
    }
    let stored = q.load(conn)?;
    let mut rows = with_empty_values(dim, totals, stored);
    rows.sort_by(|a, b| {
        (a.hour, a.offer_id, a.publisher_id, &a.value).cmp(&(b.hour, b.offer_id, b.publisher_id, &b.value))
    });
    Ok(rows)
}

/// A dimension's `stored` rows with the rows of its empty value put back: for each
/// totals row, what it holds beyond the stored values of the same hour × offer ×
/// publisher (nothing when that is zero).
fn with_empty_values(dim: &str, totals: Vec<Row>, stored: Vec<Row>) -> Vec<Row> {
    let mut rest: BTreeMap<(NaiveDateTime, i64, i64), Delta> =
        totals.into_iter().map(|t| ((t.hour, t.offer_id, t.publisher_id), t.metrics)).collect();
    for r in &stored {
        if let Some(d) = rest.get_mut(&(r.hour, r.offer_id, r.publisher_id)) {
            *d = *d - r.metrics;
        }
    }
    let empty =
        rest.into_iter().filter(|(_, d)| *d != Delta::default()).map(|((hour, offer_id, publisher_id), metrics)| Row {
            hour,
            offer_id,
            publisher_id,
            dim: dim.to_string(),
            value: String::new(),
            metrics,
        });
    stored.into_iter().chain(empty).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).and_then(|d| d.and_hms_opt(20, 15, 0)).expect("time")
    }

    #[test]
    fn only_values_that_are_set_get_dimension_rows() {
        let clicks = Delta { clicks: 3, ..Delta::default() };
        let one_sub = Key::at(at(), 7, 9, ["spring", "", "", "", ""], None);
        let more = Key::at(at(), 7, 9, ["", "", "x", "", ""], Some("DE"));
        let s = sums([(&one_sub, &clicks), (&more, &clicks)]);
        assert_eq!(s.totals.len(), 1, "one hour × offer × publisher");
        assert_eq!(s.totals[0].3.clicks, 6);
        let rows: Vec<(&str, &str, i64)> =
            s.rows.iter().map(|r| (r.dim.as_str(), r.value.as_str(), r.metrics.clicks)).collect();
        assert_eq!(rows, vec![("sub1", "spring", 3), ("sub3", "x", 3), ("country", "DE", 3)]);
    }

    #[test]
    fn a_click_batch_writes_every_metric_a_click_changes() {
        let clicks = [None, Some("targeting"), Some(crate::domain::source_block::REASON), Some("cap_reached")]
            .into_iter()
            .fold(Delta::default(), |sum, reason| sum + Delta::click(reason, true));
        let changed = serde_json::to_value(clicks).expect("json");
        let changed: Vec<&str> = METRICS.iter().copied().filter(|m| changed[m] != 0).collect();
        assert_eq!(changed, CLICK_METRICS, "a click batch's statement names exactly these");
    }

    #[test]
    fn the_empty_value_is_what_the_totals_hold_beyond_the_stored_values() {
        let hour = hour_of(at());
        let row = |dim: &str, value: &str, clicks: i64, leads: i64| Row {
            hour,
            offer_id: 7,
            publisher_id: 9,
            dim: dim.into(),
            value: value.into(),
            metrics: Delta { clicks, leads, ..Delta::default() },
        };
        let totals = vec![row(BASE_DIM, "", 10, 2), Row { offer_id: 8, ..row(BASE_DIM, "", 4, 0) }];
        let stored = vec![row("sub2", "a", 6, 2), Row { offer_id: 8, ..row("sub2", "b", 4, 0) }];
        let rows = with_empty_values("sub2", totals, stored);
        let got: Vec<(i64, &str, i64, i64)> =
            rows.iter().map(|r| (r.offer_id, r.value.as_str(), r.metrics.clicks, r.metrics.leads)).collect();
        // Offer 7 has 4 clicks without sub2; every click of offer 8 has one.
        assert_eq!(got, vec![(7, "a", 6, 2), (8, "b", 4, 0), (7, "", 4, 0)]);
        assert!(rows.iter().all(|r| r.dim == "sub2"));
    }
}
