//! The e-mail outbox. An e-mail is a row written in the same transaction as the
//! event that causes it; a worker sends it later, with retries. Claims are
//! conditional updates with a lease, so several server processes can share the table.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::email_outbox;
use crate::store::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_outbox)]
pub struct OutboxEmail {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// After this many failed attempts an e-mail is marked `failed` and left for an admin.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claimed e-mail stays with one sender before another may retry it.
const LEASE: Duration = Duration::minutes(5);

pub fn enqueue(conn: &mut DbConn, to: &str, subject: &str, text: &str, html: &str) -> QueryResult<i64> {
    let t = now();
    diesel::insert_into(email_outbox::table)
        .values((
            email_outbox::to_addr.eq(to),
            email_outbox::subject.eq(subject),
            email_outbox::text_body.eq(text),
            email_outbox::html_body.eq(html),
            email_outbox::status.eq("queued"),
            email_outbox::attempts.eq(0),
            email_outbox::next_attempt_at.eq(t),
            email_outbox::created_at.eq(t),
        ))
        .returning(email_outbox::id)
        .get_result(conn)
}

/// Claim up to `limit` due e-mails: queued ones whose time has come, and ones whose
/// sender's lease ran out (a process that died mid-send).
pub fn claim_due(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<OutboxEmail>> {
    let t = now();
    let due = || {
        email_outbox::status
            .eq("queued")
            .or(email_outbox::status.eq("sending"))
            .and(email_outbox::next_attempt_at.le(t))
    };
    let candidates: Vec<i64> =
        email_outbox::table.filter(due()).order(email_outbox::id).limit(limit).select(email_outbox::id).load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let row = diesel::update(email_outbox::table.find(id).filter(due()))
            .set((email_outbox::status.eq("sending"), email_outbox::next_attempt_at.eq(t + LEASE)))
            .returning(email_outbox::all_columns)
            .get_result(conn)
            .optional()?;
        claimed.extend(row);
    }
    Ok(claimed)
}

pub fn mark_sent(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    let t = now();
    diesel::update(email_outbox::table.find(id))
        .set((
            email_outbox::status.eq("sent"),
            email_outbox::sent_at.eq(Some(t)),
            // The bodies may hold live one-time links (reset, verification): once
            // delivered, the database keeps only who got what subject when.
            email_outbox::text_body.eq(""),
            email_outbox::html_body.eq(""),
            email_outbox::attempts.eq(email_outbox::attempts + 1),
            email_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Record a failed attempt: retry later with exponential backoff, or give up.
pub fn mark_attempt_failed(conn: &mut DbConn, id: i64, attempts_before: i32, error: &str) -> QueryResult<usize> {
    let attempts = attempts_before + 1;
    let (status, delay) =
        if attempts >= MAX_ATTEMPTS { ("failed", Duration::zero()) } else { ("queued", retry_delay(attempts)) };
    diesel::update(email_outbox::table.find(id))
        .set((
            email_outbox::status.eq(status),
            email_outbox::attempts.eq(attempts),
            email_outbox::next_attempt_at.eq(now() + delay),
            email_outbox::last_error.eq(Some(error.chars().take(500).collect::<String>())),
        ))
        .execute(conn)
}

/// 30 s, 1 min, 2 min, 4 min … capped at one hour.
pub fn retry_delay(attempts: i32) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << (attempts - 1).clamp(0, 20));
    Duration::seconds(secs.min(3600))
}

/// E-mails waiting to be sent and e-mails given up on, for `/metrics`.
pub fn counts(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    let queued =
        email_outbox::table.filter(email_outbox::status.eq_any(["queued", "sending"])).count().get_result(conn)?;
    let failed = email_outbox::table.filter(email_outbox::status.eq("failed")).count().get_result(conn)?;
    Ok((queued, failed))
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(retry_delay(1).num_seconds(), 30);
        assert_eq!(retry_delay(2).num_seconds(), 60);
        assert_eq!(retry_delay(4).num_seconds(), 240);
        assert_eq!(retry_delay(30).num_seconds(), 3600);
    }
}
