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
