//! The database layer: one connection type over SQLite and PostgreSQL, a pool,
//! and the migrations of both backends embedded in the binary.

pub mod schema;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Run the same diesel expression on whichever backend a connection is, for the
/// few statements `MultiConnection` cannot express (batch inserts, upserts):
/// `per_backend!(conn, c => diesel::insert_into(t).values(rows).execute(c))`.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Postgres($c) => $body,
        }
    };
}

/// A bulk insert of an intake batch: `INSERT OR IGNORE` on SQLite, a plain INSERT
/// on PostgreSQL (see [`crate::store::all_rows_in`], which the caller runs on what
/// came back). `$stmt` is the insert with its values, `$run` what to do with it on
/// the backend's connection `$c`.
#[macro_export]
macro_rules! bulk_insert {
    ($conn:expr, $table:expr, $values:expr, |$c:ident, $stmt:ident| $run:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => {
                let $stmt = diesel::insert_or_ignore_into($table).values($values);
                $run
            }
            $crate::db::DbConn::Postgres($c) => {
                let $stmt = diesel::insert_into($table).values($values);
                $run
            }
        }
    };
}

/// Which engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("sqlite://") || url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else {
            None
        }
    }
}

/// The path of an SQLite database named by `sqlite://path` (or `sqlite:path`).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

pub type DbPool = Pool<ConnectionManager<DbConn>>;
pub type PooledDb = PooledConnection<ConnectionManager<DbConn>>;

/// The settings a pool's connections start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// Pages, the API, the click writers and the background workers.
    Shared,
    /// The intake writer's own connection (a pool of its own, so these settings
    /// never reach a shared connection).
    ///
    /// PostgreSQL: every read of an intake batch is a lookup by key (a click id, a
    /// lead's click, an offer, a balance row). The planner, pricing pages as if read
    /// from disk, prefers scanning a table of a few hundred pages to a few dozen index
    /// probes, and keeps a prepared statement's plan from when `leads` was small until
    /// autovacuum analyses it: a batch then read every lead. The writer's session
    /// therefore plans without sequential scans wherever an index serves.
    ///
    /// SQLite: no foreign-key checks, so that the batch's bulk inserts need no
    /// statement journal (see [`crate::store::all_rows_in`]). Every id the writer
    /// stores was read or returned in the same write transaction, which holds the
    /// whole database, and nothing deletes offers, users, clicks or leads; PostgreSQL,
    /// and every other SQLite connection, still check them.
    IntakeWriter,
}

#[derive(Debug)]
struct ConnectionSetup(Session);

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            // WAL lets readers proceed while one writer commits; the busy timeout makes a
            // second writer wait instead of failing; SQLite needs foreign keys switched on.
            // (`journal_mode = WAL` is persistent and set once in `connect`.)
            // Checkpoints run from the server's background task (`checkpoint`); a
            // committing writer only checkpoints itself past 10,000 WAL pages.
            // Reads go through a memory map of the file (no read call and copy per
            // page; pages stay the kernel's, shared by all connections; SQLite caps
            // the 8 GiB asked for at the size it was built with, 2 GiB in the bundled
            // library), so a connection's own page cache mostly holds the pages it
            // wrote. It keeps SQLite's default size, 2 MB: at 16 MB the click and
            // intake writers' caches filled with pages they would not touch again and
            // the server's peak memory in the load benchmark rose by about 40 MB,
            // with no faster clicks or dashboards (docs/perf-log/stop-24.md).
            // Temporary storage stays in memory: above all the statement journal, where
            // a statement that changes several rows inside a transaction (a batch's
            // inserts and upserts) keeps the pages it changed so that it can be undone
            // alone. It spills to a temporary file past 64 KiB: a batch of conversions
            // wrote about 42 KB per lead there, three times what it wrote to the WAL.
            c.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA wal_autocheckpoint = 10000; PRAGMA mmap_size = 8589934592; PRAGMA cache_size = -2000; \
                 PRAGMA temp_store = MEMORY;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        if self.0 == Session::IntakeWriter {
            match conn {
                DbConn::Postgres(c) => c.batch_execute("SET enable_seqscan = off"),
                DbConn::Sqlite(c) => c.batch_execute("PRAGMA foreign_keys = OFF"),
            }
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Open a pool for `url`, creating the SQLite file's folder when needed.
pub fn connect(url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    connect_for(url, max_size, Session::Shared)
}

/// Open a pool whose connections start with `session`'s settings.
pub fn connect_for(url: &str, max_size: u32, session: Session) -> anyhow::Result<DbPool> {
    let backend = Backend::of_url(url).context("DATABASE_URL must start with sqlite:// or postgres://")?;
    let conn_url = match backend {
        Backend::Sqlite => {
            let path = sqlite_path(url);
            if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
            }
            // WAL is a property of the file: switch it on once, before the pool opens
            // many connections that would race for the lock to do it.
            let mut first = diesel::SqliteConnection::establish(path)
                .with_context(|| format!("cannot open the SQLite database {path}"))?;
            first
                .batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;")
                .with_context(|| format!("cannot switch {path} to WAL mode"))?;
            format!("sqlite://{path}")
        }
        Backend::Postgres => loopback_without_tls(url),
    };
    let manager = ConnectionManager::<DbConn>::new(conn_url);
    Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup(session)))
        .build(manager)
        .with_context(|| format!("cannot connect to the database {}", redact(url)))
}

