//! Lead webhooks (DESIGN §6a): an advertiser's HTTPS endpoints per offer, and the
//! deliveries of lead events to them. A delivery is queued in the transaction of
//! the lead event that causes it (an outbox, like publisher postbacks), sent by
//! `tracking::lead_webhooks` with retries, and kept as a log the advertiser reads
//! and replays.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::db::DbConn;
use crate::db::schema::{lead_webhooks, webhook_deliveries};
use crate::domain::money::format_minor;
use crate::store::leads::{Lead, LeadStatus};
use crate::store::now;
use crate::store::postbacks::{AfterFailure, MAX_ATTEMPTS, retry_delay};

/// The lead events an endpoint may subscribe to.
pub const EVENTS: [&str; 6] = ["accepted", "approved", "rejected", "disputed", "reversed", "returned"];
/// The keys of the payload the platform writes; a lead field of the same name is
/// left out (the platform's value wins).
const SYSTEM_KEYS: [&str; 9] =
    ["event_id", "event", "occurred_at", "lead_id", "offer_id", "publisher_id", "status", "price", "reasons"];
/// The longest a synchronous endpoint may take, and the default.
pub const MAX_TIMEOUT_MS: i32 = 10_000;
pub const DEFAULT_TIMEOUT_MS: i32 = 3_000;
/// How much of an answer's body is kept in the log.
const EXCERPT_CHARS: usize = 200;
const ERROR_CHARS: usize = 500;
/// How long a claimed delivery stays with one sender.
const LEASE: Duration = Duration::seconds(60);

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = lead_webhooks)]
pub struct Webhook {
    pub id: i64,
    pub offer_id: i64,
    pub advertiser_id: i64,
    pub url: String,
    pub events: String,
    pub mapping: String,
    #[serde(skip)]
    pub secret: String,
    pub sync: bool,
    pub timeout_ms: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Webhook {
    pub fn event_list(&self) -> Vec<String> {
        self.events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect()
    }
    pub fn wants(&self, event: &str) -> bool {
        self.events.split(',').any(|e| e == event)
    }
    pub fn mapping_value(&self) -> Mapping {
        serde_json::from_str(&self.mapping).unwrap_or_default()
    }
    /// The API's view: the secret never leaves after it was shown once.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "offer_id": self.offer_id,
            "url": self.url,
            "events": self.event_list(),
            "mapping": self.mapping_value(),
            "sync": self.sync,
            "timeout_ms": self.timeout_ms,
            "active": self.active,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Field mapping: keys renamed in the payload, constant keys added.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    pub rename: Map<String, Value>,
    pub constants: Map<String, Value>,
}

impl Mapping {
    /// Every rename is to a non-empty text key; constants are strings, numbers or
    /// booleans.
    pub fn check(&self) -> Result<(), String> {
        for (from, to) in &self.rename {
            match to {
                Value::String(s) if !s.trim().is_empty() && s.chars().count() <= 100 => {}
                _ => return Err(format!("mapping.rename.{from} must be a non-empty text of at most 100 characters")),
            }
        }
        for (k, v) in &self.constants {
            if !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                return Err(format!("mapping.constants.{k} must be a string, a number or true/false"));
            }
        }
        if self.rename.len() + self.constants.len() > 100 {
            return Err("mapping may hold at most 100 entries".into());
        }
        Ok(())
    }

    /// Rename keys of `payload`, then add the constants (they win over the lead's values).
    pub fn apply(&self, payload: Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in payload {
            let key = match self.rename.get(&k) {
                Some(Value::String(to)) => to.clone(),
                _ => k,
            };
            out.insert(key, v);
        }
        for (k, v) in &self.constants {
            out.insert(k.clone(), v.clone());
        }
        out
    }
}

/// The payload of an event on a lead, before the mapping: the platform's keys,
/// then the lead's fields.
pub fn payload(lead: &Lead, event: &str, event_id: &str, at: NaiveDateTime) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("event_id".into(), json!(event_id));
    map.insert("event".into(), json!(event));
    map.insert("occurred_at".into(), json!(at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    map.insert("lead_id".into(), json!(lead.id));
    map.insert("offer_id".into(), json!(lead.offer_id));
    map.insert("publisher_id".into(), json!(lead.publisher_id));
    map.insert("status".into(), json!(lead.status));
    map.insert("price".into(), json!(format_minor(lead.price_minor)));
    map.insert("reasons".into(), json!(lead.reason_list()));
    for (k, v) in lead.fields_map() {
        if !SYSTEM_KEYS.contains(&k.as_str()) {
            map.insert(k, v);
        }
    }
    map
}

// ---- endpoints ----

pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub mapping: &'a Mapping,
    pub sync: bool,
    pub timeout_ms: i32,
}

