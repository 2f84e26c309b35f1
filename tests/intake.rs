//! Lead intake against a real server: server postbacks (GET and POST, aliases),
//! the pixel, API leads and the hosted form; every intake reason code with its
//! HTTP status; idempotency; the price reserved in the ledger; rollups; malformed
//! input refused with nothing stored; caps that hold under concurrency.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, api_key, spawn_app, spawn_app_with};
use qualead::domain::offer::{OfferBody, apply_bps, split_price};
use qualead::store::offers::MembershipStatus;
use qualead::store::{clicks, leads, ledger, offers, rollups, users};
use reqwest::StatusCode;
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A CPL offer that requires no field (the required fields have their own tests,
/// tests/fields.rs) and also takes leads publishers send through the API (an
/// advertiser's setting, off by default).
fn cpl(price: &str) -> OfferBody {
    OfferBody { publisher_leads: true, ..common::solar_offer(price) }
}

fn market(app: &TestApp, body: &OfferBody, deposit: i64) -> Market {
    Market::of(body).deposit(deposit).seed(&app.db.url)
}

/// Click the publisher's link; the click id from the landing URL.
async fn click(app: &TestApp, m: &Market, query: &str) -> String {
    common::click_through(app, &client(), &m.token, query).await
}

async fn postback(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let r = client().get(app.url(&format!("/postback?{query}"))).send().await.expect("postback");
    let status = r.status();
    (status, r.json().await.expect("a JSON answer"))
}

fn balance(app: &TestApp, account: &str) -> i64 {
    ledger::balance(&mut app.conn(), account).expect("balance")
}

fn assert_rejected(answer: &(StatusCode, Value), status: u16, reason: &str) {
    assert_eq!(answer.0.as_u16(), status, "{:?}", answer.1);
    assert_eq!(answer.1["status"], "rejected", "{:?}", answer.1);
    assert_eq!(answer.1["reason"], reason, "{:?}", answer.1);
}

fn ledger_is_healthy(app: &TestApp) {
    let h = ledger::health(&mut app.conn()).expect("health");
    assert!(h.balanced, "{h:?}");
}

async fn a_postback_is_accepted_priced_reserved_and_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("10.00"), 100_00);
    let cid = click(&app, &m, "sub1=blog").await;

    let answer = postback(&app, &format!("click_id={cid}&token={}&txid=T-1", m.postback_token)).await;
    assert_eq!(answer.0, StatusCode::OK, "{:?}", answer.1);
    assert_eq!(answer.1["status"], "accepted");
    let lead_id = answer.1["lead_id"].as_i64().expect("lead id");

    let lead = leads::find(&mut app.conn(), lead_id).expect("query").expect("stored");
    assert_eq!((lead.status.as_str(), lead.offer_id, lead.publisher_id), ("pending", m.offer_id, m.publisher_id));
    assert_eq!(
        (lead.click_id.as_deref(), lead.sub1.as_str(), lead.event.as_str()),
        (Some(cid.as_str()), "blog", "lead")
    );
    let (fee, payout) = split_price(10_00, 2000);
    assert_eq!((lead.price_minor, lead.fee_minor, lead.payout_minor, lead.fee_bps), (10_00, fee, payout, 2000));
    assert!(lead.hold_until > lead.created_at);
    assert_eq!(balance(&app, &ledger::advertiser(m.advertiser_id)), 90_00);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 10_00);

    // The same transaction id again: the first lead, nothing charged twice.
    let again = postback(&app, &format!("click_id={cid}&token={}&txid=T-1", m.postback_token)).await;
    assert_eq!(again.0, StatusCode::OK);
    assert_eq!((again.1["status"].as_str(), again.1["lead_id"].as_i64()), (Some("duplicate"), Some(lead_id)));
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 10_00);

    // Without a transaction id the click + event is the key.
    let cid2 = click(&app, &m, "sub1=blog").await;
    let first = postback(&app, &format!("click_id={cid2}&token={}", m.postback_token)).await;
    assert_eq!(first.1["status"], "accepted", "{:?}", first.1);
    let second = postback(&app, &format!("click_id={cid2}&token={}&event=lead", m.postback_token)).await;
    assert_eq!(
        (second.1["status"].as_str(), second.1["lead_id"].as_i64()),
        (Some("duplicate"), first.1["lead_id"].as_i64())
    );
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 2);
    assert_eq!(balance(&app, &ledger::advertiser(m.advertiser_id)), 80_00);

    // Rollups moved with the events. The second click came from the same address
    // and browser within the hour: not a unique one (DESIGN §9).
    let t = rollups::offer_totals(&mut app.conn(), m.offer_id).expect("rollups");
    assert_eq!((t.clicks, t.unique_clicks, t.leads, t.pending, t.price_minor), (2, 1, 2, 2, 20_00));

    // A transaction id is scoped by its click: another publisher's API lead with the
    // advertiser's order id does not make the real conversion a "duplicate".
    let rival = Market::of(&cpl("10.00")).seed(&app.db.url);
    qualead::store::offers::add_member(
        &mut app.conn(),
        m.offer_id,
        rival.publisher_id,
        MembershipStatus::Approved,
        false,
    )
    .expect("rival joins");
    let rival_key = api_key(&app, rival.publisher_id);
    let r = api_lead(&app, &rival_key, serde_json::json!({"offer_id": m.offer_id, "txid": "ORDER-9", "consent": true}))
        .await;
    assert_eq!(r.1["status"], "accepted", "{:?}", r.1);
    let cid3 = click(&app, &m, "").await;
    let real = postback(&app, &format!("click_id={cid3}&token={}&txid=ORDER-9", m.postback_token)).await;
    assert_eq!(real.1["status"], "accepted", "{:?}", real.1);
    assert_ne!(real.1["lead_id"], r.1["lead_id"]);

    // The pixel (no txid) and the postback (with one) of the same click and event are one conversion.
    let cid4 = click(&app, &m, "").await;
    let px = client().get(app.url(&format!("/px/{}.gif?click_id={cid4}", m.offer_id))).send().await.expect("pixel");
    assert_eq!(px.headers()["x-qualead-status"], "accepted");
    let pb = postback(&app, &format!("click_id={cid4}&token={}&txid=ORDER-10", m.postback_token)).await;
    assert_eq!(pb.1["status"], "duplicate", "{:?}", pb.1);
    ledger_is_healthy(&app);
}