/// A PostgreSQL URL for a server on this machine that says nothing about TLS: with
/// `sslmode=allow`, so that libpq tries a plain connection first and TLS only if the
/// server insists. libpq's default (`prefer`) wraps even a loopback connection in
/// TLS, which protects nothing there and costs both ends CPU on every round trip
/// (measured: about 4 % of the machine's CPU per click on PostgreSQL).
///
/// Only a URL whose own host is `localhost` or a loopback address qualifies, and
/// only when nothing else could decide where or how libpq connects: no `host`,
/// `hostaddr` or `service` parameter, no TLS or channel-binding parameter, none of
/// the `PGHOST`, `PGHOSTADDR`, `PGSERVICE`, `PGSSLMODE`, `PGREQUIRESSL`
/// environment variables, and no `#` (libpq knows no URL fragment). Any other URL
/// is returned as it is.
pub fn loopback_without_tls(url: &str) -> String {
    loopback_without_tls_given(url, |name| std::env::var_os(name).is_some())
}

fn loopback_without_tls_given(url: &str, env_has: impl Fn(&str) -> bool) -> String {
    const DECIDING_PARAMS: [&str; 14] = [
        "host",
        "hostaddr",
        "service",
        "ssl",
        "sslmode",
        "requiressl",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "sslcrl",
        "sslcrldir",
        "sslsni",
        "sslnegotiation",
        "channel_binding",
    ];
    const DECIDING_ENV: [&str; 5] = ["PGHOST", "PGHOSTADDR", "PGSERVICE", "PGSSLMODE", "PGREQUIRESSL"];
    let unchanged = || url.to_string();
    let Ok(parsed) = url::Url::parse(url) else { return unchanged() };
    if parsed.fragment().is_some()
        || parsed.query_pairs().any(|(k, _)| DECIDING_PARAMS.contains(&k.as_ref()))
        || DECIDING_ENV.iter().any(|v| env_has(v))
    {
        return unchanged();
    }
    // `postgres:` is not a scheme the URL standard knows, so its host is opaque text.
    let loopback = parsed.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    if !loopback {
        return unchanged();
    }
    let separator = if parsed.query().is_some() { '&' } else { '?' };
    format!("{url}{separator}sslmode=allow")
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Apply every pending migration of the connection's backend.
pub fn migrate(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Revert the newest applied migration (upgrade tests: go back one version, then
/// `migrate` again to run that migration's data backfill on real data).
pub fn revert_last_migration(conn: &mut DbConn) -> anyhow::Result<String> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
    Ok(reverted.to_string())
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Run `f` in a transaction that will write. On SQLite it starts `BEGIN IMMEDIATE`,
    /// taking the write lock up front, so concurrent writers queue on the busy timeout
    /// instead of failing when both try to upgrade a read lock. Nested
    /// `conn.transaction(..)` calls inside `f` become savepoints as usual.
    pub fn write_tx<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let DbConn::Sqlite(inner) = self else {
            return self.transaction(f);
        };
        AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
        let outcome = f(self);
        let DbConn::Sqlite(inner) = self else { unreachable!("the backend of a connection never changes") };
        match outcome {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(inner)?;
                Ok(value)
            }
            Err(e) => {
                AnsiTransactionManager::rollback_transaction(inner)?;
                Err(e)
            }
        }
    }
}

/// Copy what the SQLite write-ahead log holds back into the database file without
/// waiting for (or blocking) writers; nothing to do on PostgreSQL.
pub fn checkpoint(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Sqlite(c) = conn {
        c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")?;
    }
    Ok(())
}

