//! Leads in the browser (DESIGN §6, §7): each role's lead list and lead page — every
//! rule outcome, the score, the money the viewer may see, the fields (masked for
//! publishers), the click, the whole history and the disputes — and the actions of
//! each role on it: the advertiser approves or rejects a pending lead early and
//! returns an approved one, the publisher contests a rejection, an admin rules on
//! disputes (from the dispute queue) and allows more returns on an offer.
//!
//! The rules live in `crate::settlement`; these handlers only read forms, run them
//! in one transaction and answer with a redirect and a flash message.

use std::collections::{BTreeSet, HashMap};

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use crate::db::{self, DbConn};
use crate::domain::account::Role;
use crate::domain::geo::CountrySource;
use crate::domain::lifecycle::{LeadStatus, RETURN_REASONS, Ruling};
use crate::domain::scrub::Check;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::settlement::actions;
use crate::settlement::verdicts::{self, Channel, Verdict};
use crate::settlement::view::{self, LeadRow, LeadView};
use crate::store::disputes::{self, Dispute, QueueRow};
use crate::store::leads::{self, Filter};
use crate::store::users::{self, User};
use crate::store::{clicks, offers};
use crate::web::context::{AdminCtx, AdvertiserCtx, Ctx, Page, PublisherCtx, redirect, render};
use crate::web::csrf::CsrfForm;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/leads", web::get().to(advertiser_list))
        .route("/advertiser/leads/{id}", web::get().to(advertiser_show))
        .route("/advertiser/leads/{id}/decide", web::post().to(decide_early))
        .route("/advertiser/leads/{id}/return", web::post().to(return_lead))
        .route("/publisher/leads", web::get().to(publisher_list))
        .route("/publisher/leads/{id}", web::get().to(publisher_show))
        .route("/publisher/leads/{id}/contest", web::post().to(contest))
        .route("/admin/leads", web::get().to(admin_list))
        .route("/admin/leads/{id}", web::get().to(admin_show))
        .route("/admin/disputes", web::get().to(dispute_queue))
        .route("/admin/disputes/{id}/rule", web::post().to(rule))
        .route("/admin/offers/{id}/returns", web::post().to(allow_returns));
}

/// Lead statuses, in lifecycle order (DESIGN §6), for the list filter.
pub const LEAD_STATUSES: [&str; 5] = LeadStatus::NAMES;

/// Leads per list page.
const PAGE_SIZE: i64 = 50;

/// The section of the site that belongs to a role (`/advertiser`, …).
fn section(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Advertiser => "/advertiser",
        Role::Publisher => "/publisher",
    }
}

/// What a refused action says to the person who tried it: conflicts and bad
/// requests (e.g. `return_window_closed`) become a flash message with their code;
/// anything else (not found, forbidden, internal) stays an error page.
pub(crate) fn refusal(e: AppError) -> AppResult<String> {
    match e {
        AppError::Conflict { code, message } | AppError::BadRequest { code, message } => {
            Ok(format!("{message} [{code}]"))
        }
        AppError::Invalid(fields) => Ok(fields.values().cloned().collect::<Vec<_>>().join(" ")),
        other => Err(other),
    }
}

/// Flash `ok` when the action went through, or why it was refused.
pub(crate) fn flash_outcome<T>(ctx: &Ctx, result: AppResult<T>, ok: impl FnOnce(&T) -> String) -> AppResult<()> {
    match result {
        Ok(v) => {
            ctx.flash("success", ok(&v));
            Ok(())
        }
        Err(e) => {
            ctx.flash("error", refusal(e)?);
            Ok(())
        }
    }
}

/// [`flash_outcome`] of an action that returns what it changed: its effects are
/// applied first (its transaction committed).
pub(crate) fn flash_applied<T>(
    ctx: &Ctx,
    result: AppResult<(T, Effects)>,
    ok: impl FnOnce(&T) -> String,
) -> AppResult<()> {
    let result = result.map(|(v, effects)| {
        ctx.state.apply(effects);
        v
    });
    flash_outcome(ctx, result, ok)
}

// ---------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------

/// The list filter as the form sends it (empty fields mean "any").
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    offer_id: String,
    status: String,
    /// One publisher's leads (the admin's evidence links; a publisher sees its own anyway).
    publisher_id: String,
    /// Leads that failed the scrub rule of this code (`datacenter_ip`).
    rule: String,
    before_id: String,
}

