//! Money in the browser (DESIGN §8): the advertiser's balance, each role's
//! statement (every ledger line of its accounts with a running balance), the
//! publisher's payouts, and the admin's deposits, payout desk and ledger page
//! (health, fees, settlement runs, the payout minimum, disposable domains).
//!
//! The rules live in `crate::settlement`; these handlers read forms, run them in
//! one transaction and answer with a redirect and a flash message.

use std::collections::{BTreeSet, HashMap};

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, DbConn};
use crate::domain::account::{AccountStatus, Role, normalize_email};
use crate::domain::local::Local;
use crate::domain::money::{format_minor, parse_minor};
use crate::error::{AppError, AppResult};
use crate::settlement::money::{self as settle_money, AdvertiserBalance, PublisherBalance};
use crate::settlement::topups as topup_actions;
use crate::settlement::{actions, run};
use crate::store::disposable::{self, Added};
use crate::store::ledger::{self, Health, Line};
use crate::store::payouts::{self, Payout};
use crate::store::topups::{self, Topup};
use crate::store::users::{self, User};
use crate::store::{disputes, settings};
use crate::web::context::{AdminCtx, AdvertiserCtx, Ctx, Page, PublisherCtx, redirect, render};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::leads::{flash_applied, flash_outcome};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/balance", web::get().to(advertiser_balance))
        .route("/advertiser/topups", web::post().to(request_topup))
        .route("/advertiser/balance-alert", web::post().to(set_balance_alert))
        .route("/advertiser/statement", web::get().to(advertiser_statement))
        .route("/publisher/statement", web::get().to(publisher_statement))
        .route("/publisher/payouts", web::get().to(publisher_payouts))
        .route("/publisher/payouts", web::post().to(request_payout))
        .route("/publisher/payouts/{id}/cancel", web::post().to(publisher_cancel))
        .route("/admin/statement", web::get().to(admin_statement))
        .route("/admin/deposits", web::get().to(deposits))
        .route("/admin/deposits", web::post().to(record_deposit))
        .route("/admin/topups/{id}/confirm", web::post().to(confirm_topup))
        .route("/admin/topups/{id}/decline", web::post().to(decline_topup))
        .route("/admin/payouts", web::get().to(admin_payouts))
        .route("/admin/payouts/{id}/paid", web::post().to(mark_paid))
        .route("/admin/payouts/{id}/cancel", web::post().to(admin_cancel))
        .route("/admin/ledger", web::get().to(ledger_page))
        .route("/admin/settlement/run", web::post().to(run_settlement))
        .route("/admin/settings/payout-minimum", web::post().to(set_payout_minimum))
        .route("/admin/disposable-domains", web::post().to(add_domain))
        .route("/admin/disposable-domains/remove", web::post().to(remove_domain))
        .route("/admin/network-ranges", web::post().to(set_network_ranges));
}

/// Read an amount typed in a form (`12.50`), or say what is wrong with it.
fn amount_of(raw: &str) -> AppResult<i64> {
    parse_minor(raw).map_err(|_| AppError::invalid(format!("{:?} is not an amount like 12.50.", raw.trim())))
}

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

/// Statement lines per page.
const STATEMENT_ROWS: i64 = 100;

/// One line of a statement, with the account's balance after it.
pub struct StatementLine {
    pub line: Line,
    pub at: String,
    pub amount: String,
    pub balance_after: String,
    pub credit: bool,
}

/// The model of the statement pages (`partials/statement.html`).
pub struct Statement {
    /// Where lead links point (`/advertiser`, …).
    pub base: &'static str,
    /// The statement page's own path, for paging links.
    pub path: String,
    pub account: String,
    /// Tabs: (query value, label, selected).
    pub tabs: Vec<(String, String, bool)>,
    pub balance: String,
    pub lines: Vec<StatementLine>,
    /// The `before` of the next (older) page.
    pub next: Option<i64>,
    pub paged: bool,
    /// Extra query pair that keeps the selected tab when paging.
    pub keep: String,
}

