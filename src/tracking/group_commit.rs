//! Group commit: handlers hand a job to the writers and wait for the answer; a
//! writer takes everything queued (up to a batch size) and commits it in one
//! database transaction. While one batch commits the next one fills, so throughput
//! grows with load and every answer is given only after its batch is durable.
//! Clicks and conversions both go through this.
//!
//! Writers are threads of their own, each keeping one connection of the writers'
//! pool between batches: a batch costs no pool check-out (whose health check is a
//! round trip), no hop through the blocking pool, only its statements. With more
//! than one writer (PostgreSQL) one batch's statements run while another's commit
//! waits for its flush.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::db::{DbConn, DbPool, PooledDb};
use crate::error::AppError;

/// Where to answer a job, and the mailbox of the thread that waits (if it has one).
type Ack<R> = (oneshot::Sender<R>, Option<Arc<Mailbox<R>>>);

/// A job and where to answer it.
type Job<J, R> = (J, Ack<R>);

/// An answer ready to send.
type Answer<R> = (oneshot::Sender<R>, R);

/// The answers for the handlers of one HTTP worker thread, handed over together.
/// Waking a task on another thread is a system call (an `eventfd` write) per task;
/// a writer that answers a batch puts the answers of each thread in its mailbox
/// and wakes that thread's dispatcher once, which then wakes its own handlers
/// without leaving the thread.
struct Mailbox<R> {
    answers: Mutex<Vec<Answer<R>>>,
    ready: Notify,
}

impl<R> Mailbox<R> {
    /// Hand over one thread's answers and wake its dispatcher.
    fn deliver(&self, answers: Vec<Answer<R>>) {
        match self.answers.lock() {
            Ok(mut queued) => queued.extend(answers),
            // A dispatcher that panicked holds nothing: answer directly.
            Err(_) => answers.into_iter().for_each(|(tx, r)| drop(tx.send(r))),
        }
        self.ready.notify_one();
    }

    /// The dispatcher: each time it is woken, answer everything delivered so far.
    async fn dispatch(self: Arc<Self>) {
        loop {
            self.ready.notified().await;
            let answers = match self.answers.lock() {
                Ok(mut queued) => std::mem::take(&mut *queued),
                Err(_) => return,
            };
            for (tx, r) in answers {
                let _ = tx.send(r);
            }
        }
    }
}

type Mailboxes<R> = Arc<Mutex<Vec<(ThreadId, Arc<Mailbox<R>>)>>>;

/// How a writer gathers a batch.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most jobs one batch carries.
    pub max: usize,
    /// Under load, how long a writer waits after the first job of a batch for more
    /// to arrive. A database whose commit returns at once (SQLite with
    /// `synchronous = NORMAL`: no flush) would otherwise commit batches of a few jobs
    /// each and spend its time on the fixed cost of a batch (the transaction, the
    /// rollup rows, the WAL frames, one wake per HTTP worker). A commit that waits
    /// for a flush (PostgreSQL) gathers the next batch while it waits: zero there.
    /// A writer that was idle (no batch began in the last `BUSY` lingers) does not
    /// wait: a lone click is not delayed.
    pub linger: Duration,
    /// The writer threads' nice value (0 leaves them as they are, 19 is the lowest
    /// priority). A writer of lower priority than the HTTP workers takes its next
    /// batch when they have handed over what they were parsing rather than in the
    /// middle of it, so batches come out bigger with no wait of its own: a core with
    /// nothing else to run runs it at once. See `docs/notes/tracking.md`.
    pub nice: i32,
}

/// A batch that begins within this many lingers of the previous one is under load.
const BUSY: u32 = 8;

/// What a writer does with one batch: one answer per job, in order.
pub type Process<J, R> = Arc<dyn Fn(&mut WriterConn, Vec<J>) -> Vec<R> + Send + Sync>;

/// The handlers' side of a set of writers.
pub struct GroupCommit<J, R> {
    /// `None` wakes a writer to stop: it drains what is queued and ends.
    tx: mpsc::Sender<Option<Job<J, R>>>,
    stopping: watch::Receiver<bool>,
    /// The threads that have a dispatcher (see [`GroupCommit::serve_this_thread`]).
    mailboxes: Mailboxes<R>,
}

impl<J, R> Clone for GroupCommit<J, R> {
    fn clone(&self) -> Self {
        GroupCommit { tx: self.tx.clone(), stopping: self.stopping.clone(), mailboxes: self.mailboxes.clone() }
    }
}

/// A writer's connection: kept between batches, given back after an error so the
/// next attempt starts on a fresh one.
pub struct WriterConn {
    pool: DbPool,
    conn: Option<PooledDb>,
}

