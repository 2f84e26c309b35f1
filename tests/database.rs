//! The database layer: both backends end with the same tables and columns.

mod common;

use common::{Backend, TestDb};
use diesel::prelude::*;
use diesel::sql_types::Text;
use qualead::db;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    nullable: String,
}

fn columns(backend: Backend) -> Vec<Column> {
    let test_db = TestDb::new(backend);
    let pool = db::connect(&test_db.url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    let applied = db::migrate(&mut conn).expect("migrations apply");
    assert!(!applied.is_empty());
    assert!(db::migrate(&mut conn).expect("second run").is_empty(), "migrations are idempotent");
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, \
             CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'NO' ELSE 'YES' END AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, is_nullable::text AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let mut cols: Vec<Column> = diesel::sql_query(sql).load(&mut *conn).expect("columns");
    cols.sort();
    cols
}

fn postgres_and_sqlite_have_the_same_tables_and_columns() {
    let sqlite = columns(Backend::Sqlite);
    let postgres = columns(Backend::Postgres);
    assert!(sqlite.iter().any(|c| c.table_name == "users" && c.column_name == "email"));
    let only_sqlite: Vec<_> = sqlite.iter().filter(|c| !postgres.contains(c)).collect();
    let only_postgres: Vec<_> = postgres.iter().filter(|c| !sqlite.contains(c)).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
}

mod postgres {
    #[test]
    #[ignore = "PostgreSQL suite: cargo test -- --ignored postgres::"]
    fn schema_parity() {
        super::postgres_and_sqlite_have_the_same_tables_and_columns();
    }

    #[test]
    #[ignore = "PostgreSQL suite: cargo test -- --ignored postgres::"]
    fn a_refused_bulk_row_fails_the_batch() {
        super::a_row_refused_in_a_bulk_insert_fails_the_batch(super::Backend::Postgres);
    }
}

#[test]
fn sqlite_runs_in_wal_mode_with_foreign_keys() {
    let test_db = TestDb::new(Backend::Sqlite);
    let pool = db::connect(&test_db.url, 2).expect("pool");
    let mut conn = pool.get().expect("conn");
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        foreign_keys: i32,
    }
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode").get_result(&mut *conn).expect("mode");
    assert_eq!(mode.journal_mode, "wal");
    let fk: Fk = diesel::sql_query("PRAGMA foreign_keys").get_result(&mut *conn).expect("fk");
    assert_eq!(fk.foreign_keys, 1);
}

/// Two new leads of one offer with one dedupe key, as a batch of intake would write
/// them (on SQLite on a connection without foreign-key checks, like the intake
/// writer's, where the bulk insert runs `OR IGNORE`): the insert fails and the
/// transaction keeps nothing, as a refused row always did.
fn a_row_refused_in_a_bulk_insert_fails_the_batch(backend: Backend) {
    use qualead::store::leads::{self, NewLead};
    let test_db = TestDb::new(backend);
    let pool = db::connect(&test_db.url, 1).expect("pool");
    db::migrate(&mut pool.get().expect("conn")).expect("migrate");
    let body = qualead::domain::offer::OfferBody {
        name: "Roofs".into(),
        category: "home".into(),
        landing_url: "https://land.example/".into(),
        payout_model: "cpl".into(),
        price: Some("10.00".into()),
        ..Default::default()
    };
    let m = common::seed_market(&test_db.url, &body, qualead::store::offers::MembershipStatus::Approved, 0);
    let mut conn = pool.get().expect("conn");
    if backend == Backend::Sqlite {
        use diesel::connection::SimpleConnection;
        let db::DbConn::Sqlite(c) = &mut *conn else { unreachable!("a SQLite URL") };
        c.batch_execute("PRAGMA foreign_keys = OFF").expect("pragma");
    }
    let lead = |click: &str| NewLead {
        click_id: Some(click.into()),
        txid: Some("tx-1".into()),
        dedupe_key: "txid:tx-1".into(),
        ..common::new_lead(&m, m.publisher_id)
    };
    let outcome = conn.write_tx(|c| leads::insert_many(c, &[lead("clk-a"), lead("clk-b")]));
    assert!(outcome.is_err(), "a duplicate dedupe key in one bulk insert must fail it: {outcome:?}");
    let stored: i64 = qualead::db::schema::leads::table.count().get_result(&mut *conn).expect("count");
    assert_eq!(stored, 0, "the failed batch keeps no lead");
    // One of them goes in, with its history line.
    let ids = conn.write_tx(|c| leads::insert_many(c, &[lead("clk-a")])).expect("one lead");
    assert_eq!(ids.len(), 1);
    let events: i64 = qualead::db::schema::lead_events::table.count().get_result(&mut *conn).expect("count");
    assert_eq!(events, 1);
}

#[test]
fn a_refused_bulk_row_fails_the_batch_on_sqlite() {
    a_row_refused_in_a_bulk_insert_fails_the_batch(Backend::Sqlite);
}
