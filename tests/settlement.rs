//! The settlement run against a real server's database: every scrub rule decides
//! real leads (from real clicks and postbacks), money follows DESIGN §8, leads in
//! hold stay pending, and runs in several processes at once settle each lead once.

// Money is written in minor units grouped as major_minor (100_00 is 100.00).
#![allow(clippy::inconsistent_digit_grouping)]

mod common;

use common::{BROWSER, Backend, Market, TestApp, spawn_app_with};
use diesel::prelude::*;
use qualead::domain::offer::{OfferBody, Terms, split_price};
use qualead::settlement::run::{BATCH, settle_due};
use qualead::store::offers::MembershipStatus;
use qualead::store::{leads, ledger, now, rollups};

/// The server's own periodic run stays out of the way; tests run settlement themselves.
const QUIET: &[(&str, &str)] = &[("QUALEAD_SETTLE_INTERVAL_SECS", "3600")];

fn offer(price: &str, terms: Terms) -> OfferBody {
    OfferBody {
        name: "Insurance quotes".into(),
        category: "finance".into(),
        landing_url: "https://adv.example/q?cid={click_id}".into(),
        fallback_url: Some("https://adv.example/".into()),
        payout_model: "cpl".into(),
        price: Some(price.into()),
        terms,
        ..Default::default()
    }
}

fn quick_terms() -> Terms {
    Terms { hold_hours: 0, required_fields: vec!["email".into()], ..Terms::default() }
}

/// Click the publisher's link with a user agent; the click id.
async fn click(app: &TestApp, m: &Market, agent: &str) -> String {
    common::click_through(app, &common::visitor(agent), &m.token, "").await
}

/// A click and a postback carrying lead fields; the accepted lead's id.
async fn lead(app: &TestApp, m: &Market, agent: &str, fields: &[(&str, &str)]) -> i64 {
    let cid = click(app, m, agent).await;
    common::accepted_lead(app, &m.postback_token, &cid, fields).await
}

fn settle(app: &TestApp) -> qualead::settlement::run::Summary {
    settle_due(&mut app.conn(), now(), BATCH).expect("settlement run")
}

fn balance(app: &TestApp, account: &str) -> i64 {
    ledger::balance(&mut app.conn(), account).expect("balance")
}

fn healthy(app: &TestApp) {
    let h = ledger::health(&mut app.conn()).expect("health");
    assert!(h.balanced, "{h:?}");
}