impl ListQuery {
    fn filter(&self) -> Filter {
        Filter {
            offer_id: self.offer_id.trim().parse().ok(),
            status: self.status.trim().parse().ok(),
            publisher_id: self.publisher(),
            failed_rule: self.rule(),
            before_id: self.before_id.trim().parse().ok(),
            limit: Some(PAGE_SIZE),
            ..Filter::default()
        }
    }

    fn publisher(&self) -> Option<i64> {
        self.publisher_id.trim().parse().ok()
    }

    /// A rule code (lower-case letters and underscores); anything else is no filter.
    fn rule(&self) -> Option<String> {
        let code = self.rule.trim();
        (!code.is_empty() && code.len() <= 40 && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then(|| code.to_string())
    }
}

/// The model of the three lead lists (`partials/lead_list.html`).
pub struct LeadList {
    pub base: &'static str,
    pub rows: Vec<LeadRow>,
    pub offer_names: HashMap<i64, String>,
    /// The offers the viewer may filter by: (id, name).
    pub offers: Vec<(i64, String)>,
    pub offer_id: Option<i64>,
    pub status: String,
    pub statuses: &'static [&'static str],
    /// The list is one publisher's (an admin's evidence link).
    pub publisher_id: Option<i64>,
    /// That publisher, named: `Ann Lee (ann@example.com)`.
    pub publisher_party: String,
    /// The list is of leads that failed this rule.
    pub rule: Option<String>,
    /// The query string of the next page, when there may be one.
    pub next: Option<String>,
    pub paged: bool,
    pub show_price: bool,
    pub show_payout: bool,
}

impl LeadList {
    pub fn offer_name(&self, id: &i64) -> String {
        self.offer_names.get(id).cloned().unwrap_or_else(|| format!("#{id}"))
    }
    pub fn is_offer(&self, id: &i64) -> bool {
        self.offer_id == Some(*id)
    }

    /// What narrows the list beyond the form's fields, in words, if anything.
    pub fn narrowed(&self) -> Option<String> {
        let rule = self
            .rule
            .as_ref()
            .map(|r| format!("that failed the rule “{}”", crate::i18n::label(crate::i18n::Kind::Rule, r)));
        match (self.publisher_id, rule) {
            (None, None) => None,
            (Some(_), None) => Some(format!("Leads of {}", self.publisher_party)),
            (None, Some(r)) => Some(format!("Leads {r}")),
            (Some(_), Some(r)) => Some(format!("Leads of {} {r}", self.publisher_party)),
        }
    }
}

/// The offers a user's leads can come from: (id, name), newest first.
fn offers_of(conn: &mut DbConn, user: &User) -> AppResult<Vec<(i64, String)>> {
    Ok(match user.role() {
        Role::Admin => offers::list_all(conn, None)?.into_iter().map(|(o, _)| (o.id, o.listing.name)).collect(),
        Role::Advertiser => {
            offers::list_for_advertiser(conn, user.id)?.into_iter().map(|o| (o.id, o.listing.name)).collect()
        }
        Role::Publisher => {
            offers::memberships_of(conn, user.id)?.into_iter().map(|(_, o)| (o.id, o.listing.name)).collect()
        }
    })
}

