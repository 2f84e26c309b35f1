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

    #[test]
    #[ignore = "PostgreSQL suite: cargo test -- --ignored postgres::"]
    fn bulk_leads_and_ledger_lines_are_stored_in_order() {
        super::bulk_leads_and_ledger_lines_keep_their_order(super::Backend::Postgres);
    }

    #[test]
    #[ignore = "PostgreSQL suite: cargo test -- --ignored postgres::"]
    fn balances_are_locked_in_name_order_and_new_ones_created() {
        super::balances_lock_in_name_order_and_new_accounts_start_at_zero(super::Backend::Postgres);
    }

    /// The pool's connections to a server on this machine are plain, even where libpq's
    /// default would wrap them in TLS (the CI server has TLS switched on).
    #[test]
    #[ignore = "PostgreSQL suite: cargo test -- --ignored postgres::"]
    fn loopback_connections_skip_tls() {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Ssl {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            ssl: bool,
        }
        let test_db = super::TestDb::new(super::Backend::Postgres);
        if qualead::db::loopback_without_tls(&test_db.url) == test_db.url {
            eprintln!("note: the test server is not on loopback (or its URL decides TLS): nothing to check");
            return;
        }
        let pool = qualead::db::connect(&test_db.url, 1).expect("pool");
        let mut conn = pool.get().expect("conn");
        let qualead::db::DbConn::Postgres(c) = &mut *conn else { unreachable!("a PostgreSQL URL") };
        let mine = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
        let with_default = {
            let mut plain = diesel::PgConnection::establish(&test_db.url).expect("libpq default");
            diesel::sql_query(mine).get_result::<Ssl>(&mut plain).expect("ssl").ssl
        };
        let pooled = diesel::sql_query(mine).get_result::<Ssl>(c).expect("ssl").ssl;
        if !with_default {
            eprintln!("note: this PostgreSQL server does not offer TLS, so the check below cannot fail here");
        }
        assert!(!pooled, "a loopback pool connection is not wrapped in TLS");
    }
}

/// A migrated database with an approved CPL offer (10.00), its pool and market.
fn market(backend: Backend) -> (TestDb, db::DbPool, common::Market) {
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
    let m = common::Market::of(&body).seed(&test_db.url);
    (test_db, pool, m)
}

/// Leads written in one batch, then one ledger transaction per lead: each lead's
/// history line, a transaction per lead in the batch's order, and each transfer's
/// debit and credit next to each other in that order (a statement lists them so);
/// a zero transfer writes no lines.
fn bulk_leads_and_ledger_lines_keep_their_order(backend: Backend) {
    use qualead::db::schema::{lead_events, ledger_entries, ledger_transactions};
    use qualead::store::leads::{self, NewLead};
    use qualead::store::ledger::{self, Transfer};
    let (_db, pool, m) = market(backend);
    let mut conn = pool.get().expect("conn");
    let rows: Vec<NewLead> = (1..=40)
        .map(|n| NewLead {
            txid: Some(format!("tx-{n}")),
            dedupe_key: format!("txid:tx-{n}"),
            ..common::new_lead(&m, m.publisher_id)
        })
        .collect();
    let at = qualead::store::now();
    let ids = conn
        .write_tx(|c| {
            let stored = leads::insert_many(c, &rows)?;
            let mut by_key: Vec<(String, i64)> = stored.iter().map(|(id, _, key)| (key.clone(), *id)).collect();
            by_key.sort_by_key(|(_, id)| *id);
            let items: Vec<(i64, Vec<Transfer>)> = by_key
                .iter()
                .enumerate()
                .map(|(i, (_, id))| {
                    let amount = if i == 3 { 0 } else { 100 + i as i64 };
                    (
                        *id,
                        vec![
                            Transfer::new("advertiser:9", "escrow:9", amount),
                            Transfer::new("escrow:9", "platform:fees", 7),
                        ],
                    )
                })
                .collect();
            ledger::record_many(c, "lead_accepted", "test", &items, at)?;
            diesel::QueryResult::Ok(by_key.into_iter().map(|(_, id)| id).collect::<Vec<i64>>())
        })
        .expect("batch");
    assert_eq!(ids.len(), 40);
    let events: i64 =
        lead_events::table.filter(lead_events::lead_id.eq_any(&ids)).count().get_result(&mut *conn).expect("events");
    assert_eq!(events, 40, "every lead has its first history line");

    let txs: Vec<(i64, Option<i64>)> = ledger_transactions::table
        .filter(ledger_transactions::lead_id.eq_any(&ids))
        .order(ledger_transactions::id)
        .select((ledger_transactions::id, ledger_transactions::lead_id))
        .load(&mut *conn)
        .expect("transactions");
    assert_eq!(txs.iter().map(|(_, lead)| lead.expect("a lead")).collect::<Vec<_>>(), ids, "one per lead, in order");
    let tx_ids: Vec<i64> = txs.iter().map(|(id, _)| *id).collect();
    let lines: Vec<(i64, String, i64)> = ledger_entries::table
        .filter(ledger_entries::transaction_id.eq_any(&tx_ids))
        .order(ledger_entries::id)
        .select((ledger_entries::transaction_id, ledger_entries::account, ledger_entries::amount_minor))
        .load(&mut *conn)
        .expect("entries");
    let mut expected = Vec::new();
    for (i, (tx, _)) in txs.iter().enumerate() {
        if i != 3 {
            expected.push((*tx, "advertiser:9".to_string(), -(100 + i as i64)));
            expected.push((*tx, "escrow:9".to_string(), 100 + i as i64));
        }
        expected.push((*tx, "escrow:9".to_string(), -7));
        expected.push((*tx, "platform:fees".to_string(), 7));
    }
    assert_eq!(lines, expected);
}

