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

/// DESIGN §9: a click sent to the fallback counts as such in the rollups, and each
/// side's report shows how many and why: a page in the cell's note, CSV and the API
/// as columns of their own.
async fn clicks_sent_to_the_fallback_count_as_such_in_reports(backend: Backend) {
    use common::reports::{note, page, parse_csv, row};
    let app = spawn_app(backend).await;
    let body = OfferBody {
        terms: Terms { required_fields: vec![], target_countries: vec!["US".into()], ..Terms::default() },
        ..solar_offer("5.00")
    };
    let (m, adv, publisher, _) = common::signed_in_market(&app, &body, 100_00, common::PASSWORD).await;
    let (_, landed) = click(&app, &m.token, WINDOWS, "8.8.8.8", None).await;
    assert_eq!(landed.redirect_reason, None);
    for _ in 0..3 {
        let (to, c) = click(&app, &m.token, WINDOWS, "77.88.8.8", None).await;
        assert_eq!((to.as_str(), c.redirect_reason.as_deref()), ("https://adv.example/", Some("targeting")));
    }
    // A click from a blocked source and one over a cap, as the click writer stores them.
    let more: Vec<clicks::NewClick> = [("source_blocked", "blk"), ("cap_reached", "cap")]
        .into_iter()
        .map(|(reason, id)| clicks::NewClick {
            click_id: format!("{id}{}", landed.click_id),
            redirect_reason: Some(reason.into()),
            ..landed.clone()
        })
        .collect();
    clicks::insert_batch(&mut app.conn(), &more).expect("clicks");

    let totals = qualead::store::rollups::offer_totals(&mut app.conn(), m.offer_id).expect("rollups");
    assert_eq!(
        (totals.clicks, totals.fallback_clicks, totals.off_target_clicks, totals.blocked_clicks),
        (6, 5, 3, 1),
        "{totals:?}"
    );
    let by_country = qualead::store::rollups::for_offer(&mut app.conn(), m.offer_id, "country").expect("rollups");
    let ru = by_country.iter().find(|r| r.value == "RU").expect("RU row");
    assert_eq!((ru.metrics.clicks, ru.metrics.off_target_clicks), (3, 3));

    // The publisher's report page: one column, the reasons in its note.
    let html = page(&app, &publisher, "/publisher/reports?group_by=offer").await;
    let line = row(&html, "report", "Solar quotes");
    assert_eq!((line["clicks"].as_str(), line["fallback_clicks"].as_str()), ("6", "5"));
    assert!(!line.contains_key("off_target_clicks"), "the breakdown is no column of the page");
    let why = note(&html, "report", "Solar quotes", "fallback_clicks").expect("a note").replace("&#39;", "'");
    assert_eq!(
        why,
        "5 clicks went to the offer's fallback page instead of its landing page: 3 outside the offer's targeting \
         (country, device or OS), 1 from a blocked source, 1 for another reason (a cap reached, the offer paused, \
         the link not approved)."
    );
    assert_eq!(row(&html, "report", "Total")["fallback_clicks"], "5");
    assert!(html.contains("id=\"fallback-column\""), "the column is explained under the table");
    // And its dashboard's table by offer.
    let html = page(&app, &publisher, "/publisher").await;
    assert_eq!(row(&html, "by-offer", "Solar quotes")["fallback_clicks"], "5");

    // The advertiser's CSV has the breakdown as columns.
    let (status, csv) = app.get_text(&adv, "/advertiser/reports?group_by=offer&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    let (_, rows) = parse_csv(&csv);
    let line = rows.iter().find(|r| r["offer"] == m.offer_id.to_string()).expect("the offer's line");
    let got: Vec<&str> =
        ["fallback_clicks", "off_target_clicks", "blocked_clicks"].iter().map(|c| line[*c].as_str()).collect();
    assert_eq!(got, ["5", "3", "1"]);

    // So does the stats API.
    let key = common::api_key(&app, m.publisher_id);
    let (status, stats) = common::call(&app, reqwest::Method::GET, &key, "/stats?group_by=offer", None).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let got = |v: &serde_json::Value| {
        ["fallback_clicks", "off_target_clicks", "blocked_clicks"].map(|c| v[c].as_i64().unwrap_or(-1))
    };
    assert_eq!((got(&stats["rows"][0]), got(&stats["totals"])), ([5, 3, 1], [5, 3, 1]), "{stats}");
}

/// DESIGN §9: the suspicious-traffic page flags a publisher whose settled leads
/// came from datacenter addresses, with a link to those leads.
async fn a_publisher_with_leads_from_datacenters_is_flagged_with_its_evidence(backend: Backend) {
    let app = common::spawn_app_with(backend, &[("QUALEAD_SETTLE_INTERVAL_SECS", "3600")]).await;
    let terms = Terms { hold_hours: 0, required_fields: vec!["email".into()], ..Terms::default() };
    let m = Market::of(&OfferBody { terms, ..solar_offer("2.00") }).deposit(100_00).seed(&app.db.url);
    // 8 of 12 leads from AWS addresses (66.67 % of the leads the rule checked).
    for i in 1..=8 {
        lead_from(&app, &m, &format!("3.5.140.{i}"), &format!("cloud{i}@example.com")).await;
    }
    for i in 1..=4 {
        lead_from(&app, &m, &format!("84.128.3.{i}"), &format!("home{i}@example.com")).await;
    }
    let s = settle_due(&mut app.conn(), now(), BATCH).expect("settle");
    assert_eq!((s.approved, s.rejected), (4, 8), "{s:?}");

    let admin = app.login_as("admin", "ops@example.com").await;
    let (status, html) = app.get_text(&admin, "/admin/traffic").await;
    assert_eq!(status, StatusCode::OK);
    let suspect = html
        .split(&format!("data-suspect=\"{}\"", m.publisher_id))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("the publisher is not ranked:\n{html}"));
    assert!(suspect.contains(">datacenter addresses 66.67 %</a>"), "{suspect}");
    assert!(suspect.contains("title=\"8 of 12 leads the rule “Datacenter address” checked failed it\""), "{suspect}");
    assert!(suspect.contains("data-signal=\"scrub_rate\""), "8 of 12 rejected: {suspect}");
    assert!(!suspect.contains("data-signal=\"duplicate_click\""), "no such check yet: {suspect}");
    // Twelve leads right after their clicks: click injection, linked to its row below.
    assert!(suspect.contains(&format!("#ctit-{}\"", m.publisher_id)), "{suspect}");
    assert!(html.contains(&format!("<tr id=\"ctit-{}\"", m.publisher_id)), "the anchor of the evidence");
    assert!(html.contains("hosting or cloud address (rule “Datacenter address”)"), "the threshold in words");

    // The evidence: the publisher's leads that failed the rule, and only those.
    let href = suspect
        .split("data-signal=\"datacenter_ip\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the evidence link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert_eq!(href, format!("/admin/leads?publisher_id={}&rule=datacenter_ip", m.publisher_id));
    let (status, list) = app.get_text(&admin, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("Leads of publisher Seeded (seed-pub-")
            && list.contains("that failed the rule “Datacenter address”"),
        "{list}"
    );
    assert_eq!(list.matches("<span class=\"badge status-rejected\">").count(), 8, "{list}");
    assert!(!list.contains("status-approved"), "the home leads passed: {list}");
    // The filter keeps to the publisher: another publisher has none of them.
    let (_, other) = app.get_text(&admin, "/admin/leads?publisher_id=999999&rule=datacenter_ip").await;
    assert!(other.contains("No leads match."), "{other}");
    // The overview's section, from the rollups alone, points at the page.
    let (_, home) = app.get_text(&admin, "/admin").await;
    assert!(home.contains("href=\"/admin/traffic?"), "{home}");
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
    clicks_sent_to_the_fallback_count_as_such_in_reports,
    a_publisher_with_leads_from_datacenters_is_flagged_with_its_evidence,
);
