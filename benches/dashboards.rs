//! Dashboard benchmark (`cargo bench --bench dashboards`).
//!
//! Fills a fresh database with `QUALEAD_BENCH_CLICKS` clicks (default 10,000,000)
//! and one lead per ten clicks (1,000,000) spread over 90 days: 5 advertisers with
//! 4 offers each, 50 publishers running 4 offers each, sub1–sub3 and country values,
//! leads in every status. Clicks go through the click writer's store call and leads
//! through the intake's, so the rollups are what the server would have kept. Then
//! starts the real server on that database, logs in as one publisher, one
//! advertiser and the admin, and times each dashboard and report page: the time
//! from sending the request to the last byte of the answer, over loopback, which
//! bounds the server's time per page. Prints p50, p95 and max per page.
//! `QUALEAD_BENCH_POSTGRES_URL` also runs it on PostgreSQL; `QUALEAD_BENCH_DB`
//! keeps (and later reuses) the SQLite database at a path, and
//! `QUALEAD_BENCH_POSTGRES_DB` the PostgreSQL database of that name.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Duration;
use diesel::RunQueryDsl;
use qualead::db::{self, DbConn};
use qualead::domain::account::Role;
use qualead::domain::offer::{self, OfferBody, OfferStatus, Terms, split_price};
use qualead::store::clicks::{self, NewClick};
use qualead::store::leads::{self, NewLead};
use qualead::store::offers::{self, MembershipStatus};
use qualead::store::rollups::{self, Delta, Key};
use qualead::store::{ledger, now, users};
use rand::{Rng, SeedableRng};

mod support;

const ADVERTISERS: usize = 5;
const OFFERS_EACH: usize = 4;
const PUBLISHERS: usize = 50;
const JOINS: usize = 4;
const DAYS: i64 = 90;
const CHUNK: usize = 10_000;
const PASSWORD: &str = "bench-password-1";
const COUNTRIES: [&str; 8] = ["US", "US", "US", "GB", "CA", "DE", "AU", "FR"];

struct Seeded {
    advertisers: Vec<i64>,
    /// (offer, advertiser, price)
    offers: Vec<(i64, i64, i64)>,
    publishers: Vec<i64>,
}

fn seed(conn: &mut DbConn) -> Seeded {
    let hash = qualead::crypto::hash_password(PASSWORD).expect("hash");
    let mut user = |role: Role, email: String, name: String| {
        users::create(conn, users::UserSpec::active(&email, &hash, role, &name)).expect("user").id
    };
    user(Role::Admin, "admin@bench.example".into(), "Admin".into());
    let advertisers: Vec<i64> = (0..ADVERTISERS)
        .map(|i| user(Role::Advertiser, format!("adv{i}@bench.example"), format!("Advertiser {i}")))
        .collect();
    let publishers: Vec<i64> = (0..PUBLISHERS)
        .map(|i| user(Role::Publisher, format!("pub{i}@bench.example"), format!("Publisher {i}")))
        .collect();
    let mut offers_out = Vec::new();
    for (a, adv) in advertisers.iter().enumerate() {
        for k in 0..OFFERS_EACH {
            let price = 5_00 + (a * OFFERS_EACH + k) as i64 * 75;
            let body = OfferBody {
                name: format!("Offer {a}-{k}"),
                category: "finance".into(),
                landing_url: "https://adv.example/?cid={click_id}".into(),
                payout_model: "cpl".into(),
                price: Some(qualead::domain::money::format_minor(price)),
                terms: Terms { hold_hours: 72, ..Terms::default() },
                ..Default::default()
            };
            let o = offers::create(conn, *adv, &offer::validate(&body).expect("offer")).expect("offer");
            offers::set_status(conn, o.id, OfferStatus::Draft, OfferStatus::Active, None).expect("activate");
            offers_out.push((o.id, *adv, price));
        }
    }
    for (p, publisher) in publishers.iter().enumerate() {
        for j in 0..JOINS {
            let o = offers_out[(p * 3 + j * 5) % offers_out.len()].0;
            offers::add_member(conn, o, *publisher, MembershipStatus::Approved, false).expect("member");
        }
    }
    Seeded { advertisers, offers: offers_out, publishers }
}