async fn lead_list(ctx: &Ctx, user: &User, q: ListQuery) -> AppResult<LeadList> {
    let filter = q.filter();
    let who = ctx.acting(user);
    let viewer = user.clone();
    let (rows, offers, publisher) = db::run(ctx.pool(), move |c| {
        let rows = view::list(c, &who, &filter)?;
        let publisher = match filter.publisher_id {
            Some(p) if viewer.role() == Role::Admin => users::find(c, p)?,
            _ => None,
        };
        Ok((rows, offers_of(c, &viewer)?, publisher))
    })
    .await?;
    let offer_id = q.offer_id.trim().parse::<i64>().ok();
    let status = Some(q.status.trim()).filter(|s| LEAD_STATUSES.contains(s)).unwrap_or_default().to_string();
    // A publisher's own list is its own: no publisher filter to show or keep.
    let publisher_id = q.publisher().filter(|_| user.role() != Role::Publisher);
    let rule = q.rule();
    let next = (rows.len() as i64 == PAGE_SIZE).then(|| rows.last().map(|r| r.id)).flatten().map(|last| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(o) = offer_id {
            s.append_pair("offer_id", &o.to_string());
        }
        if !status.is_empty() {
            s.append_pair("status", &status);
        }
        if let Some(p) = publisher_id {
            s.append_pair("publisher_id", &p.to_string());
        }
        if let Some(r) = &rule {
            s.append_pair("rule", r);
        }
        s.append_pair("before_id", &last.to_string());
        s.finish()
    });
    Ok(LeadList {
        base: section(user.role()),
        offer_names: offers.iter().cloned().collect(),
        offers,
        offer_id,
        status,
        statuses: &LEAD_STATUSES,
        publisher_party: match (&publisher, publisher_id) {
            (Some(u), _) => format!("publisher {}", u.party()),
            (None, Some(p)) => format!("publisher #{p}"),
            (None, None) => String::new(),
        },
        publisher_id,
        rule,
        next,
        paged: !q.before_id.trim().is_empty(),
        show_price: user.role() != Role::Publisher,
        show_payout: user.role() != Role::Advertiser,
        rows,
    })
}

#[derive(Template)]
#[template(path = "advertiser/leads.html")]
struct AdvertiserLeadsPage {
    page: Page,
    list: LeadList,
}

async fn advertiser_list(a: AdvertiserCtx, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    let list = lead_list(&a.ctx, &a.user, q.into_inner()).await?;
    render(&AdvertiserLeadsPage { page: a.ctx.page("Leads"), list })
}

#[derive(Template)]
#[template(path = "publisher/leads.html")]
struct PublisherLeadsPage {
    page: Page,
    list: LeadList,
}

async fn publisher_list(p: PublisherCtx, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    let list = lead_list(&p.ctx, &p.user, q.into_inner()).await?;
    render(&PublisherLeadsPage { page: p.ctx.page("Your leads"), list })
}

#[derive(Template)]
#[template(path = "admin/leads.html")]
struct AdminLeadsPage {
    page: Page,
    list: LeadList,
}

async fn admin_list(a: AdminCtx, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    let list = lead_list(&a.ctx, &a.user, q.into_inner()).await?;
    render(&AdminLeadsPage { page: a.ctx.page("All leads"), list })
}

// ---------------------------------------------------------------------------
// The lead page
// ---------------------------------------------------------------------------

/// One line of a lead's history, with who moved it in words.
pub struct HistoryLine {
    pub at: String,
    pub from: String,
    pub to: String,
    pub who: String,
    pub reason: String,
    pub comment: String,
}

/// A dispute with its parties in words.
pub struct DisputeLine {
    pub d: Dispute,
    pub opened_by: String,
    pub ruled_by: String,
}

/// The click a lead came from, as far as the viewer may see it.
pub struct ClickFacts {
    pub at: String,
    pub user_agent: String,
    pub referrer: String,
    pub country: String,
    /// Where the click's country was read, in words ("the IP geolocation database").
    pub located: &'static str,
    /// The click's device and operating system in words ("phone, iOS").
    pub device: String,
}

/// The model of the three lead pages (`partials/lead.html`).
pub struct LeadDetail {
    pub base: &'static str,
    pub v: LeadView,
    pub offer_name: String,
    pub fields: Vec<(String, String)>,
    pub passed: usize,
    pub failed: usize,
    pub history: Vec<HistoryLine>,
    pub disputes: Vec<DisputeLine>,
    pub click: Option<ClickFacts>,
    pub subs: Vec<(usize, String)>,
    pub created: String,
    pub hold_until: String,
    pub decided: String,
    /// The advertiser's last day to return an approved lead.
    pub return_until: Option<String>,
    pub return_window_closed: bool,
    pub max_return_rate_pct: u32,
    pub return_allowance: i64,
    pub reasons: &'static [&'static str],
    /// The dispute an admin can rule on now.
    pub open_dispute: Option<i64>,
    /// Whether the publisher may still contest the rejection.
    pub can_contest: bool,
    /// For an admin: the publisher and the advertiser, named (`Ann Lee (ann@example.com)`).
    pub parties: Option<(String, String)>,
}

impl LeadDetail {
    pub fn check_class(&self, c: &Check) -> &'static str {
        if c.passed { "status-approved" } else { "status-failed" }
    }
}

