//! Trust at the edges (issue 27): the client IP behind proxies, `/metrics` access,
//! control characters, password links and sessions, a stalled request body, the
//! marketplace filter on the payout, and who sees which side of a lead's money.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::time::Duration;

use common::{Backend, Market, PASSWORD, TestApp, api_key, call as api, new_client, spawn_app, spawn_app_with};
use diesel::prelude::*;
use qualead::domain::offer::OfferBody;
use qualead::store::{clicks, ledger, offers};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 12.34 a lead: at the default fee of 20 % the fee is 2.47 and the payout 9.87,
/// three amounts that show up nowhere else.
const PRICE: &str = "12.34";
const FEE: &str = "2.47";
const PAYOUT: &str = "9.87";

fn body(name: &str) -> OfferBody {
    OfferBody {
        name: name.into(),
        category: "home".into(),
        landing_url: "https://adv.example/land?cid={click_id}".into(),
        fallback_url: Some("https://adv.example/fallback".into()),
        payout_model: "cpl".into(),
        price: Some(PRICE.into()),
        terms: qualead::domain::offer::Terms { required_fields: vec![], ..Default::default() },
        ..Default::default()
    }
}

fn market(app: &TestApp, name: &str, deposit: i64) -> Market {
    Market::of(&body(name)).deposit(deposit).seed(&app.db.url)
}

fn visitor() -> reqwest::Client {
    common::visitor(common::BROWSER)
}

// ---------------------------------------------------------------- client IP

/// A click on `m`'s link through a proxy that says `X-Forwarded-For: forwarded`
/// and `CF-IPCountry: de`; asserts the redirect and returns the stored click.
async fn forwarded_click(app: &TestApp, m: &Market, forwarded: &str) -> clicks::Click {
    let r = visitor()
        .get(app.url(&format!("/c/{}", m.token)))
        .header("x-forwarded-for", forwarded)
        .header("cf-ipcountry", "de")
        .send()
        .await
        .expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    clicks::latest(&mut app.conn()).expect("q").expect("click")
}

async fn a_forged_left_most_forwarded_for_is_not_the_client(backend: Backend) {
    // Behind a proxy on loopback (trusted by default) that appends what it saw.
    let app = spawn_app(backend).await;
    let m = market(&app, "Roofs", 100_00);
    let stored = forwarded_click(&app, &m, "6.6.6.6, 203.0.113.9").await;
    assert_eq!(stored.ip, "203.0.113.9", "the right-most address that is not a trusted proxy");
    assert_eq!(stored.country.as_deref(), Some("DE"), "a trusted peer's country header is believed");
    let cid = stored.click_id.clone();

    // The postback allow-list judges the same address.
    let postback = |ips: &'static str| {
        let app = &app;
        let m = &m;
        let cid = &cid;
        async move {
            offers::set_postback_ips(&mut app.conn(), m.offer_id, ips).expect("ips");
            let r = reqwest::Client::new()
                .get(app.url("/postback"))
                .query(&[("click_id", cid.as_str()), ("token", m.postback_token.as_str())])
                .header("x-forwarded-for", "6.6.6.6, 203.0.113.9")
                .send()
                .await
                .expect("postback");
            let status = r.status();
            (status, r.json::<Value>().await.expect("json"))
        }
    };
    let (status, v) = postback("6.6.6.6").await;
    assert_eq!((status, v["reason"].as_str()), (StatusCode::FORBIDDEN, Some("ip_not_allowed")), "{v}");
    let (status, v) = postback("203.0.113.9").await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("accepted")), "{v}");
    let h = ledger::health(&mut app.conn()).expect("health");
    assert!(h.balanced, "{h:?}");
    assert_eq!(ledger::balance(&mut app.conn(), &ledger::escrow(m.advertiser_id)).expect("escrow"), 12_34);

    // A peer that is not a trusted proxy is itself the client, and its country
    // header is not believed.
    let app = spawn_app_with(backend, &[("QUALEAD_TRUSTED_PROXIES", "10.0.0.0/8")]).await;
    let m = market(&app, "Roofs", 0);
    let stored = forwarded_click(&app, &m, "203.0.113.9").await;
    assert_eq!((stored.ip.as_str(), stored.country.as_deref()), ("127.0.0.1", None));
}

