//! Admin: the offer review queue, an offer's full record, review decisions, the
//! per-offer fee override, the platform fee default, and publisher approvals.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::domain::offer::{self, OfferStatus};
use crate::error::{AppError, AppResult};
use crate::marketplace;
use crate::store::offers::{self, Membership, Offer};
use crate::store::revisions;
use crate::store::settings;
use crate::web::advertiser::price_label;
use crate::web::context::StatusForm;
use crate::web::context::{AdminCtx, Page, redirect, render};
use crate::web::csrf::CsrfForm;
use crate::web::revisions::{RevisionView, views as revision_views};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/offers", web::get().to(list))
        .route("/admin/offers/fee", web::post().to(set_default_fee))
        .route("/admin/offers/{id}", web::get().to(show))
        .route("/admin/offers/{id}/review", web::post().to(review))
        .route("/admin/offers/{id}/revisions/{rev}", web::post().to(review_revision))
        .route("/admin/offers/{id}/fee", web::post().to(set_fee))
        .route("/admin/offers/{id}/status", web::post().to(set_status))
        .route("/admin/offers/{id}/publishers/{pid}", web::post().to(decide));
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/offers.html")]
struct ListPage {
    page: Page,
    rows: Vec<(Offer, String)>,
    status: String,
    fee_bps: i64,
    /// Live offers with a change waiting for review.
    changed: Vec<(Offer, String)>,
}

impl ListPage {
    fn price(&self, o: &Offer) -> String {
        price_label(o, &self.page.local)
    }
}

async fn list(a: AdminCtx, q: web::Query<ListQuery>) -> AppResult<HttpResponse> {
    // The review queue is the default view.
    let status = match q.status.as_deref() {
        None => Some(OfferStatus::PendingReview),
        Some("all") => None,
        Some(s) => OfferStatus::parse(s),
    };
    let d = a.ctx.state.config.platform_fee_bps;
    let (rows, fee_bps, changed) = db::run(a.ctx.pool(), move |c| {
        let waiting: Vec<i64> = revisions::all_pending(c)?.into_iter().map(|(offer, _)| offer).collect();
        let changed = if status == Some(OfferStatus::PendingReview) && !waiting.is_empty() {
            offers::list_all(c, None)?.into_iter().filter(|(o, _)| waiting.contains(&o.id)).collect()
        } else {
            Vec::new()
        };
        Ok((offers::list_all(c, status)?, settings::platform_fee_bps(c, d)?, changed))
    })
    .await?;
    let title = if status == Some(OfferStatus::PendingReview) { "Offers waiting for review" } else { "Offers" };
    render(&ListPage {
        page: a.ctx.page(title),
        rows,
        status: status.map(|s| s.as_str().to_string()).unwrap_or_else(|| "all".into()),
        fee_bps,
        changed,
    })
}

#[derive(Template)]
#[template(path = "admin/offer.html")]
struct ShowPage {
    page: Page,
    offer: Offer,
    advertiser: String,
    price: String,
    terms: Vec<String>,
    effective_fee: i64,
    members: Vec<(Membership, String, String)>,
    revisions: Vec<RevisionView>,
    reviewer: bool,
}

async fn show(a: AdminCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let d = a.ctx.state.config.platform_fee_bps;
    let (offer, advertiser, members, fee, list) = db::run(a.ctx.pool(), move |c| {
        let offer = offers::find(c, id)?.ok_or(AppError::NotFound)?;
        let advertiser = crate::store::users::find(c, offer.advertiser_id)?.map(|u| u.email).unwrap_or_default();
        let list = revisions::for_offer(c, id)?;
        Ok((offer, advertiser, offers::members_of(c, id)?, settings::platform_fee_bps(c, d)?, list))
    })
    .await?;
    let body = offer.body();
    render(&ShowPage {
        page: a.ctx.page(offer.name.clone()),
        price: price_label(&offer, &a.ctx.local()),
        terms: offer::plain_terms(&body.terms, &crate::web::advertiser::shown_caps(&body.caps, &a.ctx.local())),
        effective_fee: marketplace::fee_bps(&offer, fee),
        advertiser,
        members,
        revisions: revision_views(&offer, &list, &a.ctx.local()),
        reviewer: true,
        offer,
    })
}

