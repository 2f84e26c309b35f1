//! Monthly reconciliation (DESIGN §8 "Monthly reconciliation"): a closed month's
//! statement read from the ledger, confirmed once or disputed line by line; admins
//! see the months still open and resolve disputes; no advertiser reaches another's
//! statement, and no one else reaches an advertiser's.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use chrono::Duration;
use common::{Backend, Market, TestApp, csrf_of, spawn_app_with};
use diesel::prelude::*;
use qualead::domain::offer::{OfferBody, Terms};
use qualead::domain::reconciliation::Month;
use qualead::store::reconciliations as rec;
use reqwest::StatusCode;
use serde_json::json;

/// No periodic settlement run during a test.
const QUIET: (&str, &str) = ("QUALEAD_SETTLE_INTERVAL_SECS", "86400");

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[QUIET]).await
}

/// A CPL offer at 10.00 (fee 2.00, payout 8.00), no required fields.
fn offer(name: &str) -> OfferBody {
    OfferBody {
        terms: Terms { required_fields: vec![], hold_hours: 72, return_window_days: 7, ..Terms::default() },
        ..common::cpl_offer(name, "10.00")
    }
}

async fn lead(app: &TestApp, m: &Market, txid: &str) -> i64 {
    let click = common::click_through(app, &common::visitor(common::BROWSER), &m.token, "").await;
    common::accepted_lead(app, &m.postback_token, &click, &[("txid", txid)]).await
}

/// Verdicts by the bulk API; each must apply.
async fn decide(app: &TestApp, key: &str, items: serde_json::Value) {
    let (s, v) = common::call(app, reqwest::Method::POST, key, "/leads/status", Some(json!({ "items": items }))).await;
    assert_eq!((s, v["errors"].as_i64()), (StatusCode::OK, Some(0)), "{v}");
}

/// Move everything an advertiser's money and leads did so far to 10 days into the
/// previous month, as if it had happened then.
fn into_last_month(app: &TestApp, advertiser_id: i64) -> Month {
    use qualead::db::schema::{leads as l, ledger_entries as e};
    let month = Month::of(qualead::store::now()).prev();
    let at = month.start() + Duration::days(10);
    let mut c = app.conn();
    let accounts = [qualead::store::ledger::advertiser(advertiser_id), qualead::store::ledger::escrow(advertiser_id)];
    let txs: Vec<i64> =
        e::table.filter(e::account.eq_any(&accounts)).select(e::transaction_id).load(&mut *c).expect("q");
    for tx in txs {
        qualead::store::ledger::backdate(&mut c, tx, at).expect("backdate");
    }
    diesel::update(l::table.filter(l::advertiser_id.eq(advertiser_id)))
        .set(l::created_at.eq(at))
        .execute(&mut *c)
        .expect("q");
    month
}

