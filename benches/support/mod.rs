//! What the benchmarks share: the real server binary on a database, waiting for it,
//! and a throw-away PostgreSQL database for a run.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};

/// Start the `qualead` binary on `db_url`, bound to `port`, with `extra` variables.
pub fn start_qualead(db_url: &str, data: &std::path::Path, port: u16, extra: &[(&str, &str)]) -> Child {
    // `QUALEAD_BENCH_BIN` runs another build (a saved binary, to compare two commits).
    let bin = std::env::var("QUALEAD_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_qualead").to_string());
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("QUALEAD_DATA_DIR", data)
        .env("QUALEAD_BIND", format!("127.0.0.1:{port}"))
        .env("QUALEAD_SECRET_KEY", "5c".repeat(64))
        .env("RUST_LOG", "warn")
        .current_dir(data)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    // Tuning knobs given to the benchmark reach the server.
    for k in [
        "QUALEAD_CLICK_WRITERS",
        "QUALEAD_WORKERS",
        "QUALEAD_DB_POOL_SIZE",
        "QUALEAD_LINK_CACHE_SECS",
        "QUALEAD_WRITER_LINGER_US",
        "QUALEAD_CLICK_WRITER_NICE",
    ] {
        if let Ok(v) = std::env::var(k) {
            cmd.env(k, v);
        }
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start qualead")
}

/// Wait until the server on `port` answers `/healthz`.
pub async fn wait_healthy(port: u16) {
    for _ in 0..400 {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("qualead did not start");
}

/// A fresh database on the PostgreSQL server of `QUALEAD_BENCH_POSTGRES_URL`, when
/// set: `run` gets its URL; the database is dropped afterwards.
pub async fn on_postgres<F, Fut>(prefix: &str, run: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Ok(admin) = std::env::var("QUALEAD_BENCH_POSTGRES_URL") else {
        return;
    };
    let name = format!("{prefix}_{}", std::process::id());
    let mut c = diesel::PgConnection::establish(&admin).expect("postgres");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut c).expect("create db");
    let mut url = url::Url::parse(&admin).expect("url");
    url.set_path(&name);
    run(url.to_string()).await;
    diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(&mut c).expect("drop db");
}

/// A kept database named `name` on the PostgreSQL server of
/// `QUALEAD_BENCH_POSTGRES_URL`, when set: its URL, and whether it was already there
/// (a later run can reuse what an earlier one filled; it is never dropped).
pub fn kept_postgres(name: &str) -> Option<(String, bool)> {
    let admin = std::env::var("QUALEAD_BENCH_POSTGRES_URL").ok()?;
    assert!(
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "a kept database's name is lowercase letters, digits and _: {name:?}"
    );
    let mut c = diesel::PgConnection::establish(&admin).expect("postgres");
    let existed = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result::<bool>(&mut c)
    .expect("pg_database");
    if !existed {
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).expect("create db");
    }
    let mut url = url::Url::parse(&admin).expect("url");
    url.set_path(name);
    Some((url.to_string(), existed))
}
