//! Lead webhooks (DESIGN §6a) against a real server and a small receiver on
//! loopback that checks each delivery's signature with the endpoint's secret: the
//! mapping applied, a failing endpoint retried then delivered, a replay, a
//! synchronous rejection that rejects the lead and returns the money, and who may
//! reach an offer's endpoints and deliveries.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{BROWSER, Backend, Market, TestApp, api_key, call, spawn_app_with};

/// One request the receiver got, with whether its signature checked out.
#[derive(Debug, Clone)]
struct Got {
    event_id: String,
    signed: bool,
    body: Value,
}

/// An advertiser's CRM on 127.0.0.1: records every request, checks its
/// `Qualead-Signature` with the secret it is given, and answers with the next
/// queued (status, body) (status 0: the body after 3 s), `200 {"ok":true}` once
/// the queue is empty.
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
    secret: Arc<Mutex<String>>,
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
        .unwrap_or_default()
}

/// How an integrator checks a delivery (DESIGN §6a): HMAC-SHA256 of `"<t>.<body>"`.
fn verify(secret: &str, signature: &str, body: &str) -> bool {
    let mut t = "";
    let mut v1 = "";
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x,
            Some(("v1", x)) => v1 = x,
            _ => {}
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    !t.is_empty() && mac.verify_slice(&hex::decode(v1).unwrap_or_default()).is_ok()
}

