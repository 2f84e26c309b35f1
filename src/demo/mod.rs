//! `qualead demo [--clicks N]` (DESIGN §2): fill an empty database with a believable
//! marketplace — an admin, three advertisers with deposits, eight offers in every
//! payout model and offer state, five publishers, a month of clicks, leads in every
//! lead state, disputes and payouts — and print the logins to try.
//!
//! Nothing is written behind the product's back. Accounts, offers and memberships go
//! through the marketplace operations; clicks through [`clicks::insert_batch`];
//! conversions through the real intake ([`crate::tracking::intake::process_at`]),
//! each by its channel (server postback, pixel, hosted form, publisher API) at the
//! moment it converted, so caps, budgets and required fields refuse exactly what
//! they would refuse live; decisions through the settlement run; returns, contests, rulings,
//! deposits and payouts through the settlement actions. So the ledger balances and
//! the rollups agree with the raw events, exactly as after real traffic.
//!
//! Leads are dated when their click converted (up to 30 days ago): the settlement
//! run finds the holds of the older ones over and leaves the recent ones pending.
//! The traffic is drawn from a seeded generator, so two demos of the same size have
//! the same shape (ids and tokens are random as always).

// Money is written in minor units grouped as major_minor (25_00 is 25.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration as StdDuration, Instant};

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDateTime, Timelike, Weekday};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::acting::Acting;
use crate::app::prepare_database;
use crate::config::Config;
use crate::db::DbConn;
use crate::domain::account::{AccountStatus, Role};
use crate::domain::intake::Channel;
use crate::domain::intake::{Conversion, Params};
use crate::domain::lifecycle::{LeadStatus, Ruling};
use crate::domain::offer::{Caps, OfferBody, OfferStatus, PayoutModel, Scrub, Terms, apply_bps};
use crate::domain::scrub;
use crate::domain::tracking::new_click_id;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::marketplace;
use crate::settlement::{actions, money, run as settlement};
use crate::store::clicks::{self, NewClick};
use crate::store::leads;
use crate::store::ledger;
use crate::store::offers::{self, Offer};
use crate::store::{now, settings, users};
use crate::tracking::intake::{Outcome, process_at};

/// The password of every demo account.
pub const PASSWORD: &str = "demo-password";
/// The domain of every demo account's e-mail address (reserved for testing: no mail is delivered there).
pub const DOMAIN: &str = "demo.qualead.test";
/// Clicks when `--clicks` is not given.
pub const DEFAULT_CLICKS: u64 = 20_000;
/// Fewer clicks than this leave some part of the demo (a lead state, a dispute) empty.
pub const MIN_CLICKS: u64 = 500;
pub const MAX_CLICKS: u64 = 10_000_000;

mod afterwards;
mod cast;
mod intake;
mod traffic;
mod visitors;

use afterwards::*;
use cast::*;
use intake::*;
use traffic::*;
use visitors::*;

/// Clicks per `clicks::insert_batch` call (one transaction each).
const CLICK_BATCH: usize = 1000;
/// Conversions between two updates of the progress bar.
const LEAD_BATCH: usize = 500;
/// How far back the traffic goes.
const DAYS: i64 = 30;

// ------------------------------------------------------------------ the cast

/// A demo account: the e-mail's local part and who it is.
struct Person {
    key: &'static str,
    name: &'static str,
    company: &'static str,
    timezone: &'static str,
}

/// The state an offer is left in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Live,
    /// Live until six days ago, then paused by its advertiser.
    Paused,
    PendingReview,
    /// Submitted and sent back by the admin with a note.
    Draft,
}

/// What a conversion of the offer looks like.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A lead form: contact fields, through one of these channels.
    Lead(&'static [Channel]),
    /// A sale reported by the advertiser's pixel, amount between these (minor units).
    Sale(i64, i64),
    /// A sign-up postback; some sign-ups pay for a subscription days later.
    Action,
}

struct OfferPlan {
    advertiser: usize,
    body: OfferBody,
    stage: Stage,
    kind: Kind,
    /// Share of good clicks that convert.
    cr: f64,
    /// sub2 values: the publishers' campaigns for this offer.
    campaigns: &'static [&'static str],
    /// Platform fee set by the admin for this offer, if not the default.
    fee_bps: Option<i32>,
}

