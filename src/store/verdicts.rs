//! `lead_verdicts`: every advertiser verdict that decided a lead, with its channel
//! and time, and every offer default applied at hold end (`hold_default`); and
//! `verdict_uploads`: a CSV of verdicts kept between its preview and its apply
//! (DESIGN §6 "The advertiser's verdict").

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{lead_verdicts, verdict_uploads};
use crate::store::now;

/// One verdict that decided a lead.
pub struct NewVerdict<'a> {
    pub lead_id: i64,
    pub advertiser_id: i64,
    pub actor_id: Option<i64>,
    pub channel: &'a str,
    pub verdict: &'a str,
    pub reason: &'a str,
    pub comment: &'a str,
}

pub fn record(conn: &mut DbConn, v: &NewVerdict<'_>) -> QueryResult<()> {
    diesel::insert_into(lead_verdicts::table)
        .values((
            lead_verdicts::lead_id.eq(v.lead_id),
            lead_verdicts::advertiser_id.eq(v.advertiser_id),
            lead_verdicts::actor_id.eq(v.actor_id),
            lead_verdicts::channel.eq(v.channel),
            lead_verdicts::verdict.eq(v.verdict),
            lead_verdicts::reason.eq(v.reason),
            lead_verdicts::comment.eq(v.comment),
            lead_verdicts::created_at.eq(now()),
        ))
        .execute(conn)
        .map(drop)
}

/// The offer defaults a settlement batch applied: `(lead, advertiser, approved)`.
pub fn record_defaults(conn: &mut DbConn, rows: &[(i64, i64, bool)], at: NaiveDateTime) -> QueryResult<()> {
    for chunk in rows.chunks(500) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(lead_id, advertiser_id, approved)| {
                (
                    lead_verdicts::lead_id.eq(*lead_id),
                    lead_verdicts::advertiser_id.eq(*advertiser_id),
                    lead_verdicts::actor_id.eq(None::<i64>),
                    lead_verdicts::channel.eq("hold_default"),
                    lead_verdicts::verdict.eq(if *approved { "approved" } else { "rejected" }),
                    lead_verdicts::reason.eq(""),
                    lead_verdicts::comment.eq(""),
                    lead_verdicts::created_at.eq(at),
                )
            })
            .collect();
        crate::per_backend!(&mut *conn, c => diesel::insert_into(lead_verdicts::table).values(&values).execute(c))?;
    }
    Ok(())
}

/// A lead's verdicts, oldest first: `(channel, verdict, reason, created_at)`.
pub fn for_lead(conn: &mut DbConn, lead_id: i64) -> QueryResult<Vec<(String, String, String, NaiveDateTime)>> {
    lead_verdicts::table
        .filter(lead_verdicts::lead_id.eq(lead_id))
        .order(lead_verdicts::id)
        .select((lead_verdicts::channel, lead_verdicts::verdict, lead_verdicts::reason, lead_verdicts::created_at))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = verdict_uploads)]
pub struct Upload {
    pub id: i64,
    pub advertiser_id: i64,
    pub filename: String,
    /// The previewed rows (JSON).
    pub rows: String,
    /// The result of the apply (JSON), once applied.
    pub results: Option<String>,
    pub created_at: NaiveDateTime,
    pub applied_at: Option<NaiveDateTime>,
}

pub fn create_upload(conn: &mut DbConn, advertiser_id: i64, filename: &str, rows: &str) -> QueryResult<i64> {
    diesel::insert_into(verdict_uploads::table)
        .values((
            verdict_uploads::advertiser_id.eq(advertiser_id),
            verdict_uploads::filename.eq(filename),
            verdict_uploads::rows.eq(rows),
            verdict_uploads::created_at.eq(now()),
        ))
        .returning(verdict_uploads::id)
        .get_result(conn)
}

/// The advertiser's upload (never another's).
pub fn find_upload(conn: &mut DbConn, advertiser_id: i64, id: i64) -> QueryResult<Option<Upload>> {
    verdict_uploads::table
        .find(id)
        .filter(verdict_uploads::advertiser_id.eq(advertiser_id))
        .select(Upload::as_select())
        .first(conn)
        .optional()
}

/// Mark an upload applied with its results; `false` if it was applied already.
pub fn finish_upload(conn: &mut DbConn, id: i64, results: &str) -> QueryResult<bool> {
    let n = diesel::update(verdict_uploads::table.find(id).filter(verdict_uploads::applied_at.is_null()))
        .set((verdict_uploads::results.eq(Some(results)), verdict_uploads::applied_at.eq(Some(now()))))
        .execute(conn)?;
    Ok(n == 1)
}

/// How a verdict names its lead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadRef {
    Id(i64),
    /// The advertiser's transaction id, on one offer (`Some`) or any of its offers.
    Txid {
        txid: String,
        offer_id: Option<i64>,
    },
    /// The click and, when given, the event, on one offer.
    Click {
        click_id: String,
        event: Option<String>,
        offer_id: i64,
    },
}

/// The ids (at most two) of `advertiser_id`'s leads that `r` names.
pub fn lead_ids(conn: &mut DbConn, advertiser_id: i64, r: &LeadRef) -> QueryResult<Vec<i64>> {
    use crate::db::schema::leads::dsl as l;
    Ok(match r {
        LeadRef::Id(id) => {
            l::leads.filter(l::id.eq(id)).filter(l::advertiser_id.eq(advertiser_id)).select(l::id).load(conn)?
        }
        LeadRef::Txid { txid, offer_id } => {
            let mut q = l::leads
                .filter(l::advertiser_id.eq(advertiser_id))
                .filter(l::txid.eq(txid))
                .select(l::id)
                .limit(2)
                .into_boxed();
            if let Some(o) = offer_id {
                q = q.filter(l::offer_id.eq(o));
            }
            q.load(conn)?
        }
        LeadRef::Click { click_id, event, offer_id } => {
            let mut q = l::leads
                .filter(l::advertiser_id.eq(advertiser_id))
                .filter(l::offer_id.eq(offer_id))
                .filter(l::click_id.eq(click_id))
                .select(l::id)
                .limit(2)
                .into_boxed();
            if let Some(e) = event {
                q = q.filter(l::event.eq(e));
            }
            q.load(conn)?
        }
    })
}
