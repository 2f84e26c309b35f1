//! `/c/{token}` and `/aff_c` against a real server: the redirect, the stored click,
//! fallbacks with their reasons, malformed input, and group commit under load.

mod common;

use common::{Backend, TestApp, spawn_app, spawn_app_with};
use qualead::domain::offer::OfferStatus;
use qualead::store::{clicks, offers};
use reqwest::StatusCode;

fn setup(
    app: &TestApp,
    landing: &str,
    fallback: Option<&str>,
    membership: offers::MembershipStatus,
) -> common::SeededOffer {
    common::seed_offer(&app.db.url, landing, fallback, membership)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn a_click_redirects_with_macros_and_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = setup(
        &app,
        "https://land.example/q?cid={click_id}&o={offer_id}&p={publisher_id}&s={sub1}&src={source}",
        None,
        offers::MembershipStatus::Approved,
    );
    let r = client()
        .get(app.url(&format!("/c/{}?sub1=a%20b&sub5=five&source=fb", s.token)))
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Test")
        .header("referer", "https://blog.example/post")
        .header("x-forwarded-for", "6.6.6.6, 203.0.113.5")
        .header("cf-ipcountry", "de")
        .send()
        .await
        .expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = location(&r);
    let click_id =
        regex::Regex::new(r"cid=([A-Za-z0-9_\-]{26})&").expect("re").captures(&loc).expect("click id in landing URL")
            [1]
        .to_string();
    assert_eq!(
        loc,
        format!("https://land.example/q?cid={click_id}&o={}&p={}&s=a+b&src=fb", s.offer_id, s.publisher_id)
    );
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").to_string();
    assert!(cookie.starts_with(&format!("ql_c{}={click_id}", s.offer_id)) && cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    // A redirect carries no document: the referrer policy (it governs the request to
    // the landing page) but none of the document headers pages get.
    assert_eq!(r.headers()["referrer-policy"], "strict-origin-when-cross-origin");
    for h in ["content-security-policy", "x-frame-options", "permissions-policy"] {
        assert!(r.headers().get(h).is_none(), "{h} on a redirect");
    }

    // The redirect was sent, so the click is in the database.
    let stored = clicks::find(&mut app.conn(), &click_id).expect("query").expect("the click is stored");
    assert_eq!((stored.offer_id, stored.publisher_id), (s.offer_id, s.publisher_id));
    assert_eq!((stored.sub1.as_str(), stored.sub5.as_str(), stored.source.as_str()), ("a b", "five", "fb"));
    assert_eq!(stored.ip, "203.0.113.5", "the right-most X-Forwarded-For that is not a trusted proxy");
    assert_eq!(stored.country.as_deref(), Some("DE"));
    assert_eq!(stored.user_agent, "Mozilla/5.0 (X11; Linux x86_64) Test");
    assert_eq!(stored.referrer, "https://blog.example/post");
    assert_eq!(stored.redirect_reason, None);
}

async fn the_hasoffers_alias_works(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = setup(&app, "https://land.example/path?x=1", None, offers::MembershipStatus::Approved);
    let r = client()
        .get(app.url(&format!(
            "/aff_c?offer_id={}&aff_id={}&aff_sub=alpha&aff_sub2=beta&source=mail",
            s.offer_id, s.publisher_id
        )))
        .send()
        .await
        .expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = location(&r);
    let click_id = loc.strip_prefix("https://land.example/path?x=1&click_id=").expect("click_id appended").to_string();
    let stored = clicks::find(&mut app.conn(), &click_id).expect("q").expect("stored");
    assert_eq!((stored.sub1.as_str(), stored.sub2.as_str(), stored.source.as_str()), ("alpha", "beta", "mail"));
}

async fn paused_unapproved_and_unknown_links_never_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = setup(&app, "https://land.example/", Some("https://fallback.example/"), offers::MembershipStatus::Approved);
    let mut conn = app.conn();
    offers::set_status(&mut conn, s.offer_id, OfferStatus::Active, OfferStatus::Paused, None).expect("pause");
    let r = client().get(app.url(&format!("/c/{}", s.token))).send().await.expect("click");
    assert_eq!((r.status(), location(&r)), (StatusCode::FOUND, "https://fallback.example/".to_string()));
    assert!(r.headers().get("set-cookie").is_none(), "a fallback click sets no pixel cookie");
    assert_eq!(clicks::count(&mut conn).expect("count"), 1, "the click is recorded");
    let paused = clicks::latest(&mut conn).expect("q").expect("click");
    assert_eq!(paused.redirect_reason.as_deref(), Some("offer_paused"));

    // An unknown token and garbage get a friendly page, never an error page, and store nothing.
    let long = format!("/c/{}", "a".repeat(65));
    let nested = format!("/c/{}/more", s.token);
    for path in
        ["/c/doesnotexist", "/c/%FF%00%FE", "/c", "/c/", &long, &nested, "/aff_c?offer_id=abc&aff_id=", "/aff_c"]
    {
        let r = client().get(app.url(path)).send().await.expect("click");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.text().await.expect("body").contains("This offer is paused"), "{path}");
    }
    // A link is only ever followed: other methods are refused and store nothing.
    let r = client().post(app.url(&format!("/c/{}", s.token))).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let r = client().head(app.url(&format!("/c/{}", s.token))).send().await.expect("head");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "a link preview is not a click");
    assert_eq!(clicks::count(&mut conn).expect("count"), 1);

    // Huge and binary sub-ids are cleaned, not refused.
    offers::set_status(&mut conn, s.offer_id, OfferStatus::Paused, OfferStatus::Active, None).expect("resume");
    let huge = "x".repeat(10_000);
    let r = client().get(app.url(&format!("/c/{}?sub1={huge}&sub2=%00%01%FF", s.token))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let click_id = location(&r).rsplit("click_id=").next().expect("id").to_string();
    let stored = clicks::find(&mut conn, &click_id).expect("q").expect("stored");
    assert_eq!(stored.sub1.len(), 255);
    assert!(!stored.sub2.chars().any(char::is_control));
    assert_eq!(stored.redirect_reason, None);

    // A trailing slash is the same link.
    let r = client().get(app.url(&format!("/c/{}/", s.token))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(clicks::count(&mut conn).expect("count"), 3);
}

async fn a_pending_publisher_goes_to_the_fallback(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = setup(&app, "https://land.example/", None, offers::MembershipStatus::Pending);
    let r = client().get(app.url(&format!("/c/{}", s.token))).send().await.expect("click");
    assert_eq!(r.status(), StatusCode::OK, "no fallback URL: the paused page");
    let mut conn = app.conn();
    assert_eq!(clicks::count(&mut conn).expect("count"), 1);
    let click = clicks::latest(&mut conn).expect("q").expect("click");
    assert_eq!(click.redirect_reason.as_deref(), Some("link_not_approved"));
}

async fn every_redirected_click_is_stored_under_load(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = setup(&app, "https://land.example/?c={click_id}", None, offers::MembershipStatus::Approved);
    let c = client();
    let url = app.url(&format!("/c/{}", s.token));
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let (c, url) = (c.clone(), url.clone());
            tokio::spawn(async move { c.get(url).send().await.map(|r| (r.status(), location(&r))) })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (status, loc) = t.await.expect("task").expect("response");
        assert_eq!(status, StatusCode::FOUND);
        ids.insert(loc.rsplit("c=").next().expect("id").to_string());
    }
    assert_eq!(ids.len(), 300, "every click has its own id");
    let mut conn = app.conn();
    assert_eq!(clicks::count(&mut conn).expect("count"), 300);
    for id in &ids {
        assert!(clicks::find(&mut conn, id).expect("q").is_some(), "redirected click {id} is stored");
    }
}

