//! The admin's pages: the network dashboard (DESIGN §9), accounts (approve, suspend, create admins,
//! the approval setting) and the audit log. Every action here is audited.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::domain::account::{AccountStatus, Role, is_valid_email, normalize_email, password_problem};
use crate::domain::report::GroupBy;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::mail::{self, templates::AccountStatusChanged};
use crate::store::audit::{self, AuditEntry};
use crate::store::users::{self, CreateUserError, User, UserSpec};
use crate::store::{disputes, ledger, outbox, sessions, settings};
use crate::web::auth::hash_password;
use crate::web::context::StatusForm;
use crate::web::context::{AdminCtx, FormErrors, Page, redirect, render, render_status};
use crate::web::csrf::CsrfForm;
use crate::web::reports::{self, Kpi, RangeForm, Ranking, Reader, ReportQuery, Table};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(overview))
        .route("/admin/users", web::get().to(list_users))
        .route("/admin/users", web::post().to(create_admin))
        .route("/admin/users/{id}/status", web::post().to(set_status))
        .route("/admin/settings", web::post().to(update_settings))
        .route("/admin/audit", web::get().to(audit_log))
        .route("/admin/traffic", web::get().to(traffic));
}

/// The columns of the admin dashboard's top offers and publishers.
const TOP_COLUMNS: &[&str] =
    &["clicks", "leads", "cr", "approved", "rejected", "revenue", "payout", "fee", "scrub_rate", "return_rate"];

/// Rows of the top offers and top publishers tables.
const TOP: usize = 10;

#[derive(Template)]
#[template(path = "admin/home.html")]
struct OverviewPage {
    page: Page,
    form: RangeForm,
    range_query: String,
    kpis: Vec<Kpi>,
    chart: String,
    day_csv: String,
    top_offers: Table,
    top_publishers: Table,
    suspects: Ranking,
    suspects_csv: String,
    fee_balance: String,
    open_disputes: i64,
    open_reconciliations: usize,
    counts: Vec<(String, String, i64)>,
    pending: i64,
    /// Top-up requests waiting for an admin.
    pending_topups: usize,
    /// New offers and changes of live offers waiting for review.
    review: (usize, usize),
    /// What waits for an admin, listed (the first few of each kind).
    waiting: Vec<WaitGroup>,
    mail_queued: i64,
    mail_failed: i64,
}

impl OverviewPage {
    fn nothing_waits(&self) -> bool {
        self.waiting.iter().all(|g| g.total == 0)
    }
}

/// Items of each kind the overview lists; the rest are behind the group's link.
const WAITING_SHOWN: usize = 5;

/// One kind of work waiting for an admin: new offers, changes, top-ups, disputes
/// or accounts, each item linked to where it is decided.
pub struct WaitGroup {
    pub id: &'static str,
    pub title: &'static str,
    pub all_href: &'static str,
    pub total: usize,
    pub items: Vec<WaitItem>,
}

impl WaitGroup {
    pub fn more(&self) -> usize {
        self.total.saturating_sub(self.items.len())
    }
}

pub struct WaitItem {
    pub href: String,
    pub what: String,
    /// The party it concerns, named: `Ann Lee (ann@example.com)`.
    pub who: String,
}

