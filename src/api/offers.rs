//! `/api/v1/offers…`: create, list, read, update, submit, review, join, approve.

use crate::api::money::acting;
use crate::api::money::optional_json;
use actix_web::web::{self, Bytes, Json};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::acting::Acting;
use crate::api::{ApiUser, resource};
use crate::db;
use crate::domain::account::Role;
use crate::domain::money::format_minor;
use crate::domain::offer::{self, Caps, Listing, OfferBody, OfferStatus, PayoutModel, Terms};
use crate::effects::Effects;
use crate::error::{ApiError, ApiResult, AppError};
use crate::marketplace::{self, Pay};
use crate::store::offers::{self, MarketFilter, Membership, Offer};
use crate::store::revisions::{self, Revision};
use crate::store::settings;
use crate::store::users::User;
use crate::tracking::links;
use actix_web::http::Method;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/offers", [(Method::POST, web::to(create)), (Method::GET, web::to(list))]));
    cfg.service(resource("/offers/{id}", [(Method::GET, web::to(get)), (Method::PATCH, web::to(patch))]));
    cfg.service(resource("/offers/{id}/submit", [(Method::POST, web::to(submit))]));
    cfg.service(resource("/offers/{id}/join", [(Method::POST, web::to(join))]));
    cfg.service(resource("/offers/{id}/publishers", [(Method::GET, web::to(publishers))]));
    cfg.service(resource(
        "/offers/{id}/publishers/{publisher_id}/approve",
        [(Method::POST, web::to(approve_publisher))],
    ));
    cfg.service(resource("/offers/{id}/publishers/{publisher_id}/reject", [(Method::POST, web::to(reject_publisher))]));
    cfg.service(resource("/admin/offers/{id}/approve", [(Method::POST, web::to(admin_approve))]));
    cfg.service(resource("/admin/offers/{id}/reject", [(Method::POST, web::to(admin_reject))]));
    cfg.service(resource("/admin/offers/{id}/revisions", [(Method::GET, web::to(admin_revisions))]));
    cfg.service(resource(
        "/admin/offers/{id}/revisions/{rev}/approve",
        [(Method::POST, web::to(admin_revision_approve))],
    ));
    cfg.service(resource(
        "/admin/offers/{id}/revisions/{rev}/reject",
        [(Method::POST, web::to(admin_revision_reject))],
    ));
}

#[derive(Debug, Serialize)]
pub struct MembershipJson {
    pub status: String,
    pub token: Option<String>,
    pub click_url: Option<String>,
}

impl MembershipJson {
    fn of(m: &Membership, base_url: &str) -> MembershipJson {
        let approved = m.is_approved();
        MembershipJson {
            status: m.status.clone(),
            token: approved.then(|| m.token.clone()),
            click_url: approved.then(|| links::click_url(base_url, &m.token)),
        }
    }
}

/// An offer as its viewer may see it: advertisers see the price, publishers the
/// payout, admins both and the fee; only the owner and admins see the postback token.
#[derive(Debug, Serialize)]
pub struct OfferJson {
    pub id: i64,
    pub advertiser_id: i64,
    pub status: String,
    #[serde(flatten)]
    pub listing: Listing,
    pub payout_model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_bps: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payout_rate_bps: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_bps: Option<i64>,
    pub events: Vec<String>,
    pub visibility: String,
    pub timezone: String,
    pub caps: Caps,
    pub terms: Terms,
    pub terms_text: Vec<String>,
    /// Which channels report conversions (DESIGN "Trust").
    pub pixel: bool,
    pub hosted_form: bool,
    pub publisher_leads: bool,
    pub pixel_signature: bool,
    /// CPS only; `null` for CPL and CPA.
    pub max_sale_amount: Option<String>,
    pub notice_hours: u32,
    /// The owner's and admins' view only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postback_ips: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postback_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postback_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<MembershipJson>,
    pub created_at: String,
    pub updated_at: String,
}

