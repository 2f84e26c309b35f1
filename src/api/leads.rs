//! `/api/v1/leads…`: publishers who collect leads themselves send them here
//! (`POST /leads`, the same intake as postbacks and pixels); everyone reads the
//! leads it may see; advertisers approve, reject and return them, publishers
//! contest rejections, and admins rule on the disputes (DESIGN §6, §11).

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use crate::acting::Acting;
use crate::api::money::{acting, optional_json, page_limit, query_id, query_status, require, required_json, to_json};
use crate::api::{ApiUser, resource};
use crate::client_ip::client_ip;
use crate::db::{self, DbConn};
use crate::domain::account::Role;
use crate::domain::intake::{Channel, Params, Reason};
use crate::domain::lifecycle::{LeadStatus, Ruling};
use crate::effects::Effects;
use crate::error::{ApiError, ApiResult, AppError};
use crate::settlement::{actions, verdicts, view};
use crate::store::{disputes, leads};
use crate::tracking::conversions::{outcome_response, submit};
use crate::tracking::intake::{Conversion, Outcome};
use actix_web::http::Method;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Before `/leads/{id}`, which would take `status` for an id.
    cfg.service(resource("/leads/status", [(Method::POST, web::to(bulk_status))]));
    cfg.service(resource("/leads", [(Method::POST, web::to(create)), (Method::GET, web::to(list))]));
    cfg.service(resource("/leads/{id}", [(Method::GET, web::to(get))]));
    cfg.service(resource("/leads/{id}/approve", [(Method::POST, web::to(approve))]));
    cfg.service(resource("/leads/{id}/reject", [(Method::POST, web::to(reject))]));
    cfg.service(resource("/leads/{id}/return", [(Method::POST, web::to(return_lead))]));
    cfg.service(resource("/leads/{id}/contest", [(Method::POST, web::to(contest))]));
    cfg.service(resource("/admin/disputes", [(Method::GET, web::to(dispute_queue))]));
    cfg.service(resource("/admin/disputes/{id}/rule", [(Method::POST, web::to(rule))]));
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
/// Only the advertiser (`advertiser`) may send an `amount` (alias `sum`): a
/// publisher's lead never says what it is worth (DESIGN "Trust").
fn parse(body: &[u8], advertiser: bool) -> Result<(i64, Params, Option<bool>), String> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    crate::api::money::whole_numbers(&mut value);
    let Value::Object(map) = value else { return Err("the body must be a JSON object".into()) };
    let amount = match (map.get("amount"), map.get("sum")) {
        (None, None) => None,
        (Some(_), Some(_)) => return Err("amount: give amount or sum, not both".into()),
        (Some(v), None) | (None, Some(v)) if advertiser => Some(v),
        _ => return Err(crate::domain::channels::NO_AMOUNT.into()),
    };
    const KNOWN: [&str; 8] = ["offer_id", "click_id", "event", "amount", "sum", "txid", "fields", "consent"];
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
    if let Some(v) = amount {
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

/// `POST /leads`: a publisher's lead (its own channel, no amount), or the offer's
/// advertiser reporting a conversion of a click with its API key (its channel like
/// the postback, with the amount).
async fn create(api: ApiUser, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    let advertiser = match api.user.role() {
        Role::Publisher => false,
        Role::Advertiser => true,
        Role::Admin => return Err(ApiError(AppError::Forbidden)),
    };
    let (offer_id, params, consent) = match parse(&body, advertiser) {
        Ok(parsed) => parsed,
        Err(message) => {
            let outcome = Outcome::Rejected { reason: Reason::InvalidRequest, detail: message };
            return Ok(outcome_response(Some(&outcome), StatusCode::CREATED));
        }
    };
    if advertiser {
        // Its own offers only (404 otherwise); the click says which publisher.
        let user = api.user.clone();
        db::run(&api.state.pool, move |c| crate::marketplace::owned_offer(c, &user, offer_id)).await?;
    }
    let conv = Conversion {
        channel: if advertiser { Channel::Advertiser } else { Channel::Api },
        params,
        offer_id: Some(offer_id),
        publisher_id: (!advertiser).then_some(api.user.id),
        // A publisher's lead without an explicit `consent: true` has no consent; the
        // advertiser, like its postback, is not asked.
        consent: (!advertiser).then_some(consent == Some(true)),
        ip: client_ip(&req, &api.state.config.trusted_proxies).to_string(),
    };
    let outcome = submit(&api.state, conv).await;
    Ok(outcome_response(outcome.as_ref(), StatusCode::CREATED))
}

// ---- reading leads ----

/// The statuses of a stored lead (DESIGN §6).
const LEAD_STATUSES: [&str; 5] = LeadStatus::NAMES;

/// `?offer_id=&status=&before_id=&limit=`; ids are read by hand so that an empty
/// value means "any".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    offer_id: Option<String>,
    status: Option<String>,
    before_id: Option<String>,
    limit: Option<i64>,
}