impl WriterConn {
    /// Run `f` on the writer's connection (checked out when it has none).
    pub fn run<T>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, AppError>) -> Result<T, AppError> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.pool.get().map_err(|e| AppError::Internal(anyhow::anyhow!("database pool: {e}")))?,
        };
        let out = f(&mut conn);
        if out.is_ok() {
            self.conn = Some(conn);
        }
        out
    }
}

impl<J: Send + 'static, R: Send + 'static> GroupCommit<J, R> {
    /// Start `writers` threads named `name` on connections of `pool` (which should
    /// have a connection for each, with the session settings they need). When
    /// `shutdown` flips they stop taking work, finish everything already queued, and
    /// end; the handle resolves then.
    pub fn start(
        name: &str,
        writers: usize,
        batching: Batching,
        pool: DbPool,
        shutdown: watch::Receiver<bool>,
        process: Process<J, R>,
    ) -> std::io::Result<(GroupCommit<J, R>, tokio::task::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(16 * 1024);
        let rx = Arc::new(Mutex::new(rx));
        let stopped = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(writers);
        for i in 0..writers.max(1) {
            let (rx, stopped, process) = (rx.clone(), stopped.clone(), process.clone());
            let conn = WriterConn { pool: pool.clone(), conn: None };
            threads.push(std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || {
                lower_priority(batching.nice);
                write_batches(&rx, &stopped, conn, batching, &*process);
            })?);
        }
        let stopping = shutdown.clone();
        let stopper = tx.clone();
        let handle = tokio::spawn(stop_when(shutdown, stopper, threads));
        Ok((GroupCommit { tx, stopping, mailboxes: Arc::new(Mutex::new(Vec::new())) }, handle))
    }

    /// Give the calling thread a mailbox and a dispatcher task, so that the answers
    /// to its jobs arrive with one wake per batch instead of one per job. Call it on
    /// a thread that runs a `LocalSet` (an HTTP worker, when it builds its app);
    /// jobs from threads without one are answered directly.
    pub fn serve_this_thread(&self) {
        let here = std::thread::current().id();
        let Ok(mut boxes) = self.mailboxes.lock() else { return };
        if boxes.iter().any(|(id, _)| *id == here) {
            return;
        }
        let mailbox = Arc::new(Mailbox { answers: Mutex::new(Vec::new()), ready: Notify::new() });
        tokio::task::spawn_local(mailbox.clone().dispatch());
        boxes.push((here, mailbox));
    }

    fn mailbox_here(&self) -> Option<Arc<Mailbox<R>>> {
        let here = std::thread::current().id();
        let boxes = self.mailboxes.lock().ok()?;
        boxes.iter().find(|(id, _)| *id == here).map(|(_, m)| m.clone())
    }

    /// Queue a job and wait for its batch; `None` if the writers are stopping or gone.
    pub async fn submit(&self, job: J) -> Option<R> {
        if *self.stopping.borrow() {
            return None;
        }
        let (done, wait) = oneshot::channel();
        self.tx.send(Some((job, (done, self.mailbox_here())))).await.ok()?;
        wait.await.ok()
    }
}

/// One writer: take the first job (waiting for it), then whatever else is queued,
/// and process the batch. The writer that takes the stop message marks the set as
/// stopped, processes everything still queued and ends; the others end when they
/// next look at the queue.
fn write_batches<J, R>(
    rx: &Mutex<mpsc::Receiver<Option<Job<J, R>>>>,
    stopped: &AtomicBool,
    mut conn: WriterConn,
    batching: Batching,
    process: &(dyn Fn(&mut WriterConn, Vec<J>) -> Vec<R> + Send + Sync),
) {
    let max_batch = batching.max;
    let mut last_batch: Option<Instant> = None;
    loop {
        let mut batch = Vec::new();
        let mut stop = false;
        {
            let Ok(mut rx) = rx.lock() else { return };
            if stopped.load(Ordering::Acquire) {
                return;
            }
            match rx.blocking_recv() {
                Some(Some(job)) => batch.push(job),
                Some(None) => stop = true,
                None => return,
            }
            let under_load = last_batch.is_some_and(|t| t.elapsed() < batching.linger * BUSY);
            if !stop && under_load {
                std::thread::sleep(batching.linger);
            }
            last_batch = Some(Instant::now());
            while batch.len() < max_batch || stop {
                match rx.try_recv() {
                    Ok(Some(job)) => batch.push(job),
                    Ok(None) => stop = true,
                    Err(_) => break,
                }
            }
            if stop {
                stopped.store(true, Ordering::Release);
            }
        }
        while !batch.is_empty() {
            let rest = batch.split_off(batch.len().min(max_batch));
            let (jobs, acks): (Vec<J>, Vec<Ack<R>>) = std::mem::replace(&mut batch, rest).into_iter().unzip();
            let results = process(&mut conn, jobs);
            answer(acks, results);
        }
        if stop {
            return;
        }
    }
}