pub fn create(conn: &mut DbConn, offer_id: i64, advertiser_id: i64, w: &NewWebhook) -> QueryResult<(Webhook, String)> {
    let secret = new_secret();
    let t = now();
    let hook = diesel::insert_into(lead_webhooks::table)
        .values((
            lead_webhooks::offer_id.eq(offer_id),
            lead_webhooks::advertiser_id.eq(advertiser_id),
            lead_webhooks::url.eq(w.url),
            lead_webhooks::events.eq(w.events.join(",")),
            lead_webhooks::mapping.eq(serde_json::to_string(w.mapping).unwrap_or_else(|_| "{}".into())),
            lead_webhooks::secret.eq(&secret),
            lead_webhooks::sync.eq(w.sync),
            lead_webhooks::timeout_ms.eq(w.timeout_ms),
            lead_webhooks::active.eq(true),
            lead_webhooks::created_at.eq(t),
            lead_webhooks::updated_at.eq(t),
        ))
        .returning(lead_webhooks::all_columns)
        .get_result(conn)?;
    Ok((hook, secret))
}

/// A signing secret: `whsec_` and 32 random bytes.
fn new_secret() -> String {
    format!("whsec_{}", crate::crypto::random_token(32))
}

/// Replace the fields of an endpoint (already validated).
pub fn update(conn: &mut DbConn, id: i64, w: &NewWebhook, active: bool) -> QueryResult<Webhook> {
    diesel::update(lead_webhooks::table.find(id))
        .set((
            lead_webhooks::url.eq(w.url),
            lead_webhooks::events.eq(w.events.join(",")),
            lead_webhooks::mapping.eq(serde_json::to_string(w.mapping).unwrap_or_else(|_| "{}".into())),
            lead_webhooks::sync.eq(w.sync),
            lead_webhooks::timeout_ms.eq(w.timeout_ms),
            lead_webhooks::active.eq(active),
            lead_webhooks::updated_at.eq(now()),
        ))
        .returning(lead_webhooks::all_columns)
        .get_result(conn)
}

/// A new signing secret; the old one stops working at once.
pub fn rotate_secret(conn: &mut DbConn, id: i64) -> QueryResult<String> {
    let secret = new_secret();
    diesel::update(lead_webhooks::table.find(id))
        .set((lead_webhooks::secret.eq(&secret), lead_webhooks::updated_at.eq(now())))
        .execute(conn)?;
    Ok(secret)
}