/// How a viewer reads the name of someone who acted on a lead: themselves as
/// "you", the other party by role, and e-mails only for admins.
fn actor_label(viewer: &User, names: &HashMap<i64, User>, actor: Option<i64>) -> String {
    let Some(id) = actor else { return "Qualead settlement".into() };
    if id == viewer.id {
        return "you".into();
    }
    let Some(u) = names.get(&id) else { return format!("user #{id}") };
    if viewer.role() == Role::Admin {
        return format!("{} ({})", u.email, u.role().as_str());
    }
    match u.role() {
        Role::Admin => "a Qualead admin".into(),
        Role::Advertiser => "the advertiser".into(),
        Role::Publisher => "the publisher".into(),
    }
}

async fn lead_detail(ctx: &Ctx, user: &User, id: i64) -> AppResult<LeadDetail> {
    let local = ctx.local();
    let who = ctx.acting(user);
    let viewer = user.clone();
    let (v, offer, click, names, allowance) = db::run(ctx.pool(), move |c| {
        c.write_tx(|c| {
            let lead = actions::readable_lead(c, &who.user, id)?;
            let v = view::lead(c, &who, lead)?;
            let offer = offers::find(c, v.offer_id)?;
            let click = match &v.click_id {
                Some(cid) => clicks::find(c, cid)?,
                None => None,
            };
            let ids: BTreeSet<i64> = v
                .history
                .iter()
                .filter_map(|e| e.actor_id)
                .chain(v.disputes.iter().flat_map(|d| [Some(d.opened_by), d.ruled_by]).flatten())
                .chain([v.publisher_id, v.advertiser_id])
                .collect();
            let mut names = HashMap::new();
            for uid in ids {
                if let Some(u) = users::find(c, uid)? {
                    names.insert(uid, u);
                }
            }
            let allowance = if who.user.role() == Role::Admin { offers::return_allowance(c, v.offer_id)? } else { 0 };
            Ok((v, offer, click, names, allowance))
        })
    })
    .await?;
    let terms = &v.terms.terms;
    let return_until = v
        .status
        .is_approved()
        .then(|| v.decided_at.map(|d| d + Duration::days(i64::from(terms.return_window_days))))
        .flatten();
    let history = v
        .history
        .iter()
        .map(|e| HistoryLine {
            at: local.time(e.created_at),
            from: e.from_status.map(|s| s.to_string()).unwrap_or_default(),
            to: e.to_status.to_string(),
            who: if e.actor_id.is_none() && e.from_status.is_none() {
                format!("intake ({})", v.channel)
            } else {
                actor_label(&viewer, &names, e.actor_id)
            },
            reason: e.reason.clone(),
            comment: e.comment.clone(),
        })
        .collect();
    let disputes = v
        .disputes
        .iter()
        .map(|d| DisputeLine {
            opened_by: actor_label(&viewer, &names, Some(d.opened_by)),
            ruled_by: d.ruled_by.map(|r| actor_label(&viewer, &names, Some(r))).unwrap_or_default(),
            d: d.clone(),
        })
        .collect::<Vec<_>>();
    let fields = v
        .fields
        .iter()
        .map(|(k, val)| (k.clone(), val.as_str().map(str::to_string).unwrap_or_else(|| val.to_string())))
        .collect();
    let open_dispute = v.disputes.iter().find(|d| d.status == "open").map(|d| d.id);
    let can_contest = v.status.is_rejected() && !v.disputes.iter().any(|d| d.kind == "contest");
    let subs = v.subs.iter().enumerate().filter(|(_, s)| !s.is_empty()).map(|(i, s)| (i + 1, s.clone())).collect();
    let click = click.map(|k| ClickFacts {
        at: local.time(k.created_at),
        // Where the click's country came from; the lead's country may come from its
        // fields when the click had none, and then no source is named.
        located: match k.country {
            Some(_) => CountrySource::parse(&k.country_source).unwrap_or(CountrySource::Unknown).describe(),
            None => "",
        },
        device: match k.os.as_str() {
            "other" => k.device.clone(),
            os => format!("{}, {os}", k.device),
        },
        user_agent: k.user_agent,
        referrer: k.referrer,
        country: k.country.unwrap_or_default(),
    });
    let party = |id: i64| names.get(&id).map(User::party).unwrap_or_else(|| format!("account #{id} (deleted)"));
    let parties = (viewer.role() == Role::Admin).then(|| (party(v.publisher_id), party(v.advertiser_id)));
    Ok(LeadDetail {
        parties,
        base: section(viewer.role()),
        offer_name: offer.map(|o| o.listing.name).unwrap_or_else(|| format!("#{}", v.offer_id)),
        fields,
        passed: v.checks.iter().filter(|c| c.passed).count(),
        failed: v.checks.iter().filter(|c| !c.passed).count(),
        history,
        disputes,
        click,
        subs,
        created: local.time(v.created_at),
        hold_until: local.time(v.hold_until),
        decided: v.decided_at.map(|t| local.time(t)).unwrap_or_default(),
        return_window_closed: return_until.is_some_and(|u| crate::store::now() > u),
        return_until: return_until.map(|t| local.time(t)),
        max_return_rate_pct: terms.max_return_rate_pct,
        return_allowance: allowance,
        reasons: &RETURN_REASONS,
        open_dispute,
        can_contest,
        v,
    })
}

