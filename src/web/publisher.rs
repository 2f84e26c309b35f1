//! The publisher's pages: dashboard, the marketplace, an offer's terms, joining,
//! the links page with the publisher's own postback URL, and the log of the
//! postbacks delivered to it.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::api::offers::ListQuery;
use crate::db;
use crate::domain::offer::{self, CATEGORIES};
use crate::error::{AppError, AppResult};
use crate::marketplace::{self, PUBLISHER_POSTBACK_MACROS, Pay};
use crate::store::offers::{self, Membership, Offer};
use crate::store::postbacks::{self, LogRow};
use crate::store::settings;
use crate::store::users::User;
use crate::tracking::links;
use crate::web::context::{Page, PublisherCtx, redirect, render};
use crate::web::csrf::{CsrfForm, NoFields};

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
fn payout_label(o: &Offer, fee_bps: i64) -> String {
    Pay::price(o).map(|p| p.after_fee(fee_bps).to_string()).unwrap_or_else(|| "—".into())
}

/// The links of one approved membership, as shown to its publisher.
pub struct LinkSet {
    pub click: String,
    pub click_with_subs: String,
    pub hasoffers: String,
    pub hosted_form: String,
}

fn link_set(base: &str, o: &Offer, m: &Membership) -> LinkSet {
    LinkSet {
        click: links::click_url(base, &m.token),
        click_with_subs: links::click_url_with_subs(base, &m.token),
        hasoffers: links::hasoffers_url(base, o.id, m.publisher_id),
        hosted_form: links::hosted_form_url(base, &m.token),
    }
}

#[derive(Template)]
#[template(path = "publisher/home.html")]
struct HomePage {
    page: Page,
    user: User,
    approved: usize,
    pending: usize,
}

async fn home(p: PublisherCtx) -> AppResult<HttpResponse> {
    let uid = p.user.id;
    let list = db::run(p.ctx.pool(), move |c| Ok(offers::memberships_of(c, uid)?)).await?;
    let approved = list.iter().filter(|(m, _)| m.is_approved()).count();
    let pending = list.iter().filter(|(m, _)| m.status == "pending").count();
    render(&HomePage { page: p.ctx.page("Publisher dashboard"), user: p.user, approved, pending })
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
    let list = db::run(p.ctx.pool(), move |c| Ok(offers::marketplace(c, uid, &filter)?)).await?;
    let rows = list
        .into_iter()
        .map(|(o, m)| MarketRow {
            payout: payout_label(&o, marketplace::fee_bps(&o, fee)),
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
}

async fn show(p: PublisherCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let (user, id) = (p.user.clone(), path.into_inner());
    let fee = fee_default(&p).await?;
    let (offer, membership) = db::run(p.ctx.pool(), move |c| marketplace::visible_offer(c, &user, id)).await?;
    let base = p.ctx.state.config.base_url.to_string();
    let body = offer.body();
    let links = membership.as_ref().filter(|m| m.is_approved()).map(|m| link_set(&base, &offer, m));
    render(&OfferPage {
        page: p.ctx.page(offer.name.clone()),
        payout: payout_label(&offer, marketplace::fee_bps(&offer, fee)),
        terms: offer::plain_terms(&body.terms, &body.caps),
        membership,
        links,
        macros: PUBLISHER_POSTBACK_MACROS.iter().map(|m| format!("{{{m}}}")).collect::<Vec<_>>().join(" "),
        offer,
    })
}

async fn join(p: PublisherCtx, path: web::Path<i64>, CsrfForm(_): CsrfForm<NoFields>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = p.ctx.acting(&p.user);
    let m = db::run(p.ctx.pool(), move |c| c.write_tx(|c| marketplace::join(c, &who, id))).await?;
    p.ctx.state.outbox.wake();
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
}

#[derive(Template)]
#[template(path = "publisher/links.html")]
struct LinksPage {
    page: Page,
    rows: Vec<LinkRow>,
}

async fn my_links(p: PublisherCtx) -> AppResult<HttpResponse> {
    let uid = p.user.id;
    let list = db::run(p.ctx.pool(), move |c| Ok(offers::memberships_of(c, uid)?)).await?;
    let base = p.ctx.state.config.base_url.to_string();
    let rows = list
        .into_iter()
        .map(|(m, o)| LinkRow {
            links: m.is_approved().then(|| link_set(&base, &o, &m)),
            status: m.status.clone(),
            offer: o,
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
    explain: &'static str,
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
                explain: known.map(|r| r.explain()).unwrap_or(""),
                at: at.format("%Y-%m-%d %H:%M:%S").to_string(),
            }
        })
        .collect();
    render(&PostbacksPage { page: p.ctx.page("Postback log"), rows, limit: POSTBACK_LOG_ROWS, refused })
}