async fn aliases_and_post_bodies_mean_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody {
        payout_model: "cps".into(),
        publisher_leads: false,
        price: None,
        rate_bps: Some(1250),
        events: vec!["sale".into()],
        ..cpl("0")
    };
    let m = market(&app, &body, 1000_00);
    let cid = click(&app, &m, "").await;
    // HasOffers-style names in a form body.
    let r = client()
        .post(app.url("/postback"))
        .form(&[
            ("transaction_id", cid.as_str()),
            ("security_token", m.postback_token.as_str()),
            ("goal", "sale"),
            ("sum", "199.99"),
            ("order_id", "ORD-7"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["status"], "accepted", "{v:?}");
    let lead = leads::find(&mut app.conn(), v["lead_id"].as_i64().expect("id")).expect("q").expect("lead");
    assert_eq!(lead.amount_minor, Some(199_99));
    assert_eq!(lead.price_minor, apply_bps(199_99, 1250));
    assert_eq!((lead.txid.as_deref(), lead.event.as_str()), (Some("ORD-7"), "sale"));

    // adv_sub is another name for txid; a JSON body works too.
    let r = client()
        .post(app.url("/postback"))
        .json(&serde_json::json!({"click_id": cid, "token": m.postback_token, "adv_sub": "ORD-7", "amount": 199.99}))
        .send()
        .await
        .expect("post");
    let v2: Value = r.json().await.expect("json");
    assert_eq!((v2["status"].as_str(), v2["lead_id"].as_i64()), (Some("duplicate"), v["lead_id"].as_i64()));

    // A CPS conversion without an amount, or an event the offer does not have, is malformed.
    let cid = click(&app, &m, "").await;
    let a = postback(&app, &format!("click_id={cid}&token={}&txid=X", m.postback_token)).await;
    assert_rejected(&a, 400, "invalid_request");
    let a = postback(&app, &format!("click_id={cid}&token={}&txid=X&amount=5&goal=deposit", m.postback_token)).await;
    assert_rejected(&a, 400, "invalid_request");
    ledger_is_healthy(&app);
}

async fn every_reason_code_has_its_status_and_stores_no_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("10.00"), 100_00);
    let other = market(&app, &cpl("10.00"), 100_00);
    let cid = click(&app, &m, "").await;
    let tok = &m.postback_token;

    assert_rejected(&postback(&app, &format!("click_id={cid}&token=wrong")).await, 403, "bad_token");
    assert_rejected(&postback(&app, &format!("click_id={cid}")).await, 403, "bad_token");
    assert_rejected(&postback(&app, &format!("token={tok}")).await, 400, "invalid_request");
    assert_rejected(
        &postback(&app, &format!("click_id=nosuchclickxxxxxxxxxxx&token={tok}")).await,
        404,
        "unknown_click",
    );
    assert_rejected(
        &postback(&app, &format!("click_id={cid}&token={}", other.postback_token)).await,
        409,
        "click_offer_mismatch",
    );
    assert_rejected(&postback(&app, &format!("click_id={cid}&token={tok}&amount=abc")).await, 400, "invalid_request");

    // The allow-list: only 203.0.113.9 may send postbacks for this offer.
    offers::set_postback_ips(&mut app.conn(), m.offer_id, "203.0.113.9").expect("ips");
    assert_rejected(&postback(&app, &format!("click_id={cid}&token={tok}")).await, 403, "ip_not_allowed");
    offers::set_postback_ips(&mut app.conn(), m.offer_id, "127.0.0.0/8").expect("ips");

    // An old click: past the 30-day conversion window.
    let old = click(&app, &m, "").await;
    {
        use diesel::prelude::*;
        use qualead::db::schema::clicks as c;
        let when = qualead::store::now() - chrono::Duration::days(31);
        diesel::update(c::table.filter(c::click_id.eq(&old)))
            .set(c::created_at.eq(when))
            .execute(&mut *app.conn())
            .expect("age");
    }
    assert_rejected(&postback(&app, &format!("click_id={old}&token={tok}")).await, 410, "click_expired");

    // A paused offer.
    let paused = market(&app, &cpl("10.00"), 100_00);
    let pcid = click(&app, &paused, "").await;
    offers::set_status(
        &mut app.conn(),
        paused.offer_id,
        qualead::domain::offer::OfferStatus::Active,
        qualead::domain::offer::OfferStatus::Paused,
        None,
    )
    .expect("pause");
    assert_rejected(
        &postback(&app, &format!("click_id={pcid}&token={}", paused.postback_token)).await,
        409,
        "offer_inactive",
    );

    // A daily cap of one lead.
    let capped = market(
        &app,
        &OfferBody { caps: qualead::domain::offer::Caps { daily: Some(1), ..Default::default() }, ..cpl("10.00") },
        100_00,
    );
    let c1 = click(&app, &capped, "").await;
    let c2 = click(&app, &capped, "").await;
    assert_eq!(postback(&app, &format!("click_id={c1}&token={}", capped.postback_token)).await.1["status"], "accepted");
    assert_rejected(
        &postback(&app, &format!("click_id={c2}&token={}", capped.postback_token)).await,
        429,
        "cap_reached",
    );
    // ...and its clicks now go to the fallback.
    let r = client().get(app.url(&format!("/c/{}", capped.token))).send().await.expect("click");
    assert_eq!(r.headers()["location"], "https://adv.example/");

    // Missing consent on an API lead.
    let key = api_key(&app, m.publisher_id);
    let r = api_lead(
        &app,
        &key,
        serde_json::json!({"offer_id": m.offer_id, "fields": {"email": "a@b.co"}, "consent": false}),
    )
    .await;
    assert_rejected(&r, 422, "missing_consent");

    // Nothing was stored for any refusal; the attributable ones are in the publisher's log.
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 0);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 0);
    let log = leads::rejections_for_publisher(&mut app.conn(), m.publisher_id, 50).expect("log");
    let reasons: Vec<&str> = log.iter().map(|r| r.4.as_str()).collect();
    assert!(reasons.contains(&"click_expired") && reasons.contains(&"missing_consent"), "{reasons:?}");
    let t = rollups::offer_totals(&mut app.conn(), m.offer_id).expect("rollups");
    assert_eq!((t.leads, t.intake_rejected), (0, log.len() as i64));
    ledger_is_healthy(&app);

    // The publisher reads the refusals and their reasons on its postback log page.
    let hash = qualead::crypto::hash_password(common::PASSWORD).expect("hash");
    qualead::store::users::set_password_hash(&mut app.conn(), m.publisher_id, &hash).expect("password");
    let email = qualead::store::users::find(&mut app.conn(), m.publisher_id).expect("q").expect("user").email;
    let browser = common::new_client();
    app.login(&browser, &email, common::PASSWORD).await;
    let (status, page) = app.get_text(&browser, "/publisher/postbacks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("click_expired") && page.contains("older than the offer&#39;s conversion window")
            || page.contains("older than the offer"),
        "{page}"
    );
    assert!(page.contains("missing_consent"));
}