/// Remove an endpoint and its delivery log.
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id))).execute(conn)?;
    diesel::delete(lead_webhooks::table.find(id)).execute(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Webhook>> {
    lead_webhooks::table.find(id).select(Webhook::as_select()).first(conn).optional()
}

pub fn for_offer(conn: &mut DbConn, offer_id: i64) -> QueryResult<Vec<Webhook>> {
    lead_webhooks::table
        .filter(lead_webhooks::offer_id.eq(offer_id))
        .order(lead_webhooks::id)
        .select(Webhook::as_select())
        .load(conn)
}

fn active_for_offers(conn: &mut DbConn, offer_ids: &[i64]) -> QueryResult<Vec<Webhook>> {
    lead_webhooks::table
        .filter(lead_webhooks::offer_id.eq_any(offer_ids))
        .filter(lead_webhooks::active.eq(true))
        .order(lead_webhooks::id)
        .select(Webhook::as_select())
        .load(conn)
}

// ---- the outbox ----

/// Queue the deliveries of `event` on `lead` to every active endpoint of its offer
/// that wants it; returns how many were queued.
pub fn enqueue(conn: &mut DbConn, lead: &Lead, event: &str) -> QueryResult<usize> {
    let hooks = active_for_offers(conn, &[lead.offer_id])?;
    enqueue_to(conn, &hooks, lead, event)
}

/// The active endpoints of some offers, by offer, for callers that queue many
/// events at once (intake, settlement).
pub fn endpoints_for(conn: &mut DbConn, offer_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<Webhook>>> {
    let mut by_offer: HashMap<i64, Vec<Webhook>> = HashMap::new();
    for hook in active_for_offers(conn, offer_ids)? {
        by_offer.entry(hook.offer_id).or_default().push(hook);
    }
    Ok(by_offer)
}

/// Queue `event` on `lead` to those of `hooks` (its offer's) that want it.
pub fn enqueue_to(conn: &mut DbConn, hooks: &[Webhook], lead: &Lead, event: &str) -> QueryResult<usize> {
    let at = now();
    let mut n = 0;
    for hook in hooks.iter().filter(|h| h.offer_id == lead.offer_id && h.active && h.wants(event)) {
        let event_id = format!("evt_{}", crate::crypto::random_token(16));
        let body = Value::Object(hook.mapping_value().apply(payload(lead, event, &event_id, at))).to_string();
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::webhook_id.eq(hook.id),
                webhook_deliveries::lead_id.eq(lead.id),
                webhook_deliveries::offer_id.eq(lead.offer_id),
                webhook_deliveries::advertiser_id.eq(hook.advertiser_id),
                webhook_deliveries::event.eq(event),
                webhook_deliveries::event_id.eq(event_id),
                webhook_deliveries::body.eq(body),
                webhook_deliveries::sync.eq(hook.sync && event == "accepted"),
                webhook_deliveries::status.eq("pending"),
                webhook_deliveries::next_attempt_at.eq(at),
                webhook_deliveries::created_at.eq(at),
            ))
            .execute(conn)?;
        n += 1;
    }
    Ok(n)
}

/// The webhook event of a lead's move from `from` to `to`: a return (approved →
/// disputed) is `returned`, a publisher's contest (rejected → disputed) `disputed`.
pub fn event_of_move(from: LeadStatus, to: LeadStatus) -> &'static str {
    use LeadStatus::*;
    match (from, to) {
        (Approved, Disputed) => "returned",
        (_, Disputed) => "disputed",
        (_, Approved) => "approved",
        (_, Rejected) => "rejected",
        (_, Reversed) => "reversed",
        (_, Pending) => "accepted",
    }
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub lead_id: i64,
    pub offer_id: i64,
    pub advertiser_id: i64,
    pub event: String,
    pub event_id: String,
    #[serde(skip)]
    pub body: String,
    pub sync: bool,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    #[serde(skip)]
    pub locked_until: Option<NaiveDateTime>,
    pub response_code: Option<i32>,
    pub response_excerpt: String,
    pub last_error: String,
    pub verdict: String,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// A delivery joined with what the sender needs of its endpoint.
pub struct Due {
    pub delivery: Delivery,
    pub url: String,
    pub secret: String,
    pub timeout_ms: i32,
}

/// An endpoint's delivery log, newest first.
pub fn for_webhook(conn: &mut DbConn, webhook_id: i64, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

pub fn for_lead(conn: &mut DbConn, lead_id: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::lead_id.eq(lead_id))
        .order(webhook_deliveries::id)
        .select(Delivery::as_select())
        .load(conn)
}

pub fn find_delivery(conn: &mut DbConn, id: i64) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table.find(id).select(Delivery::as_select()).first(conn).optional()
}

