//! Who may say what a lead is worth (issue 27, DESIGN "Trust"): the per-offer
//! channel settings in the offer JSON and the web form; publishers' channels carry
//! no amount; the publisher lead API, the hosted form and the pixel only where the
//! advertiser turned them on; a pixel converts a click once; a CPS offer's maximum
//! sale amount on every channel; the signed pixel. Money items assert balances and
//! the ledger.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, api_key, call, spawn_app};
use qualead::domain::channels;
use qualead::domain::offer::OfferBody;
use qualead::store::{clicks, leads, ledger};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn cpl(price: &str) -> OfferBody {
    common::solar_offer(price)
}

/// A CPS offer paying 10 % of each sale, with the channel settings left to the model.
fn cps() -> OfferBody {
    OfferBody { payout_model: "cps".into(), price: None, rate_bps: Some(1000), events: vec!["sale".into()], ..cpl("0") }
}

fn market(app: &TestApp, body: &OfferBody, deposit: i64) -> Market {
    Market::of(body).deposit(deposit).seed(&app.db.url)
}

async fn click(app: &TestApp, m: &Market) -> String {
    common::click_through(app, &client(), &m.token, "").await
}

async fn api_lead(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    call(app, Method::POST, key, "/leads", Some(body)).await
}

async fn postback(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let r = client().get(app.url(&format!("/postback?{query}"))).send().await.expect("postback");
    let status = r.status();
    (status, r.json().await.expect("a JSON answer"))
}

/// A pixel request; the `X-Qualead-Status` it answered with.
async fn pixel(app: &TestApp, offer_id: i64, query: &str) -> String {
    let r = client().get(app.url(&format!("/px/{offer_id}.gif?{query}"))).send().await.expect("pixel");
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["x-qualead-status"].to_str().expect("status").to_string()
}

fn assert_rejected(answer: &(StatusCode, Value), status: u16, reason: &str) {
    assert_eq!(answer.0.as_u16(), status, "{}", answer.1);
    assert_eq!(answer.1["status"], "rejected", "{}", answer.1);
    assert_eq!(answer.1["reason"], reason, "{}", answer.1);
}

/// `(advertiser, escrow)` balances of the market's advertiser, with the ledger's
/// health checked.
fn balances(app: &TestApp, m: &Market) -> (i64, i64) {
    let mut conn = app.conn();
    let h = ledger::health(&mut conn).expect("health");
    assert!(h.balanced, "{h:?}");
    (
        ledger::balance(&mut conn, &ledger::advertiser(m.advertiser_id)).expect("balance"),
        ledger::balance(&mut conn, &ledger::escrow(m.advertiser_id)).expect("balance"),
    )
}

fn lead_count(app: &TestApp, m: &Market) -> i64 {
    leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count")
}

