//! `/api/v1/offers/{id}/webhooks…`: an advertiser's lead webhooks on its offer, their
//! delivery logs and replays (DESIGN §6a, §11). Another advertiser's offer is not
//! found; publishers are refused; admins may read.

use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::money::{acting, optional_json, page_limit, required_json, to_json};
use crate::api::{ApiUser, resource};
use crate::db;
use crate::error::ApiResult;
use crate::webhooks::{self, WebhookBody};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/offers/{id}/webhooks", [(Method::GET, web::to(list)), (Method::POST, web::to(create))]));
    cfg.service(resource(
        "/offers/{id}/webhooks/{wid}",
        [(Method::PATCH, web::to(update)), (Method::DELETE, web::to(delete))],
    ));
    cfg.service(resource("/offers/{id}/webhooks/{wid}/deliveries", [(Method::GET, web::to(deliveries))]));
    cfg.service(resource("/offers/{id}/webhooks/{wid}/deliveries/{did}/replay", [(Method::POST, web::to(replay))]));
}

fn with_secret(mut hook: Value, secret: Option<String>) -> Value {
    if let (Value::Object(map), Some(s)) = (&mut hook, secret) {
        map.insert("secret".into(), Value::String(s));
    }
    hook
}

/// `GET /offers/{id}/webhooks`
async fn list(api: ApiUser, req: HttpRequest, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let (id, who) = (path.into_inner(), acting(&api, &req));
    let hooks = db::run(&api.state.pool, move |c| webhooks::list(c, &who, id)).await?;
    let rows: Vec<Value> = hooks.iter().map(|h| to_json(&h.to_json())).collect::<ApiResult<_>>()?;
    Ok(HttpResponse::Ok().json(json!({ "webhooks": rows })))
}

/// `POST /offers/{id}/webhooks`: `201` with the endpoint and its secret (shown once).
async fn create(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    let (id, who) = (path.into_inner(), acting(&api, &req));
    let body: WebhookBody = required_json(&body)?;
    let (hook, secret) = db::run(&api.state.pool, move |c| c.write_tx(|c| webhooks::create(c, &who, id, body))).await?;
    Ok(HttpResponse::Created().json(with_secret(to_json(&hook.to_json())?, Some(secret))))
}

/// `PATCH /offers/{id}/webhooks/{wid}`: the fields sent change; `rotate_secret: true`
/// answers with the new secret.
async fn update(api: ApiUser, req: HttpRequest, path: web::Path<(i64, i64)>, body: Bytes) -> ApiResult<HttpResponse> {
    let ((id, wid), who) = (path.into_inner(), acting(&api, &req));
    let body: WebhookBody = optional_json(&body)?;
    let (hook, secret) =
        db::run(&api.state.pool, move |c| c.write_tx(|c| webhooks::update(c, &who, id, wid, body))).await?;
    Ok(HttpResponse::Ok().json(with_secret(to_json(&hook.to_json())?, secret)))
}

/// `DELETE /offers/{id}/webhooks/{wid}`: the endpoint and its log; `204`.
async fn delete(api: ApiUser, req: HttpRequest, path: web::Path<(i64, i64)>) -> ApiResult<HttpResponse> {
    let ((id, wid), who) = (path.into_inner(), acting(&api, &req));
    db::run(&api.state.pool, move |c| c.write_tx(|c| webhooks::delete(c, &who, id, wid))).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LogQuery {
    limit: Option<i64>,
}

/// `GET /offers/{id}/webhooks/{wid}/deliveries?limit=`: newest first.
async fn deliveries(
    api: ApiUser,
    req: HttpRequest,
    path: web::Path<(i64, i64)>,
    q: web::Query<LogQuery>,
) -> ApiResult<HttpResponse> {
    let ((id, wid), who) = (path.into_inner(), acting(&api, &req));
    let limit = page_limit(q.limit, 100)?;
    let (_, rows) = db::run(&api.state.pool, move |c| webhooks::deliveries(c, &who, id, wid, limit)).await?;
    Ok(HttpResponse::Ok().json(json!({ "deliveries": to_json(&rows)? })))
}

/// `POST /offers/{id}/webhooks/{wid}/deliveries/{did}/replay`: `202`, queued again.
async fn replay(api: ApiUser, req: HttpRequest, path: web::Path<(i64, i64, i64)>) -> ApiResult<HttpResponse> {
    let ((id, wid, did), who) = (path.into_inner(), acting(&api, &req));
    let (d, effects) =
        db::run(&api.state.pool, move |c| c.write_tx(|c| webhooks::replay(c, &who, id, wid, did))).await?;
    api.state.apply(effects);
    Ok(HttpResponse::Accepted().json(to_json(&d)?))
}
