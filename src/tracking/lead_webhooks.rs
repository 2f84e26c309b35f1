//! Platform → advertiser lead webhooks (DESIGN §6a): a background task claims due
//! rows of `webhook_deliveries` (queued by `store::webhooks` with the lead event),
//! POSTs each JSON body signed with the endpoint's secret, and records the answer;
//! a failure is retried with the publisher postbacks' backoff, through the same
//! private-target guard. A synchronous endpoint's answer to a new lead may carry
//! the advertiser's verdict, applied like the advertiser's own early decision.

use std::time::Duration;

use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::acting::Acting;
use crate::config::Config;
use crate::db::{self, DbConn, DbPool};
use crate::domain::lifecycle::RETURN_REASONS;
use crate::domain::tracking::clean;
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::settlement::{actions, verdicts};
use crate::store::postbacks::AfterFailure;
use crate::store::users;
use crate::store::webhooks::{self, Due};
use crate::tracking::publisher_postbacks::{BATCH, Outcome, PostbackSignal, Sender, error_text, poll_deliveries};

/// The longest an ordinary (not synchronous) delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer is read (a verdict is small).
const READ_LIMIT: usize = 16 * 1024;
const USER_AGENT: &str = concat!("Qualead-Webhook/", env!("CARGO_PKG_VERSION"));

/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
/// keyed with the endpoint's secret (its UTF-8 bytes, `whsec_` included).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

struct Worker {
    sender: Sender,
    metrics: Metrics,
    config: Config,
    signal: PostbackSignal,
}

pub fn start(
    pool: DbPool,
    config: &Config,
    metrics: Metrics,
    signal: PostbackSignal,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let worker = Worker { sender: Sender::new(config, metrics.clone())?, metrics, config: config.clone(), signal };
    Ok(tokio::spawn(run(pool, worker, shutdown)))
}

async fn run(pool: DbPool, worker: Worker, shutdown: watch::Receiver<bool>) {
    poll_deliveries("lead webhooks", &worker.signal.1, shutdown, || worker.deliver_due(&pool)).await;
}

/// What an attempt brought back.
struct Answer {
    outcome: Outcome,
    excerpt: String,
    body: String,
}

impl Worker {
    async fn deliver_due(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let batch = db::run(pool, |c| Ok(webhooks::claim_due(c, BATCH)?)).await?;
        join_all(batch.iter().map(|d| self.deliver(pool, d))).await;
        Ok(batch.len())
    }

    async fn deliver(&self, pool: &DbPool, due: &Due) {
        let d = &due.delivery;
        let timeout = if d.sync {
            Duration::from_millis(u64::try_from(due.timeout_ms.clamp(100, webhooks::MAX_TIMEOUT_MS)).unwrap_or(3000))
        } else {
            TIMEOUT
        };
        let answer = self.attempt(due, timeout).await;
        let (id, attempts, lead_id, base) = (d.id, d.attempts, d.lead_id, self.sender.retry_base);
        let verdict = match &answer.outcome {
            Outcome::Delivered(_) if d.sync => parse_verdict(&answer.body),
            _ => None,
        };
        let excerpt = answer.excerpt.clone();
        let label = match &answer.outcome {
            Outcome::Delivered(_) => "delivered",
            Outcome::Blocked(_) => "blocked",
            Outcome::Failed { .. } => "retry",
        };
        let recorded = db::run(pool, move |c| {
            Ok(match answer.outcome {
                Outcome::Delivered(code) => {
                    webhooks::mark_delivered(c, id, i32::from(code), &excerpt)?;
                    None
                }
                Outcome::Blocked(reason) => {
                    webhooks::mark_blocked(c, id, &reason)?;
                    None
                }
                Outcome::Failed { code, error } => {
                    Some(webhooks::mark_failed(c, id, attempts, code.map(i32::from), &excerpt, &error, base)?)
                }
            })
        })
        .await;
        match recorded {
            Ok(Some(AfterFailure::GaveUp)) => {
                tracing::warn!(id, lead_id, "lead webhook given up after every retry");
                self.metrics.lead_webhooks.with_label_values(&["failed"]).inc();
            }
            Ok(_) => self.metrics.lead_webhooks.with_label_values(&[label]).inc(),
            Err(e) => tracing::warn!(id, error = %e, "lead webhook: cannot record the attempt"),
        }
        if let Some(v) = verdict {
            self.apply_verdict(pool, due, v).await;
        }
    }

