//! The advertiser's lead webhooks pages (DESIGN §6a): an offer's endpoints with a
//! form to add one, and per endpoint its delivery log with replay, secret rotation,
//! pausing and removal. The same operations as the API (`crate::webhooks`).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::db;
use crate::error::{AppError, AppResult};
use crate::store::offers::Offer;
use crate::store::webhooks::{Delivery, EVENTS, Mapping, Webhook};
use crate::web::context::{AdvertiserCtx, Page, redirect, render, render_status};
use crate::web::csrf::CsrfForm;
use crate::webhooks::{self, WebhookBody};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser/offers/{id}/webhooks", web::get().to(list))
        .route("/advertiser/offers/{id}/webhooks", web::post().to(create))
        .route("/advertiser/offers/{id}/webhooks/{wid}", web::get().to(show))
        .route("/advertiser/offers/{id}/webhooks/{wid}/active", web::post().to(set_active))
        .route("/advertiser/offers/{id}/webhooks/{wid}/rotate", web::post().to(rotate))
        .route("/advertiser/offers/{id}/webhooks/{wid}/delete", web::post().to(delete))
        .route("/advertiser/offers/{id}/webhooks/{wid}/deliveries/{did}/replay", web::post().to(replay));
}

/// How many deliveries the log page shows.
const LOG_ROWS: i64 = 200;

#[derive(Template)]
#[template(path = "advertiser/webhooks.html")]
struct ListPage {
    page: Page,
    offer: Offer,
    hooks: Vec<Webhook>,
    events: [&'static str; 6],
    error: Option<String>,
    form: AddForm,
}

#[derive(Template)]
#[template(path = "advertiser/webhook.html")]
struct LogPage {
    page: Page,
    offer: Offer,
    hook: Webhook,
    mapping: String,
    rows: Vec<Delivery>,
    limit: i64,
    /// A secret just created or rotated: shown this once.
    secret: Option<String>,
}

/// The add form: one checkbox per event; the mapping as JSON.
#[derive(Debug, Default, Clone, Deserialize)]
struct AddForm {
    #[serde(default)]
    url: String,
    ev_accepted: Option<String>,
    ev_approved: Option<String>,
    ev_rejected: Option<String>,
    ev_disputed: Option<String>,
    ev_reversed: Option<String>,
    ev_returned: Option<String>,
    #[serde(default)]
    mapping: String,
    sync: Option<String>,
    #[serde(default)]
    timeout_ms: String,
}

impl AddForm {
    fn checked(&self, event: &str) -> bool {
        match event {
            "accepted" => self.ev_accepted.is_some(),
            "approved" => self.ev_approved.is_some(),
            "rejected" => self.ev_rejected.is_some(),
            "disputed" => self.ev_disputed.is_some(),
            "reversed" => self.ev_reversed.is_some(),
            "returned" => self.ev_returned.is_some(),
            _ => false,
        }
    }