/// A suspended publisher's or advertiser's links stop sending paid traffic: the
/// click is stored with its reason and goes to the fallback. The link cache holds
/// entries for a minute here, so it is the admin's suspension that clears it.
async fn a_suspended_account_takes_no_paid_traffic(backend: Backend) {
    use qualead::domain::account::AccountStatus;
    use qualead::store::users;
    let app = spawn_app_with(backend, &[("QUALEAD_LINK_CACHE_SECS", "60")]).await;
    let offer = common::roofs_offer("https://land.example/?c={click_id}", Some("https://fallback.example/"));
    let market = common::Market::of(&offer).seed(&app.db.url);
    let admin = app.login_as("admin", "admin@example.com").await;
    let set = |id: i64, status: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let path = format!("/admin/users/{id}/status");
            let r = app.submit(admin, "/admin/users", &path, &[("status", status)]).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{status}");
        }
    };
    let click = || common::click_and_reason(&app, &market.token);
    let (landing, reason) = click().await;
    assert!(landing.starts_with("https://land.example/"), "{landing}");
    assert_eq!(reason, None);

    set(market.publisher_id, "suspended").await;
    assert_eq!(click().await, ("https://fallback.example/".to_string(), Some("publisher_suspended".to_string())));
    set(market.publisher_id, "active").await;
    set(market.advertiser_id, "suspended").await;
    assert_eq!(click().await, ("https://fallback.example/".to_string(), Some("advertiser_suspended".to_string())));
    set(market.advertiser_id, "active").await;
    let (landing, reason) = click().await;
    assert!(landing.starts_with("https://land.example/"), "{landing}");
    assert_eq!(reason, None);
    let mut conn = app.conn();
    assert_eq!(users::find(&mut conn, market.publisher_id).expect("q").expect("user").status(), AccountStatus::Active);
    assert_eq!(clicks::count(&mut conn).expect("count"), 4, "every click is stored, paid or not");
}