/// Run blocking database work on the blocking thread pool with a pooled connection.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(|e| AppError::Internal(anyhow::anyhow!("database pool: {e}")))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::loopback_without_tls_given;

    /// The migration that brings stored `leads.email_norm` to the provider-aware form
    /// gives what `normalise_email` gives (its SQLite form; the PostgreSQL one differs
    /// only in `strpos` for `instr`).
    #[test]
    fn the_email_norm_migration_matches_normalise_email() {
        use crate::domain::scrub::normalise_email;
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;
        use diesel::sql_types::{Nullable, Text};

        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            email_norm: Option<String>,
        }

        let raws = [
            "jdoe@gmail.com",
            "J.Doe+Promo@GMail.com",
            "j.d.o.e+a+b@googlemail.com",
            "+tag@gmail.com",
            "...@gmail.com",
            "@gmail.com",
            "a@b@gmail.com",
            "John-Doe+shop@Yandex.com",
            "john.doe@ya.ru",
            "+x@yandex.kz",
            "J.Appleseed+news@me.com",
            "jane@mac.com",
            "jane.roe+x@hotmail.co.uk",
            "jane.roe+news@pm.me",
            "jane.roe+news@fastmail.fm",
            "j.doe+promo@example.com",
            "john-doe@yandex.ua",
            "j.doe+x@sub.gmail.com",
            "not an email",
        ];
        let mut c = diesel::SqliteConnection::establish(":memory:").expect("sqlite");
        c.batch_execute(
            "CREATE TABLE leads (id INTEGER PRIMARY KEY, email_norm TEXT); INSERT INTO leads VALUES (0, NULL)",
        )
        .expect("table");
        for (i, raw) in raws.iter().enumerate() {
            // Stored before: trimmed and lower-cased.
            let old = raw.trim().to_lowercase();
            c.batch_execute(&format!("INSERT INTO leads VALUES ({}, '{old}')", i + 1)).expect("insert");
        }
        c.batch_execute(include_str!("../../migrations/sqlite/2026-12-07-000018_email_norm_providers/up.sql"))
            .expect("migration");
        let rows: Vec<Row> = diesel::sql_query("SELECT email_norm FROM leads ORDER BY id").load(&mut c).expect("rows");
        assert_eq!(rows[0].email_norm, None);
        for (raw, row) in raws.iter().zip(&rows[1..]) {
            assert_eq!(row.email_norm.as_deref(), Some(normalise_email(raw).as_str()), "{raw}");
        }
        // Twice is once (the upgrade tests revert it and run it again).
        c.batch_execute(include_str!("../../migrations/sqlite/2026-12-07-000018_email_norm_providers/up.sql"))
            .expect("migration again");
        let again: Vec<Row> = diesel::sql_query("SELECT email_norm FROM leads ORDER BY id").load(&mut c).expect("rows");
        assert!(again.iter().zip(&rows).all(|(a, b)| a.email_norm == b.email_norm));
    }

    #[test]
    fn loopback_postgres_urls_try_a_plain_connection_first() {
        let none = |_: &str| false;
        for (url, expected) in [
            ("postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test?sslmode=allow"),
            (
                "postgresql://u:p@localhost/db?application_name=q",
                "postgresql://u:p@localhost/db?application_name=q&sslmode=allow",
            ),
            ("postgres://u@[::1]:5433/db", "postgres://u@[::1]:5433/db?sslmode=allow"),
            ("postgres://u:p%40ss@127.0.0.2/db", "postgres://u:p%40ss@127.0.0.2/db?sslmode=allow"),
            // Whatever the URL says about TLS stands, and remote servers keep libpq's default.
            ("postgres://u@127.0.0.1/db?sslmode=require", "postgres://u@127.0.0.1/db?sslmode=require"),
            ("postgres://u@127.0.0.1/db?ssl=true", "postgres://u@127.0.0.1/db?ssl=true"),
            ("postgres://u@localhost/db?channel_binding=require", "postgres://u@localhost/db?channel_binding=require"),
            ("postgres://u@db.example.com/db", "postgres://u@db.example.com/db"),
            ("postgres://u@10.0.0.5/db", "postgres://u@10.0.0.5/db"),
            // Where libpq really connects is decided elsewhere: left alone.
            ("postgres://localhost/db?host=db.example.com", "postgres://localhost/db?host=db.example.com"),
            ("postgres://localhost/db?hostaddr=10.0.0.5", "postgres://localhost/db?hostaddr=10.0.0.5"),
            ("postgres:///db?host=/var/run/postgresql", "postgres:///db?host=/var/run/postgresql"),
            ("postgres:///db", "postgres:///db"),
            ("postgres://localhost/db?service=main", "postgres://localhost/db?service=main"),
            // libpq has no fragments: a `#` belongs to a value, so nothing is appended after it.
            ("postgres://u@localhost/db?password=ab#c", "postgres://u@localhost/db?password=ab#c"),
        ] {
            assert_eq!(loopback_without_tls_given(url, none), expected, "{url}");
        }
        let url = "postgres://u@127.0.0.1/db";
        for var in ["PGHOST", "PGSSLMODE", "PGSERVICE"] {
            assert_eq!(loopback_without_tls_given(url, |v| v == var), url, "{var} set");
        }
    }
}