/// An admin approves or sends back a change of a live offer.
async fn review_revision(
    a: AdminCtx,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ReviewForm>,
) -> AppResult<HttpResponse> {
    let (id, rev) = path.into_inner();
    let approve = form.decision == "approve";
    let who = a.ctx.acting(&a.user);
    let done = db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| marketplace::review_revision(c, &who, id, rev, approve, &form.note))
    })
    .await;
    match done {
        Ok((r, effects)) => {
            a.ctx.state.apply(effects);
            let msg = match (approve, r.applied_at.is_some(), r.effective_at) {
                (false, _, _) => "Change sent back to the advertiser with your note.".to_string(),
                (true, true, _) => "Change approved; it is in effect now.".to_string(),
                (true, false, Some(at)) => format!(
                    "Change approved; it takes effect on {} and the publishers were told.",
                    marketplace::utc_minute(&at)
                ),
                (true, false, None) => "Change approved.".to_string(),
            };
            a.ctx.flash("success", msg);
        }
        Err(AppError::Invalid(e)) => a.ctx.flash("error", e.values().cloned().collect::<Vec<_>>().join(" ")),
        Err(AppError::Conflict { message, .. }) => a.ctx.flash("error", message),
        Err(e) => return Err(e),
    }
    Ok(redirect(&format!("/admin/offers/{id}")))
}

#[derive(Deserialize)]
struct ReviewForm {
    decision: String,
    #[serde(default)]
    note: String,
}

async fn review(a: AdminCtx, path: web::Path<i64>, CsrfForm(form): CsrfForm<ReviewForm>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let approve = form.decision == "approve";
    let who = a.ctx.acting(&a.user);
    match db::run(a.ctx.pool(), move |c| c.write_tx(|c| marketplace::review_offer(c, &who, id, approve, &form.note)))
        .await
    {
        Ok((_, effects)) => {
            a.ctx.state.apply(effects);
            a.ctx.flash(
                "success",
                if approve {
                    "Offer approved; it is live."
                } else {
                    "Offer sent back to the advertiser with your note."
                },
            );
            Ok(redirect("/admin/offers"))
        }
        Err(AppError::Invalid(e)) => {
            a.ctx.flash("error", e.values().cloned().collect::<Vec<_>>().join(" "));
            Ok(redirect(&format!("/admin/offers/{id}")))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct FeeForm {
    #[serde(default)]
    fee_bps: String,
}

fn parse_fee(raw: &str) -> AppResult<Option<i32>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i32>()
        .ok()
        .filter(|f| (0..=10_000).contains(f))
        .map(Some)
        .ok_or_else(|| AppError::invalid("The fee is a whole number of basis points from 0 to 10000."))
}

async fn set_fee(a: AdminCtx, path: web::Path<i64>, CsrfForm(form): CsrfForm<FeeForm>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let fee = parse_fee(&form.fee_bps)?;
    let who = a.ctx.acting(&a.user);
    let (_, effects) =
        db::run(a.ctx.pool(), move |c| c.write_tx(|c| marketplace::set_offer_fee(c, &who, id, fee))).await?;
    a.ctx.state.apply(effects);
    a.ctx.flash("success", "Fee saved. It applies to leads accepted from now on.");
    Ok(redirect(&format!("/admin/offers/{id}")))
}

async fn set_default_fee(a: AdminCtx, CsrfForm(form): CsrfForm<FeeForm>) -> AppResult<HttpResponse> {
    let fee = parse_fee(&form.fee_bps)?.ok_or_else(|| AppError::invalid("Enter the default fee in basis points."))?;
    let who = a.ctx.acting(&a.user);
    db::run(a.ctx.pool(), move |c| {
        c.write_tx(|c| {
            settings::set(c, settings::PLATFORM_FEE_BPS, &fee.to_string())?;
            who.audit(c, "settings.platform_fee", ("setting", None), &format!("{fee} bps"))
        })
    })
    .await?;
    a.ctx.flash("success", "Platform fee default saved.");
    Ok(redirect("/admin/offers"))
}

async fn set_status(
    a: AdminCtx,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let to = crate::web::offer_form::change_status(&a.ctx, &a.user, id, &form).await?;
    a.ctx
        .flash("success", format!("Offer is now {}.", crate::i18n::label(crate::i18n::Kind::OfferStatus, to.as_str())));
    Ok(redirect(&format!("/admin/offers/{id}")))
}

async fn decide(
    a: AdminCtx,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<crate::web::offer_form::DecideForm>,
) -> AppResult<HttpResponse> {
    let (id, pid) = path.into_inner();
    crate::web::offer_form::decide_membership(&a.ctx, &a.user, (id, pid), form).await?;
    Ok(redirect(&format!("/admin/offers/{id}")))
}