/// A suspended publisher's or advertiser's conversions are refused `offer_inactive`,
/// with the reason in the message, and charge nothing; reactivated, they are paid.
async fn a_suspended_account_is_not_paid(backend: Backend) {
    use qualead::domain::account::AccountStatus;
    use qualead::store::users;
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("10.00"), 100_00);
    let (c1, c2) = (click(&app, &m, "").await, click(&app, &m, "").await);
    let send = |cid: String| {
        let app = &app;
        let token = m.postback_token.clone();
        async move { postback(app, &format!("click_id={cid}&token={token}")).await }
    };
    users::set_status(&mut app.conn(), m.publisher_id, AccountStatus::Suspended).expect("suspend");
    let r = send(c1.clone()).await;
    assert_rejected(&r, 409, "offer_inactive");
    assert_eq!(r.1["message"], "the publisher's account is not active", "{:?}", r.1);
    users::set_status(&mut app.conn(), m.publisher_id, AccountStatus::Active).expect("activate");
    users::set_status(&mut app.conn(), m.advertiser_id, AccountStatus::Suspended).expect("suspend");
    let r = send(c2.clone()).await;
    assert_rejected(&r, 409, "offer_inactive");
    assert_eq!(r.1["message"], "the advertiser's account is not active", "{:?}", r.1);
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 0);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 0, "nothing reserved");
    let log = leads::rejections_for_publisher(&mut app.conn(), m.publisher_id, 50).expect("log");
    assert_eq!(log.len(), 2, "both refusals are in the publisher's log");

    users::set_status(&mut app.conn(), m.advertiser_id, AccountStatus::Active).expect("activate");
    assert_eq!(send(c1).await.1["status"], "accepted");
    assert_eq!(send(c2).await.1["status"], "accepted");
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 20_00);
    ledger_is_healthy(&app);
}

