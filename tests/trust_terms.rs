//! Trust (DESIGN "Trust"): a lead keeps the terms in force when its click happened,
//! and a live offer's landing page, money and terms change only after an admin's
//! review (lowering or tightening changes only after the offer's notice period).

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{BROWSER, Backend, Market, TestApp, accepted_lead, call, click_through, spawn_app, visitor};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_backends!(
    terms_stay_with_the_lead,
    live_offer_changes_wait_for_review,
    changes_are_reviewed_on_the_pages,
    a_model_change_opens_no_channel_before_review,
);

fn key_for(app: &TestApp, user_id: i64) -> String {
    let mut conn = app.conn();
    qualead::store::api_keys::create(&mut conn, user_id, "test").expect("key").0
}

/// A CPL offer at 10.00 that requires nothing and settles at once.
fn open_offer(app: &TestApp, landing: &str) -> Market {
    let mut body = common::roofs_offer(landing, Some("https://fallback.example/"));
    body.terms.required_fields = vec![];
    body.terms.hold_hours = 0;
    Market::of(&body).deposit(1000_00).seed(&app.db.url)
}

/// The terms of a lead as the advertiser reads them.
async fn lead_json(app: &TestApp, key: &str, id: i64) -> Value {
    let (s, v) = call(app, Method::GET, key, &format!("/leads/{id}"), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Let an approved revision take effect now instead of after its notice.
fn take_effect_now(app: &TestApp, revision: i64) {
    use qualead::db::schema::{offer_revisions, offer_terms};
    let at = qualead::store::now();
    let mut conn = app.conn();
    diesel::update(offer_terms::table.filter(offer_terms::revision_id.eq(revision)))
        .set(offer_terms::effective_at.eq(at))
        .execute(&mut *conn)
        .expect("terms in force now");
    diesel::update(offer_revisions::table.find(revision))
        .set(offer_revisions::effective_at.eq(Some(at)))
        .execute(&mut *conn)
        .expect("revision due now");
}

async fn terms_stay_with_the_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = open_offer(&app, "https://roofs.example/quote?cid={click_id}");
    let adv = key_for(&app, m.advertiser_id);
    let publisher = key_for(&app, m.publisher_id);
    let admin = key_for(&app, app.create_user("admin", "admin@example.com"));
    let browser = visitor(BROWSER);

    // A lead accepted while the offer required nothing, and a click made before the
    // change that converts after it.
    let first_click = click_through(&app, &browser, &m.token, "").await;
    let first = accepted_lead(&app, &m.postback_token, &first_click, &[]).await;
    let early_click = click_through(&app, &browser, &m.token, "").await;

    // The advertiser lowers the price and requires e-mail and zip.
    let mut terms = lead_json(&app, &adv, first).await["terms"].clone();
    assert_eq!(terms["required_fields"], json!([]));
    terms = json!({"required_fields":["email","zip"],"hold_hours":0});
    let (s, rev) = call(
        &app,
        Method::PATCH,
        &adv,
        &format!("/offers/{}", m.offer_id),
        Some(json!({"price":"6.00","terms":terms})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{rev}");
    let rev_id = rev["id"].as_i64().expect("revision");
    let tightens = rev["tightens"].to_string();
    assert!(tightens.contains("price falls") && tightens.contains("zip"), "{tightens}");
    let (s, approved) =
        call(&app, Method::POST, &admin, &format!("/admin/offers/{}/revisions/{rev_id}/approve", m.offer_id), None)
            .await;
    assert_eq!((s, approved["status"].as_str()), (StatusCode::OK, Some("approved")), "{approved}");
    // Lowering waits for the notice (24 hours by default): the offer is unchanged.
    let effective = chrono::DateTime::parse_from_rfc3339(approved["effective_at"].as_str().expect("effective at"))
        .expect("a time")
        .naive_utc();
    assert!(effective > qualead::store::now() + chrono::Duration::hours(23), "{approved}");
    assert!(approved["applied_at"].is_null());
    let (_, offer) = call(&app, Method::GET, &adv, &format!("/offers/{}", m.offer_id), None).await;
    assert_eq!(offer["price"], "10.00");
    let publisher_email = qualead::store::users::find(&mut app.conn(), m.publisher_id).expect("q").expect("p").email;
    let notice = app.wait_for_email(&publisher_email, "change on").await;
    assert!(notice.contains("payout falls from $8.00 to $4.80"), "{notice}");
    assert!(!notice.contains("6.00") && !notice.contains("10.00"), "publishers never see the price: {notice}");

    // The notice runs out; the next settlement run applies the change and settles
    // the first lead by the terms it was accepted under.
    take_effect_now(&app, rev_id);
    let (s, _) = call(&app, Method::POST, &admin, "/admin/settle", None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, offer) = call(&app, Method::GET, &adv, &format!("/offers/{}", m.offer_id), None).await;
    assert_eq!(offer["price"], "6.00", "{offer}");
    assert_eq!(offer["terms"]["required_fields"], json!(["email", "zip"]));
    let v = lead_json(&app, &adv, first).await;
    assert_eq!((v["status"].as_str(), v["price"].as_str()), (Some("approved"), Some("10.00")), "{v}");
    assert!(!v["reasons"].to_string().contains("missing_field"), "{v}");
    let lists = v["terms"]["lists_version"].as_str().expect("lists");
    assert!(lists.starts_with("disposable:") && lists.contains(";net:") && lists.contains(";names:"), "{v}");

    // A click from before the change keeps the old price and requires nothing; a
    // click after it pays the new price.
    let early = accepted_lead(&app, &m.postback_token, &early_click, &[]).await;
    let late_click = click_through(&app, &browser, &m.token, "").await;
    let late =
        accepted_lead(&app, &m.postback_token, &late_click, &[("email", "ann@example.com"), ("zip", "94107")]).await;
    let (s, _) = call(&app, Method::POST, &admin, "/admin/settle", None).await;
    assert_eq!(s, StatusCode::OK);
    let early_v = lead_json(&app, &adv, early).await;
    assert_eq!((early_v["status"].as_str(), early_v["price"].as_str()), (Some("approved"), Some("10.00")), "{early_v}");
    assert_eq!(early_v["terms"]["required_fields"], json!([]));
    let late_v = lead_json(&app, &adv, late).await;
    assert_eq!(late_v["price"], "6.00", "{late_v}");
    assert_eq!(late_v["terms"]["required_fields"], json!(["email", "zip"]));
    assert_ne!(late_v["terms"]["version"], early_v["terms"]["version"]);

    // The money: 10.00 + 10.00 + 6.00 reserved and paid; the publisher earned the
    // payouts after the 20 % fee.
    let (_, balance) = call(&app, Method::GET, &adv, "/balance", None).await;
    assert_eq!(balance["available"], "974.00", "{balance}");
    assert_eq!(balance["escrow"], "0.00", "{balance}");
    let (_, earned) = call(&app, Method::GET, &publisher, "/balance", None).await;
    assert_eq!(earned["balance"], "20.80", "{earned}");
    let (_, health) = call(&app, Method::GET, &admin, "/admin/ledger/health", None).await;
    assert_eq!(health["balanced"], true, "{health}");
}

async fn live_offer_changes_wait_for_review(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = open_offer(&app, "https://a.example/land?cid={click_id}");
    let adv = key_for(&app, m.advertiser_id);
    let publisher = key_for(&app, m.publisher_id);
    let admin = key_for(&app, app.create_user("admin", "admin@example.com"));
    let offer_path = format!("/offers/{}", m.offer_id);
    let revisions = format!("/admin/offers/{}/revisions", m.offer_id);
    let landing = |app: &TestApp| {
        let app = app.url(&format!("/c/{}", m.token));
        async move {
            let r = visitor(BROWSER).get(app).send().await.expect("click");
            assert_eq!(r.status(), StatusCode::FOUND);
            r.headers()["location"].to_str().expect("location").to_string()
        }
    };

    // An edit that puts the reviewed members back withdraws the change waiting.
    let (s, _) = call(&app, Method::PATCH, &adv, &offer_path, Some(json!({"price":"11.00"}))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, _) = call(&app, Method::PATCH, &adv, &offer_path, Some(json!({"price":"10.00"}))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(qualead::store::revisions::pending(&mut app.conn(), m.offer_id).expect("q").is_none());

    // A new landing page and price wait for review; the name changes at once.
    let edit = json!({"landing_url":"https://b.example/land?cid={click_id}","price":"12.00","name":"Roofs Two"});
    let (s, rev) = call(&app, Method::PATCH, &adv, &offer_path, Some(edit.clone())).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{rev}");
    assert_eq!(rev["status"], "pending");
    assert_eq!(rev["changes"], json!(["landing_url", "price"]));
    assert_eq!(rev["offer"]["name"], "Roofs Two");
    assert_eq!(rev["offer"]["price"], "10.00");
    assert!(landing(&app).await.starts_with("https://a.example/land"), "clicks use the live version");
    let (_, seen) = call(&app, Method::GET, &publisher, &offer_path, None).await;
    assert_eq!(seen["payout"], "8.00", "the marketplace shows the live payout");

    // Only admins read and decide revisions; sending one back needs a note.
    let (s, _) = call(&app, Method::GET, &adv, &revisions, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, list) = call(&app, Method::GET, &admin, &revisions, None).await;
    assert_eq!((s, list["revisions"][0]["status"].as_str()), (StatusCode::OK, Some("pending")), "{list}");
    let rev_id = rev["id"].as_i64().expect("id");
    let reject = format!("{revisions}/{rev_id}/reject");
    let (s, _) = call(&app, Method::POST, &adv, &reject, Some(json!({"note":"no"}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, err) = call(&app, Method::POST, &admin, &reject, None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (s, sent_back) =
        call(&app, Method::POST, &admin, &reject, Some(json!({"note":"The new page has no form."}))).await;
    assert_eq!((s, sent_back["status"].as_str()), (StatusCode::OK, Some("rejected")), "{sent_back}");
    app.wait_for_email(&m.advertiser_email, "was sent back").await;
    let (s, _) = call(&app, Method::POST, &admin, &reject, Some(json!({"note":"again"}))).await;
    assert_eq!(s, StatusCode::CONFLICT, "a decided revision stays decided");
    assert!(landing(&app).await.starts_with("https://a.example/land"));

    // Approved, a raise with a new page takes effect at once and publishers hear of it.
    let (s, rev) = call(&app, Method::PATCH, &adv, &offer_path, Some(edit)).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let rev_id = rev["id"].as_i64().expect("id");
    let (s, approved) = call(&app, Method::POST, &admin, &format!("{revisions}/{rev_id}/approve"), None).await;
    assert_eq!(s, StatusCode::OK, "{approved}");
    assert!(!approved["applied_at"].is_null(), "{approved}");
    assert!(landing(&app).await.starts_with("https://b.example/land"));
    let (_, seen) = call(&app, Method::GET, &publisher, &offer_path, None).await;
    assert_eq!(seen["payout"], "9.60");
    let publisher_email = qualead::store::users::find(&mut app.conn(), m.publisher_id).expect("q").expect("p").email;
    app.wait_for_email(&publisher_email, "Roofs Two").await;

    // A lower price is approved for later: the offer runs on at 12.00 meanwhile.
    let (s, rev) = call(&app, Method::PATCH, &adv, &offer_path, Some(json!({"price":"9.00"}))).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let rev_id = rev["id"].as_i64().expect("id");
    let (_, approved) = call(&app, Method::POST, &admin, &format!("{revisions}/{rev_id}/approve"), None).await;
    assert!(approved["applied_at"].is_null(), "{approved}");
    let (_, offer) = call(&app, Method::GET, &adv, &offer_path, None).await;
    assert_eq!(offer["price"], "12.00");
    // Meanwhile no other change of the money or terms can be proposed.
    let (s, err) = call(&app, Method::PATCH, &adv, &offer_path, Some(json!({"price":"8.00"}))).await;
    assert_eq!((s, err["error"].as_str()), (StatusCode::CONFLICT, Some("revision_scheduled")), "{err}");

    // Caps and pausing stay immediate: 200, no revision.
    let (s, offer) = call(&app, Method::PATCH, &adv, &offer_path, Some(json!({"caps":{"daily":5}}))).await;
    assert_eq!((s, offer["caps"]["daily"].as_i64()), (StatusCode::OK, Some(5)), "{offer}");
    let (s, offer) = call(&app, Method::PATCH, &adv, &offer_path, Some(json!({"status":"paused"}))).await;
    assert_eq!((s, offer["status"].as_str()), (StatusCode::OK, Some("paused")));
}

async fn changes_are_reviewed_on_the_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut body = common::roofs_offer("https://a.example/land?cid={click_id}", None);
    body.terms.required_fields = vec![];
    let (m, adv, publisher, _) = common::signed_in_market(&app, &body, 100_00, common::PASSWORD).await;
    app.create_user("admin", "admin@example.com");
    let admin = common::new_client();
    app.login(&admin, "admin@example.com", common::PASSWORD).await;
    let offer_page = format!("/advertiser/offers/{}", m.offer_id);

    // The advertiser edits the live offer in the form: a lower price waits for review.
    let form = [
        ("name", "Roofs"),
        ("category", "home"),
        ("visibility", "public"),
        ("timezone", "UTC"),
        ("landing_url", "https://a.example/land?cid={click_id}"),
        ("payout_model", "cpl"),
        ("price", "7.00"),
        ("events", "lead"),
        ("hold_hours", "72"),
        ("return_window_days", "7"),
        ("max_return_rate_pct", "20"),
        ("conversion_window_days", "30"),
        ("duplicate_days", "30"),
        ("duplicate_scope", "offer"),
        ("min_seconds", "0"),
        ("max_leads_per_ip", "0"),
        ("min_score", "0"),
        ("block_disposable", "1"),
        ("block_bots", "1"),
        ("check_email", "1"),
        ("check_phone", "1"),
        ("check_name", "1"),
    ];
    let edit = format!("{offer_page}/edit");
    let r = app.submit(&adv, &edit, &edit, &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
    let (_, page) = app.get_text(&adv, &offer_page).await;
    assert!(page.contains("waiting for review") && page.contains("$7.00 per lead"), "{page}");
    assert!(page.contains("the price falls from $10.00 to $7.00"), "{page}");

    // The admin sees it in the queue and on the offer's page, and approves it.
    let (_, queue) = app.get_text(&admin, "/admin/offers").await;
    assert!(queue.contains("Changes to live offers waiting for review"), "{queue}");
    let admin_page = format!("/admin/offers/{}", m.offer_id);
    let (_, page) = app.get_text(&admin, &admin_page).await;
    assert!(page.contains("takes effect in 24 hours"), "{page}");
    let rev = qualead::store::revisions::pending(&mut app.conn(), m.offer_id).expect("q").expect("pending");
    let r = app
        .submit(
            &admin,
            &admin_page,
            &format!("/admin/offers/{}/revisions/{}", m.offer_id, rev.id),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&admin, &admin_page).await;
    assert!(page.contains("approved, takes effect later"), "{page}");

    // The publisher's page tells the date and the new payout, never the price.
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{}", m.offer_id)).await;
    assert!(page.contains("the terms change") && page.contains("payout falls from $8.00 to $5.60"), "{page}");
    assert!(!page.contains("$7.00"), "{page}");
}

/// A CPS offer's pixel is off unless the advertiser turns it on; a move to CPL
/// (whose pixel is on by default) waits for review with the channels it brings, so
/// no browser can report a sale meanwhile.
async fn a_model_change_opens_no_channel_before_review(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut body = common::roofs_offer("https://shop.example/?cid={click_id}", None);
    body.payout_model = "cps".into();
    body.price = None;
    body.rate_bps = Some(1000);
    body.events = vec!["sale".into()];
    body.terms.required_fields = vec![];
    let m = Market::of(&body).deposit(1000_00).seed(&app.db.url);
    let adv = key_for(&app, m.advertiser_id);
    let path = format!("/offers/{}", m.offer_id);
    let (s, rev) = call(
        &app,
        Method::PATCH,
        &adv,
        &path,
        Some(json!({"payout_model":"cpl","price":"5.00","rate_bps":null,"events":["lead"]})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{rev}");
    assert_eq!((rev["offer"]["payout_model"].as_str(), &rev["offer"]["pixel"]), (Some("cps"), &json!(false)), "{rev}");
    let cid = click_through(&app, &visitor(BROWSER), &m.token, "").await;
    let r = visitor(BROWSER)
        .get(app.url(&format!("/px/{}.gif?click_id={cid}&amount=49900.00&txid=x", m.offer_id)))
        .send()
        .await
        .expect("pixel");
    assert_eq!(r.headers()["x-qualead-status"], "rejected:channel_not_allowed");
    let (_, balance) = call(&app, Method::GET, &adv, "/balance", None).await;
    assert_eq!(balance["available"], "1000.00", "{balance}");
}
