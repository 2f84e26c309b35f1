// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

//! Pages a new user reads (issue 33): the admin overview lists what waits for an
//! admin, each item linked and its party named by name and e-mail; the admin's lead
//! page names the publisher and the advertiser; error pages keep the navigation; the
//! offer form takes a CPS share in percent.

mod common;

use common::{Backend, Market, solar_offer, spawn_app};
use qualead::domain::account::AccountStatus;
use qualead::domain::offer::{self, OfferStatus};
use qualead::store::{disputes, offers, topups, users};
use reqwest::StatusCode;

/// The text of the overview's group `id` ("offers", "topups", …), or "" when absent.
fn group<'a>(html: &'a str, id: &str) -> &'a str {
    let Some(start) = html.find(&format!("data-waiting=\"{id}\"")) else { return "" };
    let rest = &html[start..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

async fn the_overview_lists_what_waits_with_names(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.login_as("admin", "ops@example.com").await;
    let (_, html) = app.get_text(&admin, "/admin").await;
    assert!(html.contains("Nothing waits for you"), "{html}");

    let m = Market::of(&solar_offer("5.00")).deposit(100_00).seed(&app.db.url);
    let mut c = app.conn();
    users::update_profile(&mut c, m.advertiser_id, "Ольга Петрова", "Solar GmbH", "UTC").expect("name");
    // A second offer of the advertiser, sent for review.
    let spec = offer::validate(&common::cpl_offer("Roof repairs", "9.00")).expect("valid");
    let waiting = offers::create(&mut c, m.advertiser_id, &spec).expect("offer");
    offers::set_status(&mut c, waiting.id, OfferStatus::Draft, OfferStatus::PendingReview, None).expect("submit");
    topups::create(&mut c, m.advertiser_id, 250_00, "bank transfer", "INV-9").expect("top-up");
    let newcomer = app.create_user("publisher", "chen.wei@example.cn");
    users::update_profile(&mut c, newcomer, "陈伟", "", "Asia/Shanghai").expect("name");
    users::set_status(&mut c, newcomer, AccountStatus::PendingApproval).expect("pending");
    // An approved lead the advertiser returns: an open dispute.
    let cid = common::click_through(&app, &common::visitor(common::BROWSER), &m.token, "").await;
    let lead_id = common::accepted_lead(&app, &m.postback_token, &cid, &[]).await;
    let lead = qualead::store::leads::find(&mut c, lead_id).expect("q").expect("lead");
    disputes::open(&mut c, &lead, "return", m.advertiser_id, "fake_contact", "").expect("dispute");
    drop(c);

    let (status, html) = app.get_text(&admin, "/admin").await;
    assert_eq!(status, StatusCode::OK);
    let olga = format!("Ольга Петрова ({})", m.advertiser_email);
    let offers = group(&html, "offers");
    assert!(offers.contains("Roof repairs") && offers.contains(&olga), "{offers}");
    assert!(offers.contains(&format!("href=\"/admin/offers/{}\"", waiting.id)), "{offers}");
    let funds = group(&html, "topups");
    assert!(funds.contains("250.00") && funds.contains("bank transfer") && funds.contains(&olga), "{funds}");
    let open = group(&html, "disputes");
    assert!(
        open.contains(&format!("/admin/leads/{lead_id}")) && open.contains("Solar quotes") && open.contains(&olga),
        "{open}"
    );
    let accounts = group(&html, "accounts");
    assert!(accounts.contains("陈伟 (chen.wei@example.cn)") && accounts.contains("publisher"), "{accounts}");
    assert!(group(&html, "changes").is_empty(), "no change waits, so the group is not shown");
    assert!(!html.contains("Nothing waits for you"));

    // The admin's lead page names both parties.
    let (_, lead) = app.get_text(&admin, &format!("/admin/leads/{lead_id}")).await;
    assert!(lead.contains(&olga), "{lead}");
    let publisher = users::find(&mut app.conn(), m.publisher_id).expect("q").expect("publisher");
    assert!(lead.contains(&format!("Seeded ({})", publisher.email)), "{lead}");
    assert!(!lead.contains(&format!("Publisher #{}", m.publisher_id)), "{lead}");
}

async fn error_pages_keep_the_navigation(backend: Backend) {
    let app = spawn_app(backend).await;
    let adv = app.login_as("advertiser", "ann@example.com").await;
    let (status, html) = app.get_text(&adv, "/advertiser/offers/987654").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found") && html.contains("Error 404"), "{html}");
    assert!(html.contains("href=\"/advertiser/leads\"") && html.contains("Log out"), "the nav is there: {html}");
    // A page of another role: not allowed, still in the layout.
    let (status, html) = app.get_text(&adv, "/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Not allowed") && html.contains("href=\"/advertiser/offers\""), "{html}");
    // A visitor's missing page offers the log-in.
    let (status, html) = app.get_text(&common::new_client(), "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("href=\"/login\"") && html.contains("Page not found"), "{html}");
    // The API keeps its JSON errors.
    let r = common::new_client().get(app.url("/api/v1/no-such-thing")).send().await.expect("api");
    assert!(r.headers()["content-type"].to_str().expect("type").starts_with("application/json"));
}

async fn the_offer_form_takes_a_cps_share_in_percent(backend: Backend) {
    let app = spawn_app(backend).await;
    let adv = app.login_as("advertiser", "shop@example.com").await;
    let mut form: Vec<(&str, &str)> = vec![
        ("name", "Garden shop"),
        ("category", "ecommerce"),
        ("duplicate_scope", "offer"),
        ("landing_url", "https://shop.example/"),
        ("payout_model", "cps"),
        ("rate_pct", "12.5"),
        ("events", "sale"),
        ("visibility", "public"),
        ("timezone", "UTC"),
        ("intent", "draft"),
    ];
    let (_, page) = app.get_text(&adv, "/advertiser/offers/new").await;
    assert!(page.contains("name=\"rate_pct\"") && !page.contains("basis points"), "{page}");
    let r = app.submit(&adv, "/advertiser/offers/new", "/advertiser/offers", &form).await;
    let status = r.status();
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
    let uid = users::find_by_email(&mut app.conn(), "shop@example.com").expect("q").expect("user").id;
    let mine = offers::list_for_advertiser(&mut app.conn(), uid).expect("offers");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].rate_bps, Some(1250));
    let (_, edit) = app.get_text(&adv, &format!("/advertiser/offers/{}/edit", mine[0].id)).await;
    assert!(edit.contains("name=\"rate_pct\" value=\"12.5\""), "{edit}");
    // More than 100 % or more than two decimals is refused in words, nothing stored.
    for bad in ["150", "12.555", "lots"] {
        form[5] = ("rate_pct", bad);
        let r = app.submit(&adv, "/advertiser/offers/new", "/advertiser/offers", &form).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let html = r.text().await.expect("body");
        assert!(html.contains("Enter the share of each sale in percent"), "{bad}: {html}");
    }
    assert_eq!(offers::list_for_advertiser(&mut app.conn(), uid).expect("offers").len(), 1);
}

both_backends!(
    the_overview_lists_what_waits_with_names,
    error_pages_keep_the_navigation,
    the_offer_form_takes_a_cps_share_in_percent
);
