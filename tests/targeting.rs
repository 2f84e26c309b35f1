//! Where a click comes from and what an offer buys (DESIGN §4, §5): the country from
//! a trusted header or else the geolocation database, the device and OS from the
//! user agent, and the offer's targeting — clicks outside it go to the fallback with
//! the reason `targeting` and their conversions are refused `not_targeted`; and the
//! settlement rules that judge the visitor's network (`datacenter_ip`, `relay`).

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, postback_for, solar_offer, spawn_app};
use qualead::domain::offer::{OfferBody, Terms};
use qualead::settlement::run::{BATCH, settle_due};
use qualead::store::{clicks, leads, ledger, now};
use reqwest::StatusCode;

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
const WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const ANDROID_TABLET: &str =
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

/// A click on `/c/{token}` from `agent`, through the loopback proxy (trusted by
/// default) for the client `ip`, with a `CF-IPCountry` header when `country` is
/// given: where it went and the stored click.
async fn click(app: &TestApp, token: &str, agent: &str, ip: &str, country: Option<&str>) -> (String, clicks::Click) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut req = client.get(app.url(&format!("/c/{token}"))).header("user-agent", agent).header("x-forwarded-for", ip);
    if let Some(c) = country {
        req = req.header("cf-ipcountry", c);
    }
    let r = req.send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let stored = clicks::latest(&mut app.conn()).expect("q").expect("click");
    (location, stored)
}

async fn a_click_without_a_country_header_is_located_from_its_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&solar_offer("5.00")).seed(&app.db.url);
    // Yandex's public resolver (RU) and Google's (US) in the shipped DB-IP table.
    let (_, c) = click(&app, &m.token, IPHONE, "77.88.8.8", None).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (Some("RU"), "database"));
    assert_eq!((c.device.as_str(), c.os.as_str()), ("phone", "iOS"));
    let (_, c) = click(&app, &m.token, WINDOWS, "2a02:6b8::feed:ff", None).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (Some("RU"), "database"), "IPv6 too");
    assert_eq!((c.device.as_str(), c.os.as_str()), ("desktop", "Windows"));
    // A trusted proxy's header wins over the database.
    let (_, c) = click(&app, &m.token, ANDROID_TABLET, "77.88.8.8", Some("de")).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (Some("DE"), "header"));
    assert_eq!((c.device.as_str(), c.os.as_str()), ("tablet", "Android"));
    // A private address has no country.
    let (_, c) = click(&app, &m.token, "curl/8.5.0", "10.1.2.3", None).await;
    assert_eq!((c.country.as_deref(), c.country_source.as_str()), (None, "unknown"));
    assert_eq!(c.device, "bot");
}

