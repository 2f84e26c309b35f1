//! Diesel queries, one file per aggregate. Every function takes a `&mut DbConn` so
//! callers decide the transaction; none of them does I/O beyond the database.

pub mod api_keys;
pub mod audit;
pub mod balance_alerts;
pub mod caps;
pub mod clicks;
pub mod disposable;
pub mod disputes;
pub mod leads;
pub mod ledger;
pub mod offers;
pub mod outbox;
pub mod payouts;
pub mod postbacks;
pub mod reconciliations;
pub mod reports;
pub mod revisions;
pub mod rollups;
pub mod sessions;
pub mod settings;
pub mod settlement;
pub mod source_blocks;
pub mod terms;
pub mod test_conversions;
pub mod tokens;
pub mod topups;
pub mod users;
pub mod verdict_stats;
pub mod verdicts;
pub mod webhooks;

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// The current UTC time at the precision both backends store (microseconds).
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Whether a diesel error is a unique-key violation (a duplicate insert).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(e, diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
}

/// The bulk inserts of an intake batch (leads, their history, ledger lines) run
/// `INSERT OR IGNORE` on SQLite. Inside a transaction, a statement that may abort
/// after writing some rows keeps a *statement journal* (the original of every page
/// it changes, so that it alone can be undone): any NOT NULL, UNIQUE or immediate
/// foreign-key check makes a multi-row INSERT, or one into an AUTOINCREMENT table,
/// such a statement. Under `OR IGNORE`, on the intake writer's connection (no
/// foreign-key checks, see `tracking::intake`), none is. A row that a constraint
/// would have refused is left out instead: this check turns that into the error the
/// statement would have raised, and the batch's transaction rolls back as before.
///
/// [`bulk_insert!`](crate::bulk_insert) writes such an insert for both backends.
pub fn all_rows_in(table: &str, expected: usize, inserted: usize) -> diesel::QueryResult<()> {
    if inserted == expected {
        return Ok(());
    }
    Err(diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new(format!("{table}: {inserted} of {expected} rows inserted; a constraint refused the others")),
    ))
}

/// `SUM(column)` of a BIGINT money column as a 64-bit integer on both backends
/// (diesel's `sum` of a BIGINT is NUMERIC on PostgreSQL). `column` is a column
/// name of this crate's schema, never user input.
pub fn sum_bigint(
    column: &'static str,
) -> diesel::expression::SqlLiteral<diesel::sql_types::Nullable<diesel::sql_types::BigInt>> {
    diesel::dsl::sql(&format!("CAST(SUM({column}) AS BIGINT)"))
}

/// A round trip to the database (the health check).
pub fn ping(conn: &mut crate::db::DbConn) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn).map(drop)
}
