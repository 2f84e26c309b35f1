//! `GET|POST /postback` (advertiser's server) and `GET /px/{offer_id}.gif|.html|.js`
//! (advertiser's thank-you page). Both turn their parameters into a
//! [`Conversion`](super::intake::Conversion) and wait for the intake writer.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::client_ip::client_ip;
use crate::domain::intake::{Channel, Params, Reason};
use crate::settlement::verdicts::Refusal;
use crate::state::AppState;
use crate::tracking::click::{click_cookie_name, cookie_value};
use crate::tracking::intake::{Conversion, Outcome};
use crate::tracking::{query_pairs, test_conversions};

/// Largest postback body read (a form or JSON object of a few fields).
const MAX_BODY: usize = 16 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/postback", web::get().to(postback_get))
        .route("/postback", web::post().to(postback_post))
        .route("/px/{file}", web::get().to(pixel));
}

/// The JSON answer of an intake outcome, with an honest status.
pub fn outcome_response(outcome: Option<&Outcome>, accepted: StatusCode) -> HttpResponse {
    match outcome {
        Some(Outcome::Accepted { lead_id }) => {
            HttpResponse::build(accepted).json(json!({"status": "accepted", "lead_id": lead_id}))
        }
        Some(Outcome::Duplicate { lead_id }) => HttpResponse::Ok().json(json!({"status": "duplicate", "lead_id": lead_id})),
        Some(Outcome::Rejected { reason, detail }) => {
            HttpResponse::build(StatusCode::from_u16(reason.http_status()).unwrap_or(StatusCode::BAD_REQUEST))
                .json(json!({"status": "rejected", "reason": reason.code(), "error": reason.code(), "message": detail}))
        }
        Some(Outcome::MissingFields { fields }) => missing_response(fields, None),
        None => HttpResponse::ServiceUnavailable()
            .insert_header((header::RETRY_AFTER, "1"))
            .json(json!({"status": "error", "reason": "unavailable", "message": "the conversion could not be stored; send it again"})),
    }
}

/// The 422 answer of a conversion that lacks required fields (DESIGN §5): the
/// `fields` it lacks; `test: true` for a test conversion.
pub fn missing_response(fields: &[String], test: Option<&serde_json::Value>) -> HttpResponse {
    let reason = Reason::MissingField;
    let mut body = json!({
        "status": "rejected",
        "reason": reason.code(),
        "error": reason.code(),
        "fields": fields,
        "message": crate::domain::intake::missing_message(fields),
    });
    if let Some(test) = test {
        body["test"] = json!(true);
        body["checks"] = test.clone();
    }
    HttpResponse::build(StatusCode::UNPROCESSABLE_ENTITY).json(body)
}

/// Run a conversion through intake and count the answer.
pub async fn submit(state: &AppState, conv: Conversion) -> Option<Outcome> {
    // The intake writer wakes the publisher postback worker when a batch queued any.
    let outcome = state.intake.submit(conv).await;
    crate::tracking::intake::count(&state.metrics, outcome.as_ref());
    outcome
}

async fn postback_get(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    postback(&state, &req, query_pairs(&req)).await
}

/// A POST carries its parameters in a form or JSON body (and may add query ones).
async fn postback_post(state: web::Data<AppState>, req: HttpRequest, body: web::Payload) -> HttpResponse {
    let body = match body.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return invalid("the body could not be read"),
        Err(_) => {
            return HttpResponse::PayloadTooLarge().json(json!({"status": "rejected", "reason": Reason::InvalidRequest.code(), "message": format!("the body is larger than {MAX_BODY} bytes")}));
        }
    };
    let mut pairs = query_pairs(&req);
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
            Ok(map) => {
                for (k, v) in map {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Number(n) => n.to_string(),
                        serde_json::Value::Null => continue,
                        _ => return invalid(&format!("{k} must be a string or a number")),
                    };
                    pairs.push((k, v));
                }
            }
            Err(_) => return invalid("the body is not a JSON object"),
        }
    } else {
        if std::str::from_utf8(&body).is_err() {
            return invalid("the body is not UTF-8 text");
        }
        pairs.extend(url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    }
    postback(&state, &req, pairs).await
}

