//! Operations endpoints: `/healthz`, `/metrics`, and the embedded static files.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

use crate::app::AppState;
use crate::db;
use crate::error::AppError;
use crate::store::outbox;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .route("/static/{file}", web::get().to(static_file));
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok = db::run(&state.pool, |c| {
        diesel::sql_query("SELECT 1").execute(c)?;
        Ok(())
    })
    .await;
    match ok {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "error", "database": "unreachable"}))
        }
    }
}

async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
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
