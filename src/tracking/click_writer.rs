//! Group commit for clicks. Handlers hand a click to the writer and wait for its
//! batch to commit before they answer with the redirect: a shopper who got a 302
//! has a click in the database, even if the process dies right after. While one
//! batch commits, the next one fills, so throughput grows with load.

use tokio::sync::{mpsc, oneshot, watch};

use crate::db::{self, DbPool};
use crate::store::clicks::{self, NewClick};

type Job = (NewClick, oneshot::Sender<bool>);

/// The handlers' side: submit a click, learn whether it committed.
#[derive(Clone)]
pub struct ClickWriter {
    tx: mpsc::Sender<Job>,
}

/// Most clicks one transaction carries.
const MAX_BATCH: usize = 2048;

impl ClickWriter {
    /// Start the writer task; it drains what is queued and stops when `shutdown` flips.
    pub fn start(pool: DbPool, shutdown: watch::Receiver<bool>) -> (ClickWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(16 * 1024);
        let handle = tokio::spawn(run(pool, rx, shutdown));
        (ClickWriter { tx }, handle)
    }

    /// Queue a click and wait until its batch is committed; `false` if it was not.
    pub async fn write(&self, click: NewClick) -> bool {
        let (done, wait) = oneshot::channel();
        if self.tx.send((click, done)).await.is_err() {
            return false;
        }
        wait.await.unwrap_or(false)
    }
}

async fn run(pool: DbPool, mut rx: mpsc::Receiver<Job>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let first = tokio::select! {
            job = rx.recv() => job,
            _ = shutdown.changed() => {
                // Stop taking new work, then commit everything already queued.
                rx.close();
                while let Some(job) = rx.recv().await {
                    let mut batch = vec![job];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() { Ok(j) => batch.push(j), Err(_) => break }
                    }
                    commit(&pool, batch).await;
                }
                return;
            }
        };
        let Some(first) = first else { return };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(&pool, batch).await;
    }
}

async fn commit(pool: &DbPool, batch: Vec<Job>) {
    let (rows, acks): (Vec<NewClick>, Vec<oneshot::Sender<bool>>) = batch.into_iter().unzip();
    let n = rows.len();
    // A busy database or an exhausted pool is usually momentary: retry with backoff
    // before a click is reported as not stored.
    let rows = std::sync::Arc::new(rows);
    let mut ok = false;
    for attempt in 0..4u32 {
        let batch = rows.clone();
        match db::run(pool, move |c| Ok(clicks::insert_batch(c, &batch)?)).await {
            Ok(_) => {
                ok = true;
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, clicks = n, attempt, "click batch failed to commit");
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    for ack in acks {
        let _ = ack.send(ok);
    }
}
