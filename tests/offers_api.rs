//! Offers through the JSON API alone: create, submit, review, marketplace, join,
//! approvals, and the permission matrix.

mod common;

use common::{Backend, TestApp, call, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An account of `role` with an API key, as `qualead user create --api-key` makes it.
fn api_user(app: &TestApp, role: &str, email: &str) -> (i64, String) {
    let id = app.create_user(role, email);
    let mut conn = app.conn();
    let (key, _) = qualead::store::api_keys::create(&mut conn, id, "test").expect("key");
    (id, key)
}

fn design_body() -> Value {
    json!({"name":"Solar panels quote","description":"Homeowners asking for a quote","category":"home",
     "landing_url":"https://adv.example/quote?cid={click_id}&s={sub1}",
     "fallback_url":"https://adv.example/",
     "payout_model":"cpl","price":"12.00","rate_bps":null,"events":["lead"],
     "visibility":"public","timezone":"UTC",
     "caps":{"daily":100,"weekly":null,"monthly":null,"total":null,"daily_budget":"500.00"},
     "terms":{"required_fields":["name","email","phone"],"hold_hours":72,
      "return_window_days":7,"max_return_rate_pct":20,"conversion_window_days":30,
      "allowed_countries":["US","GB"],
      "scrub":{"duplicate_days":30,"duplicate_scope":"offer","min_seconds":5,
       "max_leads_per_ip":3,"block_disposable":true,"block_bots":true,
       "check_email":true,"check_phone":true,"check_name":true,"min_score":0},
      "decision":"rules","decision_default":"approve"}})
}

use reqwest::Method;

async fn api_flow_from_create_to_click_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let (adv_id, adv) = api_user(&app, "advertiser", "adv@example.com");
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let (pub_id, publisher) = api_user(&app, "publisher", "pub@example.com");

    let (s, offer) = call(&app, Method::POST, &adv, "/offers", Some(design_body())).await;
    assert_eq!(s, StatusCode::CREATED, "{offer}");
    let id = offer["id"].as_i64().expect("id");
    assert_eq!(offer["status"], "draft");
    assert_eq!(offer["advertiser_id"], adv_id);
    let token = offer["postback_token"].as_str().expect("postback token").to_string();
    assert!(token.len() >= 22);
    assert!(
        offer["postback_url"]
            .as_str()
            .expect("postback url")
            .contains(&format!("/postback?click_id={{click_id}}&token={token}"))
    );
    // The body round-trips: every field sent comes back as sent.
    let sent = design_body();
    for k in [
        "name",
        "description",
        "category",
        "landing_url",
        "fallback_url",
        "payout_model",
        "price",
        "events",
        "visibility",
        "timezone",
        "terms",
    ] {
        assert_eq!(offer[k], sent[k], "{k}");
    }
    for k in ["daily", "weekly", "monthly", "total", "daily_budget"] {
        assert_eq!(offer["caps"][k], sent["caps"][k], "caps.{k}");
    }
    let (_, again) = call(&app, Method::GET, &adv, &format!("/offers/{id}"), None).await;
    assert_eq!(again["terms"], sent["terms"]);

    // A draft is not in the marketplace; an advertiser cannot approve its own offer.
    let (_, market) = call(&app, Method::GET, &publisher, "/offers", None).await;
    assert_eq!(market["offers"].as_array().expect("list").len(), 0);
    let (s, _) = call(&app, Method::POST, &adv, &format!("/admin/offers/{id}/approve"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, submitted) = call(&app, Method::POST, &adv, &format!("/offers/{id}/submit"), None).await;
    assert_eq!((s, submitted["status"].as_str()), (StatusCode::OK, Some("pending_review")));
    let (s, _) = call(&app, Method::POST, &publisher, &format!("/admin/offers/{id}/approve"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, approved) =
        call(&app, Method::POST, &admin, &format!("/admin/offers/{id}/approve"), Some(json!({"note":"looks good"})))
            .await;
    assert_eq!((s, approved["status"].as_str()), (StatusCode::OK, Some("active")), "{approved}");
    assert_eq!(approved["fee_bps"], 2000, "admins see the fee");
    app.wait_for_email("adv@example.com", "is live").await;

    // The publisher finds it, sees the payout (not the price or the token), joins.
    let (_, market) =
        call(&app, Method::GET, &publisher, "/offers?category=home&country=US&payout_model=cpl&min_price=5", None)
            .await;
    let listed = &market["offers"][0];
    assert_eq!(listed["id"], id, "{market}");
    assert_eq!(listed["payout"], "9.60", "12.00 minus the 20 % fee");
    assert!(
        listed.get("price").is_none() && listed.get("postback_token").is_none() && listed.get("postback_url").is_none()
    );
    assert!(
        listed["terms_text"]
            .as_array()
            .expect("terms text")
            .iter()
            .any(|t| t.as_str().unwrap_or("").contains("held for 72 hours"))
    );
    let (_, none) = call(&app, Method::GET, &publisher, "/offers?country=DE", None).await;
    assert_eq!(none["offers"].as_array().expect("list").len(), 0, "country filter");

    let (s, joined) = call(&app, Method::POST, &publisher, &format!("/offers/{id}/join"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(joined["status"], "approved");
    let link_token = joined["token"].as_str().expect("token").to_string();
    assert_eq!(joined["click_url"], format!("{}/c/{link_token}", app.address));
    // Joining again is idempotent.
    let (_, again) = call(&app, Method::POST, &publisher, &format!("/offers/{id}/join"), None).await;
    assert_eq!(again["token"], link_token.as_str());
    let (_, members) = call(&app, Method::GET, &adv, &format!("/offers/{id}/publishers"), None).await;
    assert_eq!(members["publishers"][0]["publisher_id"], pub_id);

    // Pause and resume with PATCH; edit a field; a bad edit is refused with its field.
    let (_, paused) = call(&app, Method::PATCH, &adv, &format!("/offers/{id}"), Some(json!({"status":"paused"}))).await;
    assert_eq!(paused["status"], "paused");
    // A new price on a live offer waits for review (202 with the revision); the cap
    // and the status change at once.
    let (s, pending) = call(
        &app,
        Method::PATCH,
        &adv,
        &format!("/offers/{id}"),
        Some(json!({"status":"active","price":"15.00","caps":{"daily":null}})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{pending}");
    assert_eq!((pending["status"].as_str(), pending["changes"][0].as_str()), (Some("pending"), Some("price")));
    let edited = &pending["offer"];
    assert_eq!((edited["status"].as_str(), edited["price"].as_str()), (Some("active"), Some("12.00")));
    assert_eq!(edited["caps"]["daily"], Value::Null);
    assert_eq!(edited["caps"]["daily_budget"], "500.00", "untouched fields stay");
    let rev = pending["id"].as_i64().expect("revision id");
    let (s, approved) =
        call(&app, Method::POST, &admin, &format!("/admin/offers/{id}/revisions/{rev}/approve"), None).await;
    assert_eq!((s, approved["status"].as_str()), (StatusCode::OK, Some("approved")), "{approved}");
    let (_, edited) = call(&app, Method::GET, &adv, &format!("/offers/{id}"), None).await;
    assert_eq!(edited["price"], "15.00", "a raise takes effect at once");
    let (s, err) =
        call(&app, Method::PATCH, &adv, &format!("/offers/{id}"), Some(json!({"landing_url":"javascript:alert(1)"})))
            .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"], "invalid_request");
    assert!(err["fields"]["landing_url"].is_string());
    let (_, kept) = call(&app, Method::GET, &adv, &format!("/offers/{id}"), None).await;
    assert_eq!(kept["landing_url"], design_body()["landing_url"], "nothing stored on a bad edit");
}

async fn approval_offers_wait_for_the_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, adv) = api_user(&app, "advertiser", "adv@example.com");
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let (pub_id, publisher) = api_user(&app, "publisher", "pub@example.com");
    let mut body = design_body();
    body["visibility"] = json!("approval");
    body["payout_model"] = json!("cps");
    body["price"] = Value::Null;
    body["rate_bps"] = json!(1500);
    let (_, offer) = call(&app, Method::POST, &adv, "/offers", Some(body)).await;
    let id = offer["id"].as_i64().expect("id");
    call(&app, Method::POST, &adv, &format!("/offers/{id}/submit"), None).await;
    call(&app, Method::POST, &admin, &format!("/admin/offers/{id}/approve"), None).await;

    let (_, listed) = call(&app, Method::GET, &publisher, &format!("/offers/{id}"), None).await;
    assert_eq!(listed["payout_rate_bps"], 1200, "15 % of the sale minus the 20 % fee");
    let (_, joined) = call(&app, Method::POST, &publisher, &format!("/offers/{id}/join"), None).await;
    assert_eq!(joined["status"], "pending");
    assert_eq!(joined["token"], Value::Null, "no link before approval");
    app.wait_for_email("adv@example.com", "applied to run").await;

    let (s, _) = call(&app, Method::POST, &publisher, &format!("/offers/{id}/publishers/{pub_id}/approve"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "publishers cannot approve themselves");
    let (s, decided) = call(&app, Method::POST, &adv, &format!("/offers/{id}/publishers/{pub_id}/approve"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(decided["status"], "approved");
    assert!(decided["click_url"].as_str().expect("click url").contains("/c/"));
    app.wait_for_email("pub@example.com", "You can run").await;
}

async fn permission_matrix(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, a) = api_user(&app, "advertiser", "a@example.com");
    let (_, b) = api_user(&app, "advertiser", "b@example.com");
    let (_, admin) = api_user(&app, "admin", "admin@example.com");
    let (_, p1) = api_user(&app, "publisher", "p1@example.com");
    let (_, p2) = api_user(&app, "publisher", "p2@example.com");
    let mut body = design_body();
    body["visibility"] = json!("private");
    let (_, offer) = call(&app, Method::POST, &a, "/offers", Some(body)).await;
    let id = offer["id"].as_i64().expect("id");

    // Advertiser B can neither see nor change A's offer, nor learn its token.
    for (m, path, body) in [
        (Method::GET, format!("/offers/{id}"), None),
        (Method::PATCH, format!("/offers/{id}"), Some(json!({"name":"mine now"}))),
        (Method::POST, format!("/offers/{id}/submit"), None),
        (Method::GET, format!("/offers/{id}/publishers"), None),
    ] {
        let (s, v) = call(&app, m.clone(), &b, &path, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {path}");
        assert!(!v.to_string().contains(offer["postback_token"].as_str().expect("t")));
    }
    let (_, list_b) = call(&app, Method::GET, &b, "/offers", None).await;
    assert_eq!(list_b["offers"].as_array().expect("list").len(), 0);
    // Publishers cannot create offers.
    let (s, _) = call(&app, Method::POST, &p1, "/offers", Some(design_body())).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    call(&app, Method::POST, &a, &format!("/offers/{id}/submit"), None).await;
    let (s, _) = call(&app, Method::POST, &b, &format!("/admin/offers/{id}/approve"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only admins review");
    let (s, _) = call(&app, Method::PATCH, &admin, &format!("/offers/{id}"), Some(json!({"status":"active"}))).await;
    assert_eq!(s, StatusCode::CONFLICT, "a PATCH cannot stand in for a review");
    let (s, rejected) = call(&app, Method::POST, &admin, &format!("/admin/offers/{id}/reject"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a rejection needs a note: {rejected}");
    call(&app, Method::POST, &admin, &format!("/admin/offers/{id}/approve"), None).await;

    // A private offer is invisible to publishers, and cannot be joined.
    let (_, market) = call(&app, Method::GET, &p1, "/offers", None).await;
    assert_eq!(market["offers"].as_array().expect("list").len(), 0);
    assert_eq!(call(&app, Method::GET, &p1, &format!("/offers/{id}"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, Method::POST, &p1, &format!("/offers/{id}/join"), None).await.0, StatusCode::NOT_FOUND);

    // An invited publisher sees it and has its own link; another publisher still does not.
    let mut conn = app.conn();
    let who = qualead::acting::Acting {
        user: qualead::store::users::find_by_email(&mut conn, "a@example.com").expect("q").expect("user"),
        ip: None,
        base_url: app.address.clone(),
        currency: "USD".into(),
        platform_fee_bps: 2000,
    };
    // Behind the server's back: its link cache holds no link of this offer yet,
    // and the invitation e-mail is not looked at.
    let (_membership, _effects) = qualead::marketplace::invite(&mut conn, &who, id, "p1@example.com").expect("invite");
    let (s, seen) = call(&app, Method::GET, &p1, &format!("/offers/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let p1_token = seen["membership"]["token"].as_str().expect("p1 token").to_string();
    let (s, other) = call(&app, Method::GET, &p2, &format!("/offers/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!other.to_string().contains(&p1_token));
    let (_, p2_list) = call(&app, Method::GET, &p2, "/offers", None).await;
    assert!(!p2_list.to_string().contains(&p1_token), "no publisher sees another's link");
    // Advertisers and admins cannot join offers.
    assert_eq!(call(&app, Method::POST, &a, &format!("/offers/{id}/join"), None).await.0, StatusCode::FORBIDDEN);
}

async fn bad_offer_bodies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, adv) = api_user(&app, "advertiser", "adv@example.com");
    let mut body = design_body();
    body["landing_url"] = json!("ftp://adv.example/{nope}");
    body["price"] = json!("12.345");
    body["terms"]["allowed_countries"] = json!(["USA"]);
    let (s, err) = call(&app, Method::POST, &adv, "/offers", Some(body)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["landing_url", "price", "terms.allowed_countries"] {
        assert!(err["fields"][f].is_string(), "{f}: {err}");
    }
    let (s, err) = call(&app, Method::POST, &adv, "/offers", Some(json!({"name":"x","surprise":1}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown fields are refused: {err}");
    // serde would read a struct from an array, field by position: only objects are bodies.
    let (s, err) = call(&app, Method::POST, &adv, "/offers", Some(json!(["Solar", "desc", "home"]))).await;
    assert_eq!((s, err["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{err}");
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/offers"))
        .bearer_auth(&adv)
        .header("content-type", "application/json")
        .body(vec![0xff, 0x00, 0x7b])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (_, list) = call(&app, Method::GET, &adv, "/offers", None).await;
    assert_eq!(list["offers"].as_array().expect("list").len(), 0, "nothing stored");
}

both_backends!(
    api_flow_from_create_to_click_url,
    approval_offers_wait_for_the_owner,
    permission_matrix,
    bad_offer_bodies_are_refused
);
