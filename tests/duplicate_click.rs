//! Repeated clicks (DESIGN §7 `duplicate_click`, §9 unique clicks): each click
//! stores how many times its visitor — the same IP address and user agent — clicked
//! the same link within the offer's window; settlement flags a lead past the
//! offer's flag and rejects it past its rejection; unique clicks count only a
//! visitor's first click in the window.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, TestApp, solar_offer, spawn_app};
use qualead::domain::offer::{OfferBody, Terms};
use qualead::domain::scrub::Check;
use qualead::settlement::run::{BATCH, settle_due};
use qualead::store::{clicks, leads, now, rollups};
use reqwest::StatusCode;

const WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

/// A click on `/c/{token}` from `agent` at the client address `ip` (through the
/// trusted loopback proxy), without cookies: the stored click.
async fn click(app: &TestApp, token: &str, agent: &str, ip: &str) -> clicks::Click {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = client
        .get(app.url(&format!("/c/{token}")))
        .header("user-agent", agent)
        .header("x-forwarded-for", ip)
        .send()
        .await
        .expect("click");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers()["location"].to_str().expect("location").to_string();
    let click_id = location.split("cid=").nth(1).expect("click id in the landing URL")[..26].to_string();
    clicks::find(&mut app.conn(), &click_id).expect("q").expect("the click is stored")
}

/// The lead's status, its `duplicate_click` check (if it ran) and its score.
fn outcome(app: &TestApp, lead_id: i64) -> (String, Option<Check>, Option<i32>) {
    let lead = leads::find(&mut app.conn(), lead_id).expect("q").expect("lead");
    let checks: Vec<Check> = serde_json::from_str(&lead.checks).expect("checks");
    let check = checks.into_iter().find(|c| c.code == "duplicate_click");
    (lead.status.as_str().to_string(), check, lead.score)
}

fn offer(minutes: u32, flag: u32, reject: u32) -> OfferBody {
    let mut terms = Terms { hold_hours: 0, required_fields: vec!["email".into()], ..Terms::default() };
    terms.scrub.duplicate_click_minutes = minutes;
    terms.scrub.duplicate_click_flag = flag;
    terms.scrub.duplicate_click_reject = reject;
    OfferBody { terms, ..solar_offer("2.00") }
}

/// Six clicks from one address and browser on one link: each stores the clicks
/// before it; a lead from the third passes, from the fourth is flagged (approved,
/// a lower score), from the sixth is rejected. Another browser or another address
/// on the same link starts its own count, and unique clicks count each visitor once.
async fn repeated_clicks_are_flagged_then_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&offer(10, 2, 4)).deposit(100_00).seed(&app.db.url);
    let mut spam = Vec::new();
    for _ in 0..6 {
        spam.push(click(&app, &m.token, WINDOWS, "84.128.3.4").await);
    }
    let counts: Vec<(i32, bool)> = spam.iter().map(|c| (c.repeat_clicks, c.is_unique)).collect();
    assert_eq!(counts, vec![(0, true), (1, false), (2, false), (3, false), (4, false), (5, false)]);
    let phone = click(&app, &m.token, IPHONE, "84.128.3.4").await;
    let neighbour = click(&app, &m.token, WINDOWS, "84.128.3.5").await;
    assert_eq!((phone.repeat_clicks, phone.is_unique), (0, true), "another browser behind the same address");
    assert_eq!((neighbour.repeat_clicks, neighbour.is_unique), (0, true), "another address");

    // Unique clicks: each visitor's first click in the window.
    let totals = rollups::offer_totals(&mut app.conn(), m.offer_id).expect("rollups");
    assert_eq!((totals.clicks, totals.unique_clicks), (8, 3));

    let lead = |c: &clicks::Click, email: &'static str| {
        let click_id = c.click_id.clone();
        let app = &app;
        let token = m.postback_token.clone();
        async move { common::accepted_lead(app, &token, &click_id, &[("email", email)]).await }
    };
    let passes = lead(&spam[2], "ann@example.com").await;
    let flagged = lead(&spam[3], "bob@example.com").await;
    let rejected = lead(&spam[5], "cy@example.com").await;
    let other_browser = lead(&phone, "di@example.com").await;
    let s = settle_due(&mut app.conn(), now(), BATCH).expect("settle");
    assert_eq!((s.approved, s.rejected), (3, 1), "{s:?}");

    let (status, check, plain_score) = outcome(&app, passes);
    let check = check.expect("the rule ran");
    assert_eq!(status, "approved");
    assert!(check.passed);
    assert_eq!(
        check.detail,
        "this IP address and browser clicked the link 2 times within 10 minutes before this click \
         (more than 2 is flagged, more than 4 rejected)"
    );
    let (status, check, flagged_score) = outcome(&app, flagged);
    let check = check.expect("the rule ran");
    assert_eq!((status.as_str(), check.passed), ("approved", true), "flagged, not rejected");
    assert_eq!(
        check.detail,
        "flagged: this IP address and browser clicked the link 3 times within 10 minutes before this click; \
         more than 2 is flagged, more than 4 rejected"
    );
    let (plain_score, flagged_score) = (plain_score.expect("score"), flagged_score.expect("score"));
    assert_eq!(plain_score - flagged_score, qualead::domain::scrub::penalty("repeat_clicks"), "the flag costs points");
    let (status, check, _) = outcome(&app, rejected);
    let check = check.expect("the rule ran");
    assert_eq!((status.as_str(), check.passed), ("rejected", false));
    assert_eq!(
        check.detail,
        "this IP address and browser clicked the link 5 times within 10 minutes before this click; \
         more than 2 is flagged, more than 4 rejected"
    );
    let lead = leads::find(&mut app.conn(), rejected).expect("q").expect("lead");
    assert!(lead.reasons.contains("duplicate_click"), "{}", lead.reasons);
    let (status, check, score) = outcome(&app, other_browser);
    assert_eq!(status, "approved");
    assert_eq!(
        check.map(|c| (c.passed, c.detail)),
        Some((
            true,
            "no earlier click from this IP address and browser on the link within 10 minutes \
             (more than 2 is flagged, more than 4 rejected)"
                .to_string()
        ))
    );
    assert_eq!(score, Some(plain_score), "no flag, no penalty");
    assert!(qualead::store::ledger::health(&mut app.conn()).expect("health").balanced);
}