pub fn offer_json(
    o: &Offer,
    viewer: &User,
    member: Option<&Membership>,
    base_url: &str,
    fee_default: i64,
) -> OfferJson {
    let role = viewer.role();
    let owner_view = role == Role::Admin || o.advertiser_id == viewer.id;
    let fee = marketplace::fee_bps(o, fee_default);
    let (payout, payout_rate) = match Pay::price(o).map(|p| p.after_fee(fee)) {
        Some(Pay::Fixed { minor, .. }) => (Some(format_minor(minor)), None),
        Some(Pay::Share { bps }) => (None, Some(bps)),
        None => (None, None),
    };
    let show_payout = role != Role::Advertiser;
    let body = o.body();
    OfferJson {
        id: o.id,
        advertiser_id: o.advertiser_id,
        status: o.status.clone(),
        listing: o.listing.clone(),
        payout_model: o.payout_model.clone(),
        price: if owner_view { body.price.clone() } else { None },
        rate_bps: if owner_view { body.rate_bps } else { None },
        payout: if show_payout { payout } else { None },
        payout_rate_bps: if show_payout { payout_rate } else { None },
        fee_bps: (role == Role::Admin).then_some(fee),
        events: body.events.clone(),
        visibility: o.visibility.clone(),
        timezone: o.timezone.clone(),
        terms_text: offer::plain_terms(&body.terms, &body.caps),
        pixel: body.pixel.unwrap_or_default(),
        hosted_form: body.hosted_form.unwrap_or_default(),
        publisher_leads: body.publisher_leads,
        pixel_signature: body.pixel_signature,
        max_sale_amount: body.max_sale_amount.clone(),
        notice_hours: body.notice_hours.unwrap_or_default(),
        postback_ips: owner_view.then(|| body.postback_ips.clone()),
        caps: body.caps,
        terms: body.terms,
        review_note: owner_view.then(|| o.review_note.clone()),
        postback_token: owner_view.then(|| o.postback_token.clone()),
        postback_url: owner_view.then(|| links::advertiser_postback_url(base_url, o)),
        membership: member.map(|m| MembershipJson::of(m, base_url)),
        created_at: o.created_at.and_utc().to_rfc3339(),
        updated_at: o.updated_at.and_utc().to_rfc3339(),
    }
}

/// Run an offer operation in a write transaction and answer with the offer as JSON.
async fn offer_op<F>(
    api: &ApiUser,
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
    op: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut db::DbConn, &Acting) -> Result<(Offer, Effects), AppError> + Send + 'static,
{
    let who = acting(api, req);
    let fee_default = api.state.config.platform_fee_bps;
    let base = api.state.config.base_url.to_string();
    let (json, effects) = db::run(&api.state.pool, move |c| {
        let (offer, effects) = c.write_tx(|c| op(c, &who))?;
        let fee = settings::platform_fee_bps(c, fee_default)?;
        let member = offers::membership(c, offer.id, who.user.id)?;
        Ok((offer_json(&offer, &who.user, member.as_ref(), &base, fee), effects))
    })
    .await?;
    // What a tracking link shows may have changed (status, landing page, caps):
    // this process's clicks read it afresh; other processes within the TTL.
    api.state.apply(effects);
    Ok(HttpResponse::build(status).json(json))
}

