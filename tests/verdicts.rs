//! The advertiser's verdict (DESIGN §6 "The advertiser's verdict", §11): the
//! decision mode of an offer at hold end (the rules, or the advertiser's verdict
//! with its default), and verdicts from the advertiser's systems — by postback
//! status, by the bulk API and by CSV upload (preview, then apply) — each moving
//! the right leads and money exactly once, and never reaching another
//! advertiser's leads.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, spawn_app_with};
use diesel::prelude::*;
use qualead::domain::offer::{OfferBody, Terms};
use qualead::store::ledger;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// No periodic settlement run during a test: leads settle only when a test says so.
const QUIET: (&str, &str) = ("QUALEAD_SETTLE_INTERVAL_SECS", "86400");

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[QUIET]).await
}

/// A CPL offer at 10.00 (fee 2.00, payout 8.00) that requires no fields, holds
/// leads `hold_hours`, and is decided as `decision` says (`rules`, or
/// `advertiser` with `default`).
fn offer(hold_hours: u32, decision: &str, default: &str) -> OfferBody {
    OfferBody {
        terms: Terms {
            required_fields: vec![],
            hold_hours,
            return_window_days: 7,
            max_return_rate_pct: 100,
            decision: decision.into(),
            decision_default: default.into(),
            ..Terms::default()
        },
        ..common::cpl_offer("Solar quotes", "10.00")
    }
}

fn market(app: &TestApp, body: &OfferBody) -> Market {
    Market::of(body).deposit(100_00).seed(&app.db.url)
}

/// A lead on `m` with the advertiser's transaction id `txid`: click, then postback.
async fn lead(app: &TestApp, m: &Market, txid: &str) -> i64 {
    let click = common::click_through(app, &common::visitor(common::BROWSER), &m.token, "").await;
    common::accepted_lead(app, &m.postback_token, &click, &[("txid", txid)]).await
}

fn status_of(app: &TestApp, id: i64) -> String {
    qualead::store::leads::find(&mut app.conn(), id).expect("q").expect("lead").status.to_string()
}

fn reasons_of(app: &TestApp, id: i64) -> Vec<String> {
    qualead::store::leads::find(&mut app.conn(), id).expect("q").expect("lead").reason_list()
}

/// (advertiser available, escrow, publisher, platform fees) of a market.
fn balances(app: &TestApp, m: &Market) -> (i64, i64, i64, i64) {
    let mut c = app.conn();
    let b = |c: &mut qualead::db::DbConn, a: &str| ledger::balance(c, a).expect("balance");
    (
        b(&mut c, &ledger::advertiser(m.advertiser_id)),
        b(&mut c, &ledger::escrow(m.advertiser_id)),
        b(&mut c, &ledger::publisher(m.publisher_id)),
        b(&mut c, ledger::PLATFORM_FEES),
    )
}

/// The kinds of the ledger transactions of a lead, in order.
fn postings(app: &TestApp, lead_id: i64) -> Vec<String> {
    use qualead::db::schema::ledger_transactions as t;
    t::table.filter(t::lead_id.eq(lead_id)).order(t::id).select(t::kind).load(&mut *app.conn()).expect("postings")
}

/// The channels of a lead's recorded verdicts.
fn channels(app: &TestApp, lead_id: i64) -> Vec<String> {
    qualead::store::verdicts::for_lead(&mut app.conn(), lead_id).expect("q").into_iter().map(|v| v.0).collect()
}

async fn verdict_postback(app: &TestApp, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = reqwest::Client::new().get(app.url("/postback")).query(query).send().await.expect("postback");
    let s = r.status();
    (s, r.json().await.expect("JSON"))
}

fn key_for(app: &TestApp, user_id: i64) -> String {
    common::api_key(app, user_id)
}

async fn bulk(app: &TestApp, key: &str, body: &Value) -> (StatusCode, Value) {
    common::call(app, reqwest::Method::POST, key, "/leads/status", Some(body.clone())).await
}

// ---------------------------------------------------------------------------