async fn an_exhausted_budget_pauses_the_offer_and_tells_the_advertiser(backend: Backend) {
    // Links are cached for a minute here: the pause itself must reach the clicks.
    let app = spawn_app_with(backend, &[("QUALEAD_LINK_CACHE_SECS", "60")]).await;
    let m = market(&app, &cpl("10.00"), 15_00);
    let a = click(&app, &m, "").await;
    let b = click(&app, &m, "").await;
    assert_eq!(postback(&app, &format!("click_id={a}&token={}", m.postback_token)).await.1["status"], "accepted");
    assert_rejected(
        &postback(&app, &format!("click_id={b}&token={}", m.postback_token)).await,
        402,
        "budget_exhausted",
    );
    assert_eq!(balance(&app, &ledger::advertiser(m.advertiser_id)), 5_00);
    let offer = offers::find(&mut app.conn(), m.offer_id).expect("q").expect("offer");
    assert_eq!(offer.status.as_str(), "paused");
    assert_eq!(
        common::click_and_reason(&app, &m.token).await,
        ("https://adv.example/".to_string(), Some("offer_paused".to_string())),
        "the next click sees the pause"
    );
    let mail = app.wait_for_email(&m.advertiser_email, "balance").await;
    assert!(mail.contains("budget_exhausted") && mail.contains("5.00"), "{mail}");
    let publisher = users::find(&mut app.conn(), m.publisher_id).expect("q").expect("publisher").email;
    let mail = app.wait_for_email(&publisher, "is paused").await;
    assert!(mail.contains("send no traffic for now"), "its publishers are told too: {mail}");
    // The lead that was refused can be sent again once the offer runs: it was not stored.
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 1);
    ledger_is_healthy(&app);
}

