//! Settlement through the JSON API alone (DESIGN §6, §8, §11): reading leads, early
//! decisions, returns, contests, admin rulings, deposits, balances, payouts,
//! statements and ledger health — the money flow end to end, the permission
//! matrix of every route, the state rules, and bad bodies that change nothing.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, call_as as call, spawn_app_with};
use qualead::domain::money::format_minor;
use qualead::domain::offer::{OfferBody, Terms};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// No periodic settlement run during a test: leads settle only when a test says so.
const QUIET: (&str, &str) = ("QUALEAD_SETTLE_INTERVAL_SECS", "86400");

/// A browser, so that settlement's `bot_traffic` rule passes the clicks.
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async fn app(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![QUIET];
    vars.extend_from_slice(extra);
    spawn_app_with(backend, &vars).await
}

fn key_for(app: &TestApp, user_id: i64) -> String {
    qualead::store::api_keys::create(&mut app.conn(), user_id, "test").expect("key").0
}

/// An account of `role` with an API key, as `qualead user create --api-key` makes it.
fn api_user(app: &TestApp, role: &str, email: &str) -> (i64, String) {
    let id = app.create_user(role, email);
    (id, key_for(app, id))
}

/// A call with an optional key and an optional JSON body; the answer as JSON
/// (`Null` when it is not JSON).
async fn get(app: &TestApp, key: &str, path: &str) -> Value {
    let (s, v) = call(app, Method::GET, Some(key), path, None).await;
    assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
    v
}

async fn post(app: &TestApp, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(app, Method::POST, Some(key), path, Some(body)).await
}

/// A POST with a raw body sent as JSON, for bodies that are not JSON.
async fn post_raw(app: &TestApp, key: &str, path: &str, raw: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1{path}")))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(raw.to_string())
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A CPL offer that holds leads for 0 hours (settlement can judge them at once),
/// needs no fields, allows returns up to `max_return_rate_pct`, and takes leads
/// publishers send through the API.
fn offer(price: &str, max_return_rate_pct: u32, return_window_days: u32) -> OfferBody {
    OfferBody {
        publisher_leads: true,
        terms: Terms {
            required_fields: vec![],
            hold_hours: 0,
            max_return_rate_pct,
            return_window_days,
            ..Terms::default()
        },
        ..common::solar_offer(price)
    }
}

fn market(app: &TestApp, body: &OfferBody, deposit: i64) -> Market {
    Market::of(body).deposit(deposit).seed(&app.db.url)
}

/// Click the publisher's link like a browser; the click id from the landing URL.
async fn click(app: &TestApp, m: &Market) -> String {
    common::click_through(app, &common::visitor(BROWSER), &m.token, "").await
}

/// The advertiser's server-to-server postback for a click; the lead's id.
async fn postback(app: &TestApp, m: &Market, click_id: &str) -> i64 {
    common::accepted_lead(app, &m.postback_token, click_id, &[]).await
}

/// A lead the publisher sends through `POST /api/v1/leads`; its id.
async fn api_lead(app: &TestApp, publisher_key: &str, offer_id: i64, txid: &str, fields: Value) -> i64 {
    let body = json!({"offer_id": offer_id, "txid": txid, "consent": true, "fields": fields});
    let (s, v) = post(app, publisher_key, "/leads", body).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::CREATED, Some("accepted")), "{v}");
    v["lead_id"].as_i64().expect("lead id")
}

/// DESIGN §8: fee = round_half_up(price × fee_bps / 10000); payout = price − fee.
fn fee_of(price: i64, fee_bps: i64) -> i64 {
    (price * fee_bps + 5_000) / 10_000
}

fn money(minor: i64) -> String {
    format_minor(minor)
}

async fn health(app: &TestApp, admin: &str) -> Value {
    let h = get(app, admin, "/admin/ledger/health").await;
    assert_eq!(h["balanced"], true, "{h}");
    h
}

fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], code, "{}", answer.1);
    assert!(answer.1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answer.1);
}

// ---------------------------------------------------------------------------