fn fill(conn: &mut DbConn, s: &Seeded, n: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    // Enough on every balance for the pending leads' reservations.
    for adv in &s.advertisers {
        ledger::post(
            conn,
            &ledger::Posting { kind: "deposit", lead_id: None, actor_id: None, memo: "bench" },
            &[ledger::Transfer::new(ledger::EXTERNAL, ledger::advertiser(*adv), 100_000_000_00)],
        )
        .expect("deposit");
    }
    let start = now() - Duration::days(DAYS);
    let span_ms = DAYS * 86_400_000;
    let mut done = 0;
    while done < n {
        let size = CHUNK.min(n - done);
        let mut click_rows = Vec::with_capacity(size);
        let mut lead_rows = Vec::with_capacity(size / 10);
        for k in 0..size {
            let i = done + k;
            let p = rng.gen_range(0..PUBLISHERS);
            let (offer_id, advertiser_id, price) = s.offers[(p * 3 + rng.gen_range(0..JOINS) * 5) % s.offers.len()];
            let publisher_id = s.publishers[p];
            // In time order, so a batch touches few rollup hours, as live traffic does.
            let at = start + Duration::milliseconds(span_ms * i as i64 / n as i64);
            let sub1 = format!("site-{p}-{}", rng.gen_range(0..5));
            let sub2 = format!("campaign-{}", rng.gen_range(0..10));
            let sub3 = ["mobile", "desktop", "tablet"][rng.gen_range(0..3)].to_string();
            let country = COUNTRIES[rng.gen_range(0..COUNTRIES.len())];
            let click_id = format!("bench{i:021}");
            if i % 10 == 0 {
                let age = now() - at;
                let status = if age < Duration::hours(72) {
                    "pending"
                } else {
                    match rng.gen_range(0..100) {
                        0..=64 => "approved",
                        65..=89 => "rejected",
                        90..=94 => "reversed",
                        _ => "disputed",
                    }
                };
                let (fee, payout) = split_price(price, 2000);
                lead_rows.push(NewLead {
                    offer_id,
                    publisher_id,
                    advertiser_id,
                    click_id: Some(click_id.clone()),
                    channel: "postback".into(),
                    event: "lead".into(),
                    txid: None,
                    dedupe_key: format!("ev:{click_id}:lead"),
                    status: status.parse().expect("a lead status"),
                    amount_minor: None,
                    price_minor: price,
                    fee_minor: fee,
                    payout_minor: payout,
                    fee_bps: 2000,
                    fields: format!("{{\"email\":\"user{i}@example.com\"}}"),
                    consent: true,
                    sub1: sub1.clone(),
                    sub2: sub2.clone(),
                    sub3: sub3.clone(),
                    sub4: String::new(),
                    sub5: String::new(),
                    source: String::new(),
                    country: Some(country.into()),
                    ip: format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
                    click_at: Some(at),
                    hold_until: at + Duration::hours(72),
                    created_at: at + Duration::seconds(90),
                    updated_at: at + Duration::seconds(90),
                    email_norm: Some(format!("user{i}@example.com")),
                    phone_norm: None,
                    terms_id: None,
                });
            }
            click_rows.push(NewClick {
                click_id,
                offer_id,
                publisher_id,
                sub1,
                sub2,
                sub3,
                sub4: String::new(),
                sub5: String::new(),
                source: String::new(),
                ip: format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
                user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0".into(),
                referrer: String::new(),
                country: Some(country.into()),
                redirect_reason: None,
                created_at: at,
                is_unique: rng.gen_ratio(9, 10),
                country_source: "unknown".into(),
                device: "unknown".into(),
                os: "other".into(),
                repeat_clicks: 0,
            });
        }
        clicks::insert_batch(conn, &click_rows).expect("clicks");
        conn.write_tx(|c| -> diesel::QueryResult<()> {
            leads::insert_many(c, &lead_rows)?;
            // Pending leads hold their price in escrow, as intake leaves them.
            let mut net: BTreeMap<String, i64> = BTreeMap::new();
            let mut deltas: BTreeMap<Key, Delta> = BTreeMap::new();
            for l in &lead_rows {
                if l.status.is_pending() {
                    *net.entry(ledger::advertiser(l.advertiser_id)).or_default() -= l.price_minor;
                    *net.entry(ledger::escrow(l.advertiser_id)).or_default() += l.price_minor;
                }
                let (key, d) = leads::created_delta(l);
                *deltas.entry(key).or_default() += d;
            }
            ledger::apply_net(c, &net)?;
            rollups::add_many(c, &deltas)
        })
        .expect("leads");
        done += size;
        if done % 1_000_000 == 0 || done == n {
            eprintln!("  … {done} clicks stored");
        }
    }
}

