//! Operations on an offer's lead webhooks shared by the advertiser's pages and the
//! JSON API (DESIGN §6a): who may read or change them, and the checks of an
//! endpoint's settings. Each runs inside the caller's transaction.

use serde::Deserialize;

use crate::acting::Acting;
use crate::db::DbConn;
use crate::domain::account::Role;
use crate::effects::Effects;
use crate::error::{AppError, AppResult};
use crate::marketplace::owned_offer;
use crate::store::offers::Offer;
use crate::store::webhooks::{
    self, DEFAULT_TIMEOUT_MS, Delivery, EVENTS, MAX_TIMEOUT_MS, Mapping, NewWebhook, Webhook,
};

/// The most endpoints one offer may have.
pub const MAX_PER_OFFER: usize = 10;
const MIN_TIMEOUT_MS: i32 = 500;

/// The offer, if `who` may read its endpoints: its advertiser or an admin
/// (another advertiser: not found; a publisher: forbidden).
pub fn readable_offer(conn: &mut DbConn, who: &Acting, offer_id: i64) -> AppResult<Offer> {
    owned_offer(conn, &who.user, offer_id)
}

/// The offer, if `who` may change its endpoints: its advertiser only.
fn writable_offer(conn: &mut DbConn, who: &Acting, offer_id: i64) -> AppResult<Offer> {
    let offer = readable_offer(conn, who, offer_id)?;
    if who.role() != Role::Advertiser {
        return Err(AppError::Forbidden);
    }
    Ok(offer)
}

/// The endpoint `webhook_id` of the offer, if `who` may read it.
pub fn readable(conn: &mut DbConn, who: &Acting, offer_id: i64, webhook_id: i64) -> AppResult<Webhook> {
    readable_offer(conn, who, offer_id)?;
    match webhooks::find(conn, webhook_id)? {
        Some(h) if h.offer_id == offer_id => Ok(h),
        _ => Err(AppError::NotFound),
    }
}

fn writable(conn: &mut DbConn, who: &Acting, offer_id: i64, webhook_id: i64) -> AppResult<Webhook> {
    let hook = readable(conn, who, offer_id, webhook_id)?;
    if who.role() != Role::Advertiser {
        return Err(AppError::Forbidden);
    }
    Ok(hook)
}

/// An endpoint's settings as sent (every field optional: a change sends only some).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookBody {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub mapping: Option<Mapping>,
    pub sync: Option<bool>,
    pub timeout_ms: Option<i32>,
    pub active: Option<bool>,
    /// PATCH only: a new signing secret, shown in the answer.
    pub rotate_secret: Option<bool>,
}

/// Settings after checks.
struct Checked {
    url: String,
    events: Vec<String>,
    mapping: Mapping,
    sync: bool,
    timeout_ms: i32,
    active: bool,
}

fn check(body: WebhookBody, base: Option<&Webhook>) -> AppResult<Checked> {
    let url = body.url.or_else(|| base.map(|b| b.url.clone())).ok_or_else(|| AppError::invalid("url is required"))?;
    let url = url.trim().to_string();
    match url::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && url.len() <= 2000 => {}
        _ => return Err(field("url", "must be an http or https URL of at most 2000 characters")),
    }
    let mut events =
        body.events.or_else(|| base.map(Webhook::event_list)).ok_or_else(|| AppError::invalid("events is required"))?;
    if events.is_empty() {
        return Err(AppError::invalid(format!("events must name at least one of {}", EVENTS.join(", "))));
    }
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err(AppError::invalid(format!("events: {bad:?} is not one of {}", EVENTS.join(", "))));
    }
    events.sort_by_key(|e| EVENTS.iter().position(|k| k == e));
    events.dedup();
    let mapping = body.mapping.or_else(|| base.map(Webhook::mapping_value)).unwrap_or_default();
    mapping.check().map_err(AppError::invalid)?;
    let sync = body.sync.or(base.map(|b| b.sync)).unwrap_or(false);
    if sync && !events.iter().any(|e| e == "accepted") {
        return Err(field("sync", "needs the accepted event: the verdict answers a new lead"));
    }
    let timeout_ms = body.timeout_ms.or(base.map(|b| b.timeout_ms)).unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(AppError::invalid(format!("timeout_ms must be {MIN_TIMEOUT_MS} to {MAX_TIMEOUT_MS}")));
    }
    let active = body.active.or(base.map(|b| b.active)).unwrap_or(true);
    Ok(Checked { url, events, mapping, sync, timeout_ms, active })
}