async fn money_flows_end_to_end_over_the_api(backend: Backend) {
    // A fee of 12.5 %: 100.04 × 1250 / 10000 = 12.505, which rounds half up to 12.51.
    let fee_bps = 1250;
    let app = app(backend, &[("QUALEAD_PLATFORM_FEE_BPS", "1250")]).await;
    let m = market(&app, &offer("100.04", 100, 7), 0);
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let adv = key_for(&app, m.advertiser_id);
    let publisher = key_for(&app, m.publisher_id);
    let price = 100_04;
    let fee = fee_of(price, fee_bps);
    let payout = price - fee;
    assert_eq!((fee, payout), (12_51, 87_53));

    // The admin records a deposit.
    let (s, dep) = post(
        &app,
        &admin,
        "/admin/deposits",
        json!({"advertiser_id": m.advertiser_id, "amount": "500.00", "memo": "wire 42"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{dep}");
    assert!(dep["transaction_id"].as_i64().is_some_and(|t| t > 0), "{dep}");
    assert_eq!(dep["advertiser_id"], m.advertiser_id);
    assert_eq!(dep["amount"], "500.00");
    assert_eq!(dep["balance"], json!({"available": "500.00", "escrow": "0.00"}));
    assert_eq!(get(&app, &adv, "/balance").await, json!({"available": "500.00", "escrow": "0.00"}));

    // A click and the advertiser's postback: a pending lead, its price in escrow.
    let cid = click(&app, &m).await;
    let lead1 = postback(&app, &m, &cid).await;
    let view = get(&app, &adv, &format!("/leads/{lead1}")).await;
    assert_eq!(view["status"], "pending", "{view}");
    // The advertiser sees the price, never the payout or the fee (DESIGN §4); an admin sees all three.
    assert_eq!((view["price"].as_str(), &view["fee"], &view["payout"]), (Some("100.04"), &Value::Null, &Value::Null));
    let full = get(&app, &admin, &format!("/leads/{lead1}")).await;
    assert_eq!((full["price"].as_str(), full["fee"].as_str()), (Some("100.04"), Some("12.51")), "{full}");
    assert_eq!(full["payout"], money(payout));
    assert_eq!(view["click_id"], cid.as_str());
    assert!(view["created_at"].as_str().expect("created_at").ends_with("+00:00"), "UTC RFC 3339: {view}");
    assert_eq!(get(&app, &adv, "/balance").await, json!({"available": money(500_00 - price), "escrow": money(price)}));
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!(pb, json!({"available": "0.00", "pending": money(payout), "requested": "0.00", "balance": "0.00"}));

    // The advertiser approves it early: escrow → publisher (payout) and fees (fee).
    let (s, approved) = post(&app, &adv, &format!("/leads/{lead1}/approve"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["history"].as_array().expect("history").last().expect("event")["reason"], "approved_early");
    assert_eq!(get(&app, &adv, "/balance").await, json!({"available": money(500_00 - price), "escrow": "0.00"}));
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!((pb["available"].as_str(), pb["pending"].as_str()), (Some("87.53"), Some("0.00")), "{pb}");
    assert_eq!(get(&app, &admin, "/balance").await, json!({"platform_fees": money(fee)}));

    // The advertiser returns it: disputed, with the dispute in the lead.
    let (s, returned) = post(
        &app,
        &adv,
        &format!("/leads/{lead1}/return"),
        json!({"reason": "bad_contact", "comment": "The number is disconnected."}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{returned}");
    assert_eq!((returned["status"].as_str(), returned["disputed_from"].as_str()), (Some("disputed"), Some("approved")));
    let dispute = &returned["disputes"][0];
    assert_eq!((dispute["kind"].as_str(), dispute["status"].as_str()), (Some("return"), Some("open")), "{returned}");
    assert_eq!(dispute["reason"], "bad_contact");
    let dispute_id = dispute["id"].as_i64().expect("dispute id");
    // The publisher sees the dispute on its lead.
    let seen = get(&app, &publisher, &format!("/leads/{lead1}")).await;
    assert_eq!(seen["disputes"][0]["comment"], "The number is disconnected.");

    // The admin finds it in the queue and upholds it: the money goes back.
    let queue = get(&app, &admin, "/admin/disputes?status=open").await;
    let row = &queue["disputes"][0];
    assert_eq!((row["id"].as_i64(), row["lead_id"].as_i64()), (Some(dispute_id), Some(lead1)), "{queue}");
    assert_eq!(
        (row["offer_name"].as_str(), row["opened_by_email"].as_str()),
        (Some("Solar quotes"), Some(m.advertiser_email.as_str()))
    );
    let (s, ruled) = post(
        &app,
        &admin,
        &format!("/admin/disputes/{dispute_id}/rule"),
        json!({"decision": "upheld", "note": "Confirmed: a dead number."}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ruled}");
    assert_eq!((ruled["status"].as_str(), ruled["lead_status"].as_str()), (Some("upheld"), Some("reversed")));
    assert_eq!(ruled["note"], "Confirmed: a dead number.");
    assert!(ruled["ruled_at"].is_string());
    assert_eq!(get(&app, &adv, "/balance").await, json!({"available": "500.00", "escrow": "0.00"}));
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!((pb["available"].as_str(), pb["balance"].as_str()), (Some("0.00"), Some("0.00")), "{pb}");
    assert_eq!(get(&app, &admin, "/balance").await, json!({"platform_fees": "0.00"}));
    assert_eq!(get(&app, &admin, "/admin/disputes?status=open").await["disputes"], json!([]));
    let upheld = get(&app, &admin, "/admin/disputes?status=upheld").await;
    assert_eq!(upheld["disputes"][0]["id"], dispute_id);
    assert_eq!(get(&app, &adv, &format!("/leads/{lead1}")).await["status"], "reversed");
    app.wait_for_email(&m.advertiser_email, "upheld").await;

    // A second lead goes through settlement (hold 0 h) and is approved.
    let cid2 = click(&app, &m).await;
    let lead2 = postback(&app, &m, &cid2).await;
    let (s, run) = post(&app, &admin, "/admin/settle", json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{run}");
    assert_eq!((run["approved"].as_i64(), run["rejected"].as_i64()), (Some(1), Some(0)), "{run}");
    let view2 = get(&app, &adv, &format!("/leads/{lead2}")).await;
    assert_eq!(view2["status"], "approved", "{view2}");
    let checks = view2["checks"].as_array().expect("checks");
    assert!(!checks.is_empty() && checks.iter().all(|c| c["passed"] == true), "{view2}");
    assert_eq!(get(&app, &adv, "/balance").await, json!({"available": money(500_00 - price), "escrow": "0.00"}));
    assert_eq!(get(&app, &admin, "/balance").await, json!({"platform_fees": money(fee)}));
    let listed = get(&app, &adv, "/leads?status=approved").await;
    assert_eq!(listed["leads"].as_array().expect("leads").len(), 1);
    assert_eq!(listed["leads"][0]["id"], lead2);

    // Payout requests: below the minimum, above what is available, then a good one.
    let (s, low) = post(&app, &publisher, "/payouts", json!({"amount": "40.00", "method": "PayPal"})).await;
    assert_error(&(s, low), StatusCode::BAD_REQUEST, "below_minimum");
    let (s, high) = post(&app, &publisher, "/payouts", json!({"amount": money(payout + 1)})).await;
    assert_error(&(s, high), StatusCode::CONFLICT, "insufficient_balance");
    let (s, req) =
        post(&app, &publisher, "/payouts", json!({"amount": "60.00", "method": "PayPal pub@example.com"})).await;
    assert_eq!(s, StatusCode::CREATED, "{req}");
    assert_eq!((req["amount"].as_str(), req["status"].as_str()), (Some("60.00"), Some("requested")));
    assert_eq!(
        (req["publisher_id"].as_i64(), req["method"].as_str()),
        (Some(m.publisher_id), Some("PayPal pub@example.com"))
    );
    let payout_id = req["id"].as_i64().expect("payout id");
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!(
        pb,
        json!({"available": money(payout - 60_00), "pending": "0.00", "requested": "60.00", "balance": money(payout)})
    );
    // The request holds its money: another 50.00 is more than is left.
    let (s, more) = post(&app, &publisher, "/payouts", json!({"amount": "50.00"})).await;
    assert_error(&(s, more), StatusCode::CONFLICT, "insufficient_balance");

    // The admin marks it paid: publisher → external.
    let requested = get(&app, &admin, "/payouts?status=requested").await;
    assert_eq!(requested["payouts"][0]["id"], payout_id, "{requested}");
    assert!(requested["payouts"][0]["publisher_email"].as_str().is_some_and(|e| e.starts_with("seed-pub-")));
    let (s, paid) = post(&app, &admin, &format!("/admin/payouts/{payout_id}/paid"), json!({"note": "sent"})).await;
    assert_eq!(s, StatusCode::OK, "{paid}");
    assert_eq!((paid["status"].as_str(), paid["note"].as_str()), (Some("paid"), Some("sent")));
    assert!(paid["transaction_id"].as_i64().is_some() && paid["paid_at"].is_string(), "{paid}");
    let (s, again) = post(&app, &admin, &format!("/admin/payouts/{payout_id}/paid"), json!({})).await;
    assert_error(&(s, again), StatusCode::CONFLICT, "payout_closed");
    let left = payout - 60_00;
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!(pb, json!({"available": money(left), "pending": "0.00", "requested": "0.00", "balance": money(left)}));
    let mine = get(&app, &publisher, "/payouts").await;
    assert_eq!(mine["payouts"].as_array().expect("payouts").len(), 1);
    assert_eq!(mine["payouts"][0]["status"], "paid");
    assert!(mine["payouts"][0].get("publisher_email").is_none(), "{mine}");

    // The publisher's statement: newest first, summing to its balance.
    let st = get(&app, &publisher, "/statement").await;
    assert_eq!(st["account"], format!("publisher:{}", m.publisher_id));
    assert_eq!(st["balance"], money(left));
    let lines: Vec<(String, String)> = st["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| (l["kind"].as_str().expect("kind").to_string(), l["amount"].as_str().expect("amount").to_string()))
        .collect();
    let expect = |k: &str, a: String| (k.to_string(), a);
    assert_eq!(
        lines,
        vec![
            expect("payout_paid", "-60.00".into()),
            expect("lead_approved", money(payout)),
            expect("lead_reversed", money(-payout)),
            expect("lead_approved", money(payout)),
        ]
    );
    assert_eq!(st["lines"][1]["lead_id"], lead2);
    let adv_st = get(&app, &adv, "/statement?limit=2").await;
    assert_eq!(adv_st["lines"].as_array().expect("lines").len(), 2);
    assert_eq!(adv_st["balance"], money(500_00 - price));
    app.wait_for_email(&format!("seed-pub-{}", &m.advertiser_email["seed-adv-".len()..]), "60.00").await;

    let h = health(&app, &admin).await;
    assert_eq!((h["balances_sum"].as_i64(), h["unbalanced_transactions"].as_i64()), (Some(0), Some(0)), "{h}");
    assert_eq!(h["escrow_mismatches"], json!([]));
}

// ---------------------------------------------------------------------------

struct Cast {
    admin: String,
    a: String,
    b: String,
    p: String,
    q: String,
}

/// Check one route for every caller. `expected` is in the order anonymous, other
/// advertiser, other publisher, publisher, advertiser, admin — the order of the
/// calls, so that outsiders try before the owners change anything.
async fn matrix(app: &TestApp, cast: &Cast, method: Method, path: &str, body: Option<Value>, expected: [u16; 6]) {
    let callers: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("other advertiser", Some(&cast.b)),
        ("other publisher", Some(&cast.q)),
        ("publisher", Some(&cast.p)),
        ("advertiser", Some(&cast.a)),
        ("admin", Some(&cast.admin)),
    ];
    for ((who, key), want) in callers.into_iter().zip(expected) {
        let (s, v) = call(app, method.clone(), key, path, body.clone()).await;
        assert_eq!(s.as_u16(), want, "{method} {path} as {who}: {v}");
        if !s.is_success() {
            assert!(v["error"].is_string() && v["message"].is_string(), "{method} {path} as {who}: {v}");
        }
    }
}

fn ids(list: &Value, key: &str) -> Vec<i64> {
    let mut out: Vec<i64> = list[key].as_array().expect("list").iter().map(|r| r["id"].as_i64().expect("id")).collect();
    out.sort_unstable();
    out
}

async fn permission_matrix_and_masking(backend: Backend) {
    let app = app(backend, &[]).await;
    let m = market(&app, &offer("100.00", 100, 7), 1000_00);
    let other = market(&app, &offer("100.00", 100, 7), 1000_00);
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let cast = Cast {
        admin,
        a: key_for(&app, m.advertiser_id),
        b: key_for(&app, other.advertiser_id),
        p: key_for(&app, m.publisher_id),
        q: key_for(&app, other.publisher_id),
    };
    let contact = |n: u32| json!({"name": "Ann Lee", "email": format!("ann{n}@example.com"), "phone": format!("+44 20 7946 00{n:02}")});
    let mut l = Vec::new();
    for n in 1..=4 {
        l.push(api_lead(&app, &cast.p, m.offer_id, &format!("crm-{n}"), contact(n)).await);
    }
    let theirs = api_lead(&app, &cast.q, other.offer_id, "crm-q", contact(9)).await;
    let (l1, l2, l3, l4) = (l[0], l[1], l[2], l[3]);

    // Reading: everyone sees its own leads only.
    matrix(&app, &cast, Method::GET, "/leads", None, [401, 200, 200, 200, 200, 200]).await;
    assert_eq!(ids(&get(&app, &cast.a, "/leads").await, "leads"), l);
    assert_eq!(ids(&get(&app, &cast.p, "/leads").await, "leads"), l);
    assert_eq!(ids(&get(&app, &cast.b, "/leads").await, "leads"), vec![theirs]);
    assert_eq!(ids(&get(&app, &cast.q, "/leads").await, "leads"), vec![theirs]);
    let all = ids(&get(&app, &cast.admin, "/leads").await, "leads");
    assert!(l.iter().chain([&theirs]).all(|id| all.contains(id)));
    assert_eq!(get(&app, &cast.b, &format!("/leads?offer_id={}", m.offer_id)).await["leads"], json!([]));
    let page = get(&app, &cast.a, "/leads?limit=3").await;
    assert_eq!(ids(&page, "leads"), vec![l2, l3, l4]);
    assert_eq!(page["next_before_id"], l2);
    let rest = get(&app, &cast.a, &format!("/leads?limit=3&before_id={l2}")).await;
    assert_eq!((ids(&rest, "leads"), &rest["next_before_id"]), (vec![l1], &Value::Null));

    matrix(&app, &cast, Method::GET, &format!("/leads/{l1}"), None, [401, 404, 404, 200, 200, 200]).await;
    // Masking: the publisher sees neither the contact data nor the price.
    let masked = get(&app, &cast.p, &format!("/leads/{l1}")).await;
    let email = masked["fields"]["email"].as_str().expect("email");
    let phone = masked["fields"]["phone"].as_str().expect("phone");
    assert!(email.contains("***") && !email.contains("ann1@example.com"), "{masked}");
    assert!(phone.contains('*') && !phone.contains("7946 0001") && !phone.contains("79460001"), "{masked}");
    assert_ne!(masked["fields"]["name"], "Ann Lee");
    assert_eq!((&masked["price"], &masked["fee"]), (&Value::Null, &Value::Null), "{masked}");
    assert_eq!(masked["payout"], "80.00");
    assert!(masked["ip"].as_str().expect("ip").ends_with('*'), "{masked}");
    assert!(!masked.to_string().contains("ann1@example.com"));
    let rows = get(&app, &cast.p, "/leads").await;
    assert!(rows["leads"].as_array().expect("rows").iter().all(|r| r["price"].is_null() && r["payout"] == "80.00"));
    let full = get(&app, &cast.a, &format!("/leads/{l1}")).await;
    assert_eq!((full["fields"]["email"].as_str(), full["price"].as_str()), (Some("ann1@example.com"), Some("100.00")));
    assert_eq!(get(&app, &cast.a, "/leads").await["leads"][0]["price"], "100.00");

    // Early decisions: the owner (and admins); publishers 403, strangers 404.
    let empty = Some(json!({}));
    matrix(&app, &cast, Method::POST, &format!("/leads/{l1}/approve"), empty.clone(), [401, 404, 403, 403, 200, 409])
        .await;
    let (s, v) = post(&app, &cast.admin, &format!("/leads/{l2}/approve"), json!({})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("approved")), "admins may decide early: {v}");
    let why = Some(json!({"reason": "bad_contact", "comment": "no such person"}));
    matrix(&app, &cast, Method::POST, &format!("/leads/{l3}/reject"), why.clone(), [401, 404, 403, 403, 200, 409])
        .await;
    let (s, v) = post(&app, &cast.admin, &format!("/leads/{l4}/reject"), json!({"reason": "duplicate"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("rejected")), "{v}");

    // Returns are the advertiser's; contests the publisher's.
    matrix(&app, &cast, Method::POST, &format!("/leads/{l1}/return"), why.clone(), [401, 404, 403, 403, 200, 403])
        .await;
    let contest = Some(json!({"comment": "The customer confirmed by phone."}));
    matrix(&app, &cast, Method::POST, &format!("/leads/{l3}/contest"), contest, [401, 403, 404, 200, 403, 403]).await;

    // Disputes are for admins.
    matrix(&app, &cast, Method::GET, "/admin/disputes", None, [401, 403, 403, 403, 403, 200]).await;
    let queue = get(&app, &cast.admin, "/admin/disputes?status=open").await;
    let rows = queue["disputes"].as_array().expect("disputes");
    assert_eq!(rows.len(), 2, "{queue}");
    let contest_id = rows.iter().find(|d| d["kind"] == "contest").expect("contest")["id"].as_i64().expect("id");
    let upheld = Some(json!({"decision": "upheld", "note": "The customer is real."}));
    matrix(
        &app,
        &cast,
        Method::POST,
        &format!("/admin/disputes/{contest_id}/rule"),
        upheld,
        [401, 403, 403, 403, 403, 200],
    )
    .await;
    assert_eq!(get(&app, &cast.p, &format!("/leads/{l3}")).await["status"], "approved");

    // Money routes.
    let deposit = Some(json!({"advertiser_id": m.advertiser_id, "amount": "10.00"}));
    matrix(&app, &cast, Method::POST, "/admin/deposits", deposit, [401, 403, 403, 403, 403, 201]).await;
    matrix(&app, &cast, Method::GET, "/balance", None, [401, 200, 200, 200, 200, 200]).await;
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&get(&app, &cast.a, "/balance").await), ["available", "escrow"]);
    assert_eq!(keys(&get(&app, &cast.p, "/balance").await), ["available", "balance", "pending", "requested"]);
    assert_eq!(keys(&get(&app, &cast.admin, "/balance").await), ["platform_fees"]);
    // The publisher earned 80.00 three times (l1, l2, the upheld contest of l3); l1 is disputed.
    assert_eq!(get(&app, &cast.p, "/balance").await["available"], "240.00");
    // The advertiser paid l1, l2 and l3 and deposited 10.00.
    assert_eq!(get(&app, &cast.a, "/balance").await, json!({"available": "710.00", "escrow": "0.00"}));
    matrix(&app, &cast, Method::GET, "/statement", None, [401, 200, 200, 200, 200, 200]).await;
    assert_eq!(get(&app, &cast.q, "/statement").await["lines"], json!([]));
    assert_eq!(get(&app, &cast.admin, "/statement").await["account"], "platform:fees");
    matrix(&app, &cast, Method::GET, "/admin/ledger/health", None, [401, 403, 403, 403, 403, 200]).await;

    // Payouts: publishers request (the other publisher has nothing to request), admins pay.
    let fifty = json!({"amount": "50.00", "method": "bank"});
    matrix(&app, &cast, Method::POST, "/payouts", Some(fifty.clone()), [401, 403, 409, 201, 403, 403]).await;
    matrix(&app, &cast, Method::GET, "/payouts", None, [401, 403, 200, 200, 403, 200]).await;
    assert_eq!(get(&app, &cast.q, "/payouts").await["payouts"], json!([]));
    let first = get(&app, &cast.p, "/payouts").await["payouts"][0]["id"].as_i64().expect("payout id");
    // The publisher withdraws its own request; then it is closed for the admin.
    matrix(&app, &cast, Method::POST, &format!("/payouts/{first}/cancel"), None, [401, 403, 404, 200, 403, 409]).await;
    let (_, second) = post(&app, &cast.p, "/payouts", json!({"amount": "50.00"})).await;
    let (s, declined) =
        post(&app, &cast.admin, &format!("/payouts/{}/cancel", second["id"]), json!({"note": "wrong details"})).await;
    assert_eq!((s, declined["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{declined}");
    let (_, third) = post(&app, &cast.p, "/payouts", fifty).await;
    let third = third["id"].as_i64().expect("id");
    matrix(&app, &cast, Method::POST, &format!("/admin/payouts/{third}/paid"), None, [401, 403, 403, 403, 403, 200])
        .await;
    let statuses: Vec<String> = get(&app, &cast.p, "/payouts").await["payouts"]
        .as_array()
        .expect("payouts")
        .iter()
        .map(|p| p["status"].as_str().expect("status").to_string())
        .collect();
    assert_eq!(statuses, ["paid", "cancelled", "cancelled"]);
    assert_eq!(get(&app, &cast.p, "/balance").await["available"], "190.00");

    // A settlement run judges the other publisher's lead (the only one still pending).
    matrix(&app, &cast, Method::POST, "/admin/settle", None, [401, 403, 403, 403, 403, 200]).await;
    assert_eq!(get(&app, &cast.q, &format!("/leads/{theirs}")).await["status"], "approved");
    assert_eq!(get(&app, &cast.q, "/balance").await["available"], "80.00");
    health(&app, &cast.admin).await;
}

// ---------------------------------------------------------------------------

async fn disputes_follow_the_rules(backend: Backend) {
    let app = app(backend, &[]).await;
    // The default maximum return rate: 20 % of the approved leads.
    let m = market(&app, &offer("10.00", 20, 7), 100_00);
    let (admin_id, admin) = api_user(&app, "admin", "admin@example.com");
    let adv = key_for(&app, m.advertiser_id);
    let publisher = key_for(&app, m.publisher_id);
    let lead = |n: u32| json!({"email": format!("lead{n}@example.org")});

    // Two approved leads at 20 %: one return at a time (rounded up); more need an admin.
    let a1 = api_lead(&app, &publisher, m.offer_id, "a1", lead(1)).await;
    let x1 = api_lead(&app, &publisher, m.offer_id, "x1", lead(6)).await;
    for id in [a1, x1] {
        let (s, v) = post(&app, &adv, &format!("/leads/{id}/approve"), json!({})).await;
        assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    }
    let again = post(&app, &adv, &format!("/leads/{a1}/approve"), json!({})).await;
    assert_error(&again, StatusCode::CONFLICT, "invalid_transition");
    let decided_at = get(&app, &adv, &format!("/leads/{a1}")).await["decided_at"].clone();
    let ret = json!({"reason": "consumer_denies"});
    let (s, v) = post(&app, &adv, &format!("/leads/{a1}/return"), ret.clone()).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("disputed")), "{v}");
    let d1 = v["disputes"][0]["id"].as_i64().expect("dispute");
    let refused = post(&app, &adv, &format!("/leads/{x1}/return"), ret.clone()).await;
    assert_error(&refused, StatusCode::CONFLICT, "return_rate_exceeded");
    {
        let mut conn = app.conn();
        let who = qualead::acting::Acting {
            user: qualead::store::users::find(&mut conn, admin_id).expect("q").expect("admin"),
            ip: None,
            base_url: app.address.clone(),
            currency: "USD".into(),
            platform_fee_bps: 2000,
        };
        qualead::settlement::actions::allow_returns(&mut conn, &who, m.offer_id, 1).expect("allow a return");
    }
    let (s, v) = post(&app, &adv, &format!("/leads/{x1}/return"), ret.clone()).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("disputed")), "{v}");

    // A denied return puts the lead back as it was, once: no money moves, the
    // return window is not restarted, and the lead cannot be returned again.
    let bad = post(&app, &admin, &format!("/admin/disputes/{d1}/rule"), json!({"decision": "rejected"})).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_request");
    let (s, v) = post(&app, &admin, &format!("/admin/disputes/{d1}/rule"), json!({"decision": "denied"})).await;
    assert_eq!((s, v["lead_status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let twice = post(&app, &admin, &format!("/admin/disputes/{d1}/rule"), json!({"decision": "upheld"})).await;
    assert_error(&twice, StatusCode::CONFLICT, "dispute_closed");
    assert_eq!(get(&app, &publisher, "/balance").await["balance"], "16.00");
    assert_eq!(get(&app, &adv, &format!("/leads/{a1}")).await["decided_at"], decided_at);
    let once = post(&app, &adv, &format!("/leads/{a1}/return"), ret.clone()).await;
    assert_error(&once, StatusCode::CONFLICT, "already_returned");
    let unknown = post(&app, &admin, "/admin/disputes/999999/rule", json!({"decision": "upheld"})).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");

    // An early rejection needs a known reason; `other` needs a comment.
    let a2 = api_lead(&app, &publisher, m.offer_id, "a2", lead(2)).await;
    let path = format!("/leads/{a2}/reject");
    assert_error(&post(&app, &adv, &path, json!({})).await, StatusCode::BAD_REQUEST, "invalid_reason");
    assert_error(&post(&app, &adv, &path, json!({"reason": "meh"})).await, StatusCode::BAD_REQUEST, "invalid_reason");
    assert_error(&post(&app, &adv, &path, json!({"reason": "other"})).await, StatusCode::BAD_REQUEST, "invalid_reason");
    let (s, v) = post(&app, &adv, &path, json!({"reason": "other", "comment": "Test entry"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("rejected")), "{v}");
    assert_eq!(v["reasons"], json!(["other"]));
    assert_error(
        &post(&app, &adv, &path, json!({"reason": "duplicate"})).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    );
    let before = get(&app, &adv, "/balance").await;

    // A contest needs a comment; upheld, the advertiser pays after all.
    let contest = format!("/leads/{a2}/contest");
    assert_error(&post(&app, &publisher, &contest, json!({})).await, StatusCode::BAD_REQUEST, "invalid_reason");
    assert_error(
        &post(&app, &publisher, &format!("/leads/{a1}/contest"), json!({"comment": "?"})).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    );
    let (s, v) = post(&app, &publisher, &contest, json!({"reason": "ignored", "comment": "A real customer."})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("disputed")), "{v}");
    let d2 = v["disputes"][0]["id"].as_i64().expect("dispute");
    assert_eq!(
        (v["disputes"][0]["kind"].as_str(), v["disputes"][0]["reason"].as_str()),
        (Some("contest"), Some("contested"))
    );
    let (s, v) =
        post(&app, &admin, &format!("/admin/disputes/{d2}/rule"), json!({"decision": "upheld", "note": "ok"})).await;
    assert_eq!((s, v["lead_status"].as_str()), (StatusCode::OK, Some("approved")), "{v}");
    let after = get(&app, &adv, "/balance").await;
    assert_eq!((before["available"].as_str(), after["available"].as_str()), (Some("80.00"), Some("70.00")));
    assert_eq!(get(&app, &publisher, "/balance").await["balance"], "24.00");
    assert_eq!(get(&app, &admin, "/balance").await["platform_fees"], "6.00");

    // A denied contest cannot be contested again.
    let a3 = api_lead(&app, &publisher, m.offer_id, "a3", lead(3)).await;
    post(&app, &adv, &format!("/leads/{a3}/reject"), json!({"reason": "duplicate"})).await;
    let (_, v) = post(&app, &publisher, &format!("/leads/{a3}/contest"), json!({"comment": "Not a duplicate."})).await;
    let d3 = v["disputes"][0]["id"].as_i64().expect("dispute");
    let (_, v) = post(&app, &admin, &format!("/admin/disputes/{d3}/rule"), json!({"decision": "denied"})).await;
    assert_eq!(v["lead_status"], "rejected", "{v}");
    let once = post(&app, &publisher, &format!("/leads/{a3}/contest"), json!({"comment": "Please look again."})).await;
    assert_error(&once, StatusCode::CONFLICT, "already_contested");
    let denied = get(&app, &admin, "/admin/disputes?status=denied").await;
    assert_eq!(ids(&denied, "disputes"), vec![d1, d3]);

    // Settlement rejects a throw-away address; the publisher sees why.
    let a4 = api_lead(&app, &publisher, m.offer_id, "a4", json!({"email": "x@mailinator.com"})).await;
    let (s, run) = post(&app, &admin, "/admin/settle", json!({})).await;
    assert_eq!((s, run["rejected"].as_i64()), (StatusCode::OK, Some(1)), "{run}");
    let v = get(&app, &publisher, &format!("/leads/{a4}")).await;
    assert_eq!((v["status"].as_str(), v["reasons"].clone()), (Some("rejected"), json!(["disposable_email"])), "{v}");
    let check = v["checks"].as_array().expect("checks").iter().find(|c| c["code"] == "disposable_email").cloned();
    assert_eq!(check.expect("the rule's outcome")["passed"], false);
    let rejected = get(&app, &publisher, "/leads?status=rejected").await;
    assert_eq!(ids(&rejected, "leads"), vec![a3, a4]);

    // A closed return window.
    let closed = market(&app, &offer("10.00", 100, 0), 100_00);
    let ckey = key_for(&app, closed.publisher_id);
    let b1 = api_lead(&app, &ckey, closed.offer_id, "b1", lead(5)).await;
    let cadv = key_for(&app, closed.advertiser_id);
    post(&app, &cadv, &format!("/leads/{b1}/approve"), json!({})).await;
    let late = post(&app, &cadv, &format!("/leads/{b1}/return"), json!({"reason": "duplicate"})).await;
    assert_error(&late, StatusCode::CONFLICT, "return_window_closed");
    health(&app, &admin).await;
}

// ---------------------------------------------------------------------------

async fn bad_bodies_are_refused_and_change_nothing(backend: Backend) {
    let app = app(backend, &[]).await;
    let m = market(&app, &offer("10.00", 100, 7), 100_00);
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let adv = key_for(&app, m.advertiser_id);
    let publisher = key_for(&app, m.publisher_id);
    let pending = api_lead(&app, &publisher, m.offer_id, "p1", json!({"email": "p1@example.org"})).await;
    let disputed = api_lead(&app, &publisher, m.offer_id, "p2", json!({"email": "p2@example.org"})).await;
    post(&app, &adv, &format!("/leads/{disputed}/approve"), json!({})).await;
    let (_, v) = post(&app, &adv, &format!("/leads/{disputed}/return"), json!({"reason": "duplicate"})).await;
    let dispute = v["disputes"][0]["id"].as_i64().expect("dispute");

    let state = || async {
        (
            get(&app, &adv, "/balance").await,
            get(&app, &publisher, "/balance").await,
            get(&app, &admin, "/balance").await,
            get(&app, &admin, "/admin/ledger/health").await["transactions"].clone(),
            get(&app, &adv, &format!("/leads/{pending}")).await["status"].clone(),
            get(&app, &adv, &format!("/leads/{disputed}")).await["status"].clone(),
            get(&app, &admin, "/admin/disputes?status=open").await,
            get(&app, &admin, "/payouts").await,
        )
    };
    let before = state().await;

    let bad_amounts = [
        json!("-5.00"),
        json!("0"),
        json!("0.00"),
        json!("0.001"),
        json!("12.345"),
        json!("abc"),
        json!("1e3"),
        json!(""),
        json!(" "),
        json!("99999999999999999999"),
        json!("1000000000.01"),
        json!(100),
        json!(null),
    ];
    let deposits = "/admin/deposits";
    for amount in &bad_amounts {
        let answer = post(&app, &admin, deposits, json!({"advertiser_id": m.advertiser_id, "amount": amount})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        let answer = post(&app, &publisher, "/payouts", json!({"amount": amount, "method": "bank"})).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let raw_bodies = ["", "{", "not json", "[]", "{\"advertiser_id\": 1, \"amount\": \"10.00\"", "\u{0}"];
    for raw in raw_bodies {
        assert_error(&post_raw(&app, &admin, deposits, raw).await, StatusCode::BAD_REQUEST, "invalid_request");
        assert_error(&post_raw(&app, &publisher, "/payouts", raw).await, StatusCode::BAD_REQUEST, "invalid_request");
        let rule = format!("/admin/disputes/{dispute}/rule");
        assert_error(&post_raw(&app, &admin, &rule, raw).await, StatusCode::BAD_REQUEST, "invalid_request");
    }
    for raw in ["{", "not json", "[]", "{\"reason\": 5}", "{\"reason\": \"duplicate\", \"why\": \"x\"}"] {
        let path = format!("/leads/{pending}/reject");
        assert_error(&post_raw(&app, &adv, &path, raw).await, StatusCode::BAD_REQUEST, "invalid_request");
        let path = format!("/leads/{pending}/approve");
        assert_error(&post_raw(&app, &adv, &path, raw).await, StatusCode::BAD_REQUEST, "invalid_request");
    }
    for body in [
        json!({"advertiser_id": "1", "amount": "10.00"}),
        json!({"advertiser_id": m.advertiser_id}),
        json!({"advertiser_id": m.advertiser_id, "amount": "10.00", "extra": true}),
        json!({"advertiser_id": m.advertiser_id, "amount": "10.00", "memo": "x".repeat(501)}),
    ] {
        assert_error(&post(&app, &admin, deposits, body).await, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // No advertiser has the id: an unknown one, or a publisher's (DESIGN §11).
    for advertiser_id in [99_999_999, m.publisher_id] {
        let nobody = post(&app, &admin, deposits, json!({"advertiser_id": advertiser_id, "amount": "10.00"})).await;
        assert_error(&nobody, StatusCode::NOT_FOUND, "not_found");
    }
    for body in [json!({"amount": "60.00", "method": "x".repeat(201)}), json!({"amount": "60.00", "iban": "x"})] {
        assert_error(&post(&app, &publisher, "/payouts", body).await, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let rule = format!("/admin/disputes/{dispute}/rule");
    for body in [
        json!({}),
        json!({"decision": "maybe"}),
        json!({"decision": "UPHELD"}),
        json!({"decision": 1}),
        json!({"decision": "upheld", "note": 5}),
        json!({"decision": "upheld", "note": "x".repeat(2001)}),
        json!({"decision": "upheld", "by": "me"}),
    ] {
        assert_error(&post(&app, &admin, &rule, body).await, StatusCode::BAD_REQUEST, "invalid_request");
    }
    let reject = format!("/leads/{pending}/reject");
    for body in [
        json!({"reason": "nope"}),
        json!({"reason": "other", "comment": "  "}),
        json!({"reason": "duplicate", "comment": "x".repeat(2001)}),
    ] {
        assert_error(&post(&app, &adv, &reject, body).await, StatusCode::BAD_REQUEST, "invalid_reason");
    }

    // Ids and query parameters that are not numbers, or out of range.
    for (method, key, path) in [
        (Method::GET, &adv, "/leads/abc".to_string()),
        (Method::GET, &adv, "/leads/99999999999999999999".to_string()),
        (Method::POST, &adv, "/leads/abc/approve".to_string()),
        (Method::POST, &adv, "/leads/1.5/reject".to_string()),
        (Method::POST, &adv, "/leads/x/return".to_string()),
        (Method::POST, &publisher, "/leads/x/contest".to_string()),
        (Method::POST, &admin, "/admin/disputes/abc/rule".to_string()),
        (Method::POST, &admin, "/admin/payouts/abc/paid".to_string()),
        (Method::POST, &publisher, "/payouts/abc/cancel".to_string()),
        (Method::GET, &adv, "/leads?offer_id=abc".to_string()),
        (Method::GET, &adv, "/leads?offer_id=-3".to_string()),
        (Method::GET, &adv, "/leads?before_id=x".to_string()),
        (Method::GET, &adv, "/leads?status=lost".to_string()),
        (Method::GET, &adv, "/leads?limit=0".to_string()),
        (Method::GET, &adv, "/leads?limit=501".to_string()),
        (Method::GET, &adv, "/leads?limit=ten".to_string()),
        (Method::GET, &admin, "/admin/disputes?status=closed".to_string()),
        (Method::GET, &admin, "/payouts?status=sent".to_string()),
        (Method::GET, &publisher, "/statement?limit=abc".to_string()),
    ] {
        let answer = call(&app, method.clone(), Some(key), &path, None).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // A well-formed id of no lead is 404, and empty filters mean "any".
    assert_error(&call(&app, Method::GET, Some(&adv), "/leads/0", None).await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(ids(&get(&app, &adv, "/leads?offer_id=&status=&before_id=").await, "leads"), vec![pending, disputed]);

    assert_eq!(state().await, before, "a refused request changes nothing");
    assert_eq!(before.4, "pending");
    assert_eq!(before.5, "disputed");
    assert_eq!(before.6["disputes"][0]["id"], dispute);
    health(&app, &admin).await;
}

/// Issue #5's whole path with a real hold, every balance checked against DESIGN §8:
/// deposit → click → conversion (pending, price in escrow) → hold (a run before it
/// ends decides nothing) → settlement approves → publisher balance → return →
/// admin upholds → reversal → more leads settled → payout requested and paid.
async fn deposit_to_payout_through_a_real_hold(backend: Backend) {
    let fee_bps = 1250;
    let app = app(backend, &[("QUALEAD_PLATFORM_FEE_BPS", "1250")]).await;
    let mut body = offer("40.02", 100, 7);
    body.terms.hold_hours = 2;
    let m = market(&app, &body, 0);
    let (_, admin) = api_user(&app, "admin", "e2e-admin@example.com");
    let (adv, publisher) = (key_for(&app, m.advertiser_id), key_for(&app, m.publisher_id));
    let price = 40_02;
    let fee = fee_of(price, fee_bps); // 5.0025 → 5.00
    let payout = price - fee;
    assert_eq!((fee, payout), (5_00, 35_02));
    let settle_at = |hours: i64| {
        let at = qualead::store::now() + chrono::Duration::hours(hours);
        qualead::settlement::run::settle_due(&mut app.conn(), at, qualead::settlement::run::BATCH).expect("run")
    };
    let adv_balance = |available: i64, escrow: i64| json!({"available": money(available), "escrow": money(escrow)});

    // Deposit.
    let (s, _) =
        post(&app, &admin, "/admin/deposits", json!({"advertiser_id": m.advertiser_id, "amount": "300.00"})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(get(&app, &adv, "/balance").await, adv_balance(300_00, 0));

    // Click and conversion: pending, the price reserved.
    let cid = click(&app, &m).await;
    let lead = postback(&app, &m, &cid).await;
    assert_eq!(get(&app, &adv, "/balance").await, adv_balance(300_00 - price, price));
    assert_eq!(get(&app, &publisher, "/balance").await["pending"], money(payout));

    // The hold: a run now decides nothing; a run after the hold approves it.
    assert_eq!(settle_at(0).settled(), 0);
    assert_eq!(get(&app, &publisher, &format!("/leads/{lead}")).await["status"], "pending");
    let run = settle_at(3);
    assert_eq!((run.approved, run.rejected), (1, 0));
    let view = get(&app, &publisher, &format!("/leads/{lead}")).await;
    assert_eq!(view["status"], "approved");
    assert!(view["checks"].as_array().is_some_and(|c| !c.is_empty() && c.iter().all(|c| c["passed"] == true)));
    assert_eq!(get(&app, &adv, "/balance").await, adv_balance(300_00 - price, 0));
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!((pb["available"].as_str(), pb["pending"].as_str()), (Some(money(payout).as_str()), Some("0.00")));
    assert_eq!(get(&app, &admin, "/balance").await, json!({"platform_fees": money(fee)}));

    // Return → admin upholds → reversal: the advertiser is whole again.
    let (s, v) = post(
        &app,
        &adv,
        &format!("/leads/{lead}/return"),
        json!({"reason": "consumer_denies", "comment": "never asked"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(get(&app, &adv, "/balance").await, adv_balance(300_00 - price, 0), "a return moves no money");
    let queue = get(&app, &admin, "/admin/disputes?status=open").await;
    let dispute = &queue["disputes"][0];
    assert_eq!((dispute["lead_id"].as_i64(), dispute["kind"].as_str()), (Some(lead), Some("return")), "{queue}");
    let dispute = dispute["id"].clone();
    let (s, v) =
        post(&app, &admin, &format!("/admin/disputes/{dispute}/rule"), json!({"decision": "upheld", "note": "ok"}))
            .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(get(&app, &publisher, &format!("/leads/{lead}")).await["status"], "reversed");
    assert_eq!(get(&app, &adv, "/balance").await, adv_balance(300_00, 0));
    assert_eq!(get(&app, &publisher, "/balance").await["balance"], "0.00");
    assert_eq!(get(&app, &admin, "/balance").await, json!({"platform_fees": "0.00"}));

    // Two more leads through the hold and settlement, then a payout of both.
    for _ in 0..2 {
        let cid = click(&app, &m).await;
        postback(&app, &m, &cid).await;
    }
    assert_eq!(settle_at(3).approved, 2);
    assert_eq!(get(&app, &adv, "/balance").await, adv_balance(300_00 - 2 * price, 0));
    assert_eq!(get(&app, &publisher, "/balance").await["available"], money(2 * payout));
    let (s, p) = post(&app, &publisher, "/payouts", json!({"amount": money(2 * payout), "method": "SEPA"})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(get(&app, &publisher, "/balance").await["available"], "0.00", "the request holds its amount");
    let (s, paid) = post(&app, &admin, &format!("/admin/payouts/{}/paid", p["id"]), json!({"note": "sent"})).await;
    assert_eq!((s, paid["status"].as_str()), (StatusCode::OK, Some("paid")), "{paid}");
    let pb = get(&app, &publisher, "/balance").await;
    assert_eq!((pb["balance"].as_str(), pb["available"].as_str()), (Some("0.00"), Some("0.00")));
    assert_eq!(get(&app, &admin, "/balance").await, json!({"platform_fees": money(2 * fee)}));
    // Money in = money out + what stays: the deposit = advertiser + paid out + fees.
    let h = health(&app, &admin).await;
    assert_eq!(h["balances_sum"], 0);
    assert_eq!(300_00, (300_00 - 2 * price) + 2 * payout + 2 * fee);
}

both_backends!(
    deposit_to_payout_through_a_real_hold,
    money_flows_end_to_end_over_the_api,
    permission_matrix_and_masking,
    disputes_follow_the_rules,
    bad_bodies_are_refused_and_change_nothing
);