/// Verdicts by postback: by txid and by click and event, each applied once; the
/// same verdict again answers `duplicate` and moves nothing; honest refusals.
async fn postback_verdicts_move_money_once(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app, &offer(72, "advertiser", "approve"));
    let (a, b, c) = (lead(&app, &m, "T-A").await, lead(&app, &m, "T-B").await, lead(&app, &m, "T-C").await);
    assert_eq!(balances(&app, &m), (70_00, 30_00, 0, 0));
    let tok = m.postback_token.as_str();
    // Before its verdict the advertiser reads the rules' recommendation; the publisher does not.
    let read = |key: String| {
        let url = app.url(&format!("/api/v1/leads/{a}"));
        async move {
            let r = reqwest::Client::new().get(url).bearer_auth(key).send().await.expect("lead");
            r.json::<Value>().await.expect("json")
        }
    };
    let seen = read(key_for(&app, m.advertiser_id)).await;
    assert_eq!(seen["recommendation"], "approve", "{seen}");
    assert!(seen["checks"].as_array().is_some_and(|c| !c.is_empty()), "{seen}");
    assert_eq!(status_of(&app, a), "pending", "reading a recommendation decides nothing");
    let seen = read(key_for(&app, m.publisher_id)).await;
    assert!(seen["recommendation"].is_null() && seen["checks"].as_array().is_some_and(|c| c.is_empty()), "{seen}");

    let (s, v) = verdict_postback(&app, &[("txid", "T-A"), ("token", tok), ("status", "approved")]).await;
    assert_eq!((s, v["status"].as_str(), v["lead_id"].as_i64()), (StatusCode::OK, Some("applied"), Some(a)), "{v}");
    assert_eq!(v["lead_status"], "approved");
    // The same verdict again (HasOffers-style names this time): the same answer, no money.
    let (s, v) = verdict_postback(&app, &[("adv_sub", "T-A"), ("security_token", tok), ("status", "approved")]).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{v}");
    assert_eq!(balances(&app, &m), (70_00, 20_00, 8_00, 2_00));
    assert_eq!(postings(&app, a), ["lead_accepted", "lead_approved"]);

    // A rejection needs a reason code from DESIGN §6.
    let (s, v) = verdict_postback(&app, &[("txid", "T-B"), ("token", tok), ("status", "rejected")]).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_reason")), "{v}");
    let (s, v) = verdict_postback(
        &app,
        &[("txid", "T-B"), ("token", tok), ("status", "rejected"), ("reason", "consumer_denies")],
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("applied")), "{v}");
    assert_eq!(reasons_of(&app, b), ["consumer_denies"]);
    assert_eq!(balances(&app, &m), (80_00, 10_00, 8_00, 2_00));
    // A verdict the lead's state does not allow.
    let (s, v) = verdict_postback(&app, &[("txid", "T-B"), ("token", tok), ("status", "approved")]).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::CONFLICT, Some("invalid_transition")), "{v}");

    // By click and event.
    let click = qualead::store::leads::find(&mut app.conn(), c).expect("q").expect("lead").row.click_id.expect("click");
    let (s, v) =
        verdict_postback(&app, &[("click_id", &click), ("event", "lead"), ("token", tok), ("status", "approved")])
            .await;
    assert_eq!((s, v["lead_id"].as_i64()), (StatusCode::OK, Some(c)), "{v}");

    // A return of an approved lead: disputed, once.
    let returned = [("txid", "T-A"), ("token", tok), ("status", "returned"), ("reason", "duplicate")];
    let (s, v) = verdict_postback(&app, &returned).await;
    assert_eq!((s, v["lead_status"].as_str()), (StatusCode::OK, Some("disputed")), "{v}");
    let (s, v) = verdict_postback(&app, &returned).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{v}");

    // Honest refusals.
    let (s, v) = verdict_postback(&app, &[("txid", "nope"), ("token", tok), ("status", "approved")]).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_lead")), "{v}");
    let (s, v) = verdict_postback(&app, &[("txid", "T-A"), ("token", "wrong-token"), ("status", "approved")]).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::FORBIDDEN, Some("bad_token")), "{v}");
    let (s, v) = verdict_postback(&app, &[("txid", "T-A"), ("token", tok), ("status", "maybe")]).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_status")), "{v}");
    // Another advertiser's offer token does not reach these leads.
    let other = market(&app, &offer(72, "rules", "approve"));
    let (s, v) =
        verdict_postback(&app, &[("txid", "T-C"), ("token", &other.postback_token), ("status", "approved")]).await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_lead")), "{v}");

    assert_eq!(
        (status_of(&app, a), status_of(&app, b), status_of(&app, c)),
        ("disputed".into(), "rejected".into(), "approved".into())
    );
    assert_eq!(balances(&app, &m), (80_00, 0, 16_00, 4_00));
    assert_eq!(channels(&app, a), ["postback", "postback"], "the approval and the return, not the duplicates");

    // A suspended advertiser decides nothing: its verdict is refused and the lead stays as it was.
    let d = lead(&app, &m, "T-D").await;
    qualead::store::users::set_status(
        &mut app.conn(),
        m.advertiser_id,
        qualead::domain::account::AccountStatus::Suspended,
    )
    .expect("suspend");
    let (s, v) = verdict_postback(
        &app,
        &[("txid", "T-D"), ("token", tok), ("status", "rejected"), ("reason", "other"), ("comment", "x")],
    )
    .await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::CONFLICT, Some("offer_inactive")), "{v}");
    assert_eq!(status_of(&app, d), "pending");
    assert!(channels(&app, d).is_empty());
}

