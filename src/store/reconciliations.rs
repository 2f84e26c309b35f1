//! Monthly reconciliation (DESIGN §8): the ledger read by month for one
//! advertiser, and `reconciliations` / `reconciliation_lines`, what the advertiser
//! decided about a month and the lines it disputed.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    disputes, leads, ledger_entries, ledger_transactions, offers, reconciliation_lines, reconciliations,
};
use crate::domain::reconciliation::{Balance, Movement};
use crate::store::ledger;
use crate::store::{now, sum_bigint};

/// The advertiser's ledger transactions in `[from, to)`, grouped by offer, kind and account.
pub fn movements(
    conn: &mut DbConn,
    advertiser_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Movement>> {
    let escrow = ledger::escrow(advertiser_id);
    let accounts = [ledger::advertiser(advertiser_id), escrow.clone()];
    // Postings about a lead, by offer: one row per transaction first (an account
    // has an entry per transfer, and a lead's fee is counted once per transaction),
    // then summed. Then the postings about no lead (deposits).
    let sql = |p: [&str; 4]| {
        format!(
            "SELECT offer_id, kind, account, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS amount, \
             CAST(SUM(fee) AS BIGINT) AS fee FROM (\
             SELECT l.offer_id AS offer_id, t.kind AS kind, e.account AS account, SUM(e.amount_minor) AS amount, \
             MAX(l.fee_minor) AS fee \
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
             JOIN leads l ON l.id = t.lead_id \
             WHERE e.account IN ({}, {}) AND e.created_at >= {} AND e.created_at < {} \
             GROUP BY e.transaction_id, l.offer_id, t.kind, e.account) x \
             GROUP BY offer_id, kind, account",
            p[0], p[1], p[2], p[3]
        )
    };
    use diesel::sql_types::{Text, Timestamp};
    let about_leads: Vec<LeadMovement> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql(["?", "?", "?", "?"]))
            .bind::<Text, _>(&accounts[0])
            .bind::<Text, _>(&accounts[1])
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .load(c)?,
        DbConn::Postgres(c) => diesel::sql_query(sql(["$1", "$2", "$3", "$4"]))
            .bind::<Text, _>(&accounts[0])
            .bind::<Text, _>(&accounts[1])
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(to)
            .load(c)?,
    };
    let about_leads: Vec<_> =
        about_leads.into_iter().map(|m| (m.offer_id, m.kind, m.account, m.n, m.amount, m.fee)).collect();
    let others: Vec<(String, String, i64, Option<i64>)> = ledger_entries::table
        .inner_join(ledger_transactions::table)
        .filter(ledger_transactions::lead_id.is_null())
        .filter(ledger_entries::account.eq_any(&accounts))
        .filter(ledger_entries::created_at.ge(from))
        .filter(ledger_entries::created_at.lt(to))
        .group_by((ledger_transactions::kind, ledger_entries::account))
        .select((
            ledger_transactions::kind,
            ledger_entries::account,
            diesel::dsl::count(ledger_entries::transaction_id).aggregate_distinct(),
            sum_bigint("ledger_entries.amount_minor"),
        ))
        .load(conn)?;
    let others = others.into_iter().map(|(kind, account, count, amount)| (None, kind, account, count, amount, None));
    Ok(about_leads
        .into_iter()
        .map(|(offer, kind, account, count, amount, fee)| (Some(offer), kind, account, count, amount, fee))
        .chain(others)
        .map(|(offer_id, kind, account, count, amount, fee)| Movement {
            offer_id,
            kind,
            escrow: account == escrow,
            count,
            amount: amount.unwrap_or(0),
            fee: fee.unwrap_or(0),
        })
        .collect())
}

/// A row of [`movements`]' query about leads.
#[derive(QueryableByName)]
struct LeadMovement {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    offer_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    account: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    amount: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    fee: Option<i64>,
}