async fn the_pixel_always_answers_a_gif(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("4.00"), 100_00);
    // A browser that clicked carries the cookie to the advertiser's thank-you page.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = browser.get(app.url(&format!("/c/{}", m.token))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let px = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.expect("pixel") }
    };
    let r = px(&browser, format!("/px/{}.gif?txid=P-1", m.offer_id)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/gif");
    assert!(r.headers()["cache-control"].to_str().expect("cc").contains("no-store"));
    assert_eq!(r.headers()["x-qualead-status"], "accepted");
    assert_eq!(&r.bytes().await.expect("body")[..6], b"GIF89a");

    let again = px(&browser, format!("/px/{}.gif?txid=P-1", m.offer_id)).await;
    assert_eq!(again.headers()["x-qualead-status"], "duplicate");

    // No cookie, no click id, a bad id, binary junk: still a GIF.
    for path in [
        format!("/px/{}.gif", m.offer_id),
        "/px/notanumber.gif".to_string(),
        format!("/px/{}.gif?click_id=%00%FF&amount=x", m.offer_id),
        "/px/99999999.gif?click_id=abc".to_string(),
    ] {
        let r = px(&client(), path.clone()).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.headers()["content-type"], "image/gif", "{path}");
        assert!(r.headers()["x-qualead-status"].to_str().expect("s").starts_with("rejected:"), "{path}");
        assert_eq!(&r.bytes().await.expect("body")[..6], b"GIF89a");
    }
    // A pixel converts a click once: another txid of the same click is a duplicate.
    let r = px(&browser, format!("/px/{}.gif?txid=P-9", m.offer_id)).await;
    assert_eq!(r.headers()["x-qualead-status"], "duplicate");
    // The iframe form may be framed; the script form is JavaScript (each after a click of its own).
    let new_click = || async {
        assert_eq!(
            browser.get(app.url(&format!("/c/{}", m.token))).send().await.expect("click").status(),
            StatusCode::FOUND
        )
    };
    new_click().await;
    let r = px(&browser, format!("/px/{}.html?txid=P-2", m.offer_id)).await;
    assert_eq!(r.headers()["x-qualead-status"], "accepted");
    assert!(r.headers()["content-security-policy"].to_str().expect("csp").contains("frame-ancestors *"));
    new_click().await;
    let r = px(&browser, format!("/px/{}.js?txid=P-3", m.offer_id)).await;
    assert!(r.headers()["content-type"].to_str().expect("ct").starts_with("application/javascript"));
    assert_eq!(r.headers()["x-qualead-status"], "accepted");
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 3);
    ledger_is_healthy(&app);
}