#[test]
fn bulk_leads_and_ledger_lines_are_stored_in_order_on_sqlite() {
    bulk_leads_and_ledger_lines_keep_their_order(Backend::Sqlite);
}

/// Also the memory a connection may hold: reads go through the memory map, and the
/// page cache stays at SQLite's default 2 MB (16 connections at 16 MB each put the
/// server's peak memory near its 150 MB target; docs/perf-log/stop-24.md).
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
    #[derive(QueryableByName)]
    struct Cache {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        cache_size: i64,
    }
    #[derive(QueryableByName)]
    struct Mmap {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }
    let cache: Cache = diesel::sql_query("PRAGMA cache_size").get_result(&mut *conn).expect("cache");
    assert_eq!(cache.cache_size, -2000, "a 2 MB page cache per connection (negative: KiB)");
    let mmap: Mmap = diesel::sql_query("PRAGMA mmap_size").get_result(&mut *conn).expect("mmap");
    // Asked for 8 GiB; SQLite caps it at the size it was built with (2 GiB here).
    assert!(mmap.mmap_size >= 1 << 30, "reads go through a memory map: {}", mmap.mmap_size);
}

/// Two new leads of one offer with one dedupe key, as a batch of intake would write
/// them (on SQLite on a connection without foreign-key checks, like the intake
/// writer's, where the bulk insert runs `OR IGNORE`): the insert fails and the
/// transaction keeps nothing, as a refused row always did.
fn a_row_refused_in_a_bulk_insert_fails_the_batch(backend: Backend) {
    use qualead::store::leads::{self, NewLead};
    let (_db, pool, m) = market(backend);
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

/// Locking balances: existing rows with their values, missing ones created at zero
/// (once, even when asked again), every one returned in name order, and a name
/// order that is byte order (`Z` before `a`) whatever the database's collation.
fn balances_lock_in_name_order_and_new_accounts_start_at_zero(backend: Backend) {
    use qualead::db::schema::ledger_balances;
    use qualead::store::ledger;
    let test_db = TestDb::new(backend);
    let pool = db::connect(&test_db.url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    db::migrate(&mut conn).expect("migrate");
    conn.write_tx(|c| {
        ledger::lock_balance(c, "advertiser:7")?;
        ledger::add_to_balance(c, "advertiser:7", 5_000)?;
        Ok::<_, diesel::result::Error>(())
    })
    .expect("seed");
    let mut accounts: Vec<String> =
        ["advertiser:7", "escrow:7", "Zeta:1", "advertiser:8"].iter().map(|a| a.to_string()).collect();
    accounts.sort_unstable();
    let locked = conn.write_tx(|c| ledger::lock_balances(c, &accounts)).expect("lock");
    assert_eq!(
        locked,
        vec![
            ("Zeta:1".to_string(), 0),
            ("advertiser:7".to_string(), 5_000),
            ("advertiser:8".to_string(), 0),
            ("escrow:7".to_string(), 0),
        ],
        "every account, in byte order, new ones at zero"
    );
    let again = conn.write_tx(|c| ledger::lock_balances(c, &accounts)).expect("lock again");
    assert_eq!(again, locked, "a second lock finds the same rows");
    let rows: i64 = ledger_balances::table.count().get_result(&mut *conn).expect("count");
    assert_eq!(rows, 4, "each new account was created once");
}

#[test]
fn balances_are_locked_in_name_order_and_new_ones_created_on_sqlite() {
    balances_lock_in_name_order_and_new_accounts_start_at_zero(Backend::Sqlite);
}
