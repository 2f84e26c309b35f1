//! The settlement run's reads and writes (DESIGN §6, `crate::settlement::run`):
//! claiming due leads, what judging them needs (their clicks' user agents, the IP
//! history), writing the decisions in bulk, and the record of runs.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{clicks, leads, settlement_runs};
use crate::store::leads::{Lead, LeadStatus};

/// Claim up to `limit` due pending leads (locking them on PostgreSQL, skipping
/// those another run holds), oldest hold first.
pub fn claim(conn: &mut DbConn, at: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    // The literal lets both engines use the partial index `leads_pending_hold`.
    let q = leads::table
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("status = 'pending'"))
        .filter(leads::hold_until.le(at))
        .order((leads::hold_until, leads::id))
        .limit(limit)
        .select(leads::id);
    match conn {
        DbConn::Postgres(c) => q.for_update().skip_locked().load(c),
        DbConn::Sqlite(c) => q.load(c),
    }
}

/// What the rules read of a lead's click: its user agent, and how many earlier
/// clicks its visitor made on the link within the window (`duplicate_click`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClickSeen {
    pub user_agent: String,
    pub repeat_clicks: i32,
}

/// What the rules read of each lead's click, by click id.
pub fn clicks_seen(conn: &mut DbConn, batch: &[Lead]) -> QueryResult<HashMap<String, ClickSeen>> {
    let ids: Vec<&str> = batch.iter().filter_map(|l| l.click_id.as_deref()).collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String, i32)> = clicks::table
            .filter(clicks::click_id.eq_any(chunk))
            .select((clicks::click_id, clicks::user_agent, clicks::repeat_clicks))
            .load(conn)?;
        out.extend(
            rows.into_iter().map(|(id, user_agent, repeat_clicks)| (id, ClickSeen { user_agent, repeat_clicks })),
        );
    }
    Ok(out)
}

/// `(offer, ip) → [(lead id, created_at)]`.
pub type IpHistory = HashMap<(i64, String), Vec<(i64, NaiveDateTime)>>;

/// Leads on the batch's offers from the batch's IPs in the 24 hours before its
/// oldest lead.
pub fn ip_history(conn: &mut DbConn, batch: &[Lead]) -> QueryResult<IpHistory> {
    let ips: Vec<&str> =
        batch.iter().map(|l| l.ip.as_str()).filter(|ip| !ip.is_empty()).collect::<HashSet<_>>().into_iter().collect();
    let offers: Vec<i64> = batch.iter().map(|l| l.offer_id).collect::<HashSet<_>>().into_iter().collect();
    let Some(oldest) = batch.iter().map(|l| l.created_at).min() else { return Ok(HashMap::new()) };
    let mut out = IpHistory::new();
    for chunk in ips.chunks(500) {
        let rows: Vec<(i64, i64, String, NaiveDateTime)> = leads::table
            .filter(leads::offer_id.eq_any(&offers))
            .filter(leads::ip.eq_any(chunk))
            .filter(leads::created_at.ge(oldest - Duration::hours(24)))
            .select((leads::id, leads::offer_id, leads::ip, leads::created_at))
            .load(conn)?;
        for (id, offer_id, ip, created_at) in rows {
            out.entry((offer_id, ip)).or_default().push((id, created_at));
        }
    }
    Ok(out)
}

/// A recorded settlement run.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = settlement_runs)]
pub struct RunRow {
    pub id: i64,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub approved: i64,
    pub rejected: i64,
    pub error: String,
}

