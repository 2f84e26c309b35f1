//! E-mail: templates render into the outbox table inside the caller's transaction;
//! a background worker sends through SMTP (`QUALEAD_SMTP_URL`) or writes `.eml`
//! files under `data/outbox/`. A failed send is retried and logged, never lost.

pub mod templates;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::store::outbox::{self, OutboxEmail};

pub use templates::Email;

/// Render `email` and queue it for `to`, in the caller's transaction.
pub fn enqueue(conn: &mut DbConn, to: &str, email: &dyn Email) -> anyhow::Result<i64> {
    let (text, html) = (email.text()?, email.html()?);
    Ok(outbox::enqueue(conn, to, &email.subject(), &text, &html)?)
}

/// Where e-mails go.
#[derive(Clone)]
pub enum Mailer {
    Smtp(Box<SmtpTransport>),
    /// `.eml` files in this folder, named so a person can find one (see [`eml_name`]).
    Files(PathBuf),
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Mailer> {
        match &config.smtp_url {
            Some(url) => {
                let transport = SmtpTransport::from_url(url)
                    .with_context(|| "QUALEAD_SMTP_URL: cannot build an SMTP transport")?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Mailer::Smtp(Box::new(transport)))
            }
            None => {
                let dir = config.outbox_dir();
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                Ok(Mailer::Files(dir))
            }
        }
    }

    fn send(&self, email: &OutboxEmail, message: &Message) -> anyhow::Result<()> {
        match self {
            Mailer::Smtp(t) => t.send(message).map(|_| ()).map_err(anyhow::Error::from),
            Mailer::Files(dir) => {
                // Written whole under a temporary name, then renamed: a reader of the
                // folder never sees half an e-mail.
                let path = dir.join(eml_name(email, crate::store::now()));
                let partial = path.with_extension("eml.part");
                std::fs::write(&partial, message.formatted())
                    .and_then(|()| std::fs::rename(&partial, &path))
                    .with_context(|| format!("cannot write {}", path.display()))
            }
        }
    }
}

/// `20261207-221530-000042-ann-example-com-your-offer-is-live.eml`: when it was
/// sent, the outbox id (unique), the recipient and the subject, in letters, digits
/// and dashes only (any script: a Cyrillic subject stays readable).
pub fn eml_name(email: &OutboxEmail, at: chrono::NaiveDateTime) -> String {
    fn slug(text: &str, max: usize) -> String {
        let mut out = String::new();
        for c in text.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            if out.chars().count() >= max {
                break;
            }
        }
        out.trim_end_matches('-').to_string()
    }
    format!(
        "{}-{:06}-{}-{}.eml",
        at.format("%Y%m%d-%H%M%S"),
        email.id,
        slug(&email.to_addr, 40),
        slug(&email.subject, 60)
    )
}

fn build_message(from: &Mailbox, email: &OutboxEmail) -> anyhow::Result<Message> {
    let to: Mailbox = email.to_addr.parse().with_context(|| format!("bad recipient {:?}", email.to_addr))?;
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject.clone())
        .multipart(MultiPart::alternative_plain_html(email.text_body.clone(), email.html_body.clone()))?)
}

/// Handle to wake the outbox worker after queueing an e-mail.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Send due e-mails until `shutdown` flips. Polls every few seconds (other processes
/// may have queued mail) and wakes at once when this process queues one.
pub async fn run_outbox_worker(
    pool: DbPool,
    mailer: Mailer,
    from: Mailbox,
    signal: OutboxSignal,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match send_due(&pool, &mailer, &from).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox: cannot read the queue"),
        }
        tokio::select! {
            _ = signal.0.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(3)) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// Claim and send one batch; returns how many were attempted.
pub async fn send_due(pool: &DbPool, mailer: &Mailer, from: &Mailbox) -> anyhow::Result<usize> {
    let pool = pool.clone();
    let mailer = mailer.clone();
    let from = from.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = pool.get()?;
        let batch = outbox::claim_due(&mut conn, 20)?;
        for email in &batch {
            let result = build_message(&from, email).and_then(|m| mailer.send(email, &m));
            match result {
                Ok(()) => {
                    outbox::mark_sent(&mut conn, email.id)?;
                    tracing::info!(id = email.id, to = %email.to_addr, subject = %email.subject, "e-mail sent");
                }
                Err(e) => {
                    tracing::warn!(id = email.id, to = %email.to_addr, attempt = email.attempts + 1, error = %e, "e-mail failed; will retry");
                    outbox::mark_attempt_failed(&mut conn, email.id, email.attempts, &e.to_string())?;
                }
            }
        }
        Ok(batch.len())
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eml_names_say_when_whom_and_what() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(22, 15, 30)).expect("time");
        let email = |to: &str, subject: &str| OutboxEmail {
            id: 42,
            to_addr: to.into(),
            subject: subject.into(),
            text_body: String::new(),
            html_body: String::new(),
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            created_at: at,
            sent_at: None,
        };
        assert_eq!(
            eml_name(&email("Ann@Example.com", "Your offer \"Roofs\" is live!"), at),
            "20261207-221530-000042-ann-example-com-your-offer-roofs-is-live.eml"
        );
        assert_eq!(
            eml_name(&email("иван@пример.рф", "Заявка №7 принята"), at),
            "20261207-221530-000042-иван-пример-рф-заявка-7-принята.eml"
        );
        let long = eml_name(&email("a@b.c", &"word ".repeat(40)), at);
        assert!(long.len() < 140 && !long.contains("--") && long.ends_with(".eml"), "{long}");
    }
}
