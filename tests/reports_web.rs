//! Dashboards and reports in the browser (DESIGN §9), over real HTTP on both
//! backends: real clicks through a publisher's link (with sub values, some of them
//! repeated by the same browser), conversions by the advertiser's postback, a
//! settlement run after the hold; then each role's dashboard, report pages and CSV
//! files show the right numbers, only the money that role may see, in the viewer's
//! timezone; bad input is a 400 page, and nobody reads another advertiser's offer.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeZone, Utc};
use common::reports::{captured, page, parse_csv, row};
use common::{Backend, Market, PASSWORD, TestApp, spawn_app_with};
use qualead::domain::offer::{OfferBody, Terms};
use qualead::store::users;
use reqwest::StatusCode;

const BROWSER: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

/// The price of a lead; at the default 20 % fee the platform keeps 7.40 and the
/// publisher earns 29.60.
const PRICE: &str = "37.00";
const FEE: &str = "7.40";
const PAYOUT: &str = "29.60";
// The same amounts as pages show them (the network currency, USD).
const PRICE_SHOWN: &str = "$37.00";
const FEE_SHOWN: &str = "$7.40";
const PAYOUT_SHOWN: &str = "$29.60";

/// A server whose settlement timer never fires during a test.
async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[("QUALEAD_SETTLE_INTERVAL_SECS", "86400")]).await
}

fn offer(name: &str) -> OfferBody {
    OfferBody {
        terms: Terms { required_fields: vec![], hold_hours: 1, ..Terms::default() },
        ..common::cpl_offer(name, PRICE)
    }
}

/// A market with money on the advertiser's balance, and a logged-in browser for
/// its advertiser and its publisher.
struct Side {
    m: Market,
    adv: reqwest::Client,
    publisher: reqwest::Client,
}

async fn side(app: &TestApp, name: &str) -> Side {
    let (m, adv, publisher, _) = common::signed_in_market(app, &offer(name), 1000_00, PASSWORD).await;
    Side { m, adv, publisher }
}

/// A visitor's browser at its own address `ip` (through the trusted loopback
/// proxy): keeps the click cookie, so its second click on an offer is not unique
/// (nor would it be from the same address and browser without the cookie).
fn visitor(ip: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().expect("header value"));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent(BROWSER)
        .default_headers(headers)
        .build()
        .expect("client")
}

/// A click through the publisher's link with `query` (sub values); the click id.
async fn click(app: &TestApp, browser: &reqwest::Client, m: &Market, query: &str) -> String {
    common::click_through(app, browser, &m.token, query).await
}

/// The advertiser's postback for a click; the lead id.
async fn convert(app: &TestApp, m: &Market, click_id: &str, email: &str) -> i64 {
    common::accepted_lead(app, &m.postback_token, click_id, &[("email", email), ("name", "Ann Lee")]).await
}

/// Settlement as the server's timer would run it, after the hold.
fn settle_after_hold(app: &TestApp) {
    let at = qualead::store::now() + chrono::Duration::hours(2);
    let s = qualead::settlement::run::settle_due(&mut app.conn(), at, qualead::settlement::run::BATCH).expect("run");
    assert_eq!((s.approved, s.rejected), (1, 1), "one lead passes, the one with a bad e-mail fails");
}

/// The traffic of every test: five clicks (three unique), sub2 `spring` on two and
/// `summer` on three; a good lead on a `spring` click and a lead with a bad e-mail
/// on a `summer` one; both settled.
async fn traffic(app: &TestApp, m: &Market) {
    let (a, b, c) = (visitor("84.128.3.4"), visitor("84.128.3.5"), visitor("84.128.3.6"));
    let good = click(app, &a, m, "sub1=blog&sub2=spring").await;
    click(app, &a, m, "sub1=blog&sub2=spring").await;
    let bad = click(app, &b, m, "sub1=blog&sub2=summer").await;
    click(app, &c, m, "sub1=news&sub2=summer").await;
    click(app, &c, m, "sub1=news&sub2=summer").await;
    convert(app, m, &good, "ann.lee@example.org").await;
    convert(app, m, &bad, "not-an-email").await;
    settle_after_hold(app);
}

