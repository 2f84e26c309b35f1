//! Test conversions, as Everflow has them (DESIGN "Trust"). The advertiser's offer
//! page gives a test link, `GET /t/{offer_id}/{sig}`: following it records a test
//! click and lands on the offer's own landing page with the click id filled in
//! (and the pixel cookie set). The advertiser's systems then fire the postback or
//! the pixel with that click id, and the offer page shows what arrived: the intake
//! answer and each scrub rule's outcome.
//!
//! A test click's id starts with [`TEST_PREFIX`], which no real click id has (a
//! real one is 26 characters of URL-safe base64, with no `.`): the postback and
//! pixel handlers send such ids here before anything else, so the normal intake
//! path neither slows down nor changes. Test clicks and test conversions live in
//! their own tables: nothing here writes a lead, a ledger line, a cap counter, a
//! rollup, a publisher's log entry or anything the duplicate checks read.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use serde_json::{Value, json};

use crate::client_ip::{client_ip, peer_is_trusted};
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::db::{self, DbConn};
use crate::domain::intake::{Channel, Reason, missing_fields, missing_message};
use crate::domain::offer::{OfferStatus, PayoutModel};
use crate::domain::scrub::{self, Check, Facts};
use crate::domain::tracking::{ClickValues, clean, country_code, fill_landing};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::now;
use crate::store::offers::{self, Offer};
use crate::store::test_conversions::{self as store, NewTestConversion, TestClick};
use crate::tracking::click::{click_cookie_name, paused_page};
use crate::tracking::intake::Conversion;

/// What every test click id starts with.
pub const TEST_PREFIX: &str = "test.";

/// At most this many test clicks, and this many test conversions, per offer and hour.
const MAX_PER_HOUR: i64 = 200;

/// The test conversions an offer page shows.
pub const SHOWN: i64 = 10;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{offer_id}/{sig}", web::get().to(test_click));
}

/// Whether a click id is a test click's (cheap: a prefix no real click id has).
pub fn is_test_click_id(click_id: &str) -> bool {
    click_id.starts_with(TEST_PREFIX)
}

fn new_test_click_id() -> String {
    format!("{TEST_PREFIX}{}", random_token(16))
}

/// The test link's signature: keyed by the offer's postback token, so that a new
/// token retires the old links.
fn signature(offer: &Offer) -> String {
    sha256_hex(&format!("qualead-test-link:{}:{}", offer.id, offer.postback_token))[..32].to_string()
}

/// The advertiser's test link of an offer.
pub fn test_link(base_url: &str, offer: &Offer) -> String {
    format!("{}/t/{}/{}", base_url.trim_end_matches('/'), offer.id, signature(offer))
}

/// `GET /t/{offer_id}/{sig}`: a test click, then the landing page.
async fn test_click(state: web::Data<AppState>, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (id, sig) = path.into_inner();
    let Ok(offer_id) = id.parse::<i64>() else { return paused_page() };
    let ip = client_ip(&req, &state.config.trusted_proxies).to_string();
    let header =
        |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let country = if peer_is_trusted(&req, &state.config.trusted_proxies) {
        req.headers().get("cf-ipcountry").and_then(|v| v.to_str().ok()).and_then(country_code)
    } else {
        None
    };
    let user_agent = clean(&header(header::USER_AGENT), 512);
    let written = db::run(&state.pool, move |c| {
        let Some(offer) = offers::find(c, offer_id)? else { return Ok(None) };
        if !constant_time_eq(&signature(&offer), &sig) || offer.status() == OfferStatus::Archived {
            return Ok(None);
        }
        let at = now();
        if store::clicks_since(c, offer.id, at - Duration::hours(1))? >= MAX_PER_HOUR {
            return Ok(Some(Err(())));
        }
        let click = TestClick {
            click_id: new_test_click_id(),
            offer_id: offer.id,
            advertiser_id: offer.advertiser_id,
            ip,
            user_agent,
            country,
            created_at: at,
        };
        store::insert_click(c, &click)?;
        Ok(Some(Ok((offer, click.click_id))))
    })
    .await;
    let (offer, click_id) = match written {
        Ok(Some(Ok(found))) => found,
        Ok(Some(Err(()))) => {
            return HttpResponse::TooManyRequests()
                .content_type("text/plain; charset=utf-8")
                .body(format!("At most {MAX_PER_HOUR} test clicks an hour per offer; try again later."));
        }
        Ok(None) => return paused_page(),
        Err(e) => {
            tracing::error!(error = %e, "test click not stored");
            return paused_page();
        }
    };
    let values =
        ClickValues { click_id: &click_id, offer_id: offer.id, publisher_id: 0, subs: [""; 5], source: "test" };
    let landing = fill_landing(&offer.landing_url, &values);
    let secure = state.config.secure_cookies();
    let cookie = Cookie::build(click_cookie_name(offer.id), click_id)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(if secure { SameSite::None } else { SameSite::Lax })
        .max_age(CookieDuration::days(1))
        .finish();
    HttpResponse::Found()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::LOCATION, landing))
        .cookie(cookie)
        .finish()
}