/// The latest runs that decided something or failed, newest first.
pub fn recent_runs(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<RunRow>> {
    settlement_runs::table.order(settlement_runs::id.desc()).limit(limit).select(RunRow::as_select()).load(conn)
}

/// A settled lead's new values.
pub struct Decided {
    pub id: i64,
    pub status: &'static str,
    pub reasons: String,
    pub checks: String,
    pub score: i32,
}

/// Write the decisions with one `UPDATE … FROM (VALUES …)` per 400 leads (both
/// engines have it; a statement per lead would be a round trip each on PostgreSQL).
/// Only leads still `pending` change; returns how many did.
///
/// One statement text serves both engines: numbered parameters (`$n` on
/// PostgreSQL, `?n` on SQLite, which looks a `$n` up by name among every earlier
/// one: quadratic in a statement of 2,000 parameters) and the columns a `VALUES`
/// list is given on both (`column1` …).
pub fn update_decided(conn: &mut DbConn, rows: &[Decided], at: NaiveDateTime, lists: &str) -> QueryResult<usize> {
    use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
    let mut n = 0;
    let p = match conn {
        DbConn::Sqlite(_) => "?",
        DbConn::Postgres(_) => "$",
    };
    for chunk in rows.chunks(400) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = 3 + i * 5;
                format!("({p}{b}, {p}{}, {p}{}, {p}{}, {p}{})", b + 1, b + 2, b + 3, b + 4)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE leads SET status = v.column2, reasons = v.column3, checks = v.column4, score = v.column5, \
             decided_at = {p}1, updated_at = {p}1, lists_version = {p}2 FROM (VALUES {values}) AS v \
             WHERE leads.id = v.column1 AND leads.status = '{}'",
            LeadStatus::Pending.as_str()
        );
        n += crate::per_backend!(&mut *conn, c => {
            let mut q = diesel::sql_query(&sql).into_boxed().bind::<Timestamp, _>(at).bind::<Text, _>(lists);
            for r in chunk {
                q = q
                    .bind::<BigInt, _>(r.id)
                    .bind::<Text, _>(r.status)
                    .bind::<Text, _>(&r.reasons)
                    .bind::<Text, _>(&r.checks)
                    .bind::<Integer, _>(r.score);
            }
            q.execute(c)?
        });
    }
    Ok(n)
}

/// Record a settlement run that decided something or failed.
pub fn record_run(
    conn: &mut DbConn,
    started: NaiveDateTime,
    approved: i64,
    rejected: i64,
    error: &str,
) -> QueryResult<()> {
    diesel::insert_into(settlement_runs::table)
        .values((
            settlement_runs::started_at.eq(started),
            settlement_runs::finished_at.eq(crate::store::now()),
            settlement_runs::approved.eq(approved),
            settlement_runs::rejected.eq(rejected),
            settlement_runs::error.eq(error),
        ))
        .execute(conn)
        .map(drop)
}

/// An earlier lead's contact, for `duplicate_contact`.
#[derive(Debug, Queryable)]
pub struct ContactRow {
    pub id: i64,
    pub offer_id: i64,
    pub advertiser_id: i64,
    pub email_norm: Option<String>,
    pub phone_norm: Option<String>,
    pub status: LeadStatus,
    pub created_at: NaiveDateTime,
}

/// Every lead not rejected with one of these normalised e-mails or phones, by id,
/// each once.
pub fn contacts_among(conn: &mut DbConn, emails: &[&str], phones: &[&str]) -> QueryResult<Vec<ContactRow>> {
    let select = (
        leads::id,
        leads::offer_id,
        leads::advertiser_id,
        leads::email_norm,
        leads::phone_norm,
        leads::status,
        leads::created_at,
    );
    let mut out = Vec::new();
    for (values, by_email) in [(emails, true), (phones, false)] {
        for chunk in values.chunks(500) {
            let earlier = leads::table.filter(leads::status.ne(LeadStatus::Rejected)).select(select);
            out.extend(match by_email {
                true => earlier.filter(leads::email_norm.eq_any(chunk)).load::<ContactRow>(conn)?,
                false => earlier.filter(leads::phone_norm.eq_any(chunk)).load::<ContactRow>(conn)?,
            });
        }
    }
    out.sort_by_key(|c| c.id);
    out.dedup_by_key(|c| c.id);
    Ok(out)
}