/// A value refused for what it says: `422` naming the field.
fn field(name: &str, message: &str) -> AppError {
    AppError::Invalid([(name.to_string(), message.to_string())].into_iter().collect())
}

fn new_webhook(c: &Checked) -> NewWebhook<'_> {
    NewWebhook { url: &c.url, events: &c.events, mapping: &c.mapping, sync: c.sync, timeout_ms: c.timeout_ms }
}

pub fn list(conn: &mut DbConn, who: &Acting, offer_id: i64) -> AppResult<Vec<Webhook>> {
    readable_offer(conn, who, offer_id)?;
    Ok(webhooks::for_offer(conn, offer_id)?)
}

/// A new endpoint and its signing secret (shown this once).
pub fn create(conn: &mut DbConn, who: &Acting, offer_id: i64, body: WebhookBody) -> AppResult<(Webhook, String)> {
    let offer = writable_offer(conn, who, offer_id)?;
    if body.rotate_secret.is_some() {
        return Err(AppError::invalid("rotate_secret: only a change rotates the secret"));
    }
    let c = check(body, None)?;
    if webhooks::for_offer(conn, offer_id)?.len() >= MAX_PER_OFFER {
        return Err(AppError::conflict(
            "too_many_webhooks",
            format!("An offer may have at most {MAX_PER_OFFER} webhooks."),
        ));
    }
    let (mut hook, secret) = webhooks::create(conn, offer.id, offer.advertiser_id, &new_webhook(&c))?;
    if !c.active {
        hook = webhooks::update(conn, hook.id, &new_webhook(&c), false)?;
    }
    Ok((hook, secret))
}

/// Change an endpoint; the new secret when `rotate_secret` asked for one.
pub fn update(
    conn: &mut DbConn,
    who: &Acting,
    offer_id: i64,
    webhook_id: i64,
    body: WebhookBody,
) -> AppResult<(Webhook, Option<String>)> {
    let hook = writable(conn, who, offer_id, webhook_id)?;
    let rotate = body.rotate_secret.unwrap_or(false);
    let c = check(body, Some(&hook))?;
    let hook = webhooks::update(conn, hook.id, &new_webhook(&c), c.active)?;
    let secret = if rotate { Some(webhooks::rotate_secret(conn, hook.id)?) } else { None };
    Ok((hook, secret))
}

pub fn delete(conn: &mut DbConn, who: &Acting, offer_id: i64, webhook_id: i64) -> AppResult<()> {
    let hook = writable(conn, who, offer_id, webhook_id)?;
    webhooks::delete(conn, hook.id)?;
    Ok(())
}

pub fn deliveries(
    conn: &mut DbConn,
    who: &Acting,
    offer_id: i64,
    webhook_id: i64,
    limit: i64,
) -> AppResult<(Webhook, Vec<Delivery>)> {
    let hook = readable(conn, who, offer_id, webhook_id)?;
    let rows = webhooks::for_webhook(conn, hook.id, limit)?;
    Ok((hook, rows))
}

/// Queue one delivery again now (same body and event id).
pub fn replay(
    conn: &mut DbConn,
    who: &Acting,
    offer_id: i64,
    webhook_id: i64,
    delivery_id: i64,
) -> AppResult<(Delivery, Effects)> {
    let hook = writable(conn, who, offer_id, webhook_id)?;
    match webhooks::find_delivery(conn, delivery_id)? {
        Some(d) if d.webhook_id == hook.id => {}
        _ => return Err(AppError::NotFound),
    }
    webhooks::replay(conn, delivery_id)?;
    Ok((webhooks::find_delivery(conn, delivery_id)?.ok_or(AppError::NotFound)?, Effects::POSTBACKS))
}
