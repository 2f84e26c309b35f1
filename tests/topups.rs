//! Funding (DESIGN §8): an advertiser requests a top-up from its balance page, every
//! admin is e-mailed and sees it on the overview and the deposits page; an admin
//! confirms it as a deposit (one balanced ledger transaction, audited) or declines
//! it with a note; the advertiser is e-mailed either way. An offer whose advertiser
//! cannot pay for one lead warns on its page and when it is resumed (issue 33).

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, solar_offer, spawn_app};
use qualead::store::{ledger, topups};
use reqwest::StatusCode;

async fn an_advertiser_tops_up_and_an_admin_confirms_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&solar_offer("5.00")).seed(&app.db.url);
    let admin = app.login_as("admin", "ops@example.com").await;
    let adv = app.session_of(m.advertiser_id).await;
    let ask = |form: Vec<(&'static str, &'static str)>| {
        let (adv, app) = (&adv, &app);
        async move {
            let r = app.submit(adv, "/advertiser/balance", "/advertiser/topups", &form).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            app.get_text(adv, "/advertiser/balance").await.1
        }
    };
    // With nothing on its balance, the offer warns, and resuming it says why it
    // would pause again at its first lead.
    let offer_page = format!("/advertiser/offers/{}", m.offer_id);
    let status = format!("/advertiser/offers/{}/status", m.offer_id);
    let (_, shown) = app.get_text(&adv, &offer_page).await;
    assert!(shown.contains("id=\"low-balance\"") && shown.contains("cannot pay for one lead ($5.00)"), "{shown}");
    // Its publisher sees each change on its links and is e-mailed.
    let publisher = app.session_of(m.publisher_id).await;
    let publisher_email = qualead::store::users::find(&mut app.conn(), m.publisher_id).expect("q").expect("user").email;
    let (_, links) = app.get_text(&publisher, "/publisher/links").await;
    assert!(links.contains("data-live=\"live\"") && links.contains("Live: clicks reach the landing page"), "{links}");
    assert_eq!(app.submit(&adv, &offer_page, &status, &[("status", "paused")]).await.status(), StatusCode::SEE_OTHER);
    let (_, links) = app.get_text(&publisher, "/publisher/links").await;
    assert!(links.contains("data-live=\"paused\"") && links.contains("clicks go to the fallback page"), "{links}");
    let (_, page) = app.get_text(&publisher, &format!("/publisher/offers/{}", m.offer_id)).await;
    assert!(page.contains("Paused by the advertiser"), "{page}");
    let mail = app.wait_for_email(&publisher_email, "is paused").await;
    assert!(mail.contains("send no traffic for now"), "{mail}");
    assert_eq!(app.submit(&adv, &offer_page, &status, &[("status", "active")]).await.status(), StatusCode::SEE_OTHER);
    app.wait_for_email(&publisher_email, "is live again").await;
    let (_, links) = app.get_text(&publisher, "/publisher/links").await;
    assert!(links.contains("data-live=\"live\""), "{links}");
    let (_, shown) = app.get_text(&adv, &offer_page).await;
    assert!(shown.contains("flash-warning") && shown.contains("Offer resumed. Your balance ($0.00)"), "{shown}");

    let page = ask(vec![("amount", "abc"), ("method", "card")]).await;
    assert!(page.contains("is not an amount like 12.50"), "{page}");
    let page = ask(vec![("amount", "10.00"), ("method", "cash in an envelope")]).await;
    assert!(page.contains("Choose how you paid"), "{page}");
    let page = ask(vec![("amount", "0"), ("method", "card")]).await;
    assert!(page.contains("must be above 0.00"), "{page}");
    assert!(topups::pending(&mut app.conn()).expect("q").is_empty(), "nothing kept from bad requests");

    let page = ask(vec![("amount", "250.00"), ("method", "bank transfer"), ("reference", " INV-77 ")]).await;
    assert!(page.contains("Top-up request #") && page.contains("of $250.00 sent"), "{page}");
    assert!(page.contains("waiting for an admin") && page.contains("INV-77"), "{page}");
    let page = ask(vec![("amount", "40"), ("method", "card")]).await;
    assert_eq!(page.matches("waiting for an admin").count(), 2, "{page}");
    let mail = app.wait_for_email("ops@example.com", "$250.00").await;
    assert!(mail.contains("INV-77") && mail.contains("bank transfer") && mail.contains(&m.advertiser_email), "{mail}");

    let (_, overview) = app.get_text(&admin, "/admin").await;
    assert!(overview.contains("2 top-up requests waiting"), "{overview}");
    let pending = topups::pending(&mut app.conn()).expect("q");
    let (big, small) = (pending[0].id, pending[1].id);
    let (_, desk) = app.get_text(&admin, "/admin/deposits").await;
    assert!(desk.contains(&format!("data-topup=\"{big}\"")) && desk.contains("$250.00"), "{desk}");

    // An advertiser cannot confirm its own request.
    let r = app.submit(&adv, "/advertiser/balance", &format!("/admin/topups/{big}/confirm"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let confirm = format!("/admin/topups/{big}/confirm");
    assert_eq!(app.submit(&admin, "/admin/deposits", &confirm, &[]).await.status(), StatusCode::SEE_OTHER);
    let (_, desk) = app.get_text(&admin, "/admin/deposits").await;
    assert!(desk.contains(&format!("Top-up #{big} confirmed: $250.00 is on the advertiser")), "{desk}");
    assert!(desk.contains(&format!("top-up #{big} (bank transfer, INV-77)")), "the deposit names it: {desk}");
    let mut conn = app.conn();
    assert_eq!(ledger::balance(&mut conn, &ledger::advertiser(m.advertiser_id)).expect("balance"), 250_00);
    assert!(ledger::health(&mut conn).expect("health").balanced);
    drop(conn);
    assert_eq!(app.submit(&admin, "/admin/deposits", &confirm, &[]).await.status(), StatusCode::SEE_OTHER);
    let (_, desk) = app.get_text(&admin, "/admin/deposits").await;
    assert!(desk.contains("This top-up request is already confirmed."), "{desk}");
    assert_eq!(
        ledger::balance(&mut app.conn(), &ledger::advertiser(m.advertiser_id)).expect("balance"),
        250_00,
        "confirmed once"
    );
    let mail = app.wait_for_email(&m.advertiser_email, "is on your balance").await;
    assert!(mail.contains("$250.00"), "{mail}");
    let (_, shown) = app.get_text(&adv, &offer_page).await;
    assert!(!shown.contains("low-balance"), "the balance pays for leads now: {shown}");

    // Declining needs a reason; the advertiser reads it.
    let decline = format!("/admin/topups/{small}/decline");
    assert_eq!(app.submit(&admin, "/admin/deposits", &decline, &[("note", " ")]).await.status(), StatusCode::SEE_OTHER);
    let (_, desk) = app.get_text(&admin, "/admin/deposits").await;
    assert!(desk.contains("Say why the request is declined"), "{desk}");
    let form = [("note", "no payment with this amount arrived")];
    assert_eq!(app.submit(&admin, "/admin/deposits", &decline, &form).await.status(), StatusCode::SEE_OTHER);
    let mail = app.wait_for_email(&m.advertiser_email, "was declined").await;
    assert!(mail.contains("no payment with this amount arrived"), "{mail}");
    let (_, page) = app.get_text(&adv, "/advertiser/balance").await;
    assert!(page.contains("on your balance") && page.contains("declined"), "{page}");
    assert!(page.contains("no payment with this amount arrived"), "{page}");
    let (_, overview) = app.get_text(&admin, "/admin").await;
    assert!(overview.contains("0 top-up requests waiting"), "{overview}");
    // At most five requests wait at once.
    for _ in 0..5 {
        assert!(ask(vec![("amount", "10"), ("method", "card")]).await.contains("Top-up request #"));
    }
    let page = ask(vec![("amount", "10"), ("method", "card")]).await;
    assert!(page.contains("You have 5 top-up requests waiting already"), "{page}");
    let (_, audit) = app.get_text(&admin, "/admin/audit").await;
    assert!(audit.contains("ledger.deposit") && audit.contains("topup.decline"), "{audit}");
}

/// DESIGN §8 low-balance e-mail: sent once as the available balance falls below
/// the advertiser's threshold, before the offer pauses.
async fn a_low_balance_is_told_before_the_offer_pauses(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&solar_offer("3.00")).deposit(12_00).seed(&app.db.url);
    let adv = app.session_of(m.advertiser_id).await;
    let set = |threshold: &'static str| {
        let (adv, app) = (&adv, &app);
        async move {
            let form = [("threshold", threshold)];
            let r = app.submit(adv, "/advertiser/balance", "/advertiser/balance-alert", &form).await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            app.get_text(adv, "/advertiser/balance").await.1
        }
    };
    assert!(set("lots").await.contains("is not an amount like 12.50"));
    let page = set("5").await;
    assert!(
        page.contains("when your available balance falls below $5.00") && page.contains("value=\"5.00\""),
        "{page}"
    );
    let lows = |app: &common::TestApp| app.emails().iter().filter(|e| e.contains("balance is low")).count();
    for expected in [(9_00, 0), (6_00, 0), (3_00, 1), (0, 1)] {
        let cid = common::click_through(&app, &common::visitor(common::BROWSER), &m.token, "").await;
        common::accepted_lead(&app, &m.postback_token, &cid, &[]).await;
        let balance = ledger::balance(&mut app.conn(), &ledger::advertiser(m.advertiser_id)).expect("balance");
        assert_eq!(balance, expected.0);
        if expected.1 == 1 {
            let mail = app.wait_for_email(&m.advertiser_email, "balance is low").await;
            assert!(mail.contains("$3.00") && mail.contains("below the $5.00"), "{mail}");
        }
        assert_eq!(lows(&app), expected.1, "at {}", expected.0);
    }
    assert!(set("").await.contains("Low-balance e-mails are off."));
}

both_backends!(an_advertiser_tops_up_and_an_admin_confirms_it, a_low_balance_is_told_before_the_offer_pauses);
