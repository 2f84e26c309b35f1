//! The double-entry ledger (DESIGN §8). Every money event is one transaction whose
//! entries sum to zero, written by the caller's database transaction together with
//! the state change it pays for. `ledger_balances` keeps a running balance per
//! account so that a debit can be made conditional ("never below zero") in SQL.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{ledger_balances, ledger_entries, ledger_transactions};
use crate::store::now;

pub use crate::domain::lifecycle::{
    EXTERNAL, PLATFORM_FEES, Transfer, advertiser_account as advertiser, escrow_account as escrow,
    publisher_account as publisher,
};

/// What a ledger transaction is for.
pub struct Posting<'a> {
    pub kind: &'a str,
    pub lead_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub memo: &'a str,
}

/// Why a posting was refused.
#[derive(Debug)]
pub enum PostError {
    /// The named account would go below zero.
    Insufficient(String),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for PostError {
    fn from(e: diesel::result::Error) -> Self {
        PostError::Db(e)
    }
}

/// Accounts that may never go below zero: what an advertiser has and what is held
/// for it (DESIGN §8). `external` and the platform's fee account can go negative
/// (money that entered, fees returned by a reversal), and so can a publisher's,
/// when an approved lead is reversed after its payout was withdrawn: the clawback
/// is owed and comes out of the next earnings.
fn must_stay_positive(account: &str) -> bool {
    account.starts_with("advertiser:") || account.starts_with("escrow:")
}

/// Write one balanced transaction: the entries of each transfer (−from, +to) and
/// the running balances. Zero-amount transfers are left out; a transaction with no
/// money in it writes nothing and returns `None`. Balances change once per account,
/// by its net amount, in account-name order: every writer (intake, settlement, the
/// actions of people) takes balance rows in that order, so none can deadlock.
pub fn post(conn: &mut DbConn, posting: &Posting, transfers: &[Transfer]) -> Result<Option<i64>, PostError> {
    let mut net = std::collections::BTreeMap::new();
    add_net(&mut net, transfers);
    if net.is_empty() {
        return Ok(None);
    }
    let at = now();
    for (account, delta) in net.into_iter().filter(|(_, d)| *d != 0) {
        change_balance(conn, &account, delta, delta < 0 && must_stay_positive(&account), at)?;
    }
    // `record` leaves zero-amount transfers out as well.
    Ok(Some(record(conn, posting, transfers, at)?))
}

/// Write a transaction and its entries (−from, +to per transfer) without touching
/// the running balances: for callers that change those themselves, under a lock
/// (see [`lock_balance`]), such as the intake batch.
pub fn record(conn: &mut DbConn, posting: &Posting, transfers: &[Transfer], at: NaiveDateTime) -> QueryResult<i64> {
    let tx_id: i64 = diesel::insert_into(ledger_transactions::table)
        .values((
            ledger_transactions::kind.eq(posting.kind),
            ledger_transactions::lead_id.eq(posting.lead_id),
            ledger_transactions::actor_id.eq(posting.actor_id),
            ledger_transactions::memo.eq(posting.memo),
            ledger_transactions::created_at.eq(at),
        ))
        .returning(ledger_transactions::id)
        .get_result(conn)?;
    let mut rows = Vec::with_capacity(transfers.len() * 2);
    push_entries(&mut rows, tx_id, transfers, at);
    crate::per_backend!(conn, c => diesel::insert_into(ledger_entries::table).values(&rows).execute(c))?;
    Ok(tx_id)
}

/// An entry row, as inserted.
type EntryRow = (
    diesel::dsl::Eq<ledger_entries::transaction_id, i64>,
    diesel::dsl::Eq<ledger_entries::account, String>,
    diesel::dsl::Eq<ledger_entries::amount_minor, i64>,
    diesel::dsl::Eq<ledger_entries::created_at, NaiveDateTime>,
);

/// The lines of a transaction's transfers, in order: −amount on `from`, then
/// +amount on `to`, for each transfer that moves anything.
fn transfer_lines(transfers: &[Transfer]) -> impl Iterator<Item = (&String, i64)> {
    transfers.iter().filter(|t| t.amount != 0).flat_map(|t| [(&t.from, -t.amount), (&t.to, t.amount)])
}

/// The entries of a transaction's transfers (see [`transfer_lines`]).
fn push_entries(rows: &mut Vec<EntryRow>, tx_id: i64, transfers: &[Transfer], at: NaiveDateTime) {
    for (account, amount) in transfer_lines(transfers) {
        rows.push((
            ledger_entries::transaction_id.eq(tx_id),
            ledger_entries::account.eq(account.clone()),
            ledger_entries::amount_minor.eq(amount),
            ledger_entries::created_at.eq(at),
        ));
    }
}

/// Write one transaction per lead (kind, lead id, transfers) with its entries, in
/// a few multi-row INSERTs (PostgreSQL: one prepared statement, [`PgLedgerBatch`]);
/// balances are the caller's, as with [`record`]. Each lead appears once in `items`.
pub fn record_many(
    conn: &mut DbConn,
    kind: &str,
    memo: &str,
    items: &[(i64, Vec<Transfer>)],
    at: NaiveDateTime,
) -> QueryResult<()> {
    if let DbConn::Postgres(c) = conn {
        if items.is_empty() {
            return Ok(());
        }
        let batch = PgLedgerBatch::new(kind, memo, items, at);
        let expected = batch.entry_lead.len();
        let n = batch.execute(c)?;
        return crate::store::all_rows_in("ledger_entries", expected, n);
    }
    for chunk in items.chunks(500) {
        let txs: Vec<_> = chunk
            .iter()
            .map(|(lead_id, _)| {
                (
                    ledger_transactions::kind.eq(kind),
                    ledger_transactions::lead_id.eq(Some(*lead_id)),
                    ledger_transactions::actor_id.eq(None::<i64>),
                    ledger_transactions::memo.eq(memo),
                    ledger_transactions::created_at.eq(at),
                )
            })
            .collect();
        let ids: Vec<(i64, Option<i64>)> =
            crate::bulk_insert!(&mut *conn, ledger_transactions::table, &txs, |c, insert| insert
                .returning((ledger_transactions::id, ledger_transactions::lead_id))
                .get_results(c))?;
        crate::store::all_rows_in("ledger_transactions", chunk.len(), ids.len())?;
        let by_lead: std::collections::HashMap<i64, i64> =
            ids.into_iter().filter_map(|(tx, lead)| lead.map(|l| (l, tx))).collect();
        let mut rows = Vec::new();
        for (lead_id, transfers) in chunk {
            let tx_id = by_lead.get(lead_id).copied().ok_or(diesel::result::Error::NotFound)?;
            push_entries(&mut rows, tx_id, transfers, at);
        }
        for part in rows.chunks(2000) {
            let n = crate::bulk_insert!(&mut *conn, ledger_entries::table, part, |c, insert| insert.execute(c))?;
            crate::store::all_rows_in("ledger_entries", part.len(), n)?;
        }
    }
    Ok(())
}

/// Many leads' transactions and their entries as one PostgreSQL statement of fixed
/// text: the transactions `unnest`ed from the lead ids, the entries from arrays and
/// joined to their transaction by lead id (each lead once: a repeated one would
/// double its entries, which the count check refuses). Prepared once per
/// connection, unlike a multi-row INSERT of a new size, which is parsed and
/// planned for every batch.
struct PgLedgerBatch<'a> {
    kind: &'a str,
    memo: &'a str,
    at: NaiveDateTime,
    leads: Vec<i64>,
    entry_lead: Vec<i64>,
    entry_account: Vec<&'a str>,
    entry_amount: Vec<i64>,
}