/// What waits for an admin, in the order it blocks someone: offers and changes an
/// advertiser wants live, money an advertiser sent, disputes, accounts.
/// `pending_accounts` is their number, which the caller has already counted.
fn waiting(
    c: &mut crate::db::DbConn,
    local: &crate::domain::local::Local,
    pending_accounts: usize,
) -> AppResult<Vec<WaitGroup>> {
    use crate::domain::offer::OfferStatus;
    use crate::store::{offers, revisions, topups};
    let new_offers = offers::list_all(c, Some(OfferStatus::PendingReview))?;
    let changes = revisions::all_pending(c)?;
    let change_offers: Vec<offers::Offer> = changes
        .iter()
        .take(WAITING_SHOWN)
        .filter_map(|(offer_id, _)| offers::find(c, *offer_id).transpose())
        .collect::<Result<_, _>>()?;
    let funds = topups::pending(c)?;
    let open = disputes::queue(c, Some("open"), WAITING_SHOWN as i64)?;
    let open_total = disputes::open_count(c)? as usize;
    let accounts = users::list(c, None, Some(AccountStatus::PendingApproval), WAITING_SHOWN as i64)?;
    let mut ids: Vec<i64> = new_offers.iter().take(WAITING_SHOWN).map(|(o, _)| o.advertiser_id).collect();
    ids.extend(change_offers.iter().map(|o| o.advertiser_id));
    ids.extend(funds.iter().take(WAITING_SHOWN).map(|t| t.advertiser_id));
    ids.extend(open.iter().map(|d| d.dispute.opened_by));
    let names = users::by_ids(c, &ids)?;
    let who = |id: i64| names.get(&id).map(User::party).unwrap_or_else(|| format!("account #{id} (deleted)"));
    let shown = |n: usize| n.min(WAITING_SHOWN);
    let groups = vec![
        WaitGroup {
            id: "offers",
            title: "New offers to review",
            all_href: "/admin/offers?status=pending_review",
            total: new_offers.len(),
            items: new_offers[..shown(new_offers.len())]
                .iter()
                .map(|(o, _)| WaitItem {
                    href: format!("/admin/offers/{}", o.id),
                    what: o.listing.name.clone(),
                    who: who(o.advertiser_id),
                })
                .collect(),
        },
        WaitGroup {
            id: "changes",
            title: "Changes to live offers to review",
            all_href: "/admin/offers?status=pending_review",
            total: changes.len(),
            items: change_offers
                .iter()
                .map(|o| WaitItem {
                    href: format!("/admin/offers/{}#revisions", o.id),
                    what: format!("Change to {}", o.listing.name),
                    who: who(o.advertiser_id),
                })
                .collect(),
        },
        WaitGroup {
            id: "topups",
            title: "Top-up requests",
            all_href: "/admin/deposits#topups",
            total: funds.len(),
            items: funds[..shown(funds.len())]
                .iter()
                .map(|t| WaitItem {
                    href: "/admin/deposits#topups".into(),
                    what: format!("{} by {}", local.money(t.amount_minor), t.method),
                    who: who(t.advertiser_id),
                })
                .collect(),
        },
        WaitGroup {
            id: "disputes",
            title: "Open disputes",
            all_href: "/admin/disputes",
            total: open_total,
            items: open
                .iter()
                .map(|d| WaitItem {
                    href: format!("/admin/leads/{}", d.dispute.lead_id),
                    what: format!(
                        "{} of lead #{} on {}",
                        if d.dispute.kind == "return" { "Return" } else { "Contested rejection" },
                        d.dispute.lead_id,
                        d.offer_name
                    ),
                    who: who(d.dispute.opened_by),
                })
                .collect(),
        },
        WaitGroup {
            id: "accounts",
            title: "Accounts waiting for approval",
            all_href: "/admin/users?status=pending_approval",
            total: pending_accounts,
            items: accounts
                .iter()
                .map(|u| WaitItem {
                    href: format!("/admin/users?status=pending_approval#user-{}", u.id),
                    what: format!("New {} account", u.role),
                    who: u.party(),
                })
                .collect(),
        },
    ];
    Ok(groups)
}

