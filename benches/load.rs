//! Load benchmark for clicks and postbacks (`cargo bench --bench load`).
//!
//! Three kinds of process, each on its own: the real `qualead` release binary on a
//! fresh database (SQLite, and PostgreSQL when `QUALEAD_BENCH_POSTGRES_URL` names a
//! server to create a database on); a bare actix-web server that answers the same
//! shapes and does nothing else (a 302 for `/c/{token}`, a 200 JSON body for
//! `/postback`: this benchmark's own executable started again with
//! `QUALEAD_BENCH_BARE_PORT` set, so it adds nothing to the release build); and
//! the load generator, [`wrk`](https://github.com/wg/wrk) (Debian package `wrk`),
//! with the Lua scripts in `benches/wrk/`.
//!
//! For each backend, two phases, clicks then postbacks. In each, the bare server
//! and Qualead take turns of `QUALEAD_BENCH_SECS` seconds (default 8),
//! `QUALEAD_BENCH_ROUNDS` times (default 3), 64 connections from 2 wrk threads,
//! after a 2 s warm-up of each; a slow moment of this shared machine then falls on
//! both sides alike. It prints each round's requests per second and p99 of both
//! sides and their ratio (Qualead / bare), the median over the rounds, the tail
//! (p50, p90, p99.9, slowest) over all turns, the CPU time each process spent per
//! request (from `/proc`), the machine's idle time and load average, and each
//! server's peak resident memory.
//!
//! Clicks: `GET /c/{token}?sub1=bench`; every redirect waits for its click's batch
//! to commit, and the run checks that the clicks stored are at least the seeded
//! ones plus every redirect wrk counted. Postbacks: each request converts a
//! different stored click (`QUALEAD_BENCH_CLICKS` of them are stored first,
//! default enough for 25,000 a second over every Qualead turn); a 200 saying
//! "accepted" counts, and the run checks that every one counted is a stored lead.
//!
//! `QUALEAD_BENCH_PHASES=clicks` (or `postbacks`) runs one phase only,
//! `QUALEAD_BENCH_SKIP_SQLITE=1` only PostgreSQL, `QUALEAD_BENCH_BIN` another build
//! of the server and `QUALEAD_BENCH_WRK` another `wrk`.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use qualead::store::offers::MembershipStatus;

mod support;

const CONNECTIONS: usize = 64;
/// wrk threads: one per core of the two-core machine the figures are taken on.
const THREADS: usize = 2;
const WARM_UP_SECS: u64 = 2;
/// Where the wrk scripts are (wrk runs there, so that they can `require "report"`).
const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/wrk");

/// One wrk run's figures (latencies in ms).
#[derive(Default, Clone)]
struct Turn {
    requests: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// p90, p99.9 and the slowest request: the shape of the tail.
    tail_ms: [f64; 3],
    /// Connection, read and write errors, timeouts and answers other than 2xx/3xx.
    errors: u64,
    /// Requests the script made, in all and on its busiest thread (postbacks).
    sent: u64,
    max_sent: u64,
    /// 200s that said "accepted" (postbacks).
    accepted: u64,
}

impl Turn {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.secs.max(1e-9)
    }
}

/// Run wrk for `secs` against `url` with `script` (in `benches/wrk/`) and its
/// arguments, and read the line its `done` prints.
fn wrk(script: &str, url: &str, secs: u64, args: &[String]) -> Turn {
    let bin = std::env::var("QUALEAD_BENCH_WRK").unwrap_or_else(|_| "wrk".into());
    let out = Command::new(&bin)
        .args(["-t", &THREADS.to_string(), "-c", &CONNECTIONS.to_string(), "-d", &format!("{secs}s")])
        .args(["--timeout", "5s", "-s", script, url, "--"])
        .args(args)
        .current_dir(SCRIPTS)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run {bin} (install the Debian package `wrk`): {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("WRK ")) else {
        panic!("wrk printed no figures ({}):\n{text}", out.status);
    };
    let field = |k: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("wrk line without {k}: {line}"))
    };
    let ms = |k: &str| field(k) as f64 / 1000.0;
    Turn {
        requests: field("requests"),
        secs: field("duration_us") as f64 / 1e6,
        p50_ms: ms("p50_us"),
        p99_ms: ms("p99_us"),
        tail_ms: [ms("p90_us"), ms("p999_us"), ms("max_us")],
        errors: ["connect_errors", "read_errors", "write_errors", "timeouts", "status_errors"]
            .iter()
            .map(|k| field(k))
            .sum(),
        sent: field("sent"),
        max_sent: field("max_sent"),
        accepted: field("accepted"),
    }
}