async fn clicks_outside_the_targeting_go_to_the_fallback_and_cannot_convert(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody {
        terms: Terms {
            required_fields: vec![],
            target_countries: vec!["US".into()],
            target_devices: vec!["desktop".into(), "tablet".into()],
            target_os: vec!["Windows".into(), "Android".into()],
            ..Terms::default()
        },
        ..solar_offer("5.00")
    };
    let m = Market::of(&body).deposit(100_00).seed(&app.db.url);
    // 8.8.8.8 is in the US in the shipped table; 77.88.8.8 in Russia.
    let (to, good) = click(&app, &m.token, WINDOWS, "8.8.8.8", None).await;
    assert!(to.starts_with("https://adv.example/quote"), "{to}");
    assert_eq!(good.redirect_reason, None);
    let (to, wrong_country) = click(&app, &m.token, WINDOWS, "77.88.8.8", None).await;
    assert_eq!((to.as_str(), wrong_country.redirect_reason.as_deref()), ("https://adv.example/", Some("targeting")));
    let (_, header_country) = click(&app, &m.token, WINDOWS, "8.8.8.8", Some("GB")).await;
    assert_eq!(header_country.redirect_reason.as_deref(), Some("targeting"), "the trusted header decides");
    let (to, phone) = click(&app, &m.token, IPHONE, "8.8.8.8", None).await;
    assert_eq!((to.as_str(), phone.redirect_reason.as_deref()), ("https://adv.example/", Some("targeting")));
    let (_, bot) = click(&app, &m.token, "python-requests/2.31", "8.8.8.8", None).await;
    assert_eq!(bot.redirect_reason.as_deref(), Some("targeting"), "a device list never buys bots");
    let (_, tablet) = click(&app, &m.token, ANDROID_TABLET, "8.8.8.8", None).await;
    assert_eq!(tablet.redirect_reason, None, "an Android tablet is bought");
    let (_, unknown) = click(&app, &m.token, WINDOWS, "10.0.0.7", None).await;
    assert_eq!(unknown.redirect_reason, None, "an unknown country is not refused");

    for c in [&wrong_country, &phone] {
        let (status, answer) = postback_for(&app, &m.postback_token, &c.click_id, &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!((answer["status"].as_str(), answer["reason"].as_str()), (Some("rejected"), Some("not_targeted")));
    }
    let (status, answer) = postback_for(&app, &m.postback_token, &good.click_id, &[]).await;
    assert_eq!((status, answer["status"].as_str()), (StatusCode::OK, Some("accepted")), "{answer}");
}

/// The targeting is validated and read back in plain words.
#[test]
fn the_targeting_is_validated_and_shown_in_plain_words() {
    let body = OfferBody {
        terms: Terms { target_devices: vec!["Phone".into()], target_os: vec!["ios".into()], ..Terms::default() },
        ..solar_offer("5.00")
    };
    let spec = qualead::domain::offer::validate(&body).expect("valid");
    assert_eq!(
        (spec.terms.target_devices.as_slice(), spec.terms.target_os.as_slice()),
        (&["phone".to_string()][..], &["iOS".to_string()][..])
    );
    let words = qualead::domain::offer::plain_terms(&spec.terms, &body.caps).join(" ");
    assert!(words.contains("Only phone traffic is bought") && words.contains("Only visitors on iOS"), "{words}");
    let bad =
        OfferBody { terms: Terms { target_devices: vec!["fridge".into()], ..Terms::default() }, ..solar_offer("5.00") };
    let errors = qualead::domain::offer::validate(&bad).expect_err("a fridge is no device kind");
    assert!(errors["terms.target_devices"].contains("\"fridge\" is not a device kind"), "{errors:?}");
}

/// The advertiser's server postback for a click from `ip` (through the trusted
/// loopback proxy) with an e-mail: the accepted lead's id.
async fn lead_from(app: &TestApp, m: &Market, ip: &str, email: &str) -> i64 {
    let (_, c) = click(app, &m.token, WINDOWS, ip, None).await;
    assert_eq!(c.redirect_reason, None, "{ip}");
    common::accepted_lead(app, &m.postback_token, &c.click_id, &[("email", email)]).await
}

/// DESIGN §7 `datacenter_ip` and `relay`: a click from a cloud provider's range is
/// rejected with the provider named; a privacy relay is never a datacenter, and is
/// rejected only by an offer that switches `relay` on; an admin's ranges count from
/// the next run, and a bad range is refused with its line.
async fn datacenter_and_relay_addresses_are_judged_by_their_rules(backend: Backend) {
    let app = common::spawn_app_with(backend, &[("QUALEAD_SETTLE_INTERVAL_SECS", "3600")]).await;
    let mut terms = Terms { hold_hours: 0, required_fields: vec!["email".into()], ..Terms::default() };
    terms.scrub.block_relay = true;
    let m = Market::of(&OfferBody { terms, ..solar_offer("2.00") }).deposit(100_00).seed(&app.db.url);

    let admin = app.login_as("admin", "ops@example.com").await;
    let r = app
        .submit(
            &admin,
            "/admin/ledger",
            "/admin/network-ranges",
            &[("datacenter", "203.0.113.0/24"), ("relay", "not-a-net")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let (_, page) = app.get_text(&admin, "/admin/ledger").await;
    assert!(page.contains("relay ranges, line 1: &#34;not-a-net&#34; is neither a CIDR nor an address"), "{page}");
    assert!(!page.contains(">203.0.113.0/24<"), "nothing is saved when one list is bad");
    let r = app
        .submit(
            &admin,
            "/admin/ledger",
            "/admin/network-ranges",
            &[("datacenter", "203.0.113.0/24 # our own test servers"), ("relay", "198.51.100.0/24")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let (_, page) = app.get_text(&admin, "/admin/ledger").await;
    assert!(page.contains("1 datacenter and 1 relay ranges added"), "{page}");
    assert!(page.contains("203.0.113.0/24 # our own test servers"), "the saved ranges are shown: {page}");

    let aws = lead_from(&app, &m, "3.5.140.2", "ann@example.com").await;
    let home = lead_from(&app, &m, "84.128.3.4", "bob@example.com").await;
    let own = lead_from(&app, &m, "203.0.113.9", "cy@example.com").await;
    let relay = lead_from(&app, &m, "198.51.100.20", "di@example.com").await;
    let s = settle_due(&mut app.conn(), now(), BATCH).expect("settle");
    assert_eq!((s.approved, s.rejected), (1, 3), "{s:?}");

    let mut conn = app.conn();
    let outcome = |conn: &mut qualead::db::DbConn, id: i64, code: &str| {
        let lead = leads::find(conn, id).expect("q").expect("lead");
        let checks: Vec<qualead::domain::scrub::Check> = serde_json::from_str(&lead.checks).expect("checks");
        let c = checks.into_iter().find(|c| c.code == code).unwrap_or_else(|| panic!("no {code} on {id}"));
        (lead.status.as_str().to_string(), c.passed, c.detail)
    };
    assert_eq!(
        outcome(&mut conn, aws, "datacenter_ip"),
        ("rejected".into(), false, "the visitor's address is in a hosting range (AWS)".into())
    );
    assert_eq!(
        outcome(&mut conn, home, "datacenter_ip"),
        ("approved".into(), true, "not a hosting or cloud address".into())
    );
    assert_eq!(
        outcome(&mut conn, own, "datacenter_ip"),
        ("rejected".into(), false, "the visitor's address is in a hosting range (admin list)".into())
    );
    assert_eq!(
        outcome(&mut conn, relay, "datacenter_ip"),
        ("rejected".into(), true, "a privacy relay (admin list), not a datacenter".into())
    );
    assert_eq!(
        outcome(&mut conn, relay, "relay"),
        ("rejected".into(), false, "the visitor came through a privacy relay (admin list)".into())
    );
    assert!(ledger::health(&mut conn).expect("health").balanced);
}

/// DESIGN §9: the admin's click-to-conversion page buckets each publisher's leads by
/// the time from click to conversion, and flags a spike under 10 s.
async fn the_admin_sees_click_to_conversion_times(backend: Backend) {
    use diesel::prelude::*;
    use qualead::db::schema::leads as l;
    let app = spawn_app(backend).await;
    let m = Market::of(&solar_offer("1.00")).deposit(100_00).seed(&app.db.url);
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(lead_from(&app, &m, "84.128.3.4", &format!("p{i}@example.com")).await);
    }
    // Two of them converted two days after their click (the click moved back).
    for id in &ids[..2] {
        let lead = leads::find(&mut app.conn(), *id).expect("q").expect("lead");
        let earlier = lead.created_at - chrono::Duration::days(2);
        qualead::per_backend!(&mut *app.conn(), c => diesel::update(l::table.find(*id)).set(l::click_at.eq(Some(earlier))).execute(c))
            .expect("backdate");
    }
    let admin = app.login_as("admin", "ops@example.com").await;
    let (status, page) = app.get_text(&admin, "/admin/traffic").await;
    assert_eq!(status, StatusCode::OK);
    let row = page.split(&format!("data-publisher=\"{}\"", m.publisher_id)).nth(1).expect("the publisher's row");
    let row = row.split("</tr>").next().expect("row");
    assert!(row.contains(">12</td>"), "12 leads with a click: {row}");
    assert!(row.contains("<span class=\"bar b8\">10</span> <span class=\"hint\">83 %</span>"), "10 under 10 s: {row}");
    assert!(row.contains("<span class=\"bar b1\">2</span> <span class=\"hint\">16 %</span>"), "2 after a day: {row}");
    assert!(row.contains("click injection?") && !row.contains("click spamming?"), "{row}");
    let (_, home) = app.get_text(&admin, "/admin").await;
    assert!(home.contains("href=\"/admin/traffic?"), "linked from the suspicious-traffic section");
}

/// The hosted form keeps to the targeting: a visit from outside it sees the paused
/// page (its click is stored with the reason `targeting`), and a lead cannot be
/// posted to the form without the click of a visit.
async fn the_hosted_form_keeps_to_the_targeting(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody {
        terms: Terms { required_fields: vec![], target_countries: vec!["US".into()], ..Terms::default() },
        ..solar_offer("5.00")
    };
    let m = Market::of(&body).deposit(100_00).seed(&app.db.url);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let visit = |ip: &'static str| {
        client.get(app.url(&format!("/f/{}", m.token))).header("user-agent", WINDOWS).header("x-forwarded-for", ip)
    };
    let page = visit("77.88.8.8").send().await.expect("form").text().await.expect("page");
    assert!(page.contains("This offer is paused"), "{page}");
    let stored = clicks::latest(&mut app.conn()).expect("q").expect("click");
    assert_eq!(stored.redirect_reason.as_deref(), Some("targeting"));
    let page = visit("8.8.8.8").send().await.expect("form").text().await.expect("page");
    assert!(page.contains("name=\"consent\""), "a US visitor gets the form: {page}");
    let click_id = page.split("name=\"click_id\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("click id");

    let post = |ip: &'static str, click_id: &str| {
        client
            .post(app.url(&format!("/f/{}", m.token)))
            .header("user-agent", WINDOWS)
            .header("x-forwarded-for", ip)
            .form(&[("email", "ann@example.com"), ("name", "Ann Lee"), ("consent", "yes"), ("click_id", click_id)])
    };
    let r = post("77.88.8.8", "").send().await.expect("post");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no lead without a visit's click");
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 0);
    let r = post("8.8.8.8", click_id).send().await.expect("post");
    let status = r.status();
    let page = r.text().await.expect("page");
    assert!(status.is_success(), "{status}: {page}");
    assert_eq!(leads::count_for_offer(&mut app.conn(), m.offer_id).expect("count"), 1, "the US visitor's lead");
}

both_backends!(
    a_click_without_a_country_header_is_located_from_its_address,
    clicks_outside_the_targeting_go_to_the_fallback_and_cannot_convert,
    datacenter_and_relay_addresses_are_judged_by_their_rules,
    the_admin_sees_click_to_conversion_times,
    the_hosted_form_keeps_to_the_targeting,
);
