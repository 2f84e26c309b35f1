//! Leads and their history. A lead is created `pending` by intake (its price
//! reserved in the same transaction) and moves through the states of DESIGN §6;
//! every move is a `lead_events` row and a rollup change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{intake_rejections, lead_events, leads};
pub use crate::domain::lifecycle::LeadStatus;
use crate::store::rollups::{self, Delta, LeadMoney};

/// A stored lead: what intake wrote ([`NewLead`], read through `Deref`) and what
/// settlement and people add later.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = leads)]
pub struct Lead {
    pub id: i64,
    #[diesel(embed)]
    #[serde(flatten)]
    pub row: NewLead,
    pub reasons: String,
    pub score: Option<i32>,
    pub decided_at: Option<NaiveDateTime>,
    pub checks: String,
    pub disputed_from: Option<LeadStatus>,
    /// The shared lists (disposable domains) settlement judged it by.
    pub lists_version: String,
}

impl std::ops::Deref for Lead {
    type Target = NewLead;
    fn deref(&self) -> &NewLead {
        &self.row
    }
}

impl std::ops::DerefMut for Lead {
    fn deref_mut(&mut self) -> &mut NewLead {
        &mut self.row
    }
}

impl Lead {
    /// `row` as stored with `id`, before anything but intake touched it (the other
    /// columns hold their defaults).
    pub fn stored(id: i64, row: NewLead) -> Lead {
        Lead {
            id,
            row,
            reasons: "[]".into(),
            score: None,
            decided_at: None,
            checks: "[]".into(),
            disputed_from: None,
            lists_version: String::new(),
        }
    }
}

impl NewLead {
    pub fn money(&self) -> LeadMoney {
        LeadMoney { price: self.price_minor, payout: self.payout_minor, fee: self.fee_minor }
    }
    pub fn rollup_key(&self) -> rollups::Key {
        rollups::Key::at(
            self.created_at,
            self.offer_id,
            self.publisher_id,
            [&self.sub1, &self.sub2, &self.sub3, &self.sub4, &self.sub5],
            self.country.as_deref(),
        )
    }
}

impl Lead {
    pub fn fields_map(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&self.fields).unwrap_or_default()
    }
    pub fn reason_list(&self) -> Vec<String> {
        serde_json::from_str(&self.reasons).unwrap_or_default()
    }
}

/// `None` is stored as NULL (every optional column defaults to NULL anyway): with a
/// DEFAULT for a missing value, the statement's text would depend on which values
/// are missing, and on SQLite, which has no DEFAULT keyword, diesel would write a
/// batch as one differently worded statement per row.
#[derive(Debug, Clone, Default, Insertable, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = leads, treat_none_as_default_value = false)]
pub struct NewLead {
    pub offer_id: i64,
    pub publisher_id: i64,
    pub advertiser_id: i64,
    pub click_id: Option<String>,
    pub channel: String,
    pub event: String,
    pub txid: Option<String>,
    pub dedupe_key: String,
    pub status: LeadStatus,
    pub amount_minor: Option<i64>,
    pub price_minor: i64,
    pub fee_minor: i64,
    pub payout_minor: i64,
    pub fee_bps: i32,
    pub fields: String,
    pub consent: bool,
    pub sub1: String,
    pub sub2: String,
    pub sub3: String,
    pub sub4: String,
    pub sub5: String,
    pub source: String,
    pub country: Option<String>,
    pub ip: String,
    pub click_at: Option<NaiveDateTime>,
    pub hold_until: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email_norm: Option<String>,
    pub phone_norm: Option<String>,
    pub terms_id: Option<i64>,
}

/// Insert a new lead, its first history line and its rollup change; returns its id.
pub fn insert(conn: &mut DbConn, lead: &NewLead) -> QueryResult<i64> {
    let id = insert_row(conn, lead)?;
    let (key, delta) = created_delta(lead);
    rollups::add(conn, &key, delta)?;
    Ok(id)
}

/// Insert a new lead and its first history line, leaving the rollup change to the
/// caller (the intake batch adds all of its changes at once, in the same transaction).
pub fn insert_row(conn: &mut DbConn, lead: &NewLead) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(leads::table).values(lead).returning(leads::id).get_result(conn)?;
    add_event(conn, id, None, lead.status, None, "", "", lead.created_at)?;
    Ok(id)
}