/// The network at a glance: the range's totals against the period before (clicks,
/// leads, revenue, payouts, platform fees), by day; the fee account; the dispute
/// queue; the top offers and publishers; publishers whose traffic looks wrong;
/// accounts and e-mail. One rollup query (the totals rows of the range and the
/// period before it).
async fn overview(a: AdminCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    let q = ReportQuery::of(&req)?;
    let reader = Reader::of(&a.user);
    let range = reader.range(&q)?;
    let local = a.ctx.local();
    let for_lists = local.clone();
    let ((days, by_offer, by_publisher), (fees, counts, (mail_queued, mail_failed), open_reconciliations, waiting)) = tokio::try_join!(
        reports::overview(a.ctx.pool(), reader, range),
        db::run(a.ctx.pool(), move |c| {
            let counts = users::counts(c)?;
            let pending = counts
                .iter()
                .filter(|(_, s, _)| s == AccountStatus::PendingApproval.as_str())
                .map(|(_, _, n)| n)
                .sum::<i64>();
            let waiting = waiting(c, &for_lists, pending as usize)?;
            Ok((
                ledger::balance(c, ledger::PLATFORM_FEES)?,
                counts,
                outbox::counts(c)?,
                crate::settlement::reconciliation::open(c, crate::store::now())?.len(),
                waiting,
            ))
        }),
    )?;
    let total_of = |id: &str| waiting.iter().find(|g| g.id == id).map_or(0, |g| g.total);
    let (pending_topups, review) = (total_of("topups"), (total_of("offers"), total_of("changes")));
    let (open_disputes, pending) = (total_of("disputes") as i64, total_of("accounts") as i64);
    let top = |id, title, group, lines: &[_]| {
        reports::dashboard_table(&reader, &range, id, title, group, TOP_COLUMNS, lines, Some(TOP))
    };
    render(&OverviewPage {
        page: a.ctx.page("Network overview"),
        form: RangeForm::new("/admin", &reader, &range),
        range_query: range.query(),
        kpis: reports::kpis(reader.viewer, &days.totals, &days.previous),
        chart: reports::time_chart(&reader, &local, "Clicks and revenue by day", &days.lines),
        day_csv: reader.report_url(&range, GroupBy::Day, None, true),
        top_offers: top("top-offers", "Top offers", GroupBy::Offer, &by_offer),
        top_publishers: top("top-publishers", "Top publishers", GroupBy::Publisher, &by_publisher),
        suspects: reports::overview_ranking(&by_publisher, &range),
        suspects_csv: reader.report_url(&range, GroupBy::Publisher, None, true),
        fee_balance: local.money(fees),
        open_disputes,
        open_reconciliations,
        pending_topups,
        review,
        waiting,
        counts,
        pending,
        mail_queued,
        mail_failed,
    })
}

#[derive(Deserialize, Default)]
struct UserFilter {
    role: Option<String>,
    status: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    users: Vec<User>,
    role: String,
    status: String,
    require_approval: bool,
    form: NewAdminForm,
    errors: FormErrors,
}

async fn users_page(
    a: &AdminCtx,
    filter: UserFilter,
    form: NewAdminForm,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    let role = filter.role.as_deref().and_then(|r| r.parse::<Role>().ok());
    let status = filter.status.as_deref().and_then(|s| s.parse::<AccountStatus>().ok());
    let (list, require_approval) = db::run(a.ctx.pool(), move |c| {
        Ok((users::list(c, role, status, 500)?, settings::get_bool(c, settings::REQUIRE_ACCOUNT_APPROVAL, false)?))
    })
    .await?;
    let code = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(
        code,
        &UsersPage {
            page: a.ctx.page("Accounts"),
            users: list,
            role: role.map(|r| r.as_str().to_string()).unwrap_or_default(),
            status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            require_approval,
            form,
            errors,
        },
    )
}

