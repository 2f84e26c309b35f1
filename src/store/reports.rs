//! Reports read the rollups only (DESIGN §9): one grouped query per report, never a
//! scan of raw clicks or leads. Labels (offer names, publisher names) come from a
//! lookup of the ids a report shows.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::DbConn;
use crate::db::schema::{offers, rollup_totals, rollups, users};
use crate::domain::report::{GroupBy, Range};
use crate::per_backend;
use crate::store::rollups::{Delta, METRICS, totals_columns};

/// Whose rows a report may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// The offers of this advertiser.
    Advertiser(i64),
    /// This publisher's traffic.
    Publisher(i64),
}

/// What to read: whose rows, optionally one offer, over a range.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub scope: Scope,
    pub offer_id: Option<i64>,
    pub range: Range,
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The group's value as data: `2026-11-23`, `2026-11-23 14:00`, an offer or
    /// publisher id, a sub value or country.
    pub key: String,
    /// What a person reads.
    pub label: String,
    pub totals: Delta,
}

type Sums = (
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
    BigInt,
);

/// Every metric's sum, in `Delta` field order (zero over no rows).
fn sums() -> diesel::expression::SqlLiteral<Sums> {
    let sql = METRICS.iter().map(|m| format!("CAST(COALESCE(SUM({m}), 0) AS BIGINT)")).collect::<Vec<_>>().join(", ");
    diesel::dsl::sql::<Sums>(&sql)
}

/// The ids of the offers a filter's scope is, when it is an advertiser's. A query
/// that names them, rather than selecting them in a subquery, lets PostgreSQL plan
/// its range read by the offers (through the primary key) instead of reading every
/// offer's rows of the range and dropping the others.
fn scope_offers(conn: &mut DbConn, filter: &Filter) -> QueryResult<Vec<i64>> {
    match filter.scope {
        Scope::Advertiser(a) => offers::table.filter(offers::advertiser_id.eq(a)).select(offers::id).load(conn),
        Scope::All | Scope::Publisher(_) => Ok(Vec::new()),
    }
}

/// Narrow a boxed query of table `$t` (`rollups` or `rollup_totals`) to a filter's
/// range, scope (an advertiser's by its `$offers`, see [`scope_offers`]) and offer.
macro_rules! narrowed {
    ($q:expr, $filter:expr, $offers:expr, $t:ident) => {{
        let (from, to) = $filter.range.utc_bounds();
        let mut q = $q.filter($t::hour.ge(from)).filter($t::hour.lt(to));
        match $filter.scope {
            Scope::All => {}
            Scope::Publisher(p) => q = q.filter($t::publisher_id.eq(p)),
            Scope::Advertiser(_) => q = q.filter($t::offer_id.eq_any($offers)),
        }
        if let Some(o) = $filter.offer_id {
            q = q.filter($t::offer_id.eq(o));
        }
        q
    }};
}

/// A filter's rows of one sub or country dimension, summed per value. The empty
/// value has no rows (see [`crate::store::rollups`]): it is what the filter's
/// totals hold beyond the other values.
fn by_value(conn: &mut DbConn, filter: &Filter, dim: &str) -> QueryResult<Vec<(String, Delta)>> {
    let offers = scope_offers(conn, filter)?;
    let mut values = per_backend!(conn, c => {
        let q = rollups::table
            .group_by(rollups::value)
            .select((rollups::value, sums()))
            .filter(rollups::dim.eq(dim))
            .into_boxed();
        narrowed!(q, filter, &offers, rollups).load::<(String, Delta)>(c)
    })?;
    let rest = values.iter().fold(total_over(conn, filter, &offers)?, |rest, (_, d)| rest - *d);
    if rest != Delta::default() {
        values.push((String::new(), rest));
    }
    Ok(values)
}

/// What the groupings by time, offer and publisher read of a filter's totals rows:
/// their sums per UTC hour, per offer and per publisher.
#[derive(Default)]
struct Margins {
    hours: BTreeMap<NaiveDateTime, Delta>,
    offers: BTreeMap<i64, Delta>,
    publishers: BTreeMap<i64, Delta>,
}

impl Margins {
    fn add(&mut self, hour: NaiveDateTime, offer_id: i64, publisher_id: i64, metrics: Delta) {
        *self.hours.entry(hour).or_default() += metrics;
        *self.offers.entry(offer_id).or_default() += metrics;
        *self.publishers.entry(publisher_id).or_default() += metrics;
    }
}

