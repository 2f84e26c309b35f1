//! `/api/v1` money routes (DESIGN §8, §11): balances, deposits, payout requests
//! and their payment, the caller's statement, ledger health and an admin-triggered
//! settlement run. Amounts are decimal strings (`"12.50"`) both ways.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use diesel::Connection;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::acting::Acting;
use crate::api::{ApiUser, resource};
use crate::client_ip::client_ip;
use crate::db;
use crate::domain::account::Role;
use crate::domain::intake::MAX_AMOUNT_MINOR;
use crate::domain::money::{format_minor, parse_minor};
use crate::error::{ApiError, ApiResult, AppError};
use crate::settlement::{actions, money, run};
use crate::store::payouts::{self, Payout};
use crate::store::{ledger, now};
use actix_web::http::Method;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/balance", [(Method::GET, web::to(balance))]));
    cfg.service(resource("/statement", [(Method::GET, web::to(statement))]));
    cfg.service(resource("/payouts", [(Method::POST, web::to(request_payout)), (Method::GET, web::to(list_payouts))]));
    cfg.service(resource("/payouts/{id}/cancel", [(Method::POST, web::to(cancel_payout))]));
    cfg.service(resource("/admin/payouts/{id}/paid", [(Method::POST, web::to(mark_paid))]));
    cfg.service(resource("/admin/deposits", [(Method::POST, web::to(deposit))]));
    cfg.service(resource("/admin/ledger/health", [(Method::GET, web::to(ledger_health))]));
    cfg.service(resource("/admin/settle", [(Method::POST, web::to(settle))]));
}

// ---- helpers shared with `leads.rs` ----

/// The caller as the settlement functions want it: the account, its IP (audit log)
/// and the base URL (links in e-mails).
pub(super) fn acting(api: &ApiUser, req: &HttpRequest) -> Acting {
    let ip = client_ip(req, &api.state.config.trusted_proxies).to_string();
    Acting::new(api.user.clone(), Some(ip), &api.state.config)
}

/// `403` unless the caller has one of `roles`.
pub(super) fn require(api: &ApiUser, roles: &[Role]) -> ApiResult<()> {
    if roles.contains(&api.user.role()) { Ok(()) } else { Err(ApiError(AppError::Forbidden)) }
}

fn unreadable(e: serde_json::Error) -> ApiError {
    ApiError(AppError::invalid(format!("the JSON body could not be read: {e}")))
}

/// A JSON body that may be left out: an empty body is the default value.
pub(super) fn optional_json<T: Default + DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    required_json(bytes)
}

/// A JSON body that must be there, and be an object: serde would also read a
/// struct from an array (`[]` as "every field left out").
pub(super) fn required_json<T: DeserializeOwned>(bytes: &Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError(AppError::invalid("a JSON body is required")));
    }
    match serde_json::from_slice::<Value>(bytes).map_err(unreadable)? {
        mut object @ Value::Object(_) => {
            whole_numbers(&mut object);
            Ok(crate::error::read_json(object)?)
        }
        _ => Err(ApiError(AppError::invalid("the JSON body must be an object"))),
    }
}

/// JSON does not tell `625` from `625.0`, and neither does the document's `integer`:
/// a number without a fraction is read as an integer wherever an integer is expected.
pub(crate) fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// An amount of money from a body: a decimal string above 0.00 and at most
/// 1,000,000,000.00, with at most two decimals.
pub(super) fn parse_amount(raw: &str) -> ApiResult<i64> {
    let minor = parse_minor(raw).map_err(|m| ApiError(AppError::invalid(format!("amount: {m}"))))?;
    if minor <= 0 || minor > MAX_AMOUNT_MINOR {
        return Err(ApiError(AppError::invalid(format!(
            "amount: must be above 0.00 and at most {}",
            format_minor(MAX_AMOUNT_MINOR)
        ))));
    }
    Ok(minor)
}

/// A page size from the query: 1 to 500, `default` when absent.
pub(super) fn page_limit(limit: Option<i64>, default: i64) -> ApiResult<i64> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(_) => Err(ApiError(AppError::invalid("limit must be 1 to 500"))),
    }
}

/// An optional id from the query: absent or empty is `None`.
pub(super) fn query_id(name: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| ApiError(AppError::invalid(format!("{name} must be a positive integer")))),
    }
}

/// An optional status filter from the query, one of `allowed`; absent or empty is `None`.
pub(super) fn query_status(raw: Option<&str>, allowed: &[&str]) -> ApiResult<Option<String>> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if allowed.contains(&s) => Ok(Some(s.to_string())),
        Some(_) => Err(ApiError(AppError::invalid(format!("status must be one of {}", allowed.join(", "))))),
    }
}