async fn malformed_input_is_refused_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("10.00"), 100_00);
    let cid = click(&app, &m, "").await;
    let tok = &m.postback_token;
    // Huge query string.
    let huge = "x".repeat(60_000);
    let r =
        client().get(app.url(&format!("/postback?click_id={cid}&token={tok}&txid={huge}"))).send().await.expect("huge");
    assert!(r.status().is_client_error(), "{}", r.status());
    // Huge body.
    let r = client()
        .post(app.url("/postback"))
        .body(format!("click_id={cid}&token={tok}&txid={huge}"))
        .send()
        .await
        .expect("huge body");
    assert!(r.status().is_client_error(), "{}", r.status());
    // Binary body.
    let r = client().post(app.url("/postback")).body(vec![0xff_u8, 0x00, 0xfe, 0x80]).send().await.expect("binary");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // JSON that is not an object, nested values.
    let r = client()
        .post(app.url("/postback"))
        .header("content-type", "application/json")
        .body("[1,2]")
        .send()
        .await
        .expect("json");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = client()
        .post(app.url("/postback"))
        .json(&serde_json::json!({"click_id": {"a": 1}}))
        .send()
        .await
        .expect("json");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Control characters, over-long ids, conflicting aliases.
    for q in [
        format!("click_id={cid}&token={tok}&txid=a%00b"),
        format!("click_id={cid}&token={tok}&txid={}", "t".repeat(200)),
        format!("click_id={cid}&transaction_id=other&token={tok}"),
        format!("click_id={cid}&token={tok}&event=no%20spaces"),
        format!("click_id={cid}&token={tok}&amount=-5"),
    ] {
        assert_rejected(&postback(&app, &q).await, 400, "invalid_request");
    }
    // API bodies.
    let key = api_key(&app, m.publisher_id);
    for body in [
        serde_json::json!([]),
        serde_json::json!({"offer_id": "one"}),
        serde_json::json!({"offer_id": m.offer_id, "fields": [1]}),
        serde_json::json!({"offer_id": m.offer_id, "fields": {"bad key": "x"}, "consent": true}),
        serde_json::json!({"offer_id": m.offer_id, "consent": "yes"}),
        serde_json::json!({"offer_id": m.offer_id, "surprise": 1}),
    ] {
        assert_rejected(&api_lead(&app, &key, body).await, 400, "invalid_request");
    }
    let r = client()
        .post(app.url("/api/v1/leads"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(vec![0xff_u8, 0xfe])
        .send()
        .await
        .expect("binary");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(leads::count(&mut app.conn()).expect("count"), 0);
    assert_eq!(leads::rejections_count(&mut app.conn()).expect("count"), 0);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 0);
}

async fn api_lead(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    let r = client().post(app.url("/api/v1/leads")).bearer_auth(key).json(&body).send().await.expect("api lead");
    let status = r.status();
    (status, r.json().await.expect("json"))
}

async fn publishers_send_leads_by_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("6.00"), 100_00);
    let key = api_key(&app, m.publisher_id);
    let body = serde_json::json!({"offer_id": m.offer_id, "txid": "crm-1", "consent": true,
        "fields": {"name": "Ann Lee", "email": "Ann@Example.com", "phone": "+44 20 7946 0018", "zip": "SW1"}});
    let (status, v) = api_lead(&app, &key, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v:?}");
    assert_eq!(v["status"], "accepted");
    let lead = leads::find(&mut app.conn(), v["lead_id"].as_i64().expect("id")).expect("q").expect("lead");
    assert_eq!((lead.channel.as_str(), lead.click_id.as_deref(), lead.consent), ("api", None, true));
    assert_eq!(lead.fields_map()["zip"], "SW1");
    let (status, again) = api_lead(&app, &key, body).await;
    assert_eq!((status, again["status"].as_str()), (StatusCode::OK, Some("duplicate")));

    // A click of the publisher links the lead to it; someone else's click does not pass.
    let cid = click(&app, &m, "sub1=newsletter").await;
    let (_, v) = api_lead(
        &app,
        &key,
        serde_json::json!({"offer_id": m.offer_id, "click_id": cid, "consent": true, "fields": {"email": "b@c.io"}}),
    )
    .await;
    assert_eq!(v["status"], "accepted", "{v:?}");
    let lead = leads::find(&mut app.conn(), v["lead_id"].as_i64().expect("id")).expect("q").expect("lead");
    assert_eq!(lead.sub1, "newsletter");
    let stranger = market(&app, &cpl("6.00"), 0);
    let stranger_key = api_key(&app, stranger.publisher_id);
    let r =
        api_lead(&app, &stranger_key, serde_json::json!({"offer_id": m.offer_id, "click_id": cid, "consent": true}))
            .await;
    assert_rejected(&r, 409, "click_offer_mismatch");
    let r = api_lead(&app, &stranger_key, serde_json::json!({"offer_id": m.offer_id, "consent": true})).await;
    assert_rejected(&r, 409, "offer_inactive");
    // Publishers send leads; an advertiser only reports its own offers' conversions.
    let adv_key = api_key(&app, stranger.advertiser_id);
    let r = client()
        .post(app.url("/api/v1/leads"))
        .bearer_auth(&adv_key)
        .json(&serde_json::json!({"offer_id": m.offer_id, "click_id": cid}))
        .send()
        .await
        .expect("adv");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    ledger_is_healthy(&app);
}