#[derive(Template)]
#[template(path = "advertiser/lead.html")]
struct AdvertiserLeadPage {
    page: Page,
    lead: LeadDetail,
}

async fn advertiser_show(a: AdvertiserCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let lead = lead_detail(&a.ctx, &a.user, path.into_inner()).await?;
    render(&AdvertiserLeadPage { page: a.ctx.page(format!("Lead #{}", lead.v.id)), lead })
}

#[derive(Template)]
#[template(path = "publisher/lead.html")]
struct PublisherLeadPage {
    page: Page,
    lead: LeadDetail,
}

async fn publisher_show(p: PublisherCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let lead = lead_detail(&p.ctx, &p.user, path.into_inner()).await?;
    render(&PublisherLeadPage { page: p.ctx.page(format!("Lead #{}", lead.v.id)), lead })
}

#[derive(Template)]
#[template(path = "admin/lead.html")]
struct AdminLeadPage {
    page: Page,
    lead: LeadDetail,
}

async fn admin_show(a: AdminCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let lead = lead_detail(&a.ctx, &a.user, path.into_inner()).await?;
    render(&AdminLeadPage { page: a.ctx.page(format!("Lead #{}", lead.v.id)), lead })
}

// ---------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecideForm {
    decision: String,
    reason: String,
    comment: String,
}