/// Several turns of one side as one: all their requests over all their time; the
/// latency figures are the turns' medians (wrk gives percentiles, not latencies).
fn merged(turns: &[Turn]) -> Turn {
    let med = |f: &dyn Fn(&Turn) -> f64| median(turns.iter().map(f).collect());
    Turn {
        requests: turns.iter().map(|t| t.requests).sum(),
        secs: turns.iter().map(|t| t.secs).sum(),
        p50_ms: med(&|t| t.p50_ms),
        p99_ms: med(&|t| t.p99_ms),
        tail_ms: [
            med(&|t| t.tail_ms[0]),
            med(&|t| t.tail_ms[1]),
            turns.iter().map(|t| t.tail_ms[2]).fold(0.0, f64::max),
        ],
        errors: turns.iter().map(|t| t.errors).sum(),
        sent: turns.iter().map(|t| t.sent).sum(),
        max_sent: turns.iter().map(|t| t.max_sent).max().unwrap_or(0),
        accepted: turns.iter().map(|t| t.accepted).sum(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// The fields of `/proc/{pid}/stat` after the command name (which may hold spaces):
/// index 11 and 12 are the process's user and system time, 13 and 14 those of its
/// children it has waited for, in ticks.
fn stat_fields(pid: &str) -> Option<Vec<f64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat.rsplit_once(')')?.1.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect())
}

/// CPU time (user + system) a process has used, in seconds; 0 when it cannot be
/// read (another machine's database, another user's process).
fn cpu_secs(pid: u32) -> f64 {
    stat_fields(&pid.to_string()).map(|f| (f[11] + f[12]) / 100.0).unwrap_or(0.0) // USER_HZ is 100
}

/// CPU time of this process's finished children: wrk's, once it has exited.
fn children_cpu_secs() -> f64 {
    stat_fields("self").map(|f| (f[13] + f[14]) / 100.0).unwrap_or(0.0)
}

/// The machine's idle CPU time (idle + I/O wait, all CPUs), in seconds.
fn idle_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else { return 0.0 };
    let ticks: Vec<f64> = cpu.split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
    (ticks.get(3).unwrap_or(&0.0) + ticks.get(4).unwrap_or(&0.0)) / 100.0
}

/// The CPUs `/proc/stat` counts idle time over.
fn cores() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count().max(1) as f64
}

fn load_average() -> String {
    let avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    avg.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Where the CPU went during one side's turns: seconds per process, summed over
/// turns, and the machine's idle time and wall time.
#[derive(Default, Clone, Copy)]
struct Cpu {
    wrk: f64,
    server: f64,
    database: f64,
    idle: f64,
    wall: f64,
}

impl Cpu {
    /// Run `turn`, adding the CPU each process used meanwhile: wrk, `server` and the
    /// `database`'s backends.
    fn during(&mut self, server: u32, database: &[u32], turn: impl FnOnce() -> Turn) -> Turn {
        let db = || database.iter().map(|p| cpu_secs(*p)).sum::<f64>();
        let before = (children_cpu_secs(), cpu_secs(server), db(), idle_secs(), Instant::now());
        let out = turn();
        self.wrk += children_cpu_secs() - before.0;
        self.server += cpu_secs(server) - before.1;
        self.database += db() - before.2;
        self.idle += idle_secs() - before.3;
        self.wall += before.4.elapsed().as_secs_f64();
        out
    }

    fn idle_pct(&self) -> f64 {
        100.0 * self.idle / (self.wall * cores()).max(1e-9)
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

/// A child process killed when dropped (a failed run leaves no server behind).
struct Server(Child);

impl Server {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port()
}

/// The bare server's process: this executable again, in bare mode.
fn start_bare() -> (u16, Server) {
    let port = free_port();
    let server = Server(
        Command::new(std::env::current_exe().expect("this executable"))
            .env("QUALEAD_BENCH_BARE_PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the bare server"),
    );
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (port, server);
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("the bare server did not start");
}

/// Bare mode: an actix-web server on `port` with one worker per core (Qualead's
/// default) answering a click's 302 and a postback's 200 JSON, and doing
/// nothing else.
fn bare_server(port: u16) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    actix_web::rt::System::new()
        .block_on(async move {
            HttpServer::new(|| {
                App::new()
                    .route(
                        "/c/{token}",
                        web::get().to(|| async {
                            HttpResponse::Found()
                                .insert_header(("location", "https://land.example/?c=0123456789abcdefghijkl"))
                                .finish()
                        }),
                    )
                    .route(
                        "/postback",
                        web::get().to(|| async {
                            HttpResponse::Ok().json(serde_json::json!({"status": "accepted", "lead_id": 1_000_000}))
                        }),
                    )
            })
            .workers(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
            .bind(("127.0.0.1", port))?
            .run()
            .await
        })
        .expect("bare server");
}

/// A `/proc/{pid}/status` figure in MB (`VmHWM`: the peak resident set; `RssAnon`
/// and `RssFile`: the resident set now, the process's own memory and the pages of
/// files it maps, such as SQLite's memory-mapped database).
fn status_mb(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::to_string)))
        .and_then(|v| v.split_whitespace().next().and_then(|kb| kb.parse::<f64>().ok()))
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
            qualead::store::users::UserSpec::active(email, "x", role.parse().expect("role"), "bench"),
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

/// Store `n` clicks of the offer directly (the postback turns convert them) and
/// write their ids to `file`, one a line, for `postback.lua`.
fn store_clicks(db_url: &str, s: &Seeded, n: usize, file: &std::path::Path) {
    let pool = qualead::db::connect(db_url, 1).expect("pool");
    let mut conn = pool.get().expect("conn");
    let mut ids = String::with_capacity(n * 23);
    let mut batch = Vec::new();
    for _ in 0..n {
        let id = qualead::domain::tracking::new_click_id();
        ids.push_str(&id);
        ids.push('\n');
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
            country_source: "unknown".into(),
            device: "unknown".into(),
            os: "other".into(),
            repeat_clicks: 0,
        });
        if batch.len() == 10_000 {
            qualead::store::clicks::insert_batch(&mut conn, &batch).expect("clicks");
            batch.clear();
        }
    }
    qualead::store::clicks::insert_batch(&mut conn, &batch).expect("clicks");
    std::fs::write(file, ids).expect("write the click ids");
}