/// Lower the calling thread's priority to the nice value `nice`, if it runs above
/// it. Raising one's own nice value needs no privilege, and on Linux it is the
/// thread's own; elsewhere a nice value belongs to the whole process, so nothing
/// changes there.
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    {
        let me = Some(rustix::thread::gettid());
        let now = rustix::process::getpriority_process(me).unwrap_or(0);
        if nice > now
            && let Err(e) = rustix::process::setpriority_process(me, nice)
        {
            tracing::warn!(error = %e, nice, "cannot lower the writer thread's priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Answer a batch: through the mailboxes of the threads that have one (one wake
/// per thread), directly otherwise.
fn answer<R>(acks: Vec<Ack<R>>, results: Vec<R>) {
    type ForThread<R> = (Arc<Mailbox<R>>, Vec<Answer<R>>);
    let mut by_thread: Vec<ForThread<R>> = Vec::new();
    for ((tx, mailbox), result) in acks.into_iter().zip(results) {
        let Some(mailbox) = mailbox else {
            let _ = tx.send(result);
            continue;
        };
        match by_thread.iter_mut().find(|(m, _)| Arc::ptr_eq(m, &mailbox)) {
            Some((_, answers)) => answers.push((tx, result)),
            None => by_thread.push((mailbox, vec![(tx, result)])),
        }
    }
    for (mailbox, answers) in by_thread {
        mailbox.deliver(answers);
    }
}

/// Wait for `shutdown`, then send the stop message and wait for every writer.
async fn stop_when<J: Send + 'static, R: Send + 'static>(
    mut shutdown: watch::Receiver<bool>,
    tx: mpsc::Sender<Option<Job<J, R>>>,
    threads: Vec<JoinHandle<()>>,
) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    let _ = tx.send(None).await;
    drop(tx);
    let _ = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool of `size` connections on a fresh SQLite file (kept while the directory lives).
    fn sqlite_pool(size: u32) -> (tempfile::TempDir, DbPool) {
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite://{}", dir.path().join("gc.db").display());
        let pool = crate::db::connect(&url, size).expect("pool");
        (dir, pool)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_job_is_answered_in_order_and_a_stop_drains_the_queue() {
        let (_dir, pool) = sqlite_pool(2);
        let (stop, shutdown) = watch::channel(false);
        let batches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = batches.clone();
        let (writer, handle) = GroupCommit::start(
            "test-writer",
            2,
            Batching { max: 8, linger: Duration::ZERO, nice: 0 },
            pool,
            shutdown,
            Arc::new(move |conn: &mut WriterConn, jobs: Vec<u32>| {
                seen.fetch_add(1, Ordering::Relaxed);
                // Each batch really runs on the writer's connection.
                conn.run(|c| Ok(crate::db::checkpoint(c)?)).expect("connection");
                jobs.into_iter().map(|j| j * 2).collect()
            }),
        )
        .expect("start");
        let answers: Vec<_> = (0..200u32)
            .map(|n| {
                let w = writer.clone();
                tokio::spawn(async move { (n, w.submit(n).await) })
            })
            .collect();
        for a in answers {
            let (n, answer) = a.await.expect("task");
            assert_eq!(answer, Some(n * 2), "job {n}");
        }
        let n = batches.load(Ordering::Relaxed);
        assert!((25..=200).contains(&n), "at most 8 jobs a batch: {n} batches");

        stop.send(true).expect("stop");
        tokio::time::timeout(std::time::Duration::from_secs(10), handle).await.expect("writers end").expect("join");
        assert_eq!(writer.submit(1).await, None, "a stopped writer takes no work");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn under_load_a_writer_lingers_for_a_fuller_batch() {
        let (_dir, pool) = sqlite_pool(1);
        let (stop, shutdown) = watch::channel(false);
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let (writer, handle) = GroupCommit::start(
            "linger-writer",
            1,
            Batching { max: 64, linger: Duration::from_millis(500), nice: 0 },
            pool,
            shutdown,
            Arc::new(move |_: &mut WriterConn, jobs: Vec<u32>| {
                seen.lock().expect("lock").push(jobs.len());
                jobs
            }),
        )
        .expect("start");
        // An idle writer takes a lone job at once.
        assert_eq!(writer.submit(0).await, Some(0));
        // Right after a batch, jobs that trickle in a few milliseconds apart (each
        // would be a batch of its own without the linger) share one batch.
        let mut waiting = Vec::new();
        for n in 1..=10u32 {
            let w = writer.clone();
            waiting.push(tokio::spawn(async move { w.submit(n).await }));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for (n, w) in (1..=10u32).zip(waiting) {
            assert_eq!(w.await.expect("task"), Some(n));
        }
        assert_eq!(*sizes.lock().expect("lock"), vec![1, 10], "one batch for the lone job, one for the trickle");
        stop.send(true).expect("stop");
        tokio::time::timeout(Duration::from_secs(10), handle).await.expect("writers end").expect("join");
    }

    /// The nice value of the calling thread.
    #[cfg(target_os = "linux")]
    fn own_nice() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("getpriority")
    }

    #[cfg(target_os = "linux")]
    type NiceReporters = (tempfile::TempDir, watch::Sender<bool>, GroupCommit<u32, i32>, tokio::task::JoinHandle<()>);

    /// `writers` writers given the nice value `nice`, each job answered with the nice
    /// value its batch ran at (call it inside a runtime).
    #[cfg(target_os = "linux")]
    fn nice_reporters(writers: usize, nice: i32) -> NiceReporters {
        let (dir, pool) = sqlite_pool(writers as u32);
        let (stop, shutdown) = watch::channel(false);
        let (writer, handle) = GroupCommit::start(
            "nice-writer",
            writers,
            Batching { max: 4, linger: Duration::ZERO, nice },
            pool,
            shutdown,
            Arc::new(|_: &mut WriterConn, jobs: Vec<u32>| jobs.into_iter().map(|_| own_nice()).collect()),
        )
        .expect("start");
        (dir, stop, writer, handle)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writers_run_at_their_nice_value_and_leave_the_callers_alone() {
        let before = own_nice();
        let nice = (before + 7).min(19);
        assert!(nice > before, "the test thread already runs at the lowest priority");
        let (_dir, stop, writer, handle) = nice_reporters(2, nice);
        let answers: Vec<_> = (0..20u32)
            .map(|n| {
                let w = writer.clone();
                tokio::spawn(async move { w.submit(n).await })
            })
            .collect();
        for a in answers {
            assert_eq!(a.await.expect("task"), Some(nice), "every batch runs at the writers' nice value");
        }
        assert_eq!(own_nice(), before, "the thread that started the writers keeps its priority");
        stop.send(true).expect("stop");
        tokio::time::timeout(Duration::from_secs(10), handle).await.expect("writers end").expect("join");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_writer_never_runs_above_the_priority_it_was_started_with() {
        // Threads start at their creator's nice value: start the writer from a thread
        // already below the one it is given.
        let low = (own_nice() + 5).min(19);
        let seen = std::thread::spawn(move || {
            rustix::process::setpriority_process(Some(rustix::thread::gettid()), low).expect("lower");
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let (_dir, stop, writer, handle) = nice_reporters(1, low - 3);
                let seen = writer.submit(1).await;
                stop.send(true).expect("stop");
                tokio::time::timeout(Duration::from_secs(10), handle).await.expect("writers end").expect("join");
                seen
            })
        })
        .join()
        .expect("thread");
        assert_eq!(seen, Some(low), "the writer kept the lower priority it inherited");
    }

    #[test]
    fn a_thread_with_a_mailbox_gets_its_answers_through_it_and_others_directly() {
        let (_dir, pool) = sqlite_pool(1);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let (stop, shutdown) = watch::channel(false);
            let (writer, handle) = GroupCommit::start(
                "mailbox-writer",
                1,
                Batching { max: 16, linger: Duration::from_micros(200), nice: 0 },
                pool,
                shutdown,
                Arc::new(|_: &mut WriterConn, jobs: Vec<u32>| jobs.into_iter().map(|j| j + 1).collect()),
            )
            .expect("start");
            writer.serve_this_thread();
            writer.serve_this_thread(); // a second call changes nothing
            assert_eq!(writer.mailboxes.lock().expect("lock").len(), 1);
            assert!(writer.mailbox_here().is_some(), "this thread has a mailbox");

            // Jobs of this thread: answered through its mailbox, each with its own answer.
            let local_jobs: Vec<_> = (0..100u32)
                .map(|n| {
                    let w = writer.clone();
                    tokio::task::spawn_local(async move { (n, w.submit(n).await) })
                })
                .collect();
            // A job from a thread without a mailbox is answered directly.
            let w = writer.clone();
            let other = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    assert!(w.mailbox_here().is_none());
                    w.submit(41).await
                })
            });
            for j in local_jobs {
                let (n, answer) = tokio::time::timeout(std::time::Duration::from_secs(10), j)
                    .await
                    .expect("the dispatcher delivers")
                    .expect("task");
                assert_eq!(answer, Some(n + 1), "job {n}");
            }
            assert_eq!(other.join().expect("thread"), Some(42));

            stop.send(true).expect("stop");
            tokio::time::timeout(std::time::Duration::from_secs(10), handle).await.expect("writers end").expect("join");
        });
    }
}