/// A filter's [`Margins`]. SQLite hands over its rows (one per hour × offer ×
/// publisher) in-process, and they are summed here; PostgreSQL sums them itself in
/// one pass (`GROUPING SETS`), so a range of tens of thousands of rows comes back
/// as a few hundred instead of crossing the connection.
fn margins(conn: &mut DbConn, filter: &Filter) -> QueryResult<Margins> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Nullable, Timestamp};
    let offers = scope_offers(conn, filter)?;
    let mut out = Margins::default();
    match conn {
        DbConn::Sqlite(c) => {
            let q = rollup_totals::table
                .select((rollup_totals::hour, rollup_totals::offer_id, rollup_totals::publisher_id, totals_columns()))
                .into_boxed();
            for (hour, offer_id, publisher_id, metrics) in
                narrowed!(q, filter, &offers, rollup_totals).load::<(NaiveDateTime, i64, i64, Delta)>(c)?
            {
                out.add(hour, offer_id, publisher_id, metrics);
            }
        }
        DbConn::Postgres(c) => {
            // Each row is one grouping's: the two columns it is not grouped by are
            // NULL (they are never NULL in the table).
            let q = rollup_totals::table
                .group_by(sql::<BigInt>("GROUPING SETS ((hour), (offer_id), (publisher_id))"))
                .select((
                    sql::<Nullable<Timestamp>>("hour"),
                    sql::<Nullable<BigInt>>("offer_id"),
                    sql::<Nullable<BigInt>>("publisher_id"),
                    sums(),
                ))
                .into_boxed();
            for (hour, offer_id, publisher_id, metrics) in
                narrowed!(q, filter, &offers, rollup_totals)
                    .load::<(Option<NaiveDateTime>, Option<i64>, Option<i64>, Delta)>(c)?
            {
                match (hour, offer_id, publisher_id) {
                    (Some(h), None, None) => out.hours.insert(h, metrics),
                    (None, Some(o), None) => out.offers.insert(o, metrics),
                    (None, None, Some(p)) => out.publishers.insert(p, metrics),
                    _ => None,
                };
            }
        }
    }
    Ok(out)
}

/// The sum of a filter's totals rows, added up by the database (cheaper than
/// reading the rows when only the sum is wanted).
pub fn total_of(conn: &mut DbConn, filter: &Filter) -> QueryResult<Delta> {
    let offers = scope_offers(conn, filter)?;
    total_over(conn, filter, &offers)
}

/// [`total_of`] for a caller that has read the scope's offers already.
fn total_over(conn: &mut DbConn, filter: &Filter, offers: &[i64]) -> QueryResult<Delta> {
    per_backend!(conn, c => {
        let q = rollup_totals::table.select(sums()).into_boxed();
        narrowed!(q, filter, offers, rollup_totals).first::<Delta>(c)
    })
}

/// The report of `filter` grouped by `group`: hour, day, offer and publisher from
/// the totals rows, a sub or country by one grouped query of its dimension. Time
/// groupings list every day of the range (empty days too) or every hour with data,
/// in order; the others are sorted by money, then clicks, largest first.
pub fn report(conn: &mut DbConn, filter: &Filter, group: GroupBy) -> QueryResult<Vec<Line>> {
    match group {
        GroupBy::Sub(_) | GroupBy::Country => Ok(sorted(
            by_value(conn, filter, group.dim())?
                .into_iter()
                .map(|(v, totals)| Line {
                    label: if v.is_empty() { "(none)".to_string() } else { v.clone() },
                    key: v,
                    totals,
                })
                .collect(),
        )),
        _ => {
            let m = margins(conn, filter)?;
            from_margins(conn, &m, &filter.range, group)
        }
    }
}

/// A dashboard's overview: days, offers and publishers of the range from one read
/// of its totals rows. (The period before it is [`total_of`] its filter, which a
/// dashboard reads on a second connection at the same time.)
pub struct Overview {
    pub days: Vec<Line>,
    pub by_offer: Vec<Line>,
    pub by_publisher: Vec<Line>,
}

pub fn overview(conn: &mut DbConn, filter: &Filter) -> QueryResult<Overview> {
    let range = filter.range;
    let m = margins(conn, filter)?;
    Ok(Overview {
        days: from_margins(conn, &m, &range, GroupBy::Day)?,
        by_offer: from_margins(conn, &m, &range, GroupBy::Offer)?,
        by_publisher: from_margins(conn, &m, &range, GroupBy::Publisher)?,
    })
}