/// What a test conversion was answered.
#[derive(Debug, Clone)]
pub struct TestAnswer {
    /// `None`: accepted as a test.
    pub reason: Option<Reason>,
    pub detail: String,
    pub missing: Vec<String>,
    pub checks: Vec<Check>,
    /// The stored test conversion (none when its test click is unknown or the
    /// offer's hourly limit was reached).
    pub id: Option<i64>,
}

impl TestAnswer {
    fn refused(reason: Reason, detail: impl Into<String>) -> TestAnswer {
        TestAnswer { reason: Some(reason), detail: detail.into(), missing: vec![], checks: vec![], id: None }
    }

    /// The JSON answer of a postback, as intake's but with `"test": true`.
    pub fn response(&self) -> HttpResponse {
        match self.reason {
            None => HttpResponse::Ok().json(json!({
                "status": "accepted",
                "test": true,
                "test_conversion_id": self.id,
                "message": self.detail,
                "checks": self.checks,
            })),
            Some(Reason::MissingField) => {
                crate::tracking::conversions::missing_response(&self.missing, Some(&json!(self.checks)))
            }
            Some(reason) => HttpResponse::build(
                StatusCode::from_u16(reason.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            )
            .json(json!({
                "status": "rejected",
                "reason": reason.code(),
                "error": reason.code(),
                "message": self.detail,
                "test": true,
            })),
        }
    }

    /// The pixel's `X-Qualead-Status`: `test:accepted` or `rejected:<code>`.
    pub fn pixel_status(&self) -> String {
        match self.reason {
            None => "test:accepted".into(),
            Some(reason) => format!("rejected:{}", reason.code()),
        }
    }
}

/// Decide and keep a test conversion (its click id is a test click's): the same
/// token, sender IP, window, event, amount and field checks as intake, then every
/// scrub rule in memory. The offer's status, caps and budget are not applied.
pub async fn intake(state: &AppState, conv: Conversion) -> TestAnswer {
    let pool = state.pool.clone();
    match db::run(&pool, move |c| decide(c, &conv)).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::error!(error = %e, "test conversion not stored");
            TestAnswer::refused(Reason::InvalidRequest, "the test conversion could not be stored; send it again")
        }
    }
}

