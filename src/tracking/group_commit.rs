//! Group commit: handlers hand a job to one writer task and wait for the answer;
//! the writer takes everything queued (up to a batch size) and commits it in one
//! database transaction. While one batch commits the next one fills, so throughput
//! grows with load and every answer is given only after its batch is durable.
//! Clicks and conversions both go through this.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot, watch};

type Job<J, R> = (J, oneshot::Sender<R>);

/// What a writer does with one batch: one answer per job, in order.
pub type Process<J, R> = Box<dyn Fn(Vec<J>) -> Pin<Box<dyn Future<Output = Vec<R>> + Send>> + Send + Sync>;

/// The handlers' side of a writer.
pub struct GroupCommit<J, R> {
    tx: mpsc::Sender<Job<J, R>>,
}

impl<J, R> Clone for GroupCommit<J, R> {
    fn clone(&self) -> Self {
        GroupCommit { tx: self.tx.clone() }
    }
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Start the writer task; when `shutdown` flips it stops taking work, finishes
    /// everything already queued, and ends.
    pub fn start(
        max_batch: usize,
        shutdown: watch::Receiver<bool>,
        process: Process<J, R>,
    ) -> (GroupCommit<J, R>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(16 * 1024);
        let handle = tokio::spawn(run(rx, shutdown, max_batch, process));
        (GroupCommit { tx }, handle)
    }

    /// Queue a job and wait for its batch; `None` if the writer is gone.
    pub async fn submit(&self, job: J) -> Option<R> {
        let (done, wait) = oneshot::channel();
        self.tx.send((job, done)).await.ok()?;
        wait.await.ok()
    }
}

async fn run<J, R>(
    mut rx: mpsc::Receiver<Job<J, R>>,
    mut shutdown: watch::Receiver<bool>,
    max_batch: usize,
    process: Process<J, R>,
) {
    let mut stopping = false;
    loop {
        let first = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                job = rx.recv() => job,
                _ = shutdown.changed() => {
                    // Stop taking new work, then commit everything already queued.
                    rx.close();
                    stopping = true;
                    continue;
                }
            }
        };
        let Some(first) = first else { return };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (jobs, acks): (Vec<J>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
        let results = process(jobs).await;
        for (ack, result) in acks.into_iter().zip(results) {
            let _ = ack.send(result);
        }
    }
}