async fn list_users(a: AdminCtx, q: web::Query<UserFilter>) -> AppResult<HttpResponse> {
    users_page(&a, q.into_inner(), NewAdminForm::default(), FormErrors::default()).await
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct NewAdminForm {
    email: String,
    display_name: String,
    password: String,
}

async fn create_admin(a: AdminCtx, CsrfForm(mut form): CsrfForm<NewAdminForm>) -> AppResult<HttpResponse> {
    let email = normalize_email(&form.email);
    let mut errors = FormErrors::default();
    if !is_valid_email(&email) {
        errors.add("email", "Enter a valid e-mail address.");
    }
    if form.display_name.trim().is_empty() {
        errors.add("display_name", "Enter a name.");
    }
    errors.one_line("display_name", form.display_name.trim());
    if let Some(p) = password_problem(&form.password, &email) {
        errors.add("password", p);
    }
    if errors.is_empty() {
        let hash = hash_password(form.password.clone()).await?;
        let name = form.display_name.trim().to_string();
        let actor = a.ctx.acting(&a.user);
        let created = db::run(a.ctx.pool(), move |c| {
            c.write_tx(|c| {
                let user = match users::create(c, UserSpec::active(&email, &hash, Role::Admin, &name)) {
                    Ok(u) => u,
                    Err(CreateUserError::EmailTaken) => return Ok(None),
                    Err(CreateUserError::Db(e)) => return Err(e.into()),
                };
                actor.audit(c, "user.create_admin", ("user", Some(user.id)), &user.email)?;
                Ok(Some(user))
            })
        })
        .await?;
        if created.is_some() {
            a.ctx.flash("success", "Admin account created.");
            return Ok(redirect("/admin/users"));
        }
        errors.add("email", "An account with this e-mail already exists.");
    }
    form.password.clear();
    users_page(&a, UserFilter::default(), form, errors).await
}

async fn set_status(
    a: AdminCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<HttpResponse> {
    let target_id = path.into_inner();
    let status: AccountStatus = form
        .status
        .parse()
        .ok()
        .filter(|s| *s != AccountStatus::PendingApproval)
        .ok_or_else(|| AppError::invalid("status must be active or suspended"))?;
    if target_id == a.user.id {
        return Err(AppError::conflict("own_account", "You cannot change the status of your own account."));
    }
    let actor = a.ctx.acting(&a.user);
    let login_link = a.ctx.state.config.url("/login");
    let effects = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            let user = users::find(c, target_id)?.ok_or(AppError::NotFound)?;
            if user.status() == status {
                return Ok(Effects::NONE);
            }
            users::set_status(c, user.id, status)?;
            if status == AccountStatus::Suspended {
                sessions::delete_for_user(c, user.id)?;
            }
            let action = if status == AccountStatus::Active { "user.activate" } else { "user.suspend" };
            actor.audit(c, action, ("user", Some(user.id)), &format!("{} → {}", user.status, status.as_str()))?;
            let mail = AccountStatusChanged {
                name: user.display_name.clone(),
                approved: status == AccountStatus::Active,
                login_link: login_link.clone(),
            };
            mail::enqueue(c, &user.email, &mail)?;
            // A suspended account's links stop taking paid traffic at once in this
            // process (other processes within the link cache's TTL).
            Ok(Effects::LINKS | Effects::MAIL)
        })
    })
    .await?;
    a.ctx.state.apply(effects);
    a.ctx.flash(
        "success",
        format!(
            "Account {} is now {}.",
            target_id,
            crate::i18n::label(crate::i18n::Kind::AccountStatus, status.as_str())
        ),
    );
    Ok(redirect("/admin/users"))
}

#[derive(Deserialize)]
struct SettingsForm {
    #[serde(default)]
    require_account_approval: Option<String>,
}

async fn update_settings(a: AdminCtx, CsrfForm(form): CsrfForm<SettingsForm>) -> AppResult<HttpResponse> {
    let value = if form.require_account_approval.is_some() { "true" } else { "false" };
    let actor = a.ctx.acting(&a.user);
    db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            settings::set(c, settings::REQUIRE_ACCOUNT_APPROVAL, value)?;
            actor.audit(
                c,
                "settings.update",
                ("setting", None),
                &format!("{}={value}", settings::REQUIRE_ACCOUNT_APPROVAL),
            )
        })
    })
    .await?;
    a.ctx.flash("success", "Settings saved.");
    Ok(redirect("/admin/users"))
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Page,
    entries: Vec<AuditEntry>,
}

async fn audit_log(a: AdminCtx) -> AppResult<HttpResponse> {
    let entries = db::run(a.ctx.pool(), |c| Ok(audit::recent(c, 500)?)).await?;
    render(&AuditPage { page: a.ctx.page("Audit log"), entries })
}

