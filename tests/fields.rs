//! An integration that cannot lose a field (DESIGN "Trust"): every field an offer
//! can require reaches the lead through every channel; a conversion that lacks a
//! required field is refused at intake, before it holds budget or a cap; the
//! postback URL carries a macro per required field; and test conversions from the
//! advertiser's test link are answered and shown but never count anywhere.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{BROWSER, Backend, Market, TestApp, api_key, click_through, spawn_app, visitor};
use qualead::domain::offer::{Caps, OfferBody, Terms};
use qualead::store::{leads, ledger};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The fields an offer may require beyond name, e-mail, phone and country.
const MORE: [(&str, &str); 7] = [
    ("zip", "94107"),
    ("address", "1 Main St"),
    ("city", "Springfield"),
    ("state", "CA"),
    ("company", "Acme Inc"),
    ("age", "42"),
    ("gender", "female"),
];

fn cpl(required: &[&str], cap_total: Option<i64>) -> OfferBody {
    OfferBody {
        caps: Caps { total: cap_total, ..Caps::default() },
        terms: Terms { required_fields: required.iter().map(|s| s.to_string()).collect(), ..Terms::default() },
        ..common::solar_offer("10.00")
    }
}

fn market(app: &TestApp, body: &OfferBody) -> Market {
    Market::of(body).deposit(100_00).seed(&app.db.url)
}

async fn click(app: &TestApp, m: &Market) -> String {
    click_through(app, &visitor(BROWSER), &m.token, "sub1=blog").await
}

async fn get_postback(app: &TestApp, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = reqwest::Client::new().get(app.url("/postback")).query(query).send().await.expect("postback");
    let status = r.status();
    (status, r.json().await.expect("a JSON answer"))
}

/// The pixel's `X-Qualead-Status`.
async fn pixel(app: &TestApp, offer_id: i64, query: &[(&str, &str)]) -> String {
    let r = reqwest::Client::new().get(app.url(&format!("/px/{offer_id}.gif"))).query(query).send().await.expect("px");
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["x-qualead-status"].to_str().expect("status").to_string()
}

