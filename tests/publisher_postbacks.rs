//! Platform → publisher postbacks against a real server and a small tracker on
//! loopback: macros filled, retries after a bad answer, the give-up after every
//! attempt, claims shared by two servers, the private-target guard, and the
//! publisher's delivery log.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection;
use qualead::db::DbConn;
use qualead::domain::offer::OfferBody;
use qualead::store::leads::{self, Lead, NewLead};
use qualead::store::offers::{self, MembershipStatus};
use qualead::store::postbacks::{self, AfterFailure, Delivery};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{Backend, Market, TestApp, spawn_app, spawn_app_with};

/// One request the tracker received.
#[derive(Debug, Clone)]
struct Seen {
    /// `GET /pb?… HTTP/1.1`
    line: String,
    user_agent: String,
}

/// A publisher's tracker on 127.0.0.1: records every request and answers with the
/// next queued status, 200 once the queue is empty.
struct Tracker {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Tracker {
    async fn start(answers: &[u16]) -> Tracker {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the tracker");
        let addr = listener.local_addr().expect("tracker address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(answers.iter().copied().collect::<VecDeque<u16>>()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (log, answers) = (log.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).into_owned();
                    let line = head.lines().next().unwrap_or_default().to_string();
                    let user_agent = head
                        .lines()
                        .find_map(|l| l.strip_prefix("user-agent: ").or_else(|| l.strip_prefix("User-Agent: ")))
                        .unwrap_or_default()
                        .to_string();
                    log.lock().expect("log").push(Seen { line, user_agent });
                    let code = answers.lock().expect("answers").pop_front().unwrap_or(200);
                    let body = if code == 200 { "ok" } else { "try later" };
                    // A redirect points elsewhere: it must not be followed.
                    let location = if (300..400).contains(&code) { "Location: /elsewhere\r\n" } else { "" };
                    let answer = format!(
                        "HTTP/1.1 {code} Answer\r\n{location}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Tracker { addr, seen }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

fn market(app: &TestApp) -> Market {
    let body = OfferBody {
        name: "Solar quotes".into(),
        category: "home".into(),
        landing_url: "https://solar.example/quote".into(),
        payout_model: "cpl".into(),
        price: Some("10.00".into()),
        ..Default::default()
    };
    common::Market::of(&body).deposit(1_000_00).seed(&app.db.url)
}

/// Set the postback URL of `publisher_id` on the market's offer.
fn set_template(conn: &mut DbConn, m: &Market, publisher_id: i64, template: &str) {
    let membership = offers::membership(conn, m.offer_id, publisher_id).expect("query").expect("a membership");
    offers::set_postback_template(conn, membership.id, template).expect("set the postback URL");
}

/// A lead of `publisher_id` on the market's offer and its queued postback, written
/// in one transaction as intake does; returns the lead and the delivery id.
fn lead_with_postback(conn: &mut DbConn, m: &Market, publisher_id: i64, sub1: &str) -> (Lead, i64) {
    conn.transaction(|c| {
        let id = leads::insert(c, &NewLead { sub1: sub1.into(), ..common::new_lead(m, publisher_id) })?;
        let lead = leads::find(c, id)?.expect("the lead just written");
        // Its price reserved, as intake does (the ledger is checked after every test).
        let reserve =
            qualead::domain::lifecycle::MoneyEvent::Accepted { advertiser_id: m.advertiser_id, money: lead.money() };
        let posting =
            qualead::store::ledger::Posting { kind: "lead_accepted", lead_id: Some(id), actor_id: None, memo: "" };
        qualead::store::ledger::post(c, &posting, &reserve.transfers())
            .map_err(|e| diesel::result::Error::QueryBuilderError(format!("{e:?}").into()))?;
        let delivery = postbacks::enqueue(c, &lead, "created")?.expect("a postback is queued");
        Ok::<_, diesel::result::Error>((lead, delivery))
    })
    .expect("lead and postback")
}

fn delivery(conn: &mut DbConn, lead_id: i64) -> Delivery {
    postbacks::for_lead(conn, lead_id).expect("deliveries").pop().expect("one delivery")
}

/// Poll the database until the lead's delivery satisfies `done` (at most 30 s).
async fn wait_for(conn: &mut DbConn, lead_id: i64, what: &str, done: impl Fn(&Delivery) -> bool) -> Delivery {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = delivery(conn, lead_id);
        if done(&d) {
            return d;
        }
        assert!(Instant::now() < deadline, "the postback of lead {lead_id} never became {what}: {d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn metric(app: &TestApp, outcome: &str) -> String {
    let text = app.get("/metrics").await.text().await.expect("metrics");
    let name = format!("qualead_publisher_postbacks_total{{outcome=\"{outcome}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&name)).unwrap_or("0").to_string()
}

async fn macros_are_filled_and_the_tracker_called(backend: Backend) {
    let app = spawn_app(backend).await;
    let tracker = Tracker::start(&[]).await;
    let m = market(&app);
    let mut conn = app.conn();
    set_template(
        &mut conn,
        &m,
        m.publisher_id,
        &tracker.url(
            "/pb?cid={click_id}&s1={sub1}&lead={lead_id}&offer={offer_id}&st={status}&pay={payout}&ev={event}&s2={sub2}",
        ),
    );
    let (lead, _) = lead_with_postback(&mut conn, &m, m.publisher_id, "spring sale&more");

    let d = wait_for(&mut conn, lead.id, "delivered", |d| d.status.as_str() == "delivered").await;
    assert_eq!((d.attempts, d.response_code, d.last_error.as_str()), (1, Some(200), ""));
    assert!(d.delivered_at.is_some());
    assert_eq!(d.event, "created");

    let seen = tracker.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let click_id = lead.click_id.as_deref().expect("click id");
    assert_eq!(
        seen[0].line,
        format!(
            "GET /pb?cid={click_id}&s1=spring+sale%26more&lead={}&offer={}&st=pending&pay=8.00&ev=lead&s2= HTTP/1.1",
            lead.id, m.offer_id
        )
    );
    assert_eq!(seen[0].user_agent, format!("Qualead-Postback/{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(metric(&app, "delivered").await, "1");
}

async fn a_failed_postback_is_retried_until_delivered(backend: Backend) {
    let app = spawn_app_with(backend, &[("QUALEAD_POSTBACK_RETRY_BASE_MS", "50")]).await;
    let tracker = Tracker::start(&[500, 302]).await;
    let m = market(&app);
    let mut conn = app.conn();
    set_template(&mut conn, &m, m.publisher_id, &tracker.url("/pb?lead={lead_id}"));
    let (lead, _) = lead_with_postback(&mut conn, &m, m.publisher_id, "");

    // A tracker that is down: no answer, the network error is kept (without the URL).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    set_template(&mut conn, &m, m.publisher_id, &format!("http://{closed}/down?lead={{lead_id}}"));
    let (down, _) = lead_with_postback(&mut conn, &m, m.publisher_id, "");
    let d = wait_for(&mut conn, down.id, "attempted", |d| d.attempts >= 1).await;
    assert!(matches!(d.status.as_str(), "pending" | "failed"), "{d:?}");
    assert_eq!(d.response_code, None);
    assert!(d.last_error.contains("onnect"), "{}", d.last_error);
    assert!(!d.last_error.contains("/down"), "{}", d.last_error);

    let d = wait_for(&mut conn, lead.id, "delivered", |d| d.status.as_str() == "delivered").await;
    assert_eq!((d.attempts, d.response_code, d.last_error.as_str()), (3, Some(200), ""));
    let seen = tracker.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|s| s.line == format!("GET /pb?lead={} HTTP/1.1", lead.id)), "{seen:?}");
    assert!(metric(&app, "retry").await.parse::<u64>().expect("a count") >= 3, "two bad answers, one dead tracker");
    assert_eq!(metric(&app, "delivered").await, "1");
}

async fn the_guard_blocks_private_targets(backend: Backend) {
    let app = spawn_app_with(backend, &[("QUALEAD_BLOCK_PRIVATE_TARGETS", "true")]).await;
    let tracker = Tracker::start(&[]).await;
    let m = market(&app);
    let mut conn = app.conn();

    set_template(&mut conn, &m, m.publisher_id, &tracker.url("/pb?lead={lead_id}"));
    let (by_ip, _) = lead_with_postback(&mut conn, &m, m.publisher_id, "");
    let by_name = format!("http://localhost:{}/pb?lead={{lead_id}}", tracker.addr.port());
    set_template(&mut conn, &m, m.publisher_id, &by_name);
    let (by_host, _) = lead_with_postback(&mut conn, &m, m.publisher_id, "");

    let d = wait_for(&mut conn, by_ip.id, "blocked", |d| d.status.as_str() != "pending").await;
    assert_eq!(d.status.as_str(), "blocked");
    assert_eq!(d.last_error, "127.0.0.1 is a loopback address");
    assert_eq!((d.attempts, d.response_code), (0, None));
    let d = wait_for(&mut conn, by_host.id, "blocked", |d| d.status.as_str() != "pending").await;
    assert_eq!(d.status.as_str(), "blocked");
    assert!(d.last_error.starts_with("localhost resolves to "), "{}", d.last_error);
    assert!(d.last_error.ends_with("a loopback address"), "{}", d.last_error);

    assert!(tracker.seen().is_empty(), "the guard let a request through: {:?}", tracker.seen());
    assert_eq!(metric(&app, "blocked").await, "2");
}

/// IPv6 forms that embed an IPv4 address are judged by it: each of these reaches
/// (or may reach) 127.0.0.1, so none is fired.
async fn the_guard_judges_ipv4_embedding_ipv6_forms_by_their_ipv4(backend: Backend) {
    let app = spawn_app_with(backend, &[("QUALEAD_BLOCK_PRIVATE_TARGETS", "true")]).await;
    let tracker = Tracker::start(&[]).await;
    let m = market(&app);
    let mut conn = app.conn();
    let port = tracker.addr.port();
    let mut leads = vec![];
    for host in [
        "[::ffff:127.0.0.1]",
        "[::ffff:0:127.0.0.1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[64:ff9b:1::7f00:1]",
        "[2002:7f00:1::1]",
        "[2001:0:808:808::80ff:fffe]",
    ] {
        set_template(&mut conn, &m, m.publisher_id, &format!("http://{host}:{port}/pb?lead={{lead_id}}"));
        leads.push((host, lead_with_postback(&mut conn, &m, m.publisher_id, "").0));
    }
    for (host, lead) in &leads {
        let d = wait_for(&mut conn, lead.id, "blocked", |d| d.status.as_str() != "pending").await;
        assert_eq!(d.status.as_str(), "blocked", "{host}: {d:?}");
        assert!(d.last_error.ends_with("a loopback address"), "{host}: {}", d.last_error);
        assert_eq!(d.attempts, 0, "{host}");
    }
    assert!(tracker.seen().is_empty(), "the guard let a request through: {:?}", tracker.seen());
    assert_eq!(metric(&app, "blocked").await, leads.len().to_string());
}

async fn the_log_shows_a_publisher_its_own_deliveries(backend: Backend) {
    let app = spawn_app(backend).await;
    let tracker = Tracker::start(&[]).await;
    let m = market(&app);
    let me = app.create_user("publisher", "me@example.com");
    let mine = common::new_client();
    assert_eq!(app.login(&mine, "me@example.com", common::PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let mut conn = app.conn();
    offers::add_member(&mut conn, m.offer_id, me, MembershipStatus::Approved, false).expect("join");
    set_template(&mut conn, &m, me, &tracker.url("/pb?who=mine-{lead_id}"));
    set_template(&mut conn, &m, m.publisher_id, &tracker.url("/pb?who=theirs-{lead_id}"));
    let (my_lead, _) = lead_with_postback(&mut conn, &m, me, "");
    let (their_lead, _) = lead_with_postback(&mut conn, &m, m.publisher_id, "");
    wait_for(&mut conn, my_lead.id, "delivered", |d| d.status.as_str() == "delivered").await;
    wait_for(&mut conn, their_lead.id, "delivered", |d| d.status.as_str() == "delivered").await;

    let (status, html) = app.get_text(&mine, "/publisher/postbacks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/publisher/postbacks""#), "the navigation links the log");
    assert!(html.contains(&format!("who=mine-{}", my_lead.id)), "{html}");
    assert!(html.contains(&format!("#{}", my_lead.id)), "{html}");
    assert!(html.contains("Solar quotes"), "{html}");
    assert!(html.contains("status-delivered"), "{html}");
    assert!(html.contains("<td class=\"num\">200</td>"), "{html}");
    assert!(!html.contains("theirs-"), "another publisher's delivery is shown: {html}");

    let other = app.login_as("publisher", "other@example.com").await;
    let (status, html) = app.get_text(&other, "/publisher/postbacks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("mine-") && !html.contains("theirs-"), "{html}");
    assert!(html.contains("No postbacks yet"), "{html}");

    let advertiser = app.login_as("advertiser", "adv@example.com").await;
    let (status, _) = app.get_text(&advertiser, "/publisher/postbacks").await;
    assert_ne!(status, StatusCode::OK, "an advertiser has no postback log");
}

async fn two_servers_deliver_each_postback_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let second = common::spawn_on(app.db.alias(), backend, &[]).await;
    let tracker = Tracker::start(&[]).await;
    let m = market(&app);
    let mut conn = app.conn();
    set_template(&mut conn, &m, m.publisher_id, &tracker.url("/pb?lead={lead_id}"));
    let leads: Vec<Lead> = (0..40).map(|_| lead_with_postback(&mut conn, &m, m.publisher_id, "").0).collect();
    for lead in &leads {
        wait_for(&mut conn, lead.id, "delivered", |d| d.status.as_str() == "delivered").await;
    }
    let seen = tracker.seen();
    let distinct: HashSet<&str> = seen.iter().map(|s| s.line.as_str()).collect();
    assert_eq!((seen.len(), distinct.len()), (40, 40), "each postback is sent exactly once");
    assert!(leads.iter().all(|l| delivery(&mut conn, l.id).attempts == 1));
    drop(second);
}

/// The queue itself, without a running worker: leases, retries, the give-up.
async fn claims_lease_and_give_up(backend: Backend) {
    let db = common::TestDb::new(backend);
    let data = tempfile::tempdir().expect("temp dir");
    let config = common::test_config(&db.url, data.path(), &[]);
    let pool = qualead::app::prepare_database(&config).expect("migrated");
    let mut conn = pool.get().expect("conn");
    let body = OfferBody {
        name: "Queue".into(),
        category: "home".into(),
        landing_url: "https://q.example/".into(),
        payout_model: "cpl".into(),
        price: Some("5.00".into()),
        ..Default::default()
    };
    let m = common::Market::of(&body).deposit(1_000_00).seed(&db.url);
    set_template(&mut conn, &m, m.publisher_id, "https://tracker.example/pb?l={lead_id}");
    let (lead, id) = lead_with_postback(&mut conn, &m, m.publisher_id, "");

    let claimed = postbacks::claim_due(&mut conn, 10).expect("claim");
    assert_eq!(claimed.iter().map(|d| d.id).collect::<Vec<_>>(), vec![id]);
    assert!(claimed[0].locked_until.is_some());
    assert_eq!(claimed[0].url, format!("https://tracker.example/pb?l={}", lead.id));
    assert!(postbacks::claim_due(&mut conn, 10).expect("claim").is_empty(), "a leased delivery is not claimed twice");

    let base = chrono::Duration::zero();
    for attempt in 1..postbacks::MAX_ATTEMPTS {
        let d =
            postbacks::claim_due(&mut conn, 10).expect("claim").pop().unwrap_or_else(|| delivery(&mut conn, lead.id));
        let after = postbacks::mark_failed(&mut conn, id, d.attempts, Some(502), "HTTP 502", base).expect("failed");
        assert!(matches!(after, AfterFailure::RetryAt(_)), "attempt {attempt}: {after:?}");
        let d = delivery(&mut conn, lead.id);
        assert_eq!((d.status.as_str(), d.attempts, d.locked_until), ("pending", attempt, None));
    }
    let d = postbacks::claim_due(&mut conn, 10).expect("claim").pop().expect("due again");
    let after = postbacks::mark_failed(&mut conn, id, d.attempts, None, &"x".repeat(2000), base).expect("failed");
    assert_eq!(after, AfterFailure::GaveUp);
    let d = delivery(&mut conn, lead.id);
    assert_eq!((d.status.as_str(), d.attempts, d.response_code), ("failed", postbacks::MAX_ATTEMPTS, None));
    assert_eq!(d.last_error.len(), 500);
    assert!(postbacks::claim_due(&mut conn, 10).expect("claim").is_empty(), "a failed delivery is left alone");

    let (other, other_id) = lead_with_postback(&mut conn, &m, m.publisher_id, "");
    postbacks::mark_blocked(&mut conn, other_id, "10.0.0.1 is a private address").expect("blocked");
    assert!(postbacks::claim_due(&mut conn, 10).expect("claim").is_empty(), "a blocked delivery is never retried");
    assert_eq!(delivery(&mut conn, other.id).status, "blocked");

    let log = postbacks::log_for_publisher(&mut conn, m.publisher_id, 200).expect("log");
    assert_eq!(log.iter().map(|r| r.delivery.id).collect::<Vec<_>>(), vec![other_id, id]);
    assert!(log.iter().all(|r| r.offer_name == "Queue"));
}

both_backends!(
    macros_are_filled_and_the_tracker_called,
    a_failed_postback_is_retried_until_delivered,
    the_guard_blocks_private_targets,
    the_guard_judges_ipv4_embedding_ipv6_forms_by_their_ipv4,
    the_log_shows_a_publisher_its_own_deliveries,
    two_servers_deliver_each_postback_once,
    claims_lease_and_give_up,
);