/// Insert many new leads and their first history lines (PostgreSQL: one prepared
/// statement, [`PgLeadBatch`]; SQLite: a multi-row INSERT per chunk); returns
/// `(id, offer_id, dedupe_key)` of each, which identify them. The rollup changes
/// are the caller's.
pub fn insert_many(conn: &mut DbConn, rows: &[NewLead]) -> QueryResult<Vec<(i64, i64, String)>> {
    if let DbConn::Postgres(c) = conn {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let out: Vec<(i64, i64, String)> = PgLeadBatch::new(rows).get_results(c)?;
        crate::store::all_rows_in("leads", rows.len(), out.len())?;
        return Ok(out);
    }
    let mut out = Vec::with_capacity(rows.len());
    // 32 columns × 500 rows stays under SQLite's 32,766 bound parameters.
    for chunk in rows.chunks(500) {
        let ids: Vec<(i64, i64, String)> = crate::bulk_insert!(&mut *conn, leads::table, chunk, |c, insert| insert
            .returning((leads::id, leads::offer_id, leads::dedupe_key))
            .get_results(c))?;
        crate::store::all_rows_in("leads", chunk.len(), ids.len())?;
        out.extend(ids);
    }
    let events: Vec<_> = out.iter().zip(rows).map(|((id, _, _), row)| first_event(*id, row)).collect();
    add_events(conn, &events)?;
    Ok(out)
}

/// Declares the columns of [`PgLeadBatch`] once: the struct, its constructor and
/// the statement's column list and binds, in the same order.
macro_rules! pg_lead_batch {
    ($($col:ident: $rust:ty => $sql:ty),* $(,)?) => {
        /// New leads and their first history lines as one PostgreSQL statement of
        /// fixed text: each column as an array, `unnest`ed into `leads`, and the
        /// history lines inserted from what that returns. A multi-row INSERT of a
        /// new size is parsed, analysed and planned again for every batch (a fifth
        /// of the database's work for an intake batch); this text never changes, so
        /// the connection prepares it once and each batch only binds and runs.
        struct PgLeadBatch {
            $($col: Vec<$rust>,)*
        }

        impl PgLeadBatch {
            fn new(rows: &[NewLead]) -> PgLeadBatch {
                PgLeadBatch { $($col: rows.iter().map(|r| r.$col.clone()).collect(),)* }
            }
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgLeadBatch {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> QueryResult<()> {
                use diesel::sql_types::*;
                out.push_sql("WITH l AS (INSERT INTO leads (");
                out.push_sql(&[$(stringify!($col)),*].join(", "));
                out.push_sql(") SELECT * FROM unnest(");
                let mut first = true;
                $(
                    if !std::mem::take(&mut first) {
                        out.push_sql(", ");
                    }
                    out.push_bind_param::<Array<$sql>, _>(&self.$col)?;
                )*
                out.push_sql(
                    ") RETURNING id, offer_id, dedupe_key, status, created_at), \
                     e AS (INSERT INTO lead_events (lead_id, from_status, to_status, actor_id, reason, comment, created_at) \
                     SELECT id, NULL::text, status, NULL::bigint, '', '', created_at FROM l) \
                     SELECT id, offer_id, dedupe_key FROM l",
                );
                Ok(())
            }
        }
    };
}

pg_lead_batch! {
    offer_id: i64 => BigInt,
    publisher_id: i64 => BigInt,
    advertiser_id: i64 => BigInt,
    click_id: Option<String> => Nullable<Text>,
    channel: String => Text,
    event: String => Text,
    txid: Option<String> => Nullable<Text>,
    dedupe_key: String => Text,
    status: LeadStatus => Text,
    amount_minor: Option<i64> => Nullable<BigInt>,
    price_minor: i64 => BigInt,
    fee_minor: i64 => BigInt,
    payout_minor: i64 => BigInt,
    fee_bps: i32 => Integer,
    fields: String => Text,
    consent: bool => Bool,
    sub1: String => Text,
    sub2: String => Text,
    sub3: String => Text,
    sub4: String => Text,
    sub5: String => Text,
    source: String => Text,
    country: Option<String> => Nullable<Text>,
    ip: String => Text,
    click_at: Option<NaiveDateTime> => Nullable<Timestamp>,
    hold_until: NaiveDateTime => Timestamp,
    created_at: NaiveDateTime => Timestamp,
    updated_at: NaiveDateTime => Timestamp,
    email_norm: Option<String> => Nullable<Text>,
    phone_norm: Option<String> => Nullable<Text>,
    terms_id: Option<i64> => Nullable<BigInt>,
}

impl diesel::query_builder::QueryId for PgLeadBatch {
    type QueryId = PgLeadBatch;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for PgLeadBatch {
    type SqlType = (diesel::sql_types::BigInt, diesel::sql_types::BigInt, diesel::sql_types::Text);
}

impl<Conn> RunQueryDsl<Conn> for PgLeadBatch {}

/// The history line a new lead starts with.
fn first_event(lead_id: i64, lead: &NewLead) -> NewEvent {
    NewEvent {
        lead_id,
        from_status: None,
        to_status: lead.status,
        actor_id: None,
        reason: String::new(),
        comment: String::new(),
        created_at: lead.created_at,
    }
}

/// The rollup row and change of a new lead.
pub fn created_delta(lead: &NewLead) -> (rollups::Key, Delta) {
    (
        lead.rollup_key(),
        Delta { leads: 1, price_minor: lead.price_minor, ..Delta::status(lead.status, 1, lead.money()) },
    )
}

#[allow(clippy::too_many_arguments)]
fn add_event(
    conn: &mut DbConn,
    lead_id: i64,
    from: Option<LeadStatus>,
    to: LeadStatus,
    actor_id: Option<i64>,
    reason: &str,
    comment: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let row = NewEvent {
        lead_id,
        from_status: from,
        to_status: to,
        actor_id,
        reason: reason.to_string(),
        comment: comment.to_string(),
        created_at: at,
    };
    add_events(conn, std::slice::from_ref(&row))
}

/// A line of a lead's history (`lead_events`) to be written.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lead_events, treat_none_as_default_value = false)]
pub struct NewEvent {
    pub lead_id: i64,
    pub from_status: Option<LeadStatus>,
    pub to_status: LeadStatus,
    pub actor_id: Option<i64>,
    pub reason: String,
    pub comment: String,
    pub created_at: NaiveDateTime,
}

/// Write history lines in bulk (a thousand per statement).
pub fn add_events(conn: &mut DbConn, rows: &[NewEvent]) -> QueryResult<()> {
    for chunk in rows.chunks(1000) {
        let n = crate::bulk_insert!(&mut *conn, lead_events::table, chunk, |c, insert| insert.execute(c))?;
        crate::store::all_rows_in("lead_events", chunk.len(), n)?;
    }
    Ok(())
}

/// The leads with these ids (any order; ids that do not exist are skipped).
pub fn by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Lead>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(leads::table.filter(leads::id.eq_any(chunk)).select(Lead::as_select()).load(conn)?);
    }
    Ok(out)
}

