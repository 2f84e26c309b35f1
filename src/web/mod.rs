//! Server-rendered pages per role, authentication and CSRF.

pub mod account;
pub mod admin;
pub mod admin_offers;
pub mod advertiser;
pub mod auth;
pub mod context;
pub mod csrf;
pub mod error_page;
pub mod home;
pub mod leads;
pub mod money;
pub mod normalize;
pub mod offer_form;
pub mod ops;
pub mod publisher;
pub mod ratelimit;
pub mod reconciliations;
pub mod reports;
pub mod revisions;
pub mod session_store;
pub mod slow_body;
pub mod source_blocks;
pub mod verdict_stats;
pub mod verdicts;
pub mod webhooks;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(ops::routes)
        .configure(home::routes)
        .configure(auth::routes)
        .configure(account::routes)
        .configure(advertiser::routes)
        .configure(publisher::routes)
        .configure(admin::routes)
        .configure(admin_offers::routes)
        .configure(leads::routes)
        .configure(verdicts::routes)
        .configure(money::routes)
        .configure(reconciliations::routes)
        .configure(reports::routes)
        .configure(webhooks::routes)
        .configure(source_blocks::routes);
}
