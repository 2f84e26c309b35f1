//! Monthly reconciliation in the browser (DESIGN §8 "Monthly reconciliation"):
//! the advertiser's months, a month's statement (printable, and as CSV) with its
//! confirm and dispute forms; the admin's list of open months and the resolve form.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use crate::db;
use crate::domain::account::Role;
use crate::domain::csv::line;
use crate::domain::local::Local;
use crate::domain::reconciliation::{Month, Statement};
use crate::error::{AppError, AppResult};
use crate::settlement::reconciliation::{self as rec, Open};
use crate::store::now;
use crate::store::reconciliations::{self as store, DisputedLine, Reconciliation};
use crate::store::users::{self, User};
use crate::web::context::{AdminCtx, AdvertiserCtx, Ctx, Page, redirect, render};
use crate::web::csrf::CsrfForm;
use crate::web::leads::flash_outcome;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/reconciliations", web::get().to(advertiser_months))
        .route("/advertiser/reconciliations/{month}", web::get().to(advertiser_month))
        .route("/advertiser/reconciliations/{month}/statement.csv", web::get().to(advertiser_csv))
        .route("/advertiser/reconciliations/{month}/confirm", web::post().to(confirm))
        .route("/advertiser/reconciliations/{month}/dispute", web::post().to(dispute))
        .route("/admin/reconciliations", web::get().to(admin_open))
        .route("/admin/reconciliations/{advertiser}/{month}", web::get().to(admin_month))
        .route("/admin/reconciliations/{advertiser}/{month}/statement.csv", web::get().to(admin_csv))
        .route("/admin/reconciliations/{advertiser}/{month}/resolve", web::post().to(resolve));
}

/// How many months back the advertiser's list goes.
const MONTHS_LISTED: usize = 24;

/// A month in a path: a real month, not after the current one (else not found).
fn month_of(raw: &str) -> AppResult<Month> {
    match Month::parse(raw) {
        Some(m) if m <= Month::of(now()) => Ok(m),
        _ => Err(AppError::NotFound),
    }
}

