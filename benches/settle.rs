//! Settlement benchmark (`cargo bench --bench settle`).
//!
//! Fills a fresh database with `QUALEAD_BENCH_LEADS` pending leads (default
//! 1,000,000) whose hold has ended — each with its click, its reservation in the
//! ledger and believable contact data (some disposable, duplicate, bot, too fast,
//! out of geo, gibberish or over the IP limit) — on offers with every scrub rule of
//! DESIGN §7 switched on. Then times one settlement run (`settle_due`, the code the
//! server and `qualead settle` run) and prints leads per second, on SQLite and, when
//! `QUALEAD_BENCH_POSTGRES_URL` names a server to create a database on, PostgreSQL.
//! Finally checks the ledger's invariants.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Duration;
use diesel::{Connection, RunQueryDsl};
use qualead::db::{self, DbConn};
use qualead::domain::account::Role;
use qualead::domain::lifecycle::{LeadMoney, MoneyEvent};
use qualead::domain::offer::{self, OfferBody, OfferStatus, Scrub, Terms, split_price};
use qualead::settlement::run::{BATCH, settle_due};
use qualead::store::clicks::{self, NewClick};
use qualead::store::leads::{self, NewLead};
use qualead::store::offers::{self, MembershipStatus};
use qualead::store::{ledger, now, users};
use rand::{Rng, SeedableRng};

const OFFERS: usize = 4;
const PUBLISHERS: usize = 20;
const CHUNK: usize = 5_000;

const FIRST: [&str; 12] =
    ["Ann", "Bo", "Carla", "Dmitri", "Eun-ji", "Farid", "Grace", "Hiro", "Ines", "José", "Kwame", "Lena"];
const LAST: [&str; 12] =
    ["Lee", "Chen", "Okafor", "Ivanov", "Kim", "Haddad", "O'Brien", "Tanaka", "García", "Núñez", "Mensah", "Schulz"];
const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
];

fn terms() -> Terms {
    Terms {
        required_fields: vec!["email".into(), "name".into(), "phone".into()],
        hold_hours: 24,
        allowed_countries: vec!["US".into(), "GB".into(), "CA".into()],
        scrub: Scrub {
            duplicate_days: 30,
            duplicate_scope: "offer".into(),
            min_seconds: 5,
            max_conversion_days: 0,
            max_leads_per_ip: 3,
            duplicate_click_minutes: 10,
            duplicate_click_flag: 5,
            duplicate_click_reject: 20,
            block_disposable: true,
            block_bots: true,
            block_datacenter: true,
            block_relay: false,
            check_email: true,
            check_phone: true,
            check_name: true,
            min_score: 50,
        },
        ..Terms::default()
    }
}

struct Seeded {
    advertiser_id: i64,
    offers: Vec<i64>,
    publishers: Vec<i64>,
}

fn seed(conn: &mut DbConn) -> Seeded {
    let mut user = |role: Role, email: String| {
        users::create(conn, users::UserSpec::active(&email, "bench", role, "Bench")).expect("user").id
    };
    let advertiser_id = user(Role::Advertiser, "adv@bench.example".into());
    let publishers: Vec<i64> =
        (0..PUBLISHERS).map(|i| user(Role::Publisher, format!("pub{i}@bench.example"))).collect();
    let mut ids = Vec::new();
    for i in 0..OFFERS {
        let body = OfferBody {
            name: format!("Bench offer {i}"),
            category: "finance".into(),
            landing_url: "https://adv.example/?cid={click_id}".into(),
            payout_model: "cpl".into(),
            price: Some("12.50".into()),
            terms: terms(),
            ..Default::default()
        };
        let o = offers::create(conn, advertiser_id, &offer::validate(&body).expect("offer")).expect("offer");
        offers::set_status(conn, o.id, OfferStatus::Draft, OfferStatus::Active, None).expect("activate");
        for p in &publishers {
            offers::add_member(conn, o.id, *p, MembershipStatus::Approved, false).expect("member");
        }
        ids.push(o.id);
    }
    Seeded { advertiser_id, offers: ids, publishers }
}