async fn the_hosted_form_takes_a_lead_with_consent(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody {
        terms: qualead::domain::offer::Terms {
            required_fields: vec!["name".into(), "email".into(), "phone".into()],
            ..Default::default()
        },
        ..cpl("8.00")
    };
    let m = market(&app, &body, 100_00);
    let browser = common::new_client();
    let (status, page) = app.get_text(&browser, &format!("/f/{}?sub1=post-42", m.token)).await;
    assert_eq!(status, StatusCode::OK);
    for needle in ["name=\"name\"", "name=\"email\"", "type=\"tel\"", "name=\"consent\""] {
        assert!(page.contains(needle), "{needle} in {page}");
    }
    let click_id = regex::Regex::new(r#"name="click_id" value="([A-Za-z0-9_\-]{26})""#)
        .expect("re")
        .captures(&page)
        .expect("click id")[1]
        .to_string();
    let stored = clicks::find(&mut app.conn(), &click_id).expect("q").expect("showing the form records a click");
    assert_eq!(stored.sub1, "post-42");

    let fields = [
        ("click_id", click_id.as_str()),
        ("name", "Bo Chan"),
        ("email", "bo@example.org"),
        ("phone", "+1 415 555 0100"),
    ];
    let r = app.post_form(&browser, &format!("/f/{}", m.token), &fields).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("page").contains("tick the box"));
    let r = app
        .post_form(
            &browser,
            &format!("/f/{}", m.token),
            &[("click_id", click_id.as_str()), ("email", "bo@example.org"), ("consent", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a required field is missing");
    let mut with_consent = fields.to_vec();
    with_consent.push(("consent", "yes"));
    let r = app.post_form(&browser, &format!("/f/{}", m.token), &with_consent).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("page").contains("Thank you"));
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 1);
    let (status, _) = app.get_text(&browser, "/f/no-such-token").await;
    assert_eq!(status, StatusCode::OK, "an unknown form link shows the paused page, not an error");
    ledger_is_healthy(&app);
}

/// Many conversions at once against a total cap of N: exactly N are accepted. On
/// PostgreSQL two server processes share the database.
async fn a_cap_holds_under_concurrency(backend: Backend) {
    const CAP: i64 = 7;
    const TRIES: usize = 48;
    let app = spawn_app(backend).await;
    let second = common::spawn_on(app.db.alias(), backend, &[]).await;
    let body =
        OfferBody { caps: qualead::domain::offer::Caps { total: Some(CAP), ..Default::default() }, ..cpl("1.00") };
    let m = market(&app, &body, 1000_00);
    let mut ids = Vec::new();
    for _ in 0..TRIES {
        ids.push(click(&app, &m, "").await);
    }
    let mut tasks = Vec::new();
    for (i, cid) in ids.into_iter().enumerate() {
        let url = if i % 2 == 0 { app.url("/postback") } else { second.url("/postback") };
        let tok = m.postback_token.clone();
        tasks.push(tokio::spawn(async move {
            let r = client().get(format!("{url}?click_id={cid}&token={tok}")).send().await.expect("postback");
            let status = r.status();
            let v: Value = r.json().await.expect("json");
            (status, v["status"].as_str().unwrap_or("").to_string(), v["reason"].as_str().unwrap_or("").to_string())
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        let (status, s, reason) = t.await.expect("task");
        match s.as_str() {
            "accepted" => accepted += 1,
            "rejected" => assert_eq!((status.as_u16(), reason.as_str()), (429, "cap_reached")),
            other => panic!("unexpected answer {other} {status}"),
        }
    }
    assert_eq!(accepted, CAP);
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), CAP);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), CAP * 100);
    ledger_is_healthy(&app);
    drop(second);
}

