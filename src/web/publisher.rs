//! The publisher's pages: the dashboard (DESIGN §9), the marketplace, an offer's terms, joining,
//! the links page with the publisher's own postback URL, and the log of the
//! postbacks delivered to it.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::api::offers::ListQuery;
use crate::db;
use crate::domain::local::Local;
use crate::domain::offer::{self, CATEGORIES};
use crate::domain::report::GroupBy;
use crate::error::{AppError, AppResult};
use crate::marketplace::{self, PUBLISHER_POSTBACK_MACROS, Pay};
use crate::settlement::money as settle_money;
use crate::store::offers::{self, Membership, Offer};
use crate::store::payouts::{self, Payout};
use crate::store::postbacks::{self, LogRow};
use crate::store::reports as store_reports;
use crate::store::rollups::Delta;
use crate::store::settings;
use crate::store::users::User;
use crate::tracking::links;
use crate::web::context::{Page, PublisherCtx, redirect, render};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::reports::{self, Kpi, RangeForm, Reader, ReportQuery, Select, Switch, Table};
use crate::web::verdict_stats::{PublisherView, publisher_view};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/publisher", web::get().to(home))
        .route("/publisher/offers", web::get().to(market))
        .route("/publisher/offers/{id}", web::get().to(show))
        .route("/publisher/offers/{id}/join", web::post().to(join))
        .route("/publisher/offers/{id}/postback", web::post().to(set_postback))
        .route("/publisher/links", web::get().to(my_links))
        .route("/publisher/postbacks", web::get().to(postback_log));
}

/// What a publisher earns on an offer, after the platform fee.
fn payout_label(o: &Offer, fee_bps: i64, local: &Local) -> String {
    Pay::price(o).map(|p| p.after_fee(fee_bps).words(local)).unwrap_or_else(|| "—".into())
}

/// The links of one approved membership, as shown to its publisher.
pub struct LinkSet {
    pub click: String,
    pub click_with_subs: String,
    pub hasoffers: String,
    /// Only when the offer takes leads through the hosted form.
    pub hosted_form: Option<String>,
    /// Whether the publisher may send leads it collects through the API.
    pub api_leads: bool,
}

fn link_set(base: &str, o: &Offer, m: &Membership) -> LinkSet {
    LinkSet {
        click: links::click_url(base, &m.token),
        click_with_subs: links::click_url_with_subs(base, &m.token),
        hasoffers: links::hasoffers_url(base, o.id, m.publisher_id),
        hosted_form: o.channels().hosted_form.then(|| links::hosted_form_url(base, &m.token)),
        api_leads: o.channels().publisher_leads,
    }
}

/// The columns of the publisher dashboard's offer and sub tables.
const TABLE_COLUMNS: &[&str] = &[
    "clicks",
    "unique_clicks",
    "fallback_clicks",
    "leads",
    "cr",
    "pending",
    "approved",
    "rejected",
    "payout",
    "pending_payout",
    "epc",
    "scrub_rate",
];

/// The columns of its day table.
const DAY_COLUMNS: &[&str] = &["clicks", "leads", "cr", "approved", "payout", "pending_payout", "epc"];

/// Payout requests shown on the dashboard.
const RECENT_PAYOUTS: i64 = 5;

#[derive(Template)]
#[template(path = "publisher/home.html")]
struct HomePage {
    page: Page,
    user: User,
    approved: usize,
    pending: usize,
    form: RangeForm,
    range_query: String,
    kpis: Vec<Kpi>,
    chart: String,
    day_csv: String,
    by_offer: Table,
    by_sub: Table,
    by_day: Table,
    available: String,
    pending_earnings: String,
    requested: String,
    payouts: Vec<Payout>,
}

impl HomePage {
    fn fmt(&self, minor: &i64) -> String {
        self.page.money(*minor)
    }
}

