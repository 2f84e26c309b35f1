//! Tracking: the links publishers send traffic through and the codes advertisers
//! install. (Click, postback, pixel and lead-intake endpoints live here too.)

pub mod click;
pub mod click_repeats;
pub mod click_writer;
pub mod conversions;
pub mod form;
pub mod group_commit;
pub mod intake;
pub mod lead_webhooks;
pub mod link_cache;
pub mod links;
pub mod publisher_postbacks;
pub mod test_conversions;

/// A request's query parameters, decoded, in order.
pub fn query_pairs(req: &actix_web::HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The value of the first of `names` present in `pairs` (aliases in order), or "".
pub fn param<'a>(pairs: &'a [(String, String)], names: &[&str]) -> &'a str {
    names.iter().find_map(|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str())).unwrap_or("")
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.configure(click::routes)
        .configure(conversions::routes)
        .configure(form::routes)
        .configure(test_conversions::routes);
}