async fn login(base: &str, email: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = client.get(format!("{base}/login")).send().await.expect("login form").text().await.expect("html");
    let csrf =
        regex::Regex::new(r#"name="csrf_token" value="([^"]+)""#).expect("regex").captures(&form).expect("csrf token")
            [1]
        .to_string();
    let r = client
        .post(format!("{base}/login"))
        .form(&[("email", email), ("password", PASSWORD), ("csrf_token", &csrf), ("next", "")])
        .send()
        .await
        .expect("login");
    assert!(r.status().is_redirection(), "login as {email}: {}", r.status());
    client
}

/// Times `rounds` loads of a page; (p50, p95, max) in milliseconds and the size.
async fn time_page(client: &reqwest::Client, url: &str, rounds: usize) -> (f64, f64, f64, usize) {
    let mut ms = Vec::with_capacity(rounds);
    let mut size = 0;
    for i in 0..rounds + 2 {
        let t = Instant::now();
        let r = client.get(url).send().await.expect("page");
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{url}");
        size = r.bytes().await.expect("body").len();
        if i >= 2 {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() * 95 / 100], ms[ms.len() - 1], size)
}

async fn run(label: &str, url: &str, n: usize, reuse: bool) {
    if !reuse {
        let pool = db::connect(url, 2).expect("pool");
        let mut conn = pool.get().expect("conn");
        db::migrate(&mut conn).expect("migrate");
        let seeded = seed(&mut conn);
        let t = Instant::now();
        fill(&mut conn, &seeded, n);
        eprintln!("{label}: {n} clicks and {} leads stored in {:.0} s", n / 10, t.elapsed().as_secs_f64());
        qualead::per_backend!(&mut *conn, c => diesel::sql_query("ANALYZE").execute(c)).expect("analyze");
        let rows: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT CAST(COUNT(*) AS BIGINT) FROM rollups)",
        ))
        .get_result(&mut conn)
        .expect("count");
        eprintln!("{label}: {rows} rollup rows");
    }
    let data = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut child = support::start_qualead(url, data.path(), port, &[("QUALEAD_SETTLE_INTERVAL_SECS", "86400")]);
    let base = format!("http://127.0.0.1:{port}");
    support::wait_healthy(port).await;
    let rounds: usize = std::env::var("QUALEAD_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let pages: [(&str, &str, &[&str]); 3] = [
        (
            "pub0@bench.example",
            "publisher",
            &["/publisher", "/publisher/reports?group_by=day", "/publisher/reports?group_by=sub2"],
        ),
        (
            "adv0@bench.example",
            "advertiser",
            &["/advertiser", "/advertiser/reports?group_by=publisher", "/advertiser/reports?group_by=country"],
        ),
        ("admin@bench.example", "admin", &["/admin", "/admin/reports?group_by=offer"]),
    ];
    println!("{label}: {n} clicks, {} leads; {rounds} loads per page, 30-day default range", n / 10);
    println!("{:<42} {:>9} {:>9} {:>9} {:>9}", "page", "p50 ms", "p95 ms", "max ms", "bytes");
    for (email, _role, urls) in pages {
        let client = login(&base, email).await;
        for path in urls {
            let (p50, p95, max, size) = time_page(&client, &format!("{base}{path}"), rounds).await;
            println!("{path:<42} {p50:>9.1} {p95:>9.1} {max:>9.1} {size:>9}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("QUALEAD_BENCH_CLICKS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let dir = tempfile::tempdir().expect("tmp");
    // QUALEAD_BENCH_DB=path keeps the filled SQLite database there, and a later run
    // with the same path measures it again without filling.
    let path =
        std::env::var("QUALEAD_BENCH_DB").map(std::path::PathBuf::from).unwrap_or_else(|_| dir.path().join("dash.db"));
    let reuse = path.exists();
    run("SQLite", &format!("sqlite://{}", path.display()), n, reuse).await;
    // QUALEAD_BENCH_POSTGRES_DB=name does the same with a PostgreSQL database.
    match std::env::var("QUALEAD_BENCH_POSTGRES_DB") {
        Ok(name) => {
            if let Some((url, reuse)) = support::kept_postgres(&name) {
                run("PostgreSQL", &url, n, reuse).await;
            }
        }
        Err(_) => {
            support::on_postgres("qualead_dash", |url| async move { run("PostgreSQL", &url, n, false).await }).await
        }
    }
}
