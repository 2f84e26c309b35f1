//! Tracking: the links publishers send traffic through and the codes advertisers
//! install. (Click, postback, pixel and lead-intake endpoints live here too.)

pub mod click;
pub mod click_writer;
pub mod conversions;
pub mod form;
pub mod group_commit;
pub mod intake;
pub mod link_cache;
pub mod links;
pub mod publisher_postbacks;

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(click::routes).configure(conversions::routes).configure(form::routes);
}