async fn api_get(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new().get(app.url(&format!("/api/v1{path}"))).bearer_auth(key).send().await.expect("api");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn balance(app: &TestApp, account: &str) -> i64 {
    ledger::balance(&mut app.conn(), account).expect("balance")
}

fn lead_count(app: &TestApp, m: &Market) -> i64 {
    leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count")
}

async fn every_field_reaches_the_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl(&["email", "zip", "address", "city", "state", "company", "age", "gender"], None));
    let adv = api_key(&app, m.advertiser_id);

    // GET postback.
    let cid = click(&app, &m).await;
    let mut query =
        vec![("click_id", cid.as_str()), ("token", m.postback_token.as_str()), ("email", "ann@example.org")];
    query.extend_from_slice(&MORE);
    let (s, v) = get_postback(&app, &query).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("accepted")), "{v}");
    let (s, lead) = api_get(&app, &adv, &format!("/leads/{}", v["lead_id"])).await;
    assert_eq!(s, StatusCode::OK, "{lead}");
    for (k, val) in MORE {
        assert_eq!(lead["fields"][k], val, "{k}: {lead}");
    }
    assert_eq!(lead["fields"]["email"], "ann@example.org");

    // POST postback, JSON body.
    let cid = click(&app, &m).await;
    let mut body = json!({"click_id": cid, "token": m.postback_token, "email": "bo@example.org"});
    for (k, val) in MORE {
        body[k] = json!(val);
    }
    body["age"] = json!(37);
    let r = reqwest::Client::new().post(app.url("/postback")).json(&body).send().await.expect("post");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "accepted", "{v}");
    let (_, lead) = api_get(&app, &adv, &format!("/leads/{}", v["lead_id"])).await;
    assert_eq!((lead["fields"]["zip"].as_str(), lead["fields"]["age"].as_str()), (Some("94107"), Some("37")), "{lead}");

    // The pixel.
    let cid = click(&app, &m).await;
    let mut query = vec![("click_id", cid.as_str()), ("email", "cy@example.org")];
    query.extend_from_slice(&MORE);
    assert_eq!(pixel(&app, m.offer_id, &query).await, "accepted");
    let stored = leads::by_clicks(&mut app.conn(), &[cid.as_str()]).expect("q");
    let lead = leads::find(&mut app.conn(), stored[0].id).expect("q").expect("lead");
    let fields = lead.fields_map();
    for (k, val) in MORE {
        assert_eq!(fields[k], val, "pixel {k}");
    }

    // Bounded: a value past the length refused with the field named, nothing stored.
    let before = lead_count(&app, &m);
    let cid = click(&app, &m).await;
    let long = "9".repeat(qualead::domain::intake::MAX_FIELD_LEN + 1);
    let (s, v) = get_postback(
        &app,
        &[("click_id", &cid), ("token", &m.postback_token), ("email", "dee@example.org"), ("zip", &long)],
    )
    .await;
    assert_eq!((s, v["reason"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    assert!(v["message"].as_str().unwrap_or("").contains("zip"), "{v}");
    assert_eq!(lead_count(&app, &m), before);
}

async fn a_lead_without_a_required_field_is_refused_at_intake(backend: Backend) {
    let app = spawn_app(backend).await;
    // A cap of one lead: a refusal must not take it.
    let m = market(&app, &cpl(&["email", "zip"], Some(1)));
    let (adv, escrow) = (ledger::advertiser(m.advertiser_id), ledger::escrow(m.advertiser_id));
    let cid = click(&app, &m).await;

    for zip in [None, Some(" "), Some("{zip}")] {
        let mut q =
            vec![("click_id", cid.as_str()), ("token", m.postback_token.as_str()), ("email", "ann@example.org")];
        if let Some(z) = zip {
            q.push(("zip", z));
        }
        let (s, v) = get_postback(&app, &q).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{zip:?}: {v}");
        assert_eq!((v["status"].as_str(), v["reason"].as_str()), (Some("rejected"), Some("missing_field")), "{v}");
        assert_eq!((v["error"].as_str(), v["fields"].clone()), (Some("missing_field"), json!(["zip"])), "{v}");
        assert!(v["message"].as_str().unwrap_or("").contains("zip"), "{v}");
    }
    let (s, v) = get_postback(&app, &[("click_id", &cid), ("token", &m.postback_token)]).await;
    assert_eq!((s, v["fields"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!(["email", "zip"])), "{v}");
    assert_eq!(
        pixel(&app, m.offer_id, &[("click_id", &cid), ("email", "ann@example.org")]).await,
        "rejected:missing_field"
    );

    // Nothing held: no lead, no money moved, the cap still free.
    assert_eq!(lead_count(&app, &m), 0);
    assert_eq!((balance(&app, &adv), balance(&app, &escrow)), (100_00, 0));
    assert!(ledger::health(&mut app.conn()).expect("health").balanced);
    // The publisher's postback log has the refusals.
    let log = leads::rejections_for_publisher(&mut app.conn(), m.publisher_id, 50).expect("log");
    assert_eq!(log.len(), 5, "{log:?}");
    assert!(log.iter().all(|r| r.4 == "missing_field"), "{log:?}");

    let (s, v) = get_postback(
        &app,
        &[("click_id", &cid), ("token", &m.postback_token), ("email", "ann@example.org"), ("zip", "94107")],
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("accepted")), "the cap of 1 was still free: {v}");
    assert_eq!((balance(&app, &adv), balance(&app, &escrow)), (90_00, 10_00));
}

async fn the_postback_url_has_a_macro_per_required_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl(&["email", "zip"], None));
    let key = api_key(&app, m.advertiser_id);
    let (s, offer) = api_get(&app, &key, &format!("/offers/{}", m.offer_id)).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    let url = offer["postback_url"].as_str().expect("postback url");
    assert!(url.contains("&email={email}") && url.contains("&zip={zip}"), "{url}");
    assert!(url.contains("click_id={click_id}") && url.contains("txid={txid}"), "{url}");

    let web = app.session_of(m.advertiser_id).await;
    let (s, page) = app.get_text(&web, &format!("/advertiser/offers/{}", m.offer_id)).await;
    assert_eq!(s, StatusCode::OK);
    // As the browser reads it (askama writes `&` as `&#38;`).
    let page = page.replace("&#38;", "&").replace("&amp;", "&");
    assert!(page.contains(&format!("{url}</code>")), "the postback URL on the page");
    assert!(page.contains("<code>{zip}</code>") && page.contains("postal or ZIP code"), "the macro explained");
    assert!(page.contains("/px/") && page.contains("txid=ORDER_ID&email={email}&zip={zip}"), "pixel");

    // The URL as shown, its macros filled, is accepted.
    let cid = click(&app, &m).await;
    let filled = url
        .replace("{click_id}", &cid)
        .replace("{txid}", "order-1")
        .replace("{email}", "ann%40example.org")
        .replace("{zip}", "94107");
    let v: Value = reqwest::get(filled).await.expect("postback").json().await.expect("json");
    assert_eq!(v["status"], "accepted", "{v}");
}

/// Follow the offer's test link (not the redirect): the test click id on the landing URL.
async fn test_click(app: &TestApp, link: &str) -> String {
    let r = visitor(BROWSER).get(link).send().await.expect("test link");
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = r.headers()["location"].to_str().expect("location").to_string();
    assert!(loc.starts_with("https://adv.example/quote?cid=test."), "{loc}");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").to_string();
    let cid = url::Url::parse(&loc).expect("url").query_pairs().find(|(k, _)| k == "cid").expect("cid").1.into_owned();
    assert!(cookie.contains(&cid), "the pixel cookie carries the test click: {cookie}");
    let _ = app;
    cid
}