/// `GET /leads`: the leads the caller may see, newest first; `next_before_id` pages on.
async fn list(api: ApiUser, req: HttpRequest, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let limit = page_limit(q.limit, 100)?;
    let filter = leads::Filter {
        offer_id: query_id("offer_id", q.offer_id.as_deref())?,
        status: query_status(q.status.as_deref(), &LEAD_STATUSES)?.and_then(|s| s.parse().ok()),
        before_id: query_id("before_id", q.before_id.as_deref())?,
        limit: Some(limit),
        ..Default::default()
    };
    let who = acting(&api, &req);
    let rows = db::run(&api.state.pool, move |c| view::list(c, &who, &filter)).await?;
    let next = if rows.len() as i64 == limit { rows.last().map(|r| r.id) } else { None };
    Ok(HttpResponse::Ok().json(serde_json::json!({ "leads": to_json(&rows)?, "next_before_id": next })))
}

/// The lead as `who` may read it (masked for publishers), in the caller's transaction.
/// Reading does not lock the row; an action before it in the transaction already did.
fn lead_view(c: &mut DbConn, who: &Acting, id: i64) -> Result<view::LeadView, AppError> {
    let lead = actions::readable_lead(c, &who.user, id)?;
    view::lead(c, who, lead)
}

/// `GET /leads/{id}`: `404` when the caller may not see it.
async fn get(api: ApiUser, req: HttpRequest, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let who = acting(&api, &req);
    // A write transaction: an admin's view of personal data is audited.
    let lead = db::run(&api.state.pool, move |c| c.write_tx(|c| lead_view(c, &who, id))).await?;
    Ok(HttpResponse::Ok().json(to_json(&lead)?))
}

// ---- acting on leads ----

/// `{"reason","comment"}`; both may be left out where the action allows it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ReasonBody {
    reason: Option<String>,
    comment: Option<String>,
}

/// Run a lead action in one write transaction, apply what it changed, and answer
/// with the lead as it is now.
async fn act<F>(api: ApiUser, req: HttpRequest, id: i64, op: F) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut DbConn, &Acting) -> Result<Effects, AppError> + Send + 'static,
{
    let who = acting(&api, &req);
    let (lead, effects) = db::run(&api.state.pool, move |c| {
        c.write_tx(|c| {
            let effects = op(c, &who)?;
            Ok::<_, AppError>((lead_view(c, &who, id)?, effects))
        })
    })
    .await?;
    api.state.apply(effects);
    Ok(HttpResponse::Ok().json(to_json(&lead)?))
}

/// `POST /leads/{id}/approve` (advertiser, admin): approve a pending lead early.
async fn approve(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    decide(api, req, path.into_inner(), true, body).await
}

/// `POST /leads/{id}/reject` (advertiser, admin): reject a pending lead early, with a reason.
async fn reject(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    decide(api, req, path.into_inner(), false, body).await
}

/// A decision's optional `{"reason", "comment"}`; the document's 2,000-character
/// limit on the comment holds for every decision: `invalid_reason` where a reason
/// is asked for (reject, return), `invalid_request` for an approval's note.
fn reason_and_comment(body: &Bytes, code: &'static str) -> ApiResult<(String, String)> {
    let body: ReasonBody = optional_json(body)?;
    let (reason, comment) = (body.reason.unwrap_or_default(), body.comment.unwrap_or_default());
    if comment.chars().count() > 2000 {
        return Err(ApiError(AppError::bad_request(code, "comment: at most 2000 characters")));
    }
    Ok((reason, comment))
}