async fn every_rule_decides_real_leads_and_money_follows(backend: Backend) {
    let app = spawn_app_with(backend, QUIET).await;
    let mut terms = quick_terms();
    terms.required_fields = vec!["email".into(), "name".into()];
    let m = Market::of(&offer("10.00", terms)).deposit(100_00).seed(&app.db.url);
    let good =
        lead(&app, &m, BROWSER, &[("email", " Ann@Example.com "), ("name", "Ann  Lee"), ("phone", "+44 20 7946 0018")])
            .await;
    let disposable = lead(&app, &m, BROWSER, &[("email", "x@mailinator.com"), ("name", "Bo Chen")]).await;
    let duplicate = lead(&app, &m, BROWSER, &[("email", "ann@example.COM"), ("name", "Ann Lee")]).await;
    // A lead without a required field is refused at intake: it never holds money.
    let cid = click(&app, &m, BROWSER).await;
    let (status, refused) = common::postback_for(&app, &m.postback_token, &cid, &[("name", "Dee Park")]).await;
    assert_eq!((status.as_u16(), refused["reason"].as_str()), (422, Some("missing_field")), "{refused}");
    assert_eq!(refused["fields"], serde_json::json!(["email"]));
    let bot = lead(&app, &m, "curl/8.5.0", &[("email", "eve@example.org"), ("name", "Eve Stone")]).await;
    let gibberish = lead(&app, &m, BROWSER, &[("email", "fay@example.net"), ("name", "asdfgh qwerty")]).await;
    let bad_phone =
        lead(&app, &m, BROWSER, &[("email", "gil@example.io"), ("name", "Gil Roy"), ("phone", "+44 12")]).await;

    // Everything is reserved; nothing is decided before the run.
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 60_00);
    let s = settle(&app);
    assert_eq!((s.approved, s.rejected), (1, 5), "{s:?}");

    let mut conn = app.conn();
    let get = |conn: &mut qualead::db::DbConn, id| leads::find(conn, id).expect("query").expect("lead");
    let g = get(&mut conn, good);
    assert_eq!(g.status.as_str(), "approved");
    assert_eq!(g.reason_list(), Vec::<String>::new());
    let checks: Vec<qualead::domain::scrub::Check> = serde_json::from_str(&g.checks).expect("checks");
    assert!(checks.len() >= 6 && checks.iter().all(|c| c.passed), "{checks:?}");
    assert!(g.score.expect("score") >= 90, "{:?}", g.score);
    assert_eq!((g.email_norm.as_deref(), g.phone_norm.as_deref()), (Some("ann@example.com"), Some("+442079460018")));
    for (id, code) in [
        (disposable, "disposable_email"),
        (duplicate, "duplicate_contact"),
        (bot, "bot_traffic"),
        (gibberish, "gibberish_name"),
        (bad_phone, "invalid_phone"),
    ] {
        let l = get(&mut conn, id);
        assert_eq!(l.status.as_str(), "rejected", "lead {id} ({code})");
        assert!(l.reason_list().contains(&code.to_string()), "{code}: {:?}", l.reason_list());
        assert!(l.score.expect("score") < g.score.expect("score"), "{code}");
        let history = leads::history(&mut conn, id).expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(
            (history[1].from_status.map(|s| s.as_str()), history[1].to_status.as_str()),
            (Some("pending"), "rejected")
        );
        assert!(history[1].reason.contains(code));
    }
    let detail = get(&mut conn, duplicate).checks;
    assert!(detail.contains(&format!("same e-mail as lead #{good}\"")), "only the case differed: {detail}");
    // The publisher is not told which lead (it may be another publisher's).
    let dup_lead = get(&mut conn, duplicate);
    let seen =
        qualead::settlement::view::lead(&mut conn, &acting(&app, m.publisher_id), dup_lead).expect("publisher view");
    let d = seen.checks.iter().find(|c| c.code == "duplicate_contact").expect("duplicate check");
    assert!(!d.passed && !d.detail.contains('#'), "{d:?}");
    assert_eq!(d.detail, "same e-mail as an earlier lead");

    // Money (DESIGN §8): the approved price is split, the rejected ones go back.
    let (fee, payout) = split_price(10_00, 2000);
    assert_eq!(balance(&app, &ledger::escrow(m.advertiser_id)), 0);
    assert_eq!(balance(&app, &ledger::advertiser(m.advertiser_id)), 100_00 - 10_00);
    assert_eq!(balance(&app, &ledger::publisher(m.publisher_id)), payout);
    assert_eq!(balance(&app, ledger::PLATFORM_FEES), fee);
    let totals = rollups::offer_totals(&mut conn, m.offer_id).expect("rollups");
    assert_eq!((totals.pending, totals.approved, totals.rejected), (0, 1, 5));
    assert_eq!(totals.approved_payout_minor, payout);
    healthy(&app);

    // A second run finds nothing; a lead still in hold stays pending.
    assert_eq!(settle(&app).settled(), 0);
    let held = Market::of(&offer("5.00", Terms::default())).deposit(10_00).seed(&app.db.url);
    let waiting = lead(&app, &held, BROWSER, &[("email", "hal@example.com")]).await;
    assert_eq!(settle(&app).settled(), 0);
    assert_eq!(get(&mut conn, waiting).status.as_str(), "pending");
    let later = now() + chrono::Duration::hours(73);
    assert_eq!(settle_due(&mut conn, later, BATCH).expect("run").approved, 1);
    healthy(&app);
}