/// The same conversion sent many times at once (so several land in one batch, and
/// on PostgreSQL on two processes): one lead, one charge, every answer names it.
async fn simultaneous_duplicates_make_one_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let second = common::spawn_on(app.db.alias(), backend, &[]).await;
    let m = market(&app, &cpl("3.00"), 100_00);
    let cid = click(&app, &m, "").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let url = if i % 2 == 0 { app.url("/postback") } else { second.url("/postback") };
        let q = format!("{url}?click_id={cid}&token={}&txid=SAME", m.postback_token);
        tasks.push(tokio::spawn(async move {
            let v: Value = client().get(q).send().await.expect("postback").json().await.expect("json");
            (v["status"].as_str().unwrap_or("").to_string(), v["lead_id"].as_i64())
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    let accepted = answers.iter().filter(|(s, _)| s == "accepted").count();
    assert_eq!(accepted, 1, "{answers:?}");
    let id = answers.iter().find(|(s, _)| s == "accepted").and_then(|(_, id)| *id);
    assert!(answers.iter().all(|(s, got)| (s == "accepted" || s == "duplicate") && *got == id), "{answers:?}");
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 1);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 3_00);
    ledger_is_healthy(&app);
    drop(second);
}

async fn a_guarded_server_still_takes_postbacks(backend: Backend) {
    // The private-target guard is about outgoing requests only.
    let app = spawn_app_with(backend, &[("QUALEAD_BLOCK_PRIVATE_TARGETS", "true")]).await;
    let m = market(&app, &cpl("2.00"), 10_00);
    let cid = click(&app, &m, "").await;
    assert_eq!(postback(&app, &format!("click_id={cid}&token={}", m.postback_token)).await.1["status"], "accepted");
}

/// DESIGN §4 cap alerts: the advertiser and the offer's publishers are e-mailed
/// once when a lead cap passes 90 % and once when it is reached.
async fn cap_alerts_go_out_at_the_threshold_and_at_the_cap(backend: Backend) {
    let app = spawn_app(backend).await;
    let body =
        OfferBody { caps: qualead::domain::offer::Caps { daily: Some(10), ..Default::default() }, ..cpl("1.00") };
    let m = market(&app, &body, 100_00);
    let publisher = users::find(&mut app.conn(), m.publisher_id).expect("q").expect("publisher").email;
    let alerts = |app: &TestApp, needle: &str| app.emails().iter().filter(|e| e.contains(needle)).count();
    for n in 1..=8 {
        let c = click(&app, &m, "").await;
        assert_eq!(postback(&app, &format!("click_id={c}&token={}", m.postback_token)).await.1["status"], "accepted");
        assert_eq!(alerts(&app, "near its daily cap"), 0, "no alert at {n} of 10");
    }
    let c = click(&app, &m, "").await;
    assert_eq!(postback(&app, &format!("click_id={c}&token={}", m.postback_token)).await.1["status"], "accepted");
    let mail = app.wait_for_email(&m.advertiser_email, "near its daily cap").await;
    assert!(mail.contains("9 of 10 leads"), "{mail}");
    app.wait_for_email(&publisher, "near its daily cap").await;
    let c = click(&app, &m, "").await;
    assert_eq!(postback(&app, &format!("click_id={c}&token={}", m.postback_token)).await.1["status"], "accepted");
    let mail = app.wait_for_email(&m.advertiser_email, "reached its daily cap").await;
    assert!(mail.contains("10 of 10 leads") && mail.contains("cap_reached"), "{mail}");
    app.wait_for_email(&publisher, "reached its daily cap").await;
    // Past the cap: refused, and no more alerts.
    let c = common::click_and_reason(&app, &m.token).await;
    assert_eq!(c.1.as_deref(), Some("cap_reached"));
    assert_eq!(
        (alerts(&app, "near its daily cap"), alerts(&app, "reached its daily cap")),
        (2, 2),
        "one each, to two people"
    );
}

both_backends!(
    cap_alerts_go_out_at_the_threshold_and_at_the_cap,
    a_postback_is_accepted_priced_reserved_and_idempotent,
    aliases_and_post_bodies_mean_the_same,
    every_reason_code_has_its_status_and_stores_no_lead,
    an_exhausted_budget_pauses_the_offer_and_tells_the_advertiser,
    a_suspended_account_is_not_paid,
    the_pixel_always_answers_a_gif,
    malformed_input_is_refused_and_nothing_is_stored,
    publishers_send_leads_by_api,
    the_hosted_form_takes_a_lead_with_consent,
    a_cap_holds_under_concurrency,
    simultaneous_duplicates_make_one_lead,
    a_guarded_server_still_takes_postbacks,
);