/// Write every dirty page to disk (`sync`), so that what came before a phase (the
/// seeding, an earlier phase's database) is not written back during its turns.
/// Only the Qualead turns wait on the disk, so writeback then would count against
/// them alone.
fn settle_disk() {
    if let Err(e) = Command::new("sync").status() {
        eprintln!("sync: {e}");
    }
}

/// One phase's turns, both sides, and where the CPU went.
struct Phase {
    bare: Vec<Turn>,
    qualead: Vec<Turn>,
    bare_cpu: Cpu,
    qualead_cpu: Cpu,
    /// Whether the database runs in processes of its own (PostgreSQL) whose CPU counts.
    database_server: bool,
    load_before: String,
    load_after: String,
}

impl Phase {
    fn print(&self, backend: &str, what: &str, secs: u64) {
        let rounds = self.bare.len();
        println!(
            "\n== {backend} · {what}: {CONNECTIONS} connections from {THREADS} wrk threads; {rounds} rounds of {secs} s, \
             bare server and Qualead taking turns =="
        );
        println!("load average (1, 5, 15 min) before: {}; after: {}", self.load_before, self.load_after);
        println!(
            "{:>6} {:>12} {:>12} {:>14} {:>15} {:>7}",
            "round", "bare req/s", "bare p99 ms", "qualead req/s", "qualead p99 ms", "ratio"
        );
        let ratios: Vec<f64> =
            self.bare.iter().zip(&self.qualead).map(|(b, q)| 100.0 * q.rps() / b.rps().max(1.0)).collect();
        for (i, ((b, q), r)) in self.bare.iter().zip(&self.qualead).zip(&ratios).enumerate() {
            println!(
                "{:>6} {:>12.0} {:>12.2} {:>14.0} {:>15.2} {:>6.0} %",
                i + 1,
                b.rps(),
                b.p99_ms,
                q.rps(),
                q.p99_ms,
                r
            );
        }
        let med = |v: &[Turn], f: fn(&Turn) -> f64| median(v.iter().map(f).collect());
        println!(
            "{:>6} {:>12.0} {:>12.2} {:>14.0} {:>15.2} {:>6.0} %",
            "median",
            med(&self.bare, Turn::rps),
            med(&self.bare, |t| t.p99_ms),
            med(&self.qualead, Turn::rps),
            med(&self.qualead, |t| t.p99_ms),
            median(ratios.clone())
        );
        for (side, t) in [("bare", merged(&self.bare)), ("qualead", merged(&self.qualead))] {
            let [p90, p999, max] = t.tail_ms;
            println!(
                "{side}: {} requests, {} errors; latency (median over turns) p50 {:.2}, p90 {p90:.2}, p99 {:.2}, \
                 p99.9 {p999:.2} ms; slowest {max:.2} ms",
                t.requests, t.errors, t.p50_ms, t.p99_ms
            );
        }
        let per = |cpu: f64, turns: &[Turn]| 1e6 * cpu / (turns.iter().map(|t| t.requests).sum::<u64>().max(1) as f64);
        // SQLite runs inside Qualead: no database process to count.
        let database = if self.database_server {
            format!(", database server {:.1}", per(self.qualead_cpu.database, &self.qualead))
        } else {
            String::new()
        };
        println!(
            "CPU per request, µs: bare turns: wrk {:.1}, bare server {:.1}; qualead turns: wrk {:.1}, qualead {:.1}{database}",
            per(self.bare_cpu.wrk, &self.bare),
            per(self.bare_cpu.server, &self.bare),
            per(self.qualead_cpu.wrk, &self.qualead),
            per(self.qualead_cpu.server, &self.qualead),
        );
        println!(
            "machine idle: bare turns {:.1} %, qualead turns {:.1} %",
            self.bare_cpu.idle_pct(),
            self.qualead_cpu.idle_pct()
        );
        println!(
            "SUMMARY {backend} {what}: median bare {:.0} req/s (p99 {:.2} ms), qualead {:.0} req/s (p99 {:.2} ms), \
             ratio {:.0} % (rounds {})",
            med(&self.bare, Turn::rps),
            med(&self.bare, |t| t.p99_ms),
            med(&self.qualead, Turn::rps),
            med(&self.qualead, |t| t.p99_ms),
            median(ratios.clone()),
            ratios.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
        );
    }
}

