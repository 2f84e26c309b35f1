//! Group commit for clicks. Handlers hand a click to the writer and wait for its
//! batch to commit before they answer with the redirect: a shopper who got a 302
//! has a click in the database, even if the process dies right after.

use std::sync::Arc;

use tokio::sync::watch;

use crate::db::DbPool;
use crate::store::clicks::{self, NewClick};
use crate::tracking::group_commit::{Batching, GroupCommit, WriterConn};

/// The handlers' side: submit a click, learn whether it committed.
#[derive(Clone)]
pub struct ClickWriter(GroupCommit<NewClick, bool>);

/// Most clicks one transaction carries.
const MAX_BATCH: usize = 2048;

impl ClickWriter {
    /// Start `writers` writer threads on `pool`, each waiting `linger` for a batch to
    /// fill under load and running at nice value `nice`; they drain what is queued
    /// and stop when `shutdown` flips.
    pub fn start(
        pool: DbPool,
        writers: usize,
        linger: std::time::Duration,
        nice: i32,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<(ClickWriter, tokio::task::JoinHandle<()>)> {
        let (writer, handle) = GroupCommit::start(
            "click-writer",
            writers,
            Batching { max: MAX_BATCH, linger, nice },
            pool,
            shutdown,
            Arc::new(|conn: &mut WriterConn, batch: Vec<NewClick>| {
                let n = batch.len();
                vec![commit(conn, &batch); n]
            }),
        )?;
        Ok((ClickWriter(writer), handle))
    }

    /// Answer this thread's clicks through one wake per batch (call it on an HTTP
    /// worker thread; see [`GroupCommit::serve_this_thread`]).
    pub fn serve_this_thread(&self) {
        self.0.serve_this_thread();
    }

    /// Queue a click and wait until its batch is committed; `false` if it was not.
    pub async fn write(&self, click: NewClick) -> bool {
        self.0.submit(click).await.unwrap_or(false)
    }
}

fn commit(conn: &mut WriterConn, rows: &[NewClick]) -> bool {
    // A busy database or a lost connection is usually momentary: retry with backoff
    // before a click is reported as not stored.
    for attempt in 0..4u32 {
        match conn.run(|c| Ok(clicks::insert_batch(c, rows)?)) {
            Ok(_) => return true,
            Err(e) => {
                tracing::error!(error = %e, clicks = rows.len(), attempt, "click batch failed to commit");
                std::thread::sleep(std::time::Duration::from_millis(50 << attempt));
            }
        }
    }
    false
}
