//! Group commit for clicks. Handlers hand a click to the writer and wait for its
//! batch to commit before they answer with the redirect: a shopper who got a 302
//! has a click in the database, even if the process dies right after.

use std::sync::Arc;

use tokio::sync::watch;

use crate::db::{self, DbPool};
use crate::store::clicks::{self, NewClick};
use crate::tracking::group_commit::GroupCommit;

/// The handlers' side: submit a click, learn whether it committed.
#[derive(Clone)]
pub struct ClickWriter(GroupCommit<NewClick, bool>);

/// Most clicks one transaction carries.
const MAX_BATCH: usize = 2048;

impl ClickWriter {
    /// Start the writer task; it drains what is queued and stops when `shutdown` flips.
    pub fn start(pool: DbPool, shutdown: watch::Receiver<bool>) -> (ClickWriter, tokio::task::JoinHandle<()>) {
        let (writer, handle) = GroupCommit::start(
            MAX_BATCH,
            shutdown,
            Box::new(move |batch| {
                let pool = pool.clone();
                Box::pin(async move {
                    let n = batch.len();
                    let ok = commit(&pool, batch).await;
                    vec![ok; n]
                })
            }),
        );
        (ClickWriter(writer), handle)
    }

    /// Queue a click and wait until its batch is committed; `false` if it was not.
    pub async fn write(&self, click: NewClick) -> bool {
        self.0.submit(click).await.unwrap_or(false)
    }
}

async fn commit(pool: &DbPool, rows: Vec<NewClick>) -> bool {
    let n = rows.len();
    // A busy database or an exhausted pool is usually momentary: retry with backoff
    // before a click is reported as not stored.
    let rows = Arc::new(rows);
    for attempt in 0..4u32 {
        let batch = rows.clone();
        match db::run(pool, move |c| Ok(clicks::insert_batch(c, &batch)?)).await {
            Ok(_) => return true,
            Err(e) => {
                tracing::error!(error = %e, clicks = n, attempt, "click batch failed to commit");
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    false
}