async fn offer_parameters_switch_rules(backend: Backend) {
    let app = spawn_app_with(backend, QUIET).await;
    // Velocity: at most 2 leads per IP (all test clicks come from 127.0.0.1);
    // advertiser-wide duplicates; a minimum score; bots allowed.
    let mut terms = quick_terms();
    terms.scrub.max_leads_per_ip = 2;
    terms.scrub.duplicate_scope = "advertiser".into();
    terms.scrub.block_bots = false;
    let m = Market::of(&offer("4.00", terms.clone())).deposit(100_00).seed(&app.db.url);
    let mut ids = Vec::new();
    for (i, agent) in ["curl/8", BROWSER, BROWSER].iter().enumerate() {
        ids.push(lead(&app, &m, agent, &[("email", &format!("p{i}@example.com"))]).await);
    }
    settle(&app);
    let mut conn = app.conn();
    let statuses: Vec<(String, Vec<String>)> = ids
        .iter()
        .map(|id| {
            let l = leads::find(&mut conn, *id).expect("q").expect("lead");
            (l.status.to_string(), l.reason_list())
        })
        .collect();
    assert_eq!(statuses[0], ("approved".to_string(), vec![]), "bots allowed by this offer");
    assert_eq!(statuses[1].0, "approved");
    assert_eq!(statuses[2], ("rejected".to_string(), vec!["ip_velocity".to_string()]));

    // A second offer of the same advertiser: advertiser-scoped duplicate of an approved lead.
    let o2 = qualead::store::offers::create(
        &mut conn,
        m.advertiser_id,
        &qualead::domain::offer::validate(&offer("4.00", terms)).expect("valid"),
    )
    .expect("offer");
    qualead::store::offers::set_status(
        &mut conn,
        o2.id,
        qualead::domain::offer::OfferStatus::Draft,
        qualead::domain::offer::OfferStatus::Active,
        None,
    )
    .expect("activate");
    let member =
        qualead::store::offers::add_member(&mut conn, o2.id, m.publisher_id, MembershipStatus::Approved, false)
            .expect("member");
    let m2 = Market { offer_id: o2.id, token: member.token, postback_token: o2.postback_token, ..m.clone() };
    let dup = lead(&app, &m2, BROWSER, &[("email", "P1@example.com")]).await;
    settle(&app);
    let l = leads::find(&mut conn, dup).expect("q").expect("lead");
    assert_eq!((l.status.as_str(), l.reason_list()), ("rejected", vec!["duplicate_contact".to_string()]));
    healthy(&app);
}

async fn concurrent_runs_in_several_processes_settle_each_lead_once(backend: Backend) {
    let app = spawn_app_with(backend, QUIET).await;
    let m = Market::of(&offer("3.00", quick_terms())).deposit(10_000_00).seed(&app.db.url);
    let mut ids = Vec::new();
    for i in 0..240 {
        let email = if i % 4 == 0 { format!("x{i}@mailinator.com") } else { format!("u{i}@example.com") };
        ids.push(lead(&app, &m, BROWSER, &[("email", &email)]).await);
    }
    // Two `qualead settle --once` processes and this one, at the same time, in small batches.
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_qualead"))
            .args(["settle", "--once"])
            .env("DATABASE_URL", &app.db.url)
            .env("QUALEAD_DATA_DIR", app.data_dir.display().to_string())
            .env("QUALEAD_SECRET_KEY", "7a".repeat(64))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("qualead settle")
    };
    let (a, b) = (spawn(), spawn());
    let mine = settle_due(&mut app.conn(), now(), 16).expect("run");
    let mut settled = mine.settled();
    for child in [a, b] {
        let out = child.wait_with_output().expect("settle process");
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let n: i64 = text
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected output {text:?}"));
        settled += n;
    }
    assert_eq!(settled, 240, "every lead settled exactly once across the three runs");

    use qualead::db::schema::{lead_events, ledger_transactions};
    let mut conn = app.conn();
    let per_lead: Vec<(Option<i64>, i64)> = ledger_transactions::table
        .filter(ledger_transactions::kind.eq_any(["lead_approved", "lead_rejected"]))
        .group_by(ledger_transactions::lead_id)
        .select((ledger_transactions::lead_id, diesel::dsl::count_star()))
        .load(&mut conn)
        .expect("ledger");
    assert_eq!(per_lead.len(), 240);
    assert!(per_lead.iter().all(|(_, n)| *n == 1), "a lead was settled twice: {per_lead:?}");
    let decided: i64 = lead_events::table
        .filter(lead_events::from_status.eq("pending"))
        .count()
        .get_result(&mut conn)
        .expect("events");
    assert_eq!(decided, 240);
    let rejected = ids
        .iter()
        .filter(|id| leads::find(&mut conn, **id).expect("q").expect("lead").status.as_str() == "rejected")
        .count();
    assert_eq!(rejected, 60);
    healthy(&app);
}