async fn a_forged_forwarded_for_does_not_reset_the_rate_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = new_client();
    let (_, page) = app.get_text(&c, "/password/forgot").await;
    let csrf = common::csrf_of(&page);
    let mut statuses = vec![];
    // 20 forms at once from one address, then one every 10 s: a new forged left-most
    // entry each time must not make a new client.
    for n in 0..21 {
        let r = c
            .post(app.url("/password/forgot"))
            .header("x-forwarded-for", format!("6.6.6.{n}, 203.0.113.9"))
            .form(&[("email", "ghost@example.com"), ("csrf_token", csrf.as_str())])
            .send()
            .await
            .expect("post");
        statuses.push(r.status());
    }
    assert!(statuses[..20].iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(statuses[20], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Another client (another right-most address) is not limited.
    let r = c
        .post(app.url("/password/forgot"))
        .header("x-forwarded-for", "203.0.113.10")
        .form(&[("email", "ghost@example.com"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
}

// ---------------------------------------------------------------- /metrics

async fn metrics_answers_trusted_networks_or_the_token(backend: Backend) {
    let app = spawn_app(backend).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::OK, "loopback is trusted by default");
    // Through the proxy on loopback, for a client outside: refused.
    let r = reqwest::Client::new()
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let token = "metrics-token-0123456789";
    let app =
        spawn_app_with(backend, &[("QUALEAD_TRUSTED_PROXIES", "10.0.0.0/8"), ("QUALEAD_METRICS_TOKEN", token)]).await;
    let get = |auth: Option<&'static str>| {
        let mut req = reqwest::Client::new().get(app.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    let r = get(None).await.expect("metrics");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.text().await.expect("body").contains("qualead_"), "no metric leaks");
    let r = get(Some("Bearer wrong-token-0123456789")).await.expect("metrics");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(!r.text().await.expect("body").contains("qualead_"), "no metric leaks");
    assert_eq!(get(Some("Basic bWU6eW91")).await.expect("metrics").status(), StatusCode::UNAUTHORIZED);
    let r = get(Some("Bearer metrics-token-0123456789")).await.expect("metrics");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains("qualead_"), "the metrics");
}

// ---------------------------------------------------------------- control characters

async fn control_characters_are_refused_in_urls_and_one_line_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let adv_id = app.create_user("advertiser", "adv@example.com");
    let key = api_key(&app, adv_id);
    let good = json!({"name":"Roofs","category":"home","landing_url":"https://adv.example/?cid={click_id}",
        "fallback_url":"https://adv.example/","payout_model":"cpl","price":"10.00"});
    for (field, value) in [
        ("landing_url", "https://adv.example/?a=1\r\nSet-Cookie: x=1"),
        ("landing_url", "https://adv.example/a\nb"),
        ("fallback_url", "https://adv.example/\u{0}x"),
        ("fallback_url", "https://adv.example/a\u{85}b"),
        ("name", "Roofs\r\nBcc: all@example.com"),
        ("name", "Roofs\u{1b}[31m"),
    ] {
        let mut b = good.clone();
        b[field] = json!(value);
        let (status, v) = api(&app, reqwest::Method::POST, &key, "/offers", Some(b)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value:?}: {v}");
        assert!(v["fields"][field].as_str().is_some_and(|m| m.contains("control character")), "{field}: {v}");
    }
    let (status, v) = api(&app, reqwest::Method::POST, &key, "/offers", Some(good)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");

    // The web: a sign-up name, an offer name, a publisher's postback URL.
    let c = new_client();
    let r = app
        .signup_form(
            &c,
            &[
                ("role", "publisher"),
                ("display_name", "Eve\r\nBcc: all@example.com"),
                ("company", ""),
                ("email", "eve@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.expect("page").contains("control character"));
    assert!(qualead::store::users::find_by_email(&mut app.conn(), "eve@example.com").expect("q").is_none());

    let (m, _adv, publisher, _) = common::signed_in_market(&app, &body("Roofs"), 0, PASSWORD).await;
    let page = format!("/publisher/offers/{}", m.offer_id);
    let r = app
        .submit(
            &publisher,
            &page,
            &format!("/publisher/offers/{}/postback", m.offer_id),
            &[("postback_template", "https://tracker.example/pb?cid={click_id}\r\nX-Evil: 1")],
        )
        .await;
    // This form answers with the offer page and its error message.
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, shown) = app.get_text(&publisher, &page).await;
    assert!(shown.contains("Postback URL not saved") && shown.contains("control character"), "{shown}");
    let membership = offers::membership(&mut app.conn(), m.offer_id, m.publisher_id).expect("q").expect("member");
    assert_eq!(membership.postback_template, "", "nothing stored");
}

fn set_urls(app: &TestApp, offer_id: i64, landing: &str, fallback: Option<&str>) {
    use qualead::db::schema::offers as o;
    diesel::update(o::table.filter(o::id.eq(offer_id)))
        .set((o::landing_url.eq(landing), o::fallback_url.eq(fallback)))
        .execute(&mut *app.conn())
        .expect("write the URLs behind validation's back");
}

async fn a_stored_bad_landing_url_still_redirects(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = market(&app, "Roofs", 0);
    set_urls(
        &app,
        m.offer_id,
        "https://adv.example/land\r\nX-Evil: 1?cid={click_id}",
        Some("https://adv.example/fallback"),
    );
    let (location, reason) = common::click_and_reason(&app, &m.token).await;
    assert_eq!((location.as_str(), reason.as_deref()), ("https://adv.example/fallback", Some("bad_landing_url")));

    // A bad fallback too: the friendly page, never an error.
    set_urls(&app, m.offer_id, "https://adv.example/\u{7}", Some("https://adv.example/\nfallback"));
    let r = visitor().get(app.url(&format!("/c/{}", m.token))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("page").contains("This offer is paused"));

    // Letters beyond ASCII are percent-encoded, not an error.
    set_urls(&app, m.offer_id, "https://adv.example/küche?cid={click_id}", None);
    let r = visitor().get(app.url(&format!("/c/{}", m.token))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().expect("ascii").to_string();
    assert!(location.starts_with("https://adv.example/k%C3%BCche?cid="), "{location}");
}

// ---------------------------------------------------------------- password links and sessions

fn reset_links(app: &TestApp, to: &str) -> Vec<String> {
    app.emails()
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")) && m.contains("/password/reset"))
        .map(|m| common::link_in(m, "/password/reset"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

async fn wait_for_reset_links(app: &TestApp, to: &str, n: usize) -> Vec<String> {
    for _ in 0..300 {
        let links = reset_links(app, to);
        if links.len() >= n {
            return links;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} reset links for {to}");
}

async fn use_reset_link(app: &TestApp, link: &str, password: &str) -> StatusCode {
    let c = new_client();
    let r = c.get(link).send().await.expect("reset form");
    if r.status() != StatusCode::OK {
        return r.status();
    }
    let csrf = common::csrf_of(&r.text().await.expect("page"));
    let token = link.rsplit("token=").next().expect("token").to_string();
    app.post_form(
        &c,
        "/password/reset",
        &[("token", &token), ("password", password), ("password_confirm", password), ("csrf_token", &csrf)],
    )
    .await
    .status()
}

async fn using_a_reset_link_ends_every_other_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "pub@example.com";
    app.create_user("publisher", email);
    let c = new_client();
    for _ in 0..2 {
        let r = app.submit(&c, "/password/forgot", "/password/forgot", &[("email", email)]).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let links = wait_for_reset_links(&app, email, 2).await;
    assert_eq!(use_reset_link(&app, &links[0], "An0ther-secret!").await, StatusCode::SEE_OTHER);
    assert_eq!(new_client().get(&links[1]).send().await.expect("form").status(), StatusCode::BAD_REQUEST);
    assert_eq!(use_reset_link(&app, &links[1], "Th1rd-secret!!").await, StatusCode::BAD_REQUEST);
    assert_eq!(app.login(&new_client(), email, "An0ther-secret!").await.status(), StatusCode::SEE_OTHER);
}

async fn a_password_change_ends_other_sessions_and_reset_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let email = "pub@example.com";
    app.create_user("publisher", email);
    let here = new_client();
    assert_eq!(app.login(&here, email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let elsewhere = new_client();
    assert_eq!(app.login(&elsewhere, email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&elsewhere, "/publisher").await.status(), StatusCode::OK);
    let r = app.submit(&new_client(), "/password/forgot", "/password/forgot", &[("email", email)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let links = wait_for_reset_links(&app, email, 1).await;

    let r = app
        .submit(
            &here,
            "/account",
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", "An0ther-secret!")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_with(&here, "/publisher").await.status(), StatusCode::OK, "this browser stays signed in");
    assert_eq!(app.get_with(&elsewhere, "/publisher").await.status(), StatusCode::SEE_OTHER, "the other is out");
    assert_eq!(use_reset_link(&app, &links[0], "Th1rd-secret!!").await, StatusCode::BAD_REQUEST);
    assert_eq!(app.login(&new_client(), email, "An0ther-secret!").await.status(), StatusCode::SEE_OTHER);
}

// ---------------------------------------------------------------- a stalled body

async fn a_body_that_never_arrives_gets_408(backend: Backend) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(backend).await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.expect("connect");
    s.write_all(
        b"POST /postback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 100\r\n\r\nclick_id=",
    )
    .await
    .expect("send");
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), read).await.expect("an answer, not a held connection");
    let head = String::from_utf8_lossy(&answer);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    // The server still serves others.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

// ---------------------------------------------------------------- the marketplace filter

async fn the_marketplace_filters_on_the_payout(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, _adv, publisher, _) = common::signed_in_market(&app, &body("Zephyr roofs"), 0, PASSWORD).await;
    let key = api_key(&app, m.publisher_id);
    for (min, shown) in [("10.00", false), ("12.34", false), ("9.88", false), ("9.87", true), ("5", true)] {
        let (status, v) = api(&app, reqwest::Method::GET, &key, &format!("/offers?min_price={min}"), None).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let ids: Vec<i64> = v["offers"].as_array().expect("offers").iter().filter_map(|o| o["id"].as_i64()).collect();
        assert_eq!(ids.contains(&m.offer_id), shown, "API min_price={min}: {v}");
        let (status, page) = app.get_text(&publisher, &format!("/publisher/offers?min_price={min}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page.contains("Zephyr roofs"), shown, "web min_price={min}");
        if min != PRICE {
            assert!(!page.contains(PRICE), "the price shows nowhere on the marketplace");
        }
    }
}

// ---------------------------------------------------------------- who sees what

fn assert_hides(what: &str, text: &str, hidden: &[&str]) {
    for h in hidden {
        assert!(!text.contains(h), "{what} shows {h}:\n{text}");
    }
}

async fn advertisers_see_the_price_and_publishers_the_payout(backend: Backend) {
    let app = spawn_app(backend).await;
    let (m, adv, publisher, _) = common::signed_in_market(&app, &body("Roofs"), 100_00, PASSWORD).await;
    let cid = common::click_through(&app, &visitor(), &m.token, "").await;
    let lead_id = common::accepted_lead(&app, &m.postback_token, &cid, &[("email", "jo@gmail.com")]).await;
    let (adv_key, pub_key) = (api_key(&app, m.advertiser_id), api_key(&app, m.publisher_id));
    // The advertiser approves early: the price leaves escrow as payout and fee.
    let (status, v) =
        api(&app, reqwest::Method::POST, &adv_key, &format!("/leads/{lead_id}/approve"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    {
        let mut conn = app.conn();
        assert!(ledger::health(&mut conn).expect("health").balanced);
        assert_eq!(ledger::balance(&mut conn, &ledger::advertiser(m.advertiser_id)).expect("b"), 100_00 - 12_34);
        assert_eq!(ledger::balance(&mut conn, &ledger::escrow(m.advertiser_id)).expect("b"), 0);
        assert_eq!(ledger::balance(&mut conn, &ledger::publisher(m.publisher_id)).expect("b"), 9_87);
        assert_eq!(ledger::balance(&mut conn, ledger::PLATFORM_FEES).expect("b"), 2_47);
    }

    // The advertiser: the price, never the payout or the fee.
    let (status, v) = api(&app, reqwest::Method::GET, &adv_key, &format!("/leads/{lead_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((v["price"].as_str(), &v["payout"], &v["fee"]), (Some(PRICE), &Value::Null, &Value::Null), "{v}");
    assert_hides("the advertiser's lead JSON", &v.to_string(), &[PAYOUT, FEE]);
    let (_, v) = api(&app, reqwest::Method::GET, &adv_key, "/leads", None).await;
    assert!(v.to_string().contains(PRICE), "{v}");
    assert_hides("the advertiser's lead list JSON", &v.to_string(), &[PAYOUT, FEE]);
    let (_, v) = api(&app, reqwest::Method::GET, &adv_key, "/statement", None).await;
    assert_hides("the advertiser's statement JSON", &v.to_string(), &[PAYOUT, FEE]);
    for path in [
        format!("/advertiser/leads/{lead_id}"),
        "/advertiser/leads".to_string(),
        "/advertiser/statement".to_string(),
        "/advertiser/statement?account=escrow".to_string(),
        "/advertiser".to_string(),
    ] {
        let (status, page) = app.get_text(&adv, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_hides(&path, &page, &[PAYOUT, FEE]);
    }
    let (_, escrow) = app.get_text(&adv, "/advertiser/statement?account=escrow").await;
    assert!(escrow.contains(&format!("−${PRICE}")), "the price out of escrow, with a minus sign: {escrow}");

    // The publisher: the payout, never the price or the fee.
    let (status, v) = api(&app, reqwest::Method::GET, &pub_key, &format!("/leads/{lead_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&v["price"], v["payout"].as_str(), &v["fee"]), (&Value::Null, Some(PAYOUT), &Value::Null), "{v}");
    assert_hides("the publisher's lead JSON", &v.to_string(), &[PRICE, FEE]);
    let (_, v) = api(&app, reqwest::Method::GET, &pub_key, "/leads", None).await;
    assert_hides("the publisher's lead list JSON", &v.to_string(), &[PRICE, FEE]);
    let (_, v) = api(&app, reqwest::Method::GET, &pub_key, "/statement", None).await;
    assert!(v.to_string().contains(PAYOUT), "{v}");
    assert_hides("the publisher's statement JSON", &v.to_string(), &[PRICE, FEE]);
    for path in [
        format!("/publisher/leads/{lead_id}"),
        "/publisher/leads".to_string(),
        "/publisher/statement".to_string(),
        "/publisher".to_string(),
        format!("/publisher/offers/{}", m.offer_id),
    ] {
        let (status, page) = app.get_text(&publisher, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_hides(&path, &page, &[PRICE, FEE]);
    }
}

both_backends!(
    a_forged_left_most_forwarded_for_is_not_the_client,
    a_forged_forwarded_for_does_not_reset_the_rate_limit,
    metrics_answers_trusted_networks_or_the_token,
    control_characters_are_refused_in_urls_and_one_line_fields,
    a_stored_bad_landing_url_still_redirects,
    using_a_reset_link_ends_every_other_link,
    a_password_change_ends_other_sessions_and_reset_links,
    a_body_that_never_arrives_gets_408,
    the_marketplace_filters_on_the_payout,
    advertisers_see_the_price_and_publishers_the_payout,
    a_nul_in_free_text_is_never_a_server_error,
);

/// A NUL in a free-text field (here a reviewer's note) is refused or stored as the
/// database allows (PostgreSQL cannot store it), never a server error, and a
/// refusal stores nothing.
async fn a_nul_in_free_text_is_never_a_server_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let adv = api_key(&app, app.create_user("advertiser", "adv@example.com"));
    let admin = api_key(&app, app.create_user("admin", "admin@example.com"));
    let offer = serde_json::to_value(body("Nul notes")).expect("body");
    let (s, created) = api(&app, reqwest::Method::POST, &adv, "/offers", Some(offer)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().expect("id");
    api(&app, reqwest::Method::POST, &adv, &format!("/offers/{id}/submit"), None).await;
    let note = json!({"note": "fix the page\u{0}now"});
    let (s, answer) = api(&app, reqwest::Method::POST, &admin, &format!("/admin/offers/{id}/reject"), Some(note)).await;
    assert!(s == StatusCode::OK || s == StatusCode::BAD_REQUEST, "{s} {answer}");
    let (_, offer) = api(&app, reqwest::Method::GET, &admin, &format!("/offers/{id}"), None).await;
    if s == StatusCode::BAD_REQUEST {
        assert_eq!(answer["error"], "invalid_request");
        assert_eq!(offer["status"], "pending_review", "nothing stored");
    } else {
        assert_eq!(offer["status"], "draft");
    }
}