/// With the rule off (the default) the clicks are still counted, over the default
/// hour, for unique clicks; no lead is judged by them. Hosted-form visits count as
/// clicks of the link too.
async fn with_the_rule_off_repeats_only_cost_unique_clicks(backend: Backend) {
    let app = spawn_app(backend).await;
    let m = Market::of(&offer(0, 0, 0)).deposit(100_00).seed(&app.db.url);
    let mut last = None;
    for _ in 0..3 {
        last = Some(click(&app, &m.token, WINDOWS, "84.128.3.4").await);
    }
    let last = last.expect("clicks");
    assert_eq!((last.repeat_clicks, last.is_unique), (2, false));
    // The hosted form's visits are clicks of the same link.
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for expected in [3, 4] {
        let page = client
            .get(app.url(&format!("/f/{}", m.token)))
            .header("user-agent", WINDOWS)
            .header("x-forwarded-for", "84.128.3.4")
            .send()
            .await
            .expect("form")
            .text()
            .await
            .expect("page");
        let click_id =
            page.split("name=\"click_id\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("click id");
        let visit = clicks::find(&mut app.conn(), click_id).expect("q").expect("the visit's click");
        assert_eq!((visit.repeat_clicks, visit.is_unique), (expected, false));
    }
    let totals = rollups::offer_totals(&mut app.conn(), m.offer_id).expect("rollups");
    assert_eq!((totals.clicks, totals.unique_clicks), (5, 1));

    let id = common::accepted_lead(&app, &m.postback_token, &last.click_id, &[("email", "ann@example.com")]).await;
    let s = settle_due(&mut app.conn(), now(), BATCH).expect("settle");
    assert_eq!((s.approved, s.rejected), (1, 0));
    let (status, check, _) = outcome(&app, id);
    assert_eq!((status.as_str(), check), ("approved", None), "the rule is off");
}

/// The advertiser's form takes the rule's three numbers, refuses a rejection below
/// the flag with the reason at the field, and the terms say the rule in plain words
/// (the publisher's offer page shows them: `offers_web`).
async fn the_offer_form_takes_the_rule_and_says_it_in_plain_words(backend: Backend) {
    let app = spawn_app(backend).await;
    let adv = app.login_as("advertiser", "adv@example.com").await;
    let form = |reject: &'static str| {
        vec![
            ("name", "Roof repair leads"),
            ("category", "home"),
            ("visibility", "public"),
            ("timezone", "UTC"),
            ("landing_url", "https://roof.example/quote?cid={click_id}"),
            ("payout_model", "cpl"),
            ("price", "25.00"),
            ("events", "lead"),
            ("hold_hours", "48"),
            ("conversion_window_days", "30"),
            ("duplicate_days", "30"),
            ("duplicate_scope", "offer"),
            ("duplicate_click_minutes", "15"),
            ("duplicate_click_flag", "3"),
            ("duplicate_click_reject", reject),
            ("intent", "submit"),
        ]
    };
    let r = app.submit(&adv, "/advertiser/offers/new", "/advertiser/offers", &form("2")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.expect("page");
    assert!(page.contains("Reject above at least as many clicks as are flagged (3), or use 0 to flag only."), "{page}");
    assert!(page.contains(r#"name="duplicate_click_minutes" value="15""#), "the values are kept: {page}");

    let r = app.submit(&adv, "/advertiser/offers/new", "/advertiser/offers", &form("10")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let path = r.headers()["location"].to_str().expect("location").to_string();
    let id: i64 = path.rsplit('/').next().and_then(|s| s.parse().ok()).expect("offer id");
    let offer = qualead::store::offers::find(&mut app.conn(), id).expect("q").expect("offer");
    let s = offer.terms().scrub;
    assert_eq!((s.duplicate_click_minutes, s.duplicate_click_flag, s.duplicate_click_reject), (15, 3, 10));
    let (_, edit) = app.get_text(&adv, &format!("{path}/edit")).await;
    assert!(edit.contains(r#"name="duplicate_click_reject" value="10""#), "the edit form shows them: {edit}");

    let words = qualead::domain::offer::plain_terms(&offer.terms(), &offer.limits.caps()).join(" ");
    assert!(
        words.contains(
            "Repeated clicks: a lead whose click follows more than 3 clicks from the same IP address and browser \
             on this link within 15 minutes is flagged (its quality score drops); after more than 10, it is rejected."
        ),
        "{words}"
    );
}

both_backends!(
    repeated_clicks_are_flagged_then_rejected,
    with_the_rule_off_repeats_only_cost_unique_clicks,
    the_offer_form_takes_the_rule_and_says_it_in_plain_words,
);
