//! `GET /c/{token}` and the HasOffers-style `GET /aff_c`: record the click (group
//! commit), set the pixel cookie, and redirect. A shopper never sees an error page:
//! paused, unapproved or unknown links go to the offer's fallback URL or a friendly
//! "paused" page, and the reason is recorded with the click.

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::client_ip::{client_ip, peer_is_trusted};
use crate::db;
use crate::domain::device::{Device, device_of_remembered};
use crate::domain::geo::CountrySource;
use crate::domain::offer::OfferStatus;
use crate::domain::source_block;
use crate::domain::targeting::{self, Targeting};
use crate::domain::tracking::{ClickValues, clean, country_code, fill_landing, new_click_id};
use crate::state::AppState;
use crate::store::clicks::NewClick;
use crate::store::offers;
use crate::store::{caps, now, source_blocks, users};
use crate::tracking::link_cache::{Link, LinkInfo, LinkKey};
use crate::tracking::{param, query_pairs};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/c/{token}` is the hottest path there is: a scope with a static prefix (a
    // string comparison) whose handler reads the token from the rest of the path,
    // rather than a pattern matched by a regular expression on every click.
    cfg.service(web::scope("/c").default_service(web::to(by_token))).route("/aff_c", web::get().to(hasoffers));
}

/// The name of the cookie that carries an offer's click id to its pixel.
pub fn click_cookie_name(offer_id: i64) -> String {
    format!("ql_c{offer_id}")
}

async fn by_token(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    // Only a GET is a click: a HEAD (link checkers, chat previews) would otherwise be
    // counted and cookied like a visitor.
    if req.method() != Method::GET {
        return HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, "GET")).finish();
    }
    // What follows `/c/`: a token is URL-safe base64, anything else is no link.
    let rest = req.match_info().unprocessed();
    let token = rest.strip_prefix('/').unwrap_or(rest);
    let well_formed =
        (1..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let found = if well_formed { lookup(&state, LinkKey::Token(token.to_string())).await } else { Ok(None) };
    let pairs = query_pairs(&req);
    let subs = [
        param(&pairs, &["sub1"]),
        param(&pairs, &["sub2"]),
        param(&pairs, &["sub3"]),
        param(&pairs, &["sub4"]),
        param(&pairs, &["sub5"]),
    ];
    track(&state, &req, found, subs, param(&pairs, &["source"])).await
}

async fn hasoffers(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let pairs = query_pairs(&req);
    let offer_id = param(&pairs, &["offer_id"]).parse::<i64>().ok();
    let publisher_id = param(&pairs, &["aff_id"]).parse::<i64>().ok();
    let found = match (offer_id, publisher_id) {
        (Some(offer_id), Some(publisher_id)) => lookup(&state, LinkKey::Pair { offer_id, publisher_id }).await,
        _ => Ok(None),
    };
    let subs = [
        param(&pairs, &["aff_sub", "sub1"]),
        param(&pairs, &["aff_sub2", "sub2"]),
        param(&pairs, &["aff_sub3", "sub3"]),
        param(&pairs, &["aff_sub4", "sub4"]),
        param(&pairs, &["aff_sub5", "sub5"]),
    ];
    track(&state, &req, found, subs, param(&pairs, &["source"])).await
}

/// The link behind a key, from the cache or the database.
pub async fn lookup(state: &AppState, key: LinkKey) -> Result<Option<Link>, crate::error::AppError> {
    if let Some(hit) = state.links.get(&key) {
        return Ok(hit);
    }
    let k = key.clone();
    let secure = state.config.secure_cookies();
    let read_at = state.links.generation();
    let found = db::run(&state.pool, move |c| {
        let m = match &k {
            LinkKey::Token(t) => offers::membership_by_token(c, t)?,
            LinkKey::Pair { offer_id, publisher_id } => offers::membership(c, *offer_id, *publisher_id)?,
        };
        let Some(membership) = m else { return Ok(None) };
        let Some(offer) = offers::find(c, membership.offer_id)? else { return Ok(None) };
        let capped = caps::full(c, &offer, membership.publisher_id, now())?;
        let inactive = users::inactive_among(c, &[membership.publisher_id, offer.advertiser_id])?;
        let account_reason = if inactive.contains(&membership.publisher_id) {
            Some("publisher_suspended")
        } else if inactive.contains(&offer.advertiser_id) {
            Some("advertiser_suspended")
        } else {
            None
        };
        let terms = offer.terms();
        let cookie_days = i64::from(terms.conversion_window_days.max(1));
        let cookie_name = click_cookie_name(offer.id);
        let cookie_attributes = cookie_attributes(secure, cookie_days);
        let targeting = Targeting::of(&terms);
        let blocks = source_blocks::for_link(c, offer.id, membership.publisher_id)?;
        let repeat_window_minutes = terms.scrub.repeat_window_minutes();
        Ok(Some(Arc::new(LinkInfo {
            membership,
            offer,
            capped,
            account_reason,
            cookie_name,
            cookie_attributes,
            targeting,
            blocks,
            repeat_window_minutes,
        })))
    })
    .await?;
    state.links.put(read_at, key, found.clone());
    Ok(found)
}

/// Every reason a click goes to the fallback page, as stored in
/// `clicks.redirect_reason`: [`redirect_reason`]'s, the targeting's and a source
/// block's.
pub const REDIRECT_REASONS: [&str; 8] = [
    "link_not_approved",
    "publisher_suspended",
    "advertiser_suspended",
    "cap_reached",
    "offer_paused",
    "offer_inactive",
    crate::domain::targeting::REASON,
    crate::domain::source_block::REASON,
];

/// Why a click does not go to the landing page, if it does not.
pub fn redirect_reason(link: &LinkInfo) -> Option<&'static str> {
    if !link.membership.is_approved() {
        return Some("link_not_approved");
    }
    if link.account_reason.is_some() {
        return link.account_reason;
    }
    match link.offer.status() {
        OfferStatus::Active if link.capped => Some("cap_reached"),
        OfferStatus::Active => None,
        OfferStatus::Paused => Some("offer_paused"),
        _ => Some("offer_inactive"),
    }
}

async fn track(
    state: &AppState,
    req: &HttpRequest,
    found: Result<Option<Link>, crate::error::AppError>,
    subs: [&str; 5],
    source: &str,
) -> HttpResponse {
    let link = match found {
        Ok(Some(link)) => link,
        Ok(None) => {
            state.metrics.clicks.with_label_values(&["unknown_link"]).inc();
            return paused_page();
        }
        Err(e) => {
            tracing::error!(error = %e, "click lookup failed");
            state.metrics.clicks.with_label_values(&["error"]).inc();
            return paused_page();
        }
    };
    let (membership, offer) = (&link.membership, &link.offer);
    let (mut click, mut reason) = new_click(state, req, &link, subs, source);
    // The landing URL and the cookie are made from the click before it goes to the
    // writer (no copies of its values kept for after).
    let landing = reason.is_none().then(|| {
        let values = ClickValues {
            click_id: &click.click_id,
            offer_id: offer.id,
            publisher_id: membership.publisher_id,
            subs: [&click.sub1, &click.sub2, &click.sub3, &click.sub4, &click.sub5],
            source: &click.source,
        };
        let url = fill_landing(&offer.landing_url, &values);
        let mut cookie =
            String::with_capacity(link.cookie_name.len() + 1 + click.click_id.len() + link.cookie_attributes.len());
        cookie.push_str(&link.cookie_name);
        cookie.push('=');
        cookie.push_str(&click.click_id);
        cookie.push_str(&link.cookie_attributes);
        (url, cookie)
    });
    // A landing URL that cannot be a header (a control character stored before
    // validation refused them) sends the click on as if the offer were paused.
    // Letters beyond ASCII are percent-encoded as a browser would.
    let landing = match landing {
        Some((url, cookie)) => match location(url) {
            Some(url) => Some((url, cookie)),
            None => {
                tracing::warn!(offer_id = offer.id, "the landing URL cannot be sent as a redirect");
                reason = Some("bad_landing_url");
                click.redirect_reason = reason.map(str::to_string);
                None
            }
        },
        None => None,
    };
    // Wait for the batch to commit: the redirect is the receipt. A click that could
    // not be stored does not go to the landing page (it could never convert).
    if !state.clicks.write(click).await {
        reason = Some("not_stored");
    }
    state.metrics.clicks.with_label_values(&[reason.unwrap_or("landing")]).inc();

    let mut response = HttpResponse::Found();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    match (reason, landing) {
        (None, Some((url, cookie))) => {
            response.insert_header((header::LOCATION, url)).insert_header((header::SET_COOKIE, cookie)).finish()
        }
        // A fallback click must not overwrite the cookie of a click that counts.
        _ => match offer.fallback_url.as_deref().and_then(|f| location(f.to_string())) {
            Some(fallback) => response.insert_header((header::LOCATION, fallback)).finish(),
            None => paused_page(),
        },
    }
}

/// `url` as a `Location` header: as it is, or percent-encoded when it holds letters
/// beyond ASCII; `None` when it holds a control character or is no URL at all.
fn location(url: String) -> Option<header::HeaderValue> {
    if url.chars().any(char::is_control) {
        return None;
    }
    if url.is_ascii() {
        return header::HeaderValue::try_from(url).ok();
    }
    let encoded = url::Url::parse(&url).ok()?.to_string();
    header::HeaderValue::try_from(encoded).ok()
}

/// The attributes of the pixel cookie as the `Set-Cookie` header writes them after
/// `name=value` (`; HttpOnly; SameSite=Lax; Path=/; Max-Age=…`), formatted by the
/// cookie library itself: third-party (`SameSite=None; Secure`) when the site is
/// served over HTTPS, so that the advertiser's pixel can read it.
fn cookie_attributes(secure: bool, days: i64) -> String {
    let cookie = Cookie::build("n", "v")
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(if secure { SameSite::None } else { SameSite::Lax })
        .max_age(Duration::days(days))
        .finish()
        .to_string();
    cookie.strip_prefix("n=v").unwrap_or(&cookie).to_string()
}

/// The value of the request's cookie named `name`, read straight off the `Cookie`
/// headers: parsing them all into the request's extensions, as
/// `HttpRequest::cookie` does, costs an allocation per click.
pub fn cookie_value<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    // UTF-8, not `to_str` (visible ASCII only), as the cookie library reads them: a
    // non-ASCII value in another cookie must not hide this one.
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim_start().strip_prefix(name)?.trim_start().strip_prefix('=').map(str::trim))
}

/// Who sent a request, as a click records it.
struct Visitor {
    /// The client behind trusted proxies.
    ip: std::net::IpAddr,
    country: Option<String>,
    country_source: CountrySource,
    /// Cleaned, at most 512 bytes.
    user_agent: String,
    device: Device,
}

/// Locate a request: the client IP behind trusted proxies; its country from a
/// trusted proxy's header, else from the geolocation database; its device and OS
/// from the user agent.
fn locate(state: &AppState, req: &HttpRequest) -> Visitor {
    let trusted = &state.config.trusted_proxies;
    let ip = client_ip(req, trusted);
    let from_header = if peer_is_trusted(req, trusted) {
        req.headers().get("cf-ipcountry").and_then(|v| v.to_str().ok()).and_then(country_code)
    } else {
        None
    };
    let (country, country_source) = match from_header {
        Some(c) => (Some(c), CountrySource::Header),
        None => match state.geo.lookup(ip) {
            Some(c) => (Some(c.as_str().to_string()), CountrySource::Database),
            None => (None, CountrySource::Unknown),
        },
    };
    let agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let user_agent = clean(agent, 512);
    let device = device_of_remembered(&user_agent);
    Visitor { ip, country, country_source, user_agent, device }
}

/// A click on a publisher's link, built from the request (client IP behind trusted
/// proxies; country from a trusted proxy's header, else from the geolocation
/// database; device and OS from the user agent; cleaned sub-ids and headers; how
/// many times its visitor clicked the link shortly before), and why it does not go
/// to the landing page, if it does not (the traffic-source blocks, the offer's
/// targeting, then [`redirect_reason`]).
pub fn new_click(
    state: &AppState,
    req: &HttpRequest,
    link: &LinkInfo,
    subs: [&str; 5],
    source: &str,
) -> (NewClick, Option<&'static str>) {
    let (membership, offer) = (&link.membership, &link.offer);
    let header =
        |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let Visitor { ip, country, country_source, user_agent, device } = locate(state, req);
    let [sub1, sub2, sub3, sub4, sub5] = subs.map(|s| clean(s, 255));
    let source = clean(source, 255);
    // The reasons that refuse a conversion come first: a blocked or off-target click
    // on a capped or paused link must not convert once the link takes traffic again.
    let reason = link
        .blocks
        .blocks([&sub1, &sub2, &sub3, &sub4, &sub5, &source])
        .then_some(source_block::REASON)
        .or_else(|| {
            link.targeting.miss(country.as_deref(), country_source, device.kind, device.os).map(|_| targeting::REASON)
        })
        .or_else(|| redirect_reason(link));
    let created_at = now();
    let ip = ip.to_string();
    // Every click counts, wherever it goes: click spamming is clicks, landed or not.
    let repeat_clicks = state.repeats.record(
        offer.id,
        membership.publisher_id,
        &ip,
        &user_agent,
        created_at,
        link.repeat_window_minutes,
    );
    // A browser that already carries a click of this offer, or whose address and
    // user agent clicked the link within the window, is not a new visitor.
    let is_unique = cookie_value(req, &link.cookie_name).is_none() && repeat_clicks == 0;
    let click = NewClick {
        click_id: new_click_id(),
        offer_id: offer.id,
        publisher_id: membership.publisher_id,
        sub1,
        sub2,
        sub3,
        sub4,
        sub5,
        source,
        ip,
        user_agent,
        referrer: clean(&header(header::REFERER), 1024),
        country,
        redirect_reason: reason.map(str::to_string),
        created_at,
        is_unique,
        country_source: country_source.as_str().to_string(),
        device: device.kind.as_str().to_string(),
        os: device.os.to_string(),
        repeat_clicks,
    };
    (click, reason)
}

/// Shown instead of an error when a link leads nowhere right now.
pub fn paused_page() -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).content_type("text/html; charset=utf-8").body(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Offer paused</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"wrap narrow\">\
         <section class=\"card\"><h1>This offer is paused</h1><p>The page you were looking for is not available right now. Please try again later.</p></section>\
         </main></body></html>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_cookie_is_set_as_the_cookie_library_writes_it() {
        let lax = cookie_attributes(false, 30);
        assert_eq!(lax, "; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000");
        let parsed = Cookie::parse(format!("ql_c7=abc{lax}")).expect("a valid Set-Cookie value");
        assert_eq!((parsed.name(), parsed.value(), parsed.path()), ("ql_c7", "abc", Some("/")));
        assert_eq!(parsed.max_age(), Some(Duration::days(30)));
        let third_party = cookie_attributes(true, 1);
        assert!(third_party.contains("; SameSite=None") && third_party.contains("; Secure"), "{third_party}");
    }

    #[test]
    fn a_returning_visitor_is_known_by_the_offer_cookie_alone() {
        let with = |cookies: &[&str]| {
            let mut req = actix_web::test::TestRequest::get();
            for c in cookies {
                req = req.insert_header((header::COOKIE, *c));
            }
            cookie_value(&req.to_http_request(), "ql_c1").is_some()
        };
        assert!(!with(&[]));
        assert!(with(&["ql_c1=abc"]));
        assert!(with(&["a=1; ql_c1=abc; b=2"]));
        assert!(with(&["a=1", "ql_c1 = abc"]), "a second Cookie header, spaces around the name");
        assert!(with(&["ql_c1="]), "an empty value is still the cookie");
        assert!(!with(&["ql_c10=abc; xql_c1=abc"]), "another offer's cookie, a longer name");
        assert!(!with(&["a=ql_c1=abc"]), "a value that contains the name");
        let utf8 = actix_web::http::header::HeaderValue::from_bytes("name=Zoë; ql_c1=abc".as_bytes()).expect("bytes");
        let req = actix_web::test::TestRequest::get().insert_header((header::COOKIE, utf8)).to_http_request();
        assert_eq!(cookie_value(&req, "ql_c1"), Some("abc"), "a UTF-8 value in another cookie");
        let req =
            actix_web::test::TestRequest::get().insert_header((header::COOKIE, "ql_c1 = abc ; b=2")).to_http_request();
        assert_eq!(cookie_value(&req, "ql_c1"), Some("abc"), "the value without the spaces around it");
    }
}