fn acting(app: &TestApp, user_id: i64) -> qualead::acting::Acting {
    let user = qualead::store::users::find(&mut app.conn(), user_id).expect("q").expect("user");
    qualead::acting::Acting {
        user,
        ip: None,
        base_url: app.address.clone(),
        currency: "USD".into(),
        platform_fee_bps: 2000,
    }
}

/// A denied return puts the lead back with its first decision time (the return
/// window does not start again), and a lead is returned once only.
async fn a_lead_is_returned_once_and_a_denial_keeps_its_window(backend: Backend) {
    use qualead::domain::lifecycle::Ruling;
    use qualead::settlement::actions;
    let app = spawn_app_with(backend, QUIET).await;
    let terms = Terms { max_return_rate_pct: 100, ..quick_terms() };
    let m = Market::of(&offer("10.00", terms)).deposit(100_00).seed(&app.db.url);
    let id = lead(&app, &m, BROWSER, &[("email", "ivy@example.com")]).await;
    settle(&app);
    let admin_id = qualead::store::users::create(
        &mut app.conn(),
        qualead::store::users::UserSpec::active(
            "ruler@example.com",
            "x",
            qualead::domain::account::Role::Admin,
            "Ruler",
        ),
    )
    .expect("admin")
    .id;
    let (adv, admin) = (acting(&app, m.advertiser_id), acting(&app, admin_id));
    let mut conn = app.conn();
    let first = leads::find(&mut conn, id).expect("q").expect("lead").decided_at;
    // Straight to the database: the e-mails and postbacks queued are not looked at.
    let (dispute, _effects) =
        conn.write_tx(|c| actions::return_lead(c, &adv, id, "bad_contact", "wrong number")).expect("returned");
    let (_ruled, _effects) =
        conn.write_tx(|c| actions::rule(c, &admin, dispute.id, Ruling::Denied, "the number works")).expect("ruled");
    let l = leads::find(&mut conn, id).expect("q").expect("lead");
    assert_eq!((l.status.as_str(), l.decided_at), ("approved", first), "denied: back to approved, same window");
    let again = conn.write_tx(|c| actions::return_lead(c, &adv, id, "bad_contact", "still wrong"));
    assert_eq!(again.expect_err("a second return").code(), "already_returned");
    // Money never moved for the denied return.
    let (fee, payout) = split_price(10_00, 2000);
    assert_eq!(balance(&app, &ledger::publisher(m.publisher_id)), payout);
    assert_eq!(balance(&app, ledger::PLATFORM_FEES), fee);
    healthy(&app);
}

