//! How often and how fast an advertiser decides (DESIGN §9 "The advertiser's
//! verdict in reports"), over real HTTP on both backends: leads decided through
//! different channels (the API one lead at a time, a postback, the bulk API, the
//! offer's default at hold end; a return that is no new decision), their times set
//! to known values; then the advertiser's and the admin's reports by offer and by
//! publisher (page, CSV, API) show the exact approve rate, time to verdict and share
//! decided by the default, and the publisher's offer page says it in plain words —
//! only of that offer's advertiser, and "not enough decisions yet" below ten.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime, Timelike};
use common::reports::{captured, page};
use common::{Backend, Market, PASSWORD, TestApp, spawn_app_with};
use diesel::prelude::*;
use qualead::domain::offer::{OfferBody, OfferStatus, Terms};
use qualead::store::offers::{self, MembershipStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[("QUALEAD_SETTLE_INTERVAL_SECS", "86400")]).await
}

/// A CPL offer at 10.00 that requires no fields and holds leads 72 hours, decided
/// as `decision` says (`rules`, or `advertiser` with `default`).
fn offer(name: &str, decision: &str, default: &str) -> OfferBody {
    OfferBody {
        terms: Terms {
            required_fields: vec![],
            hold_hours: 72,
            return_window_days: 7,
            max_return_rate_pct: 100,
            decision: decision.into(),
            decision_default: default.into(),
            ..Terms::default()
        },
        ..common::cpl_offer(name, "10.00")
    }
}

/// Another active offer of `m`'s advertiser, with `m`'s publisher approved on it.
fn second_offer(app: &TestApp, m: &Market, body: &OfferBody) -> Market {
    let mut c = app.conn();
    let spec = qualead::domain::offer::validate(body).expect("valid");
    let o = offers::create(&mut c, m.advertiser_id, &spec).expect("offer");
    offers::set_status(&mut c, o.id, OfferStatus::Draft, OfferStatus::Active, None).expect("activate");
    let member = offers::add_member(&mut c, o.id, m.publisher_id, MembershipStatus::Approved, false).expect("member");
    Market { offer_id: o.id, token: member.token, postback_token: o.postback_token, ..m.clone() }
}

/// Another publisher (display name "Made In Test") approved on `m`'s offer.
fn second_publisher(app: &TestApp, m: &Market, email: &str) -> Market {
    let id = app.create_user("publisher", email);
    let member =
        offers::add_member(&mut app.conn(), m.offer_id, id, MembershipStatus::Approved, false).expect("member");
    Market { publisher_id: id, token: member.token, ..m.clone() }
}

/// A lead on `m` with the advertiser's transaction id `txid`.
async fn lead(app: &TestApp, m: &Market, txid: &str) -> i64 {
    let click = common::click_through(app, &common::visitor(common::BROWSER), &m.token, "").await;
    common::accepted_lead(app, &m.postback_token, &click, &[("txid", txid)]).await
}

async fn verdict_postback(app: &TestApp, m: &Market, txid: &str, status: &str, reason: &str) {
    let r = reqwest::Client::new()
        .get(app.url("/postback"))
        .query(&[("txid", txid), ("token", &m.postback_token), ("status", status), ("reason", reason)])
        .send()
        .await
        .expect("postback");
    let (s, v): (StatusCode, Value) = (r.status(), r.json().await.expect("json"));
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("applied")), "{txid} {status}: {v}");
}

async fn bulk(app: &TestApp, key: &str, items: Value) {
    let (s, v) = common::call(app, reqwest::Method::POST, key, "/leads/status", Some(json!({ "items": items }))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["errors"], 0, "{v}");
}

/// Put a lead's acceptance `secs` before `at` and every verdict of it at `at`.
fn decided_after(app: &TestApp, lead_id: i64, at: NaiveDateTime, secs: i64) {
    use qualead::db::schema::{lead_verdicts as v, leads as l};
    let mut c = app.conn();
    diesel::update(l::table.find(lead_id))
        .set(l::created_at.eq(at - Duration::seconds(secs)))
        .execute(&mut *c)
        .expect("lead");
    let n =
        diesel::update(v::table.filter(v::lead_id.eq(lead_id))).set(v::created_at.eq(at)).execute(&mut *c).expect("v");
    assert!(n > 0, "lead {lead_id} has a verdict");
}

fn channels(app: &TestApp, lead_id: i64) -> Vec<String> {
    qualead::store::verdicts::for_lead(&mut app.conn(), lead_id).expect("q").into_iter().map(|v| v.0).collect()
}