/// `POST /api/v1/leads/status`: each item its own outcome, one bad item stops no
/// other, a repeat moves nothing, another advertiser's leads stay out of reach.
async fn bulk_api_answers_each_item(backend: Backend) {
    let app = app(backend).await;
    let m = market(&app, &offer(72, "rules", "approve"));
    let other = market(&app, &offer(72, "rules", "approve"));
    let (a, b, c) = (lead(&app, &m, "B-1").await, lead(&app, &m, "B-2").await, lead(&app, &m, "B-3").await);
    let theirs = lead(&app, &other, "B-1").await;
    let key = key_for(&app, m.advertiser_id);
    let body = json!({"items": [
        {"txid": "B-1", "status": "approved"},
        {"lead_id": b, "status": "rejected", "reason": "bad_contact", "comment": "wrong number"},
        {"txid": "missing", "status": "approved"},
        {"lead_id": theirs, "status": "approved"},
        {"txid": "B-3", "status": "rejected"},
        {"txid": "B-3", "lead_id": c, "status": "approved"},
    ]});
    let (s, v) = bulk(&app, &key, &body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = &v["results"];
    assert_eq!((r[0]["status"].as_str(), r[0]["lead_id"].as_i64()), (Some("applied"), Some(a)), "{v}");
    assert_eq!((r[1]["status"].as_str(), r[1]["lead_status"].as_str()), (Some("applied"), Some("rejected")), "{v}");
    assert_eq!((r[2]["http"].as_u64(), r[2]["error"].as_str()), (Some(404), Some("unknown_lead")), "{v}");
    assert_eq!((r[3]["http"].as_u64(), r[3]["error"].as_str()), (Some(404), Some("unknown_lead")), "{v}");
    assert_eq!(r[4]["error"], "invalid_reason", "{v}");
    assert_eq!(r[5]["error"], "invalid_request", "{v}");
    assert_eq!((v["applied"].as_i64(), v["duplicates"].as_i64(), v["errors"].as_i64()), (Some(2), Some(0), Some(4)));
    assert_eq!(status_of(&app, theirs), "pending", "another advertiser's lead is untouched");
    // An item that does not match the document refuses the whole request, naming it.
    let (s, v) = bulk(
        &app,
        &key,
        &json!({"items": [{"txid": "B-3", "status": "rejected", "reason": "bad_contact"}, {"txid": "B-3", "status": "sold"}]}),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("items[1].status: "), "{v}");
    let long = "x".repeat(129);
    let (s, v) = bulk(&app, &key, &json!({"items": [{"txid": long, "status": "approved"}]})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("items[0].txid: "), "{v}");
    assert_eq!(status_of(&app, c), "pending");
    assert_eq!(balances(&app, &m), (80_00, 10_00, 8_00, 2_00));

    // The same request again: the two verdicts are duplicates, nothing moves.
    let (_, v) = bulk(&app, &key, &body).await;
    assert_eq!((v["applied"].as_i64(), v["duplicates"].as_i64()), (Some(0), Some(2)), "{v}");
    assert_eq!(balances(&app, &m), (80_00, 10_00, 8_00, 2_00));
    assert_eq!(postings(&app, a), ["lead_accepted", "lead_approved"]);
    assert_eq!(channels(&app, b), ["bulk_api"]);

    // Too many items, a publisher, no body.
    let many: Vec<Value> = (0..1001).map(|i| json!({"txid": format!("x{i}"), "status": "approved"})).collect();
    let (s, v) = bulk(&app, &key, &json!({ "items": many })).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_many_items")), "{v}");
    let publisher_key = key_for(&app, m.publisher_id);
    let (s, _) = bulk(&app, &publisher_key, &json!({"items": [{"lead_id": c, "status": "approved"}]})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = bulk(&app, &key, &json!({"items": []})).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    assert_eq!(status_of(&app, c), "pending");

    // One lead at a time through the API is a verdict too, recorded with its channel.
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/leads/{c}/approve")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(channels(&app, c), ["api"]);
    assert_eq!(balances(&app, &m), (80_00, 0, 16_00, 4_00));
}

/// A multipart upload of `csv` from a signed-in browser; the redirect's target.
async fn upload(app: &TestApp, client: &reqwest::Client, csv: &str) -> String {
    let (_, page) = app.get_text(client, "/advertiser/verdicts").await;
    let csrf = common::csrf_of(&page);
    let body = format!(
        "--B0undary\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --B0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--B0undary--\r\n"
    );
    let r = client
        .post(app.url("/advertiser/verdicts"))
        .header("content-type", "multipart/form-data; boundary=B0undary")
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().expect("location").to_string()
}

/// CSV: the preview changes nothing and says what would; apply does exactly that,
/// once; the result file has a line per row; another advertiser's leads and
/// uploads stay out of reach; a lead that changed meanwhile is left alone.
async fn csv_preview_then_apply(backend: Backend) {
    let app = app(backend).await;
    let (m, adv, _publisher, _) =
        common::signed_in_market(&app, &offer(72, "advertiser", "approve"), 100_00, common::PASSWORD).await;
    let other = market(&app, &offer(72, "rules", "approve"));
    let (a, b, c, d) = (
        lead(&app, &m, "C-1").await,
        lead(&app, &m, "C-2").await,
        lead(&app, &m, "C-3").await,
        lead(&app, &m, "C-4").await,
    );
    let theirs = lead(&app, &other, "X-1").await;
    let before = balances(&app, &m);
    let csv = format!(
        "txid,lead_id,status,reason,comment\r\nC-1,,approved,,\r\n,{b},rejected,bad_contact,\"no answer, 3 calls\"\r\n\
         C-3,,rejected,,\r\nnope,,approved,,\r\n,{theirs},approved,,\r\nC-4,,approved,,\r\n"
    );
    let at = upload(&app, &adv, &csv).await;
    assert!(at.starts_with("/advertiser/verdicts/"), "{at}");
    let (s, page) = app.get_text(&adv, &at).await;
    assert_eq!(s, StatusCode::OK);
    // Nothing changed yet.
    assert_eq!(balances(&app, &m), before);
    for id in [a, b, c, d] {
        assert_eq!(status_of(&app, id), "pending");
    }
    assert!(page.contains(r#"<td id="sum-approved">2</td>"#), "{page}");
    assert!(page.contains(r#"<td id="sum-rejected">1</td>"#), "{page}");
    assert!(page.contains(r#"<td id="sum-refused">3</td>"#), "{page}");
    assert!(page.contains("$20.00 paid from escrow"), "{page}");
    assert!(page.contains("File: v.csv"), "{page}");
    assert!(
        page.contains("[<code class=\"tag\">unknown_lead</code>]")
            && page.contains("[<code class=\"tag\">invalid_reason</code>]"),
        "{page}"
    );

    let (_, file) = app.get_text(&adv, &format!("{at}/result.csv")).await;
    assert!(file.lines().nth(1).is_some_and(|l| l.contains(",will_apply,")), "{file}");
    // Another advertiser can neither read it nor apply it.
    let stranger = app.login_as("advertiser", "stranger@example.com").await;
    assert_eq!(app.get_with(&stranger, &at).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&stranger, &format!("{at}/result.csv")).await.status(), StatusCode::NOT_FOUND);
    let (_, theirs_page) = app.get_text(&stranger, "/advertiser/verdicts").await;
    let r = app.post_form(&stranger, &format!("{at}/apply"), &[("csrf_token", &common::csrf_of(&theirs_page))]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of(&app, a), "pending");

    // Between preview and apply, the lead of C-4 is decided another way.
    let key = key_for(&app, m.advertiser_id);
    let (_, v) =
        bulk(&app, &key, &json!({"items": [{"txid": "C-4", "status": "rejected", "reason": "duplicate"}]})).await;
    assert_eq!(v["applied"], 1, "{v}");

    let csrf = common::csrf_of(&page);
    let r = app.post_form(&adv, &format!("{at}/apply"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        (status_of(&app, a), status_of(&app, b), status_of(&app, c)),
        ("approved".into(), "rejected".into(), "pending".into())
    );
    assert_eq!(status_of(&app, d), "rejected", "left as it was changed, not approved by the stale row");
    assert_eq!(status_of(&app, theirs), "pending");
    // 100 − 4×10 + 10 (b) + 10 (d); a paid from escrow; c still held.
    assert_eq!(balances(&app, &m), (80_00, 10_00, 8_00, 2_00));
    assert_eq!(channels(&app, a), ["csv"]);

    // Applying again changes nothing.
    let (_, page) = app.get_text(&adv, &at).await;
    let r = app.post_form(&adv, &format!("{at}/apply"), &[("csrf_token", &common::csrf_of(&page))]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(balances(&app, &m), (80_00, 10_00, 8_00, 2_00));
    assert_eq!(postings(&app, a), ["lead_accepted", "lead_approved"]);

    let (s, file) = app.get_text(&adv, &format!("{at}/result.csv")).await;
    assert_eq!(s, StatusCode::OK);
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 7, "{file}");
    assert_eq!(lines[0], "line,lead,status,outcome,lead_id,lead_status,lead_status_label,http,code,message", "{file}");
    assert!(lines[1].starts_with(&format!("2,txid C-1,approved,applied,{a},approved,approved,200,")), "{file}");
    assert!(lines[3].contains("error") && lines[3].contains("invalid_reason"), "{file}");
    assert!(lines[6].contains("changed_since_preview"), "{file}");
}

/// `advertiser` mode at hold end: without a verdict the offer's default decides
/// (approve or reject, said in the history and the reasons), the rules' outcome
/// kept as a recommendation; a verdict before the hold ended stands, paid once.
async fn advertiser_mode_at_hold_end(backend: Backend) {
    let app = app(backend).await;
    let approve = market(&app, &offer(0, "advertiser", "approve"));
    let reject = market(&app, &offer(0, "advertiser", "reject"));
    let rules = market(&app, &offer(0, "rules", "approve"));
    let (x, y, z) =
        (lead(&app, &approve, "H-1").await, lead(&app, &reject, "H-2").await, lead(&app, &rules, "H-3").await);
    let decided = lead(&app, &reject, "H-4").await;
    let (s, v) =
        verdict_postback(&app, &[("txid", "H-4"), ("token", &reject.postback_token), ("status", "approved")]).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("applied")), "{v}");

    let summary =
        qualead::settlement::run::settle_due(&mut app.conn(), qualead::store::now(), qualead::settlement::run::BATCH)
            .expect("run");
    assert_eq!((summary.approved, summary.rejected), (2, 1));
    assert_eq!(status_of(&app, x), "approved");
    assert_eq!((status_of(&app, y), reasons_of(&app, y)), ("rejected".into(), vec!["default_rejected".to_string()]));
    assert_eq!(status_of(&app, z), "approved", "the rules decide a rules offer");
    assert_eq!(status_of(&app, decided), "approved", "the verdict stands");
    assert_eq!(postings(&app, decided), ["lead_accepted", "lead_approved"]);
    assert_eq!(balances(&app, &approve), (90_00, 0, 8_00, balances(&app, &approve).3));
    assert_eq!(balances(&app, &reject).0, 100_00 - 10_00, "the rejected lead's price is back, the approved one paid");
    let history = qualead::store::leads::history(&mut app.conn(), y).expect("history");
    let last = history.last().expect("event");
    assert_eq!(last.reason, "default_rejected");
    assert!(last.comment.contains("recommended approve"), "{}", last.comment);
    assert_eq!(channels(&app, x), ["hold_default"]);
    assert_eq!(channels(&app, decided), ["postback"]);
    // The rules still ran: their outcome is on the lead.
    let checks = qualead::store::leads::find(&mut app.conn(), y).expect("q").expect("lead").checks;
    assert!(checks.contains("bot_traffic"), "{checks}");
}

/// The decision mode travels through the offers API and is read in plain words.
async fn decision_mode_in_the_offers_api(backend: Backend) {
    let app = app(backend).await;
    let adv = app.create_user("advertiser", "mode@example.com");
    let key = key_for(&app, adv);
    let mut body = serde_json::to_value(offer(24, "advertiser", "reject")).expect("json");
    body["landing_url"] = json!("https://adv.example/?cid={click_id}");
    let (status, v) = common::call(&app, reqwest::Method::POST, &key, "/offers", Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["terms"]["decision"].as_str(), v["terms"]["decision_default"].as_str()),
        (Some("advertiser"), Some("reject")),
        "{v}"
    );
    body["terms"]["decision"] = json!("crm");
    let (status, v) = common::call(&app, reqwest::Method::POST, &key, "/offers", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("terms.decision"), "{v}");
}

both_backends!(
    postback_verdicts_move_money_once,
    bulk_api_answers_each_item,
    csv_preview_then_apply,
    advertiser_mode_at_hold_end,
    decision_mode_in_the_offers_api,
);