/// `n` pending leads past their hold, with clicks and reservations.
fn fill(conn: &mut DbConn, s: &Seeded, n: usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let price = 12_50;
    let (fee, payout) = split_price(price, 2000);
    let money = LeadMoney { price, payout, fee };
    let deposit = MoneyEvent::Deposit { advertiser_id: s.advertiser_id, amount: price * n as i64 + 1 };
    ledger::post(
        conn,
        &ledger::Posting { kind: "deposit", lead_id: None, actor_id: None, memo: "bench" },
        &deposit.transfers(),
    )
    .expect("deposit");
    let base = now() - Duration::hours(30);
    let mut done = 0;
    while done < n {
        let size = CHUNK.min(n - done);
        let mut click_rows = Vec::with_capacity(size);
        let mut lead_rows = Vec::with_capacity(size);
        for k in 0..size {
            let i = done + k;
            let offer_id = s.offers[i % OFFERS];
            let publisher_id = s.publishers[(i / OFFERS) % PUBLISHERS];
            let created = base + Duration::milliseconds(i as i64 * 5);
            let click_at = created - Duration::seconds(if rng.gen_ratio(3, 100) { 2 } else { rng.gen_range(20..900) });
            let click_id = format!("bench{i:021}");
            let roll: u32 = rng.gen_range(0..100);
            let agent = if roll == 0 { "python-requests/2.32" } else { AGENTS[i % AGENTS.len()] };
            let country = if roll == 1 { "FR" } else { ["US", "GB", "CA"][i % 3] };
            // Mostly unique addresses; some repeat an earlier lead, some are disposable.
            let email = match roll {
                2..=4 => format!("user{}@example.com", i.saturating_sub(40)),
                5..=8 => format!("user{i}@mailinator.com"),
                _ => format!("user{i}@example.com"),
            };
            let name = if roll == 9 {
                "asdfgh qwerty".to_string()
            } else {
                format!("{} {}", FIRST[i % 12], LAST[(i / 12) % 12])
            };
            let phone_digits = format!("1212{:07}", 2_000_000 + (i % 7_000_000));
            let ip = if roll == 10 {
                "198.51.100.7".to_string()
            } else {
                format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255)
            };
            click_rows.push(NewClick {
                click_id: click_id.clone(),
                offer_id,
                publisher_id,
                sub1: format!("s{}", i % 10),
                sub2: String::new(),
                sub3: String::new(),
                sub4: String::new(),
                sub5: String::new(),
                source: String::new(),
                ip: ip.clone(),
                user_agent: agent.into(),
                referrer: String::new(),
                country: Some(country.into()),
                redirect_reason: None,
                created_at: click_at,
                is_unique: true,
                country_source: "unknown".into(),
                device: "unknown".into(),
                os: "other".into(),
                repeat_clicks: if roll == 10 { 8 } else { 0 },
            });
            let fields = serde_json::json!({"email": email, "name": name, "phone": format!("+{phone_digits}")});
            lead_rows.push(NewLead {
                offer_id,
                publisher_id,
                advertiser_id: s.advertiser_id,
                click_id: Some(click_id.clone()),
                channel: "postback".into(),
                event: "lead".into(),
                txid: None,
                dedupe_key: format!("ev:{click_id}:lead"),
                status: qualead::domain::lifecycle::LeadStatus::Pending,
                amount_minor: None,
                price_minor: price,
                fee_minor: fee,
                payout_minor: payout,
                fee_bps: 2000,
                fields: fields.to_string(),
                consent: true,
                sub1: format!("s{}", i % 10),
                sub2: String::new(),
                sub3: String::new(),
                sub4: String::new(),
                sub5: String::new(),
                source: String::new(),
                country: Some(country.into()),
                ip,
                click_at: Some(click_at),
                hold_until: created + Duration::hours(24),
                created_at: created,
                updated_at: created,
                email_norm: Some(email.to_lowercase()),
                phone_norm: Some(format!("+{phone_digits}")),
                terms_id: None,
            });
        }
        clicks::insert_batch(conn, &click_rows).expect("clicks");
        conn.write_tx(|c| -> diesel::QueryResult<()> {
            let ids = leads::insert_many(c, &lead_rows)?;
            let items: Vec<(i64, Vec<ledger::Transfer>)> = ids
                .iter()
                .map(|(id, _, _)| (*id, MoneyEvent::Accepted { advertiser_id: s.advertiser_id, money }.transfers()))
                .collect();
            ledger::record_many(c, "lead_accepted", "bench", &items, now())?;
            let total = price * ids.len() as i64;
            let net = BTreeMap::from([
                (ledger::advertiser(s.advertiser_id), -total),
                (ledger::escrow(s.advertiser_id), total),
            ]);
            ledger::apply_net(c, &net)
        })
        .expect("leads");
        done += size;
        if done % 100_000 == 0 || done == n {
            eprintln!("  … {done} leads stored");
        }
    }
}

fn run(label: &str, url: &str, n: usize) {
    let pool = db::connect(url, 2).expect("pool");
    let mut conn = pool.get().expect("conn");
    db::migrate(&mut conn).expect("migrate");
    let seeded = seed(&mut conn);
    let t = Instant::now();
    fill(&mut conn, &seeded, n);
    eprintln!("{label}: {n} leads stored in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let summary = settle_due(&mut conn, now(), BATCH).expect("settle");
    let secs = t.elapsed().as_secs_f64();
    let health = ledger::health(&mut conn).expect("health");
    println!(
        "{label:<10} settled {:>9} leads in {secs:>6.1} s = {:>7.0} leads/s  ({} approved, {} rejected; ledger balanced: {})",
        summary.settled(),
        summary.settled() as f64 / secs,
        summary.approved,
        summary.rejected,
        health.balanced
    );
    assert_eq!(summary.settled() as usize, n, "every lead settled");
    assert!(health.balanced, "{health:?}");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("QUALEAD_BENCH_LEADS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tmp");
    run("SQLite", &format!("sqlite://{}", dir.path().join("settle.db").display()), n);
    if let Ok(admin) = std::env::var("QUALEAD_BENCH_POSTGRES_URL") {
        let name = format!("qualead_settle_{}", std::process::id());
        let mut c = diesel::PgConnection::establish(&admin).expect("postgres");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut c).expect("create db");
        let mut url = url::Url::parse(&admin).expect("url");
        url.set_path(&name);
        run("PostgreSQL", url.as_str(), n);
        diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(&mut c).expect("drop db");
    }
}
