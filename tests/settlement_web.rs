//! Settlement in the browser (server-rendered forms over real HTTP, both backends):
//! an admin records a deposit, leads arrive by postback and are settled by the
//! admin's "run settlement now"; each role reads its lead pages (publishers with
//! masked contact data); the advertiser decides early and returns a lead, the
//! publisher contests a rejection, the admin rules from the dispute queue; the
//! publisher is paid out; statements and the ledger page add up; and each page is
//! for its role only.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{Backend, Market, PASSWORD, TestApp, csrf_of, spawn_app_with};
use qualead::domain::offer::{OfferBody, Terms};
use qualead::domain::scrub::mask_email;
use qualead::store::{leads, ledger, users};
use reqwest::StatusCode;

const BROWSER: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

/// A server whose own settlement timer never fires during a test: settlement runs
/// only when the admin presses the button.
async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[("QUALEAD_SETTLE_INTERVAL_SECS", "86400")]).await
}

fn offer(terms: Terms) -> OfferBody {
    OfferBody { terms, ..common::solar_offer("10.00") }
}

/// Leads are due at once.
fn no_hold() -> Terms {
    Terms { hold_hours: 0, ..Default::default() }
}

/// A market (offer, advertiser with no money, approved publisher) and a browser
/// session for each role.
struct World {
    m: Market,
    admin: reqwest::Client,
    adv: reqwest::Client,
    publisher: reqwest::Client,
    publisher_email: String,
}