/// A flash message or an error on a page, without tags.
fn text(html: &str) -> String {
    let no_tags = regex::Regex::new(r"<[^>]+>").expect("re").replace_all(html, " ").to_string();
    no_tags.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A market with activity last month: 100.00 deposited; three leads, one approved,
/// one rejected, one pending. Returns the market, its advertiser's logged-in client
/// and the month.
async fn month_of_activity(app: &TestApp, name: &str) -> (Market, reqwest::Client, Month) {
    let m = Market::of(&offer(name)).deposit(100_00).seed(&app.db.url);
    let (a, b) = (lead(app, &m, &format!("{name}-1")).await, lead(app, &m, &format!("{name}-2")).await);
    lead(app, &m, &format!("{name}-3")).await;
    let key = common::api_key(app, m.advertiser_id);
    decide(
        app,
        &key,
        json!([{"lead_id": a, "status": "approved"}, {"lead_id": b, "status": "rejected", "reason": "bad_contact"}]),
    )
    .await;
    let month = into_last_month(app, m.advertiser_id);
    let hash = qualead::crypto::hash_password("Recon-pass-1").expect("hash");
    qualead::store::users::set_password_hash(&mut app.conn(), m.advertiser_id, &hash).expect("password");
    let client = common::new_client();
    assert_eq!(app.login(&client, &m.advertiser_email, "Recon-pass-1").await.status(), StatusCode::SEE_OTHER);
    (m, client, month)
}

/// The statement of a closed month reads from the ledger and adds up; the
/// advertiser confirms it once, with its closing balance; the current month cannot
/// be confirmed yet.
async fn a_closed_month_is_confirmed_once(backend: Backend) {
    let app = app(backend).await;
    let (m, adv, month) = month_of_activity(&app, "Roofs").await;
    let page = format!("/advertiser/reconciliations/{month}");

    let (s, list) = app.get_text(&adv, "/advertiser/reconciliations").await;
    assert_eq!(s, StatusCode::OK);
    assert!(text(&list).contains(&format!("{} Waiting for confirmation", month.label())), "{}", text(&list));

    let (s, html) = app.get_text(&adv, &page).await;
    assert_eq!(s, StatusCode::OK);
    let t = text(&html);
    // Opening 0; deposits 100.00; spent 10.00 (one approval, fee 2.00); closing
    // 90.00, of which 10.00 held for the pending lead.
    assert!(t.contains("Opening balance, 1 ") && t.contains("+ Deposits (1) $100.00"), "{t}");
    assert!(t.contains("− Spent on leads $10.00"), "{t}");
    assert!(!t.to_lowercase().contains("fee"), "an advertiser never sees the platform fee: {t}");
    assert!(t.contains("Closing balance $90.00 $80.00 available, $10.00 held"), "{t}");
    assert!(t.contains("1 approved, 1 pending, 1 rejected"), "{t}");

    let csv = app.get_with(&adv, &format!("{page}/statement.csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/csv"));
    let csv = csv.text().await.expect("csv");
    let rows = qualead::domain::csv::parse(&csv).expect("parses");
    assert_eq!(rows[0], ["month", "line", "offer_id", "offer", "item", "count", "amount", "currency"]);
    let find = |line: &str, item: &str| {
        rows.iter().find(|r| r[1] == line && r[4] == item).unwrap_or_else(|| panic!("{line} {item} in {csv}")).clone()
    };
    let offer_line = format!("offer:{}", m.offer_id);
    assert_eq!(find(&offer_line, "approved")[5..], ["1", "10.00", "USD"]);
    assert_eq!(find(&offer_line, "rejected")[5..], ["1", "10.00", "USD"]);
    assert!(!rows.iter().any(|r| r[4] == "fee"), "no fee in the advertiser's CSV");
    assert_eq!(find("deposits", "deposits")[5..], ["1", "100.00", "USD"]);
    assert_eq!(find("balance", "closing_available")[6], "80.00");
    assert_eq!(find("balance", "closing_held")[6], "10.00");

    // Confirm: once.
    let csrf = csrf_of(&html);
    let r = app.post_form(&adv, &format!("{page}/confirm"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_text(&adv, &page).await;
    let t = text(&html);
    assert!(t.contains("You confirmed the statement of") && t.contains("with a closing balance of $90.00"), "{t}");
    assert!(!html.contains("/confirm\""), "no confirm form on a confirmed month");
    let r = app.post_form(&adv, &format!("{page}/confirm"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_text(&adv, &page).await;
    assert!(text(&html).contains("You confirmed the statement of") && html.contains("already"), "{}", text(&html));
    let r = app
        .post_form(
            &adv,
            &format!("{page}/dispute"),
            &[("csrf_token", &csrf), ("line", "deposits"), ("comment", "late")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let row = rec::find(&mut app.conn(), m.advertiser_id, &month.to_string()).expect("q").expect("row");
    assert_eq!((row.status.as_str(), row.closing_minor), ("confirmed", 90_00));
    assert!(row.snapshot.contains("\"deposits\":{\"count\":1,\"amount\":10000}"), "{}", row.snapshot);
    assert!(
        row.snapshot.contains("\"fee\":0") && !row.snapshot.contains("\"fee\":200"),
        "no fee kept: {}",
        row.snapshot
    );
    assert!(rec::lines(&mut app.conn(), row.id).expect("q").is_empty(), "a confirmed month takes no dispute");

    // The month in progress: readable, not confirmable.
    let now = Month::of(qualead::store::now());
    let (s, html) = app.get_text(&adv, &format!("/advertiser/reconciliations/{now}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text(&html).contains("In progress") && !html.contains("/confirm\""));
    let r = app.post_form(&adv, &format!("/advertiser/reconciliations/{now}/confirm"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_text(&adv, &format!("/advertiser/reconciliations/{now}")).await;
    assert!(text(&html).contains("is not over yet"), "{}", text(&html));
    assert!(rec::find(&mut app.conn(), m.advertiser_id, &now.to_string()).expect("q").is_none());
}

/// Disputed lines reach admins with the advertiser's words; an admin resolves the
/// month with a note the advertiser reads; the month leaves the open list.
async fn disputes_reach_admins_and_are_resolved(backend: Backend) {
    let app = app(backend).await;
    let (m, adv, month) = month_of_activity(&app, "Boilers").await;
    let (quiet, quiet_adv, _) = month_of_activity(&app, "Windows").await;
    let page = format!("/advertiser/reconciliations/{month}");
    let (_, html) = app.get_text(&adv, &page).await;
    let csrf = csrf_of(&html);
    let offer_line = format!("offer:{}", m.offer_id);
    let dispute = |line: &str, comment: &str| {
        let (line, comment) = (line.to_string(), comment.to_string());
        let (adv, csrf, app, page) = (&adv, &csrf, &app, &page);
        async move {
            let r = app
                .post_form(
                    adv,
                    &format!("{page}/dispute"),
                    &[("csrf_token", csrf), ("line", &line), ("comment", &comment)],
                )
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER);
            text(&app.get_text(adv, page).await.1)
        }
    };
    assert!(dispute(&offer_line, "   ").await.contains("Say what is wrong"), "a comment is required");
    assert!(dispute("offer:999999", "not ours").await.contains("is not a line of the statement"));
    let t = dispute(&offer_line, "Our CRM shows the rejected lead as approved").await;
    assert!(t.contains("Line disputed") && t.contains("Disputed: waiting for an admin"), "{t}");
    dispute("deposits", "We wired 150.00, not 100.00").await;
    let row = rec::find(&mut app.conn(), m.advertiser_id, &month.to_string()).expect("q").expect("row");
    assert_eq!(row.status.as_str(), "disputed");
    assert_eq!(rec::lines(&mut app.conn(), row.id).expect("q").len(), 2);
    // A disputed month is not confirmed over the dispute.
    let r = app.post_form(&adv, &format!("{page}/confirm"), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(text(&app.get_text(&adv, &page).await.1).contains("an admin resolves them first"));

    let admin = app.login_as("admin", "recon-admin@example.com").await;
    let (s, html) = app.get_text(&admin, "/admin/reconciliations").await;
    assert_eq!(s, StatusCode::OK);
    let t = text(&html);
    assert!(t.contains(&format!("{} {} Disputed: waiting for an admin 2", month.label(), m.advertiser_email)), "{t}");
    assert!(t.contains(&format!("{} {} Waiting for confirmation 0", month.label(), quiet.advertiser_email)), "{t}");
    let (_, home) = app.get_text(&admin, "/admin").await;
    assert!(text(&home).contains("2 monthly reconciliations open"), "the overview counts them: {}", text(&home));
    let admin_page = format!("/admin/reconciliations/{}/{month}", m.advertiser_id);
    let (s, html) = app.get_text(&admin, &admin_page).await;
    assert_eq!(s, StatusCode::OK);
    let t = text(&html);
    assert!(
        t.contains("Our CRM shows the rejected lead as approved") && t.contains("We wired 150.00, not 100.00"),
        "{t}"
    );
    assert!(t.contains("Deposits") && t.contains("Offer #"), "disputed lines are named in words: {t}");
    assert!(t.contains("of which platform fee $2.00"), "admins see the fee: {t}");
    let csv = app.get_with(&admin, &format!("{admin_page}/statement.csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.expect("csv");
    assert!(csv.contains(&format!("{month},offer:{},{},Boilers,fee,,2.00,USD", m.offer_id, m.offer_id)), "{csv}");

    let csrf_admin = csrf_of(&html);
    let r =
        app.post_form(&admin, &format!("{admin_page}/resolve"), &[("csrf_token", &csrf_admin), ("note", " ")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(text(&app.get_text(&admin, &admin_page).await.1).contains("Say how the dispute was resolved"));
    let note = "The second wire arrived in the next month; it is on that statement.";
    let r =
        app.post_form(&admin, &format!("{admin_page}/resolve"), &[("csrf_token", &csrf_admin), ("note", note)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t = text(&app.get_text(&adv, &page).await.1);
    assert!(t.contains("Dispute resolved") && t.contains(note), "{t}");
    assert!(!t.contains("Dispute this line"), "a resolved month is closed");
    let t = text(&app.get_text(&admin, "/admin/reconciliations").await.1);
    assert!(!t.contains(&m.advertiser_email), "resolved months leave the open list: {t}");
    let r =
        app.post_form(&admin, &format!("{admin_page}/resolve"), &[("csrf_token", &csrf_admin), ("note", note)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(text(&app.get_text(&admin, &admin_page).await.1).contains("is not disputed"));
    let audit = qualead::store::audit::recent(&mut app.conn(), 20).expect("audit");
    assert!(audit.iter().any(|e| e.action == "reconciliation.resolve" && e.subject_id == Some(m.advertiser_id)));
    drop(quiet_adv);
}

/// Who reaches what: an advertiser only its own statements, never the admin's
/// pages; a publisher none; paths that name no month or no advertiser are 404.
async fn permission_matrix(backend: Backend) {
    let app = app(backend).await;
    let (m, adv, month) = month_of_activity(&app, "Gutters").await;
    let (other, other_adv, _) = month_of_activity(&app, "Fences").await;
    let page = format!("/advertiser/reconciliations/{month}");

    // Each advertiser's statement of the same month shows its own offer only.
    let mine = text(&app.get_text(&adv, &page).await.1);
    let theirs = text(&app.get_text(&other_adv, &page).await.1);
    assert!(mine.contains("Gutters") && !mine.contains("Fences"), "{mine}");
    assert!(theirs.contains("Fences") && !theirs.contains("Gutters"), "{theirs}");
    // Disputing another advertiser's offer line is not a line of one's own statement.
    let csrf = csrf_of(&app.get_text(&other_adv, &page).await.1);
    let line = format!("offer:{}", m.offer_id);
    app.post_form(&other_adv, &format!("{page}/dispute"), &[("csrf_token", &csrf), ("line", &line), ("comment", "x")])
        .await;
    assert!(rec::find(&mut app.conn(), other.advertiser_id, &month.to_string()).expect("q").is_none());
    assert!(rec::find(&mut app.conn(), m.advertiser_id, &month.to_string()).expect("q").is_none());

    // Admin pages are admins' only.
    let admin_page = format!("/admin/reconciliations/{}/{month}", m.advertiser_id);
    // Resolving a month nobody disputed: refused in words, not a missing page.
    let admin = app.login_as("admin", "recon-admin2@example.com").await;
    let csrf_admin = csrf_of(&app.get_text(&admin, &admin_page).await.1);
    let r =
        app.post_form(&admin, &format!("{admin_page}/resolve"), &[("csrf_token", &csrf_admin), ("note", "n/a")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(text(&app.get_text(&admin, &admin_page).await.1).contains("is not disputed"));
    assert!(rec::find(&mut app.conn(), m.advertiser_id, &month.to_string()).expect("q").is_none());
    for path in ["/admin/reconciliations".to_string(), admin_page.clone(), format!("{admin_page}/statement.csv")] {
        assert_eq!(app.get_with(&other_adv, &path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = app
        .post_form(&other_adv, &format!("{admin_page}/resolve"), &[("csrf_token", &csrf), ("note", "mine now")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let publisher = app.login_as("publisher", "recon-pub@example.com").await;
    for path in ["/advertiser/reconciliations".to_string(), page.clone(), format!("{page}/statement.csv")] {
        assert_eq!(app.get_with(&publisher, &path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let anonymous = common::new_client();
    let r = app.get_with(&anonymous, &format!("{page}/statement.csv")).await;
    assert!(r.status().is_redirection(), "{}", r.status());

    // Paths naming no month, a future month, or no advertiser.
    let next = Month::of(qualead::store::now()).next();
    for path in [
        "/advertiser/reconciliations/2026-13",
        "/advertiser/reconciliations/1999-12",
        "/advertiser/reconciliations/abc",
    ] {
        assert_eq!(app.get_with(&adv, path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        app.get_with(&adv, &format!("/advertiser/reconciliations/{next}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let publisher_id =
        qualead::store::users::find_by_email(&mut app.conn(), "recon-pub@example.com").expect("q").expect("u").id;
    for path in
        [format!("/admin/reconciliations/{publisher_id}/{month}"), format!("/admin/reconciliations/999999/{month}")]
    {
        assert_eq!(app.get_with(&admin, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.get_with(&admin, &admin_page).await.status(), StatusCode::OK);
}

both_backends!(a_closed_month_is_confirmed_once, disputes_reach_admins_and_are_resolved, permission_matrix);