async fn decide_early(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::invalid("decision must be approve or reject")),
    };
    let who = a.ctx.acting(&a.user);
    let result = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            let decided = actions::decide_early(c, &who, id, approve, &form.reason, &form.comment)?;
            let verdict = if approve { Verdict::Approved } else { Verdict::Rejected };
            verdicts::record_one(c, &who, id, Channel::Ui, verdict, &form.reason, &form.comment)?;
            Ok::<_, AppError>(decided)
        })
    })
    .await;
    flash_applied(&a.ctx, result, |_| {
        if approve {
            "Lead approved: the publisher is paid its payout.".into()
        } else {
            "Lead rejected: its price is back on your balance.".into()
        }
    })?;
    Ok(redirect(&format!("/advertiser/leads/{id}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReturnForm {
    reason: String,
    comment: String,
}

async fn return_lead(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ReturnForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = a.ctx.acting(&a.user);
    let result = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            let returned = actions::return_lead(c, &who, id, &form.reason, &form.comment)?;
            verdicts::record_one(c, &who, id, Channel::Ui, Verdict::Returned, &form.reason, &form.comment)?;
            Ok::<_, AppError>(returned)
        })
    })
    .await;
    flash_applied(&a.ctx, result, |d| {
        format!("Lead returned (dispute #{}). An admin will rule on it; we will e-mail you the outcome.", d.id)
    })?;
    Ok(redirect(&format!("/advertiser/leads/{id}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContestForm {
    comment: String,
}

async fn contest(
    p: PublisherCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<ContestForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = p.ctx.acting(&p.user);
    let result = db::run(p.ctx.pool(), move |c| c.write_tx(|c| actions::contest(c, &who, id, &form.comment))).await;
    flash_applied(&p.ctx, result, |d| {
        format!("Rejection contested (dispute #{}). An admin will rule on it; we will e-mail you the outcome.", d.id)
    })?;
    Ok(redirect(&format!("/publisher/leads/{id}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RuleForm {
    ruling: String,
    note: String,
}

async fn rule(a: AdminCtx, path: web::Path<i64>, CsrfForm(form): CsrfForm<RuleForm>) -> AppResult<HttpResponse> {
    let dispute_id = path.into_inner();
    let ruling = Ruling::parse(&form.ruling).ok_or_else(|| AppError::invalid("the ruling is upheld or denied"))?;
    let who = a.ctx.acting(&a.user);
    let (lead_id, result) = db::run(a.ctx.pool(), move |c| {
        let d = disputes::find(c, dispute_id)?.ok_or(AppError::NotFound)?;
        Ok((d.lead_id, c.write_tx(|c| actions::rule(c, &who, dispute_id, ruling, &form.note))))
    })
    .await?;
    flash_applied(&a.ctx, result, |d| format!("Dispute #{} {}; both parties are told by e-mail.", d.id, d.status))?;
    Ok(redirect(&format!("/admin/leads/{lead_id}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AllowanceForm {
    extra: String,
}

async fn allow_returns(
    a: AdminCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<AllowanceForm>,
) -> AppResult<HttpResponse> {
    let offer_id = path.into_inner();
    let who = a.ctx.acting(&a.user);
    let result = match form.extra.trim().parse::<i64>() {
        Ok(extra) => db::run(a.ctx.pool(), move |c| c.write_tx(|c| actions::allow_returns(c, &who, offer_id, extra)))
            .await
            .map(|()| extra),
        Err(_) => Err(AppError::invalid("Extra returns are a whole number from 0 to 1000000.")),
    };
    flash_outcome(&a.ctx, result, |extra| {
        format!("The advertiser may now make {extra} returns beyond the offer's maximum return rate.")
    })?;
    Ok(redirect(&format!("/admin/offers/{offer_id}")))
}

// ---------------------------------------------------------------------------
// The dispute queue
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QueueQuery {
    status: String,
}

/// A queued dispute with the evidence an admin reads first.
pub struct QueueLine {
    pub row: QueueRow,
    pub lead_status: String,
    pub reasons: Vec<String>,
    pub failed_checks: Vec<Check>,
    pub score: Option<i32>,
    pub price: String,
    pub opened: String,
    pub ruled: String,
    pub opened_by_role: String,
}

#[derive(Template)]
#[template(path = "admin/disputes.html")]
struct QueuePage {
    page: Page,
    lines: Vec<QueueLine>,
    status: String,
    open_count: i64,
}

/// Disputes per queue page.
const QUEUE_ROWS: i64 = 200;

async fn dispute_queue(a: AdminCtx, q: web::Query<QueueQuery>) -> AppResult<HttpResponse> {
    let status = match q.status.as_str() {
        "upheld" | "denied" => q.status.clone(),
        _ => "open".to_string(),
    };
    let s = status.clone();
    let local = a.ctx.local();
    let (rows, open_count) = db::run(a.ctx.pool(), move |c| {
        let rows = disputes::queue(c, Some(&s), QUEUE_ROWS)?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            let lead = leads::find(c, row.dispute.lead_id)?;
            let opener = users::find(c, row.dispute.opened_by)?;
            let checks: Vec<Check> =
                lead.as_ref().map(|l| serde_json::from_str(&l.checks).unwrap_or_default()).unwrap_or_default();
            lines.push(QueueLine {
                lead_status: lead.as_ref().map(|l| l.status.to_string()).unwrap_or_default(),
                reasons: lead.as_ref().map(|l| l.reason_list()).unwrap_or_default(),
                failed_checks: checks.into_iter().filter(|c| !c.passed).collect(),
                score: lead.as_ref().and_then(|l| l.score),
                price: lead.as_ref().map(|l| local.money(l.price_minor)).unwrap_or_default(),
                opened: local.time(row.dispute.created_at),
                ruled: row.dispute.ruled_at.map(|t| local.time(t)).unwrap_or_default(),
                opened_by_role: opener.map(|u| u.role().as_str().to_string()).unwrap_or_default(),
                row,
            });
        }
        Ok((lines, disputes::open_count(c)?))
    })
    .await?;
    render(&QueuePage { page: a.ctx.page("Disputes"), lines: rows, status, open_count })
}