impl<'a> PgLedgerBatch<'a> {
    fn new(kind: &'a str, memo: &'a str, items: &'a [(i64, Vec<Transfer>)], at: NaiveDateTime) -> PgLedgerBatch<'a> {
        let mut b = PgLedgerBatch {
            kind,
            memo,
            at,
            leads: items.iter().map(|(lead, _)| *lead).collect(),
            entry_lead: Vec::new(),
            entry_account: Vec::new(),
            entry_amount: Vec::new(),
        };
        for (lead, transfers) in items {
            for (account, amount) in transfer_lines(transfers) {
                b.entry_lead.push(*lead);
                b.entry_account.push(account);
                b.entry_amount.push(amount);
            }
        }
        b
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgLedgerBatch<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, BigInt, Text, Timestamp};
        out.push_sql("WITH t AS (INSERT INTO ledger_transactions (kind, lead_id, actor_id, memo, created_at) SELECT ");
        out.push_bind_param::<Text, _>(self.kind)?;
        out.push_sql(", lead, NULL::bigint, ");
        out.push_bind_param::<Text, _>(self.memo)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.leads)?;
        out.push_sql(
            ") AS u (lead) RETURNING id, lead_id) \
             INSERT INTO ledger_entries (transaction_id, account, amount_minor, created_at) SELECT t.id, e.account, e.amount, ",
        );
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" FROM t JOIN unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.entry_lead)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.entry_account)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.entry_amount)?;
        // In the arrays' order (each transaction's debit, then its credit), as the
        // multi-row INSERT stored them: a statement lists a transaction's lines together.
        out.push_sql(") WITH ORDINALITY AS e (lead, account, amount, n) ON e.lead = t.lead_id ORDER BY e.n");
        Ok(())
    }
}

