//! E-mail: templates render into the outbox table inside the caller's transaction;
//! a background worker sends through SMTP (`QUALEAD_SMTP_URL`) or writes `.eml`
//! files under `data/outbox/`. A failed send is retried and logged, never lost.

pub mod templates;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport};
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
    Files(FileTransport),
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
                Ok(Mailer::Files(FileTransport::new(dir)))
            }
        }
    }

    fn send(&self, message: &Message) -> anyhow::Result<()> {
        match self {
            Mailer::Smtp(t) => t.send(message).map(|_| ()).map_err(anyhow::Error::from),
            Mailer::Files(t) => t.send(message).map(|_| ()).map_err(anyhow::Error::from),
        }
    }
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
            let result = build_message(&from, email).and_then(|m| mailer.send(&m));
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
