//! `POST /api/v1/leads`: publishers who collect leads themselves send them here.
//! The body goes through the same intake as postbacks and pixels.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::api::ApiUser;
use crate::domain::account::Role;
use crate::domain::intake::{Channel, Params, Reason};
use crate::error::{ApiError, ApiResult, AppError};
use crate::tracking::conversions::{outcome_response, submit};
use crate::tracking::intake::{Conversion, Outcome};
use crate::web::client_ip::client_ip;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/leads", web::post().to(create));
}

/// The body's values as text: strings as they are, numbers as written.
fn text(v: &Value, name: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        _ => Err(format!("{name} must be a string")),
    }
}

/// Read `{"offer_id", "click_id"?, "event"?, "amount"?, "txid"?, "fields": {…}, "consent"}`.
fn parse(body: &[u8]) -> Result<(i64, Params, Option<bool>), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(map) = value else { return Err("the body must be a JSON object".into()) };
    const KNOWN: [&str; 7] = ["offer_id", "click_id", "event", "amount", "txid", "fields", "consent"];
    if let Some(k) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("unknown field {k:?}"));
    }
    let offer_id = map.get("offer_id").and_then(Value::as_i64).ok_or("offer_id must be a number")?;
    let mut p = Params::default();
    if let Some(v) = map.get("click_id") {
        p.set_click_id(&text(v, "click_id")?)?;
    }
    if let Some(v) = map.get("event") {
        p.set_event(&text(v, "event")?)?;
    }
    if let Some(v) = map.get("amount") {
        p.set_amount(&text(v, "amount")?)?;
    }
    if let Some(v) = map.get("txid") {
        p.set_txid(&text(v, "txid")?)?;
    }
    match map.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => {
            let values: Vec<(String, String)> =
                fields.iter().map(|(k, v)| Ok((k.clone(), text(v, k)?))).collect::<Result<_, String>>()?;
            p.set_fields(values.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        }
        Some(_) => return Err("fields must be an object".into()),
    }
    let consent = match map.get("consent") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err("consent must be true or false".into()),
    };
    Ok((offer_id, p, consent))
}

async fn create(api: ApiUser, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    if api.user.role() != Role::Publisher {
        return Err(ApiError(AppError::Forbidden));
    }
    let (offer_id, params, consent) = match parse(&body) {
        Ok(parsed) => parsed,
        Err(message) => {
            let outcome = Outcome::Rejected { reason: Reason::InvalidRequest, detail: message };
            return Ok(outcome_response(Some(&outcome), StatusCode::CREATED));
        }
    };
    let conv = Conversion {
        channel: Channel::Api,
        params,
        offer_id: Some(offer_id),
        publisher_id: Some(api.user.id),
        // A lead without an explicit `consent: true` has no consent.
        consent: Some(consent == Some(true)),
        ip: client_ip(&req, &api.state.config.trusted_proxies).to_string(),
    };
    let outcome = submit(&api.state, conv).await;
    Ok(outcome_response(outcome.as_ref(), StatusCode::CREATED))
}