fn decide(c: &mut DbConn, conv: &Conversion) -> Result<TestAnswer, AppError> {
    let p = &conv.params;
    let click_id = p.click_id.clone().unwrap_or_default();
    let Some(click) = store::find_click(c, &click_id)? else {
        return Ok(TestAnswer::refused(Reason::UnknownClick, "no test click has this click id"));
    };
    let Some(offer) = offers::find(c, click.offer_id)? else {
        return Ok(TestAnswer::refused(Reason::UnknownClick, "no test click has this click id"));
    };
    let at = now();
    if store::conversions_since(c, offer.id, at - Duration::hours(1))? >= MAX_PER_HOUR {
        let detail = format!("at most {MAX_PER_HOUR} test conversions an hour per offer");
        return Ok(TestAnswer::refused(Reason::CapReached, detail));
    }
    let terms = offer.terms();
    let events = offer.events();
    let event = p.event.clone().unwrap_or_else(|| events.first().cloned().unwrap_or_else(|| "lead".into()));
    let refusal: Option<(Reason, String)> = (|| {
        match conv.channel {
            Channel::Postback => {
                if !p.token.as_deref().is_some_and(|t| constant_time_eq(&offer.postback_token, t)) {
                    return Some((Reason::BadToken, Reason::BadToken.explain().to_string()));
                }
                if let Some(nets) = offer.postback_nets()
                    && !conv.ip.parse::<std::net::IpAddr>().is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip)))
                {
                    return Some((Reason::IpNotAllowed, Reason::IpNotAllowed.explain().to_string()));
                }
            }
            _ => {
                if conv.offer_id != Some(offer.id) {
                    return Some((Reason::ClickOfferMismatch, Reason::ClickOfferMismatch.explain().to_string()));
                }
            }
        }
        let window = i64::from(terms.conversion_window_days.max(1));
        if click.created_at + Duration::days(window) < at {
            return Some((Reason::ClickExpired, Reason::ClickExpired.explain().to_string()));
        }
        if !events.is_empty() && !events.contains(&event) {
            return Some((
                Reason::InvalidRequest,
                format!("the offer has no event {event:?} (it has {})", events.join(", ")),
            ));
        }
        if offer.model() == PayoutModel::Cps && p.amount_minor.is_none_or(|a| a <= 0) {
            return Some((Reason::InvalidRequest, "a CPS conversion needs the sale amount above zero".into()));
        }
        None
    })();
    let missing = if refusal.is_none() { missing_fields(&terms.required_fields, &p.fields) } else { vec![] };
    let (reason, detail) = match (refusal, missing.is_empty()) {
        (Some((reason, detail)), _) => (Some(reason), detail),
        (None, false) => (Some(Reason::MissingField), missing_message(&missing)),
        (None, true) => (None, "test conversion received: it is not a lead, and nothing is counted or paid".into()),
    };

    // Every scrub rule, in memory, as settlement would run them on this lead. A test
    // is never compared with other leads (duplicates, leads per IP) or clicks
    // (repeated clicks).
    let map: serde_json::Map<String, Value> =
        p.fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let country = click.country.clone().or_else(|| p.fields.get("country").cloned());
    let fallback = country.as_deref().or(terms.allowed_countries.first().map(String::as_str));
    let contact = scrub::contact(&map, fallback);
    let phone_country = scrub::phone_country(&map, fallback);
    let facts = Facts {
        fields: &map,
        contact: &contact,
        country: country.as_deref(),
        phone_country: phone_country.as_deref(),
        user_agent: Some(&click.user_agent),
        seconds_from_click: Some((at - click.created_at).num_seconds()),
        // A test click is never counted with other clicks.
        repeat_clicks: Some(0),
        leads_from_ip_24h: 0,
        duplicate_of: None,
        network: click.ip.parse().ok().map(|ip| crate::settlement::run::nets(c).map(|n| n.classify(ip))).transpose()?,
    };
    let domains = crate::settlement::run::domains(c)?;
    let mut checks = scrub::evaluate(&terms, &facts, &domains).checks;
    for check in checks.iter_mut().filter(|ch| ch.code == scrub::DUPLICATE_CONTACT || ch.code == scrub::IP_VELOCITY) {
        check.detail = "not checked on a test (it is never compared with other leads)".into();
    }
    for check in checks.iter_mut().filter(|ch| ch.code == scrub::DUPLICATE_CLICK) {
        check.detail = "not checked on a test (it is never compared with other clicks)".into();
    }

    let row = NewTestConversion {
        offer_id: offer.id,
        click_id,
        channel: conv.channel.as_str().into(),
        event,
        txid: p.txid.clone(),
        fields: serde_json::to_string(&p.fields).unwrap_or_else(|_| "{}".into()),
        amount_minor: p.amount_minor,
        status: if reason.is_none() { "accepted".into() } else { "rejected".into() },
        reason: reason.map(|r| r.code().to_string()),
        detail: detail.clone(),
        missing: serde_json::to_string(&missing).unwrap_or_else(|_| "[]".into()),
        checks: serde_json::to_string(&checks).unwrap_or_else(|_| "[]".into()),
        created_at: at,
    };
    let id = store::insert(c, &row)?;
    Ok(TestAnswer { reason, detail, missing, checks, id: Some(id) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_click_ids_are_told_apart_by_their_prefix_alone() {
        for _ in 0..1000 {
            let real = crate::domain::tracking::new_click_id();
            assert!(!is_test_click_id(&real) && !real.contains('.'), "{real}");
        }
        let test = new_test_click_id();
        assert!(is_test_click_id(&test) && test.len() <= 128, "{test}");
        assert_ne!(test, new_test_click_id());
    }
}
