//! Path normalisation for every request: repeated slashes become one and a trailing
//! slash is dropped (`/offers//7/` is `/offers/7`), as actix's `NormalizePath` with
//! `TrailingSlash::Trim` does, but without running a regular expression over every
//! path: almost every path (and every tracking link) is already normal.

use actix_web::dev::ServiceRequest;
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;

/// The normal form of `path`, or `None` when it already is normal.
pub fn normal_path(path: &str) -> Option<String> {
    if path.is_empty() || (!path.contains("//") && (path.len() == 1 || !path.ends_with('/'))) {
        return None;
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    while out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    if out.is_empty() {
        out.push('/');
    }
    (out != path).then_some(out)
}

/// Rewrite the request's path to its normal form before routing.
pub fn trim_path(req: &mut ServiceRequest) {
    let Some(path) = normal_path(req.path()) else { return };
    let mut parts = req.uri().clone().into_parts();
    let path_and_query = match parts.path_and_query.as_ref().and_then(|pq| pq.query()) {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let Ok(pq) = PathAndQuery::try_from(path_and_query) else { return };
    parts.path_and_query = Some(pq);
    let Ok(uri) = Uri::from_parts(parts) else { return };
    req.match_info_mut().get_mut().update(&uri);
    req.head_mut().uri = uri;
}

#[cfg(test)]
mod tests {
    use super::normal_path;

    #[test]
    fn merges_slashes_and_trims_the_end() {
        assert_eq!(normal_path("/"), None);
        assert_eq!(normal_path("/c/abc"), None);
        assert_eq!(normal_path("/c/abc/"), Some("/c/abc".into()));
        assert_eq!(normal_path("/offers//7///"), Some("/offers/7".into()));
        assert_eq!(normal_path("//"), Some("/".into()));
        assert_eq!(normal_path("///a"), Some("/a".into()));
        assert_eq!(normal_path(""), None);
    }
}