    fn body(&self) -> Result<WebhookBody, String> {
        let mapping: Option<Mapping> = if self.mapping.trim().is_empty() {
            None
        } else {
            Some(serde_json::from_str(&self.mapping).map_err(|e| format!("Field mapping: {e}"))?)
        };
        let timeout_ms = match self.timeout_ms.trim() {
            "" => None,
            t => Some(t.parse::<i32>().map_err(|_| "Timeout: a whole number of milliseconds".to_string())?),
        };
        Ok(WebhookBody {
            url: Some(self.url.clone()),
            events: Some(EVENTS.iter().filter(|e| self.checked(e)).map(|e| e.to_string()).collect()),
            mapping,
            sync: Some(self.sync.is_some()),
            timeout_ms,
            ..Default::default()
        })
    }
}

async fn list_page(a: &AdvertiserCtx, id: i64, form: AddForm, error: Option<String>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let (offer, hooks) = db::run(a.ctx.pool(), move |c| {
        let offer = webhooks::readable_offer(c, &who, id)?;
        Ok((offer, webhooks::list(c, &who, id)?))
    })
    .await?;
    let page =
        ListPage { page: a.ctx.page(format!("Webhooks · {}", offer.name)), offer, hooks, events: EVENTS, error, form };
    if page.error.is_some() {
        render_status(actix_web::http::StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

async fn list(a: AdvertiserCtx, path: web::Path<i64>) -> AppResult<HttpResponse> {
    let form = AddForm { ev_accepted: Some("on".into()), ..Default::default() };
    list_page(&a, path.into_inner(), form, None).await
}

async fn create(a: AdvertiserCtx, path: web::Path<i64>, CsrfForm(form): CsrfForm<AddForm>) -> AppResult<HttpResponse> {
    let id = path.into_inner();
    let body = match form.body() {
        Ok(b) => b,
        Err(message) => return list_page(&a, id, form, Some(message)).await,
    };
    let who = a.ctx.acting(&a.user);
    match db::run(a.ctx.pool(), move |c| c.write_tx(|c| webhooks::create(c, &who, id, body))).await {
        Ok((hook, secret)) => log_page(&a, id, hook.id, Some(secret)).await,
        Err(AppError::BadRequest { message, .. } | AppError::Conflict { message, .. }) => {
            list_page(&a, id, form, Some(message)).await
        }
        Err(AppError::Invalid(fields)) => {
            let message = fields.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join("; ");
            list_page(&a, id, form, Some(message)).await
        }
        Err(e) => Err(e),
    }
}

async fn log_page(a: &AdvertiserCtx, id: i64, wid: i64, secret: Option<String>) -> AppResult<HttpResponse> {
    let who = a.ctx.acting(&a.user);
    let (offer, hook, rows) = db::run(a.ctx.pool(), move |c| {
        let offer = webhooks::readable_offer(c, &who, id)?;
        let (hook, rows) = webhooks::deliveries(c, &who, id, wid, LOG_ROWS)?;
        Ok((offer, hook, rows))
    })
    .await?;
    let mapping = serde_json::to_string(&hook.mapping_value()).unwrap_or_default();
    render(&LogPage {
        page: a.ctx.page(format!("Webhook · {}", offer.name)),
        offer,
        hook,
        mapping,
        rows,
        limit: LOG_ROWS,
        secret,
    })
}

async fn show(a: AdvertiserCtx, path: web::Path<(i64, i64)>) -> AppResult<HttpResponse> {
    let (id, wid) = path.into_inner();
    log_page(&a, id, wid, None).await
}

#[derive(Debug, Deserialize)]
struct ActiveForm {
    active: String,
}

async fn set_active(
    a: AdvertiserCtx,
    path: web::Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> AppResult<HttpResponse> {
    let (id, wid) = path.into_inner();
    let active = form.active == "true";
    let who = a.ctx.acting(&a.user);
    let body = WebhookBody { active: Some(active), ..Default::default() };
    db::run(a.ctx.pool(), move |c| c.write_tx(|c| webhooks::update(c, &who, id, wid, body))).await?;
    a.ctx.flash(
        "success",
        if active { "Webhook on: new events are sent." } else { "Webhook paused: new events are not sent." },
    );
    Ok(redirect(&format!("/advertiser/offers/{id}/webhooks/{wid}")))
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn rotate(
    a: AdvertiserCtx,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, wid) = path.into_inner();
    let who = a.ctx.acting(&a.user);
    let body = WebhookBody { rotate_secret: Some(true), ..Default::default() };
    let (_, secret) = db::run(a.ctx.pool(), move |c| c.write_tx(|c| webhooks::update(c, &who, id, wid, body))).await?;
    log_page(&a, id, wid, secret).await
}

async fn delete(
    a: AdvertiserCtx,
    path: web::Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, wid) = path.into_inner();
    let who = a.ctx.acting(&a.user);
    db::run(a.ctx.pool(), move |c| c.write_tx(|c| webhooks::delete(c, &who, id, wid))).await?;
    a.ctx.flash("success", "Webhook removed, with its delivery log.");
    Ok(redirect(&format!("/advertiser/offers/{id}/webhooks")))
}

async fn replay(
    a: AdvertiserCtx,
    path: web::Path<(i64, i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<HttpResponse> {
    let (id, wid, did) = path.into_inner();
    let who = a.ctx.acting(&a.user);
    let (_, effects) = db::run(a.ctx.pool(), move |c| c.write_tx(|c| webhooks::replay(c, &who, id, wid, did))).await?;
    a.ctx.state.apply(effects);
    a.ctx.flash("success", format!("Delivery #{did} queued again; reload to see the answer."));
    Ok(redirect(&format!("/advertiser/offers/{id}/webhooks/{wid}")))
}