/// Who joins which offer: (offer, publisher, how).
#[derive(Debug, Clone, Copy)]
enum Join {
    /// Approved, with this share of the pair's traffic.
    Approved(u32),
    Pending,
    Declined(&'static str),
}

/// A person as a lead form collects them.
struct Contact {
    name: String,
    email: String,
    phone: String,
}

/// What is wrong with a junk lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    Disposable,
    BadPhone,
    Gibberish,
    InvalidEmail,
    MissingPhone,
    Duplicate,
}

/// A click that converts, as its lead needs it.
#[derive(Debug, Clone)]
struct ClickRef {
    click_id: String,
    country: Option<String>,
    ip: String,
    at: NaiveDateTime,
}

impl ClickRef {
    fn of(c: &NewClick) -> ClickRef {
        ClickRef { click_id: c.click_id.clone(), country: c.country.clone(), ip: c.ip.clone(), at: c.created_at }
    }
}

/// A conversion to send through intake.
#[derive(Debug, Clone)]
struct Planned {
    offer: usize,
    publisher: usize,
    click: ClickRef,
    channel: Channel,
    event: String,
    txid: Option<String>,
    amount_minor: Option<i64>,
    fields: BTreeMap<String, String>,
    consent: bool,
    created_at: NaiveDateTime,
}

/// The offers and accounts as stored, and the clock of the demo.
struct World {
    t0: NaiveDateTime,
    start: NaiveDateTime,
    pause_at: NaiveDateTime,
    plans: Vec<OfferPlan>,
    offers: Vec<Offer>,
    admin: Acting,
    advertisers: Vec<Acting>,
    publishers: Vec<Acting>,
    /// Approved (offer, publisher, weight) pairs that get traffic.
    pairs: Vec<(usize, usize, u32)>,
}

impl World {
    fn live(&self, offer: usize, at: NaiveDateTime) -> bool {
        match self.plans[offer].stage {
            Stage::Live => true,
            Stage::Paused => at < self.pause_at,
            Stage::PendingReview | Stage::Draft => false,
        }
    }
}

// ------------------------------------------------------------------ progress

/// One stage of the fill on stderr: a bar (or a spinner) on a terminal; when stderr
/// is not a terminal nothing is drawn and [`done`] prints one plain line instead.
fn stage(name: &str, len: Option<u64>) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let template = if len.is_some() {
        "{prefix:>9} [{bar:36}] {human_pos}/{human_len} {msg} ({elapsed}, {eta} left)"
    } else {
        "{prefix:>9} {spinner} {msg} ({elapsed})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(name.to_string());
    if len.is_none() && !pb.is_hidden() {
        pb.enable_steady_tick(StdDuration::from_millis(120));
    }
    pb
}

/// End a stage with what it did.
fn done(pb: &ProgressBar, message: String) {
    if pb.is_hidden() {
        eprintln!("demo: {}: {message} ({:.1} s)", pb.prefix(), pb.elapsed().as_secs_f64());
    } else if let Ok(style) = ProgressStyle::with_template("{prefix:>9} {msg} ({elapsed})") {
        pb.set_style(style);
    }
    pb.finish_with_message(message);
}

// ------------------------------------------------------------------ the fill