/// Alternate the two sides `rounds` times: `bare()`, then `qualead()`.
fn take_turns(
    rounds: usize,
    bare_pid: u32,
    qualead_pid: u32,
    database: &[u32],
    mut bare: impl FnMut() -> Turn,
    mut qualead: impl FnMut() -> Turn,
) -> Phase {
    let load_before = load_average();
    let (mut bare_cpu, mut qualead_cpu) = (Cpu::default(), Cpu::default());
    let (mut b, mut q) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        b.push(bare_cpu.during(bare_pid, &[], &mut bare));
        q.push(qualead_cpu.during(qualead_pid, database, &mut qualead));
    }
    Phase {
        bare: b,
        qualead: q,
        bare_cpu,
        qualead_cpu,
        database_server: !database.is_empty(),
        load_before,
        load_after: load_average(),
    }
}

async fn run_backend(name: &str, db_url: &str, secs: u64, rounds: usize, bare_port: u16, bare_pid: u32) {
    let data = tempfile::tempdir().expect("tmp");
    let seeded = seed(db_url);
    let phases = std::env::var("QUALEAD_BENCH_PHASES").unwrap_or_else(|_| "clicks,postbacks".into());
    let (run_clicks, run_postbacks) = (phases.contains("clicks"), phases.contains("postbacks"));
    // Enough stored clicks for 25,000 postbacks a second on every Qualead turn, and
    // at least the 400,000 of earlier runs (they are in the table during the click
    // phase too).
    let stored_clicks: usize = std::env::var("QUALEAD_BENCH_CLICKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or((rounds * secs as usize * 25_000).max(400_000));
    let ids_file = data.path().join("click_ids.txt");
    let seeded_clicks = if run_postbacks {
        eprintln!("{name}: storing {stored_clicks} clicks for the postbacks");
        store_clicks(db_url, &seeded, stored_clicks, &ids_file);
        stored_clicks as u64
    } else {
        0
    };
    settle_disk();
    let port = free_port();
    let qualead = Server(support::start_qualead(db_url, data.path(), port, &[]));
    support::wait_healthy(port).await;
    let pid = qualead.pid();
    let bare_url = format!("http://127.0.0.1:{bare_port}");
    let url = format!("http://127.0.0.1:{port}");
    let click_args = [seeded.token.clone()];

    // Warm up both sides (which also opens the writers' database connections).
    wrk("click.lua", &bare_url, WARM_UP_SECS, &["x".into()]);
    let mut clicks_counted = wrk("click.lua", &url, WARM_UP_SECS, &click_args).requests;
    let database = database_pids(db_url);
    eprintln!("{name}: qualead pid {pid}, bare server pid {bare_pid}, database backends {database:?}");

    let clicks = run_clicks.then(|| {
        eprintln!("{name}: clicks phase");
        take_turns(
            rounds,
            bare_pid,
            pid,
            &database,
            || wrk("click.lua", &bare_url, secs, &["x".into()]),
            || wrk("click.lua", &url, secs, &click_args),
        )
    });
    if let Some(c) = &clicks {
        clicks_counted += c.qualead.iter().map(|t| t.requests).sum::<u64>();
    }

    let postbacks = run_postbacks.then(|| {
        eprintln!("{name}: postbacks phase");
        let ids = ids_file.display().to_string();
        let args =
            |offset: u64| vec![seeded.postback_token.clone(), ids.clone(), offset.to_string(), THREADS.to_string()];
        let mut offset = 0u64;
        take_turns(
            rounds,
            bare_pid,
            pid,
            &database,
            || wrk("postback.lua", &bare_url, secs, &args(0)),
            || {
                let t = wrk("postback.lua", &url, secs, &args(offset));
                // Past every id this turn used, those in flight at its end included.
                offset += THREADS as u64 * (t.max_sent + 1);
                if offset > seeded_clicks {
                    eprintln!(
                        "{name}: the postbacks used more than the {seeded_clicks} stored clicks; later ones were \
                         duplicates (set QUALEAD_BENCH_CLICKS higher)"
                    );
                }
                t
            },
        )
    });

    let rss = [status_mb(pid, "VmHWM"), status_mb(pid, "RssAnon"), status_mb(pid, "RssFile")];
    let pool = qualead::db::connect(db_url, 1).expect("pool");
    let stored = qualead::store::clicks::count(&mut pool.get().expect("conn")).expect("count") as u64;
    let leads = qualead::store::leads::count(&mut pool.get().expect("conn")).expect("count") as u64;
    drop(qualead);

    if let Some(c) = &clicks {
        c.print(name, "clicks", secs);
    }
    if let Some(p) = &postbacks {
        p.print(name, "postbacks", secs);
    }
    println!();
    // Every redirect wrk counted waited for its click's commit: none may be missing.
    println!(
        "{name}: clicks stored: {stored}; seeded {seeded_clicks} + redirects counted {clicks_counted} (warm-up included)"
    );
    assert!(stored >= seeded_clicks + clicks_counted, "{name}: clicks lost: {stored} stored");
    if let Some(p) = &postbacks {
        let accepted: u64 = p.qualead.iter().map(|t| t.accepted).sum();
        let answered: u64 = p.qualead.iter().map(|t| t.requests).sum();
        let secs_total: f64 = p.qualead.iter().map(|t| t.secs).sum();
        println!(
            "{name}: postbacks: {answered} answered, {accepted} accepted ({:.0} a second); leads stored: {leads} \
             (the rest were in flight when a turn ended)",
            accepted as f64 / secs_total.max(1e-9)
        );
        assert!(leads >= accepted, "{name}: accepted postbacks lost: {leads} leads stored");
    }
    let [peak, anon, file] = rss;
    println!(
        "{name}: peak resident memory: qualead {peak:.1} MB (at the end: {anon:.1} MB its own, {file:.1} MB mapped \
         files such as SQLite's memory-mapped database), bare server {:.1} MB",
        status_mb(bare_pid, "VmHWM")
    );
}

fn main() {
    if let Some(port) = std::env::var("QUALEAD_BENCH_BARE_PORT").ok().and_then(|p| p.parse().ok()) {
        return bare_server(port);
    }
    // `cargo test --benches` lists; nothing to run then.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs: u64 = std::env::var("QUALEAD_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(8);
    let rounds: usize = std::env::var("QUALEAD_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    println!(
        "machine: {} cores, load average {}; commit {}",
        cores(),
        load_average(),
        Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    );
    let (bare_port, bare) = start_bare();
    let bare_pid = bare.pid();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        if std::env::var("QUALEAD_BENCH_SKIP_SQLITE").is_err() {
            let dir = tempfile::tempdir().expect("tmp");
            let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
            run_backend("SQLite", &sqlite, secs, rounds, bare_port, bare_pid).await;
            // Its files go before PostgreSQL's turns, so that the kernel does not write
            // their pages back while PostgreSQL's commits wait on the same disk.
            dir.close().expect("remove the SQLite database");
        }
        support::on_postgres("qualead_bench", |url| async move {
            run_backend("PostgreSQL", &url, secs, rounds, bare_port, bare_pid).await;
        })
        .await;
    });
    drop(bare);
}
