//! The publisher's pages.

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::AppResult;
use crate::store::users::User;
use crate::web::context::{Page, PublisherCtx, render};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/publisher", web::get().to(home));
}

#[derive(Template)]
#[template(path = "publisher/home.html")]
struct HomePage {
    page: Page,
    user: User,
}

async fn home(p: PublisherCtx) -> AppResult<HttpResponse> {
    render(&HomePage { page: p.ctx.page("Publisher dashboard"), user: p.user })
}