/// The report table of a report page.
fn table(html: &str) -> String {
    captured(html, r#"(?s)<section class="card report-table" id="report">(.*?)</section>"#, "report table")
}

/// The cells of the row labelled `label` of the report table, by column name.
fn row(html: &str, label: &str) -> HashMap<String, String> {
    common::reports::row(html, "report", label)
}

/// The four verdict cells of a row: decisions, approve rate, time, by default.
fn figures(r: &HashMap<String, String>) -> [&str; 4] {
    ["decisions", "approve_rate", "time_to_verdict", "decided_by_default"]
        .map(|c| r.get(c).map(String::as_str).unwrap_or("<missing>"))
}

/// A CSV file's rows as maps by column name.
async fn csv(app: &TestApp, client: &reqwest::Client, path: &str) -> Vec<HashMap<String, String>> {
    let r = app.get_with(client, path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    common::reports::parse_csv(&r.text().await.expect("body")).1
}

/// The plain-words lines of the publisher's offer page.
fn said(html: &str, which: &str) -> String {
    captured(html, &format!(r#"<p data-verdicts="{which}">([^<]*)</p>"#), &format!("{which} line"))
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
}

async fn approve_rate_and_time_to_verdict(backend: Backend) {
    let app = app(backend).await;
    // Advertiser A: offer X (its verdict decides, default approve) with publishers
    // P1 and P2, and offer W (the rules decide) with P1.
    let (x, adv, p1, _) =
        common::signed_in_market(&app, &offer("Roof X", "advertiser", "approve"), 1000_00, PASSWORD).await;
    let x2 = second_publisher(&app, &x, "p2@example.com");
    let w = second_offer(&app, &x, &offer("Windows W", "rules", "approve"));
    // Advertiser B: offer Z, its own publisher.
    let z = Market::of(&offer("Garden Z", "advertiser", "reject")).deposit(1000_00).seed(&app.db.url);
    let key_a = common::api_key(&app, x.advertiser_id);
    let key_b = common::api_key(&app, z.advertiser_id);

    // Six decisions on X, one channel or another.
    let l1 = lead(&app, &x, "X1").await;
    let (s, v) = common::call(&app, reqwest::Method::POST, &key_a, &format!("/leads/{l1}/approve"), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let l2 = lead(&app, &x, "X2").await;
    verdict_postback(&app, &x, "X2", "approved", "").await;
    let l3 = lead(&app, &x, "X3").await;
    bulk(&app, &key_a, json!([{"txid": "X3", "status": "rejected", "reason": "consumer_denies"}])).await;
    let l4 = lead(&app, &x2, "X4").await;
    verdict_postback(&app, &x2, "X4", "rejected", "bad_contact").await;
    let l5 = lead(&app, &x2, "X5").await;
    let l6 = lead(&app, &x, "X6").await;
    verdict_postback(&app, &x, "X6", "approved", "").await;
    // A return is no new decision.
    verdict_postback(&app, &x, "X6", "returned", "duplicate").await;
    let pending = lead(&app, &x2, "X7").await;
    // X5's hold ends without a verdict: the offer's default approves it.
    {
        use qualead::db::schema::leads as l;
        let past = qualead::store::now() - Duration::minutes(1);
        diesel::update(l::table.find(l5)).set(l::hold_until.eq(past)).execute(&mut *app.conn()).expect("hold");
    }
    let s =
        qualead::settlement::run::settle_due(&mut app.conn(), qualead::store::now(), qualead::settlement::run::BATCH)
            .expect("run");
    assert_eq!((s.approved, s.rejected), (1, 0));
    assert_eq!(channels(&app, l5), ["hold_default"]);
    assert_eq!(channels(&app, l6), ["postback", "postback"], "the approval and the return");
    assert_eq!(channels(&app, pending), Vec::<String>::new());

    // Six decisions say too little to a publisher.
    let html = page(&app, &p1, &format!("/publisher/offers/{}", x.offer_id)).await;
    assert_eq!(said(&html, "offer"), "On this offer: not enough decisions yet.");
    assert_eq!(said(&html, "advertiser"), "Across all its offers: not enough decisions yet.");

    // Four more approvals on X by the bulk API, two early rejections on W, and
    // twelve rejections by advertiser B on Z.
    let mut more = vec![];
    for i in 0..4 {
        more.push(lead(&app, &x, &format!("X-more-{i}")).await);
    }
    bulk(
        &app,
        &key_a,
        json!((0..4).map(|i| json!({"txid": format!("X-more-{i}"), "status": "approved"})).collect::<Vec<_>>()),
    )
    .await;
    let (w1, w2) = (lead(&app, &w, "W1").await, lead(&app, &w, "W2").await);
    verdict_postback(&app, &w, "W1", "rejected", "out_of_criteria").await;
    verdict_postback(&app, &w, "W2", "rejected", "out_of_criteria").await;
    let mut zs = vec![];
    for i in 0..12 {
        zs.push(lead(&app, &z, &format!("Z{i}")).await);
    }
    bulk(
        &app,
        &key_b,
        json!(
            (0..12)
                .map(|i| json!({"txid": format!("Z{i}"), "status": "rejected", "reason": "fraud_suspected"}))
                .collect::<Vec<_>>()
        ),
    )
    .await;

    // Known times: every verdict a day ago, each lead accepted so long before it.
    let at = (qualead::store::now() - Duration::days(1)).with_nanosecond(0).expect("whole second");
    const HOUR: i64 = 3600;
    const DAY: i64 = 86_400;
    for (id, secs) in [(l1, HOUR), (l2, 3 * HOUR), (l3, 2 * DAY), (l4, HOUR / 2), (l5, 3 * DAY), (l6, 5 * HOUR)] {
        decided_after(&app, id, at, secs);
    }
    for id in &more {
        decided_after(&app, *id, at, DAY);
    }
    for id in [w1, w2] {
        decided_after(&app, id, at, 2 * DAY);
    }
    for id in &zs {
        decided_after(&app, *id, at, 10 * DAY);
    }

    // X: 10 decisions, 8 approved (X1, X2, X5 by default, X6, four more), one by
    // default; the middle two times are a day each.
    let html = page(&app, &p1, &format!("/publisher/offers/{}", x.offer_id)).await;
    assert_eq!(
        said(&html, "offer"),
        "The advertiser approved 80 % of the 10 leads it decided on this offer; half of them were decided within \
         24 hours of the lead. 10 % were decided by the offer's default (approve) because no verdict came before \
         the hold ended."
    );
    // A: X and W, 12 decisions, 8 approved; B's decisions are no part of it.
    let across = "The advertiser approved 66.67 % of the 12 leads it decided across all its offers; half of them were \
                  decided within 24 hours of the lead. 8.33 % were decided by an offer's default because no verdict \
                  came before the hold ended.";
    assert_eq!(said(&html, "advertiser"), across);
    assert!(!html.contains("only the advertiser's early decisions count"), "X is decided by its advertiser");
    // W: the rules decide it; two early decisions are not enough.
    let html = page(&app, &p1, &format!("/publisher/offers/{}", w.offer_id)).await;
    assert_eq!(said(&html, "offer"), "On this offer: not enough decisions yet.");
    assert_eq!(said(&html, "advertiser"), across);
    assert!(html.contains("only the advertiser's early decisions count"), "{html}");
    // Z: only B's decisions.
    let html = page(&app, &p1, &format!("/publisher/offers/{}", z.offer_id)).await;
    assert_eq!(
        said(&html, "offer"),
        "The advertiser approved 0 % of the 12 leads it decided on this offer; half of them were decided within \
         10 days of the lead. None were left to the offer's default."
    );

    // The advertiser's report by offer: X, W and the total; never Z.
    let html = page(&app, &adv, "/advertiser/reports?group_by=offer").await;
    assert_eq!(figures(&row(&html, "Roof X")), ["10", "80.00 %", "1 day", "10.00 %"]);
    assert_eq!(figures(&row(&html, "Windows W")), ["2", "0.00 %", "2 days", "0.00 %"]);
    assert_eq!(figures(&row(&html, "Total")), ["12", "66.67 %", "1 day", "8.33 %"]);
    assert!(!html.contains("Garden Z"), "B's offer is not A's to read");
    assert!(html.contains(r#"id="verdict-columns""#), "the columns are explained");
    // By publisher: P1 has X1, X2, X3, X6, the four more and W's two; P2 X4 and X5.
    let html = page(&app, &adv, "/advertiser/reports?group_by=publisher").await;
    assert_eq!(figures(&row(&html, "Seeded")), ["10", "70.00 %", "1 day", "0.00 %"]);
    // (30 minutes + 3 days) / 2 = 1 day 12 hours 15 minutes.
    assert_eq!(figures(&row(&html, "Made In Test")), ["2", "50.00 %", "1 day 12 hours", "50.00 %"]);
    // Other groupings have no such columns.
    let html = page(&app, &adv, "/advertiser/reports?group_by=day").await;
    assert!(!html.contains(r#"data-col="approve_rate""#) && !html.contains("verdict-columns"));
    // The publisher's own report has none either.
    let html = page(&app, &p1, "/publisher/reports?group_by=offer").await;
    assert!(!html.contains(r#"data-col="approve_rate""#));

    // The CSV of the same table: the time in seconds.
    let rows = csv(&app, &adv, "/advertiser/reports?group_by=offer&format=csv").await;
    let cells = |r: &HashMap<String, String>| {
        ["decisions", "approve_rate", "time_to_verdict_seconds", "decided_by_default"]
            .map(|c| r.get(c).cloned().unwrap_or_else(|| format!("<no {c}>")))
    };
    let find = |rows: &[HashMap<String, String>], key: &str, id: i64| {
        rows.iter().find(|r| r.get(key) == Some(&id.to_string())).cloned().unwrap_or_else(|| panic!("{id}: {rows:?}"))
    };
    assert_eq!(cells(&find(&rows, "offer", x.offer_id)), ["10", "80.00", "86400", "10.00"]);
    assert_eq!(cells(&find(&rows, "offer", w.offer_id)), ["2", "0.00", "172800", "0.00"]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let rows = csv(&app, &adv, "/advertiser/reports?group_by=publisher&format=csv").await;
    assert_eq!(cells(&find(&rows, "publisher", x2.publisher_id)), ["2", "50.00", "130500", "50.00"]);

    // The API: the same fields by offer and publisher, null without decisions.
    let (s, v) = common::call(&app, reqwest::Method::GET, &key_a, "/stats?group_by=publisher", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p2 = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["publisher"].as_str().and_then(|p| p.parse().ok()) == Some(x2.publisher_id));
    let p2 = p2.unwrap_or_else(|| panic!("{v}"));
    assert_eq!(
        (&p2["decisions"], &p2["approve_rate"], &p2["time_to_verdict_seconds"], &p2["decided_by_default"]),
        (&json!(2), &json!("50.00"), &json!(130_500), &json!("50.00"))
    );
    assert_eq!((&v["totals"]["decisions"], &v["totals"]["approve_rate"]), (&json!(12), &json!("66.67")));
    let (_, v) = common::call(
        &app,
        reqwest::Method::GET,
        &key_a,
        &format!("/stats?group_by=offer&offer_id={}", w.offer_id),
        None,
    )
    .await;
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["totals"]["time_to_verdict_seconds"], 2 * DAY, "{v}");
    let (_, v) = common::call(&app, reqwest::Method::GET, &key_a, "/stats?group_by=day", None).await;
    assert!(v["totals"].get("approve_rate").is_none(), "{v}");
    // A range without decisions: the fields are there, null.
    let (_, v) =
        common::call(&app, reqwest::Method::GET, &key_a, "/stats?group_by=offer&from=2026-01-01&to=2026-01-07", None)
            .await;
    assert_eq!(
        (&v["totals"]["decisions"], &v["totals"]["approve_rate"], &v["totals"]["time_to_verdict_seconds"]),
        (&json!(0), &Value::Null, &Value::Null),
        "{v}"
    );
    // Publishers read no such fields.
    let key_p = common::api_key(&app, x.publisher_id);
    let (_, v) = common::call(&app, reqwest::Method::GET, &key_p, "/stats?group_by=offer", None).await;
    assert!(v["totals"].get("approve_rate").is_none(), "{v}");

    // The admin sees every advertiser: Z too, and the total of all 24 decisions,
    // whose middle two are 3 days (X5) and 10 days (Z): 6 days 12 hours.
    let admin = app.login_as("admin", "stats-admin@example.com").await;
    let html = page(&app, &admin, "/admin/reports?group_by=offer").await;
    assert_eq!(figures(&row(&html, "Garden Z")), ["12", "0.00 %", "10 days", "0.00 %"]);
    assert_eq!(figures(&row(&html, "Roof X")), ["10", "80.00 %", "1 day", "10.00 %"]);
    assert_eq!(figures(&row(&html, "Total")), ["24", "33.33 %", "6 days 12 hours", "4.17 %"]);
}

/// A lead accepted before a report's range and decided in it counts in the range
/// of its verdict, on a line of its own when its offer had no traffic in the range.
async fn a_decision_counts_in_the_range_of_its_verdict(backend: Backend) {
    let app = app(backend).await;
    let (x, adv, _, _) =
        common::signed_in_market(&app, &offer("Roof X", "advertiser", "approve"), 100_00, PASSWORD).await;
    let l = lead(&app, &x, "OLD").await;
    verdict_postback(&app, &x, "OLD", "approved", "").await;
    // Accepted on 2026-01-01 12:00, decided on 2026-02-03 12:00 (UTC).
    let at = chrono::NaiveDate::from_ymd_opt(2026, 2, 3).and_then(|d| d.and_hms_opt(12, 0, 0)).expect("date");
    decided_after(&app, l, at, 33 * 86_400);
    let html = page(&app, &adv, "/advertiser/reports?group_by=offer&from=2026-02-01&to=2026-02-05").await;
    assert_eq!(figures(&row(&html, "Roof X")), ["1", "100.00 %", "33 days", "0.00 %"]);
    assert_eq!(row(&html, "Roof X")["leads"], "0", "no traffic in the range");
    let html = page(&app, &adv, "/advertiser/reports?group_by=offer&from=2026-01-01&to=2026-01-31").await;
    assert!(
        table(&html).contains("No traffic in this range."),
        "nothing in January: the lead's rollup hour is today's"
    );
}

both_backends!(approve_rate_and_time_to_verdict, a_decision_counts_in_the_range_of_its_verdict);