async fn create(api: ApiUser, req: HttpRequest, body: Json<serde_json::Value>) -> ApiResult<HttpResponse> {
    // An object only: serde would also read the struct from an array, by position.
    let serde_json::Value::Object(_) = &*body else {
        return Err(ApiError(AppError::invalid("the JSON body must be an object")));
    };
    let mut body = body.into_inner();
    crate::api::money::whole_numbers(&mut body);
    let body: OfferBody = crate::error::read_json(body)?;
    offer_op(&api, &req, actix_web::http::StatusCode::CREATED, move |c, who| {
        // A new offer is no one's link yet, and no one is told of it.
        Ok((marketplace::create_offer(c, who, &body)?, Effects::NONE))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub status: Option<String>,
    pub q: Option<String>,
    pub category: Option<String>,
    pub payout_model: Option<String>,
    pub country: Option<String>,
    pub min_price: Option<String>,
}

impl ListQuery {
    pub fn market_filter(&self) -> MarketFilter {
        MarketFilter {
            q: self.q.clone().filter(|s| !s.trim().is_empty()),
            category: self.category.clone().filter(|s| !s.is_empty()),
            model: self.payout_model.as_deref().and_then(PayoutModel::parse),
            country: self.country.clone().map(|c| c.trim().to_uppercase()).filter(|c| c.len() == 2),
            min_price_minor: self
                .min_price
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| crate::domain::money::parse_minor(s).ok()),
        }
    }
}

impl ListQuery {
    /// The API reads its filters strictly: a value it cannot use is `400 invalid_request`
    /// naming the parameter, not silently "any" (an empty value is "any").
    fn check(&self) -> Result<(), AppError> {
        let given = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        if let Some(s) = given(&self.status)
            && OfferStatus::parse(&s).is_none()
        {
            return Err(AppError::invalid("status must be one of draft, pending_review, active, paused, archived"));
        }
        if let Some(m) = given(&self.payout_model)
            && PayoutModel::parse(&m).is_none()
        {
            return Err(AppError::invalid("payout_model must be one of cpl, cpa, cps"));
        }
        if let Some(c) = given(&self.category)
            && !offer::CATEGORIES.contains(&c.as_str())
        {
            return Err(AppError::invalid(format!("category must be one of {}", offer::CATEGORIES.join(", "))));
        }
        if let Some(c) = given(&self.country)
            && !(c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        {
            return Err(AppError::invalid("country must be a two-letter country code"));
        }
        if let Some(p) = given(&self.min_price)
            && !crate::domain::money::is_plain_amount(&p)
        {
            return Err(AppError::invalid("min_price must be an amount like 12.50"));
        }
        Ok(())
    }
}

async fn list(api: ApiUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    q.check()?;
    let user = api.user.clone();
    let fee_default = api.state.config.platform_fee_bps;
    let base = api.state.config.base_url.to_string();
    let q = q.into_inner();
    let out = db::run(&api.state.pool, move |c| {
        let fee = settings::platform_fee_bps(c, fee_default)?;
        let rows: Vec<(Offer, Option<Membership>)> = match user.role() {
            Role::Advertiser => offers::list_for_advertiser(c, user.id)?.into_iter().map(|o| (o, None)).collect(),
            Role::Publisher => marketplace::publisher_market(c, user.id, &q.market_filter(), fee)?,
            Role::Admin => offers::list_all(c, q.status.as_deref().and_then(OfferStatus::parse))?
                .into_iter()
                .map(|(o, _)| (o, None))
                .collect(),
        };
        Ok(rows.iter().map(|(o, m)| offer_json(o, &user, m.as_ref(), &base, fee)).collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "offers": out })))
}

async fn get(api: ApiUser, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let (user, id) = (api.user.clone(), path.into_inner());
    let fee_default = api.state.config.platform_fee_bps;
    let base = api.state.config.base_url.to_string();
    let json = db::run(&api.state.pool, move |c| {
        let (offer, member) = marketplace::visible_offer(c, &user, id)?;
        let fee = settings::platform_fee_bps(c, fee_default)?;
        Ok(offer_json(&offer, &user, member.as_ref(), &base, fee))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json))
}

async fn patch(
    api: ApiUser,
    req: HttpRequest,
    path: web::Path<i64>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let (id, mut body) = (path.into_inner(), body.into_inner());
    crate::api::money::whole_numbers(&mut body);
    let who = acting(&api, &req);
    let fee_default = api.state.config.platform_fee_bps;
    let base = api.state.config.base_url.to_string();
    let (json, revision, effects) = db::run(&api.state.pool, move |c| {
        let (offer, revision, effects) = c.write_tx(|c| marketplace::patch_offer(c, &who, id, &body))?;
        let fee = settings::platform_fee_bps(c, fee_default)?;
        let member = offers::membership(c, offer.id, who.user.id)?;
        Ok((offer_json(&offer, &who.user, member.as_ref(), &base, fee), revision, effects))
    })
    .await?;
    api.state.apply(effects);
    // A change that waits for review answers 202 with the pending revision (and
    // the offer as it runs meanwhile).
    Ok(match revision {
        Some(r) => {
            let mut out = revision_json(&r);
            out["offer"] = serde_json::to_value(json).unwrap_or_default();
            HttpResponse::Accepted().json(out)
        }
        None => HttpResponse::Ok().json(json),
    })
}

/// A revision as the API shows it (DESIGN "Trust").
pub fn revision_json(r: &Revision) -> serde_json::Value {
    let time = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.and_utc().to_rfc3339());
    serde_json::json!({
        "id": r.id,
        "offer_id": r.offer_id,
        "status": r.status,
        "changes": r.changes(),
        "tightens": r.tightens(),
        "proposed": r.body(),
        "note": r.note,
        "created_at": r.created_at.and_utc().to_rfc3339(),
        "decided_at": time(r.decided_at),
        "effective_at": time(r.effective_at),
        "applied_at": time(r.applied_at),
    })
}