async fn decide(api: ApiUser, req: HttpRequest, id: i64, approve: bool, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Advertiser, Role::Admin])?;
    let (reason, comment) = reason_and_comment(&body, if approve { "invalid_request" } else { "invalid_reason" })?;
    act(api, req, id, move |c, who| {
        let (_, effects) = actions::decide_early(c, who, id, approve, &reason, &comment)?;
        let verdict = if approve { verdicts::Verdict::Approved } else { verdicts::Verdict::Rejected };
        verdicts::record_one(c, who, id, verdicts::Channel::Api, verdict, &reason, &comment)?;
        Ok(effects)
    })
    .await
}

/// `POST /leads/{id}/return` (advertiser): return an approved lead; it is disputed.
async fn return_lead(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Advertiser])?;
    let id = path.into_inner();
    let (reason, comment) = reason_and_comment(&body, "invalid_reason")?;
    act(api, req, id, move |c, who| {
        let (_, effects) = actions::return_lead(c, who, id, &reason, &comment)?;
        verdicts::record_one(c, who, id, verdicts::Channel::Api, verdicts::Verdict::Returned, &reason, &comment)?;
        Ok(effects)
    })
    .await
}

/// `POST /leads/{id}/contest` (publisher): contest a rejection, with a comment. A
/// contest's reason is always `contested`; a `reason` sent with it is ignored.
async fn contest(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Publisher])?;
    let id = path.into_inner();
    let body: ReasonBody = optional_json(&body)?;
    let comment = body.comment.unwrap_or_default();
    act(api, req, id, move |c, who| Ok(actions::contest(c, who, id, &comment)?.1)).await
}

// ---- verdicts from the advertiser's systems ----

/// One item of `POST /leads/status`: the lead by `txid` (with `offer_id` when the
/// same txid is on several offers) or `lead_id`, and its verdict. An item that does
/// not match the document (a wrong type, a status outside the enum, an unknown
/// field) makes the whole request a `400` naming it (`items[3].status: …`); what a
/// well-formed item cannot do is answered on that item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusItem {
    #[serde(default)]
    txid: Option<String>,
    #[serde(default)]
    lead_id: Option<i64>,
    #[serde(default)]
    offer_id: Option<i64>,
    status: verdicts::Verdict,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBatch {
    items: Vec<StatusItem>,
}

/// An item as a verdict, or why it is not one.
fn status_item(item: StatusItem) -> Result<verdicts::Item, verdicts::Refusal> {
    let bad = |m: String| verdicts::Refusal::new(400, "invalid_request", m);
    let lead = match (item.txid.as_deref().map(str::trim).filter(|t| !t.is_empty()), item.lead_id) {
        (Some(t), None) => {
            let mut p = Params::default();
            p.set_txid(t).map_err(bad)?;
            verdicts::LeadRef::Txid { txid: p.txid.unwrap_or_default(), offer_id: item.offer_id }
        }
        (None, Some(id)) => verdicts::LeadRef::Id(id),
        _ => return Err(bad("give txid or lead_id (one of them)".into())),
    };
    Ok(verdicts::Item {
        lead,
        verdict: item.status,
        reason: item.reason.unwrap_or_default(),
        comment: item.comment.unwrap_or_default(),
    })
}