async fn world(app: &TestApp, terms: Terms, admin_email: &str) -> World {
    let (m, adv, publisher, publisher_email) = common::signed_in_market(app, &offer(terms), 0, PASSWORD).await;
    let admin = app.login_as("admin", admin_email).await;
    World { m, admin, adv, publisher, publisher_email }
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Post a form from `page` (with its CSRF token); expect the redirect and return
/// the page it leads to (with the flash message).
async fn post(app: &TestApp, client: &reqwest::Client, page: &str, path: &str, form: &[(&str, &str)]) -> String {
    let r = app.submit(client, page, path, form).await;
    let status = r.status();
    let to = location(&r);
    assert_eq!(status, StatusCode::SEE_OTHER, "POST {path}: {}", r.text().await.unwrap_or_default());
    let (status, html) = app.get_text(client, &to).await;
    assert_eq!(status, StatusCode::OK, "GET {to}");
    html
}

/// The flash message of a page.
fn flash(html: &str) -> String {
    regex::Regex::new(r#"(?s)<div class="flash flash-(\w+)" role="status">(.*?)</div>"#)
        .expect("re")
        .captures(html)
        .map(|c| format!("{}: {}", &c[1], &c[2]))
        .unwrap_or_default()
}

/// A click through the publisher's link from a browser; the click id.
async fn click(app: &TestApp, m: &Market) -> String {
    common::click_through(app, &common::visitor(BROWSER), &m.token, "sub1=blog").await
}

/// A [`world`] with admin@example.com as its admin and `amount` deposited by the
/// admin for the advertiser.
async fn funded_world(app: &TestApp, terms: Terms, amount: &str) -> World {
    let w = world(app, terms, "admin@example.com").await;
    deposit(app, &w, amount).await;
    w
}

/// The admin upholds the dispute whose ruling form is on `lead_page` (lead `id`'s
/// admin page), with `note`: the dispute's id and the page after the ruling.
async fn uphold(app: &TestApp, w: &World, id: i64, lead_page: &str, note: &str) -> (String, String) {
    let dispute = ruling_form(lead_page);
    let page = post(
        app,
        &w.admin,
        &format!("/admin/leads/{id}"),
        &format!("/admin/disputes/{dispute}/rule"),
        &[("ruling", "upheld"), ("note", note)],
    )
    .await;
    (dispute, page)
}

/// A conversion of a fresh click by the advertiser's postback; the lead id.
async fn lead(app: &TestApp, m: &Market, email: &str, name: &str) -> i64 {
    let cid = click(app, m).await;
    common::accepted_lead(app, &m.postback_token, &cid, &[("email", email), ("name", name)]).await
}

fn status_of(app: &TestApp, id: i64) -> String {
    leads::find(&mut app.conn(), id).expect("q").expect("lead").status.to_string()
}

async fn deposit(app: &TestApp, w: &World, amount: &str) {
    let id = w.m.advertiser_id.to_string();
    let page = post(
        app,
        &w.admin,
        "/admin/deposits",
        "/admin/deposits",
        &[("advertiser_id", &id), ("amount", amount), ("memo", "wire 42")],
    )
    .await;
    assert!(flash(&page).contains(&format!("Deposit of ${amount} recorded")), "{}", flash(&page));
}

async fn run_settlement(app: &TestApp, w: &World) -> String {
    let page = post(app, &w.admin, "/admin/ledger", "/admin/settlement/run", &[]).await;
    flash(&page)
}

/// The dispute id of the ruling form on the admin's lead page.
fn ruling_form(html: &str) -> String {
    regex::Regex::new(r#"action="/admin/disputes/(\d+)/rule""#)
        .expect("re")
        .captures(html)
        .unwrap_or_else(|| panic!("no ruling form in\n{html}"))[1]
        .to_string()
}

async fn assert_healthy_ledger(app: &TestApp, admin: &reqwest::Client) {
    let (status, page) = app.get_text(admin, "/admin/ledger").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<span class=\"badge ok\">balanced</span>") && !page.contains("NOT balanced"), "{page}");
    assert!(ledger::health(&mut app.conn()).expect("health").balanced);
}

/// Deposit, settle, return (past the return rate, then allowed), rule upheld:
/// both parties see the lead reversed with its whole history.
async fn a_lead_is_settled_returned_and_reversed(backend: Backend) {
    let app = app(backend).await;
    // No returns without an admin's say-so.
    let w = funded_world(&app, Terms { max_return_rate_pct: 0, ..no_hold() }, "100.00").await;
    let (_, page) = app.get_text(&w.admin, "/admin/deposits").await;
    assert!(page.contains(&w.m.advertiser_email) && page.contains("100.00") && page.contains("wire 42"));
    let (_, page) = app.get_text(&w.adv, "/advertiser/balance").await;
    assert!(page.contains("100.00"), "the advertiser sees its deposit");

    let raw_email = "Ann.Lee@Example.com";
    let id = lead(&app, &w.m, raw_email, "Ann Lee").await;
    let pub_page = format!("/publisher/leads/{id}");
    let (_, page) = app.get_text(&w.publisher, &pub_page).await;
    assert!(page.contains("badge status-pending") && page.contains("rules run when the hold ends"));
    let (_, page) = app.get_text(&w.adv, "/advertiser/balance").await;
    assert!(page.contains("90.00") && page.contains("10.00"), "price reserved in escrow");

    assert!(run_settlement(&app, &w).await.contains("1 approved, 0 rejected"));
    assert_eq!(status_of(&app, id), "approved");

    // The publisher: approved, every rule outcome, the score, the payout only, the e-mail masked.
    let (status, page) = app.get_text(&w.publisher, &pub_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("badge status-approved"));
    for (rule, label) in [
        ("missing_field", "Missing field"),
        ("invalid_email", "Invalid e-mail"),
        ("disposable_email", "Disposable e-mail"),
        ("duplicate_contact", "Duplicate contact"),
        ("bot_traffic", "Bot traffic"),
    ] {
        assert!(page.contains(&format!("{label}</span> <code class=\"tag\">{rule}</code>")), "rule {rule} shown");
    }
    assert!(page.contains(">passed</span>") && page.contains("Quality score"));
    assert!(page.contains(&mask_email(raw_email)), "masked e-mail {}", mask_email(raw_email));
    assert!(!page.to_lowercase().contains("ann.lee@example.com"), "the raw e-mail never reaches the publisher");
    assert!(page.contains("8.00") && !page.contains("Platform fee"), "payout, not price and fee");
    let (_, list) = app.get_text(&w.publisher, "/publisher/leads?status=approved").await;
    assert!(list.contains(&format!("href=\"/publisher/leads/{id}\"")));
    let (_, list) = app.get_text(&w.publisher, "/publisher/leads?status=rejected").await;
    assert!(!list.contains(&format!("href=\"/publisher/leads/{id}\"")), "the status filter");

    // The advertiser sees the contact data; its return is refused past the offer's
    // maximum return rate (0 % here) until an admin allows more.
    let adv_page = format!("/advertiser/leads/{id}");
    let (_, page) = app.get_text(&w.adv, &adv_page).await;
    assert!(page.contains("ann.lee@example.com") || page.contains(raw_email));
    assert!(page.contains("Return the lead") && page.contains("Returnable until"));
    let return_form = [("reason", "bad_contact"), ("comment", "Number does not exist")];
    let page = post(&app, &w.adv, &adv_page, &format!("/advertiser/leads/{id}/return"), &return_form).await;
    assert!(flash(&page).starts_with("error:") && flash(&page).contains("return_rate_exceeded"), "{}", flash(&page));
    let offer_page = format!("/admin/offers/{}", w.m.offer_id);
    let page =
        post(&app, &w.admin, &offer_page, &format!("/admin/offers/{}/returns", w.m.offer_id), &[("extra", "1")]).await;
    assert!(flash(&page).contains("may now make 1 returns"), "{}", flash(&page));
    let page = post(&app, &w.adv, &adv_page, &format!("/advertiser/leads/{id}/return"), &return_form).await;
    assert!(flash(&page).starts_with("success:") && flash(&page).contains("Lead returned"), "{}", flash(&page));
    assert!(page.contains("badge status-disputed") && page.contains("Number does not exist"));
    app.wait_for_email(&w.publisher_email, "returned the approved").await;

    // The admin's queue lists it with the evidence; the ruling form is on the lead page.
    let (_, queue) = app.get_text(&w.admin, "/admin/disputes").await;
    assert!(queue.contains(&format!("href=\"/admin/leads/{id}\"")) && queue.contains("bad_contact"));
    assert!(queue.contains("Number does not exist") && queue.contains(&w.m.advertiser_email));
    let (_, page) = app.get_text(&w.admin, &format!("/admin/leads/{id}")).await;
    assert!(page.contains(raw_email) || page.contains("ann.lee@example.com"), "admins see the contact data");
    let (dispute, page) = uphold(&app, &w, id, &page, "Verified: the number is dead").await;
    assert!(flash(&page).contains(&format!("Dispute #{dispute} upheld")), "{}", flash(&page));
    assert_eq!(status_of(&app, id), "reversed");
    let (_, upheld) = app.get_text(&w.admin, "/admin/disputes?status=upheld").await;
    assert!(upheld.contains(&format!("href=\"/admin/leads/{id}\"")));
    let (_, open) = app.get_text(&w.admin, "/admin/disputes").await;
    assert!(!open.contains(&format!("href=\"/admin/leads/{id}\"")), "no longer open");
    let (_, audit) = app.get_text(&w.admin, "/admin/audit").await;
    assert!(audit.contains("dispute.rule") && audit.contains("lead.view") && audit.contains("ledger.deposit"));

    // Both parties: reversed, with the whole history and both comments.
    for (client, path) in [(&w.adv, adv_page.as_str()), (&w.publisher, pub_page.as_str())] {
        let (_, page) = app.get_text(client, path).await;
        assert!(page.contains("<span class=\"badge status-reversed\">reversed</span>"), "{path}");
        for needle in ["return_upheld", "Verified: the number is dead", "Number does not exist", "Qualead settlement"] {
            assert!(page.contains(needle), "{needle} on {path}");
        }
        assert!(page.contains("status-pending\">pending</span> → <span class=\"badge status-approved\">"), "{path}");
    }
    app.wait_for_email(&w.publisher_email, "upheld").await;
    let (_, page) = app.get_text(&w.adv, "/advertiser/balance").await;
    assert!(page.contains("100.00"), "the price came back");
    assert_healthy_ledger(&app, &w.admin).await;
}

/// A disposable e-mail fails a rule; the publisher contests, the admin upholds, the
/// publisher requests a payout and is paid; statements list every line.
async fn a_rejection_is_contested_and_the_publisher_paid(backend: Backend) {
    let app = app(backend).await;
    let w = funded_world(&app, no_hold(), "50.00").await;
    let id = lead(&app, &w.m, "x@mailinator.com", "Bo Chan").await;
    assert!(run_settlement(&app, &w).await.contains("0 approved, 1 rejected"));

    let pub_page = format!("/publisher/leads/{id}");
    let (_, page) = app.get_text(&w.publisher, &pub_page).await;
    assert!(
        page.contains("badge status-rejected")
            && page.contains("Disposable e-mail</span> <code class=\"tag\">disposable_email</code>")
    );
    assert!(page.contains("check-failed") && page.contains(">failed</span>"));
    assert!(!page.contains("x@mailinator.com"), "masked");
    assert!(page.contains("Contest the rejection"));

    // An empty comment is refused; a real one opens the dispute.
    let contest = format!("/publisher/leads/{id}/contest");
    let page = post(&app, &w.publisher, &pub_page, &contest, &[("comment", "  ")]).await;
    assert!(flash(&page).contains("invalid_reason"), "{}", flash(&page));
    let page = post(&app, &w.publisher, &pub_page, &contest, &[("comment", "The user confirmed by phone")]).await;
    assert!(flash(&page).contains("Rejection contested"), "{}", flash(&page));
    assert!(page.contains("badge status-disputed") && !page.contains("Contest the rejection"));
    app.wait_for_email(&w.m.advertiser_email, "contested the rejection").await;

    let (_, queue) = app.get_text(&w.admin, "/admin/disputes").await;
    assert!(queue.contains(&format!("href=\"/admin/leads/{id}\"")) && queue.contains("disposable_email"));
    assert!(queue.contains("The user confirmed by phone"));
    let (_, page) = app.get_text(&w.admin, &format!("/admin/leads/{id}")).await;
    let (dispute, page) = uphold(&app, &w, id, &page, "Call recording checked").await;
    assert!(flash(&page).contains("upheld"), "{}", flash(&page));
    assert_eq!(status_of(&app, id), "approved");
    let (_, page) = app.get_text(&w.adv, &format!("/advertiser/leads/{id}")).await;
    assert!(page.contains("contest_upheld") && page.contains("Call recording checked"));
    assert!(page.contains("x@mailinator.com"), "the advertiser sees the contact");
    // Ruling again is refused with its code.
    let r = app
        .submit(
            &w.admin,
            &format!("/admin/leads/{id}"),
            &format!("/admin/disputes/{dispute}/rule"),
            &[("ruling", "denied"), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&w.admin, &location(&r)).await;
    assert!(flash(&page).contains("dispute_closed"), "{}", flash(&page));

    // The payout: the minimum shown and enforced, then requested, paid, e-mailed.
    let (_, page) = app.get_text(&w.publisher, "/publisher/payouts").await;
    assert!(page.contains("8.00") && page.contains("50.00"), "available 8.00, default minimum 50.00");
    let page = post(&app, &w.publisher, "/publisher/payouts", "/publisher/payouts", &[("amount", "8.00")]).await;
    assert!(flash(&page).contains("below_minimum"), "{}", flash(&page));
    let page = post(&app, &w.admin, "/admin/ledger", "/admin/settings/payout-minimum", &[("minimum", "5.00")]).await;
    assert!(flash(&page).contains("5.00") && page.contains("value=\"5.00\""));
    let page = post(&app, &w.publisher, "/publisher/payouts", "/publisher/payouts", &[("amount", "9.00")]).await;
    assert!(flash(&page).contains("insufficient_balance"), "{}", flash(&page));
    let page = post(
        &app,
        &w.publisher,
        "/publisher/payouts",
        "/publisher/payouts",
        &[("amount", "8.00"), ("method", "IBAN DE00 1234")],
    )
    .await;
    assert!(flash(&page).contains("requested"), "{}", flash(&page));
    assert!(page.contains("badge status-requested") && page.contains("IBAN DE00 1234"));
    let (_, desk) = app.get_text(&w.admin, "/admin/payouts").await;
    assert!(desk.contains(&w.publisher_email) && desk.contains("8.00"));
    let payout = regex::Regex::new(r#"action="/admin/payouts/(\d+)/paid""#).expect("re").captures(&desk).expect("form")
        [1]
    .to_string();
    let page =
        post(&app, &w.admin, "/admin/payouts", &format!("/admin/payouts/{payout}/paid"), &[("note", "transfer 777")])
            .await;
    assert!(flash(&page).contains("marked paid"), "{}", flash(&page));
    app.wait_for_email(&w.publisher_email, "was paid").await;
    let (_, page) = app.get_text(&w.publisher, "/publisher/payouts").await;
    assert!(page.contains("badge status-paid") && page.contains("transfer 777"));

    // Statements: every line, with lead links and running balances.
    let (_, st) = app.get_text(&w.publisher, "/publisher/statement").await;
    for needle in ["contested rejection upheld", "payout paid", "$8.00", "−$8.00", &format!("/publisher/leads/{id}")]
    {
        assert!(st.contains(needle), "{needle} on the publisher statement");
    }
    let (_, st) = app.get_text(&w.adv, "/advertiser/statement").await;
    for needle in ["deposit", "lead accepted", "reservation released", "contested rejection upheld", "wire 42"] {
        assert!(st.contains(needle), "{needle} on the advertiser statement");
    }
    assert!(st.contains(&format!("/advertiser/leads/{id}")));
    // 50.00 in, 10.00 reserved, 10.00 released, 10.00 paid on the upheld contest.
    assert!(st.contains("<code>advertiser:") && st.contains("money\">$40.00</span>"), "balance 40.00");
    let (_, escrow) = app.get_text(&w.adv, "/advertiser/statement?account=escrow").await;
    assert!(escrow.contains("<code>escrow:") && escrow.contains("lead accepted"));
    let (_, fees) = app.get_text(&w.admin, "/admin/statement").await;
    assert!(fees.contains("platform:fees") && fees.contains("2.00") && fees.contains("/admin/leads/"));
    let (status, _) = app.get_text(&w.admin, "/admin/statement?account=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_healthy_ledger(&app, &w.admin).await;
}

/// The advertiser approves and rejects pending leads early (a reason is needed),
/// a closed return window is said clearly, admins manage disposable domains.
async fn early_decisions_and_refusals(backend: Backend) {
    let app = app(backend).await;
    let terms = Terms { hold_hours: 48, return_window_days: 0, ..Default::default() };
    let w = funded_world(&app, terms, "30.00").await;
    let first = lead(&app, &w.m, "ann@example.org", "Ann Lee").await;
    let second = lead(&app, &w.m, "bob@example.org", "Bob Ray").await;
    assert!(run_settlement(&app, &w).await.contains("no lead was due"), "held for 48 hours");

    let (_, list) = app.get_text(&w.adv, &format!("/advertiser/leads?offer_id={}&status=pending", w.m.offer_id)).await;
    assert!(
        list.contains(&format!("/advertiser/leads/{first}")) && list.contains(&format!("/advertiser/leads/{second}"))
    );
    let page_1 = format!("/advertiser/leads/{first}");
    let (_, page) = app.get_text(&w.adv, &page_1).await;
    assert!(page.contains("Approve now") && page.contains("Reject now"));
    let page =
        post(&app, &w.adv, &page_1, &format!("/advertiser/leads/{first}/decide"), &[("decision", "approve")]).await;
    assert!(flash(&page).contains("Lead approved"), "{}", flash(&page));
    assert!(page.contains("approved_early"));

    let page_2 = format!("/advertiser/leads/{second}");
    let decide = format!("/advertiser/leads/{second}/decide");
    let page = post(&app, &w.adv, &page_2, &decide, &[("decision", "reject"), ("reason", "other")]).await;
    assert!(flash(&page).contains("invalid_reason") && flash(&page).contains("needs a comment"), "{}", flash(&page));
    assert_eq!(status_of(&app, second), "pending");
    let page = post(
        &app,
        &w.adv,
        &page_2,
        &decide,
        &[("decision", "reject"), ("reason", "other"), ("comment", "Test submission by our QA")],
    )
    .await;
    assert!(flash(&page).contains("Lead rejected"), "{}", flash(&page));
    let (_, page) = app.get_text(&w.publisher, &format!("/publisher/leads/{second}")).await;
    assert!(page.contains("Test submission by our QA") && page.contains("the advertiser"));
    let page = post(&app, &w.adv, &page_2, &decide, &[("decision", "approve")]).await;
    assert!(flash(&page).contains("invalid_transition"), "{}", flash(&page));

    // Return window of 0 days: closed at once, and the page says so.
    let (_, page) = app.get_text(&w.adv, &page_1).await;
    assert!(page.contains("The return window closed"));
    let page = post(
        &app,
        &w.adv,
        &page_1,
        &format!("/advertiser/leads/{first}/return"),
        &[("reason", "duplicate"), ("comment", "")],
    )
    .await;
    assert!(flash(&page).contains("return_window_closed"), "{}", flash(&page));

    // Disposable domains: add (normalised), refuse nonsense, remove.
    let page =
        post(&app, &w.admin, "/admin/ledger", "/admin/disposable-domains", &[("domain", "@Trash-Box.example")]).await;
    assert!(flash(&page).contains("trash-box.example") && page.contains("<code>trash-box.example</code>"));
    let page = post(&app, &w.admin, "/admin/ledger", "/admin/disposable-domains", &[("domain", "not a domain")]).await;
    assert!(flash(&page).starts_with("error:"), "{}", flash(&page));
    let page =
        post(&app, &w.admin, "/admin/ledger", "/admin/disposable-domains/remove", &[("domain", "trash-box.example")])
            .await;
    assert!(flash(&page).contains("removed") && !page.contains("<code>trash-box.example</code>"));

    // Bad amounts are said, not stored.
    let id = w.m.advertiser_id.to_string();
    let page =
        post(&app, &w.admin, "/admin/deposits", "/admin/deposits", &[("advertiser_id", &id), ("amount", "12.345")])
            .await;
    assert!(flash(&page).starts_with("error:"), "{}", flash(&page));
    let page = post(
        &app,
        &w.admin,
        "/admin/deposits",
        "/admin/deposits",
        &[("email", &w.m.advertiser_email.to_uppercase()), ("amount", "5")],
    )
    .await;
    assert!(flash(&page).contains("Deposit of $5.00 recorded"), "by e-mail: {}", flash(&page));
    assert_healthy_ledger(&app, &w.admin).await;
}

/// Each page is for its role; someone else's lead does not exist; a form without
/// its CSRF token is refused.
async fn pages_are_for_their_roles_only(backend: Backend) {
    let app = app(backend).await;
    let w = funded_world(&app, no_hold(), "20.00").await;
    let id = lead(&app, &w.m, "ann@example.org", "Ann Lee").await;
    run_settlement(&app, &w).await;

    for path in [
        "/admin/leads",
        &format!("/admin/leads/{id}"),
        "/admin/disputes",
        "/admin/deposits",
        "/admin/payouts",
        "/admin/ledger",
        "/admin/statement",
    ] {
        assert_eq!(app.get_with(&w.publisher, path).await.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(app.get_with(&w.adv, path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.get_with(&w.publisher, "/advertiser/leads").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_with(&w.adv, "/publisher/payouts").await.status(), StatusCode::FORBIDDEN);
    let visitor = common::new_client();
    let r = app.get_with(&visitor, &format!("/publisher/leads/{id}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login?next="));

    // Another advertiser and another publisher: the lead does not exist for them.
    let other = Market::of(&offer(no_hold())).seed(&app.db.url);
    let hash = qualead::crypto::hash_password(PASSWORD).expect("hash");
    users::set_password_hash(&mut app.conn(), other.advertiser_id, &hash).expect("password");
    users::set_password_hash(&mut app.conn(), other.publisher_id, &hash).expect("password");
    let other_pub_email = users::find(&mut app.conn(), other.publisher_id).expect("q").expect("user").email;
    let other_adv = common::new_client();
    app.login(&other_adv, &other.advertiser_email, PASSWORD).await;
    let other_pub = common::new_client();
    app.login(&other_pub, &other_pub_email, PASSWORD).await;
    assert_eq!(app.get_with(&other_adv, &format!("/advertiser/leads/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&other_pub, &format!("/publisher/leads/{id}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get_with(&other_adv, "/advertiser/leads/999999").await.status(), StatusCode::NOT_FOUND);
    let (_, list) = app.get_text(&other_adv, "/advertiser/leads").await;
    assert!(!list.contains(&format!("/advertiser/leads/{id}\"")), "not in someone else's list");
    let r = app
        .submit(
            &other_adv,
            "/advertiser/leads",
            &format!("/advertiser/leads/{id}/return"),
            &[("reason", "duplicate"), ("comment", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no returns of someone else's lead");
    assert_eq!(status_of(&app, id), "approved");

    // A form without its token, or with another session's, is refused.
    let r = app
        .post_form(&w.adv, &format!("/advertiser/leads/{id}/return"), &[("reason", "duplicate"), ("comment", "")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, page) = app.get_text(&other_adv, "/advertiser/leads").await;
    let foreign = csrf_of(&page);
    let r = app
        .post_form(
            &w.adv,
            &format!("/advertiser/leads/{id}/return"),
            &[("reason", "duplicate"), ("csrf_token", &foreign)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post_form(&w.admin, "/admin/settlement/run", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let id_s = w.m.advertiser_id.to_string();
    let r = app.post_form(&w.admin, "/admin/deposits", &[("advertiser_id", &id_s), ("amount", "1000.00")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, id), "approved");
    // Only an admin records deposits, and only a publisher contests.
    let r = app
        .submit(&w.publisher, "/publisher/payouts", "/admin/deposits", &[("advertiser_id", &id_s), ("amount", "1.00")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r =
        app.submit(&w.adv, "/advertiser/leads", &format!("/publisher/leads/{id}/contest"), &[("comment", "x")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(ledger::balance(&mut app.conn(), &ledger::advertiser(w.m.advertiser_id)).expect("balance"), 10_00);
}

/// Every page of each role reads words, not codes (DESIGN §9 "Words, not codes"):
/// a rejected lead shows its rule as a label with the code in a tag, statuses are
/// labels, and no code with an underscore (nor `cpl`) is left in the page's text.
async fn every_page_reads_words_not_codes(backend: Backend) {
    let app = app(backend).await;
    let w = funded_world(&app, no_hold(), "50.00").await;
    let rejected = lead(&app, &w.m, "x@mailinator.com", "Bo Chan").await;
    let approved = lead(&app, &w.m, "ann@example.org", "Ann Lee").await;
    assert!(run_settlement(&app, &w).await.contains("1 approved, 1 rejected"));
    let adv_page = format!("/advertiser/leads/{approved}");
    let page = post(
        &app,
        &w.adv,
        &adv_page,
        &format!("/advertiser/leads/{approved}/return"),
        &[("reason", "out_of_criteria"), ("comment", "Not a home owner")],
    )
    .await;
    assert!(page.contains("Out of criteria</span> <code class=\"tag\">out_of_criteria</code>"), "the reason's label");

    let (_, page) = app.get_text(&w.publisher, &format!("/publisher/leads/{rejected}")).await;
    assert!(page.contains("<span class=\"badge status-rejected\">rejected</span>"), "the status's label");
    assert!(page.contains("title=\"The e-mail&#39;s domain is a throwaway (disposable) mail service.\""), "explained");

    let offer = w.m.offer_id;
    let pages: [(&reqwest::Client, Vec<String>); 3] = [
        (
            &w.adv,
            vec![
                "/advertiser".into(),
                "/advertiser/offers".into(),
                format!("/advertiser/offers/{offer}"),
                "/advertiser/leads".into(),
                format!("/advertiser/leads/{rejected}"),
                adv_page.clone(),
                "/advertiser/balance".into(),
                "/advertiser/offers/new".into(),
                "/advertiser/reports".into(),
                "/advertiser/statement".into(),
                "/advertiser/reconciliations".into(),
                "/advertiser/verdicts".into(),
                format!("/advertiser/offers/{offer}/webhooks"),
                "/account".into(),
            ],
        ),
        (
            &w.publisher,
            vec![
                "/publisher".into(),
                "/publisher/offers".into(),
                format!("/publisher/offers/{offer}"),
                "/publisher/links".into(),
                "/publisher/leads".into(),
                format!("/publisher/leads/{rejected}"),
                format!("/publisher/leads/{approved}"),
                "/publisher/postbacks".into(),
                "/publisher/payouts".into(),
                "/publisher/reports".into(),
                "/publisher/statement".into(),
            ],
        ),
        (
            &w.admin,
            vec![
                "/admin".into(),
                "/admin/offers".into(),
                format!("/admin/offers/{offer}"),
                "/admin/leads".into(),
                format!("/admin/leads/{rejected}"),
                format!("/admin/leads/{approved}"),
                "/admin/disputes".into(),
                "/admin/users".into(),
                "/admin/payouts".into(),
                "/admin/reports".into(),
                "/admin/traffic".into(),
                "/admin/deposits".into(),
                "/admin/ledger".into(),
                "/admin/reconciliations".into(),
                "/admin/source-blocks".into(),
                "/admin/statement".into(),
            ],
        ),
    ];
    for (client, paths) in pages {
        for path in paths {
            let (status, html) = app.get_text(client, &path).await;
            assert_eq!(status, StatusCode::OK, "GET {path}");
            let raw = common::raw_codes_in_text(&html);
            assert!(raw.is_empty(), "{path} shows raw codes {raw:?}");
        }
    }
}

both_backends!(
    a_lead_is_settled_returned_and_reversed,
    a_rejection_is_contested_and_the_publisher_paid,
    early_decisions_and_refusals,
    pages_are_for_their_roles_only,
    every_page_reads_words_not_codes,
);