impl Statement {
    pub fn kind_label(&self, kind: &str) -> String {
        kind_label(kind).to_string()
    }
}

/// A ledger transaction kind in words.
pub fn kind_label(kind: &str) -> &str {
    match kind {
        "deposit" => "deposit",
        "lead_accepted" => "lead accepted (price reserved)",
        "lead_approved" => "lead approved",
        "lead_rejected" => "lead rejected (reservation released)",
        "lead_reversed" => "lead reversed (return upheld)",
        "contest_upheld" => "contested rejection upheld",
        "payout_paid" => "payout paid",
        other => other,
    }
}

/// A page of `account`'s statement, each line with the balance after it (from the
/// entries themselves, so the column always adds up).
async fn statement(
    ctx: &Ctx,
    base: &'static str,
    path: &str,
    account: String,
    before: Option<i64>,
) -> AppResult<Statement> {
    let local = ctx.local();
    let acc = account.clone();
    let (lines, next, total, below_page) = db::run(ctx.pool(), move |c| {
        let (lines, next) = ledger::statement_lines(c, &acc, before, STATEMENT_ROWS)?;
        let total = ledger::entries_sum(c, &acc, None)?;
        // The balance after the newest line of this page: every entry up to it.
        let upto = match lines.first() {
            Some(l) => ledger::entries_sum(c, &acc, Some(l.entry_id + 1))?,
            None => 0,
        };
        Ok((lines, next, total, upto))
    })
    .await?;
    let mut running = below_page;
    let lines = lines
        .into_iter()
        .map(|line| {
            let after = running;
            running -= line.amount_minor;
            StatementLine {
                at: local.time(line.created_at),
                amount: local.money(line.amount_minor),
                balance_after: local.money(after),
                credit: line.amount_minor > 0,
                line,
            }
        })
        .collect();
    Ok(Statement {
        base,
        path: path.to_string(),
        account,
        tabs: vec![],
        balance: local.money(total),
        lines,
        next,
        paged: before.is_some(),
        keep: String::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatementQuery {
    account: String,
    before: String,
}

impl StatementQuery {
    fn before(&self) -> Option<i64> {
        self.before.trim().parse().ok()
    }
}

#[derive(Template)]
#[template(path = "advertiser/statement.html")]
struct AdvertiserStatementPage {
    page: Page,
    st: Statement,
    balance: AdvertiserBalance,
}

impl AdvertiserStatementPage {
    fn fmt(&self, minor: &i64) -> String {
        self.page.money(*minor)
    }
}

async fn advertiser_statement(a: AdvertiserCtx, q: web::Query<StatementQuery>) -> AppResult<HttpResponse> {
    let escrow = q.account == "escrow";
    let account = if escrow { ledger::escrow(a.user.id) } else { ledger::advertiser(a.user.id) };
    let mut st = statement(&a.ctx, "/advertiser", "/advertiser/statement", account, q.before()).await?;
    st.tabs = vec![
        ("balance".into(), "Balance".into(), !escrow),
        ("escrow".into(), "Escrow (held for pending leads)".into(), escrow),
    ];
    st.keep = if escrow { "account=escrow&".into() } else { String::new() };
    let uid = a.user.id;
    let balance = db::run(a.ctx.pool(), move |c| Ok(settle_money::advertiser_balance(c, uid)?)).await?;
    render(&AdvertiserStatementPage { page: a.ctx.page("Statement"), st, balance })
}

#[derive(Template)]
#[template(path = "publisher/statement.html")]
struct PublisherStatementPage {
    page: Page,
    st: Statement,
    balance: PublisherBalance,
}

impl PublisherStatementPage {
    fn fmt(&self, minor: &i64) -> String {
        self.page.money(*minor)
    }
}

async fn publisher_statement(p: PublisherCtx, q: web::Query<StatementQuery>) -> AppResult<HttpResponse> {
    let st = statement(&p.ctx, "/publisher", "/publisher/statement", ledger::publisher(p.user.id), q.before()).await?;
    let uid = p.user.id;
    let balance = db::run(p.ctx.pool(), move |c| Ok(settle_money::publisher_balance(c, uid)?)).await?;
    render(&PublisherStatementPage { page: p.ctx.page("Statement"), st, balance })
}

/// Whether `account` names a ledger account (DESIGN §8).
fn is_account(account: &str) -> bool {
    if account == ledger::PLATFORM_FEES || account == ledger::EXTERNAL {
        return true;
    }
    ["advertiser:", "escrow:", "publisher:"]
        .iter()
        .any(|p| account.strip_prefix(p).is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())))
}

#[derive(Template)]
#[template(path = "admin/statement.html")]
struct AdminStatementPage {
    page: Page,
    st: Statement,
}

async fn admin_statement(a: AdminCtx, q: web::Query<StatementQuery>) -> AppResult<HttpResponse> {
    let requested = q.account.trim();
    let account = if requested.is_empty() { ledger::PLATFORM_FEES.to_string() } else { requested.to_string() };
    if !is_account(&account) {
        return Err(AppError::invalid(
            "Accounts are platform:fees, external, advertiser:ID, escrow:ID or publisher:ID.",
        ));
    }
    let mut st = statement(&a.ctx, "/admin", "/admin/statement", account.clone(), q.before()).await?;
    st.tabs = [ledger::PLATFORM_FEES, ledger::EXTERNAL]
        .iter()
        .map(|acc| (acc.to_string(), acc.to_string(), *acc == account))
        .collect();
    if !st.tabs.iter().any(|(_, _, sel)| *sel) {
        st.tabs.push((account.clone(), account.clone(), true));
    }
    st.keep = format!("account={}&", url::form_urlencoded::byte_serialize(account.as_bytes()).collect::<String>());
    render(&AdminStatementPage { page: a.ctx.page(format!("Statement of {account}")), st })
}

#[derive(Template)]
#[template(path = "advertiser/balance.html")]
struct AdvertiserBalancePage {
    page: Page,
    balance: AdvertiserBalance,
    /// The advertiser's top-up requests, newest first.
    topups: Vec<Topup>,
    /// The low-balance alert's threshold, as typed (empty: none).
    alert_at: String,
    methods: [&'static str; 4],
    currency: String,
}

impl AdvertiserBalancePage {
    fn fmt(&self, minor: &i64) -> String {
        self.page.money(*minor)
    }
}

async fn advertiser_balance(a: AdvertiserCtx) -> AppResult<HttpResponse> {
    let uid = a.user.id;
    let (balance, topups, alert_at) = db::run(a.ctx.pool(), move |c| {
        Ok((
            settle_money::advertiser_balance(c, uid)?,
            topups::of_advertiser(c, uid, TOPUP_ROWS)?,
            crate::store::balance_alerts::get(c, uid)?,
        ))
    })
    .await?;
    render(&AdvertiserBalancePage {
        page: a.ctx.page("Balance"),
        balance,
        topups,
        alert_at: alert_at.map(format_minor).unwrap_or_default(),
        methods: topups::METHODS,
        currency: a.ctx.state.config.currency.clone(),
    })
}

/// Top-up requests listed on the balance page.
const TOPUP_ROWS: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TopupForm {
    amount: String,
    method: String,
    reference: String,
}

async fn request_topup(a: AdvertiserCtx, CsrfForm(form): CsrfForm<TopupForm>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let local = a.ctx.local();
    let result = match amount_of(&form.amount) {
        Ok(amount) => {
            db::run(a.ctx.pool(), move |c| {
                c.write_tx(|c| topup_actions::request(c, &who, amount, &form.method, &form.reference))
            })
            .await
        }
        Err(e) => Err(e),
    };
    flash_applied(&a.ctx, result, |t| {
        format!(
            "Top-up request #{} of {} sent. An admin adds it to your balance once the money arrives; we will e-mail you.",
            t.id,
            local.money(t.amount_minor)
        )
    })?;
    Ok(redirect("/advertiser/balance"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BalanceAlertForm {
    threshold: String,
}

/// The advertiser sets (or, with an empty amount, removes) its low-balance alert.
async fn set_balance_alert(a: AdvertiserCtx, CsrfForm(form): CsrfForm<BalanceAlertForm>) -> AppResult<HttpResponse> {
    let uid = a.user.id;
    let threshold = match form.threshold.trim() {
        "" => Ok(None),
        raw => amount_of(raw).map(Some),
    };
    let result = match threshold {
        Ok(t) => db::run(a.ctx.pool(), move |c| Ok(crate::store::balance_alerts::set(c, uid, t)?)).await.map(|()| t),
        Err(e) => Err(e),
    };
    let local = a.ctx.local();
    flash_outcome(&a.ctx, result, |t| match t {
        Some(t) => format!("We will e-mail you when your available balance falls below {}.", local.money(t)),
        None => "Low-balance e-mails are off.".to_string(),
    })?;
    Ok(redirect("/advertiser/balance#alert"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecideTopupForm {
    note: String,
}

async fn confirm_topup(
    a: AdminCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecideTopupForm>,
) -> AppResult<HttpResponse> {
    let (who, id) = (a.ctx.acting(&a.user), path.into_inner());
    let result = db::run(a.ctx.pool(), move |c| c.write_tx(|c| topup_actions::confirm(c, &who, id, &form.note))).await;
    flash_applied(&a.ctx, result, |t| {
        format!("Top-up #{} confirmed: {} is on the advertiser's balance.", t.id, a.ctx.local().money(t.amount_minor))
    })?;
    Ok(redirect("/admin/deposits#topups"))
}

async fn decline_topup(
    a: AdminCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecideTopupForm>,
) -> AppResult<HttpResponse> {
    let (who, id) = (a.ctx.acting(&a.user), path.into_inner());
    let result = db::run(a.ctx.pool(), move |c| c.write_tx(|c| topup_actions::decline(c, &who, id, &form.note))).await;
    flash_applied(&a.ctx, result, |t| format!("Top-up #{} declined; the advertiser is told why.", t.id))?;
    Ok(redirect("/admin/deposits#topups"))
}

// ---------------------------------------------------------------------------
// Publisher payouts
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "publisher/payouts.html")]
struct PublisherPayoutsPage {
    page: Page,
    balance: PublisherBalance,
    minimum: i64,
    payouts: Vec<Payout>,
}

impl PublisherPayoutsPage {
    fn fmt(&self, minor: &i64) -> String {
        self.page.money(*minor)
    }

    /// An amount as a form takes it: `8.00`.
    fn plain(&self, minor: &i64) -> String {
        format_minor(*minor)
    }
}

/// Payouts listed per page.
const PAYOUT_ROWS: i64 = 200;

async fn publisher_payouts(p: PublisherCtx) -> AppResult<HttpResponse> {
    let uid = p.user.id;
    let (balance, minimum, payouts) = db::run(p.ctx.pool(), move |c| {
        Ok((
            settle_money::publisher_balance(c, uid)?,
            settings::payout_minimum_minor(c)?,
            payouts::for_publisher(c, uid, PAYOUT_ROWS)?,
        ))
    })
    .await?;
    render(&PublisherPayoutsPage { page: p.ctx.page("Payouts"), balance, minimum, payouts })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PayoutForm {
    amount: String,
    method: String,
}

async fn request_payout(p: PublisherCtx, CsrfForm(form): CsrfForm<PayoutForm>) -> AppResult<HttpResponse> {
    let who = p.ctx.acting(&p.user);
    let result = match amount_of(&form.amount) {
        Ok(amount) => {
            db::run(p.ctx.pool(), move |c| c.write_tx(|c| settle_money::request_payout(c, &who, amount, &form.method)))
                .await
        }
        Err(e) => Err(e),
    };
    flash_outcome(&p.ctx, result, |po| {
        format!(
            "Payout #{} of {} requested. An admin pays it and we e-mail you.",
            po.id,
            p.ctx.local().money(po.amount_minor)
        )
    })?;
    Ok(redirect("/publisher/payouts"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NoteForm {
    note: String,
}

async fn publisher_cancel(
    p: PublisherCtx,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = p.ctx.acting(&p.user);
    let result = db::run(p.ctx.pool(), move |c| {
        c.write_tx(|c| settle_money::cancel_payout(c, &who, id, "withdrawn by the publisher"))
    })
    .await;
    flash_outcome(&p.ctx, result, |po| format!("Payout request #{} withdrawn.", po.id))?;
    Ok(redirect("/publisher/payouts"))
}

// ---------------------------------------------------------------------------
// Admin: payouts
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatusQuery {
    status: String,
}

#[derive(Template)]
#[template(path = "admin/payouts.html")]
struct AdminPayoutsPage {
    page: Page,
    rows: Vec<(Payout, String)>,
    status: String,
    requested_total: i64,
}

impl AdminPayoutsPage {
    fn fmt(&self, minor: &i64) -> String {
        self.page.money(*minor)
    }
}

async fn admin_payouts(a: AdminCtx, q: web::Query<StatusQuery>) -> AppResult<HttpResponse> {
    let status = match q.status.as_str() {
        s @ ("paid" | "cancelled" | "all") => s.to_string(),
        _ => "requested".to_string(),
    };
    let filter = (status != "all").then(|| status.clone());
    let rows = db::run(a.ctx.pool(), move |c| Ok(payouts::list(c, filter.as_deref(), PAYOUT_ROWS)?)).await?;
    let requested_total = rows.iter().filter(|(p, _)| p.status == "requested").map(|(p, _)| p.amount_minor).sum();
    render(&AdminPayoutsPage { page: a.ctx.page("Payouts"), rows, status, requested_total })
}

async fn mark_paid(a: AdminCtx, path: web::Path<i64>, CsrfForm(form): CsrfForm<NoteForm>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = a.ctx.acting(&a.user);
    let result = db::run(a.ctx.pool(), move |c| c.write_tx(|c| settle_money::mark_paid(c, &who, id, &form.note))).await;
    flash_applied(&a.ctx, result, |po| {
        format!("Payout #{} of {} marked paid; the publisher is e-mailed.", po.id, a.ctx.local().money(po.amount_minor))
    })?;
    Ok(redirect("/admin/payouts"))
}

async fn admin_cancel(
    a: AdminCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = a.ctx.acting(&a.user);
    let result =
        db::run(a.ctx.pool(), move |c| c.write_tx(|c| settle_money::cancel_payout(c, &who, id, &form.note))).await;
    flash_outcome(&a.ctx, result, |po| format!("Payout request #{} cancelled.", po.id))?;
    Ok(redirect("/admin/payouts"))
}

// ---------------------------------------------------------------------------
// Admin: deposits
// ---------------------------------------------------------------------------

/// A recorded deposit, for the admin's list.
pub struct DepositRow {
    pub transaction_id: i64,
    pub at: String,
    pub advertiser_id: i64,
    pub advertiser: String,
    pub amount: String,
    pub memo: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "admin/deposits.html")]
struct DepositsPage {
    page: Page,
    advertisers: Vec<User>,
    recent: Vec<DepositRow>,
    /// Top-up requests waiting, each with its advertiser's name and e-mail.
    pending: Vec<(Topup, String)>,
    currency: String,
}

/// Deposits listed on the page.
const DEPOSIT_ROWS: i64 = 100;

fn recent_deposits(conn: &mut DbConn, local: &Local) -> AppResult<Vec<DepositRow>> {
    let rows = ledger::recent_deposits(conn, DEPOSIT_ROWS)?;
    let advertiser_of = |account: &str| account.strip_prefix("advertiser:").and_then(|s| s.parse::<i64>().ok());
    let ids: BTreeSet<i64> =
        rows.iter().flat_map(|(_, account, _, _, actor, _)| [advertiser_of(account), *actor]).flatten().collect();
    let mut emails: HashMap<i64, String> = HashMap::new();
    for id in ids {
        if let Some(u) = users::find(conn, id)? {
            emails.insert(id, u.email);
        }
    }
    Ok(rows
        .into_iter()
        .map(|(tx, account, amount, memo, actor, at)| {
            let advertiser_id = advertiser_of(&account).unwrap_or_default();
            DepositRow {
                transaction_id: tx,
                at: local.time(at),
                advertiser_id,
                advertiser: emails.get(&advertiser_id).cloned().unwrap_or(account),
                amount: local.money(amount),
                memo,
                by: actor.and_then(|a| emails.get(&a).cloned()).unwrap_or_else(|| "—".into()),
            }
        })
        .collect())
}

async fn deposits(a: AdminCtx) -> AppResult<HttpResponse> {
    let local = a.ctx.local();
    let (advertisers, recent, pending) = db::run(a.ctx.pool(), move |c| {
        let mut advertisers = users::list(c, Some(Role::Advertiser), Some(AccountStatus::Active), 1000)?;
        advertisers.sort_by(|x, y| x.email.cmp(&y.email));
        let mut pending = Vec::new();
        for t in topups::pending(c)? {
            let who = users::find(c, t.advertiser_id)?.map_or_else(
                || format!("advertiser #{}", t.advertiser_id),
                |u| format!("{} <{}>", u.display_name, u.email),
            );
            pending.push((t, who));
        }
        Ok((advertisers, recent_deposits(c, &local)?, pending))
    })
    .await?;
    render(&DepositsPage {
        page: a.ctx.page("Deposits"),
        advertisers,
        recent,
        pending,
        currency: a.ctx.state.config.currency.clone(),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DepositForm {
    advertiser_id: String,
    email: String,
    amount: String,
    memo: String,
}

async fn record_deposit(a: AdminCtx, CsrfForm(form): CsrfForm<DepositForm>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let result = match amount_of(&form.amount) {
        Ok(amount) => {
            db::run(a.ctx.pool(), move |c| {
                c.write_tx(|c| {
                    let advertiser = if form.email.trim().is_empty() {
                        let id = form
                            .advertiser_id
                            .trim()
                            .parse::<i64>()
                            .map_err(|_| AppError::invalid("Choose an advertiser or type its e-mail."))?;
                        users::find(c, id)?
                    } else {
                        users::find_by_email(c, &normalize_email(&form.email))?
                    };
                    let advertiser = advertiser
                        .filter(|u| u.role() == Role::Advertiser)
                        .ok_or_else(|| AppError::invalid("No advertiser account has this e-mail."))?;
                    actions::deposit(c, &who, advertiser.id, amount, &form.memo)?;
                    Ok((advertiser.email, amount))
                })
            })
            .await
        }
        Err(e) => Err(e),
    };
    flash_outcome(&a.ctx, result, |(email, amount)| {
        format!("Deposit of {} recorded for {email}.", a.ctx.local().money(amount))
    })?;
    Ok(redirect("/admin/deposits"))
}

// ---------------------------------------------------------------------------
// Admin: the ledger page
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/ledger.html")]
struct LedgerPage {
    page: Page,
    health: Health,
    fees: String,
    runs: Vec<run::RunRow>,
    minimum: String,
    domains: Vec<Added>,
    ranges: RangesForm,
    shipped_ranges: (usize, usize),
    open_disputes: i64,
    requested_payouts: usize,
}

async fn ledger_page(a: AdminCtx) -> AppResult<HttpResponse> {
    let (health, fees, runs, minimum, domains, open_disputes, requested_payouts, ranges) = db::run(a.ctx.pool(), |c| {
        Ok((
            ledger::health(c)?,
            ledger::balance(c, ledger::PLATFORM_FEES)?,
            run::recent_runs(c, 20)?,
            settings::payout_minimum_minor(c)?,
            disposable::list(c)?,
            disputes::open_count(c)?,
            payouts::list(c, Some("requested"), 1000)?.len(),
            RangesForm {
                datacenter: settings::get(c, settings::DATACENTER_RANGES)?.unwrap_or_default(),
                relay: settings::get(c, settings::RELAY_RANGES)?.unwrap_or_default(),
            },
        ))
    })
    .await?;
    render(&LedgerPage {
        page: a.ctx.page("Ledger"),
        health,
        fees: a.ctx.local().money(fees),
        runs,
        minimum: format_minor(minimum),
        domains,
        ranges,
        shipped_ranges: crate::domain::netranges::NetRanges::shipped().len(),
        open_disputes,
        requested_payouts,
    })
}

async fn run_settlement(a: AdminCtx, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let metrics = a.ctx.state.metrics.clone();
    let result = db::run(a.ctx.pool(), move |c| {
        let s = run::settle_due(c, crate::store::now(), run::BATCH)?;
        c.write_tx(|c| {
            who.audit(
                c,
                "settlement.run",
                ("settlement", None),
                &format!("{} approved, {} rejected", s.approved, s.rejected),
            )
        })?;
        Ok(s)
    })
    .await;
    crate::settlement::count(&metrics, &result);
    a.ctx.state.apply(crate::settlement::effects_of(&result));
    flash_outcome(&a.ctx, result, |s| {
        if s.settled() == 0 {
            "Settlement ran: no lead was due.".into()
        } else {
            format!("Settlement ran: {} approved, {} rejected.", s.approved, s.rejected)
        }
    })?;
    Ok(redirect("/admin/ledger"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MinimumForm {
    minimum: String,
}

async fn set_payout_minimum(a: AdminCtx, CsrfForm(form): CsrfForm<MinimumForm>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let result = match amount_of(&form.minimum) {
        Ok(m) if m > 0 => {
            db::run(a.ctx.pool(), move |c| {
                c.write_tx(|c| {
                    settings::set(c, settings::PAYOUT_MINIMUM_MINOR, &m.to_string())?;
                    who.audit(c, "settings.payout_minimum", ("setting", None), &format_minor(m))?;
                    Ok(m)
                })
            })
            .await
        }
        Ok(_) => Err(AppError::invalid("The payout minimum must be above 0.00.")),
        Err(e) => Err(e),
    };
    flash_outcome(&a.ctx, result, |m| format!("Payout minimum set to {}.", a.ctx.local().money(m)))?;
    Ok(redirect("/admin/ledger"))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DomainForm {
    domain: String,
}

async fn add_domain(a: AdminCtx, CsrfForm(form): CsrfForm<DomainForm>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let result =
        db::run(a.ctx.pool(), move |c| c.write_tx(|c| actions::add_disposable_domain(c, &who, &form.domain))).await;
    flash_outcome(&a.ctx, result, |d| format!("{d} is on the disposable-domain list from the next settlement run."))?;
    Ok(redirect("/admin/ledger#disposable"))
}

async fn remove_domain(a: AdminCtx, CsrfForm(form): CsrfForm<DomainForm>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let domain = form.domain.clone();
    let result =
        db::run(a.ctx.pool(), move |c| c.write_tx(|c| actions::remove_disposable_domain(c, &who, &form.domain))).await;
    flash_outcome(&a.ctx, result, |()| format!("{domain} removed from the added disposable domains."))?;
    Ok(redirect("/admin/ledger#disposable"))
}

/// An admin's datacenter and privacy-relay ranges (DESIGN §7 `datacenter_ip`, `relay`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RangesForm {
    datacenter: String,
    relay: String,
}

async fn set_network_ranges(a: AdminCtx, CsrfForm(form): CsrfForm<RangesForm>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let result = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| actions::set_network_ranges(c, &who, &form.datacenter, &form.relay))
    })
    .await;
    flash_outcome(&a.ctx, result, |(d, r)| {
        format!("{d} datacenter and {r} relay ranges added to the shipped lists, from the next settlement run.")
    })?;
    Ok(redirect("/admin/ledger#networks"))
}
