//! The JSON API under `/api/v1`: API-key authentication and JSON errors.

pub mod leads;
pub mod money;
pub mod offers;
pub mod stats;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;

use crate::app::AppState;
use crate::db;
use crate::domain::account::AccountStatus;
use crate::error::{ApiError, ApiResult, AppError};
use crate::store::api_keys;
use crate::store::users::User;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .app_data(web::JsonConfig::default().limit(64 * 1024).error_handler(|err, _| {
                ApiError(AppError::invalid(format!("the JSON body could not be read: {err}"))).into()
            }))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| ApiError(AppError::invalid(format!("bad query parameters: {err}"))).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|err, _| ApiError(AppError::invalid(format!("bad path parameter: {err}"))).into()),
            )
            .route("/me", web::get().to(me))
            .route("/openapi.json", web::get().to(openapi))
            .configure(offers::routes)
            .configure(leads::routes)
            .configure(money::routes)
            .configure(stats::routes)
            .default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError(AppError::NotFound)) })),
    );
}

/// The account behind `Authorization: Bearer <key>`.
pub struct ApiUser {
    pub user: User,
    pub state: web::Data<AppState>,
}

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|k| k.trim().to_string());
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError(AppError::Internal(anyhow::anyhow!("application state missing"))))?;
            let key = key.filter(|k| !k.is_empty() && k.len() <= 200).ok_or(ApiError(AppError::Unauthorized))?;
            let user = db::run(&state.pool, move |c| Ok(api_keys::authenticate(c, &key)?)).await?;
            let user = user.ok_or(ApiError(AppError::Unauthorized))?;
            if user.status() != AccountStatus::Active {
                return Err(ApiError(AppError::Forbidden));
            }
            Ok(ApiUser { user, state })
        })
    }
}

#[derive(Serialize)]
struct Me {
    id: i64,
    email: String,
    role: String,
}

async fn me(api: ApiUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(Me { id: api.user.id, email: api.user.email, role: api.user.role }))
}

/// The OpenAPI document, with the server's own address.
async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    let mut doc: serde_json::Value = serde_json::from_str(include_str!("openapi.json")).unwrap_or_default();
    doc["servers"] = serde_json::json!([{ "url": state.config.url("/api/v1") }]);
    HttpResponse::Ok().json(doc)
}