/// DESIGN §7: one mailbox's spellings are one e-mail (Gmail's dots and +tags); the
/// detail says what matched and how the e-mail was compared, and the publisher reads
/// it without the other lead's id or the address.
async fn duplicates_compare_provider_normalised_emails(backend: Backend) {
    let app = spawn_app_with(backend, QUIET).await;
    let m = Market::of(&offer("2.00", quick_terms())).deposit(100_00).seed(&app.db.url);
    let first = lead(&app, &m, BROWSER, &[("email", "jdoe@gmail.com"), ("phone", "+44 20 7946 0018")]).await;
    let dotted = lead(&app, &m, BROWSER, &[("email", "J.Doe+promo@GoogleMail.com")]).await;
    let phone = lead(&app, &m, BROWSER, &[("email", "other@example.com"), ("phone", "+442079460018")]).await;
    let tagged = lead(&app, &m, BROWSER, &[("email", "ann+x@example.com")]).await;
    let plain = lead(&app, &m, BROWSER, &[("email", "ann@example.com")]).await;
    let s = settle(&app);
    assert_eq!((s.approved, s.rejected), (3, 2), "{s:?}");

    let mut conn = app.conn();
    let get = |conn: &mut qualead::db::DbConn, id| leads::find(conn, id).expect("query").expect("lead");
    assert_eq!(get(&mut conn, dotted).email_norm.as_deref(), Some("jdoe@gmail.com"));
    assert_eq!(get(&mut conn, tagged).email_norm.as_deref(), Some("ann+x@example.com"), "a +tag counts elsewhere");
    for (id, status) in
        [(first, "approved"), (dotted, "rejected"), (phone, "rejected"), (tagged, "approved"), (plain, "approved")]
    {
        assert_eq!(get(&mut conn, id).status.as_str(), status, "lead {id}");
    }
    let detail = |conn: &mut qualead::db::DbConn, id| {
        let checks: Vec<qualead::domain::scrub::Check> = serde_json::from_str(&get(conn, id).checks).expect("checks");
        checks.into_iter().find(|c| c.code == "duplicate_contact").expect("duplicate check").detail
    };
    assert_eq!(
        detail(&mut conn, dotted),
        format!("same e-mail as lead #{first} (j.doe+promo@googlemail.com compares as jdoe@gmail.com)")
    );
    assert_eq!(detail(&mut conn, phone), format!("same phone as lead #{first}"));

    let dup_lead = get(&mut conn, dotted);
    let seen =
        qualead::settlement::view::lead(&mut conn, &acting(&app, m.publisher_id), dup_lead).expect("publisher view");
    let d = seen.checks.iter().find(|c| c.code == "duplicate_contact").expect("duplicate check");
    assert_eq!(d.detail, "same e-mail as an earlier lead (compared as a Gmail address: dots and +tags do not count)");
    healthy(&app);
}

/// DESIGN §7 `slow_conversion`: a conversion more than `max_conversion_days` after
/// its click is rejected, with how long it took in words; a prompt one passes.
async fn a_slow_conversion_is_rejected_with_its_delay(backend: Backend) {
    let app = spawn_app_with(backend, QUIET).await;
    let mut terms = quick_terms();
    terms.scrub.max_conversion_days = 2;
    let m = Market::of(&offer("3.00", terms)).deposit(100_00).seed(&app.db.url);
    let prompt = lead(&app, &m, BROWSER, &[("email", "ann@example.com")]).await;
    let late = click(&app, &m, BROWSER).await;
    {
        use qualead::db::schema::clicks::dsl as c;
        let when = now() - chrono::Duration::hours(75);
        let n = diesel::update(c::clicks.filter(c::click_id.eq(&late)))
            .set(c::created_at.eq(when))
            .execute(&mut app.conn());
        assert_eq!(n.expect("backdate"), 1);
    }
    let slow = common::accepted_lead(&app, &m.postback_token, &late, &[("email", "bob@example.com")]).await;
    let s = settle(&app);
    assert_eq!((s.approved, s.rejected), (1, 1), "{s:?}");
    let check = |id: i64| {
        let lead = leads::find(&mut app.conn(), id).expect("q").expect("lead");
        let checks: Vec<qualead::domain::scrub::Check> = serde_json::from_str(&lead.checks).expect("checks");
        let c = checks.into_iter().find(|c| c.code == "slow_conversion").expect("slow_conversion ran");
        (lead.status.as_str().to_string(), c.passed, c.detail)
    };
    let (status, passed, detail) = check(slow);
    assert_eq!((status.as_str(), passed), ("rejected", false), "{detail}");
    assert!(detail.contains("3 days") && detail.contains("within 2 days"), "{detail}");
    let (status, passed, _) = check(prompt);
    assert_eq!((status.as_str(), passed), ("approved", true));
    healthy(&app);
}

both_backends!(
    a_slow_conversion_is_rejected_with_its_delay,
    duplicates_compare_provider_normalised_emails,
    a_lead_is_returned_once_and_a_denial_keeps_its_window,
    every_rule_decides_real_leads_and_money_follows,
    offer_parameters_switch_rules,
    concurrent_runs_in_several_processes_settle_each_lead_once,
);
