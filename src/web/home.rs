//! Public pages: the start page and the friendly 404.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::{AppError, AppResult};
use crate::web::context::{Ctx, Page, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index));
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
    fee_pct: String,
}

async fn index(ctx: Ctx) -> AppResult<HttpResponse> {
    let bps = ctx.state.config.platform_fee_bps;
    let fee_pct =
        if bps.is_multiple_of(100) { format!("{}", bps / 100) } else { format!("{}.{:02}", bps / 100, bps % 100) };
    render(&HomePage { page: ctx.page("A CPA network that pays only for qualified leads"), fee_pct })
}

/// Every unknown path gets the friendly "not found" page.
pub async fn not_found() -> AppResult<HttpResponse> {
    Err(AppError::NotFound)
}