fn invalid(message: &str) -> HttpResponse {
    outcome_response(
        Some(&Outcome::Rejected { reason: Reason::InvalidRequest, detail: message.to_string() }),
        StatusCode::OK,
    )
}

async fn postback(state: &AppState, req: &HttpRequest, pairs: Vec<(String, String)>) -> HttpResponse {
    // A `status` is the advertiser's verdict on a lead it has, not a conversion.
    if !crate::tracking::param(&pairs, VERDICT_STATUS).trim().is_empty() {
        return verdict_postback(state, req, &pairs).await;
    }
    let params = match Params::from_pairs(&pairs) {
        Ok(p) => p,
        Err(message) => return invalid(&message),
    };
    let conv = Conversion {
        channel: Channel::Postback,
        params,
        offer_id: None,
        publisher_id: None,
        consent: None,
        ip: client_ip(req, &state.config.trusted_proxies).to_string(),
    };
    if conv.params.click_id.as_deref().is_some_and(test_conversions::is_test_click_id) {
        return test_conversions::intake(state, conv).await.response();
    }
    outcome_response(submit(state, conv).await.as_ref(), StatusCode::OK)
}

/// The verdict's parameter and its HasOffers-style alias.
const VERDICT_STATUS: &[&str] = &["status", "conversion_status"];

fn verdict_refused(r: &Refusal) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(r.http).unwrap_or(StatusCode::BAD_REQUEST))
        .json(json!({"status": "rejected", "reason": r.code, "error": r.code, "message": r.message}))
}

/// `GET|POST /postback?txid=…&token=…&status=approved|rejected|returned&reason=…`
/// (or `click_id` and `event` instead of `txid`): the advertiser's verdict on a
/// lead of the offer whose postback token it sends (DESIGN §6). `200` with
/// `applied` or `duplicate` (the lead carries this verdict already: nothing moves),
/// else the refusal's status and reason code.
async fn verdict_postback(state: &AppState, req: &HttpRequest, pairs: &[(String, String)]) -> HttpResponse {
    use crate::settlement::verdicts::{self, Channel as VerdictChannel, Item, LeadRef, Verdict};
    let params = match Params::from_pairs(pairs) {
        Ok(p) => p,
        Err(message) => return verdict_refused(&Refusal::new(400, Reason::InvalidRequest.code(), message)),
    };
    let status = crate::tracking::param(pairs, VERDICT_STATUS);
    let Some(verdict) = Verdict::parse(status) else {
        return verdict_refused(&Refusal::new(400, "invalid_status", "status must be approved, rejected or returned"));
    };
    let reason = crate::tracking::param(pairs, &["reason", "reject_reason"]).to_string();
    let comment = crate::tracking::param(pairs, &["comment", "note"]).to_string();
    let Some(token) = params.token.clone() else {
        return verdict_refused(&Refusal::new(403, Reason::BadToken.code(), "the offer's postback token is missing"));
    };
    let ip = client_ip(req, &state.config.trusted_proxies);
    let config = state.config.clone();
    let answer = crate::db::run(&state.pool, move |c| {
        let Some(offer) = crate::store::offers::by_postback_token(c, &token)? else {
            return Ok(Err(Refusal::new(403, Reason::BadToken.code(), "the postback token is not an offer's")));
        };
        if let Some(nets) = offer.postback_nets()
            && !nets.iter().any(|n| n.contains(&ip))
        {
            return Ok(Err(Refusal::new(403, Reason::IpNotAllowed.code(), "this address may not send postbacks")));
        }
        let lead = match (params.txid.clone(), params.click_id.clone()) {
            (Some(txid), _) => LeadRef::Txid { txid, offer_id: Some(offer.id) },
            (None, Some(click_id)) => LeadRef::Click { click_id, event: params.event.clone(), offer_id: offer.id },
            (None, None) => {
                return Ok(Err(Refusal::new(
                    400,
                    Reason::InvalidRequest.code(),
                    "a verdict names its lead by txid, or by click_id (and event)",
                )));
            }
        };
        let Some(user) = crate::store::users::find(c, offer.advertiser_id)? else {
            return Err(crate::error::AppError::NotFound);
        };
        // A suspended (or not yet approved) advertiser decides nothing, by any channel.
        if user.status() != crate::domain::account::AccountStatus::Active {
            let r = Reason::OfferInactive;
            return Ok(Err(Refusal::new(r.http_status(), r.code(), "the advertiser's account is not active")));
        }
        let who = crate::acting::Acting::new(user, Some(ip.to_string()), &config);
        let item = Item { lead, verdict, reason, comment };
        c.write_tx(|c| verdicts::apply_one(c, &who, VerdictChannel::Postback, &item))
    })
    .await;
    match answer {
        Ok(Ok((done, effects))) => {
            state.apply(effects);
            HttpResponse::Ok().json(json!({
                "status": if done.applied { "applied" } else { "duplicate" },
                "lead_id": done.lead_id,
                "lead_status": done.status,
            }))
        }
        Ok(Err(refusal)) => verdict_refused(&refusal),
        Err(e) => {
            tracing::warn!(error = %e, "a verdict postback could not be stored");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "1"))
                .json(json!({"status": "error", "reason": "unavailable", "message": "the verdict could not be stored; send it again"}))
        }
    }
}

