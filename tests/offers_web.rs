//! Offers in the browser (server-rendered forms over real HTTP): an advertiser
//! posts, an admin reviews, a publisher finds, joins and takes its links.

mod common;

use common::{Backend, TestApp, csrf_of, spawn_app};
use reqwest::StatusCode;

fn offer_form<'a>(landing: &'a str, intent: &'a str, visibility: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Roof repair leads"),
        ("description", "Homeowners who need a roofer"),
        ("category", "home"),
        ("visibility", visibility),
        ("timezone", "America/New_York"),
        ("landing_url", landing),
        ("fallback_url", "https://roof.example/"),
        ("payout_model", "cpl"),
        ("price", "25.00"),
        ("events", "lead"),
        ("cap_daily", "50"),
        ("daily_budget", "1000.00"),
        ("required_fields", "name"),
        ("required_fields", "phone"),
        ("hold_hours", "48"),
        ("return_window_days", "5"),
        ("max_return_rate_pct", "15"),
        ("conversion_window_days", "30"),
        ("allowed_countries", "US, CA"),
        ("duplicate_days", "30"),
        ("duplicate_scope", "offer"),
        ("min_seconds", "5"),
        ("max_leads_per_ip", "3"),
        ("duplicate_click_minutes", "15"),
        ("duplicate_click_flag", "3"),
        ("duplicate_click_reject", "10"),
        ("min_score", "0"),
        ("check_email", "1"),
        ("check_phone", "1"),
        ("block_bots", "1"),
        ("intent", intent),
    ]
}

/// A server with a logged-in advertiser, admin and publisher (in that order).
async fn app_with_three_roles(backend: Backend) -> (TestApp, reqwest::Client, reqwest::Client, reqwest::Client) {
    let app = spawn_app(backend).await;
    let adv = app.login_as("advertiser", "adv@example.com").await;
    let admin = app.login_as("admin", "admin@example.com").await;
    let publisher = app.login_as("publisher", "pub@example.com").await;
    (app, adv, admin, publisher)
}