/// The value of the KPI card `key` of a dashboard.
fn kpi(html: &str, key: &str) -> String {
    captured(html, &format!(r#"(?s)data-kpi="{key}">.*?<p class="kpi-value">([^<]*)</p>"#), &format!("KPI {key}"))
}

/// A CSV file: its header and rows as maps by column name.
struct Csv {
    header: Vec<String>,
    rows: Vec<HashMap<String, String>>,
}

async fn csv(app: &TestApp, client: &reqwest::Client, path: &str) -> Csv {
    let r = app.get_with(client, path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = r.headers()["content-disposition"].to_str().expect("header").to_string();
    assert!(
        regex::Regex::new(r#"^attachment; filename="qualead-[a-z0-9]+-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv"$"#)
            .expect("re")
            .is_match(&disposition),
        "{disposition}"
    );
    let (header, rows) = parse_csv(&r.text().await.expect("body"));
    Csv { header, rows }
}

impl Csv {
    fn find(&self, column: &str, value: &str) -> &HashMap<String, String> {
        self.rows
            .iter()
            .find(|r| r.get(column).map(String::as_str) == Some(value))
            .unwrap_or_else(|| panic!("no row with {column}={value} in {:?}", self.rows))
    }
}

fn cells(r: &HashMap<String, String>, names: &[&str]) -> Vec<String> {
    names.iter().map(|n| r.get(*n).cloned().unwrap_or_else(|| format!("<no {n}>"))).collect()
}

/// The `href` of the CSV link of a dashboard table (unescaped).
fn csv_link(html: &str, table: &str) -> String {
    captured(
        html,
        &format!(r#"(?s)id="{table}">.*?<a class="csv-link" href="([^"]+)""#),
        &format!("CSV link in table {table}"),
    )
    .replace("&amp;", "&")
    .replace("&#38;", "&")
}

/// Each role's dashboard answers "how am I doing": the right clicks, leads and
/// money, a chart, the tables with their CSV files; the publisher's page never
/// shows a price or a fee.
async fn every_role_sees_its_numbers(backend: Backend) {
    let app = app(backend).await;
    let s = side(&app, "Rooftop solar").await;
    let admin = app.login_as("admin", "reports-admin@example.com").await;
    traffic(&app, &s.m).await;

    // The publisher.
    let html = page(&app, &s.publisher, "/publisher").await;
    assert!(html.contains("<svg class=\"chart chart-wide\""), "a chart drawn on the server");
    assert!(html.contains("Earned (USD)"), "the money line names its currency");
    assert_eq!(kpi(&html, "clicks"), "5");
    assert_eq!(kpi(&html, "unique_clicks"), "3");
    assert_eq!(kpi(&html, "leads"), "2");
    assert_eq!(kpi(&html, "approved"), "1");
    assert_eq!(kpi(&html, "earned"), PAYOUT_SHOWN);
    assert_eq!(kpi(&html, "pending_earnings"), "$0.00");
    assert_eq!(kpi(&html, "epc"), "$5.92", "29.60 / 5 clicks");
    assert_eq!(kpi(&html, "cr"), "40.00 %");
    let by_offer = row(&html, "by-offer", "Rooftop solar");
    assert_eq!(
        cells(&by_offer, &["clicks", "leads", "approved", "rejected", "payout"]),
        ["5", "2", "1", "1", PAYOUT_SHOWN]
    );
    let by_sub1 = row(&html, "by-sub", "blog");
    assert_eq!(cells(&by_sub1, &["clicks", "leads", "payout"]), ["3", "2", PAYOUT_SHOWN]);
    assert!(html.contains(r#"data-balance="available">$29.60<"#), "the balance to request");
    assert!(html.contains("href=\"/publisher/payouts\""));
    for secret in [PRICE, FEE, "963.00"] {
        assert!(!html.contains(secret), "the publisher's dashboard shows {secret}");
    }
    // The sub table switches to sub2.
    let html = page(&app, &s.publisher, "/publisher?sub=2").await;
    assert_eq!(
        cells(&row(&html, "by-sub", "spring"), &["clicks", "unique_clicks", "payout"]),
        ["2", "1", PAYOUT_SHOWN]
    );
    assert_eq!(cells(&row(&html, "by-sub", "summer"), &["clicks", "rejected", "payout"]), ["3", "1", "$0.00"]);
    let sub_csv = csv_link(&html, "by-sub");
    assert!(sub_csv.contains("group_by=sub2") && sub_csv.contains("format=csv"), "{sub_csv}");
    let file = csv(&app, &s.publisher, &sub_csv).await;
    assert_eq!(file.header[0], "sub2");
    assert!(file.header.contains(&"payout".to_string()) && file.header.contains(&"epc".to_string()));
    assert!(!file.header.iter().any(|h| ["fee", "revenue", "cost_per_lead", "pending_cost"].contains(&h.as_str())));
    assert_eq!(
        cells(file.find("sub2", "spring"), &["clicks", "leads", "approved", "payout", "epc"]),
        ["2", "1", "1", PAYOUT, "14.80"]
    );
    assert_eq!(
        cells(file.find("sub2", "summer"), &["clicks", "unique_clicks", "rejected", "scrub_rate"]),
        ["3", "2", "1", "100.00"]
    );
    // The publisher's report page by sub2.
    let html = page(&app, &s.publisher, "/publisher/reports?group_by=sub2").await;
    assert!(html.contains("<svg") && html.contains("spring") && html.contains("summer"));
    assert!(html.contains("Download CSV") && html.contains("<tfoot>"));
    for secret in [PRICE, FEE] {
        assert!(!html.contains(secret), "the publisher's report shows {secret}");
    }

    // The advertiser.
    let html = page(&app, &s.adv, "/advertiser").await;
    assert!(html.contains("<svg class=\"chart chart-wide\"") && html.contains("Spend (USD)"));
    assert_eq!(kpi(&html, "clicks"), "5");
    assert_eq!(kpi(&html, "leads"), "2");
    assert_eq!(kpi(&html, "spend"), PRICE_SHOWN);
    assert_eq!(kpi(&html, "cost_per_lead"), PRICE_SHOWN);
    assert_eq!(kpi(&html, "scrub_rate"), "50.00 %");
    assert!(html.contains(r#"data-balance="available">$963.00<"#) && html.contains(r#"data-balance="escrow">$0.00<"#));
    assert!(html.contains("/advertiser/leads?status=pending"), "a link to the leads awaiting a decision");
    assert!(html.contains("/advertiser/offers/new"), "the offers are still there");
    let by_offer = row(&html, "by-offer", "Rooftop solar");
    assert_eq!(
        cells(&by_offer, &["approved", "rejected", "revenue", "scrub_rate", "return_rate"]),
        ["1", "1", PRICE_SHOWN, "50.00", "0.00"]
    );
    let by_publisher = row(&html, "by-publisher", "Seeded");
    assert_eq!(cells(&by_publisher, &["clicks", "leads", "revenue"]), ["5", "2", PRICE_SHOWN]);
    for secret in [PAYOUT, FEE] {
        assert!(!html.contains(secret), "the advertiser's dashboard shows {secret}");
    }
    let file = csv(&app, &s.adv, &csv_link(&html, "by-offer")).await;
    assert_eq!(&file.header[..3], ["offer", "label", "clicks"]);
    assert!(!file.header.iter().any(|h| ["payout", "fee", "epc"].contains(&h.as_str())));
    let offer_id = s.m.offer_id.to_string();
    assert_eq!(
        cells(file.find("offer", &offer_id), &["label", "clicks", "leads", "spend", "cost_per_lead"]),
        ["Rooftop solar", "5", "2", PRICE, PRICE]
    );
    let file = csv(&app, &s.adv, &csv_link(&html, "by-publisher")).await;
    assert_eq!(file.find("publisher", &s.m.publisher_id.to_string())["spend"], PRICE);
    assert!(!file.header.iter().any(|h| h == "revenue"), "the advertiser's CSV heads its spend `spend`");
    // The report page of one offer, and its CSV by day.
    let html = page(&app, &s.adv, &format!("/advertiser/reports?group_by=day&offer_id={offer_id}")).await;
    assert!(html.contains("<svg") && html.contains("Rooftop solar"));
    let file = csv(&app, &s.adv, &format!("/advertiser/reports?group_by=day&offer_id={offer_id}&format=csv")).await;
    assert_eq!(file.rows.len(), 30, "every day of the default range");
    assert_eq!(file.rows.iter().map(|r| r["clicks"].parse::<i64>().expect("n")).sum::<i64>(), 5);

    // The admin.
    let html = page(&app, &admin, "/admin").await;
    assert!(html.contains("<svg class=\"chart chart-wide\""));
    assert_eq!(kpi(&html, "clicks"), "5");
    assert_eq!(kpi(&html, "revenue"), PRICE_SHOWN);
    assert_eq!(kpi(&html, "payouts"), PAYOUT_SHOWN);
    assert_eq!(kpi(&html, "fees"), FEE_SHOWN);
    assert!(
        regex::Regex::new(r#"(?s)data-stat="fee_balance">.*?<p class="big money">\$7\.40</p>"#)
            .expect("re")
            .is_match(&html),
        "the platform fee account"
    );
    assert!(
        regex::Regex::new(r#"(?s)data-stat="open_disputes">.*?<p class="big ">0</p>"#).expect("re").is_match(&html),
        "the dispute queue"
    );
    assert_eq!(
        cells(&row(&html, "top-offers", "Rooftop solar"), &["revenue", "payout", "fee"]),
        [PRICE_SHOWN, PAYOUT_SHOWN, FEE_SHOWN]
    );
    assert_eq!(cells(&row(&html, "top-publishers", "Seeded"), &["clicks", "fee"]), ["5", FEE_SHOWN]);
    // Two duplicate clicks of five (40 %) and one lead of two scrubbed (50 %).
    let suspect = regex::Regex::new(&format!(r#"(?s)<tr data-suspect="{}">(.*?)</tr>"#, s.m.publisher_id))
        .expect("re")
        .captures(&html)
        .unwrap_or_else(|| panic!("the publisher is not in the suspicious traffic:\n{html}"))[1]
        .to_string();
    assert!(suspect.contains("40.00") && suspect.contains("duplicate clicks"), "{suspect}");
    assert!(suspect.contains("50.00") && suspect.contains("high scrub rate"), "{suspect}");
    assert!(!suspect.contains("intake refusals"), "{suspect}");
    // Each flag links to its evidence: the rejected leads of the publisher.
    let evidence = captured(&suspect, r#"data-signal="scrub_rate" href="([^"]+)""#, "the scrub rate's evidence")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert_eq!(evidence, format!("/admin/leads?publisher_id={}&status=rejected", s.m.publisher_id));
    let list = page(&app, &admin, &evidence).await;
    assert!(list.contains("Leads of publisher Seeded (seed-pub-"), "named by name and e-mail: {list}");
    assert_eq!(list.matches("<span class=\"badge status-rejected\">").count(), 1, "the one rejected lead: {list}");
    let file = csv(&app, &admin, &csv_link(&html, "top-publishers")).await;
    assert_eq!(
        cells(file.find("publisher", &s.m.publisher_id.to_string()), &["revenue", "payout", "fee"]),
        [PRICE, PAYOUT, FEE]
    );
    let html = page(&app, &admin, &format!("/admin/reports?group_by=publisher&offer_id={offer_id}")).await;
    assert!(html.contains("<svg") && html.contains(FEE));

    // Every role has its reports in the navigation.
    for (client, path) in [(&s.adv, "/advertiser"), (&s.publisher, "/publisher"), (&admin, "/admin")] {
        let html = page(&app, client, path).await;
        assert!(html.contains(&format!(r#"<a href="{path}/reports" "#)) && html.contains(">Reports</a>"), "{path}");
    }
}

/// A range without the traffic shows zeros; quick links and the range stay in
/// every link.
async fn a_range_without_traffic_shows_zeros(backend: Backend) {
    let app = app(backend).await;
    let s = side(&app, "Rooftop solar").await;
    traffic(&app, &s.m).await;
    let range = "from=2020-01-01&to=2020-01-31";
    let html = page(&app, &s.publisher, &format!("/publisher?{range}")).await;
    assert_eq!((kpi(&html, "clicks"), kpi(&html, "earned")), ("0".to_string(), "$0.00".to_string()));
    // The chart says so in words instead of drawing empty axes; the tables too.
    assert!(!html.contains("<svg") && html.contains("No clicks in this range yet — share your link"));
    assert!(html.contains("No traffic in this range."));
    assert!(csv_link(&html, "by-offer").contains(range), "the CSV link keeps the range");
    assert!(html.contains("7 days") && html.contains("90 days"));
    let html = page(&app, &s.adv, &format!("/advertiser?{range}")).await;
    assert_eq!((kpi(&html, "clicks"), kpi(&html, "spend")), ("0".to_string(), "$0.00".to_string()));
    assert!(!html.contains("<svg") && html.contains("No clicks in this range yet"));
    let file = csv(&app, &s.adv, &format!("/advertiser/reports?{range}&group_by=day&format=csv")).await;
    assert_eq!(file.rows.len(), 31);
    assert!(file.rows.iter().all(|r| r["clicks"] == "0" && r["spend"] == "0.00"));
    let file = csv(&app, &s.adv, &format!("/advertiser/reports?{range}&group_by=offer&format=csv")).await;
    assert!(file.rows.is_empty() && file.header[0] == "offer");
    // Ranges are compared with the period before.
    let html = page(&app, &s.publisher, "/publisher").await;
    assert!(html.contains("vs 0"), "the previous period had nothing");
}

/// Bad input is a 400 page saying what is wrong; an advertiser never reads another
/// advertiser's offer, and a publisher only its own offers.
async fn bad_input_and_other_peoples_offers_are_refused(backend: Backend) {
    let app = app(backend).await;
    let a = side(&app, "Rooftop solar").await;
    let b = side(&app, "Roof repair").await;
    traffic(&app, &a.m).await;
    let refused = |path: &'static str, needle: &'static str| (path, needle);
    for (path, needle) in [
        refused("/advertiser/reports?from=2026-13-01", "from must be a date"),
        refused("/advertiser/reports?from=nope&format=csv", "from must be a date"),
        refused("/advertiser/reports?group_by=week", "group_by must be one of"),
        refused("/advertiser/reports?offer_id=abc", "offer_id must be"),
        refused("/advertiser/reports?format=xls", "format must be"),
        refused("/advertiser/reports?from=2026-02-01&to=2026-01-01", "from must not be after to"),
        refused("/advertiser?to=2026-02-30", "to must be a date"),
    ] {
        let (status, html) = app.get_text(&a.adv, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(html.contains(needle), "{path}: {html}");
        assert!(!html.contains("<svg"), "{path}");
    }
    let (status, _) = app.get_text(&a.publisher, "/publisher?sub=9").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Advertiser B asks for A's offer: refused, on the page and in CSV, with no data.
    for format in ["", "&format=csv"] {
        for group in ["day", "offer", "publisher", "sub2"] {
            let path = format!("/advertiser/reports?group_by={group}&offer_id={}{format}", a.m.offer_id);
            let (status, body) = app.get_text(&b.adv, &path).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert!(!body.contains("spring") && !body.contains("Rooftop"), "{path}: {body}");
        }
    }
    // B's own reports do not count A's traffic.
    let html = page(&app, &b.adv, "/advertiser").await;
    assert_eq!(kpi(&html, "clicks"), "0");
    let file = csv(&app, &b.adv, "/advertiser/reports?group_by=sub2&format=csv").await;
    assert!(file.rows.is_empty(), "{:?}", file.rows);
    // A publisher narrows only to offers it joined.
    let (status, _) = app.get_text(&a.publisher, &format!("/publisher/reports?offer_id={}", b.m.offer_id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let file = csv(&app, &b.publisher, "/publisher/reports?group_by=offer&format=csv").await;
    assert!(file.rows.is_empty(), "B's publisher sees none of A's publisher's traffic");
    // Each role's reports are its own.
    assert_eq!(app.get_with(&a.publisher, "/advertiser/reports").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&a.adv, "/admin/reports").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&common::new_client(), "/publisher/reports").await.status(), StatusCode::SEE_OTHER);
}

/// Days are the viewer's: a click shows on its local date in Kiritimati (UTC+14)
/// and on another in Pago Pago (UTC−11).
async fn days_are_in_the_viewers_timezone(backend: Backend) {
    let app = app(backend).await;
    let s = side(&app, "Rooftop solar").await;
    let at = Utc::now().naive_utc();
    click(&app, &visitor("84.128.3.7"), &s.m, "sub1=tz").await;
    let local = |tz: &str, t: NaiveDateTime| {
        let tz: chrono_tz::Tz = tz.parse().expect("tz");
        Utc.from_utc_datetime(&t).with_timezone(&tz).naive_local()
    };
    let (east, west) = (local("Pacific/Kiritimati", at), local("Pacific/Pago_Pago", at));
    assert_ne!(east.date(), west.date(), "25 hours apart");
    let set_tz = |tz: &str| {
        let mut conn = app.conn();
        let u = users::find(&mut conn, s.m.publisher_id).expect("q").expect("publisher");
        users::update_profile(&mut conn, u.id, &u.display_name, &u.company, tz).expect("timezone");
    };
    let clicks_on = |day: chrono::NaiveDate| {
        let path = format!("/publisher/reports?group_by=day&from={day}&to={day}&format=csv");
        let client = s.publisher.clone();
        let app = &app;
        async move {
            let file = csv(app, &client, &path).await;
            assert_eq!(file.rows.len(), 1);
            assert_eq!(file.rows[0]["day"], day.to_string());
            file.rows[0]["clicks"].clone()
        }
    };

    set_tz("Pacific/Kiritimati");
    assert_eq!(clicks_on(east.date()).await, "1");
    assert_eq!(clicks_on(west.date()).await, "0");
    let file = csv(&app, &s.publisher, "/publisher/reports?group_by=hour&format=csv").await;
    assert_eq!(file.rows.len(), 1);
    assert_eq!(file.rows[0]["hour"], east.format("%Y-%m-%d %H:00").to_string(), "the local hour");
    let html = page(&app, &s.publisher, "/publisher").await;
    assert!(html.contains("Pacific/Kiritimati"), "the form names the zone");
    assert_eq!(kpi(&html, "clicks"), "1", "today in Kiritimati is in the default range");

    set_tz("Pacific/Pago_Pago");
    assert_eq!(clicks_on(west.date()).await, "1");
    assert_eq!(clicks_on(east.date()).await, "0");
    let html = page(&app, &s.publisher, &format!("/publisher?from={0}&to={0}", west.date())).await;
    assert_eq!(kpi(&html, "clicks"), "1");
}

both_backends!(
    every_role_sees_its_numbers,
    a_range_without_traffic_shows_zeros,
    bad_input_and_other_peoples_offers_are_refused,
    days_are_in_the_viewers_timezone,
);
