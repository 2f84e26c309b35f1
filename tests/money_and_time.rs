//! Money with its currency and times in the viewer's zone (issue 33): a lead's
//! times are shown in each reader's time zone, which every page names once; the
//! network currency's sign is on the balance page; CSV files keep plain decimals
//! and say their currency in a column of their own.

// Money is written in minor units grouped as major_minor (1_234_50 is 1,234.50).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use chrono::{NaiveDate, NaiveDateTime};
use common::reports::parse_csv;
use common::{Backend, Market, solar_offer, spawn_app, spawn_app_with};
use qualead::store::ledger::{self, Posting, Transfer};
use qualead::store::{leads, users};
use reqwest::StatusCode;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 0)).expect("a time")
}

/// The footer's line naming the page's zone.
fn zone_line(html: &str) -> String {
    let re = regex::Regex::new(r#"<p class="zone" data-zone="([^"]+)">Times in ([^<]+)\.</p>"#).expect("re");
    let c = re.captures(html).unwrap_or_else(|| panic!("no zone line in {html}"));
    assert_eq!(c[2].split(' ').next(), Some(&c[1]), "the line names the zone of its data-zone");
    c[2].to_string()
}

/// The zone's offset now, as the footer writes it (`+09:00`, `-05:00`).
fn offset_now(zone: &str) -> String {
    use chrono::{TimeZone, Utc};
    let tz: chrono_tz::Tz = zone.parse().expect("zone");
    tz.from_utc_datetime(&Utc::now().naive_utc()).format("%:z").to_string()
}

/// A lead received at 03:40 UTC on 7 December reads 22:40 on the 6th in New York
/// and 12:40 on the 7th in Tokyo, on its page and in the lead list; each page names
/// its reader's zone once.
async fn lead_pages_show_times_in_the_readers_zone(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&solar_offer("10.00")).deposit(100_00).seed(&app.db.url);
    let mut conn = app.conn();
    users::update_profile(&mut conn, m.advertiser_id, "Ann Lee", "SunPeak", "America/New_York").expect("profile");
    users::update_profile(&mut conn, m.publisher_id, "Kenji Sato", "Kenji Media", "Asia/Tokyo").expect("profile");
    let received = at(2026, 12, 7, 3, 40);
    let lead = leads::NewLead {
        created_at: received,
        updated_at: received,
        hold_until: at(2026, 12, 10, 3, 40),
        ..common::new_lead(&m, m.publisher_id)
    };
    // Accepted as intake does it: the price reserved in escrow.
    let reserve = [Transfer::new(ledger::advertiser(m.advertiser_id), ledger::escrow(m.advertiser_id), 10_00)];
    let id = conn.write_tx(|c| leads::insert_many(c, &[lead])).expect("lead")[0].0;
    let posting = Posting { kind: "lead_accepted", lead_id: Some(id), actor_id: None, memo: "test" };
    ledger::post(&mut conn, &posting, &reserve).map_err(|e| format!("{e:?}")).expect("reserved");
    drop(conn);

    let adv = app.session_of(m.advertiser_id).await;
    let (status, page) = app.get_text(&adv, &format!("/advertiser/leads/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("received 2026-12-06 22:40 via"), "{page}");
    assert!(page.contains("<dt>Hold ends</dt><dd>2026-12-09 22:40</dd>"), "{page}");
    assert!(!page.contains("03:40"), "no UTC time left on the page: {page}");
    assert_eq!(zone_line(&page), format!("America/New_York (UTC{})", offset_now("America/New_York")));
    assert_eq!(page.matches("America/New_York").count(), 2, "named once (and in its data attribute)");
    let (_, list) = app.get_text(&adv, "/advertiser/leads").await;
    assert!(list.contains("<td>2026-12-06 22:40</td>") && list.contains("until 2026-12-09 22:40"), "{list}");

    let publisher = app.session_of(m.publisher_id).await;
    let (status, page) = app.get_text(&publisher, &format!("/publisher/leads/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("received 2026-12-07 12:40 via"), "{page}");
    assert!(page.contains("<dt>Hold ends</dt><dd>2026-12-10 12:40</dd>"), "{page}");
    assert_eq!(zone_line(&page), "Asia/Tokyo (UTC+09:00)");
    let (_, list) = app.get_text(&publisher, "/publisher/leads").await;
    assert!(list.contains("<td>2026-12-07 12:40</td>"), "{list}");
    // The publisher reads its payout with the currency.
    assert!(page.contains("<dd class=\"money\">$8.00 <span"), "{page}");

    // A reader in UTC sees UTC, named as such.
    let admin = app.login_as("admin", "zones-admin@example.com").await;
    let (_, page) = app.get_text(&admin, &format!("/admin/leads/{id}")).await;
    assert!(page.contains("received 2026-12-07 03:40 via"), "{page}");
    assert_eq!(zone_line(&page), "UTC");
}

/// With the network currency set to euros, the balance page shows `€` amounts
/// grouped in thousands; the report CSV keeps plain decimals and names the currency.
async fn the_network_currency_is_shown_with_its_sign(backend: Backend) {
    let app = spawn_app_with(backend, &[("QUALEAD_CURRENCY", "EUR")]).await;
    let m = Market::of(&solar_offer("12.50")).deposit(1_234_50).seed(&app.db.url);
    let adv = app.session_of(m.advertiser_id).await;
    let (status, page) = app.get_text(&adv, "/advertiser/balance").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<p class="big money">€1,234.50</p>"#), "{page}");
    assert!(page.contains(r#"<p class="big money">€0.00</p>"#), "nothing in escrow: {page}");
    assert!(!page.contains("1234.50"), "no amount without its currency: {page}");
    let (_, offer) = app.get_text(&adv, &format!("/advertiser/offers/{}", m.offer_id)).await;
    assert!(offer.contains("€12.50 per lead"), "{offer}");

    let cid = common::click_through(&app, &common::visitor(common::BROWSER), &m.token, "").await;
    common::accepted_lead(&app, &m.postback_token, &cid, &[]).await;
    let (_, page) = app.get_text(&adv, "/advertiser/balance").await;
    assert!(page.contains(r#"<p class="big money">€1,222.00</p>"#), "{page}");
    assert!(page.contains(r#"<p class="big money">€12.50</p>"#), "the lead's price in escrow: {page}");

    let r = app.get_with(&adv, "/advertiser/reports?group_by=offer&format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let (header, rows) = parse_csv(&r.text().await.expect("body"));
    assert_eq!(header.last().map(String::as_str), Some("currency"), "{header:?}");
    let line = rows.iter().find(|r| r.get("offer") == Some(&m.offer_id.to_string())).expect("the offer's line");
    assert_eq!(line.get("pending_cost").map(String::as_str), Some("12.50"), "{line:?}");
    assert_eq!(line.get("currency").map(String::as_str), Some("EUR"), "{line:?}");
}

/// Roubles: the sign after the amount in Russian, before it in English pages today.
async fn roubles_are_shown_with_their_sign(backend: Backend) {
    let app = spawn_app_with(backend, &[("QUALEAD_CURRENCY", "RUB")]).await;
    let m = Market::of(&solar_offer("300.00")).deposit(12_500_00).seed(&app.db.url);
    let adv = app.session_of(m.advertiser_id).await;
    let (_, page) = app.get_text(&adv, "/advertiser/balance").await;
    assert!(page.contains(r#"<p class="big money">₽12,500.00</p>"#), "{page}");
    let (_, home) = app.get_text(&adv, "/advertiser").await;
    assert!(home.contains(r#"data-balance="available">₽12,500.00<"#), "{home}");
}

both_backends!(
    lead_pages_show_times_in_the_readers_zone,
    the_network_currency_is_shown_with_its_sign,
    roubles_are_shown_with_their_sign
);