async fn admin_revisions(api: ApiUser, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    if api.user.role() != Role::Admin {
        return Err(ApiError(AppError::Forbidden));
    }
    let id = path.into_inner();
    let list = db::run(&api.state.pool, move |c| {
        offers::find(c, id)?.ok_or(AppError::NotFound)?;
        Ok(revisions::for_offer(c, id)?)
    })
    .await?;
    let out: Vec<serde_json::Value> = list.iter().map(revision_json).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "revisions": out })))
}

async fn admin_revision_approve(
    api: ApiUser,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    review_revision(api, req, path.into_inner(), true, body).await
}

async fn admin_revision_reject(
    api: ApiUser,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    review_revision(api, req, path.into_inner(), false, body).await
}

async fn review_revision(
    api: ApiUser,
    req: HttpRequest,
    (id, rev): (i64, i64),
    approve: bool,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let note = optional_json::<NoteBody>(&body)?.note.unwrap_or_default();
    let who = acting(&api, &req);
    let (r, effects) = db::run(&api.state.pool, move |c| {
        c.write_tx(|c| marketplace::review_revision(c, &who, id, rev, approve, &note))
    })
    .await?;
    api.state.apply(effects);
    Ok(HttpResponse::Ok().json(revision_json(&r)))
}

async fn submit(api: ApiUser, req: HttpRequest, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    if api.user.role() != Role::Advertiser {
        return Err(ApiError(AppError::Forbidden));
    }
    offer_op(&api, &req, actix_web::http::StatusCode::OK, move |c, who| {
        marketplace::change_status(c, who, id, OfferStatus::PendingReview, None)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NoteBody {
    /// `null` is the same as leaving it out.
    note: Option<String>,
}

async fn admin_approve(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    review(api, req, path.into_inner(), true, body).await
}

async fn admin_reject(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    review(api, req, path.into_inner(), false, body).await
}

async fn review(api: ApiUser, req: HttpRequest, id: i64, approve: bool, body: Bytes) -> ApiResult<HttpResponse> {
    let note = optional_json::<NoteBody>(&body)?.note.unwrap_or_default();
    offer_op(&api, &req, actix_web::http::StatusCode::OK, move |c, who| {
        marketplace::review_offer(c, who, id, approve, &note)
    })
    .await
}

async fn join(api: ApiUser, req: HttpRequest, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let who = acting(&api, &req);
    let base = api.state.config.base_url.to_string();
    let (m, effects) = db::run(&api.state.pool, move |c| c.write_tx(|c| marketplace::join(c, &who, id))).await?;
    api.state.apply(effects);
    Ok(HttpResponse::Ok().json(MembershipJson::of(&m, &base)))
}

#[derive(Serialize)]
struct PublisherJson {
    publisher_id: i64,
    email: String,
    name: String,
    status: String,
    invited: bool,
    created_at: String,
}

async fn publishers(api: ApiUser, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let (user, id) = (api.user.clone(), path.into_inner());
    let list = db::run(&api.state.pool, move |c| {
        marketplace::owned_offer(c, &user, id)?;
        Ok(offers::members_of(c, id)?)
    })
    .await?;
    let out: Vec<PublisherJson> = list
        .into_iter()
        .map(|(m, email, name)| PublisherJson {
            publisher_id: m.publisher_id,
            email,
            name,
            status: m.status,
            invited: m.invited,
            created_at: m.created_at.and_utc().to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "publishers": out })))
}

async fn approve_publisher(
    api: ApiUser,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    decide(api, req, path.into_inner(), true, body).await
}

async fn reject_publisher(
    api: ApiUser,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    decide(api, req, path.into_inner(), false, body).await
}

async fn decide(
    api: ApiUser,
    req: HttpRequest,
    (id, publisher_id): (i64, i64),
    approve: bool,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let note = optional_json::<NoteBody>(&body)?.note.unwrap_or_default();
    let who = acting(&api, &req);
    let base = api.state.config.base_url.to_string();
    let (m, effects) = db::run(&api.state.pool, move |c| {
        c.write_tx(|c| marketplace::decide_membership(c, &who, id, publisher_id, approve, &note))
    })
    .await?;
    api.state.apply(effects);
    let mut json =
        serde_json::to_value(MembershipJson::of(&m, &base)).map_err(|e| ApiError(AppError::Internal(e.into())))?;
    json["publisher_id"] = serde_json::json!(publisher_id);
    Ok(HttpResponse::Ok().json(json))
}
