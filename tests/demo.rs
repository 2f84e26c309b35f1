//! `qualead demo` with the real binary: it fills an empty database with a marketplace
//! whose ledger balances and whose rollups agree with the raw events, prints the
//! logins, and refuses (changing nothing) to run on a database that has accounts.

mod common;

use std::process::{Command, Output};

use common::{Backend, TestDb};
use diesel::prelude::*;
use qualead::db::schema::{leads, ledger_transactions, offers, users};
use qualead::store::{clicks, ledger, rollups};

fn demo(db_url: &str, data_dir: &std::path::Path, clicks: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qualead"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("QUALEAD_DATA_DIR", data_dir)
        .env("QUALEAD_BASE_URL", "http://demo.example:8080")
        .env("RUST_LOG", "warn")
        .current_dir(data_dir)
        .args(["demo", "--clicks", clicks])
        .output()
        .expect("run qualead demo")
}

/// Rows in the tables a demo writes: accounts, offers, clicks, leads, ledger transactions.
fn counts(conn: &mut qualead::db::DbConn) -> [i64; 5] {
    [
        users::table.count().get_result(conn).expect("users"),
        offers::table.count().get_result(conn).expect("offers"),
        clicks::count(conn).expect("clicks"),
        leads::table.count().get_result(conn).expect("leads"),
        ledger_transactions::table.count().get_result(conn).expect("ledger"),
    ]
}

async fn demo_fills_an_empty_database_once(backend: Backend) {
    let db = TestDb::new(backend);
    let data = tempfile::tempdir().expect("tmp");
    let out = demo(&db.url, data.path(), "2000");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    // The logins and where to use them.
    assert!(stdout.contains("http://demo.example:8080/login"), "{stdout}");
    for login in ["admin@demo.qualead.test", "sunpeak@demo.qualead.test", "publisher@demo.qualead.test"] {
        let line = stdout.lines().find(|l| l.contains(login)).unwrap_or_else(|| panic!("{login} in:\n{stdout}"));
        assert!(line.contains("demo-password"), "{line}");
    }

    let pool = qualead::db::connect(&db.url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    let conn: &mut qualead::db::DbConn = &mut conn;

    let roles: Vec<(String, i64)> =
        users::table.group_by(users::role).select((users::role, diesel::dsl::count_star())).load(conn).expect("roles");
    for (role, n) in [("admin", 1), ("advertiser", 3), ("publisher", 5)] {
        assert!(roles.contains(&(role.to_string(), n)), "{roles:?}");
    }
    let states: Vec<(String, String)> =
        offers::table.select((offers::status, offers::payout_model)).load(conn).expect("offers");
    for status in ["active", "paused", "pending_review", "draft"] {
        assert!(states.iter().any(|(s, _)| s == status), "an offer {status}: {states:?}");
    }
    for model in ["cpl", "cpa", "cps"] {
        assert!(states.iter().any(|(_, m)| m == model), "a {model} offer: {states:?}");
    }

    // Leads in every state of DESIGN §6.
    let by_status: Vec<(String, i64)> = leads::table
        .group_by(leads::status)
        .select((leads::status, diesel::dsl::count_star()))
        .load(conn)
        .expect("leads");
    for status in ["pending", "approved", "rejected", "disputed", "reversed"] {
        assert!(by_status.iter().any(|(s, n)| s == status && *n > 0), "leads {status}: {by_status:?}");
    }

    // Raw clicks and the rollups agree; so do the lead states.
    assert_eq!(clicks::count(conn).expect("clicks"), 2000);
    let offer_ids: Vec<i64> = offers::table.select(offers::id).load(conn).expect("ids");
    let mut totals = rollups::Delta::default();
    for id in &offer_ids {
        totals += rollups::offer_totals(conn, *id).expect("rollups");
    }
    assert_eq!(totals.clicks, 2000, "{totals:?}");
    let raw = |status: &str| by_status.iter().find(|(s, _)| s == status).map(|(_, n)| *n).unwrap_or(0);
    assert_eq!(totals.leads, by_status.iter().map(|(_, n)| n).sum::<i64>(), "{totals:?}");
    assert_eq!(
        (totals.pending, totals.approved, totals.rejected, totals.disputed, totals.reversed),
        (raw("pending"), raw("approved"), raw("rejected"), raw("disputed"), raw("reversed")),
        "rollups {totals:?} against leads {by_status:?}"
    );

    let health = ledger::health(conn).expect("health");
    assert!(health.balanced, "{health:?}");
    let before = counts(conn);

    // A second run refuses with one clear line, and changes nothing.
    let again = demo(&db.url, data.path(), "2000");
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already has 9 accounts") && stderr.contains("empty database"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(counts(conn), before);
}

both_backends!(demo_fills_an_empty_database_once);

#[test]
fn demo_refuses_too_few_clicks_before_touching_the_database() {
    let data = tempfile::tempdir().expect("tmp");
    let out = demo("sqlite://db.sqlite", data.path(), "10");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--clicks"));
    assert!(!data.path().join("db.sqlite").exists());
}