async fn test_conversions_are_shown_and_never_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl(&["email", "zip"], Some(1)));
    let (adv, escrow) = (ledger::advertiser(m.advertiser_id), ledger::escrow(m.advertiser_id));
    let web = app.session_of(m.advertiser_id).await;
    let page_path = format!("/advertiser/offers/{}", m.offer_id);
    let (_, page) = app.get_text(&web, &page_path).await;
    let start = page.find("id=\"test-link\">").expect("the test link on the offer page") + "id=\"test-link\">".len();
    let link = page[start..].split('<').next().expect("link").to_string();
    assert!(link.starts_with(&app.url(&format!("/t/{}/", m.offer_id))), "{link}");
    // A wrong signature is no test link.
    let r = visitor(BROWSER).get(format!("{link}x")).send().await.expect("bad link");
    assert_eq!(r.status(), StatusCode::OK, "the paused page, no redirect");

    let cid = test_click(&app, &link).await;
    let (s, v) =
        get_postback(&app, &[("click_id", &cid), ("token", &m.postback_token), ("email", "ann@example.org")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        (v["test"].as_bool(), v["reason"].as_str(), v["fields"].clone()),
        (Some(true), Some("missing_field"), json!(["zip"]))
    );
    let (s, v) = get_postback(
        &app,
        &[("click_id", &cid), ("token", &m.postback_token), ("email", "ann@example.org"), ("zip", "94107")],
    )
    .await;
    assert_eq!((s, v["status"].as_str(), v["test"].as_bool()), (StatusCode::OK, Some("accepted"), Some(true)), "{v}");
    assert!(v.get("lead_id").is_none() && v["checks"].as_array().is_some_and(|c| !c.is_empty()), "{v}");
    let (s, v) =
        get_postback(&app, &[("click_id", &cid), ("token", "wrong"), ("email", "a@b.org"), ("zip", "1")]).await;
    assert_eq!((s, v["reason"].as_str(), v["test"].as_bool()), (StatusCode::FORBIDDEN, Some("bad_token"), Some(true)));
    let px = [("click_id", cid.as_str()), ("email", "ann@example.org"), ("zip", "94107")];
    assert_eq!(pixel(&app, m.offer_id, &px).await, "test:accepted");
    // The pixel on the thank-you page, the test click's id only in its cookie.
    let r = reqwest::Client::new()
        .get(app.url(&format!("/px/{}.gif", m.offer_id)))
        .query(&[("email", "ann@example.org"), ("zip", "94107")])
        .header("cookie", format!("ql_c{}={cid}", m.offer_id))
        .send()
        .await
        .expect("pixel");
    assert_eq!(r.headers()["x-qualead-status"], "test:accepted");

    // The offer page shows them, newest first, with the answer and the rules.
    let (_, page) = app.get_text(&web, &page_path).await;
    assert_eq!(page.matches("class=\"test-conversion\"").count(), 5, "five test conversions shown");
    assert!(page.contains("accepted as a test") && page.contains("missing: zip"), "the answers");
    assert!(page.contains("Missing field</span> <code class=\"tag\">missing_field</code>"), "the label and the code");
    assert!(page.contains("Unknown postback token</span> <code class=\"tag\">bad_token</code>"));
    assert!(
        page.contains("Invalid e-mail</span> <code class=\"tag\">invalid_email</code> passed"),
        "each rule's outcome"
    );

    // No trace: no lead, no money, no report line, no publisher log, the cap free.
    assert_eq!(lead_count(&app, &m), 0);
    assert_eq!((balance(&app, &adv), balance(&app, &escrow)), (100_00, 0));
    assert!(leads::rejections_for_publisher(&mut app.conn(), m.publisher_id, 50).expect("log").is_empty());
    let key = api_key(&app, m.advertiser_id);
    let (s, stats) = api_get(&app, &key, "/stats?group_by=offer").await;
    assert_eq!(s, StatusCode::OK, "{stats}");
    assert_eq!((stats["totals"]["clicks"].as_i64(), stats["totals"]["leads"].as_i64()), (Some(0), Some(0)), "{stats}");
    assert_eq!(qualead::store::clicks::latest(&mut app.conn()).expect("q").map(|c| c.click_id), None, "no real click");
    let cid_real = click(&app, &m).await;
    let (s, v) = get_postback(
        &app,
        &[("click_id", &cid_real), ("token", &m.postback_token), ("email", "ann@example.org"), ("zip", "94107")],
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("accepted")),
        "a cap of 1 still admits a real lead: {v}"
    );
    assert_eq!((balance(&app, &adv), balance(&app, &escrow)), (90_00, 10_00));

    // A paused offer still has its test link, and its tests are answered.
    qualead::store::offers::set_status(
        &mut app.conn(),
        m.offer_id,
        qualead::domain::offer::OfferStatus::Active,
        qualead::domain::offer::OfferStatus::Paused,
        None,
    )
    .expect("pause");
    let cid = test_click(&app, &link).await;
    let (s, v) = get_postback(
        &app,
        &[("click_id", &cid), ("token", &m.postback_token), ("email", "ann@example.org"), ("zip", "94107")],
    )
    .await;
    assert_eq!((s, v["status"].as_str(), v["test"].as_bool()), (StatusCode::OK, Some("accepted"), Some(true)), "{v}");
    assert_eq!(lead_count(&app, &m), 1);
}

both_backends!(
    every_field_reaches_the_lead,
    a_lead_without_a_required_field_is_refused_at_intake,
    the_postback_url_has_a_macro_per_required_field,
    test_conversions_are_shown_and_never_count,
);
