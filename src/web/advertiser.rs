//! The advertiser's pages.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::AppResult;
use crate::store::users::User;
use crate::web::context::{AdvertiserCtx, Page, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/advertiser", web::get().to(home));
}

#[derive(Template)]
#[template(path = "advertiser/home.html")]
struct HomePage {
    page: Page,
    user: User,
}

async fn home(a: AdvertiserCtx) -> AppResult<HttpResponse> {
    render(&HomePage { page: a.ctx.page("Advertiser dashboard"), user: a.user })
}
