//! Operations endpoints: `/healthz`, `/metrics`, and the embedded static files.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::outbox;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .route("/static/{file}", web::get().to(static_file));
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = db::run(&state.pool, |c| Ok(crate::store::ping(c)?)).await;
    match ok {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "error", "database": "unreachable"}))
        }
    }
}

/// Who may read `/metrics`: a correct `Authorization: Bearer <QUALEAD_METRICS_TOKEN>`
/// from anywhere; without a token, a client (after the `X-Forwarded-For` walk) inside
/// `QUALEAD_TRUSTED_PROXIES`. A wrong or unexpected token is `401`, an untrusted
/// client without one `403`. `None` lets the request through.
pub fn metrics_refusal(req: &HttpRequest, config: &crate::config::Config) -> Option<HttpResponse> {
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        let given = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        return match (given, config.metrics_token.as_deref()) {
            (Some(given), Some(token))
                if crate::crypto::constant_time_eq(
                    &crate::crypto::sha256_hex(given),
                    &crate::crypto::sha256_hex(token),
                ) =>
            {
                None
            }
            _ => Some(
                HttpResponse::Unauthorized()
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
                    .content_type("text/plain; charset=utf-8")
                    .body("a wrong metrics token\n"),
            ),
        };
    }
    let client = crate::client_ip::client_ip(req, &config.trusted_proxies);
    if crate::client_ip::is_trusted(client, &config.trusted_proxies) {
        return None;
    }
    Some(
        HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("/metrics answers trusted networks, or Authorization: Bearer <QUALEAD_METRICS_TOKEN>\n"),
    )
}

async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    if let Some(refused) = metrics_refusal(&req, &state.config) {
        return Ok(refused);
    }
    let (queued, failed) = db::run(&state.pool, |c| Ok(outbox::counts(c)?)).await?;
    state.metrics.email_queued.set(queued);
    state.metrics.email_failed.set(failed);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render()))
}

/// The stylesheet and images are compiled into the binary: one file to deploy.
const STATIC_FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../static/app.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../static/favicon.svg")),
];

async fn static_file(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, mime, body) = STATIC_FILES.iter().find(|(n, _, _)| *n == name.as_str()).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*mime)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}