/// A grouping by time, offer or publisher of a filter's [`Margins`].
fn from_margins(conn: &mut DbConn, m: &Margins, range: &Range, group: GroupBy) -> QueryResult<Vec<Line>> {
    Ok(match group {
        GroupBy::Day => {
            let mut days: BTreeMap<NaiveDate, Delta> =
                range.days().into_iter().map(|d| (d, Delta::default())).collect();
            for (&hour, &metrics) in &m.hours {
                if let Some(slot) = days.get_mut(&range.local(hour).date()) {
                    *slot += metrics;
                }
            }
            days.into_iter()
                .map(|(day, totals)| Line { key: day.to_string(), label: day.format("%b %-d").to_string(), totals })
                .collect()
        }
        GroupBy::Hour => {
            // Two UTC hours can be one local hour (when the clocks go back).
            let mut hours: BTreeMap<NaiveDateTime, Delta> = BTreeMap::new();
            for (&hour, &metrics) in &m.hours {
                *hours.entry(range.local(hour)).or_default() += metrics;
            }
            hours
                .into_iter()
                .map(|(h, totals)| Line {
                    key: h.format("%Y-%m-%d %H:%M").to_string(),
                    label: h.format("%b %-d, %H:%M").to_string(),
                    totals,
                })
                .collect()
        }
        GroupBy::Offer => {
            let names = offer_names(conn, m.offers.keys().copied())?;
            sorted(labelled(&m.offers, |id| names.get(&id).cloned().unwrap_or_else(|| format!("Offer {id}"))))
        }
        _ => {
            let names = user_names(conn, m.publishers.keys().copied())?;
            sorted(labelled(&m.publishers, |id| names.get(&id).cloned().unwrap_or_else(|| format!("Publisher {id}"))))
        }
    })
}

/// Largest money first, then most clicks, then by name.
fn sorted(mut lines: Vec<Line>) -> Vec<Line> {
    lines.sort_by(|a, b| {
        (b.totals.approved_price_minor, b.totals.clicks, &a.label).cmp(&(
            a.totals.approved_price_minor,
            a.totals.clicks,
            &b.label,
        ))
    });
    lines
}

fn labelled(rows: &BTreeMap<i64, Delta>, name: impl Fn(i64) -> String) -> Vec<Line> {
    rows.iter().map(|(&id, &totals)| Line { key: id.to_string(), label: name(id), totals }).collect()
}

/// The sum of every row of a filter.
pub fn totals(lines: &[Line]) -> Delta {
    lines.iter().fold(Delta::default(), |acc, l| acc + l.totals)
}

/// Names of offers by id.
pub fn offer_names(conn: &mut DbConn, ids: impl Iterator<Item = i64>) -> QueryResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        out.extend(
            offers::table
                .filter(offers::id.eq_any(chunk))
                .select((offers::id, offers::name))
                .load::<(i64, String)>(conn)?,
        );
    }
    Ok(out)
}

/// Display names of users by id.
pub fn user_names(conn: &mut DbConn, ids: impl Iterator<Item = i64>) -> QueryResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        out.extend(users::table.filter(users::id.eq_any(chunk)).select((users::id, users::display_name)).load::<(
            i64,
            String,
        )>(
            conn
        )?);
    }
    Ok(out)
}

/// A row of [`ctit`].
#[derive(QueryableByName)]
struct CtitRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    publisher_id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    bucket: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The leads with a click created in `[from, to)` (UTC) by publisher, counted by
/// click-to-conversion time ([`crate::domain::ctit::BOUNDS`]). A scan of the range's
/// leads: for the admin's page that asks for it, not for a dashboard.
pub fn ctit(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(i64, crate::domain::ctit::Histogram)>> {
    use diesel::sql_types::Timestamp;
    let (secs, params) = match conn {
        // Whole seconds, rounded down on both engines (as settlement counts them); the
        // 0.0001 s absorbs julianday's floating-point error at a bucket's edge.
        DbConn::Sqlite(_) => {
            ("CAST((julianday(created_at) - julianday(click_at)) * 86400 + 0.0001 AS INTEGER)", ["?1", "?2"])
        }
        DbConn::Postgres(_) => ("CAST(FLOOR(EXTRACT(EPOCH FROM (created_at - click_at))) AS BIGINT)", ["$1", "$2"]),
    };
    let mut case = String::from("CASE");
    for (i, bound) in crate::domain::ctit::BOUNDS.iter().enumerate() {
        case.push_str(&format!(" WHEN {secs} < {bound} THEN {i}"));
    }
    case.push_str(&format!(" ELSE {} END", crate::domain::ctit::BOUNDS.len()));
    let sql = format!(
        "SELECT publisher_id, CAST({case} AS INTEGER) AS bucket, COUNT(*) AS n FROM leads \
         WHERE click_at IS NOT NULL AND created_at >= {} AND created_at < {} GROUP BY publisher_id, bucket",
        params[0], params[1]
    );
    let rows: Vec<CtitRow> = crate::per_backend!(conn, c => diesel::sql_query(&sql)
        .bind::<Timestamp, _>(from)
        .bind::<Timestamp, _>(to)
        .load(c))?;
    let mut by: std::collections::BTreeMap<i64, crate::domain::ctit::Histogram> = Default::default();
    for r in rows {
        let slot = usize::try_from(r.bucket).unwrap_or(0).min(crate::domain::ctit::BOUNDS.len());
        by.entry(r.publisher_id).or_default().counts[slot] += r.n;
    }
    Ok(by.into_iter().collect())
}

/// A row of [`rule_failures`].
#[derive(QueryableByName)]
struct RuleRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    publisher_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    code: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checked: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    failed: i64,
}

