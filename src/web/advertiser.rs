//! The advertiser's pages: the dashboard (DESIGN §9), offers (create, edit, submit, pause, archive),
//! the integration codes, and the publishers of each offer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::domain::local::Local;
use crate::domain::offer::{self, CATEGORIES, OfferBody, OfferStatus, Terms};
use crate::domain::report::GroupBy;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::marketplace::{self, Pay};
use crate::settlement::money as settle_money;
use crate::store::offers::{self, Membership, Offer};
use crate::store::users::User;
use crate::tracking::links;
use crate::web::context::StatusForm;
use crate::web::context::{AdvertiserCtx, Ctx, FormErrors, Page, redirect, render, render_status};
use crate::web::csrf::CsrfForm;
use crate::web::offer_form::OfferForm;
use crate::web::reports::{self, Kpi, RangeForm, Reader, ReportQuery, Table};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser", web::get().to(home))
        .route("/advertiser/offers", web::get().to(list))
        .route("/advertiser/offers", web::post().to(create))
        .route("/advertiser/offers/new", web::get().to(new_form))
        .route("/advertiser/offers/{id}", web::get().to(show))
        .route("/advertiser/offers/{id}/edit", web::get().to(edit_form))
        .route("/advertiser/offers/{id}/edit", web::post().to(update))
        .route("/advertiser/offers/{id}/status", web::post().to(set_status))
        .route("/advertiser/offers/{id}/postback-ips", web::post().to(set_postback_ips))
        .route("/advertiser/offers/{id}/invite", web::post().to(invite))
        .route("/advertiser/offers/{id}/publishers/{pid}", web::post().to(decide));
}

/// An offer's caps as a page shows them in its terms: the daily budget with its
/// currency (`$500.00`; the form and the API keep `500.00`).
pub fn shown_caps(caps: &offer::Caps, local: &Local) -> offer::Caps {
    offer::Caps { daily_budget: caps.daily_budget.as_ref().map(|b| local.amount(b)), ..caps.clone() }
}

/// A one-line description of what an offer pays, for lists.
pub fn price_label(o: &Offer, local: &Local) -> String {
    Pay::price(o).map(|p| p.words(local)).unwrap_or_else(|| "—".into())
}

/// The columns of the advertiser dashboard's tables: leads by status, spend,
/// cost per lead, scrub and return rates.
const TABLE_COLUMNS: &[&str] = &[
    "clicks",
    "leads",
    "pending",
    "approved",
    "rejected",
    "disputed",
    "reversed",
    "revenue",
    "cost_per_lead",
    "scrub_rate",
    "return_rate",
];

#[derive(Template)]
#[template(path = "advertiser/home.html")]
struct HomePage {
    page: Page,
    user: User,
    offers: Vec<Offer>,
    form: RangeForm,
    range_query: String,
    kpis: Vec<Kpi>,
    chart: String,
    day_csv: String,
    by_offer: Table,
    by_publisher: Table,
    available: String,
    escrow: String,
}

/// The advertiser's dashboard: the range's KPIs against the period before, clicks
/// and spend by day, every offer and publisher with leads by status, spend, cost
/// per lead, scrub and return rates; the balance and the offers. One rollup
/// query (the totals rows of the range and the period before it).
async fn home(a: AdvertiserCtx, req: HttpRequest) -> AppResult<HttpResponse> {
    let q = ReportQuery::of(&req)?;
    let reader = Reader::of(&a.user);
    let range = reader.range(&q)?;
    let uid = a.user.id;
    let ((days, by_offer, by_publisher), (offers, balance)) = tokio::try_join!(
        reports::overview(a.ctx.pool(), reader, range),
        db::run(a.ctx.pool(), move |c| {
            Ok((offers::list_for_advertiser(c, uid)?, settle_money::advertiser_balance(c, uid)?))
        }),
    )?;
    let table = |id, title, group, lines: &[_]| {
        reports::dashboard_table(&reader, &range, id, title, group, TABLE_COLUMNS, lines, None)
    };
    render(&HomePage {
        page: a.ctx.page("Advertiser dashboard"),
        form: RangeForm::new("/advertiser", &reader, &range),
        range_query: range.query(),
        kpis: reports::kpis(reader.viewer, &days.totals, &days.previous),
        chart: reports::time_chart(&reader, &a.ctx.local(), "Clicks and spend by day", &days.lines),
        day_csv: reader.report_url(&range, GroupBy::Day, None, true),
        by_offer: table("by-offer", "By offer", GroupBy::Offer, &by_offer),
        by_publisher: table("by-publisher", "By publisher", GroupBy::Publisher, &by_publisher),
        available: a.ctx.local().money(balance.available),
        escrow: a.ctx.local().money(balance.escrow),
        user: a.user,
        offers,
    })
}