/// The publisher's dashboard: the range's KPIs against the period before (clicks,
/// leads, CR, approved and pending earnings, EPC), clicks and earnings by day, the
/// numbers per offer, per sub1–sub5 value and per day, and the payouts. Three
/// rollup queries (the totals rows of the range and the period before it; one sub).
async fn home(p: PublisherCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    let q = ReportQuery::of(&req)?;
    let reader = Reader::of(&p.user);
    let range = reader.range(&q)?;
    let sub_n = q.sub()?;
    let sub = GroupBy::Sub(sub_n);
    let uid = p.user.id;
    let ((days, by_offer, _), (memberships, by_sub, balance, payouts)) = tokio::try_join!(
        reports::overview(p.ctx.pool(), reader, range),
        db::run(p.ctx.pool(), move |c| {
            Ok((
                offers::memberships_of(c, uid)?,
                store_reports::report(c, &reader.filter(range, None), sub)?,
                settle_money::publisher_balance(c, uid)?,
                payouts::for_publisher(c, uid, RECENT_PAYOUTS)?,
            ))
        }),
    )?;
    let approved = memberships.iter().filter(|(m, _)| m.is_approved()).count();
    let pending = memberships.iter().filter(|(m, _)| m.status == "pending").count();
    let table = |id, title: &str, group, pick, lines: &[_]| {
        reports::dashboard_table(&reader, &range, id, title, group, pick, lines, None)
    };
    // Days with something on them, newest first (the chart shows every day, left to
    // right); the totals are the same.
    let active_days: Vec<_> = days.lines.iter().rev().filter(|l| l.totals != Delta::default()).cloned().collect();
    render(&HomePage {
        page: p.ctx.page("Publisher dashboard"),
        form: RangeForm::new("/publisher", &reader, &range)
            .keep("sub", if sub_n == 1 { String::new() } else { sub_n.to_string() }),
        range_query: range.query(),
        kpis: reports::kpis(reader.viewer, &days.totals, &days.previous),
        chart: reports::time_chart(&reader, &p.ctx.local(), "Clicks and earnings by day", &days.lines),
        day_csv: reader.report_url(&range, GroupBy::Day, None, true),
        by_offer: table("by-offer", "By offer", GroupBy::Offer, TABLE_COLUMNS, &by_offer),
        by_sub: table("by-sub", &format!("By {}", sub.name()), sub, TABLE_COLUMNS, &by_sub).switch(Switch {
            action: "/publisher#by-sub",
            select: Select {
                name: "sub",
                label: "Sub",
                options: (1..=5u8).map(|n| (n.to_string(), format!("sub{n}"), n == sub_n)).collect(),
            },
            hidden: vec![("from", range.from.to_string()), ("to", range.to.to_string())],
        }),
        by_day: table("by-day", "By day", GroupBy::Day, DAY_COLUMNS, &active_days).empty("No traffic in this range."),
        available: p.ctx.local().money(balance.available),
        pending_earnings: p.ctx.local().money(balance.pending),
        requested: p.ctx.local().money(balance.requested),
        payouts,
        user: p.user,
        approved,
        pending,
    })
}

pub struct MarketRow {
    pub offer: Offer,
    pub payout: String,
    pub membership: Option<String>,
    pub countries: String,
}

#[derive(Template)]
#[template(path = "publisher/market.html")]
struct MarketPage {
    page: Page,
    rows: Vec<MarketRow>,
    q: ListQuery,
    categories: &'static [&'static str],
}

async fn fee_default(p: &PublisherCtx) -> AppResult<i64> {
    let d = p.ctx.state.config.platform_fee_bps;
    db::run(p.ctx.pool(), move |c| Ok(settings::platform_fee_bps(c, d)?)).await
}

