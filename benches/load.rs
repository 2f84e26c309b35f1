//! Load benchmark for the click redirect (`cargo bench --bench load`).
//!
//! Starts the real `qualead` release binary on a fresh database (SQLite, and
//! PostgreSQL when `QUALEAD_BENCH_POSTGRES_URL` names a server to create a database
//! on), and beside it, in the same run, a bare actix-web handler that answers the
//! same 302 and does nothing else. Each gets 64 concurrent connections for
//! `QUALEAD_BENCH_SECS` seconds (default 10), taking turns `QUALEAD_BENCH_ROUNDS`
//! times (default 3). Prints requests per second, p50 and p99 latency (and the
//! tail: p90, p99.9, the slowest), and the server's resident memory. Then server
//! postbacks, each converting a different stored click, with 64 connections:
//! accepted per second.
//!
//! It also prints the CPU time each side spent per click (from `/proc`): the
//! benchmark process (load generator, and the bare handler on its turns), the
//! Qualead process and, on PostgreSQL, the database's backends; and the click ratio
//! and both p99s of each round's pair of turns. Throughput on a shared machine
//! moves with it; CPU per click moves much less, so it is the figure to compare two
//! builds by.
//!
//! `QUALEAD_BENCH_PHASES=clicks` (or `postbacks`) runs one phase only, and
//! `QUALEAD_BENCH_SKIP_SQLITE=1` only PostgreSQL, for profiling one of them.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::time::{Duration, Instant};

use qualead::store::offers::MembershipStatus;

mod support;

const CONNECTIONS: usize = 64;

/// One phase's figures; `lat` keeps every latency so rounds can be put together.
#[derive(Default)]
struct Figures {
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// p90, p99.9 and the slowest request, ms: the shape of the tail.
    tail_ms: [f64; 3],
    lat: Vec<Duration>,
    secs: f64,
}

impl Figures {
    fn of(mut lat: Vec<Duration>, errors: usize, secs: f64) -> Figures {
        lat.sort();
        let pct = |p: f64| {
            lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        let (p50_ms, p99_ms, tail_ms) = (pct(0.50), pct(0.99), [pct(0.90), pct(0.999), pct(1.0)]);
        Figures {
            requests: lat.len(),
            errors,
            rps: lat.len() as f64 / secs.max(1e-9),
            p50_ms,
            p99_ms,
            tail_ms,
            lat,
            secs,
        }
    }

    /// This side's throughput as a percentage of `base`'s.
    fn ratio_to(&self, base: &Figures) -> f64 {
        100.0 * self.rps / base.rps.max(1.0)
    }

    /// Several rounds of the same phase as one: all their requests over all their time.
    fn merge(rounds: Vec<Figures>) -> Figures {
        let secs = rounds.iter().map(|f| f.secs).sum();
        let errors = rounds.iter().map(|f| f.errors).sum();
        Figures::of(rounds.into_iter().flat_map(|f| f.lat).collect(), errors, secs)
    }
}

/// CPU time (user + system) a process has used, in seconds; `None` when it cannot
/// be read (another machine's database, another user's process).
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) close with ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// CPU seconds of a set of processes (the ones still readable).
fn cpu_of(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|p| cpu_secs(*p)).sum()
}

/// The machine's idle CPU time (idle + I/O wait, all CPUs), in seconds.
fn idle_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else { return 0.0 };
    let ticks: Vec<f64> = cpu.split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    (ticks.get(3).unwrap_or(&0.0) + ticks.get(4).unwrap_or(&0.0)) / 100.0
}

/// Where the CPU went during some turns: seconds per side, summed over turns, and
/// the machine's idle time and wall time.
#[derive(Default, Clone, Copy)]
struct Cpu {
    bench: f64,
    qualead: f64,
    database: f64,
    idle: f64,
    wall: f64,
}