async fn patch_offer(app: &TestApp, m: &Market, patch: Value) -> Value {
    let key = api_key(app, m.advertiser_id);
    let (s, v) = call(app, Method::PATCH, &key, &format!("/offers/{}", m.offer_id), Some(patch)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

// ---------------------------------------------------------------------------

/// The settings in the offer JSON: defaults by payout model on create, 422 naming
/// the field for what a model refuses, a PATCH that changes the model to CPS takes
/// CPS's defaults, and the postback allow-list is the API's too.
async fn the_offer_json_carries_the_channel_settings(backend: Backend) {
    let app = spawn_app(backend).await;
    let adv_id = app.create_user("advertiser", "adv@example.com");
    let adv = api_key(&app, adv_id);
    let cpl_body = serde_json::to_value(cpl("12.00")).expect("json");
    let (s, o) = call(&app, Method::POST, &adv, "/offers", Some(cpl_body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(
        (&o["pixel"], &o["hosted_form"], &o["publisher_leads"], &o["pixel_signature"]),
        (&json!(true), &json!(true), &json!(false), &json!(false)),
        "{o}"
    );
    assert_eq!((&o["max_sale_amount"], &o["notice_hours"], &o["postback_ips"]), (&Value::Null, &json!(24), &json!([])));
    let id = o["id"].as_i64().expect("id");

    let (s, o) = call(&app, Method::POST, &adv, "/offers", Some(serde_json::to_value(cps()).expect("json"))).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!((&o["pixel"], &o["hosted_form"], &o["publisher_leads"]), (&json!(false), &json!(false), &json!(false)));
    assert_eq!(o["max_sale_amount"], "10000.00", "every CPS offer has a maximum sale amount");

    // What CPS refuses, and bad values, name their field.
    let cps_body = serde_json::to_value(cps()).expect("json");
    for (field, value) in [
        ("hosted_form", json!(true)),
        ("publisher_leads", json!(true)),
        ("max_sale_amount", json!("0")),
        ("max_sale_amount", json!("lots")),
        ("postback_ips", json!(["203.0.113.10", "not-an-ip"])),
        ("postback_ips", json!(["10.0.0.1,10.0.0.2"])),
        ("notice_hours", json!(721)),
    ] {
        let mut body = cps_body.clone();
        body[field] = value.clone();
        let (s, err) = call(&app, Method::POST, &adv, "/offers", Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}: {err}");
        assert!(err["fields"][field].is_string(), "{field}={value}: {err}");
    }
    let mut body = cpl_body.clone();
    body["publisher_leads"] = json!(true);
    body["pixel"] = json!(false);
    body["pixel_signature"] = json!(true);
    body["notice_hours"] = json!(0);
    body["postback_ips"] = json!(["203.0.113.10", " 198.51.100.0/24 "]);
    let (s, o) = call(&app, Method::POST, &adv, "/offers", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{o}");
    assert_eq!(
        (&o["pixel"], &o["publisher_leads"], &o["pixel_signature"], &o["notice_hours"]),
        (&json!(false), &json!(true), &json!(true), &json!(0))
    );
    assert_eq!(o["postback_ips"], json!(["203.0.113.10", "198.51.100.0/24"]));

    // PATCH: one setting at a time; a move to CPS takes CPS's defaults for the
    // settings it does not name, and back.
    let path = format!("/offers/{id}");
    let (s, o) = call(&app, Method::PATCH, &adv, &path, Some(json!({"hosted_form": false, "notice_hours": 48}))).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!((&o["hosted_form"], &o["pixel"], &o["notice_hours"]), (&json!(false), &json!(true), &json!(48)));
    let (s, o) = call(
        &app,
        Method::PATCH,
        &adv,
        &path,
        Some(json!({"payout_model": "cps", "rate_bps": 1500, "events": ["sale"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{o}");
    assert_eq!(
        (&o["pixel"], &o["hosted_form"], &o["max_sale_amount"]),
        (&json!(false), &json!(false), &json!("10000.00"))
    );
    let (s, err) = call(&app, Method::PATCH, &adv, &path, Some(json!({"hosted_form": true}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(err["fields"]["hosted_form"].is_string(), "{err}");
    let (_, o) = call(&app, Method::PATCH, &adv, &path, Some(json!({"pixel": true, "max_sale_amount": "250.5"}))).await;
    assert_eq!((&o["pixel"], &o["max_sale_amount"]), (&json!(true), &json!("250.50")));
    let (_, o) = call(&app, Method::PATCH, &adv, &path, Some(json!({"payout_model": "cpl", "price": "9.00"}))).await;
    assert_eq!((&o["pixel"], &o["hosted_form"], &o["max_sale_amount"]), (&json!(true), &json!(true), &Value::Null));

    // The allow-list set through the API guards the postback.
    let m = market(&app, &cpl("10.00"), 100_00);
    let cid = click(&app, &m).await;
    let o = patch_offer(&app, &m, json!({"postback_ips": ["203.0.113.9"]})).await;
    assert_eq!(o["postback_ips"], json!(["203.0.113.9"]));
    let tok = &m.postback_token;
    assert_rejected(&postback(&app, &format!("click_id={cid}&token={tok}")).await, 403, "ip_not_allowed");
    patch_offer(&app, &m, json!({"postback_ips": ["127.0.0.0/8"]})).await;
    assert_eq!(postback(&app, &format!("click_id={cid}&token={tok}")).await.1["status"], "accepted");

    // Publishers see which channels they may use, not the allow-list.
    let (_, o) =
        call(&app, Method::GET, &api_key(&app, m.publisher_id), &format!("/offers/{}", m.offer_id), None).await;
    assert_eq!((&o["publisher_leads"], &o["hosted_form"]), (&json!(false), &json!(true)), "{o}");
    assert!(o.get("postback_ips").is_none(), "{o}");
}

/// A publisher's API lead or hosted form with an amount is refused
/// `invalid_request` naming `amount`, and nothing is charged.
async fn a_publisher_never_says_what_a_lead_is_worth(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &OfferBody { publisher_leads: true, ..cpl("10.00") }, 100_00);
    let key = api_key(&app, m.publisher_id);
    for (name, value) in [("amount", json!("60000.00")), ("amount", json!(1)), ("sum", json!("60000.00"))] {
        let mut body = json!({"offer_id": m.offer_id, "txid": "crm-1", "consent": true, "fields": {"email": "a@b.co"}});
        body[name] = value;
        let answer = api_lead(&app, &key, body).await;
        assert_rejected(&answer, 400, "invalid_request");
        assert!(answer.1["message"].as_str().is_some_and(|s| s.starts_with("amount")), "{}", answer.1);
    }
    // The CPS offer of the issue: no amount, and no API leads at all.
    let sale = market(&app, &cps(), 1000_00);
    let sale_key = api_key(&app, sale.publisher_id);
    let answer =
        api_lead(&app, &sale_key, json!({"offer_id": sale.offer_id, "amount": "60000.00", "consent": true})).await;
    assert_rejected(&answer, 400, "invalid_request");
    let answer = api_lead(&app, &sale_key, json!({"offer_id": sale.offer_id, "consent": true})).await;
    assert_rejected(&answer, 403, "channel_not_allowed");

    // The hosted form: an amount is refused, the form page says so.
    let browser = common::new_client();
    let (_, page) = app.get_text(&browser, &format!("/f/{}", m.token)).await;
    let click_id = regex::Regex::new(r#"name="click_id" value="([A-Za-z0-9_\-]{26})""#)
        .expect("re")
        .captures(&page)
        .expect("click id")[1]
        .to_string();
    for name in ["amount", "sum"] {
        let form = [("click_id", click_id.as_str()), ("email", "bo@example.org"), ("consent", "yes"), (name, "500")];
        let r = app.post_form(&browser, &format!("/f/{}", m.token), &form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.expect("page").contains("amount"), "the page names the amount");
    }
    assert_eq!((lead_count(&app, &m), lead_count(&app, &sale)), (0, 0));
    assert_eq!(balances(&app, &m), (100_00, 0), "nothing charged");
    assert_eq!(balances(&app, &sale), (1000_00, 0), "nothing charged");
    // Without the amount the same lead is taken, at the offer's price.
    let form = [("click_id", click_id.as_str()), ("email", "bo@example.org"), ("consent", "yes")];
    let r = app.post_form(&browser, &format!("/f/{}", m.token), &form).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer = api_lead(
        &app,
        &key,
        json!({"offer_id": m.offer_id, "txid": "crm-1", "consent": true, "fields": {"email": "a@b.co"}}),
    )
    .await;
    assert_eq!((answer.0, answer.1["status"].as_str()), (StatusCode::CREATED, Some("accepted")), "{}", answer.1);
    assert_eq!(balances(&app, &m), (80_00, 20_00));
}

/// `POST /api/v1/leads` only where the advertiser turned `publisher_leads` on.
async fn api_leads_need_the_advertisers_consent(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("10.00"), 100_00);
    let key = api_key(&app, m.publisher_id);
    let body = json!({"offer_id": m.offer_id, "txid": "crm-7", "consent": true, "fields": {"email": "a@b.co"}});
    let answer = api_lead(&app, &key, body.clone()).await;
    assert_rejected(&answer, 403, "channel_not_allowed");
    assert!(answer.1["message"].as_str().is_some_and(|s| s.contains("publisher lead API")), "{}", answer.1);
    assert_eq!(lead_count(&app, &m), 0);
    assert_eq!(balances(&app, &m), (100_00, 0));
    let log = leads::rejections_for_publisher(&mut app.conn(), m.publisher_id, 10).expect("log");
    assert_eq!(log.iter().map(|r| r.4.as_str()).collect::<Vec<_>>(), vec!["channel_not_allowed"]);

    let o = patch_offer(&app, &m, json!({"publisher_leads": true})).await;
    assert_eq!(o["publisher_leads"], true);
    let answer = api_lead(&app, &key, body).await;
    assert_eq!((answer.0, answer.1["status"].as_str()), (StatusCode::CREATED, Some("accepted")), "{}", answer.1);
    assert_eq!(lead_count(&app, &m), 1);
    assert_eq!(balances(&app, &m), (90_00, 10_00));
}

/// The hosted form only where the advertiser keeps it on, never for CPS: a plain
/// page, no click recorded, no lead.
async fn the_hosted_form_is_the_advertisers_setting(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &OfferBody { hosted_form: Some(false), ..cpl("10.00") }, 100_00);
    let sale = market(&app, &cps(), 100_00);
    let browser = common::new_client();
    for token in [&m.token, &sale.token] {
        let r = browser.get(app.url(&format!("/f/{token}"))).send().await.expect("form");
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.headers()["x-qualead-status"], "rejected:channel_not_allowed");
        let page = r.text().await.expect("page");
        assert!(page.contains("This form is not available") && !page.contains("<form"), "{page}");
        let r = app
            .post_form(&browser, &format!("/f/{token}"), &[("click_id", "x".repeat(26).as_str()), ("consent", "yes")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert!(clicks::latest(&mut app.conn()).expect("q").is_none(), "showing a closed form records no click");
    assert_eq!((lead_count(&app, &m), lead_count(&app, &sale)), (0, 0));
    assert_eq!(balances(&app, &m), (100_00, 0));

    // Turned on, the same link shows the form.
    patch_offer(&app, &m, json!({"hosted_form": true})).await;
    let (status, page) = app.get_text(&browser, &format!("/f/{}", m.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"consent\""), "{page}");
}

/// Fifty pixels with fifty made-up transaction ids after one click: one lead, one
/// charge. The advertiser's postback still counts a second sale of the click.
async fn fifty_pixels_after_one_click_make_one_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &cpl("10.00"), 1000_00);
    let cid = click(&app, &m).await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let url = app.url(&format!("/px/{}.gif?click_id={cid}&txid=fake-{i}", m.offer_id));
        tasks.push(tokio::spawn(async move {
            let r = client().get(url).send().await.expect("pixel");
            r.headers()["x-qualead-status"].to_str().expect("status").to_string()
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("task"));
    }
    assert_eq!(answers.iter().filter(|s| *s == "accepted").count(), 1, "{answers:?}");
    assert!(answers.iter().all(|s| s == "accepted" || s == "duplicate"), "{answers:?}");
    assert_eq!(lead_count(&app, &m), 1);
    assert_eq!(balances(&app, &m), (990_00, 10_00), "charged once");
    // One more pixel later, with yet another txid: still the same conversion.
    assert_eq!(pixel(&app, m.offer_id, &format!("click_id={cid}&txid=fake-50")).await, "duplicate");

    // Server postbacks keep their rule: another txid of the click is another sale.
    let tok = &m.postback_token;
    let answer = postback(&app, &format!("click_id={cid}&token={tok}&txid=ORDER-2")).await;
    assert_eq!(answer.1["status"], "accepted", "{}", answer.1);
    assert_eq!(lead_count(&app, &m), 2);
    assert_eq!(balances(&app, &m), (980_00, 20_00));
}

/// A CPS offer's pixel: no money while it is off; on, nothing above the maximum
/// sale amount; signed, nothing without the right `sig`. The postback is capped too.
async fn a_cps_pixel_moves_money_only_as_the_advertiser_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    // The maximum sale amount is a term a lead keeps from its click (a change waits
    // for review); the pixel is the advertiser's switch, at once.
    let m = market(&app, &OfferBody { max_sale_amount: Some("500.00".into()), ..cps() }, 1000_00);
    let c1 = click(&app, &m).await;
    let px = |cid: &str, amount: &str, txid: &str| format!("click_id={cid}&amount={amount}&txid={txid}");

    // Off (CPS's default): refused, nothing moves.
    assert_eq!(pixel(&app, m.offer_id, &px(&c1, "49900.00", "x")).await, "rejected:channel_not_allowed");
    assert_eq!((lead_count(&app, &m), balances(&app, &m)), (0, (1000_00, 0)));

    // On, with a maximum of 500.00: above it refused, at or below it taken.
    let o = patch_offer(&app, &m, json!({"pixel": true})).await;
    assert_eq!((&o["pixel"], &o["max_sale_amount"]), (&json!(true), &json!("500.00")));
    assert_eq!(pixel(&app, m.offer_id, &px(&c1, "49900.00", "x")).await, "rejected:amount_out_of_range");
    assert_eq!(pixel(&app, m.offer_id, &px(&c1, "500.01", "x")).await, "rejected:amount_out_of_range");
    assert_eq!((lead_count(&app, &m), balances(&app, &m)), (0, (1000_00, 0)));
    assert_eq!(pixel(&app, m.offer_id, &px(&c1, "499.00", "x")).await, "accepted");
    assert_eq!((lead_count(&app, &m), balances(&app, &m)), (1, (1000_00 - 49_90, 49_90)));

    // The postback above the maximum is refused as well, at the maximum taken.
    let tok = &m.postback_token;
    let c2 = click(&app, &m).await;
    let answer = postback(&app, &format!("click_id={c2}&token={tok}&amount=500.01&txid=O-1")).await;
    assert_rejected(&answer, 422, "amount_out_of_range");
    assert!(answer.1["message"].as_str().is_some_and(|s| s.contains("500.00")), "{}", answer.1);
    assert_eq!((lead_count(&app, &m), balances(&app, &m)), (1, (1000_00 - 49_90, 49_90)));
    let answer = postback(&app, &format!("click_id={c2}&token={tok}&amount=500&txid=O-1")).await;
    assert_eq!(answer.1["status"], "accepted", "{}", answer.1);
    assert_eq!(balances(&app, &m), (1000_00 - 99_90, 99_90));

    // Signed: without sig, with a wrong one or one of another amount, refused; the
    // right one (key: the postback token; message: click:txid:amount) is taken.
    patch_offer(&app, &m, json!({"pixel_signature": true})).await;
    let c3 = click(&app, &m).await;
    let good = channels::sign(tok, &format!("{c3}:T-9:49.90"));
    let wrong_amount = channels::sign(tok, &format!("{c3}:T-9:4990.00"));
    let other_key = channels::sign("not-the-token", &format!("{c3}:T-9:49.90"));
    for sig in ["", "&sig=00", &format!("&sig={wrong_amount}"), &format!("&sig={other_key}")] {
        let q = format!("{}{sig}", px(&c3, "49.9", "T-9"));
        assert_eq!(pixel(&app, m.offer_id, &q).await, "rejected:bad_signature", "{sig}");
    }
    assert_eq!(lead_count(&app, &m), 2);
    assert_eq!(balances(&app, &m), (1000_00 - 99_90, 99_90));
    let q = format!("{}&sig={good}", px(&c3, "49.9", "T-9"));
    assert_eq!(pixel(&app, m.offer_id, &q).await, "accepted");
    assert_eq!(lead_count(&app, &m), 3);
    assert_eq!(balances(&app, &m), (1000_00 - 104_89, 104_89));
}

/// The offer's advertiser may report a conversion of a click with its own API key:
/// its channel like the postback, trusted for the amount (and capped by the maximum
/// sale amount); without a click, or on another advertiser's offer, it is refused.
async fn the_advertisers_api_key_reports_sales(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, &OfferBody { max_sale_amount: Some("300.00".into()), ..cps() }, 1000_00);
    let other = market(&app, &cps(), 0);
    let key = api_key(&app, m.advertiser_id);
    let cid = click(&app, &m).await;
    let sale = |amount: &str| json!({"offer_id": m.offer_id, "click_id": cid, "amount": amount, "txid": "ORD-1"});
    assert_rejected(&api_lead(&app, &key, sale("300.01")).await, 422, "amount_out_of_range");
    assert_rejected(&api_lead(&app, &key, json!({"offer_id": m.offer_id, "amount": "10"})).await, 404, "unknown_click");
    let (s, _) = api_lead(&app, &api_key(&app, other.advertiser_id), sale("10")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another advertiser's offer");
    assert_eq!((lead_count(&app, &m), balances(&app, &m)), (0, (1000_00, 0)));
    let (s, v) = api_lead(&app, &key, sale("250.00")).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::CREATED, Some("accepted")), "{v}");
    let lead = leads::find(&mut app.conn(), v["lead_id"].as_i64().expect("id")).expect("q").expect("lead");
    assert_eq!(
        (lead.channel.as_str(), lead.publisher_id, lead.amount_minor),
        ("advertiser_api", m.publisher_id, Some(250_00))
    );
    assert_eq!(balances(&app, &m), (1000_00 - 25_00, 25_00));
    // A retry is the same sale.
    let (s, v) = api_lead(&app, &key, sale("250.00")).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{v}");
    assert_eq!(balances(&app, &m), (1000_00 - 25_00, 25_00));
}

/// The advertiser's offer page says which channels are on and, when the pixel must
/// be signed, how to compute `sig`; the offer form sets the channels in plain words.
async fn the_offer_page_shows_the_channels(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody { pixel: Some(true), pixel_signature: true, ..cps() };
    let (m, adv, publisher, _) = common::signed_in_market(&app, &body, 0, common::PASSWORD).await;
    let (status, page) = app.get_text(&adv, &format!("/advertiser/offers/{}", m.offer_id)).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "Pixel on your thank-you page: <strong>on</strong>",
        "Only signed pixels: <strong>on</strong>",
        "Hosted lead form for publishers: <strong>off</strong>",
        "Leads publishers send through the API: <strong>off</strong>",
        "click_id=CLICK_ID&#38;sig=SIGNATURE",
        "hash_hmac(",
        "A sale above <strong>$10,000.00</strong> is refused",
    ] {
        assert!(page.contains(needle), "{needle} in {page}");
    }
    assert!(page.contains(&m.postback_token), "the signing key is the postback token");
    // The publisher's links leave out the closed hosted form.
    let (_, links) = app.get_text(&publisher, &format!("/publisher/offers/{}", m.offer_id)).await;
    assert!(links.contains(&format!("/c/{}", m.token)) && !links.contains(&format!("/f/{}", m.token)), "{links}");

    // The edit form: the pixel off, publisher leads refused on CPS with a plain message.
    let edit = format!("/advertiser/offers/{}/edit", m.offer_id);
    let (_, form) = app.get_text(&adv, &edit).await;
    assert!(form.contains("Pixel on your thank-you page") && form.contains("name=\"publisher_leads\""), "{form}");
    let mut fields: Vec<(String, String)> = vec![
        ("name".into(), "Shop".into()),
        ("category".into(), "ecommerce".into()),
        ("landing_url".into(), "https://adv.example/?cid={click_id}".into()),
        ("payout_model".into(), "cps".into()),
        ("rate_bps".into(), "1000".into()),
        ("events".into(), "sale".into()),
        ("visibility".into(), "public".into()),
        ("duplicate_scope".into(), "offer".into()),
        ("pixel".into(), "off".into()),
        ("max_sale_amount".into(), "750.00".into()),
        ("postback_ips".into(), "203.0.113.10, 198.51.100.0/24".into()),
        ("notice_hours".into(), "36".into()),
    ];
    let mut refused = fields.clone();
    refused.push(("publisher_leads".into(), "1".into()));
    let refs: Vec<(&str, &str)> = refused.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.submit(&adv, &edit, &edit, &refs).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("page").contains("cannot take leads from publishers"));
    fields.push(("pixel_signature".into(), "1".into()));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.submit(&adv, &edit, &edit, &refs).await;
    let status = r.status();
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
    let o = qualead::store::offers::find(&mut app.conn(), m.offer_id).expect("q").expect("offer");
    assert_eq!((o.pixel, o.hosted_form, o.publisher_leads, o.pixel_signature), (false, false, false, true));
    // The maximum sale and the notice are terms: they wait for an admin's review.
    assert_eq!((o.max_sale_minor, o.notice_hours), (Some(10000_00), 24));
    let pending = qualead::store::revisions::pending(&mut app.conn(), m.offer_id).expect("q").expect("pending");
    let changes = pending.changes();
    assert!(
        changes.contains(&"max_sale_amount".to_string()) && changes.contains(&"notice_hours".to_string()),
        "{changes:?}"
    );
    assert_eq!(o.postback_ips, "203.0.113.10,198.51.100.0/24");
    let (_, page) = app.get_text(&adv, &format!("/advertiser/offers/{}", m.offer_id)).await;
    assert!(page.contains("The pixel is off for this offer") && !page.contains("/px/"), "{page}");
}

/// Offers stored before the settings existed take their payout model's defaults.
async fn existing_offers_take_their_models_defaults(backend: Backend) {
    let app = spawn_app(backend).await;
    let sale = market(&app, &OfferBody { pixel: Some(true), max_sale_amount: Some("20.00".into()), ..cps() }, 0);
    let lead = market(&app, &OfferBody { pixel: Some(false), publisher_leads: true, ..cpl("5.00") }, 0);
    {
        let mut conn = app.conn();
        let reverted = common::revert_through(&mut conn, "20261207000012");
        assert_eq!(qualead::db::migrate(&mut conn).expect("migrate").len(), reverted);
    }
    let find = |id| qualead::store::offers::find(&mut app.conn(), id).expect("q").expect("offer");
    let (s, l) = (find(sale.offer_id), find(lead.offer_id));
    assert_eq!((s.pixel, s.hosted_form, s.publisher_leads, s.pixel_signature), (false, false, false, false));
    assert_eq!((s.max_sale_minor, s.notice_hours), (Some(10_000_00), 24));
    assert_eq!((l.pixel, l.hosted_form, l.publisher_leads, l.max_sale_minor), (true, true, false, None));
    // Terms written before datacenter_ip existed keep it off (migration 000020); a
    // new offer has it on.
    assert!(!s.terms().scrub.block_datacenter && !l.terms().scrub.block_datacenter);
    let frozen = qualead::store::terms::for_offer(&mut app.conn(), l.id).expect("q");
    assert!(!frozen.is_empty());
    assert!(frozen.iter().all(|t| !t.terms().expect("terms").terms.scrub.block_datacenter), "frozen versions too");
    assert!(qualead::domain::offer::Terms::default().scrub.block_datacenter);
}

both_backends!(
    the_offer_json_carries_the_channel_settings,
    a_publisher_never_says_what_a_lead_is_worth,
    api_leads_need_the_advertisers_consent,
    the_hosted_form_is_the_advertisers_setting,
    fifty_pixels_after_one_click_make_one_lead,
    a_cps_pixel_moves_money_only_as_the_advertiser_allows,
    the_advertisers_api_key_reports_sales,
    the_offer_page_shows_the_channels,
    existing_offers_take_their_models_defaults,
);