/// What the demo made, printed when it is done.
#[derive(Debug, Clone)]
pub struct Report {
    pub login_url: String,
    /// (role, e-mail, who)
    pub logins: Vec<(&'static str, String, String)>,
    pub offers: usize,
    pub clicks: u64,
    pub leads_by_status: Vec<(String, i64)>,
    pub intake_rejected: i64,
    pub disputes: usize,
    pub payouts: usize,
    pub seconds: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let leads: i64 = self.leads_by_status.iter().map(|(_, n)| n).sum();
        let by_status = self.leads_by_status.iter().map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ");
        writeln!(
            f,
            "Demo marketplace ready in {:.1} s: {} accounts, {} offers, {} clicks, {leads} leads ({by_status}), \
             {} refused at intake, {}, {}.",
            self.seconds,
            self.logins.len(),
            self.offers,
            self.clicks,
            self.intake_rejected,
            plural(self.disputes, "dispute"),
            plural(self.payouts, "payout"),
        )?;
        writeln!(f)?;
        writeln!(f, "Start the server (`qualead`, or `cargo run --release`) and log in at {}", self.login_url)?;
        writeln!(f)?;
        writeln!(f, "    {:<12}{:<34}{:<16}account", "role", "e-mail", "password")?;
        for (role, email, who) in &self.logins {
            writeln!(f, "    {role:<12}{email:<34}{PASSWORD:<16}{who}")?;
        }
        Ok(())
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Fill the empty database of `config` with `clicks` clicks' worth of marketplace.
/// Refuses (changing nothing) when the database already has accounts.
pub fn run(config: &Config, clicks: u64) -> anyhow::Result<Report> {
    anyhow::ensure!(
        (MIN_CLICKS..=MAX_CLICKS).contains(&clicks),
        "--clicks: use {MIN_CLICKS} to {MAX_CLICKS} clicks (got {clicks})"
    );
    let started = Instant::now();
    let pool = prepare_database(config)?;
    let mut conn = pool.get().context("cannot open a database connection")?;
    let conn: &mut DbConn = &mut conn;
    refuse_unless_empty(conn)?;

    let mut rng = StdRng::seed_from_u64(0x5157_1ead ^ clicks);
    let pb = stage("accounts", None);
    pb.set_message("admin, advertisers, publishers, offers and memberships");
    let world = cast(conn, config)?;
    done(
        &pb,
        format!(
            "{} accounts, {} offers, {} memberships",
            1 + world.advertisers.len() + world.publishers.len(),
            world.offers.len(),
            MEMBERSHIPS.len()
        ),
    );

    let pb = stage("clicks", Some(clicks));
    let mut planned = traffic(conn, &world, &mut rng, clicks, &pb)?;
    done(&pb, format!("{clicks} clicks over the last {DAYS} days, {} of them convert", planned.len()));
    planned.sort_by_key(|p| p.created_at);

    let pb = stage("deposits", None);
    let deposited = deposit(conn, &world, &planned)?;
    done(&pb, format!("{} prepaid by the advertisers", config.money(deposited)));

    let pb = stage("leads", Some(planned.len() as u64));
    let (mut accepted, mut refused) = (0, 0);
    for chunk in planned.chunks(LEAD_BATCH) {
        let (a, r) = intake(conn, config, &world, chunk)?;
        (accepted, refused) = (accepted + a, refused + r);
        pb.inc(chunk.len() as u64);
    }
    done(&pb, format!("{accepted} leads accepted, {refused} conversions refused"));

    let pb = stage("settle", None);
    pb.set_message("scrub rules on every lead whose hold is over");
    let summary = settlement::settle_due(conn, now(), settlement::BATCH)?;
    done(&pb, format!("{} approved, {} rejected", summary.approved, summary.rejected));

    let pb = stage("disputes", None);
    pb.set_message("early decisions, returns, contests and rulings");
    let disputes = people(conn, &world, &mut rng)?;
    pb.set_message("payouts");
    let payouts = payouts(conn, &world)?;
    pause(conn, &world)?;
    done(&pb, format!("{disputes} disputes, {payouts} payouts"));

    let health = ledger::health(conn)?;
    anyhow::ensure!(health.balanced, "the demo left the ledger unbalanced: {health:?}");
    report(conn, config, &world, clicks, disputes, payouts, started)
}

fn refuse_unless_empty(conn: &mut DbConn) -> anyhow::Result<()> {
    let n = crate::store::users::count(conn)?;
    anyhow::ensure!(
        n == 0,
        "the database already has {n} account{}; `qualead demo` only fills an empty database \
         (point DATABASE_URL at a new one, e.g. DATABASE_URL=sqlite://data/demo.db)",
        if n == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Run a product action in its own write transaction.
fn must<T>(conn: &mut DbConn, what: &str, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> anyhow::Result<T> {
    conn.write_tx(f).map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// A product action the product may refuse (a conflict or a bad request): the
/// refusal is `Ok(Err(..))` and the demo moves on; other errors stop the demo.
fn attempt<T>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> AppResult<T>) -> anyhow::Result<Result<T, AppError>> {
    match conn.write_tx(f) {
        Ok(v) => Ok(Ok(v)),
        Err(e @ (AppError::Conflict { .. } | AppError::BadRequest { .. } | AppError::Invalid(_))) => Ok(Err(e)),
        Err(e) => Err(anyhow::anyhow!(e)),
    }
}

fn report(
    conn: &mut DbConn,
    config: &Config,
    world: &World,
    clicks: u64,
    disputes: usize,
    payouts: usize,
    started: Instant,
) -> anyhow::Result<Report> {
    let counts = leads::count_by_status(conn)?;
    let leads_by_status: Vec<(String, i64)> = LeadStatus::ALL
        .iter()
        .map(|s| (s.to_string(), counts.iter().find(|(c, _)| c == s).map(|(_, n)| *n).unwrap_or(0)))
        .collect();
    let mut logins = vec![("admin", email_of(&ADMIN), ADMIN.name.to_string())];
    for (role, people) in [("advertiser", &ADVERTISERS[..]), ("publisher", &PUBLISHERS[..])] {
        for p in people {
            logins.push((role, email_of(p), format!("{} ({})", p.name, p.company)));
        }
    }
    Ok(Report {
        login_url: config.url("/login"),
        logins,
        offers: world.offers.len(),
        clicks,
        leads_by_status,
        intake_rejected: leads::rejections_count(conn)?,
        disputes,
        payouts,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The value of an operation, its effects dropped: the demo fills the database
/// before any server runs, so no link cache, mailer or postback worker in this
/// process is there to tell (a server's workers find the queued e-mails and
/// postbacks when they start).
fn unheard<T>((value, _effects): (T, Effects)) -> T {
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offer_body_is_valid() {
        for plan in offer_plans() {
            let r = crate::domain::offer::validate(&plan.body);
            assert!(r.is_ok(), "{}: {r:?}", plan.body.name);
        }
        for &(offer, publisher, _) in MEMBERSHIPS {
            assert!(offer < offer_plans().len() && publisher < PUBLISHERS.len());
        }
    }

    #[test]
    fn good_contacts_pass_the_scrub_rules_and_junk_fails_them() {
        let mut rng = StdRng::seed_from_u64(7);
        for country in ["US", "CA", "GB", "DE", "AU", "FR", "IN", "BR", "NL", "PK"] {
            for _ in 0..300 {
                let c = person(&mut rng, country);
                assert!(phone_is_valid(&c.phone, country), "{country} {}", c.phone);
                assert!(scrub::name_problem(&c.name).is_none(), "{}", c.name);
                assert!(scrub::email_problem(&c.email).is_none(), "{}", c.email);
            }
        }
        for name in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(scrub::name_problem(name).is_none(), "{name}");
        }
        for name in GIBBERISH_NAMES {
            assert!(scrub::name_problem(name).is_some(), "{name}");
        }
        for phone in BAD_PHONES {
            assert!(!phone_is_valid(phone, "US"), "{phone}");
        }
        let domains = scrub::Domains::shipped();
        for d in DISPOSABLE_DOMAINS {
            assert!(domains.contains(d), "{d}");
        }
        for (d, _) in EMAIL_DOMAINS {
            assert!(!domains.contains(d), "{d}");
        }
        for bad in ["ann@gmail", "ann@@yahoo.com", "ann.gmail.com"] {
            assert!(scrub::email_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn browsers_pass_and_bots_fail_the_bot_rule() {
        for ua in DESKTOP_AGENTS.iter().chain(MOBILE_AGENTS).chain(TABLET_AGENTS) {
            assert!(scrub::bot_signature(ua).is_none(), "{ua}");
        }
        for ua in BOT_AGENTS {
            assert!(scrub::bot_signature(ua).is_some(), "{ua:?}");
        }
    }

    #[test]
    fn the_password_is_acceptable_for_every_login() {
        for p in std::iter::once(&ADMIN).chain(&ADVERTISERS).chain(&PUBLISHERS) {
            let email = email_of(p);
            assert!(crate::domain::account::is_valid_email(&email), "{email}");
            assert!(crate::domain::account::password_problem(PASSWORD, &email).is_none());
        }
    }
}
