//! The JSON API under `/api/v1`: API-key authentication and JSON errors.

pub mod leads;
pub mod money;
pub mod offers;
pub mod stats;
pub mod webhooks;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, Resource, Route, web};
use futures_util::future::LocalBoxFuture;
use serde::Serialize;

use crate::db;
use crate::domain::account::AccountStatus;
use crate::error::{ApiError, ApiResult, AppError};
use crate::state::AppState;
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
            .service(resource("/me", [(Method::GET, web::to(me))]))
            .service(resource("/openapi.json", [(Method::GET, web::to(openapi))]))
            .configure(offers::routes)
            .configure(leads::routes)
            .configure(money::routes)
            .configure(stats::routes)
            .configure(webhooks::routes)
            .default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError(AppError::NotFound)) })),
    );
}

/// One resource per API path: its `routes`, each for one method, and for any other
/// method `405 method_not_allowed` with an `Allow` header naming the path's methods
/// (DESIGN §11). The answer comes before authentication: it is about the path, not
/// the caller.
pub(crate) fn resource<const N: usize>(path: &str, routes: [(Method, Route); N]) -> Resource {
    let allow = routes.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join(", ");
    let mut resource = web::resource(path);
    for (method, route) in routes {
        resource = resource.route(route.method(method));
    }
    resource.default_service(web::to(move || {
        let allow = allow.clone();
        async move {
            HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow.clone())).json(serde_json::json!({
                "error": "method_not_allowed",
                "message": format!("this path answers {allow} only"),
            }))
        }
    }))
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