/// `2025-01-31 14:05 UTC`: a statement is of a calendar month in UTC, and its
/// printed copy names its times in UTC too.
fn when(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A month's status in words, for the lists (the message catalogue's
/// `reconciliation-*`; anything else reads as no activity).
fn status_words(status: &str) -> String {
    use crate::i18n::{Kind, RECONCILIATION_STATES, label};
    label(Kind::Reconciliation, if RECONCILIATION_STATES.contains(&status) { status } else { "none" })
}

/// One month of a statement page, for either role.
pub struct MonthView {
    pub month: Month,
    pub st: Statement,
    pub currency: String,
    /// How the viewer reads its amounts.
    pub local: Local,
    pub closed: bool,
    pub rec: Option<Reconciliation>,
    /// Disputed lines: (label, comment, when).
    pub disputed: Vec<(String, String, String)>,
    /// The statement page's own path (`…/{month}`).
    pub path: String,
    /// Whether the platform fee is shown (admins only).
    pub show_fee: bool,
}

impl MonthView {
    pub fn money(&self, minor: impl crate::domain::local::Minor) -> String {
        self.local.money(minor)
    }

    /// The month's state: its answer, or `in_progress`, `none` (nothing happened)
    /// or `awaiting` (closed, unanswered). The badge's class and words both read it.
    pub fn status_class(&self) -> &str {
        match &self.rec {
            Some(r) => &r.status,
            None if !self.closed => "in_progress",
            None if self.st.is_empty() => "none",
            None => "awaiting",
        }
    }

    pub fn status(&self) -> String {
        status_words(self.status_class())
    }

    /// Whether the advertiser may still confirm: closed, undecided.
    pub fn can_confirm(&self) -> bool {
        self.closed && self.rec.is_none()
    }

    /// Whether the advertiser may still dispute lines: closed, undecided or disputed.
    pub fn can_dispute(&self) -> bool {
        self.closed && self.rec.as_ref().is_none_or(|r| r.status == "disputed")
    }

    pub fn decided_at(&self) -> String {
        self.rec.as_ref().map(|r| when(&r.decided_at)).unwrap_or_default()
    }

    pub fn resolved_at(&self) -> String {
        self.rec.as_ref().and_then(|r| r.resolved_at.as_ref()).map(when).unwrap_or_default()
    }

    /// Leads received by status, in words: `3 approved, 1 pending`.
    pub fn received(&self, o: &crate::domain::reconciliation::OfferLine) -> String {
        o.received
            .iter()
            .map(|(s, n)| format!("{n} {}", crate::i18n::label(crate::i18n::Kind::LeadStatus, s)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn month_view(ctx: &Ctx, advertiser_id: i64, month: Month, path: String, show_fee: bool) -> AppResult<MonthView> {
    let key = month.to_string();
    let (st, rec, lines) = db::run(ctx.pool(), move |c| {
        let st = rec::statement(c, advertiser_id, month)?;
        let r = store::find(c, advertiser_id, &key)?;
        let lines = match &r {
            Some(r) => store::lines(c, r.id)?,
            None => Vec::new(),
        };
        Ok((st, r, lines))
    })
    .await?;
    let disputed =
        lines.iter().map(|l: &DisputedLine| (st.line_label(&l.line), l.comment.clone(), when(&l.created_at))).collect();
    Ok(MonthView {
        month,
        closed: month.is_closed(now()),
        st,
        currency: ctx.state.config.currency.clone(),
        local: ctx.local(),
        rec,
        disputed,
        path,
        show_fee,
    })
}

fn csv_response(view: &MonthView, filename: String) -> HttpResponse {
    let body: String = view.st.csv_records(&view.currency, view.show_fee).iter().map(|r| line(r)).collect();
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .body(body)
}

// ---------------------------------------------------------------------------
// The advertiser
// ---------------------------------------------------------------------------

/// A row of the advertiser's list of months.
pub struct MonthRow {
    pub month: Month,
    pub status: String,
    pub class: String,
}

#[derive(Template)]
#[template(path = "advertiser/reconciliations.html")]
struct MonthsPage {
    page: Page,
    rows: Vec<MonthRow>,
}

async fn advertiser_months(a: AdvertiserCtx) -> AppResult<HttpResponse> {
    let uid = a.user.id;
    let joined = Month::of(a.user.created_at);
    let rows = db::run(a.ctx.pool(), move |c| {
        let decided = store::for_advertiser(c, uid)?;
        let mut rows = Vec::new();
        let mut m = Month::of(now());
        // Back to the month the advertiser joined, and before it only months in
        // which its money moved (an account can be given older history).
        for _ in 0..MONTHS_LISTED {
            let key = m.to_string();
            let class = match decided.iter().find(|r| r.month == key) {
                Some(r) => r.status.clone(),
                None if !m.is_closed(now()) => "in_progress".into(),
                None if store::had_activity(c, uid, m.start(), m.end())? => "awaiting".into(),
                None if m >= joined => "none".into(),
                None => break,
            };
            rows.push(MonthRow { month: m, status: status_words(&class), class });
            m = m.prev();
        }
        Ok(rows)
    })
    .await?;
    render(&MonthsPage { page: a.ctx.page("Monthly reconciliation"), rows })
}

#[derive(Template)]
#[template(path = "advertiser/reconciliation.html")]
struct AdvertiserMonthPage {
    page: Page,
    v: MonthView,
}

async fn advertiser_month(a: AdvertiserCtx, path: web::Path<String>) -> AppResult<HttpResponse> {
    let month = month_of(&path)?;
    let v = month_view(&a.ctx, a.user.id, month, format!("/advertiser/reconciliations/{month}"), false).await?;
    render(&AdvertiserMonthPage { page: a.ctx.page(format!("Statement of {}", month.label())), v })
}

async fn advertiser_csv(a: AdvertiserCtx, path: web::Path<String>) -> AppResult<HttpResponse> {
    let month = month_of(&path)?;
    let v = month_view(&a.ctx, a.user.id, month, String::new(), false).await?;
    Ok(csv_response(&v, format!("qualead-statement-{month}.csv")))
}

async fn confirm(
    a: AdvertiserCtx,
    path: web::Path<String>,
    CsrfForm(_): CsrfForm<crate::web::csrf::NoFields>,
) -> AppResult<HttpResponse> {
    let month = month_of(&path)?;
    let who = a.ctx.acting(&a.user);
    let result = db::run(a.ctx.pool(), move |c| c.write_tx(|c| rec::confirm(c, &who, month))).await;
    flash_outcome(&a.ctx, result, |_| format!("You confirmed the statement of {}. Thank you.", month.label()))?;
    Ok(redirect(&format!("/advertiser/reconciliations/{month}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DisputeForm {
    line: String,
    comment: String,
}

async fn dispute(
    a: AdvertiserCtx,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<DisputeForm>,
) -> AppResult<HttpResponse> {
    let month = month_of(&path)?;
    let who = a.ctx.acting(&a.user);
    let result =
        db::run(a.ctx.pool(), move |c| c.write_tx(|c| rec::dispute(c, &who, month, &form.line, &form.comment))).await;
    flash_outcome(&a.ctx, result, |_| {
        format!("Line disputed. An admin reviews the statement of {} and answers here.", month.label())
    })?;
    Ok(redirect(&format!("/advertiser/reconciliations/{month}")))
}

// ---------------------------------------------------------------------------
// Admins
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/reconciliations.html")]
struct OpenPage {
    page: Page,
    rows: Vec<Open>,
    look_back: usize,
}

impl OpenPage {
    fn words(&self, status: &str) -> String {
        status_words(status)
    }
}

async fn admin_open(a: AdminCtx) -> AppResult<HttpResponse> {
    let rows = db::run(a.ctx.pool(), |c| Ok(rec::open(c, now())?)).await?;
    render(&OpenPage { page: a.ctx.page("Reconciliations"), rows, look_back: rec::LOOK_BACK_MONTHS })
}

/// The advertiser named in an admin's path, or not found.
async fn advertiser_named(ctx: &Ctx, id: i64) -> AppResult<User> {
    let user = db::run(ctx.pool(), move |c| Ok(users::find(c, id)?)).await?;
    user.filter(|u| u.role() == Role::Advertiser).ok_or(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "admin/reconciliation.html")]
struct AdminMonthPage {
    page: Page,
    v: MonthView,
    advertiser: User,
}

async fn admin_month(a: AdminCtx, path: web::Path<(i64, String)>) -> AppResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let month = month_of(&raw)?;
    let advertiser = advertiser_named(&a.ctx, id).await?;
    let v = month_view(&a.ctx, id, month, format!("/admin/reconciliations/{id}/{month}"), true).await?;
    let title = format!("{} · statement of {}", advertiser.email, month.label());
    render(&AdminMonthPage { page: a.ctx.page(title), v, advertiser })
}

async fn admin_csv(a: AdminCtx, path: web::Path<(i64, String)>) -> AppResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let month = month_of(&raw)?;
    advertiser_named(&a.ctx, id).await?;
    let v = month_view(&a.ctx, id, month, String::new(), true).await?;
    Ok(csv_response(&v, format!("qualead-statement-{id}-{month}.csv")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResolveForm {
    note: String,
}

async fn resolve(
    a: AdminCtx,
    path: web::Path<(i64, String)>,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> AppResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let month = month_of(&raw)?;
    let who = a.ctx.acting(&a.user);
    let result = db::run(a.ctx.pool(), move |c| c.write_tx(|c| rec::resolve(c, &who, id, month, &form.note))).await;
    flash_outcome(&a.ctx, result, |_| format!("The statement of {} is resolved.", month.label()))?;
    Ok(redirect(&format!("/admin/reconciliations/{id}/{month}")))
}