#[derive(Template)]
#[template(path = "advertiser/offers.html")]
struct ListPage {
    page: Page,
    offers: Vec<Offer>,
}

impl ListPage {
    fn price(&self, o: &Offer) -> String {
        price_label(o, &self.page.local)
    }
}

async fn list(a: AdvertiserCtx) -> AppResult<HttpResponse> {
    let uid = a.user.id;
    let offers = db::run(a.ctx.pool(), move |c| Ok(offers::list_for_advertiser(c, uid)?)).await?;
    render(&ListPage { page: a.ctx.page("Your offers"), offers })
}

#[derive(Template)]
#[template(path = "advertiser/offer_form.html")]
struct FormPage {
    page: Page,
    form: OfferForm,
    errors: FormErrors,
    /// `None` for a new offer.
    offer_id: Option<i64>,
    categories: &'static [&'static str],
    lead_fields: &'static [&'static str],
}

fn form_page(
    ctx: &Ctx,
    status: StatusCode,
    form: OfferForm,
    errors: FormErrors,
    offer_id: Option<i64>,
) -> AppResult<HttpResponse> {
    let title = if offer_id.is_some() { "Edit offer" } else { "New offer" };
    render_status(
        status,
        &FormPage {
            page: ctx.page(title),
            form,
            errors,
            offer_id,
            categories: CATEGORIES,
            lead_fields: offer::LEAD_FIELDS,
        },
    )
}

async fn new_form(a: AdvertiserCtx) -> AppResult<HttpResponse> {
    let body = OfferBody { terms: Terms::default(), ..Default::default() };
    form_page(&a.ctx, StatusCode::OK, OfferForm::from_body(&body), FormErrors::default(), None)
}

async fn create(a: AdvertiserCtx, CsrfForm(pairs): CsrfForm<Vec<(String, String)>>) -> AppResult<HttpResponse> {
    let form = OfferForm::from_pairs(&pairs);
    let body = match form.to_body() {
        Ok(b) => b,
        Err(e) => return form_page(&a.ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e.into(), None),
    };
    let who = a.ctx.acting(&a.user);
    let submit = form.intent == "submit";
    let result = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            let created = marketplace::create_offer(c, &who, &body)?;
            let mut effects = Effects::NONE;
            if submit {
                (_, effects) = marketplace::change_status(c, &who, created.id, OfferStatus::PendingReview, None)?;
            }
            Ok((created, effects))
        })
    })
    .await;
    match result {
        Ok((o, effects)) => {
            a.ctx.state.apply(effects);
            a.ctx.flash("success", if submit { "Offer saved and sent for review." } else { "Offer saved as a draft." });
            Ok(redirect(&format!("/advertiser/offers/{}", o.id)))
        }
        Err(AppError::Invalid(e)) => form_page(&a.ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e.into(), None),
        Err(e) => Err(e),
    }
}

async fn load_owned(a: &AdvertiserCtx, id: i64) -> AppResult<Offer> {
    let user = a.user.clone();
    db::run(a.ctx.pool(), move |c| marketplace::owned_offer(c, &user, id)).await
}

async fn edit_form(a: AdvertiserCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let offer = load_owned(&a, path.into_inner()).await?;
    let id = offer.id;
    // A change waiting for review is what the advertiser edits further.
    let body = db::run(a.ctx.pool(), move |c| marketplace::edit_base(c, &offer)).await?;
    form_page(&a.ctx, StatusCode::OK, OfferForm::from_body(&body), FormErrors::default(), Some(id))
}