/// The advertiser's balance (available, held) just before instant `at`: the sum of
/// its entries dated before `at`. Entries are never changed, so a past instant's
/// balance reads the same in every statement, whatever commits meanwhile.
pub fn balance_at(conn: &mut DbConn, advertiser_id: i64, at: NaiveDateTime) -> QueryResult<Balance> {
    let mut before = |account: String| -> QueryResult<i64> {
        let sum: Option<i64> = ledger_entries::table
            .filter(ledger_entries::account.eq(&account))
            .filter(ledger_entries::created_at.lt(at))
            .select(sum_bigint("amount_minor"))
            .first(conn)?;
        Ok(sum.unwrap_or(0))
    };
    Ok(Balance { available: before(ledger::advertiser(advertiser_id))?, held: before(ledger::escrow(advertiser_id))? })
}

/// The names of the advertiser's offers.
pub fn offer_names(conn: &mut DbConn, advertiser_id: i64) -> QueryResult<BTreeMap<i64, String>> {
    Ok(offers::table
        .filter(offers::advertiser_id.eq(advertiser_id))
        .select((offers::id, offers::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// Leads the advertiser received in `[from, to)`: `(offer, status today, count)`.
pub fn received(
    conn: &mut DbConn,
    advertiser_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(i64, String, i64)>> {
    leads::table
        .filter(leads::advertiser_id.eq(advertiser_id))
        .filter(leads::created_at.ge(from))
        .filter(leads::created_at.lt(to))
        .group_by((leads::offer_id, leads::status))
        .select((leads::offer_id, leads::status, count_star()))
        .load(conn)
}

/// Returns and contests opened on the advertiser's leads in `[from, to)`: `(offer, kind, count)`.
pub fn opened(
    conn: &mut DbConn,
    advertiser_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<(i64, String, i64)>> {
    disputes::table
        .inner_join(leads::table)
        .filter(leads::advertiser_id.eq(advertiser_id))
        .filter(disputes::created_at.ge(from))
        .filter(disputes::created_at.lt(to))
        .group_by((disputes::offer_id, disputes::kind))
        .select((disputes::offer_id, disputes::kind, count_star()))
        .load(conn)
}

/// Whether any money moved on the advertiser's accounts in `[from, to)`.
pub fn had_activity(
    conn: &mut DbConn,
    advertiser_id: i64,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        ledger_entries::table
            .filter(ledger_entries::account.eq_any([ledger::advertiser(advertiser_id), ledger::escrow(advertiser_id)]))
            .filter(ledger_entries::created_at.ge(from))
            .filter(ledger_entries::created_at.lt(to)),
    ))
    .get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reconciliations)]
pub struct Reconciliation {
    pub id: i64,
    pub advertiser_id: i64,
    pub month: String,
    /// `confirmed`, `disputed` or `resolved`.
    pub status: String,
    pub closing_minor: i64,
    /// The statement as the advertiser saw it when it decided (JSON).
    pub snapshot: String,
    pub decided_by: Option<i64>,
    pub decided_at: NaiveDateTime,
    /// The admin's note when it resolved a dispute.
    pub note: String,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reconciliation_lines)]
pub struct DisputedLine {
    pub id: i64,
    pub reconciliation_id: i64,
    pub line: String,
    pub comment: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, advertiser_id: i64, month: &str) -> QueryResult<Option<Reconciliation>> {
    reconciliations::table
        .filter(reconciliations::advertiser_id.eq(advertiser_id))
        .filter(reconciliations::month.eq(month))
        .select(Reconciliation::as_select())
        .first(conn)
        .optional()
}

/// The advertiser's decided months, newest first.
pub fn for_advertiser(conn: &mut DbConn, advertiser_id: i64) -> QueryResult<Vec<Reconciliation>> {
    reconciliations::table
        .filter(reconciliations::advertiser_id.eq(advertiser_id))
        .order(reconciliations::month.desc())
        .select(Reconciliation::as_select())
        .load(conn)
}

/// Every reconciliation of the given months, and every disputed one of any month.
pub fn of_months_or_disputed(conn: &mut DbConn, months: &[String]) -> QueryResult<Vec<Reconciliation>> {
    reconciliations::table
        .filter(reconciliations::month.eq_any(months).or(reconciliations::status.eq("disputed")))
        .order((reconciliations::month.desc(), reconciliations::advertiser_id))
        .select(Reconciliation::as_select())
        .load(conn)
}

pub fn lines(conn: &mut DbConn, reconciliation_id: i64) -> QueryResult<Vec<DisputedLine>> {
    reconciliation_lines::table
        .filter(reconciliation_lines::reconciliation_id.eq(reconciliation_id))
        .order(reconciliation_lines::id)
        .select(DisputedLine::as_select())
        .load(conn)
}

/// Disputed lines per reconciliation.
pub fn line_counts(conn: &mut DbConn, ids: &[i64]) -> QueryResult<BTreeMap<i64, i64>> {
    Ok(reconciliation_lines::table
        .filter(reconciliation_lines::reconciliation_id.eq_any(ids))
        .group_by(reconciliation_lines::reconciliation_id)
        .select((reconciliation_lines::reconciliation_id, count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Record the advertiser's decision about a month. A second decision for the same
/// month is a unique violation (the caller checks first, in the same transaction).
pub fn insert(
    conn: &mut DbConn,
    advertiser_id: i64,
    month: &str,
    status: &str,
    closing_minor: i64,
    snapshot: &str,
    by: i64,
) -> QueryResult<i64> {
    diesel::insert_into(reconciliations::table)
        .values((
            reconciliations::advertiser_id.eq(advertiser_id),
            reconciliations::month.eq(month),
            reconciliations::status.eq(status),
            reconciliations::closing_minor.eq(closing_minor),
            reconciliations::snapshot.eq(snapshot),
            reconciliations::decided_by.eq(Some(by)),
            reconciliations::decided_at.eq(now()),
        ))
        .returning(reconciliations::id)
        .get_result(conn)
}

pub fn add_line(conn: &mut DbConn, reconciliation_id: i64, line: &str, comment: &str) -> QueryResult<()> {
    diesel::insert_into(reconciliation_lines::table)
        .values((
            reconciliation_lines::reconciliation_id.eq(reconciliation_id),
            reconciliation_lines::line.eq(line),
            reconciliation_lines::comment.eq(comment),
            reconciliation_lines::created_at.eq(now()),
        ))
        .execute(conn)
        .map(drop)
}

/// Keep a month disputed while a line is added: 0 rows when it is not disputed any
/// more (an admin resolved it meanwhile). On PostgreSQL the update waits for, and
/// re-reads, a concurrent resolution.
pub fn still_disputed(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let n = diesel::update(
        reconciliations::table.filter(reconciliations::id.eq(id)).filter(reconciliations::status.eq("disputed")),
    )
    .set(reconciliations::status.eq("disputed"))
    .execute(conn)?;
    Ok(n == 1)
}

/// The reconciliations with these ids (for the advertisers of disputed months).
pub fn advertisers_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<crate::store::users::User>> {
    use crate::db::schema::users;
    users::table.filter(users::id.eq_any(ids)).select(crate::store::users::User::as_select()).load(conn)
}

/// Mark a disputed month resolved; 0 rows when it is not disputed (any more).
pub fn resolve(conn: &mut DbConn, id: i64, note: &str, by: i64) -> QueryResult<usize> {
    diesel::update(
        reconciliations::table.filter(reconciliations::id.eq(id)).filter(reconciliations::status.eq("disputed")),
    )
    .set((
        reconciliations::status.eq("resolved"),
        reconciliations::note.eq(note),
        reconciliations::resolved_by.eq(Some(by)),
        reconciliations::resolved_at.eq(Some(now())),
    ))
    .execute(conn)
}