/// Serialise `v` with every timestamp (keys ending in `_at`, and `hold_until`) as
/// RFC 3339 in UTC, like the offer routes; the lead's own `fields` are left as sent.
pub(super) fn to_json<T: Serialize>(v: &T) -> ApiResult<Value> {
    let mut json = serde_json::to_value(v).map_err(|e| ApiError(AppError::Internal(e.into())))?;
    utc_times(&mut json);
    Ok(json)
}

fn utc_times(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                if k == "fields" {
                    continue;
                }
                if (k.ends_with("_at") || k == "hold_until")
                    && let Value::String(s) = item
                    && let Ok(t) = s.parse::<NaiveDateTime>()
                {
                    *s = t.and_utc().to_rfc3339();
                    continue;
                }
                utc_times(item);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(utc_times),
        _ => {}
    }
}

// ---- balances and statements ----

/// `GET /balance`: advertiser `{available, escrow}`, publisher `{available, pending,
/// requested, balance}`, admin `{platform_fees}`.
async fn balance(api: ApiUser) -> ApiResult<HttpResponse> {
    let user = api.user.clone();
    let json = db::run(&api.state.pool, move |c| {
        Ok(match user.role() {
            Role::Advertiser => {
                let b = money::advertiser_balance(c, user.id)?;
                serde_json::json!({ "available": format_minor(b.available), "escrow": format_minor(b.escrow) })
            }
            Role::Publisher => {
                let b = money::publisher_balance(c, user.id)?;
                serde_json::json!({
                    "available": format_minor(b.available),
                    "pending": format_minor(b.pending),
                    "requested": format_minor(b.requested),
                    "balance": format_minor(b.balance),
                })
            }
            Role::Admin => {
                let fees = ledger::balance(c, ledger::PLATFORM_FEES)?;
                serde_json::json!({ "platform_fees": format_minor(fees) })
            }
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LimitQuery {
    limit: Option<i64>,
}

#[derive(Serialize)]
struct LineJson {
    entry_id: i64,
    transaction_id: i64,
    kind: String,
    lead_id: Option<i64>,
    memo: String,
    amount: String,
    created_at: String,
}

/// `GET /statement`: the latest lines of the caller's own account, newest first
/// (an advertiser's balance, a publisher's earnings, the platform's fees for admins).
async fn statement(api: ApiUser, q: web::Query<LimitQuery>) -> ApiResult<HttpResponse> {
    let limit = page_limit(q.limit, 100)?;
    let account = match api.user.role() {
        Role::Advertiser => ledger::advertiser(api.user.id),
        Role::Publisher => ledger::publisher(api.user.id),
        Role::Admin => ledger::PLATFORM_FEES.to_string(),
    };
    let acc = account.clone();
    let (lines, bal) = db::run(&api.state.pool, move |c| {
        // One snapshot: the balance and the lines agree.
        c.transaction(|c| {
            Ok::<_, AppError>((ledger::statement_lines(c, &acc, None, limit)?.0, ledger::balance(c, &acc)?))
        })
    })
    .await?;
    let lines: Vec<LineJson> = lines
        .into_iter()
        .map(|l| LineJson {
            entry_id: l.entry_id,
            transaction_id: l.transaction_id,
            kind: l.kind,
            lead_id: l.lead_id,
            memo: l.memo,
            amount: format_minor(l.amount_minor),
            created_at: l.created_at.and_utc().to_rfc3339(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "account": account,
        "balance": format_minor(bal),
        "lines": lines,
    })))
}

// ---- payouts ----

/// A payout request as JSON; `publisher_email` in admin lists only.
#[derive(Serialize)]
struct PayoutJson {
    id: i64,
    publisher_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    publisher_email: Option<String>,
    amount: String,
    status: String,
    method: String,
    note: String,
    transaction_id: Option<i64>,
    paid_by: Option<i64>,
    requested_at: String,
    paid_at: Option<String>,
}

fn payout_json(p: Payout, publisher_email: Option<String>) -> PayoutJson {
    PayoutJson {
        id: p.id,
        publisher_id: p.publisher_id,
        publisher_email,
        amount: format_minor(p.amount_minor),
        status: p.status,
        method: p.method,
        note: p.note,
        transaction_id: p.transaction_id,
        paid_by: p.paid_by,
        requested_at: p.requested_at.and_utc().to_rfc3339(),
        paid_at: p.paid_at.map(|t| t.and_utc().to_rfc3339()),
    }
}

pub const PAYOUT_STATUSES: [&str; 3] = ["requested", "paid", "cancelled"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayoutBody {
    amount: String,
    #[serde(default)]
    method: Option<String>,
}

/// `POST /payouts` (publisher): request `amount` of the available balance.
async fn request_payout(api: ApiUser, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Publisher])?;
    let body: PayoutBody = required_json(&body)?;
    let amount = parse_amount(&body.amount)?;
    let method = body.method.unwrap_or_default();
    let who = acting(&api, &req);
    let payout =
        db::run(&api.state.pool, move |c| c.write_tx(|c| money::request_payout(c, &who, amount, &method))).await?;
    Ok(HttpResponse::Created().json(payout_json(payout, None)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PayoutQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /payouts`: a publisher's own requests; every request for admins.
async fn list_payouts(api: ApiUser, q: web::Query<PayoutQuery>) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Publisher, Role::Admin])?;
    let status = query_status(q.status.as_deref(), &PAYOUT_STATUSES)?;
    let limit = page_limit(q.limit, 100)?;
    let user = api.user.clone();
    let out = db::run(&api.state.pool, move |c| {
        Ok(if user.role() == Role::Admin {
            payouts::list(c, status.as_deref(), limit)?
                .into_iter()
                .map(|(p, email)| payout_json(p, Some(email)))
                .collect()
        } else {
            payouts::for_publisher(c, user.id, 500)?
                .into_iter()
                .filter(|p| status.as_ref().is_none_or(|s| &p.status == s))
                .take(usize::try_from(limit).unwrap_or(100))
                .map(|p| payout_json(p, None))
                .collect::<Vec<_>>()
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "payouts": out })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct NoteBody {
    note: Option<String>,
}

/// `POST /admin/payouts/{id}/paid` (admin): publisher → external.
async fn mark_paid(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Admin])?;
    let note = optional_json::<NoteBody>(&body)?.note.unwrap_or_default();
    let id = path.into_inner();
    let who = acting(&api, &req);
    let (payout, effects) =
        db::run(&api.state.pool, move |c| c.write_tx(|c| money::mark_paid(c, &who, id, &note))).await?;
    api.state.apply(effects);
    Ok(HttpResponse::Ok().json(payout_json(payout, None)))
}

/// `POST /payouts/{id}/cancel`: the publisher withdraws its request, or an admin declines it.
async fn cancel_payout(api: ApiUser, req: HttpRequest, path: web::Path<i64>, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Publisher, Role::Admin])?;
    let note = optional_json::<NoteBody>(&body)?.note.unwrap_or_default();
    if note.chars().count() > 2000 {
        return Err(ApiError(AppError::invalid("the note is longer than 2000 characters")));
    }
    let id = path.into_inner();
    let who = acting(&api, &req);
    let payout = db::run(&api.state.pool, move |c| c.write_tx(|c| money::cancel_payout(c, &who, id, &note))).await?;
    Ok(HttpResponse::Ok().json(payout_json(payout, None)))
}

// ---- admin ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositBody {
    advertiser_id: i64,
    amount: String,
    #[serde(default)]
    memo: Option<String>,
}

/// `POST /admin/deposits` (admin): external → advertiser.
async fn deposit(api: ApiUser, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Admin])?;
    let body: DepositBody = required_json(&body)?;
    let amount = parse_amount(&body.amount)?;
    let memo = body.memo.unwrap_or_default();
    if memo.chars().count() > 500 {
        return Err(ApiError(AppError::invalid("the memo is longer than 500 characters")));
    }
    let advertiser_id = body.advertiser_id;
    let who = acting(&api, &req);
    let (tx, b) = db::run(&api.state.pool, move |c| {
        c.write_tx(|c| {
            let tx = actions::deposit(c, &who, advertiser_id, amount, &memo)?;
            Ok::<_, AppError>((tx, money::advertiser_balance(c, advertiser_id)?))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "transaction_id": tx,
        "advertiser_id": advertiser_id,
        "amount": format_minor(amount),
        "balance": { "available": format_minor(b.available), "escrow": format_minor(b.escrow) },
    })))
}

/// `GET /admin/ledger/health` (admin): the ledger's invariants (DESIGN §8).
async fn ledger_health(api: ApiUser) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Admin])?;
    let health = db::run(&api.state.pool, |c| Ok(ledger::health(c)?)).await?;
    Ok(HttpResponse::Ok().json(health))
}

/// `POST /admin/settle` (admin): settle every lead whose hold has ended, now.
async fn settle(api: ApiUser) -> ApiResult<HttpResponse> {
    require(&api, &[Role::Admin])?;
    let metrics = api.state.metrics.clone();
    let summary = db::run(&api.state.pool, |c| Ok(run::settle_due(c, now(), run::BATCH)?)).await;
    crate::settlement::count(&metrics, &summary);
    api.state.apply(crate::settlement::effects_of(&summary));
    let summary = summary.map_err(ApiError)?;
    Ok(HttpResponse::Ok().json(summary))
}