impl Cpu {
    /// Run `turn`, adding the CPU each side used meanwhile.
    async fn during<T>(&mut self, qualead: u32, database: &[u32], turn: impl std::future::Future<Output = T>) -> T {
        let me = std::process::id();
        let before = (cpu_of(&[me]), cpu_of(&[qualead]), cpu_of(database), idle_secs(), Instant::now());
        let out = turn.await;
        self.bench += cpu_of(&[me]) - before.0;
        self.qualead += cpu_of(&[qualead]) - before.1;
        self.database += cpu_of(database) - before.2;
        self.idle += idle_secs() - before.3;
        self.wall += before.4.elapsed().as_secs_f64();
        out
    }
}

/// The server processes of the database `db_url` names, when they run on this
/// machine (PostgreSQL: one backend per connection; SQLite runs inside Qualead).
fn database_pids(db_url: &str) -> Vec<u32> {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Backend {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    if !db_url.starts_with("postgres") {
        return Vec::new();
    }
    let Ok(mut c) = diesel::PgConnection::establish(db_url) else { return Vec::new() };
    diesel::sql_query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .load::<Backend>(&mut c)
        .map(|rows| rows.into_iter().map(|r| r.pid as u32).collect())
        .unwrap_or_default()
}

async fn hammer(url: String, secs: u64) -> Figures {
    hammer_with(std::sync::Arc::new(move |_| url.clone()), reqwest::StatusCode::FOUND, secs).await
}

/// `CONNECTIONS` tasks request `url(n)` (n counts up across all tasks) until the time
/// is up; a request counts when it answers `ok`.
async fn hammer_with(
    url: std::sync::Arc<dyn Fn(usize) -> String + Send + Sync>,
    ok: reqwest::StatusCode,
    secs: u64,
) -> Figures {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(50_000);
                let mut errors = 0;
                while Instant::now() < deadline {
                    let target = url(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
                    let t = Instant::now();
                    match client.get(&target).send().await {
                        Ok(r) if r.status() == ok => lat.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("task");
        all.extend(lat);
        errors += e;
    }
    Figures::of(all, errors, started.elapsed().as_secs_f64())
}

fn bare_server() -> (u16, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = actix_web::HttpServer::new(|| {
        actix_web::App::new().route(
            "/c/{token}",
            actix_web::web::get().to(|| async {
                actix_web::HttpResponse::Found()
                    .insert_header(("location", "https://land.example/?c=0123456789abcdefghijkl"))
                    .finish()
            }),
        )
    })
    .workers(2)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (port, handle)
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

struct Seeded {
    token: String,
    postback_token: String,
    offer_id: i64,
    publisher_id: i64,
}

fn seed(db_url: &str) -> Seeded {
    let pool = qualead::db::connect(db_url, 1).expect("pool");
    qualead::db::migrate(&mut pool.get().expect("conn")).expect("migrate");
    let mut conn = pool.get().expect("conn");
    let user = |conn: &mut qualead::db::DbConn, role: &str, email: &str| {
        qualead::store::users::create(
            conn,
            qualead::store::users::UserSpec {
                email,
                password_hash: "x",
                role: role.parse().expect("role"),
                status: qualead::domain::account::AccountStatus::Active,
                display_name: "bench",
                company: "",
                verified: true,
            },
        )
        .expect("user")
        .id
    };
    let adv = user(&mut conn, "advertiser", "adv@bench.test");
    let publisher = user(&mut conn, "publisher", "pub@bench.test");
    let body = qualead::domain::offer::OfferBody {
        name: "Bench".into(),
        category: "home".into(),
        landing_url: "https://land.example/?c={click_id}&s={sub1}".into(),
        payout_model: "cpl".into(),
        price: Some("10.00".into()),
        ..Default::default()
    };
    let spec = qualead::domain::offer::validate(&body).expect("offer");
    let o = qualead::store::offers::create(&mut conn, adv, &spec).expect("offer");
    use qualead::domain::offer::OfferStatus;
    qualead::store::offers::set_status(&mut conn, o.id, OfferStatus::Draft, OfferStatus::Active, None)
        .expect("activate");
    let token = qualead::store::offers::add_member(&mut conn, o.id, publisher, MembershipStatus::Approved, false)
        .expect("member")
        .token;
    // Enough balance for every conversion the run can send.
    use qualead::store::ledger;
    let deposit = ledger::Posting { kind: "deposit", lead_id: None, actor_id: None, memo: "bench" };
    ledger::post(
        &mut conn,
        &deposit,
        &[ledger::Transfer::new(ledger::EXTERNAL, ledger::advertiser(adv), i64::MAX / 4)],
    )
    .map_err(|e| format!("{e:?}"))
    .expect("deposit");
    Seeded { token, postback_token: o.postback_token, offer_id: o.id, publisher_id: publisher }
}

/// Store `n` clicks of the offer directly (the postback run converts them).
fn store_clicks(db_url: &str, s: &Seeded, n: usize) -> Vec<String> {
    let pool = qualead::db::connect(db_url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    let mut ids = Vec::with_capacity(n);
    let mut batch = Vec::new();
    for _ in 0..n {
        let id = qualead::domain::tracking::new_click_id();
        ids.push(id.clone());
        batch.push(qualead::store::clicks::NewClick {
            click_id: id,
            offer_id: s.offer_id,
            publisher_id: s.publisher_id,
            sub1: "pb".into(),
            sub2: String::new(),
            sub3: String::new(),
            sub4: String::new(),
            sub5: String::new(),
            source: String::new(),
            ip: "198.51.100.7".into(),
            user_agent: "Mozilla/5.0 bench".into(),
            referrer: String::new(),
            country: None,
            redirect_reason: None,
            created_at: qualead::store::now(),
            is_unique: true,
        });
        if batch.len() == 10_000 {
            qualead::store::clicks::insert_batch(&mut conn, &batch).expect("clicks");
            batch.clear();
        }
    }
    qualead::store::clicks::insert_batch(&mut conn, &batch).expect("clicks");
    ids
}

/// Write every dirty page to disk (`sync`), so that what came before a phase (the
/// seeding, an earlier phase's database) is not written back during its turns.
/// Only the Qualead turns wait on the disk, so writeback then would count against
/// them alone.
fn settle_disk() {
    if let Err(e) = std::process::Command::new("sync").status() {
        eprintln!("sync: {e}");
    }
}

async fn run_backend(name: &str, db_url: &str, secs: u64, rounds: usize, bare_port: u16) {
    let data = tempfile::tempdir().expect("tmp");
    let seeded = seed(db_url);
    let token = seeded.token.clone();
    let phases = std::env::var("QUALEAD_BENCH_PHASES").unwrap_or_else(|_| "clicks,postbacks".into());
    let (run_clicks, run_postbacks) = (phases.contains("clicks"), phases.contains("postbacks"));
    let click_ids =
        std::sync::Arc::new(if run_postbacks { store_clicks(db_url, &seeded, 400_000) } else { Vec::new() });
    settle_disk();
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut child = support::start_qualead(db_url, data.path(), port, &[]);
    support::wait_healthy(port).await;
    let pid = child.id();

    // Warm up both, then measure them back to back in the same run.
    hammer(format!("http://127.0.0.1:{bare_port}/c/x"), 2).await;
    hammer(format!("http://127.0.0.1:{port}/c/{token}?sub1=warm"), 2).await;
    let skipped = Figures::default;
    // The two servers take turns, `rounds` times, so that a slow moment of this shared
    // machine falls on both alike; each side's figures are over all its rounds.
    let (mut bare_cpu, mut click_cpu) = (Cpu::default(), Cpu::default());
    let (bare, clicks, round_ratios) = if run_clicks {
        eprintln!("{name}: clicks phase, qualead pid {pid}");
        // The writers' connections are open by now (the warm-up clicked).
        let database = database_pids(db_url);
        let (mut bare, mut clicks) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let turn = hammer(format!("http://127.0.0.1:{bare_port}/c/x"), secs);
            bare.push(bare_cpu.during(pid, &database, turn).await);
            let turn = hammer(format!("http://127.0.0.1:{port}/c/{token}?sub1=bench"), secs);
            clicks.push(click_cpu.during(pid, &database, turn).await);
        }
        let ratios: Vec<String> = bare
            .iter()
            .zip(&clicks)
            .map(|(b, c)| format!("{:.0} % (p99 {:.2} / {:.2} ms)", c.ratio_to(b), b.p99_ms, c.p99_ms))
            .collect();
        (Figures::merge(bare), Figures::merge(clicks), ratios)
    } else {
        (skipped(), skipped(), Vec::new())
    };
    let postbacks = if run_postbacks {
        let base = format!(
            "http://127.0.0.1:{port}/postback?token={}&email=bench%40example.org&click_id=",
            seeded.postback_token
        );
        let ids = click_ids.clone();
        eprintln!("{name}: postbacks phase, qualead pid {pid}");
        hammer_with(
            std::sync::Arc::new(move |n| format!("{base}{}", ids[n % ids.len()])),
            reqwest::StatusCode::OK,
            secs,
        )
        .await
    } else {
        skipped()
    };
    let rss = rss_mb(pid);

    let pool = qualead::db::connect(db_url, 1).expect("pool");
    let stored = qualead::store::clicks::count(&mut pool.get().expect("conn")).expect("count");
    let leads = qualead::store::leads::count(&mut pool.get().expect("conn")).expect("count");
    let _ = child.kill();
    let _ = child.wait();

    println!(
        "\n== {name}: {CONNECTIONS} connections; clicks: {rounds} rounds of {secs} s each, taking turns; postbacks: {secs} s =="
    );
    println!("{:<28} {:>10} {:>9} {:>9} {:>9} {:>7}", "", "requests", "req/s", "p50 ms", "p99 ms", "errors");
    for (label, f) in [("bare actix 302", &bare), ("qualead /c/{token}", &clicks), ("qualead /postback", &postbacks)] {
        println!("{label:<28} {:>10} {:>9.0} {:>9.2} {:>9.2} {:>7}", f.requests, f.rps, f.p50_ms, f.p99_ms, f.errors);
    }
    for (label, f) in [("bare", &bare), ("clicks", &clicks), ("postbacks", &postbacks)] {
        let [p90, p999, max] = f.tail_ms;
        println!("latency tail, {label}: p90 {p90:.2}, p99.9 {p999:.2}, max {max:.2} ms");
    }
    println!("click throughput vs bare handler: {:.0} %", clicks.ratio_to(&bare));
    if run_clicks {
        // Each round's pair of turns alone: how far the machine's speed moved during the run.
        // A slow stretch shows as a low ratio and both turns' p99 rising in one round.
        println!("  each round (bare turn, then qualead turn; p99 bare / qualead): {}", round_ratios.join(", "));
        let per = |cpu: f64, f: &Figures| 1e6 * cpu / (f.requests.max(1) as f64);
        println!(
            "CPU per request, µs: bare turns: benchmark process (load generator + bare handler) {:.1}; \
             qualead turns: load generator {:.1}, qualead {:.1}, database server {:.1}",
            per(bare_cpu.bench, &bare),
            per(click_cpu.bench, &clicks),
            per(click_cpu.qualead, &clicks),
            per(click_cpu.database, &clicks),
        );
        // The CPUs `/proc/stat` counts idle time over (not the ones this process may use).
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let cores = stat.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count().max(1) as f64;
        let idle = |c: &Cpu| 100.0 * c.idle / (c.wall * cores).max(1e-9);
        println!("machine idle: bare turns {:.1} %, qualead turns {:.1} %", idle(&bare_cpu), idle(&click_cpu));
    }
    println!("clicks stored: {stored} (every redirect waits for its batch to commit)");
    println!("accepted postbacks: {:.0} per second; leads stored: {leads}", postbacks.rps);
    println!("qualead peak resident memory: {rss:.1} MB");
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("QUALEAD_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let rounds: usize = std::env::var("QUALEAD_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let (bare_port, bare) = bare_server();
        if std::env::var("QUALEAD_BENCH_SKIP_SQLITE").is_err() {
            let dir = tempfile::tempdir().expect("tmp");
            let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
            run_backend("SQLite", &sqlite, secs, rounds, bare_port).await;
            // Its files go before PostgreSQL's turns, so that the kernel does not write
            // their pages back while PostgreSQL's commits wait on the same disk.
            dir.close().expect("remove the SQLite database");
        }
        support::on_postgres("qualead_bench", |url| async move {
            run_backend("PostgreSQL", &url, secs, rounds, bare_port).await;
        })
        .await;
        bare.stop(true).await;
    });
}
