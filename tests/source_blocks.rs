//! Traffic-source blocks (DESIGN §5): an advertiser blocks sub-id and source values
//! on its offer (for every publisher or one), an admin across the network; a
//! matching click goes to the fallback with the reason `source_blocked`, its
//! conversion is refused `source_blocked`, and publishers see the blocks that
//! apply to them.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, postback_for, solar_offer, spawn_app};
use qualead::domain::offer::{OfferBody, Terms};
use qualead::store::offers::{self, MembershipStatus};
use qualead::store::{clicks, users};
use reqwest::StatusCode;

/// A click on `/c/{token}?{query}`: where it went and the stored click.
async fn click(app: &TestApp, token: &str, query: &str) -> (String, clicks::Click) {
    let r = common::visitor(common::BROWSER)
        .get(app.url(&format!("/c/{token}?{query}")))
        .header("x-forwarded-for", "84.128.3.4")
        .send()
        .await
        .expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let stored = clicks::latest(&mut app.conn()).expect("q").expect("click");
    (location, stored)
}

const LANDING: &str = "https://adv.example/quote";
const FALLBACK: &str = "https://adv.example/";

async fn blocked_sources_go_to_the_fallback_and_cannot_convert(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody { terms: Terms { required_fields: vec![], ..Terms::default() }, ..solar_offer("5.00") };
    let m = Market::of(&body).deposit(100_00).seed(&app.db.url);
    // A second publisher on the same offer.
    let other = users::create(
        &mut app.conn(),
        users::UserSpec::active("second-pub@example.com", "x", "publisher".parse().expect("role"), "Second Pub"),
    )
    .expect("user")
    .id;
    let other_link = offers::add_member(&mut app.conn(), m.offer_id, other, MembershipStatus::Approved, false)
        .expect("member")
        .token;
    let adv = app.session_of(m.advertiser_id).await;
    let page = format!("/advertiser/offers/{}", m.offer_id);
    let action = format!("/advertiser/offers/{}/source-blocks", m.offer_id);
    let block = |form: Vec<(&'static str, String)>| {
        let (adv, page, action, app) = (&adv, &page, &action, &app);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = app.submit(adv, page, action, &form).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            app.get_text(adv, page).await.1
        }
    };
    let pid = m.publisher_id.to_string();
    let shown = block(vec![("field", "sub1".into()), ("mode", "exact".into()), ("value", " Spam-Site ".into())]).await;
    assert!(shown.contains("Source blocked"), "{shown}");
    assert!(shown.contains("Clicks whose sub1 is “Spam-Site”, for every publisher"), "{shown}");
    let shown = block(vec![
        ("field", "source".into()),
        ("mode", "prefix".into()),
        ("value", "adult".into()),
        ("publisher_id", pid.clone()),
    ])
    .await;
    assert!(shown.contains("Clicks whose source begins with “adult”, for Seeded"), "{shown}");
    let shown = block(vec![("field", "sub1".into()), ("mode", "exact".into()), ("value", "spam-site".into())]).await;
    assert!(shown.contains("That block is there already."), "the same value in other case: {shown}");
    let shown = block(vec![("field", "sub1".into()), ("mode", "exact".into()), ("value", "   ".into())]).await;
    assert!(shown.contains("an empty value would block every click"), "{shown}");
    let shown = block(vec![("field", "sub9".into()), ("mode", "exact".into()), ("value", "x".into())]).await;
    assert!(shown.contains("&#34;sub9&#34; is not a tracking value"), "{shown}");
    assert_eq!(qualead::store::source_blocks::of_offer(&mut app.conn(), m.offer_id).expect("q").len(), 2);

    // The clicks: the value compared whole and without regard to case; the
    // prefix block only for the publisher it names.
    let (to, spam) = click(&app, &m.token, "sub1=SPAM-SITE").await;
    assert_eq!((to.as_str(), spam.redirect_reason.as_deref()), (FALLBACK, Some("source_blocked")));
    let (to, near) = click(&app, &m.token, "sub1=spam-site-2").await;
    assert!(to.starts_with(LANDING), "{to}");
    assert_eq!(near.redirect_reason, None);
    let (to, adult) = click(&app, &m.token, "source=Adult-Net-7").await;
    assert_eq!((to.as_str(), adult.redirect_reason.as_deref()), (FALLBACK, Some("source_blocked")));
    let (to, _) = click(&app, &other_link, "source=adult-net-7").await;
    assert!(to.starts_with(LANDING), "another publisher's source is not blocked: {to}");
    let (to, _) = click(&app, &other_link, "sub1=spam-site").await;
    assert_eq!(to, FALLBACK, "the offer-wide block holds for every publisher");
    let (to, _) = click(&app, &m.token, "sub1=x&source=Adult").await;
    assert_eq!(to, FALLBACK, "/c with several values");
    let r = common::visitor(common::BROWSER)
        .get(app.url(&format!("/aff_c?offer_id={}&aff_id={}&aff_sub=spam-site", m.offer_id, m.publisher_id)))
        .send()
        .await
        .expect("click");
    assert_eq!(r.headers()["location"], FALLBACK, "the HasOffers-style link too");

    // Conversions.
    for c in [&spam, &adult] {
        let (status, answer) = postback_for(&app, &m.postback_token, &c.click_id, &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
        assert_eq!((answer["status"].as_str(), answer["reason"].as_str()), (Some("rejected"), Some("source_blocked")));
    }
    let (status, answer) = postback_for(&app, &m.postback_token, &near.click_id, &[]).await;
    assert_eq!((status, answer["status"].as_str()), (StatusCode::OK, Some("accepted")), "{answer}");

    // The publisher reads both blocks that apply to it; the second publisher only
    // the offer-wide one.
    let publisher = app.session_of(m.publisher_id).await;
    let (_, words) = app.get_text(&publisher, &format!("/publisher/offers/{}", m.offer_id)).await;
    assert!(words.contains("Clicks whose sub1 is “Spam-Site”"), "{words}");
    assert!(words.contains("Clicks whose source begins with “adult”"), "{words}");
    let second = app.session_of(other).await;
    let (_, words) = app.get_text(&second, &format!("/publisher/offers/{}", m.offer_id)).await;
    assert!(words.contains("Clicks whose sub1 is “Spam-Site”") && !words.contains("begins with “adult”"), "{words}");

    // Another advertiser can neither add nor remove this offer's blocks.
    let stranger = Market::of(&body).seed(&app.db.url);
    let intruder = app.session_of(stranger.advertiser_id).await;
    let own_page = format!("/advertiser/offers/{}", stranger.offer_id);
    let r = app.submit(&intruder, &own_page, &action, &[("field", "sub1"), ("mode", "exact"), ("value", "x")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let first = qualead::store::source_blocks::of_offer(&mut app.conn(), m.offer_id).expect("q")[0].id;
    let r = app.submit(&intruder, &own_page, &format!("/advertiser/source-blocks/{first}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Removed, the source lands again at once (this process's links are read afresh).
    let r = app.submit(&adv, &page, &format!("/advertiser/source-blocks/{first}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, shown) = app.get_text(&adv, &page).await;
    assert!(shown.contains("Block removed: clicks whose sub1 is “Spam-Site”."), "{shown}");
    let (to, _) = click(&app, &m.token, "sub1=spam-site").await;
    assert!(to.starts_with(LANDING), "{to}");
}

async fn an_admin_blocks_a_source_across_the_network(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = OfferBody { terms: Terms { required_fields: vec![], ..Terms::default() }, ..solar_offer("5.00") };
    let m = Market::of(&body).deposit(100_00).seed(&app.db.url);
    let n = Market::of(&body).deposit(100_00).seed(&app.db.url);
    let admin = app.login_as("admin", "ops@example.com").await;
    let page = "/admin/source-blocks";
    let r = app.submit(&admin, page, page, &[("field", "sub2"), ("mode", "exact"), ("value", "bot-farm")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let pid = n.publisher_id.to_string();
    let form = [("field", "source"), ("mode", "prefix"), ("value", "push"), ("publisher_id", pid.as_str())];
    assert_eq!(app.submit(&admin, page, page, &form).await.status(), StatusCode::SEE_OTHER);
    let form = [("field", "sub1"), ("mode", "exact"), ("value", "x"), ("publisher_id", "nobody")];
    assert_eq!(app.submit(&admin, page, page, &form).await.status(), StatusCode::SEE_OTHER);
    let (_, shown) = app.get_text(&admin, page).await;
    assert!(shown.contains("&#34;nobody&#34; is not a publisher id"), "{shown}");
    assert!(shown.contains("Clicks whose sub2 is “bot-farm”"), "{shown}");
    assert!(shown.contains("Clicks whose source begins with “push”"), "{shown}");
    assert_eq!(shown.matches("class=\"source-block\"").count(), 2, "{shown}");

    // Every offer's links keep to the network's block; the publisher block only
    // for its publisher.
    for token in [&m.token, &n.token] {
        let (to, c) = click(&app, token, "sub2=Bot-Farm").await;
        assert_eq!((to.as_str(), c.redirect_reason.as_deref()), (FALLBACK, Some("source_blocked")));
    }
    let (to, _) = click(&app, &m.token, "source=push-ads").await;
    assert!(to.starts_with(LANDING), "{to}");
    let (to, pushed) = click(&app, &n.token, "source=push-ads").await;
    assert_eq!(to, FALLBACK);
    let (status, answer) = postback_for(&app, &n.postback_token, &pushed.click_id, &[]).await;
    assert_eq!((status, answer["reason"].as_str()), (StatusCode::FORBIDDEN, Some("source_blocked")), "{answer}");

    // A blocked click on a paused offer is recorded as blocked: its conversion is
    // refused even once the offer is resumed.
    let adv = app.session_of(m.advertiser_id).await;
    let offer_page = format!("/advertiser/offers/{}", m.offer_id);
    let status = format!("/advertiser/offers/{}/status", m.offer_id);
    assert_eq!(app.submit(&adv, &offer_page, &status, &[("status", "paused")]).await.status(), StatusCode::SEE_OTHER);
    let (_, paused) = click(&app, &m.token, "sub2=bot-farm").await;
    assert_eq!(paused.redirect_reason.as_deref(), Some("source_blocked"));
    assert_eq!(app.submit(&adv, &offer_page, &status, &[("status", "active")]).await.status(), StatusCode::SEE_OTHER);
    let (status, answer) = postback_for(&app, &m.postback_token, &paused.click_id, &[]).await;
    assert_eq!((status, answer["reason"].as_str()), (StatusCode::FORBIDDEN, Some("source_blocked")), "{answer}");

    // An admin's block on one offer, which its advertiser cannot lift; an unknown
    // offer id is named.
    let oid = m.offer_id.to_string();
    let form = [("field", "sub3"), ("mode", "exact"), ("value", "zz"), ("offer_id", oid.as_str())];
    assert_eq!(app.submit(&admin, page, page, &form).await.status(), StatusCode::SEE_OTHER);
    let form = [("field", "sub3"), ("mode", "exact"), ("value", "zz"), ("offer_id", "987654")];
    assert_eq!(app.submit(&admin, page, page, &form).await.status(), StatusCode::SEE_OTHER);
    let (_, shown) = app.get_text(&admin, page).await;
    assert!(shown.contains("No offer has that id."), "{shown}");
    let admins = qualead::store::source_blocks::of_offer(&mut app.conn(), m.offer_id).expect("q");
    let delete = format!("/advertiser/source-blocks/{}/delete", admins[0].id);
    assert_eq!(app.submit(&adv, &offer_page, &delete, &[]).await.status(), StatusCode::FORBIDDEN);

    // Advertisers hear that network blocks apply; an advertiser cannot remove one.
    let (_, shown) = app.get_text(&adv, &offer_page).await;
    assert!(
        shown.contains("1 network-wide block set by Qualead also applies."),
        "the one for every publisher: {shown}"
    );
    let network = qualead::store::source_blocks::network(&mut app.conn()).expect("q");
    let delete = format!("/advertiser/source-blocks/{}/delete", network[0].id);
    assert_eq!(app.submit(&adv, &offer_page, &delete, &[]).await.status(), StatusCode::NOT_FOUND);
    let (_, audit) = app.get_text(&admin, "/admin/audit").await;
    assert!(audit.contains("source_block.add"), "every change is audited: {audit}");

    // The admin removes it: the source lands again.
    let delete = format!("/admin/source-blocks/{}/delete", network[0].id);
    assert_eq!(app.submit(&admin, page, &delete, &[]).await.status(), StatusCode::SEE_OTHER);
    let (to, _) = click(&app, &m.token, "sub2=bot-farm").await;
    assert!(to.starts_with(LANDING), "{to}");
}

both_backends!(blocked_sources_go_to_the_fallback_and_cannot_convert, an_admin_blocks_a_source_across_the_network,);