/// Who moves a lead and why.
pub struct Move<'a> {
    pub actor_id: Option<i64>,
    pub reason: &'a str,
    pub comment: &'a str,
}

/// Move a lead from the status it was read in to `to`, only if it is still in it
/// (`false` when someone else moved it first): the history line and the rollup
/// change go with it. The caller checked the move against
/// [`crate::domain::lifecycle::transition`]; ledger postings are the caller's, in
/// the same transaction.
pub fn transition(conn: &mut DbConn, lead: &Lead, to: LeadStatus, why: &Move) -> QueryResult<bool> {
    let (at, from) = (crate::store::now(), lead.status);
    // A ruling that puts a disputed lead back where it was keeps its decision time
    // (and so its return window); every other decision is dated now.
    let decided = to.is_decision() && lead.disputed_from != Some(to);
    let n = diesel::update(leads::table.filter(leads::id.eq(lead.id)).filter(leads::status.eq(from)))
        .set((
            leads::status.eq(to),
            leads::updated_at.eq(at),
            leads::decided_at.eq(if decided { Some(at) } else { lead.decided_at }),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    add_event(conn, lead.id, Some(from), to, why.actor_id, why.reason, why.comment, at)?;
    rollups::add(conn, &lead.rollup_key(), Delta::transition(from, to, lead.money()))?;
    Ok(true)
}

/// A lead's status now.
pub fn status_of(conn: &mut DbConn, id: i64) -> QueryResult<LeadStatus> {
    leads::table.find(id).select(leads::status).first(conn)
}

pub fn advertiser_of(conn: &mut DbConn, id: i64) -> QueryResult<i64> {
    leads::table.find(id).select(leads::advertiser_id).first(conn)
}

/// The reason codes a decision gave the lead (JSON list).
pub fn set_reasons(conn: &mut DbConn, id: i64, reasons: &str) -> QueryResult<()> {
    diesel::update(leads::table.find(id)).set(leads::reasons.eq(reasons)).execute(conn).map(drop)
}

/// Remember where a lead came from as it enters a dispute (a ruling reads it).
pub fn set_disputed_from(conn: &mut DbConn, id: i64, from: LeadStatus) -> QueryResult<()> {
    diesel::update(leads::table.find(id)).set(leads::disputed_from.eq(Some(from))).execute(conn).map(drop)
}

/// Leads of an offer that were ever approved: approved, reversed, or disputed after
/// approval (what a maximum return rate is counted against).
pub fn approved_ever(conn: &mut DbConn, offer_id: i64) -> QueryResult<i64> {
    leads::table
        .filter(leads::offer_id.eq(offer_id))
        .filter(
            leads::status
                .eq_any([LeadStatus::Approved, LeadStatus::Reversed])
                .or(leads::status.eq(LeadStatus::Disputed).and(leads::disputed_from.eq(LeadStatus::Approved))),
        )
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Lead>> {
    leads::table.find(id).select(Lead::as_select()).first(conn).optional()
}

/// The lead an offer already has under a dedupe key (idempotency).
pub fn find_by_key(conn: &mut DbConn, offer_id: i64, dedupe_key: &str) -> QueryResult<Option<i64>> {
    leads::table
        .filter(leads::offer_id.eq(offer_id))
        .filter(leads::dedupe_key.eq(dedupe_key))
        .select(leads::id)
        .first(conn)
        .optional()
}

/// What duplicate checks need of a lead that came from a click.
#[derive(Debug, Clone, Queryable)]
pub struct ClickLead {
    pub id: i64,
    pub offer_id: i64,
    pub click_id: Option<String>,
    pub event: String,
    pub txid: Option<String>,
    pub dedupe_key: String,
}

/// Every lead of the given clicks (for a batch's duplicate checks, one query).
pub fn by_clicks(conn: &mut DbConn, click_ids: &[&str]) -> QueryResult<Vec<ClickLead>> {
    let mut out = Vec::new();
    for chunk in click_ids.chunks(500) {
        out.extend(
            leads::table
                .filter(leads::click_id.eq_any(chunk))
                .order(leads::id)
                .select((leads::id, leads::offer_id, leads::click_id, leads::event, leads::txid, leads::dedupe_key))
                .load::<ClickLead>(conn)?,
        );
    }
    Ok(out)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    leads::table.count().get_result(conn)
}

pub fn count_for_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<i64> {
    leads::table.filter(leads::offer_id.eq(offer_id)).count().get_result(conn)
}

/// A lead's history, oldest first.
#[derive(Debug, Clone, Queryable, serde::Serialize)]
pub struct Event {
    pub from_status: Option<LeadStatus>,
    pub to_status: LeadStatus,
    pub actor_id: Option<i64>,
    pub reason: String,
    pub comment: String,
    pub created_at: NaiveDateTime,
}

pub fn history(conn: &mut DbConn, lead_id: i64) -> QueryResult<Vec<Event>> {
    lead_events::table
        .filter(lead_events::lead_id.eq(lead_id))
        .order(lead_events::id)
        .select((
            lead_events::from_status,
            lead_events::to_status,
            lead_events::actor_id,
            lead_events::reason,
            lead_events::comment,
            lead_events::created_at,
        ))
        .load(conn)
}

/// The statuses whose price is still held in escrow.
pub const UNDECIDED: [LeadStatus; 1] = [LeadStatus::Pending];

/// Advertisers whose escrow balance is not the price sum of their undecided leads.
pub fn escrow_mismatches(conn: &mut DbConn, balances: &[(String, i64)]) -> QueryResult<Vec<i64>> {
    let held: Vec<(i64, Option<i64>)> = leads::table
        .filter(leads::status.eq_any(UNDECIDED))
        .group_by(leads::advertiser_id)
        .select((leads::advertiser_id, crate::store::sum_bigint("price_minor")))
        .load(conn)?;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (advertiser_id, sum) in held {
        seen.insert(advertiser_id);
        let escrow = balances
            .iter()
            .find(|(a, _)| *a == crate::domain::lifecycle::escrow_account(advertiser_id))
            .map(|(_, b)| *b)
            .unwrap_or(0);
        if escrow != sum.unwrap_or(0) {
            out.push(advertiser_id);
        }
    }
    for (account, balance) in balances {
        if let Some(id) = account.strip_prefix("escrow:").and_then(|s| s.parse::<i64>().ok())
            && !seen.contains(&id)
            && *balance != 0
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// A conversion refused at intake, kept so the publisher can see why.
pub struct Rejection<'a> {
    pub offer_id: i64,
    pub publisher_id: i64,
    pub click_id: Option<&'a str>,
    pub channel: &'a str,
    pub event: &'a str,
    pub txid: Option<&'a str>,
    pub reason: &'a str,
    pub sub1: &'a str,
    pub at: NaiveDateTime,
}

/// Record a refusal; the rollup change is the caller's.
pub fn record_rejection(conn: &mut DbConn, r: &Rejection) -> QueryResult<(rollups::Key, Delta)> {
    diesel::insert_into(intake_rejections::table)
        .values((
            intake_rejections::offer_id.eq(r.offer_id),
            intake_rejections::publisher_id.eq(r.publisher_id),
            intake_rejections::click_id.eq(r.click_id),
            intake_rejections::channel.eq(r.channel),
            intake_rejections::event.eq(r.event),
            intake_rejections::txid.eq(r.txid),
            intake_rejections::reason.eq(r.reason),
            intake_rejections::created_at.eq(r.at),
        ))
        .execute(conn)?;
    let key = rollups::Key::at(r.at, r.offer_id, r.publisher_id, [r.sub1, "", "", "", ""], None);
    Ok((key, Delta { intake_rejected: 1, ..Delta::default() }))
}

/// Refused conversions of a publisher, newest first: (offer, click, channel, event, reason, when).
pub type RejectionRow = (i64, Option<String>, String, String, String, NaiveDateTime);

pub fn rejections_for_publisher(conn: &mut DbConn, publisher_id: i64, limit: i64) -> QueryResult<Vec<RejectionRow>> {
    intake_rejections::table
        .filter(intake_rejections::publisher_id.eq(publisher_id))
        .order(intake_rejections::id.desc())
        .limit(limit)
        .select((
            intake_rejections::offer_id,
            intake_rejections::click_id,
            intake_rejections::channel,
            intake_rejections::event,
            intake_rejections::reason,
            intake_rejections::created_at,
        ))
        .load(conn)
}

pub fn rejections_count(conn: &mut DbConn) -> QueryResult<i64> {
    intake_rejections::table.count().get_result(conn)
}

/// Read a lead and hold its row until the transaction ends (`FOR UPDATE` on
/// PostgreSQL; an SQLite write transaction holds the whole database). Actions on a
/// lead take this first, then balances, then rollups — the order settlement uses.
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<Option<Lead>> {
    match conn {
        DbConn::Postgres(c) => leads::table.find(id).select(Lead::as_select()).for_update().first(c).optional(),
        DbConn::Sqlite(c) => leads::table.find(id).select(Lead::as_select()).first(c).optional(),
    }
}

/// Which leads a list shows; the role's scope is added by the caller.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Filter {
    pub offer_id: Option<i64>,
    pub status: Option<LeadStatus>,
    pub advertiser_id: Option<i64>,
    pub publisher_id: Option<i64>,
    /// Only leads whose stored checks failed the scrub rule of this code.
    pub failed_rule: Option<String>,
    /// Only leads with an id below this (the next page).
    pub before_id: Option<i64>,
    pub limit: Option<i64>,
}

/// A `LIKE` pattern (escape character `\`) matching the stored checks (`checks`, a
/// JSON list of [`crate::domain::scrub::Check`] as settlement writes it) that hold
/// the rule `code`'s check: any outcome, or (`failed`) a failed one.
pub fn check_pattern(code: &str, failed: bool) -> String {
    let code: String = code
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    if failed { format!("%{{\"code\":\"{code}\",\"passed\":false,%") } else { format!("%{{\"code\":\"{code}\",%") }
}

/// Leads matching `filter`, newest first (at most 500).
pub fn list(conn: &mut DbConn, filter: &Filter) -> QueryResult<Vec<Lead>> {
    let mut q = leads::table.select(Lead::as_select()).order(leads::id.desc()).into_boxed();
    if let Some(o) = filter.offer_id {
        q = q.filter(leads::offer_id.eq(o));
    }
    if let Some(s) = filter.status {
        q = q.filter(leads::status.eq(s));
    }
    if let Some(a) = filter.advertiser_id {
        q = q.filter(leads::advertiser_id.eq(a));
    }
    if let Some(p) = filter.publisher_id {
        q = q.filter(leads::publisher_id.eq(p));
    }
    if let Some(code) = &filter.failed_rule {
        q = q.filter(leads::checks.like(check_pattern(code, true)).escape('\\'));
    }
    if let Some(b) = filter.before_id {
        q = q.filter(leads::id.lt(b));
    }
    q.limit(filter.limit.unwrap_or(100).clamp(1, 500)).load(conn)
}

/// What a publisher's pending leads would pay it.
pub fn pending_payout_of(conn: &mut DbConn, publisher_id: i64) -> QueryResult<i64> {
    // The status as a literal, so SQLite can use the partial index of pending leads.
    let pending = format!("status = '{}'", LeadStatus::Pending.as_str());
    let sum: Option<i64> = leads::table
        .filter(leads::publisher_id.eq(publisher_id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&pending))
        .select(crate::store::sum_bigint("payout_minor"))
        .first(conn)?;
    Ok(sum.unwrap_or(0))
}

/// How many leads there are in each status.
pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(LeadStatus, i64)>> {
    leads::table.group_by(leads::status).select((leads::status, diesel::dsl::count_star())).load(conn)
}

/// How many leads are in `status`.
pub fn count_in(conn: &mut DbConn, status: LeadStatus) -> QueryResult<i64> {
    leads::table.filter(leads::status.eq(status)).count().get_result(conn)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The SQL of a statement, without its bound values.
    pub(crate) fn sql_of<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>>(q: &Q) -> String {
        let text = diesel::debug_query::<diesel::pg::Pg, _>(q).to_string();
        text.split(" -- binds:").next().unwrap_or_default().to_string()
    }

    #[test]
    fn check_patterns_match_the_checks_as_settlement_writes_them() {
        use crate::domain::scrub::Check;
        let checks = serde_json::to_string(&[
            Check { code: "datacenter_ip".into(), passed: false, detail: "in a hosting range (AWS)".into() },
            Check { code: "relay".into(), passed: true, detail: "not a privacy relay, \"x\"".into() },
        ])
        .expect("json");
        // `LIKE` as both databases read it: `%` any text, `\` escapes the next character.
        fn like(pattern: &str, text: &str) -> bool {
            let mut re = String::from("^");
            let mut chars = pattern.chars();
            while let Some(c) = chars.next() {
                match c {
                    '%' => re.push_str(".*"),
                    '_' => re.push('.'),
                    '\\' => re.push_str(&regex::escape(&chars.next().map(String::from).unwrap_or_default())),
                    c => re.push_str(&regex::escape(&c.to_string())),
                }
            }
            regex::Regex::new(&(re + "$")).expect("re").is_match(text)
        }
        assert!(like(&check_pattern("datacenter_ip", true), &checks));
        assert!(like(&check_pattern("datacenter_ip", false), &checks));
        assert!(like(&check_pattern("relay", false), &checks));
        assert!(!like(&check_pattern("relay", true), &checks), "relay passed");
        assert!(!like(&check_pattern("datacenterXip", false), &checks), "the underscore is a letter, not a wildcard");
        assert!(!like(&check_pattern("duplicate_click", false), &checks));
        assert_eq!(check_pattern("a_b", true), r#"%{"code":"a\_b","passed":false,%"#);
    }

    #[test]
    fn a_lead_batch_of_any_size_is_the_same_postgres_statement() {
        let lead = |n: i64| NewLead { offer_id: n, dedupe_key: format!("k{n}"), ..NewLead::default() };
        let one = sql_of(&PgLeadBatch::new(&[lead(1)]));
        let many = sql_of(&PgLeadBatch::new(&(1..=300).map(lead).collect::<Vec<_>>()));
        assert_eq!(one, many, "the text must not depend on the batch size (it is prepared once)");
        // Every column of NewLead is bound once, as an array.
        assert_eq!(one.matches('$').count(), 31, "{one}");
        assert!(one.contains("INSERT INTO lead_events"), "{one}");
    }
}