impl Receiver {
    async fn start(answers: &[(u16, &str)]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        let got = Arc::new(Mutex::new(Vec::new()));
        let secret = Arc::new(Mutex::new(String::new()));
        let answers: VecDeque<(u16, String)> = answers.iter().map(|(c, b)| (*c, b.to_string())).collect();
        let answers = Arc::new(Mutex::new(answers));
        let (log, key) = (got.clone(), secret.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (log, key, answers) = (log.clone(), key.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, body) = loop {
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                            let len: usize = header(&head, "content-length").parse().unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                break (head, String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned());
                            }
                        }
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let secret = key.lock().expect("secret").clone();
                    log.lock().expect("log").push(Got {
                        event_id: header(&head, "qualead-event-id").to_string(),
                        signed: verify(&secret, header(&head, "qualead-signature"), &body),
                        body: serde_json::from_str(&body).unwrap_or(Value::Null),
                    });
                    let (mut code, answer) =
                        answers.lock().expect("answers").pop_front().unwrap_or((200, r#"{"ok":true}"#.into()));
                    if code == 0 {
                        // A slow server: it answers, too late.
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        code = 200;
                    }
                    let reply = format!(
                        "HTTP/1.1 {code} Answer\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Receiver { addr, got, secret }
    }

    fn url(&self) -> String {
        format!("http://{}/crm/leads", self.addr)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().expect("log").clone()
    }

    fn set_secret(&self, secret: &str) {
        *self.secret.lock().expect("secret") = secret.to_string();
    }

    /// Wait (at most 30 s) until `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(Instant::now() < deadline, "the receiver got {} of {n} requests", got.len());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A server with a small retry base, so a failed delivery is tried again at once.
async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[("QUALEAD_POSTBACK_RETRY_BASE_MS", "20")]).await
}

fn market(app: &TestApp) -> Market {
    common::Market::of(&common::roofs_offer("https://roofs.example/quote?cid={click_id}", None))
        .deposit(1_000_00)
        .seed(&app.db.url)
}

/// A new lead through the advertiser's postback, with an e-mail.
async fn new_lead(app: &TestApp, m: &Market, email: &str) -> i64 {
    let click = common::click_through(app, &common::visitor(BROWSER), &m.token, "").await;
    common::accepted_lead(app, &m.postback_token, &click, &[("email", email)]).await
}

/// Add an endpoint through the API; returns its id and secret.
async fn add_webhook(app: &TestApp, key: &str, offer_id: i64, body: Value) -> (i64, String) {
    let (status, v) = call(app, Method::POST, key, &format!("/offers/{offer_id}/webhooks"), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert!(v["secret"].as_str().expect("a secret, shown once").starts_with("whsec_"), "{v}");
    (v["id"].as_i64().expect("id"), v["secret"].as_str().expect("secret").to_string())
}

/// The endpoint's delivery log, waiting (at most 30 s) until its newest satisfies `done`.
async fn wait_log(app: &TestApp, key: &str, path: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, v) = call(app, Method::GET, key, path, None).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let rows = v["deliveries"].as_array().expect("deliveries").clone();
        if rows.first().is_some_and(&done) {
            return rows;
        }
        assert!(Instant::now() < deadline, "the delivery log never got there: {rows:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_delivery_is_signed_and_mapped(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app);
    let key = api_key(&app, m.advertiser_id);
    let crm = Receiver::start(&[]).await;
    let (wid, secret) = add_webhook(
        &app,
        &key,
        m.offer_id,
        json!({
            "url": crm.url(),
            "events": ["accepted", "approved"],
            "mapping": {"rename": {"email": "contact_email"}, "constants": {"source": "qualead"}}
        }),
    )
    .await;
    crm.set_secret(&secret);
    let lead_id = new_lead(&app, &m, "ann@example.com").await;
    let got = crm.wait_for(1).await;
    let first = &got[0];
    assert!(first.signed, "the signature checks out with the secret: {first:?}");
    assert!(first.event_id.starts_with("evt_"), "{first:?}");
    assert_eq!(first.body["event_id"], first.event_id.as_str());
    assert_eq!(first.body["event"], "accepted");
    assert_eq!(first.body["lead_id"], lead_id);
    assert_eq!(first.body["contact_email"], "ann@example.com");
    assert_eq!(first.body.get("email"), None, "renamed, not copied");
    assert_eq!(first.body["source"], "qualead");
    assert_eq!(first.body["price"], "10.00");

    let log = format!("/offers/{}/webhooks/{wid}/deliveries", m.offer_id);
    let rows = wait_log(&app, &key, &log, |d| d["status"] == "delivered").await;
    assert_eq!((rows[0]["response_code"].as_i64(), rows[0]["attempts"].as_i64()), (Some(200), Some(1)));
    assert_eq!(rows[0]["response_excerpt"], r#"{"ok":true}"#);

    // The advertiser approves it: the `approved` event follows; the list hides the secret.
    let (status, _) = call(&app, Method::POST, &key, &format!("/leads/{lead_id}/approve"), None).await;
    assert_eq!(status, StatusCode::OK);
    let got = crm.wait_for(2).await;
    assert_eq!((got[1].body["event"].as_str(), got[1].body["status"].as_str()), (Some("approved"), Some("approved")));
    assert!(got[1].signed);
    let (_, list) = call(&app, Method::GET, &key, &format!("/offers/{}/webhooks", m.offer_id), None).await;
    assert_eq!(list["webhooks"][0]["events"], json!(["accepted", "approved"]));
    assert_eq!(list["webhooks"][0].get("secret"), None, "{list}");

    // A rotated secret signs what follows; the old one no longer checks out.
    let path = format!("/offers/{}/webhooks/{wid}", m.offer_id);
    let (status, v) = call(&app, Method::PATCH, &key, &path, Some(json!({"rotate_secret": true}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let rotated = v["secret"].as_str().expect("the new secret").to_string();
    assert_ne!(rotated, secret);
    crm.set_secret(&rotated);
    new_lead(&app, &m, "bo@example.com").await;
    let got = crm.wait_for(3).await;
    assert!(got[2].signed, "signed with the new secret");
    assert!(!verify(&secret, "t=1,v1=00", "{}"), "a made-up signature does not check out");
}

async fn a_failing_endpoint_is_retried_then_delivered_and_replayed(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app);
    let key = api_key(&app, m.advertiser_id);
    let crm = Receiver::start(&[(500, "down"), (503, "still down")]).await;
    let (wid, secret) = add_webhook(&app, &key, m.offer_id, json!({"url": crm.url(), "events": ["accepted"]})).await;
    crm.set_secret(&secret);
    new_lead(&app, &m, "cy@example.com").await;
    let log = format!("/offers/{}/webhooks/{wid}/deliveries", m.offer_id);
    let rows = wait_log(&app, &key, &log, |d| d["status"] == "delivered").await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0]["attempts"].as_i64(), rows[0]["response_code"].as_i64()), (Some(3), Some(200)));
    let got = crm.got();
    assert_eq!(got.len(), 3, "two failures, then the delivery");
    assert!(got.iter().all(|g| g.signed && g.event_id == got[0].event_id), "one event id across retries: {got:?}");

    // A replay sends the same event again.
    let did = rows[0]["id"].as_i64().expect("id");
    let (status, v) =
        call(&app, Method::POST, &key, &format!("/offers/{}/webhooks/{wid}/deliveries/{did}/replay", m.offer_id), None)
            .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let got = crm.wait_for(4).await;
    assert_eq!(got[3].event_id, got[0].event_id);
    assert!(got[3].signed);
    let rows = wait_log(&app, &key, &log, |d| d["status"] == "delivered" && d["attempts"] == 1).await;
    assert_eq!(rows.len(), 1, "replayed in place");
    // Counted by outcome in /metrics: two retries, two deliveries (the count follows
    // the log's write by a moment).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = app.get("/metrics").await.text().await.expect("metrics");
        let count = |outcome: &str| {
            let name = format!("qualead_lead_webhooks_total{{outcome=\"{outcome}\"}} ");
            text.lines().find_map(|l| l.strip_prefix(&name)).unwrap_or("0").to_string()
        };
        if (count("retry"), count("delivered")) == ("2".to_string(), "2".to_string()) {
            break;
        }
        assert!(Instant::now() < deadline, "{text}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_synchronous_rejection_rejects_the_lead(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app);
    let key = api_key(&app, m.advertiser_id);
    let crm = Receiver::start(&[(200, r#"{"status":"rejected","reason":"duplicate"}"#)]).await;
    let (wid, secret) = add_webhook(
        &app,
        &key,
        m.offer_id,
        json!({"url": crm.url(), "events": ["accepted", "rejected"], "sync": true, "timeout_ms": 3000}),
    )
    .await;
    crm.set_secret(&secret);
    let lead_id = new_lead(&app, &m, "dee@example.com").await;
    let log = format!("/offers/{}/webhooks/{wid}/deliveries", m.offer_id);
    // The verdict is applied, and the `rejected` event is delivered in turn.
    let rows = wait_log(&app, &key, &log, |d| d["event"] == "rejected" && d["status"] == "delivered").await;
    let accepted = rows.iter().find(|d| d["event"] == "accepted").expect("the accepted delivery");
    assert_eq!(accepted["verdict"], "rejected");
    assert_eq!(accepted["sync"], true);
    let (_, lead) = call(&app, Method::GET, &key, &format!("/leads/{lead_id}"), None).await;
    assert_eq!(lead["status"], "rejected", "{lead}");
    assert_eq!(lead["reasons"], json!(["duplicate"]), "{lead}");
    let recorded = qualead::store::verdicts::for_lead(&mut app.conn(), lead_id).expect("verdicts");
    let recorded: Vec<(&str, &str, &str)> =
        recorded.iter().map(|(c, v, r, _)| (c.as_str(), v.as_str(), r.as_str())).collect();
    assert_eq!(recorded, vec![("webhook", "rejected", "duplicate")], "recorded with the channel webhook");
    // No money paid: the price went back to the advertiser, nothing to the publisher.
    let (_, balance) = call(&app, Method::GET, &key, "/balance", None).await;
    assert_eq!(balance, json!({"available": "1000.00", "escrow": "0.00"}));
    let publisher = api_key(&app, m.publisher_id);
    let (_, pb) = call(&app, Method::GET, &publisher, "/balance", None).await;
    assert_eq!((pb["available"].as_str(), pb["pending"].as_str()), (Some("0.00"), Some("0.00")), "{pb}");

    // An answer that is not JSON is no verdict: the lead waits.
    let crm2 = Receiver::start(&[(200, "thanks")]).await;
    let other = market(&app);
    let key2 = api_key(&app, other.advertiser_id);
    let (wid2, _) =
        add_webhook(&app, &key2, other.offer_id, json!({"url": crm2.url(), "events": ["accepted"], "sync": true}))
            .await;
    let lead2 = new_lead(&app, &other, "eve@example.com").await;
    let log2 = format!("/offers/{}/webhooks/{wid2}/deliveries", other.offer_id);
    let rows = wait_log(&app, &key2, &log2, |d| d["status"] == "delivered").await;
    assert_eq!(rows[0]["verdict"], "");
    let (_, lead) = call(&app, Method::GET, &key2, &format!("/leads/{lead2}"), None).await;
    assert_eq!(lead["status"], "pending", "{lead}");

    // Nor is an answer that comes after the timeout, even a verdict: the attempt is
    // logged as timed out and retried; the lead waits.
    let slow = r#"{"status":"rejected","reason":"duplicate"}"#;
    let crm3 =
        Receiver::start(&[(0, slow), (0, slow), (0, slow), (0, slow), (0, slow), (0, slow), (0, slow), (0, slow)])
            .await;
    let third = market(&app);
    let key3 = api_key(&app, third.advertiser_id);
    let (wid3, _) = add_webhook(
        &app,
        &key3,
        third.offer_id,
        json!({"url": crm3.url(), "events": ["accepted"], "sync": true, "timeout_ms": 500}),
    )
    .await;
    let lead3 = new_lead(&app, &third, "fin@example.com").await;
    let log3 = format!("/offers/{}/webhooks/{wid3}/deliveries", third.offer_id);
    let rows = wait_log(&app, &key3, &log3, |d| d["attempts"].as_i64() >= Some(1)).await;
    let error = rows[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.starts_with("timed out"), "{}", rows[0]);
    assert_eq!((rows[0]["verdict"].as_str(), rows[0]["response_code"].as_i64()), (Some(""), None));
    let (_, lead) = call(&app, Method::GET, &key3, &format!("/leads/{lead3}"), None).await;
    assert_eq!(lead["status"], "pending", "{lead}");
}

async fn only_the_offers_advertiser_reaches_its_webhooks(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app);
    let key = api_key(&app, m.advertiser_id);
    let crm = Receiver::start(&[]).await;
    let (wid, _) = add_webhook(&app, &key, m.offer_id, json!({"url": crm.url(), "events": ["accepted"]})).await;
    new_lead(&app, &m, "fay@example.com").await;
    let base = format!("/offers/{}/webhooks", m.offer_id);
    let log = format!("{base}/{wid}/deliveries");
    let rows = wait_log(&app, &key, &log, |d| d["status"] == "delivered").await;
    let did = rows[0]["id"].as_i64().expect("id");
    let replay = format!("{log}/{did}/replay");
    let one = format!("{base}/{wid}");
    let body = json!({"url": "https://crm.example/x", "events": ["accepted"]});

    // Another advertiser: not found, whatever it tries.
    let other = market(&app);
    let stranger = api_key(&app, other.advertiser_id);
    for (method, path, body) in [
        (Method::GET, base.as_str(), None),
        (Method::POST, base.as_str(), Some(body.clone())),
        (Method::PATCH, one.as_str(), Some(json!({"active": false}))),
        (Method::DELETE, one.as_str(), None),
        (Method::GET, log.as_str(), None),
        (Method::POST, replay.as_str(), None),
    ] {
        let (status, v) = call(&app, method.clone(), &stranger, path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {v}");
    }
    // Its own endpoint under this offer's path is not found either.
    let (own, _) =
        add_webhook(&app, &stranger, other.offer_id, json!({"url": crm.url(), "events": ["approved"]})).await;
    let (status, _) = call(&app, Method::GET, &key, &format!("{base}/{own}/deliveries"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The publisher: refused.
    let publisher = api_key(&app, m.publisher_id);
    for (method, path) in [(Method::GET, base.as_str()), (Method::GET, log.as_str()), (Method::POST, replay.as_str())] {
        let (status, v) = call(&app, method.clone(), &publisher, path, None).await;
        assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{method} {path}: {status} {v}");
    }
    let (status, _) = call(&app, Method::POST, &publisher, &base, Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An admin reads, but does not change.
    let admin_id = app.create_user("admin", "ops@qualead.example");
    let admin = api_key(&app, admin_id);
    let (status, v) = call(&app, Method::GET, &admin, &log, None).await;
    assert_eq!((status, v["deliveries"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (status, _) = call(&app, Method::POST, &admin, &base, Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A value refused for what it says is a 422 naming the field; a body that does
    // not match the document a 400 with the reason.
    for (bad, field) in [
        (json!({"url": "ftp://crm.example/x", "events": ["accepted"]}), "url"),
        (json!({"url": "https://crm.example/x", "events": ["approved"], "sync": true}), "sync"),
    ] {
        let (status, v) = call(&app, Method::POST, &key, &base, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert!(v["fields"][field].is_string(), "{bad}: {v}");
    }
    for bad in [
        json!({"url": "https://crm.example/x", "events": ["paid"]}),
        json!({"url": "https://crm.example/x", "events": ["accepted"], "sync": true, "timeout_ms": 20000}),
        json!({"url": "https://crm.example/x", "events": ["accepted"], "mapping": {"rename": {"email": 3}}}),
    ] {
        let (status, v) = call(&app, Method::POST, &key, &base, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }

    // The owner deletes it: gone from the list and its log with it.
    let (status, _) = call(&app, Method::DELETE, &key, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, Method::GET, &key, &log, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The advertiser's pages: add an endpoint (its secret shown once), read the log,
/// send a delivery again; another advertiser and a publisher are kept out.
async fn the_advertiser_manages_webhooks_in_its_pages(backend: Backend) {
    let app = app(backend).await;
    let body = common::roofs_offer("https://roofs.example/quote?cid={click_id}", None);
    let (m, adv, publisher, _) = common::signed_in_market(&app, &body, 1_000_00, common::PASSWORD).await;
    let crm = Receiver::start(&[]).await;
    let list = format!("/advertiser/offers/{}/webhooks", m.offer_id);
    let (status, html) = app.get_text(&adv, &format!("/advertiser/offers/{}", m.offer_id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&list), "the offer page links to its webhooks");

    // A bad mapping is refused with the reason, and the form keeps what was typed.
    let url = crm.url();
    let r =
        app.submit(&adv, &list, &list, &[("url", &url), ("ev_accepted", "on"), ("mapping", "{\"rename\": 3}")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("page");
    assert!(html.contains("Field mapping") && html.contains(&url), "{html}");

    let mapping = r#"{"constants": {"source": "qualead"}}"#;
    let r = app.submit(&adv, &list, &list, &[("url", &url), ("ev_accepted", "on"), ("mapping", mapping)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("page");
    let secret =
        html.split("<code id=\"secret\">").nth(1).and_then(|t| t.split('<').next()).expect("the secret, shown once");
    assert!(secret.starts_with("whsec_"), "{secret}");
    crm.set_secret(secret);
    let (_, hooks) = app.get_text(&adv, &list).await;
    assert!(hooks.contains(&url) && !hooks.contains(secret), "listed, without its secret");
    let wid: i64 = hooks
        .split(&format!("{list}/"))
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|t| t.parse().ok())
        .expect("a link to the endpoint");
    let page = format!("{list}/{wid}");

    let lead_id = new_lead(&app, &m, "gus@example.com").await;
    let got = crm.wait_for(1).await;
    assert!(got[0].signed && got[0].body["source"] == "qualead", "{:?}", got[0]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let html = loop {
        let (_, html) = app.get_text(&adv, &page).await;
        if html.contains("status-delivered") {
            break html;
        }
        assert!(Instant::now() < deadline, "never shown as delivered: {html}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(html.contains(&format!("#{lead_id}")) && !html.contains("id=\"secret\""), "the log, without the secret");
    let did: i64 = html
        .split("/deliveries/")
        .nth(1)
        .and_then(|t| t.split('/').next())
        .and_then(|t| t.parse().ok())
        .expect("a replay button");
    let r = app.submit(&adv, &page, &format!("{page}/deliveries/{did}/replay"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let got = crm.wait_for(2).await;
    assert_eq!(got[1].event_id, got[0].event_id, "the same event again");

    // Another advertiser and the publisher: kept out.
    let stranger = app.login_as("advertiser", "stranger@example.com").await;
    for path in [&list, &page] {
        let (status, _) = app.get_text(&stranger, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _) = app.get_text(&publisher, path).await;
        assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{path}: {status}");
    }
}

/// Every channel that moves a lead emits its event: the advertiser's approve and
/// return (`returned`), and the settlement run at hold end.
async fn every_status_change_emits_its_event(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app);
    let key = api_key(&app, m.advertiser_id);
    let crm = Receiver::start(&[]).await;
    let (_, secret) =
        add_webhook(&app, &key, m.offer_id, json!({"url": crm.url(), "events": ["approved", "rejected", "returned"]}))
            .await;
    crm.set_secret(&secret);
    let early = new_lead(&app, &m, "hal@example.com").await;
    let settled = new_lead(&app, &m, "ida@example.com").await;
    let (status, _) = call(&app, Method::POST, &key, &format!("/leads/{early}/approve"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) =
        call(&app, Method::POST, &key, &format!("/leads/{early}/return"), Some(json!({"reason": "bad_contact"}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let later = qualead::store::now() + chrono::Duration::days(4);
    let summary =
        qualead::settlement::run::settle_due(&mut app.conn(), later, qualead::settlement::run::BATCH).expect("settle");
    assert_eq!(summary.approved + summary.rejected, 1);
    let got = crm.wait_for(3).await;
    let mut seen: Vec<(i64, String)> = got
        .iter()
        .map(|g| (g.body["lead_id"].as_i64().expect("lead id"), g.body["event"].as_str().expect("event").to_string()))
        .collect();
    seen.sort();
    let settled_event = if summary.approved == 1 { "approved" } else { "rejected" };
    let mut want =
        vec![(early, "approved".to_string()), (early, "returned".to_string()), (settled, settled_event.to_string())];
    want.sort();
    assert_eq!(seen, want);
    assert!(got.iter().all(|g| g.signed), "{got:?}");
    let returned = got.iter().find(|g| g.body["event"] == "returned").expect("returned");
    assert_eq!(returned.body["status"], "disputed");
}

both_backends!(
    a_delivery_is_signed_and_mapped,
    a_failing_endpoint_is_retried_then_delivered_and_replayed,
    a_synchronous_rejection_rejects_the_lead,
    only_the_offers_advertiser_reaches_its_webhooks,
    the_advertiser_manages_webhooks_in_its_pages,
    every_status_change_emits_its_event,
);