/// An advertiser's pause, resume and edit reach the next click at once, though the
/// link cache holds entries for a minute here: the change clears it.
async fn an_offer_change_reaches_the_next_click(backend: Backend) {
    let app = spawn_app_with(backend, &[("QUALEAD_LINK_CACHE_SECS", "60")]).await;
    let offer = common::roofs_offer("https://land.example/?c={click_id}", Some("https://fallback.example/"));
    let (market, adv, _, _) = common::signed_in_market(&app, &offer, 0, "a long test password").await;
    let page = format!("/advertiser/offers/{}", market.offer_id);
    let set = |status: &'static str| {
        let (app, adv, page) = (&app, &adv, &page);
        async move {
            let r = app.submit(adv, page, &format!("{page}/status"), &[("status", status)]).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{status}");
        }
    };
    let click = || common::click_and_reason(&app, &market.token);
    let (landing, reason) = click().await;
    assert!(landing.starts_with("https://land.example/"), "{landing}");
    assert_eq!(reason, None);

    set("paused").await;
    assert_eq!(click().await, ("https://fallback.example/".to_string(), Some("offer_paused".to_string())));
    set("active").await;
    assert!(click().await.0.starts_with("https://land.example/"), "resumed");

    // A new landing page through the API waits for an admin's review; once
    // approved, the very next click uses it.
    let key = {
        let mut conn = app.conn();
        qualead::store::api_keys::create(&mut conn, market.advertiser_id, "test").expect("key").0
    };
    let r = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/offers/{}", market.offer_id)))
        .bearer_auth(&key)
        .json(&serde_json::json!({"landing_url": "https://new-land.example/?c={click_id}"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let revision: serde_json::Value = r.json().await.expect("the revision");
    assert!(click().await.0.starts_with("https://land.example/"), "not before the review");
    let admin = {
        let id = app.create_user("admin", "admin@example.com");
        qualead::store::api_keys::create(&mut app.conn(), id, "test").expect("key").0
    };
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/admin/offers/{}/revisions/{}/approve", market.offer_id, revision["id"])))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let (landing, reason) = click().await;
    assert!(landing.starts_with("https://new-land.example/?c="), "{landing}");
    assert_eq!(reason, None);
    let mut conn = app.conn();
    let stored = offers::find(&mut conn, market.offer_id).expect("q").expect("offer");
    assert_eq!(stored.status(), OfferStatus::Active);
}

/// A batch of 23 clicks (a 16-row, a 4-row and three single-row statements on
/// SQLite; one statement on PostgreSQL) comes back field for field, with its rollups.
async fn a_click_batch_is_stored_field_for_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = setup(&app, "https://land.example/?c={click_id}", None, offers::MembershipStatus::Approved);
    // Whole seconds within one hour three hours ago: every click in the same rollup hour.
    let hour = chrono::Utc::now().timestamp() / 3600 * 3600 - 3 * 3600;
    let at = chrono::DateTime::from_timestamp(hour, 0).expect("time").naive_utc();
    let batch: Vec<clicks::NewClick> = (0..23)
        .map(|i| clicks::NewClick {
            click_id: format!("batch-click-{i:02}"),
            offer_id: s.offer_id,
            publisher_id: s.publisher_id,
            sub1: format!("s1-{i}"),
            sub2: format!("s2-{}", i % 3),
            sub3: String::new(),
            sub4: "four".into(),
            sub5: format!("{i}"),
            source: if i % 2 == 0 { "fb".into() } else { String::new() },
            ip: format!("203.0.113.{i}"),
            user_agent: format!("agent {i}"),
            referrer: format!("https://ref.example/{i}"),
            country: (i % 4 != 0).then(|| "DE".to_string()),
            redirect_reason: (i == 22).then(|| "offer_capped".to_string()),
            created_at: at + chrono::Duration::seconds(i),
            is_unique: i % 5 != 0,
            country_source: "unknown".into(),
            device: "unknown".into(),
            os: "other".into(),
            repeat_clicks: 0,
        })
        .collect();
    let mut conn = app.conn();
    assert_eq!(clicks::insert_batch(&mut conn, &batch).expect("insert"), 23);
    let ids: Vec<&str> = batch.iter().map(|c| c.click_id.as_str()).collect();
    let mut stored = clicks::find_many(&mut conn, &ids).expect("read");
    stored.sort_by(|a, b| a.click_id.cmp(&b.click_id));
    assert_eq!(stored.len(), 23);
    // Every stored field, of a click to store and of a stored click alike.
    macro_rules! fields {
        ($c:expr) => {
            (
                &$c.click_id,
                $c.offer_id,
                $c.publisher_id,
                [&$c.sub1, &$c.sub2, &$c.sub3, &$c.sub4, &$c.sub5],
                &$c.source,
                &$c.ip,
                &$c.user_agent,
                &$c.referrer,
                &$c.country,
                &$c.redirect_reason,
                $c.created_at,
                $c.is_unique,
            )
        };
    }
    for (want, got) in batch.iter().zip(&stored) {
        assert_eq!(fields!(got), fields!(want));
    }
    // The hour's totals row counts every click of the batch and its unique ones.
    let (clicks_total, unique): (i64, i64) = {
        use diesel::prelude::*;
        use qualead::db::schema::rollup_totals as t;
        t::table
            .filter(t::offer_id.eq(s.offer_id))
            .filter(t::hour.eq(at))
            .select((t::clicks, t::unique_clicks))
            .first(&mut conn)
            .expect("totals row")
    };
    assert_eq!((clicks_total, unique), (23, 18));
}

both_backends!(
    a_click_batch_is_stored_field_for_field,
    an_offer_change_reaches_the_next_click,
    a_suspended_account_takes_no_paid_traffic,
    a_click_redirects_with_macros_and_is_stored,
    the_hasoffers_alias_works,
    paused_unapproved_and_unknown_links_never_error,
    a_pending_publisher_goes_to_the_fallback,
    every_redirected_click_is_stored_under_load,
);