    async fn attempt(&self, due: &Due, timeout: Duration) -> Answer {
        let none = |outcome| Answer { outcome, excerpt: String::new(), body: String::new() };
        let (url, client) = match self.sender.client_for(&due.url).await {
            Ok(pair) => pair,
            Err(refused) => return none(refused),
        };
        let d = &due.delivery;
        let t = chrono::Utc::now().timestamp();
        let request = client
            .post(url)
            .timeout(timeout)
            .header("user-agent", USER_AGENT)
            .header("content-type", "application/json")
            .header("qualead-signature", signature(&due.secret, t, &d.body))
            .header("qualead-event", &d.event)
            .header("qualead-event-id", &d.event_id)
            .body(d.body.clone());
        let send = async {
            let mut resp = request.send().await?;
            let code = resp.status();
            let mut body = Vec::new();
            while body.len() < READ_LIMIT {
                match resp.chunk().await? {
                    Some(bytes) => body.extend_from_slice(&bytes),
                    None => break,
                }
            }
            Ok::<_, reqwest::Error>((code, String::from_utf8_lossy(&body).into_owned()))
        };
        // The whole exchange, body included, within the timeout.
        match tokio::time::timeout(timeout, send).await {
            Err(_) => none(Outcome::Failed { code: None, error: "timed out".into() }),
            Ok(Err(e)) => none(Outcome::Failed { code: None, error: error_text(&e) }),
            Ok(Ok((code, body))) => {
                let excerpt = clean(body.trim(), 200);
                let outcome = if code.is_success() {
                    Outcome::Delivered(code.as_u16())
                } else {
                    Outcome::Failed { code: Some(code.as_u16()), error: format!("HTTP {}", code.as_u16()) }
                };
                Answer { outcome, excerpt, body }
            }
        }
    }

    /// Apply a synchronous verdict with the advertiser's own early decision, and
    /// note in the log what became of it.
    async fn apply_verdict(&self, pool: &DbPool, due: &Due, v: Verdict) {
        let d = &due.delivery;
        let (id, lead_id, advertiser_id) = (d.id, d.lead_id, d.advertiser_id);
        let who = |user| Acting::new(user, None, &self.config);
        let who = match db::run(pool, move |c| users::find(c, advertiser_id)?.ok_or(AppError::NotFound)).await {
            Ok(user) => who(user),
            Err(e) => return tracing::warn!(id, error = %e, "lead webhook: the advertiser is gone"),
        };
        let note = db::run(pool, move |c| Ok(decide(c, &who, id, lead_id, &v))).await;
        match note {
            Ok(note) => {
                tracing::info!(id, lead_id, verdict = %note, "lead webhook: synchronous verdict");
                self.signal.wake();
            }
            Err(e) => tracing::warn!(id, error = %e, "lead webhook: cannot record the verdict"),
        }
    }
}

/// Decide the lead in one transaction (or record why not) and log the outcome.
fn decide(c: &mut DbConn, who: &Acting, id: i64, lead_id: i64, v: &Verdict) -> String {
    let applied = c.write_tx(|c| {
        // An early decision queues only postbacks and lead webhooks (no e-mail, no
        // change of a link): the caller wakes this very worker's signal, which is
        // the whole of it.
        let (_lead, _queued) = actions::decide_early(c, who, lead_id, v.approve, &v.reason, &v.comment)?;
        let kind = if v.approve { verdicts::Verdict::Approved } else { verdicts::Verdict::Rejected };
        verdicts::record_one(c, who, lead_id, verdicts::Channel::Webhook, kind, &v.reason, &v.comment)?;
        let verdict = if v.approve { "approved" } else { "rejected" };
        webhooks::set_verdict(c, id, verdict)?;
        Ok::<_, AppError>(verdict.to_string())
    });
    match applied {
        Ok(note) => note,
        Err(e) => {
            let note = format!("not applied: {e}");
            if let Err(e) = webhooks::set_verdict(c, id, &note) {
                tracing::warn!(id, error = %e, "lead webhook: cannot note the verdict");
            }
            note
        }
    }
}

/// A synchronous answer's verdict on the new lead.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    approve: bool,
    reason: String,
    comment: String,
}

/// `{"status": "approved"}` or `{"status": "rejected", "reason": "…"}`; anything else
/// is no verdict. A reason that is not one of the return reasons (DESIGN §6)
/// becomes `other` with the advertiser's text as the comment.
fn parse_verdict(body: &str) -> Option<Verdict> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let reason_text = v.get("reason").and_then(|r| r.as_str()).unwrap_or("").trim().to_string();
    match v.get("status")?.as_str()? {
        "approved" => {
            let comment = if reason_text.is_empty() { "by the advertiser's webhook".to_string() } else { reason_text };
            Some(Verdict { approve: true, reason: String::new(), comment: comment.chars().take(2000).collect() })
        }
        "rejected" => {
            let (reason, comment) = if RETURN_REASONS.contains(&reason_text.as_str()) {
                (reason_text, "by the advertiser's webhook".to_string())
            } else if reason_text.is_empty() {
                ("other".to_string(), "rejected by the advertiser's webhook".to_string())
            } else {
                ("other".to_string(), reason_text.chars().take(2000).collect())
            };
            Some(Verdict { approve: false, reason, comment })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_an_hmac_of_the_timestamp_and_the_body() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(signature("whsec_test", 1, "x"), signature("whsec_other", 1, "x"));
    }

    #[test]
    fn verdicts_are_read_from_json_only() {
        assert_eq!(parse_verdict("ok"), None);
        assert_eq!(parse_verdict(r#"{"status":"received"}"#), None);
        assert!(parse_verdict(r#"{"status":"approved"}"#).expect("verdict").approve);
        let v = parse_verdict(r#"{"status":"rejected","reason":"duplicate"}"#).expect("verdict");
        assert_eq!((v.approve, v.reason.as_str()), (false, "duplicate"));
        let v = parse_verdict(r#"{"status":"rejected","reason":"not in our area"}"#).expect("verdict");
        assert_eq!((v.reason.as_str(), v.comment.as_str()), ("other", "not in our area"));
    }
}