async fn update(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    load_owned(&a, id).await?;
    let form = OfferForm::from_pairs(&pairs);
    let body = match form.to_body() {
        Ok(b) => b,
        Err(e) => return form_page(&a.ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e.into(), Some(id)),
    };
    let who = a.ctx.acting(&a.user);
    match db::run(a.ctx.pool(), move |c| c.write_tx(|c| marketplace::update_offer(c, &who, id, &body))).await {
        Ok((_, revision, effects)) => {
            // The landing page, fallback, caps or cookie window may have changed:
            // this process's clicks read the link afresh (others within the TTL).
            a.ctx.state.apply(effects);
            match revision {
                Some(_) => a.ctx.flash(
                    "success",
                    "Saved. The changes to the landing page, money or terms wait for an admin's review; \
                     until then the offer runs as before.",
                ),
                None => a.ctx.flash("success", "Offer saved."),
            }
            Ok(redirect(&format!("/advertiser/offers/{id}")))
        }
        Err(AppError::Invalid(e)) => form_page(&a.ctx, StatusCode::UNPROCESSABLE_ENTITY, form, e.into(), Some(id)),
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "advertiser/offer.html")]
struct ShowPage {
    page: Page,
    offer: Offer,
    price: String,
    terms: Vec<String>,
    postback_url: String,
    pixels: [(&'static str, String); 3],
    /// Each channel in plain words and whether it is on.
    channels: Vec<(&'static str, bool)>,
    /// CPS: the largest sale amount taken.
    max_sale: Option<String>,
    /// How to compute a signed pixel's `sig`, when the offer asks for one.
    signature: Option<[(&'static str, String); 2]>,
    members: Vec<(Membership, String, String)>,
    revisions: Vec<crate::web::revisions::RevisionView>,
    reviewer: bool,
    /// What each macro of the postback URL and pixels stands for.
    macros: Vec<(String, &'static str)>,
    /// The test link (none for an archived offer) and the latest test conversions.
    test_link: Option<String>,
    tests: Vec<crate::store::test_conversions::TestConversion>,
    /// The offer's traffic-source blocks, and how many network-wide ones apply too.
    blocks: Vec<crate::web::source_blocks::BlockView>,
    network_blocks: usize,
    fields: [&'static str; 6],
    /// The balance cannot pay for one lead (see [`balance_warning`]).
    low_balance: Option<String>,
}

/// The channels of an offer as its page lists them.
fn channel_list(o: &Offer) -> Vec<(&'static str, bool)> {
    let ch = o.channels();
    vec![
        ("Server postback from your systems", true),
        ("Pixel on your thank-you page", ch.pixel),
        ("Only signed pixels", ch.pixel && ch.pixel_signature),
        ("Hosted lead form for publishers", ch.hosted_form),
        ("Leads publishers send through the API", ch.publisher_leads),
    ]
}

async fn show(a: AdvertiserCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let offer = load_owned(&a, path.into_inner()).await?;
    let oid = offer.id;
    let (members, list) =
        db::run(a.ctx.pool(), move |c| Ok((offers::members_of(c, oid)?, crate::store::revisions::for_offer(c, oid)?)))
            .await?;
    let (blocks, network_blocks) = db::run(a.ctx.pool(), move |c| {
        Ok((crate::store::source_blocks::of_offer(c, oid)?, crate::store::source_blocks::network(c)?))
    })
    .await?;
    let names: std::collections::HashMap<i64, String> =
        members.iter().map(|(m, _, name)| (m.publisher_id, name.clone())).collect();
    // The network's blocks that reach this offer: for everyone, or for one of its publishers.
    let network_blocks =
        network_blocks.iter().filter(|b| b.publisher_id.is_none_or(|p| names.contains_key(&p))).count();
    let blocks = crate::web::source_blocks::views(&blocks, &names, &Default::default(), &a.ctx.local());
    let shown = crate::tracking::test_conversions::SHOWN;
    let tests = db::run(a.ctx.pool(), move |c| Ok(crate::store::test_conversions::recent(c, oid, shown)?)).await?;
    let base = a.ctx.state.config.base_url.to_string();
    let body = offer.body();
    let low_balance =
        if matches!(offer.status(), OfferStatus::Archived) { None } else { balance_warning(&a, &offer).await? };
    render(&ShowPage {
        low_balance,
        page: a.ctx.page(offer.name.clone()),
        price: price_label(&offer, &a.ctx.local()),
        terms: offer::plain_terms(&body.terms, &shown_caps(&body.caps, &a.ctx.local())),
        postback_url: links::advertiser_postback_url(&base, &offer),
        pixels: links::pixel_snippets(&base, &offer),
        channels: channel_list(&offer),
        max_sale: offer.channels().max_sale_minor.map(|m| a.ctx.local().money(m)),
        signature: (offer.pixel && offer.pixel_signature).then(|| links::pixel_signature_snippets(&offer)),
        members,
        revisions: crate::web::revisions::views(&offer, &list, &a.ctx.local()),
        reviewer: false,
        macros: links::macro_help(&offer),
        test_link: (offer.status() != OfferStatus::Archived)
            .then(|| crate::tracking::test_conversions::test_link(&base, &offer)),
        tests,
        blocks,
        network_blocks,
        fields: crate::domain::source_block::FIELDS,
        offer,
    })
}

/// A warning when the advertiser's available balance cannot pay for one lead of
/// the offer (a CPL or CPA price; a CPS lead's price depends on its sale): its
/// first lead would be refused (`budget_exhausted`) and the offer paused.
async fn balance_warning(a: &AdvertiserCtx, offer: &Offer) -> AppResult<Option<String>> {
    let Some(price) = offer.price_minor.filter(|p| *p > 0) else { return Ok(None) };
    let uid = a.user.id;
    let balance = db::run(a.ctx.pool(), move |c| Ok(settle_money::advertiser_balance(c, uid)?)).await?;
    let local = a.ctx.local();
    Ok((balance.available < price).then(|| {
        format!(
            "Your balance ({}) cannot pay for one lead ({}): the first lead would be refused and the offer paused. Add money on your Balance page.",
            local.money(balance.available),
            local.money(price)
        )
    }))
}

async fn set_status(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let to = crate::web::offer_form::change_status(&a.ctx, &a.user, id, &form).await?;
    if matches!(to, OfferStatus::PendingReview | OfferStatus::Active) {
        let offer = load_owned(&a, id).await?;
        if let Some(warning) = balance_warning(&a, &offer).await? {
            let done = if to == OfferStatus::Active { "Offer resumed." } else { "Sent for review." };
            a.ctx.flash("warning", format!("{done} {warning}"));
            return Ok(redirect(&format!("/advertiser/offers/{id}")));
        }
    }
    let msg = match to {
        OfferStatus::PendingReview => "Sent for review. An admin will look at it shortly.",
        OfferStatus::Paused => {
            "Offer paused: clicks go to the fallback page and conversions are rejected until you resume it."
        }
        OfferStatus::Active => "Offer resumed.",
        OfferStatus::Archived => "Offer archived.",
        OfferStatus::Draft => "Offer is a draft again.",
    };
    a.ctx.flash("success", msg);
    Ok(redirect(&format!("/advertiser/offers/{id}")))
}

#[derive(Deserialize)]
struct IpsForm {
    #[serde(default)]
    postback_ips: String,
}

async fn set_postback_ips(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<IpsForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let nets = crate::config::parse_cidrs(&form.postback_ips)
        .map_err(|m| AppError::invalid(format!("Postback IP allow-list: {m}")))?;
    let list = nets.iter().map(offer::allow_list_form).collect::<Vec<_>>().join(",");
    let user = a.user.clone();
    db::run(a.ctx.pool(), move |c| {
        marketplace::owned_offer(c, &user, id)?;
        Ok(offers::set_postback_ips(c, id, &list)?)
    })
    .await?;
    a.ctx.flash("success", "Postback IP allow-list saved.");
    Ok(redirect(&format!("/advertiser/offers/{id}")))
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
}

async fn invite(
    a: AdvertiserCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let who = a.ctx.acting(&a.user);
    match db::run(a.ctx.pool(), move |c| c.write_tx(|c| marketplace::invite(c, &who, id, &form.email))).await {
        Ok((_, effects)) => {
            a.ctx.state.apply(effects);
            a.ctx.flash("success", "Publisher invited; their tracking link is ready.");
        }
        Err(AppError::Invalid(e)) => a.ctx.flash("error", e.values().cloned().collect::<Vec<_>>().join(" ")),
        Err(e) => return Err(e),
    }
    Ok(redirect(&format!("/advertiser/offers/{id}")))
}

async fn decide(
    a: AdvertiserCtx,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<crate::web::offer_form::DecideForm>,
) -> AppResult<HttpResponse> {
    let (id, pid) = path.into_inner();
    crate::web::offer_form::decide_membership(&a.ctx, &a.user, (id, pid), form).await?;
    Ok(redirect(&format!("/advertiser/offers/{id}")))
}