/// A transparent 1×1 GIF.
pub const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum PixelForm {
    Gif,
    Html,
    Js,
}

/// The pixel: always answers in its form (a GIF for `.gif`), whatever happened;
/// `X-Qualead-Status` says what did (`accepted`, `duplicate`, `rejected:<code>`).
async fn pixel(state: web::Data<AppState>, req: HttpRequest, file: web::Path<String>) -> HttpResponse {
    let file = file.into_inner();
    let (id, form) = match file.rsplit_once('.') {
        Some((id, "gif")) => (id, PixelForm::Gif),
        Some((id, "html")) => (id, PixelForm::Html),
        Some((id, "js")) => (id, PixelForm::Js),
        _ => (file.as_str(), PixelForm::Gif),
    };
    let status = match id.parse::<i64>() {
        Ok(offer_id) => pixel_conversion(&state, &req, offer_id).await,
        Err(_) => format!("rejected:{}", Reason::InvalidRequest.code()),
    };
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store, no-cache, must-revalidate, max-age=0"))
        .insert_header((header::PRAGMA, "no-cache"))
        .insert_header(("X-Qualead-Status", status));
    match form {
        PixelForm::Gif => res.content_type("image/gif").body(GIF),
        PixelForm::Html => res
            // Made to be framed by the advertiser's page.
            .insert_header(("Content-Security-Policy", "default-src 'none'; frame-ancestors *"))
            .insert_header(("X-Frame-Options", "ALLOWALL"))
            .content_type("text/html; charset=utf-8")
            .body("<!doctype html><title>.</title>"),
        PixelForm::Js => res.content_type("application/javascript; charset=utf-8").body("/* qualead */"),
    }
}

async fn pixel_conversion(state: &AppState, req: &HttpRequest, offer_id: i64) -> String {
    let mut params = match Params::from_pairs(&query_pairs(req)) {
        Ok(p) => p,
        Err(_) => return format!("rejected:{}", Reason::InvalidRequest.code()),
    };
    // A pixel carries no secret: the click must come from the browser (cookie) or the URL.
    params.token = None;
    if params.click_id.is_none()
        && let Some(cookie) = cookie_value(req, &click_cookie_name(offer_id))
        && params.set_click_id(cookie).is_err()
    {
        return format!("rejected:{}", Reason::InvalidRequest.code());
    }
    let conv = Conversion {
        channel: Channel::Pixel,
        params,
        offer_id: Some(offer_id),
        publisher_id: None,
        consent: None,
        ip: client_ip(req, &state.config.trusted_proxies).to_string(),
    };
    if conv.params.click_id.as_deref().is_some_and(test_conversions::is_test_click_id) {
        return test_conversions::intake(state, conv).await.pixel_status();
    }
    match submit(state, conv).await {
        Some(Outcome::Accepted { .. }) => "accepted".into(),
        Some(Outcome::Duplicate { .. }) => "duplicate".into(),
        Some(Outcome::Rejected { reason, .. }) => format!("rejected:{}", reason.code()),
        Some(Outcome::MissingFields { .. }) => format!("rejected:{}", Reason::MissingField.code()),
        None => "error".into(),
    }
}