/// The advertiser's new-offer form, sent with `offer_form(landing, intent, visibility)`.
async fn post_offer(
    app: &TestApp,
    adv: &reqwest::Client,
    landing: &str,
    intent: &str,
    visibility: &str,
) -> reqwest::Response {
    app.submit(adv, "/advertiser/offers/new", "/advertiser/offers", &offer_form(landing, intent, visibility)).await
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn advertiser_posts_admin_approves_publisher_joins(backend: Backend) {
    let (app, adv, admin, publisher) = app_with_three_roles(backend).await;

    // A bad landing URL: the form comes back with the error inline and every value kept.
    let r = post_offer(&app, &adv, "javascript:alert(1)", "submit", "public").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("body");
    assert!(page.contains("Only http:// and https:// addresses are allowed."), "inline error");
    for kept in [
        "value=\"Roof repair leads\"",
        "value=\"25.00\"",
        "value=\"US, CA\"",
        "value=\"1000.00\"",
        "value=\"America/New_York\"",
    ] {
        assert!(page.contains(kept), "{kept} kept");
    }
    assert!(page.contains(r#"value="phone" checked"#), "ticked boxes stay ticked");

    let r = post_offer(&app, &adv, "https://roof.example/quote?cid={click_id}&s={sub1}", "submit", "public").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let offer_path = location(&r);
    let id: i64 = offer_path.rsplit('/').next().and_then(|s| s.parse().ok()).expect("offer id");
    let (_, page) = app.get_text(&adv, &offer_path).await;
    assert!(page.contains("status-pending_review\">pending review</span>"), "the status in words");
    assert!(page.contains("/postback?click_id={click_id}&#38;token="), "postback URL for the advertiser");
    assert!(page.contains(&format!("/px/{id}.gif?event=lead")), "pixel code");
    assert!(page.contains("data-copy=\"postback-url\""), "copy button");

    // Only the admin reviews; a rejection needs a note.
    assert_eq!(app.get_with(&adv, "/admin/offers").await.status(), StatusCode::FORBIDDEN);
    let (_, queue) = app.get_text(&admin, "/admin/offers").await;
    assert!(queue.contains("Roof repair leads"));
    let (_, overview) = app.get_text(&admin, "/admin").await;
    assert!(overview.contains("1 new offer and 0 changes waiting for review"), "the overview says so: {overview}");
    let r = app
        .submit(
            &admin,
            &format!("/admin/offers/{id}"),
            &format!("/admin/offers/{id}/review"),
            &[("decision", "reject")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&admin, &format!("/admin/offers/{id}")).await;
    assert!(page.contains("Say what the advertiser must change."), "flash explains the missing note");
    let r = app
        .submit(
            &admin,
            &format!("/admin/offers/{id}"),
            &format!("/admin/offers/{id}/review"),
            &[("decision", "approve"), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.wait_for_email("adv@example.com", "is live").await;
    let (_, audit) = app.get_text(&admin, "/admin/audit").await;
    assert!(audit.contains("offer.approve"));

    // The admin overrides the fee: the publisher's payout follows.
    let r = app
        .submit(&admin, &format!("/admin/offers/{id}"), &format!("/admin/offers/{id}/fee"), &[("fee_bps", "1000")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The publisher finds it with filters, reads the terms, joins, gets links.
    let (_, market) = app.get_text(&publisher, "/publisher/offers?category=home&country=US&payout_model=cpl").await;
    assert!(market.contains("Roof repair leads") && market.contains("22.50 per lead"), "25.00 minus a 10 % fee");
    let (_, other) = app.get_text(&publisher, "/publisher/offers?country=FR").await;
    assert!(!other.contains("Roof repair leads"));
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{id}")).await;
    assert!(page.contains("held for 48 hours") && page.contains("Only traffic from US, CA"));
    assert!(
        page.contains(
            "Repeated clicks: a lead whose click follows more than 3 clicks from the same IP address and browser on \
             this link within 15 minutes is flagged (its quality score drops); after more than 10, it is rejected."
        ),
        "the repeated-click rule in plain words: {page}"
    );
    assert!(!page.contains("25.00"), "publishers see the payout, not the price");
    let r =
        app.submit(&publisher, &format!("/publisher/offers/{id}"), &format!("/publisher/offers/{id}/join"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{id}")).await;
    let link = regex::Regex::new(&format!(r#"{}/c/([A-Za-z0-9_\-]{{22,}})"#, regex::escape(&app.address)))
        .expect("re")
        .captures(&page)
        .expect("tracking link")[1]
        .to_string();
    assert!(page.contains(&format!("/aff_c?offer_id={id}&#38;aff_id=")), "HasOffers alias");
    let (_, links) = app.get_text(&publisher, "/publisher/links").await;
    assert!(links.contains(&link));

    // The publisher's postback template: unknown macros refused, good ones kept.
    let r = app
        .submit(
            &publisher,
            &format!("/publisher/offers/{id}"),
            &format!("/publisher/offers/{id}/postback"),
            &[("postback_template", "https://t.example/pb?x={secret}")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{id}")).await;
    assert!(page.contains("Unknown macro {secret}"));
    let good = "https://t.example/pb?cid={click_id}&s={status}&p={payout}";
    app.submit(
        &publisher,
        &format!("/publisher/offers/{id}"),
        &format!("/publisher/offers/{id}/postback"),
        &[("postback_template", good)],
    )
    .await;
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{id}")).await;
    assert!(page.contains("https://t.example/pb?cid={click_id}&#38;s={status}&#38;p={payout}"));

    // The advertiser pauses it, then another advertiser cannot open it at all.
    let r = app.submit(&adv, &offer_path, &format!("/advertiser/offers/{id}/status"), &[("status", "paused")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&adv, &offer_path).await;
    assert!(page.contains("badge status-paused"));
    let other_adv = app.login_as("advertiser", "other@example.com").await;
    assert_eq!(app.get_with(&other_adv, &offer_path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&other_adv, &format!("{offer_path}/edit")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&publisher, &offer_path).await.status(), StatusCode::FORBIDDEN);
}

async fn approval_offer_in_the_browser(backend: Backend) {
    let (app, adv, admin, publisher) = app_with_three_roles(backend).await;
    let r = post_offer(&app, &adv, "https://roof.example/", "draft", "approval").await;
    let offer_path = location(&r);
    let id = offer_path.rsplit('/').next().expect("id").to_string();
    let (_, page) = app.get_text(&adv, &offer_path).await;
    assert!(page.contains("badge status-draft"));
    // Edit the draft: the form comes pre-filled with what was saved.
    let (_, edit) = app.get_text(&adv, &format!("{offer_path}/edit")).await;
    assert!(edit.contains("value=\"Roof repair leads\"") && edit.contains("value=\"US, CA\""));
    let mut changed = offer_form("https://roof.example/v2?c={click_id}", "", "approval");
    changed[0] = ("name", "Roof repair leads v2");
    let r = app.submit(&adv, &format!("{offer_path}/edit"), &format!("{offer_path}/edit"), &changed).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.submit(&adv, &offer_path, &format!("/advertiser/offers/{id}/status"), &[("status", "pending_review")]).await;
    app.submit(
        &admin,
        &format!("/admin/offers/{id}"),
        &format!("/admin/offers/{id}/review"),
        &[("decision", "approve")],
    )
    .await;

    let r =
        app.submit(&publisher, &format!("/publisher/offers/{id}"), &format!("/publisher/offers/{id}/join"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{id}")).await;
    assert!(page.contains("badge status-pending") && !page.contains("/c/"), "no link while pending");
    app.wait_for_email("adv@example.com", "applied to run").await;

    let (_, page) = app.get_text(&adv, &offer_path).await;
    assert!(page.contains("pub@example.com"));
    let pid = regex::Regex::new(&format!(r#"/advertiser/offers/{id}/publishers/(\d+)"#))
        .expect("re")
        .captures(&page)
        .expect("decision form")[1]
        .to_string();
    let token = csrf_of(&page);
    let r = app
        .post_form(
            &adv,
            &format!("/advertiser/offers/{id}/publishers/{pid}"),
            &[("decision", "approve"), ("csrf_token", &token)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.wait_for_email("pub@example.com", "You can run").await;
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{id}")).await;
    assert!(page.contains("/c/") && page.contains("Roof repair leads v2"));
}

both_backends!(advertiser_posts_admin_approves_publisher_joins, approval_offer_in_the_browser);