/// For each publisher with leads created in `[from, to)` (UTC) that settlement
/// checked, how many of them each rule of `codes` checked and how many failed it
/// (one per code, in order). One grouped read of the range's leads for all
/// publishers and rules (their stored checks matched by [`check_pattern`]): for the
/// admin's page that asks for it, not for a dashboard.
///
/// [`check_pattern`]: crate::store::leads::check_pattern
pub fn rule_failures(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    codes: &[&str],
) -> QueryResult<BTreeMap<i64, Vec<crate::domain::suspects::RuleCount>>> {
    use crate::domain::suspects::RuleCount;
    use crate::store::leads::check_pattern;
    use diesel::sql_types::{Text, Timestamp};
    if codes.is_empty() {
        return Ok(BTreeMap::new());
    }
    let p = match conn {
        DbConn::Sqlite(_) => "?",
        DbConn::Postgres(_) => "$",
    };
    // The rules as a VALUES list (its columns are column1… on both engines).
    let values = (0..codes.len())
        .map(|i| {
            let b = 3 + i * 3;
            format!("(CAST({p}{b} AS TEXT), CAST({p}{} AS TEXT), CAST({p}{} AS TEXT))", b + 1, b + 2)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT l.publisher_id AS publisher_id, r.column1 AS code, \
         CAST(SUM(CASE WHEN l.checks LIKE r.column2 ESCAPE '\\' THEN 1 ELSE 0 END) AS BIGINT) AS checked, \
         CAST(SUM(CASE WHEN l.checks LIKE r.column3 ESCAPE '\\' THEN 1 ELSE 0 END) AS BIGINT) AS failed \
         FROM leads l CROSS JOIN (VALUES {values}) AS r \
         WHERE l.created_at >= {p}1 AND l.created_at < {p}2 AND l.checks <> '[]' \
         GROUP BY l.publisher_id, r.column1"
    );
    let rows: Vec<RuleRow> = crate::per_backend!(conn, c => {
        let mut q = diesel::sql_query(&sql).into_boxed().bind::<Timestamp, _>(from).bind::<Timestamp, _>(to);
        for code in codes {
            q = q
                .bind::<Text, _>(*code)
                .bind::<Text, _>(check_pattern(code, false))
                .bind::<Text, _>(check_pattern(code, true));
        }
        q.load(c)
    })?;
    let mut out: BTreeMap<i64, Vec<RuleCount>> = BTreeMap::new();
    for r in rows {
        let Some(i) = codes.iter().position(|c| *c == r.code) else { continue };
        let counts = out.entry(r.publisher_id).or_insert_with(|| vec![RuleCount::default(); codes.len()]);
        counts[i] = RuleCount { checked: r.checked, failed: r.failed };
    }
    // A publisher none of whose leads any of the rules checked tells nothing.
    out.retain(|_, counts| counts.iter().any(|c| c.checked > 0));
    Ok(out)
}

/// What a user may read: which money columns, and whose rows.
pub fn viewer_of(role: crate::domain::account::Role, user_id: i64) -> (crate::domain::report::Viewer, Scope) {
    use crate::domain::account::Role;
    use crate::domain::report::Viewer;
    match role {
        Role::Advertiser => (Viewer::Advertiser, Scope::Advertiser(user_id)),
        Role::Publisher => (Viewer::Publisher, Scope::Publisher(user_id)),
        Role::Admin => (Viewer::Admin, Scope::All),
    }
}

/// Whether a report of `scope` may be narrowed to `offer_id`: an advertiser only
/// to its own offers, a publisher to offers it has a membership on (of any
/// status), an admin to any offer that exists.
pub fn offer_visible(conn: &mut DbConn, scope: Scope, offer_id: i64) -> QueryResult<bool> {
    use crate::db::schema::offer_publishers as m;
    let owner: Option<i64> =
        offers::table.filter(offers::id.eq(offer_id)).select(offers::advertiser_id).first(conn).optional()?;
    Ok(match (scope, owner) {
        (_, None) => false,
        (Scope::Advertiser(a), Some(owner)) => a == owner,
        (Scope::Publisher(p), Some(_)) => {
            diesel::select(diesel::dsl::exists(m::table.filter(m::offer_id.eq(offer_id)).filter(m::publisher_id.eq(p))))
                .get_result(conn)?
        }
        (Scope::All, Some(_)) => true,
    })
}