/// One publisher's row of the click-to-conversion table.
struct CtitRow {
    publisher_id: i64,
    name: String,
    total: i64,
    /// Each bucket's count and share of the publisher's leads (%), for the bars.
    buckets: Vec<(i64, i64)>,
    injection: bool,
    spamming: bool,
}

#[derive(Template)]
#[template(path = "admin/traffic.html")]
struct TrafficPage {
    page: Page,
    form: RangeForm,
    ranking: Ranking,
    labels: [&'static str; 7],
    rows: Vec<CtitRow>,
    thresholds: (i64, i64, i64),
}

/// The suspicious-traffic page (DESIGN §9): publishers ranked by every signal
/// (duplicate clicks, clicks outside the targeting or from blocked sources, leads
/// from datacenter addresses or repeated clicks, click-to-conversion times, scrub
/// rate, refusals at intake), each flag linked to its evidence; then the
/// click-to-conversion times by publisher: a spike under 10 s is click injection, a
/// flat tail of days is click spamming. Reads the range's rollups and, at the same
/// time on a second connection, its leads (two grouped reads).
async fn traffic(a: AdminCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    use crate::domain::{ctit, suspects};
    use crate::store::reports as store_reports;
    let q = ReportQuery::of(&req)?;
    let reader = Reader::of(&a.user);
    let range = reader.range(&q)?;
    let (from, to) = range.utc_bounds();
    let filter = reader.filter(range, None);
    let (by_publisher, (hists, rules, names)) = tokio::try_join!(
        db::run(a.ctx.pool(), move |c| Ok(store_reports::report(c, &filter, GroupBy::Publisher)?)),
        db::run(a.ctx.pool(), move |c| {
            let hists = store_reports::ctit(c, from, to)?;
            let codes = suspects::RULE_SIGNALS.map(|(code, _)| code);
            let rules = store_reports::rule_failures(c, from, to, &codes)?;
            let ids = hists.iter().map(|(id, _)| *id).chain(rules.keys().copied());
            let names = store_reports::user_names(c, ids)?;
            Ok((hists, rules, names))
        }),
    )?;
    let name_of = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("Publisher #{id}"));

    // Every publisher with traffic, leads checked or leads with a click in the range.
    let mut traffic: std::collections::BTreeMap<i64, suspects::Traffic> = by_publisher
        .iter()
        .filter_map(|l| l.key.parse::<i64>().ok().map(|id| (id, l)))
        .map(|(id, l)| {
            (id, suspects::Traffic { publisher_id: id, name: l.label.clone(), totals: l.totals, ..Default::default() })
        })
        .collect();
    let new = |id: i64| suspects::Traffic { publisher_id: id, name: name_of(id), ..Default::default() };
    for (id, counts) in rules {
        traffic.entry(id).or_insert_with(|| new(id)).rules = counts;
    }
    for (id, h) in &hists {
        traffic.entry(*id).or_insert_with(|| new(*id)).ctit = Some(*h);
    }
    let ranking = reports::full_ranking(traffic.into_values().collect(), &range);

    let mut rows: Vec<CtitRow> = hists
        .into_iter()
        .map(|(id, h)| CtitRow {
            publisher_id: id,
            name: name_of(id),
            total: h.total(),
            buckets: h.counts.iter().copied().zip(h.shares()).collect(),
            injection: h.injection(),
            spamming: h.spamming(),
        })
        .collect();
    rows.sort_by_key(|r| {
        (std::cmp::Reverse(usize::from(r.injection) + usize::from(r.spamming)), std::cmp::Reverse(r.total))
    });
    render(&TrafficPage {
        page: a.ctx.page("Suspicious traffic"),
        form: RangeForm::new("/admin/traffic", &reader, &range),
        ranking,
        labels: ctit::LABELS,
        rows,
        thresholds: (ctit::INJECTION_PCT, ctit::SPAMMING_PCT, ctit::MIN_LEADS),
    })
}