impl diesel::query_builder::QueryId for PgLedgerBatch<'_> {
    type QueryId = PgLedgerBatch<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Conn> RunQueryDsl<Conn> for PgLedgerBatch<'_> {}

/// Read an account's balance and hold it until the transaction ends (`FOR UPDATE`
/// on PostgreSQL; an SQLite write transaction holds the whole database). The row is
/// created at zero when the account is new (one statement when it exists, as it
/// almost always does: a round trip less per account for every intake batch).
pub fn lock_balance(conn: &mut DbConn, account: &str) -> QueryResult<i64> {
    use ledger_balances::dsl as b;
    let locked = |conn: &mut DbConn| {
        let q = b::ledger_balances.filter(b::account.eq(account)).select(b::balance_minor);
        match conn {
            DbConn::Postgres(c) => q.for_update().first(c).optional(),
            DbConn::Sqlite(c) => q.first(c).optional(),
        }
    };
    if let Some(balance) = locked(conn)? {
        return Ok(balance);
    }
    create_at_zero(conn, &[account])?;
    locked(conn)?.ok_or(diesel::result::Error::NotFound)
}

/// Create balance rows at zero for accounts that have none, in one statement. A
/// process that creates one of them meanwhile makes this insert wait for its commit
/// and then do nothing for that account; a read after it sees that process's row.
fn create_at_zero(conn: &mut DbConn, accounts: &[&str]) -> QueryResult<()> {
    use ledger_balances::dsl as b;
    let at = now();
    let rows: Vec<_> =
        accounts.iter().map(|a| (b::account.eq(*a), b::balance_minor.eq(0_i64), b::updated_at.eq(at))).collect();
    crate::per_backend!(&mut *conn, c => diesel::insert_into(b::ledger_balances)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Add what `transfers` do to each account (−from, +to) to `net`, the per-account
/// change that [`post`] and [`apply_net`] apply in account-name order.
pub fn add_net(net: &mut std::collections::BTreeMap<String, i64>, transfers: &[Transfer]) {
    debug_assert!(transfers.iter().all(|t| t.amount >= 0), "a transfer moves a positive amount");
    for (account, amount) in transfer_lines(transfers) {
        *net.entry(account.clone()).or_default() += amount;
    }
}

/// Apply net changes to running balances (creating accounts on their first money),
/// in account-name order like every other writer; for callers that wrote the
/// entries with [`record_many`] and whose debits cannot overdraw (settlement takes
/// from escrow exactly what intake put there).
pub fn apply_net(conn: &mut DbConn, net: &std::collections::BTreeMap<String, i64>) -> QueryResult<()> {
    let at = now();
    for (account, delta) in net.iter().filter(|(_, d)| **d != 0) {
        change_balance(conn, account, *delta, false, at).map_err(|e| match e {
            PostError::Db(e) => e,
            PostError::Insufficient(a) => {
                diesel::result::Error::QueryBuilderError(format!("{a} would overdraw").into())
            }
        })?;
    }
    Ok(())
}

/// [`lock_balance`] for several accounts, given in name order (the order every
/// writer locks balance rows in): one statement when they all exist.
///
/// On PostgreSQL the rows are locked in byte order of their names (`COLLATE "C"`),
/// the order of Rust's string comparison that [`post`] and [`apply_net`] follow,
/// whatever the database's collation. Accounts without a row yet (a new
/// advertiser's first batch) are created together at zero and then locked, while
/// the rows found stay held: if another transaction is creating one of the same
/// accounts at that moment, the insert waits for it out of name order, and a
/// deadlock there is detected by PostgreSQL and the batch retried.
pub fn lock_balances(conn: &mut DbConn, accounts: &[String]) -> QueryResult<Vec<(String, i64)>> {
    use ledger_balances::dsl as b;
    debug_assert!(accounts.windows(2).all(|w| w[0] < w[1]), "balance rows are locked once each, in name order");
    let locked = |conn: &mut DbConn, names: &[String]| -> QueryResult<Vec<(String, i64)>> {
        let q = b::ledger_balances.filter(b::account.eq_any(names)).select((b::account, b::balance_minor));
        match conn {
            DbConn::Postgres(c) => {
                q.order(diesel::dsl::sql::<diesel::sql_types::Text>("account COLLATE \"C\"")).for_update().load(c)
            }
            DbConn::Sqlite(c) => q.order(b::account).load(c),
        }
    };
    let found = locked(conn, accounts)?;
    if found.len() == accounts.len() {
        return Ok(found);
    }
    let missing: Vec<String> = accounts.iter().filter(|a| !found.iter().any(|(f, _)| f == *a)).cloned().collect();
    create_at_zero(conn, &missing.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut all = found;
    all.extend(locked(conn, &missing)?);
    if all.len() != accounts.len() {
        return Err(diesel::result::Error::NotFound);
    }
    all.sort_unstable();
    Ok(all)
}

/// Sum of an account's entries, all of them or only those below entry `below`.
pub fn entries_sum(conn: &mut DbConn, account: &str, below: Option<i64>) -> QueryResult<i64> {
    let mut q = ledger_entries::table
        .filter(ledger_entries::account.eq(account.to_string()))
        .select(crate::store::sum_bigint("amount_minor"))
        .into_boxed();
    if let Some(b) = below {
        q = q.filter(ledger_entries::id.lt(b));
    }
    Ok(q.first::<Option<i64>>(conn)?.unwrap_or(0))
}

/// The latest deposits: (transaction, account, amount, memo, actor, when).
pub type DepositLine = (i64, String, i64, String, Option<i64>, NaiveDateTime);

/// The latest `limit` deposits, newest first.
pub fn recent_deposits(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<DepositLine>> {
    ledger_entries::table
        .inner_join(ledger_transactions::table)
        .filter(ledger_transactions::kind.eq("deposit"))
        .filter(ledger_entries::amount_minor.gt(0))
        .order(ledger_entries::id.desc())
        .limit(limit)
        .select((
            ledger_entries::transaction_id,
            ledger_entries::account,
            ledger_entries::amount_minor,
            ledger_transactions::memo,
            ledger_transactions::actor_id,
            ledger_entries::created_at,
        ))
        .load(conn)
}

/// Date a transaction and its entries `at` (the demo's backdated history).
pub fn backdate(conn: &mut DbConn, transaction_id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(ledger_transactions::table.find(transaction_id))
        .set(ledger_transactions::created_at.eq(at))
        .execute(conn)?;
    diesel::update(ledger_entries::table.filter(ledger_entries::transaction_id.eq(transaction_id)))
        .set(ledger_entries::created_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Add to running balances (the caller checked the limits under [`lock_balance`]
/// and holds the rows): one statement on PostgreSQL, one per account on SQLite.
pub fn add_to_balances(conn: &mut DbConn, changes: &[(String, i64)]) -> QueryResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let DbConn::Postgres(c) = conn else {
        return changes.iter().try_for_each(|(account, delta)| add_to_balance(conn, account, *delta));
    };
    use diesel::sql_types::{Array, BigInt, Text, Timestamp};
    let (accounts, deltas): (Vec<&str>, Vec<i64>) = changes.iter().map(|(a, d)| (a.as_str(), *d)).unzip();
    let n = diesel::sql_query(
        "UPDATE ledger_balances SET balance_minor = ledger_balances.balance_minor + d.delta, updated_at = $3 \
         FROM unnest($1, $2) AS d (account, delta) WHERE ledger_balances.account = d.account",
    )
    .bind::<Array<Text>, _>(&accounts)
    .bind::<Array<BigInt>, _>(&deltas)
    .bind::<Timestamp, _>(now())
    .execute(c)?;
    crate::store::all_rows_in("ledger_balances", changes.len(), n)
}

/// Add to a running balance (the caller checked the limits under [`lock_balance`]).
pub fn add_to_balance(conn: &mut DbConn, account: &str, delta: i64) -> QueryResult<()> {
    use ledger_balances::dsl as b;
    diesel::update(b::ledger_balances.filter(b::account.eq(account)))
        .set((b::balance_minor.eq(b::balance_minor + delta), b::updated_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

/// Add `delta` to an account's running balance. With `guard`, refuse (and change
/// nothing) when the balance would go below zero: one conditional UPDATE, which
/// PostgreSQL re-checks under the row lock, so concurrent debits cannot overdraw.
fn change_balance(
    conn: &mut DbConn,
    account: &str,
    delta: i64,
    guard: bool,
    at: NaiveDateTime,
) -> Result<(), PostError> {
    use ledger_balances::dsl as b;
    let target = b::ledger_balances.filter(b::account.eq(account));
    let updated = if guard {
        diesel::update(target.filter(b::balance_minor.ge(-delta)))
            .set((b::balance_minor.eq(b::balance_minor + delta), b::updated_at.eq(at)))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((b::balance_minor.eq(b::balance_minor + delta), b::updated_at.eq(at)))
            .execute(conn)?
    };
    if updated == 1 {
        return Ok(());
    }
    if guard && delta < 0 {
        return Err(PostError::Insufficient(account.to_string()));
    }
    // First money ever on this account. Another process that created it a moment
    // ago makes this an addition to its row (an upsert: on PostgreSQL a failed
    // insert would have aborted the transaction, so there is no retry after one).
    use diesel::upsert::excluded;
    crate::per_backend!(&mut *conn, c => diesel::insert_into(b::ledger_balances)
        .values((b::account.eq(account), b::balance_minor.eq(delta), b::updated_at.eq(at)))
        .on_conflict(b::account)
        .do_update()
        .set((b::balance_minor.eq(b::balance_minor + excluded(b::balance_minor)), b::updated_at.eq(excluded(b::updated_at))))
        .execute(c))?;
    Ok(())
}

/// An account's balance (0 for an account that never moved).
pub fn balance(conn: &mut DbConn, account: &str) -> QueryResult<i64> {
    Ok(ledger_balances::table
        .filter(ledger_balances::account.eq(account))
        .select(ledger_balances::balance_minor)
        .first::<i64>(conn)
        .optional()?
        .unwrap_or(0))
}

/// One ledger line, for statements.
#[derive(Debug, Clone, Queryable)]
pub struct Line {
    pub entry_id: i64,
    pub transaction_id: i64,
    pub kind: String,
    pub lead_id: Option<i64>,
    pub memo: String,
    pub amount_minor: i64,
    pub created_at: NaiveDateTime,
}

/// The latest lines of one account, newest first.
pub fn lines(conn: &mut DbConn, account: &str, limit: i64) -> QueryResult<Vec<Line>> {
    ledger_entries::table
        .inner_join(ledger_transactions::table)
        .filter(ledger_entries::account.eq(account))
        .order(ledger_entries::id.desc())
        .limit(limit)
        .select((
            ledger_entries::id,
            ledger_entries::transaction_id,
            ledger_transactions::kind,
            ledger_transactions::lead_id,
            ledger_transactions::memo,
            ledger_entries::amount_minor,
            ledger_entries::created_at,
        ))
        .load(conn)
}

/// An account's statement, newest first, below entry `before` when paging: one line
/// per transaction, the entries that transaction made on the account summed. So an
/// advertiser's escrow shows a lead's price leaving it when the lead is approved,
/// never its split into the publisher's payout and the platform fee (nor does a
/// reversal or an upheld contest show the split on the advertiser's balance).
/// Returns the lines and the `before` of the next page, when there may be one.
pub fn statement_lines(
    conn: &mut DbConn,
    account: &str,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Line>, Option<i64>)> {
    use ledger_entries as e;
    use ledger_transactions as t;
    let query = || {
        e::table
            .inner_join(t::table)
            .filter(e::account.eq(account.to_string()))
            .order(e::id.desc())
            .select((e::id, e::transaction_id, t::kind, t::lead_id, t::memo, e::amount_minor, e::created_at))
            .into_boxed()
    };
    let mut page = query().limit(limit);
    if let Some(b) = before {
        page = page.filter(e::id.lt(b));
    }
    let mut raw: Vec<Line> = page.load(conn)?;
    let full = raw.len() as i64 == limit;
    if let Some(last) = raw.last().cloned() {
        // The last transaction's other entries on this account, past the page's end.
        let rest: Vec<Line> =
            query().filter(e::transaction_id.eq(last.transaction_id)).filter(e::id.lt(last.entry_id)).load(conn)?;
        raw.extend(rest);
    }
    let next = if full { raw.last().map(|l| l.entry_id) } else { None };
    Ok((merge_transactions(raw), next))
}

/// Sum adjacent lines of one transaction into one (keeping the newest entry's id).
pub fn merge_transactions(raw: Vec<Line>) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::with_capacity(raw.len());
    for l in raw {
        match out.last_mut() {
            Some(prev) if prev.transaction_id == l.transaction_id => prev.amount_minor += l.amount_minor,
            _ => out.push(l),
        }
    }
    out
}

/// The ledger's invariants (DESIGN §8), as an admin or a test reads them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Health {
    pub balanced: bool,
    /// Transactions whose entries do not sum to zero.
    pub unbalanced_transactions: i64,
    /// Sum of all running balances (must be 0).
    pub balances_sum: i64,
    /// Accounts whose running balance differs from the sum of their entries.
    pub drifted_accounts: Vec<String>,
    /// Advertiser or escrow accounts below zero.
    pub negative_accounts: Vec<String>,
    /// Advertisers whose escrow differs from the price sum of their undecided leads.
    pub escrow_mismatches: Vec<i64>,
    pub transactions: i64,
}

pub fn health(conn: &mut DbConn) -> QueryResult<Health> {
    let sums: Vec<(i64, Option<i64>)> = ledger_entries::table
        .group_by(ledger_entries::transaction_id)
        .select((ledger_entries::transaction_id, crate::store::sum_bigint("amount_minor")))
        .load(conn)?;
    let unbalanced = sums.iter().filter(|(_, s)| s.unwrap_or(0) != 0).count() as i64;
    let balances: Vec<(String, i64)> =
        ledger_balances::table.select((ledger_balances::account, ledger_balances::balance_minor)).load(conn)?;
    let per_account: Vec<(String, Option<i64>)> = ledger_entries::table
        .group_by(ledger_entries::account)
        .select((ledger_entries::account, crate::store::sum_bigint("amount_minor")))
        .load(conn)?;
    let entries: std::collections::HashMap<String, i64> =
        per_account.into_iter().map(|(a, s)| (a, s.unwrap_or(0))).collect();
    let mut drifted = Vec::new();
    let mut negative = Vec::new();
    for (account, bal) in &balances {
        if entries.get(account).copied().unwrap_or(0) != *bal {
            drifted.push(account.clone());
        }
        if must_stay_positive(account) && *bal < 0 {
            negative.push(account.clone());
        }
    }
    for account in entries.keys() {
        if !balances.iter().any(|(a, _)| a == account) {
            drifted.push(account.clone());
        }
    }
    let balances_sum: i64 = balances.iter().map(|(_, b)| b).sum();
    let escrow_mismatches = crate::store::leads::escrow_mismatches(conn, &balances)?;
    Ok(Health {
        balanced: unbalanced == 0
            && balances_sum == 0
            && drifted.is_empty()
            && negative.is_empty()
            && escrow_mismatches.is_empty(),
        unbalanced_transactions: unbalanced,
        balances_sum,
        drifted_accounts: drifted,
        negative_accounts: negative,
        escrow_mismatches,
        transactions: sums.len() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_batch_of_any_size_is_the_same_postgres_statement_with_two_entries_a_transfer() {
        let at = chrono::NaiveDateTime::default();
        let items: Vec<(i64, Vec<Transfer>)> = (1..=50)
            .map(|lead| (lead, vec![Transfer::new("advertiser:1", "escrow:1", lead), Transfer::new("a", "b", 0)]))
            .collect();
        let one = PgLedgerBatch::new("k", "m", &items[..1], at);
        let many = PgLedgerBatch::new("k", "m", &items, at);
        assert_eq!(crate::store::leads::tests::sql_of(&one), crate::store::leads::tests::sql_of(&many));
        // A transfer of zero writes no entries; every other one a debit and a credit.
        assert_eq!(many.leads.len(), 50);
        assert_eq!(many.entry_lead.len(), 100);
        assert_eq!(many.entry_amount.iter().sum::<i64>(), 0, "the entries balance");
        assert_eq!((many.entry_account[0], many.entry_amount[0]), ("advertiser:1", -1));
        assert_eq!((many.entry_account[1], many.entry_amount[1]), ("escrow:1", 1));
    }
}