async fn market(p: PublisherCtx, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let filter = q.market_filter();
    let uid = p.user.id;
    let fee = fee_default(&p).await?;
    let list = db::run(p.ctx.pool(), move |c| Ok(marketplace::publisher_market(c, uid, &filter, fee)?)).await?;
    let local = p.ctx.local();
    let rows = list
        .into_iter()
        .map(|(o, m)| MarketRow {
            payout: payout_label(&o, marketplace::fee_bps(&o, fee), &local),
            membership: m.map(|m| m.status),
            countries: if o.countries.is_empty() {
                "all".into()
            } else {
                o.countries.trim_matches(',').replace(',', ", ")
            },
            offer: o,
        })
        .collect();
    render(&MarketPage { page: p.ctx.page("Marketplace"), rows, q, categories: CATEGORIES })
}

#[derive(Template)]
#[template(path = "publisher/offer.html")]
struct OfferPage {
    page: Page,
    offer: Offer,
    payout: String,
    terms: Vec<String>,
    membership: Option<Membership>,
    links: Option<LinkSet>,
    macros: String,
    /// Approved changes still to come: when, and what changes.
    scheduled: Vec<(String, Vec<String>)>,
    /// How often and how fast the advertiser decides.
    verdicts: PublisherView,
    /// The traffic-source blocks this publisher's link is subject to, in plain
    /// words, with who set them.
    blocks: Vec<(String, &'static str)>,
    /// The offer's live state for this publisher.
    live: (&'static str, &'static str),
}

async fn show(p: PublisherCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let (user, id) = (p.user.clone(), path.into_inner());
    let fee = fee_default(&p).await?;
    let local = p.ctx.local();
    let (offer, membership, scheduled, verdicts, blocks, live) = db::run(p.ctx.pool(), move |c| {
        let (offer, membership) = marketplace::visible_offer(c, &user, id)?;
        let scheduled = marketplace::scheduled_changes(c, &offer, &local, fee)?;
        let verdicts = publisher_view(c, &offer, crate::store::now())?;
        let blocks = crate::web::source_blocks::for_publisher(c, offer.id, user.id)?;
        let live = live_state(c, &offer, user.id)?;
        Ok((offer, membership, scheduled, verdicts, blocks, live))
    })
    .await?;
    let base = p.ctx.state.config.base_url.to_string();
    let body = offer.body();
    let links = membership.as_ref().filter(|m| m.is_approved()).map(|m| link_set(&base, &offer, m));
    render(&OfferPage {
        page: p.ctx.page(offer.name.clone()),
        payout: payout_label(&offer, marketplace::fee_bps(&offer, fee), &p.ctx.local()),
        terms: offer::plain_terms(&body.terms, &crate::web::advertiser::shown_caps(&body.caps, &p.ctx.local())),
        membership,
        links,
        macros: PUBLISHER_POSTBACK_MACROS.iter().map(|m| format!("{{{m}}}")).collect::<Vec<_>>().join(" "),
        scheduled,
        verdicts,
        blocks,
        live,
        offer,
    })
}

async fn join(p: PublisherCtx, path: web::Path<i64>, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = p.ctx.acting(&p.user);
    let (m, effects) = db::run(p.ctx.pool(), move |c| c.write_tx(|c| marketplace::join(c, &who, id))).await?;
    p.ctx.state.apply(effects);
    p.ctx.flash(
        "success",
        if m.is_approved() {
            "You joined the offer. Your tracking links are below."
        } else {
            "Application sent. The advertiser will review it; we will e-mail you."
        },
    );
    Ok(redirect(&format!("/publisher/offers/{id}")))
}

#[derive(Deserialize)]
struct PostbackForm {
    #[serde(default)]
    postback_template: String,
}

async fn set_postback(
    p: PublisherCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<PostbackForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = p.ctx.acting(&p.user);
    match db::run(p.ctx.pool(), move |c| marketplace::set_publisher_postback(c, &who, id, &form.postback_template))
        .await
    {
        Ok(_) => p.ctx.flash("success", "Postback URL saved."),
        Err(AppError::Invalid(e)) => p
            .ctx
            .flash("error", format!("Postback URL not saved: {}", e.values().cloned().collect::<Vec<_>>().join(" "))),
        Err(e) => return Err(e),
    }
    Ok(redirect(&format!("/publisher/offers/{id}")))
}

pub struct LinkRow {
    pub offer: Offer,
    pub status: String,
    pub links: Option<LinkSet>,
    /// The offer's live state for this publisher: a class and plain words.
    pub live: (&'static str, &'static str),
}

/// Whether a publisher's clicks on an offer reach the landing page now, as a
/// badge class and plain words.
pub fn live_state(
    conn: &mut crate::db::DbConn,
    offer: &Offer,
    publisher_id: i64,
) -> diesel::QueryResult<(&'static str, &'static str)> {
    use crate::domain::offer::OfferStatus;
    Ok(match offer.status() {
        OfferStatus::Active if crate::store::caps::full(conn, offer, publisher_id, crate::store::now())? => {
            ("capped", "Capped: a cap is full, so clicks go to the fallback page until its period ends")
        }
        OfferStatus::Active => ("live", "Live: clicks reach the landing page"),
        OfferStatus::Paused => {
            ("paused", "Paused by the advertiser: clicks go to the fallback page and conversions are refused")
        }
        OfferStatus::Archived => ("archived", "Ended: the advertiser archived this offer"),
        OfferStatus::Draft | OfferStatus::PendingReview => ("pending", "Not live"),
    })
}

#[derive(Template)]
#[template(path = "publisher/links.html")]
struct LinksPage {
    page: Page,
    rows: Vec<LinkRow>,
}

async fn my_links(p: PublisherCtx) -> AppResult<HttpResponse> {
    let uid = p.user.id;
    let list = db::run(p.ctx.pool(), move |c| {
        let mut out = Vec::new();
        for (m, o) in offers::memberships_of(c, uid)? {
            let live = live_state(c, &o, uid)?;
            out.push((m, o, live));
        }
        Ok(out)
    })
    .await?;
    let base = p.ctx.state.config.base_url.to_string();
    let rows = list
        .into_iter()
        .map(|(m, o, live)| LinkRow {
            links: m.is_approved().then(|| link_set(&base, &o, &m)),
            status: m.status.clone(),
            offer: o,
            live,
        })
        .collect();
    render(&LinksPage { page: p.ctx.page("My links"), rows })
}

/// How many deliveries the log page shows.
const POSTBACK_LOG_ROWS: i64 = 200;

#[derive(Template)]
#[template(path = "publisher/postbacks.html")]
struct PostbacksPage {
    page: Page,
    rows: Vec<LogRow>,
    limit: i64,
    refused: Vec<Refused>,
}

/// A conversion of the publisher's traffic refused at intake, and why.
struct Refused {
    offer_id: i64,
    click_id: String,
    channel: String,
    event: String,
    reason: &'static str,
    explain: String,
    at: String,
}

async fn postback_log(p: PublisherCtx) -> AppResult<HttpResponse> {
    let uid = p.user.id;
    let (rows, refused) = db::run(p.ctx.pool(), move |c| {
        Ok((
            postbacks::log_for_publisher(c, uid, POSTBACK_LOG_ROWS)?,
            crate::store::leads::rejections_for_publisher(c, uid, POSTBACK_LOG_ROWS)?,
        ))
    })
    .await?;
    let local = p.ctx.local();
    let refused = refused
        .into_iter()
        .map(|(offer_id, click_id, channel, event, reason, at)| {
            let known = crate::domain::intake::Reason::ALL.into_iter().find(|r| r.code() == reason);
            Refused {
                offer_id,
                click_id: click_id.unwrap_or_default(),
                channel,
                event,
                reason: known.map(|r| r.code()).unwrap_or("other"),
                explain: known.map(|r| crate::i18n::explain(crate::i18n::Kind::Reason, r.code())).unwrap_or_default(),
                at: local.time_s(at),
            }
        })
        .collect();
    render(&PostbacksPage { page: p.ctx.page("Postback log"), rows, limit: POSTBACK_LOG_ROWS, refused })
}
