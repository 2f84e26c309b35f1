//! The API keeps its own contract (DESIGN §11, issue 29): the cases Schemathesis
//! (`.ci/schemathesis`) found where the server and `/api/v1/openapi.json` disagreed,
//! kept as plain tests. Undeclared methods are `405` with `Allow`; query filters and
//! bodies are read strictly; responses match their schemas; every answer is documented.

mod common;

use std::collections::BTreeSet;

use common::{Backend, Market, TestApp, api_key, call, spawn_app_with};
use qualead::domain::offer::OfferBody;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const QUIET: (&str, &str) = ("QUALEAD_SETTLE_INTERVAL_SECS", "86400");
const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn app() -> TestApp {
    spawn_app_with(Backend::Sqlite, &[QUIET]).await
}

fn api_user(app: &TestApp, role: &str, email: &str) -> (i64, String) {
    let id = app.create_user(role, email);
    (id, api_key(app, id))
}

async fn document(app: &TestApp) -> Value {
    app.get("/api/v1/openapi.json").await.json().await.expect("the document is JSON")
}

/// A CPL offer (10.00), its advertiser with a key and an approved publisher.
fn cpl_offer() -> OfferBody {
    OfferBody {
        name: "Roofs".into(),
        category: "home".into(),
        landing_url: "https://adv.example/?c={click_id}".into(),
        payout_model: "cpl".into(),
        price: Some("10.00".into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_methods_are_405_with_an_allow_header_on_every_path() {
    let app = app().await;
    let doc = document(&app).await;
    let client = reqwest::Client::new();
    let param = regex::Regex::new(r"\{[^/{}]+\}").expect("regex");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() > 25, "{} paths", paths.len());
    for (path, item) in paths {
        let declared: BTreeSet<String> =
            item.as_object().expect("item").keys().filter(|m| METHODS.contains(&m.as_str())).cloned().collect();
        let url = app.url(&format!("/api/v1{}", param.replace_all(path, "1")));
        for method in ["TRACE", "PUT", "DELETE", "PATCH", "POST", "GET", "OPTIONS"] {
            if declared.contains(&method.to_lowercase()) {
                continue;
            }
            // No key: the method is wrong for the path whoever asks.
            let r = client
                .request(Method::from_bytes(method.as_bytes()).expect("method"), &url)
                .send()
                .await
                .expect("request");
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            let allow = r.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let allowed: BTreeSet<String> = allow.split(',').map(|m| m.trim().to_lowercase()).collect();
            assert_eq!(allowed, declared, "{method} {path}: Allow: {allow}");
            let body: Value = r.json().await.expect("a JSON error");
            assert_eq!(body["error"], "method_not_allowed", "{method} {path}");
        }
    }
    // A path that is no route stays 404.
    let r = client.request(Method::TRACE, app.url("/api/v1/no-such-route")).send().await.expect("request");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postback_url_is_documented_as_a_uri_template_and_carries_macros() {
    let app = app().await;
    let doc = document(&app).await;
    let schema = &doc["components"]["schemas"]["Offer"]["properties"]["postback_url"];
    assert_eq!(schema["format"], "uri-template", "{schema}");
    let m = Market::of(&cpl_offer()).seed(&app.db.url);
    let key = qualead::store::api_keys::create(&mut app.conn(), m.advertiser_id, "test").expect("key").0;
    let (s, offer) = call(&app, Method::GET, &key, &format!("/offers/{}", m.offer_id), None).await;
    assert_eq!(s, StatusCode::OK, "{offer}");
    let url = offer["postback_url"].as_str().expect("the owner sees its postback URL");
    assert!(url.contains("click_id={click_id}"), "{url}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_filters_are_read_strictly_and_an_empty_value_is_any() {
    let app = app().await;
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let (_, publisher) = api_user(&app, "publisher", "pub@example.com");
    for (key, path) in [
        (&admin, "/offers?status=null"),
        (&admin, "/offers?status=%20active"),
        (&publisher, "/offers?payout_model=cpz"),
        (&publisher, "/offers?category=nope"),
        (&publisher, "/offers?country=USA"),
        (&publisher, "/offers?min_price=-1"),
        (&publisher, "/offers?min_price=1.234"),
        (&admin, "/offers?status=active&status=paused"),
        (&admin, "/leads?before_id=-5"),
        (&admin, "/admin/disputes?status=%20open"),
    ] {
        let (s, v) = call(&app, Method::GET, key, path, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "GET {path}: {v}");
        assert_eq!(v["error"], "invalid_request", "GET {path}: {v}");
    }
    for (key, path) in [
        (&admin, "/offers?status="),
        (&publisher, "/offers?payout_model=&category=&country=&min_price="),
        (&publisher, "/offers?country=us&min_price=12.5"),
        (&admin, "/payouts?status="),
        (&admin, "/admin/disputes?status="),
        (&admin, "/stats?from=&to="),
    ] {
        let (s, v) = call(&app, Method::GET, key, path, None).await;
        assert_eq!(s, StatusCode::OK, "GET {path}: {v}");
    }
    // Each 400 above is documented for its operation.
    let doc = document(&app).await;
    for path in ["/offers", "/leads", "/admin/disputes", "/payouts", "/stats"] {
        assert!(doc["paths"][path]["get"]["responses"].get("400").is_some(), "GET {path} documents no 400");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_read_as_the_document_says() {
    let app = app().await;
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let m = Market::of(&cpl_offer()).seed(&app.db.url);
    let advertiser = qualead::store::api_keys::create(&mut app.conn(), m.advertiser_id, "test").expect("key").0;

    // A number without a fraction is an integer, as in the document's `integer`.
    let (s, v) = call(
        &app,
        Method::POST,
        &admin,
        "/admin/deposits",
        Some(json!({"advertiser_id": m.advertiser_id as f64, "amount": "100.00", "memo": null})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["advertiser_id"], m.advertiser_id);
    // An id that is not an advertiser's names no advertiser.
    let (s, v) = call(
        &app,
        Method::POST,
        &admin,
        "/admin/deposits",
        Some(json!({"advertiser_id": m.publisher_id, "amount": "100.00"})),
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");

    // A share on a CPL offer is still a share: 0 is refused, naming the field.
    let (s, v) =
        call(&app, Method::PATCH, &advertiser, &format!("/offers/{}", m.offer_id), Some(json!({"rate_bps": 0}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["fields"]["rate_bps"].is_string(), "{v}");
    // Unknown members of a patch are refused, in `terms` too.
    let (s, v) =
        call(&app, Method::PATCH, &advertiser, &format!("/offers/{}", m.offer_id), Some(json!({"terms": {"hold": 1}})))
            .await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    // A value of the wrong type names where it is, in a patch, a new offer and a deposit.
    let (s, v) = call(
        &app,
        Method::PATCH,
        &advertiser,
        &format!("/offers/{}", m.offer_id),
        Some(json!({"caps": {"daily": "many"}})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("caps.daily: "), "{v}");
    let (s, v) =
        call(&app, Method::POST, &advertiser, "/offers", Some(json!({"name": "Roofs", "caps": {"daily": "many"}})))
            .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("caps.daily: "), "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &admin,
        "/admin/deposits",
        Some(json!({"advertiser_id": "the first", "amount": "100.00"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("advertiser_id: "), "{v}");
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["OfferPatch"]["additionalProperties"], false);
    assert_eq!(schemas["TermsPatch"]["additionalProperties"], false);

    // `null` is leaving an optional note out; a rejection needs a note.
    let (s, v) =
        call(&app, Method::POST, &admin, &format!("/admin/offers/{}/reject", m.offer_id), Some(json!({"note": null})))
            .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["fields"]["note"].is_string(), "{v}");
    assert_eq!(schemas["RejectNoteBody"]["required"], json!(["note"]));
    // Every code a PATCH can answer 409 with is in its schema (an approved change
    // waiting for its notice answers `revision_scheduled`).
    let conflict = &doc["paths"]["/offers/{id}"]["patch"]["responses"]["409"]["content"]["application/json"]["schema"];
    let codes = conflict["allOf"][1]["properties"]["error"]["enum"].as_array().expect("codes");
    assert!(codes.contains(&json!("revision_scheduled")), "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_actions_document_what_they_need() {
    let app = app().await;
    let body = OfferBody { publisher_leads: true, ..cpl_offer() };
    let m = Market::of(&body).deposit(100_000).seed(&app.db.url);
    let advertiser = qualead::store::api_keys::create(&mut app.conn(), m.advertiser_id, "test").expect("key").0;
    let publisher = qualead::store::api_keys::create(&mut app.conn(), m.publisher_id, "test").expect("key").0;
    // The offer id as a number with a zero fraction: an integer all the same.
    let submission = json!({"offer_id": m.offer_id as f64, "consent": true, "fields": {"email": "ann@example.com"}});
    let (s, v) = call(&app, Method::POST, &publisher, "/leads", Some(submission)).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::CREATED, Some("accepted")), "{v}");
    let lead = v["lead_id"].as_i64().expect("lead id");
    // Rejecting without a reason: the document requires one, the server says which.
    let (s, v) = call(&app, Method::POST, &advertiser, &format!("/leads/{}/reject", lead), Some(json!({}))).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_reason")), "{v}");
    // An approval's note keeps the document's 2,000 characters too; the lead stays pending.
    let long = json!({"comment": "R".repeat(2001)});
    let (s, v) = call(&app, Method::POST, &advertiser, &format!("/leads/{}/approve", lead), Some(long)).await;
    assert_eq!((s, v["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{v}");
    assert!(v["message"].as_str().unwrap_or_default().starts_with("comment: "), "{v}");
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["ReasonBody"]["required"], json!(["reason"]));
    assert_eq!(schemas["ContestBody"]["required"], json!(["comment"]));
    let (s, v) = call(
        &app,
        Method::POST,
        &advertiser,
        &format!("/leads/{}/reject", lead),
        Some(json!({"reason": "bad_contact", "comment": null})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "rejected");
}