/// Claim up to `limit` due deliveries for `LEASE` (see `postbacks::claim_due`).
pub fn claim_due(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Due>> {
    let t = now();
    let due = || {
        webhook_deliveries::status
            .eq("pending")
            .and(webhook_deliveries::next_attempt_at.le(t))
            .and(webhook_deliveries::locked_until.is_null().or(webhook_deliveries::locked_until.lt(t)))
    };
    // A synchronous delivery first: a verdict is waited for.
    let candidates: Vec<i64> = webhook_deliveries::table
        .filter(due())
        .order((webhook_deliveries::sync.desc(), webhook_deliveries::next_attempt_at))
        .limit(limit)
        .select(webhook_deliveries::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let row: Option<Delivery> = diesel::update(webhook_deliveries::table.find(id).filter(due()))
            .set(webhook_deliveries::locked_until.eq(Some(t + LEASE)))
            .returning(webhook_deliveries::all_columns)
            .get_result(conn)
            .optional()?;
        if let Some(delivery) = row
            && let Some(hook) = find(conn, delivery.webhook_id)?
        {
            claimed.push(Due { delivery, url: hook.url, secret: hook.secret, timeout_ms: hook.timeout_ms });
        }
    }
    Ok(claimed)
}

/// The endpoint answered 2xx.
pub fn mark_delivered(conn: &mut DbConn, id: i64, code: i32, excerpt: &str) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq("delivered"),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::response_code.eq(Some(code)),
            webhook_deliveries::response_excerpt.eq(truncate(excerpt, EXCERPT_CHARS)),
            webhook_deliveries::last_error.eq(""),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::delivered_at.eq(Some(now())),
        ))
        .execute(conn)
}

/// A failed attempt: retried with the publisher postbacks' backoff, given up after
/// `MAX_ATTEMPTS`.
pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    attempts_before: i32,
    code: Option<i32>,
    excerpt: &str,
    error: &str,
    base: Duration,
) -> QueryResult<AfterFailure> {
    let attempts = attempts_before + 1;
    let t = now();
    let (status, after, next) = if attempts >= MAX_ATTEMPTS {
        ("failed", AfterFailure::GaveUp, t)
    } else {
        let at = t + retry_delay(attempts, base);
        ("pending", AfterFailure::RetryAt(at), at)
    };
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::response_code.eq(code),
            webhook_deliveries::response_excerpt.eq(truncate(excerpt, EXCERPT_CHARS)),
            webhook_deliveries::last_error.eq(truncate(error, ERROR_CHARS)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(after)
}

/// The guard refused the target: never retried (a replay tries again).
pub fn mark_blocked(conn: &mut DbConn, id: i64, reason: &str) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq("blocked"),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_error.eq(truncate(reason, ERROR_CHARS)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// What became of a synchronous answer's verdict (`approved`, `rejected`, or why
/// it was not applied).
pub fn set_verdict(conn: &mut DbConn, id: i64, verdict: &str) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set(webhook_deliveries::verdict.eq(truncate(verdict, ERROR_CHARS)))
        .execute(conn)
}

/// Queue a delivery again now, with the same body and event id (the receiver can
/// tell it is the same event); its attempts start over.
pub fn replay(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now()),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            // A replayed answer is never a verdict: the lead was decided, or waits.
            webhook_deliveries::sync.eq(false),
        ))
        .execute(conn)
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_renames_then_adds_constants() {
        let m: Mapping = serde_json::from_value(json!({
            "rename": {"email": "contact_email", "lead_id": "external_ref"},
            "constants": {"source": "qualead", "status": "new"}
        }))
        .expect("mapping");
        assert_eq!(m.check(), Ok(()));
        let mut p = Map::new();
        p.insert("email".into(), json!("a@b.example"));
        p.insert("lead_id".into(), json!(7));
        p.insert("status".into(), json!("pending"));
        let out = m.apply(p);
        assert_eq!(
            Value::Object(out),
            json!({"contact_email": "a@b.example", "external_ref": 7, "source": "qualead", "status": "new"})
        );
    }

    #[test]
    fn a_bad_mapping_says_which_entry() {
        let m: Mapping = serde_json::from_value(json!({"rename": {"email": ""}})).expect("mapping");
        assert!(m.check().expect_err("refused").contains("mapping.rename.email"));
        let m: Mapping = serde_json::from_value(json!({"constants": {"x": {"y": 1}}})).expect("mapping");
        assert!(m.check().expect_err("refused").contains("mapping.constants.x"));
        assert!(serde_json::from_value::<Mapping>(json!({"renames": {}})).is_err());
    }

    #[test]
    fn moves_name_their_events() {
        use LeadStatus::*;
        assert_eq!(event_of_move(Approved, Disputed), "returned");
        assert_eq!(event_of_move(Rejected, Disputed), "disputed");
        assert_eq!(event_of_move(Pending, Rejected), "rejected");
        assert_eq!(event_of_move(Disputed, Reversed), "reversed");
        assert_eq!(event_of_move(Disputed, Approved), "approved");
    }
}