/// `POST /leads/status` (advertiser): up to 1,000 verdicts,
/// `{"items":[{"txid"|"lead_id","status","reason","comment"}]}`. Each well-formed
/// item is answered on its own, in order: `applied`, `duplicate` (the lead carries
/// this verdict already), or `error` with its HTTP status and code.
async fn bulk_status(api: ApiUser, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Advertiser])?;
    let batch: StatusBatch = required_json(&body)?;
    let items = batch.items;
    if items.is_empty() {
        return Err(ApiError(AppError::invalid("items is empty")));
    }
    // The document's lengths hold for the whole request, like its types.
    for (i, item) in items.iter().enumerate() {
        let long = |v: &Option<String>, max: usize| v.as_ref().is_some_and(|v| v.chars().count() > max);
        if long(&item.txid, 128) {
            return Err(ApiError(AppError::invalid(format!("items[{i}].txid: at most 128 characters"))));
        }
        if let Some(r) = &item.reason
            && !crate::domain::lifecycle::RETURN_REASONS.contains(&r.as_str())
        {
            let known = crate::domain::lifecycle::RETURN_REASONS.join(", ");
            return Err(ApiError(AppError::invalid(format!("items[{i}].reason: must be one of {known}"))));
        }
        if long(&item.comment, 2000) {
            return Err(ApiError(AppError::invalid(format!("items[{i}].comment: at most 2000 characters"))));
        }
    }
    if items.len() > verdicts::MAX_ITEMS {
        return Ok(HttpResponse::PayloadTooLarge().json(serde_json::json!({
            "error": "too_many_items",
            "message": format!("at most {} items per request; this one has {}", verdicts::MAX_ITEMS, items.len()),
        })));
    }
    let parsed: Vec<_> = items.into_iter().map(status_item).collect();
    let who = acting(&api, &req);
    let (outcomes, effects) = db::run(&api.state.pool, move |c| {
        c.write_tx(|c| {
            let (mut outcomes, mut effects) = (Vec::with_capacity(parsed.len()), Effects::NONE);
            for p in &parsed {
                outcomes.push(match p {
                    Ok(item) => {
                        verdicts::apply_one(c, &who, verdicts::Channel::BulkApi, item)?.map(|(done, changed)| {
                            effects |= changed;
                            done
                        })
                    }
                    Err(r) => Err(r.clone()),
                });
            }
            Ok::<_, AppError>((outcomes, effects))
        })
    })
    .await?;
    api.state.apply(effects);
    let (mut applied, mut duplicates, mut errors) = (0, 0, 0);
    let results: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .map(|(index, o)| match o {
            Ok(d) => {
                if d.applied { applied += 1 } else { duplicates += 1 }
                serde_json::json!({
                    "index": index,
                    "status": if d.applied { "applied" } else { "duplicate" },
                    "lead_id": d.lead_id,
                    "lead_status": d.status,
                })
            }
            Err(r) => {
                errors += 1;
                serde_json::json!({"index": index, "status": "error", "http": r.http, "error": r.code, "message": r.message})
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "applied": applied, "duplicates": duplicates, "errors": errors, "results": results,
    })))
}

// ---- disputes (admin) ----

pub const DISPUTE_STATUSES: [&str; 3] = ["open", "upheld", "denied"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DisputeQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /admin/disputes?status=`: the open queue oldest first; closed ones newest first.
async fn dispute_queue(api: ApiUser, q: web::Query<DisputeQuery>) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Admin])?;
    let status = query_status(q.status.as_deref(), &DISPUTE_STATUSES)?;
    let limit = page_limit(q.limit, 100)?;
    let rows = db::run(&api.state.pool, move |c| Ok(disputes::queue(c, status.as_deref(), limit)?)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "disputes": to_json(&rows)? })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleBody {
    decision: String,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /admin/disputes/{id}/rule` (admin): `upheld` or `denied`, with a note.
/// Answers with the dispute and the lead's status after the ruling.
async fn rule(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Admin])?;
    let id = path.into_inner();
    let body: RuleBody = required_json(&body)?;
    let ruling = Ruling::parse(body.decision.trim())
        .ok_or_else(|| ApiError(AppError::invalid("decision must be \"upheld\" or \"denied\"")))?;
    let note = body.note.unwrap_or_default();
    let who = acting(&api, &req);
    let (dispute, status, effects) = db::run(&api.state.pool, move |c| {
        c.write_tx(|c| {
            let (d, effects) = actions::rule(c, &who, id, ruling, &note)?;
            let lead = leads::find(c, d.lead_id)?.ok_or(AppError::NotFound)?;
            Ok::<_, AppError>((d, lead.status, effects))
        })
    })
    .await?;
    api.state.apply(effects);
    let mut json = to_json(&dispute)?;
    json["lead_status"] = Value::String(status.to_string());
    Ok(HttpResponse::Ok().json(json))
}
