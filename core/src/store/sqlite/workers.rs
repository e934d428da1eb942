//! The threads that own SQLite connections, and the one way callers reach
//! them.
//!
//! rusqlite is blocking, and the [`Storage`](crate::ports::Storage) port is
//! async and runtime-agnostic. Commits, which wait for the disk, go to one
//! writer thread: a caller sends its batch over a channel and awaits a
//! `futures` oneshot for the answer, which works on any executor and never
//! blocks one. Reads (`get`, `scan`, `read_events`) are short B-tree
//! searches and run on the caller's thread ([`Readers`], ADR 007); the only
//! waiting in them is for SQLite's file lock, inside [`retry_while_busy`],
//! which WAL readers meet only during recovery.
//!
//! This module must never let `SQLITE_BUSY` reach a caller before the
//! store's lock-wait limit has passed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use futures_channel::oneshot;
use rusqlite::{Connection, ErrorCode};

use super::Synchronous;
use super::queries;
use crate::ports::{CommitBatch, Committed, Durability, StorageError};

/// Reader connections, used on the caller's own thread.
///
/// A read is a B-tree search in SQLite's page cache, a few microseconds:
/// handing it to another thread and waking the caller again cost ~110 µs
/// a read on a 2-core VM (ADR 007). So reads run where they are called,
/// on an idle connection taken from this pool, or on a new one when every
/// idle one is in use (a read never waits for another read); at most
/// `keep` idle connections are kept.
pub(super) struct Readers {
    idle: Mutex<Vec<Connection>>,
    keep: usize,
    open: Box<dyn Fn() -> Result<Connection, StorageError> + Send + Sync>,
}

impl Readers {
    /// A pool that opens connections with `open` and keeps up to `keep`
    /// idle ones, starting with those in `idle`.
    pub(super) fn new(
        idle: Vec<Connection>,
        keep: usize,
        open: impl Fn() -> Result<Connection, StorageError> + Send + Sync + 'static,
    ) -> Self {
        Readers {
            idle: Mutex::new(idle),
            keep,
            open: Box::new(open),
        }
    }

    /// A new reader connection, outside the pool.
    pub(super) fn open(&self) -> Result<Connection, StorageError> {
        (self.open)()
    }

    /// Runs `work` on a reader connection on this thread. A connection
    /// whose work panicked is dropped (its transaction rolls back with it).
    pub(super) fn run<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let outcome = work(&mut conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push(conn);
        }
        outcome
    }
}

/// A commit waiting for the writer, and where to send its outcome.
struct CommitJob {
    batch: CommitBatch,
    answer: oneshot::Sender<Result<Committed, StorageError>>,
}

/// The writer thread: owns the write connection and applies queued commits
/// in groups, one transaction and one fsync per group (group commit).
pub(super) struct CommitWriter {
    queue: Option<Sender<CommitJob>>,
    thread: Option<JoinHandle<()>>,
}

impl CommitWriter {
    /// Starts the writer thread on `conn`, whose `PRAGMA synchronous` is
    /// `synchronous`.
    pub(super) fn start(
        conn: Connection,
        lock_wait: Duration,
        synchronous: Synchronous,
    ) -> Result<Self, StorageError> {
        let (queue, jobs) = mpsc::channel::<CommitJob>();
        let thread = std::thread::Builder::new()
            .name("reservo-sqlite-writer".to_owned())
            .spawn(move || write_groups(conn, &jobs, lock_wait, synchronous))
            .map_err(|e| StorageError::backend(format!("cannot start a SQLite thread: {e}")))?;
        Ok(CommitWriter {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Queues `batch` and awaits its outcome, which comes only after the
    /// transaction holding it has committed (or failed).
    pub(super) async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        let (answer, answered) = oneshot::channel();
        let stopped = || StorageError::backend("the SQLite writer thread stopped");
        self.queue
            .as_ref()
            .ok_or_else(stopped)?
            .send(CommitJob { batch, answer })
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

impl Drop for CommitWriter {
    /// Closes the queue, lets queued commits finish, and waits for the
    /// thread, so the file is closed when the store is dropped.
    fn drop(&mut self) {
        self.queue = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer's loop: waits for a commit, takes every other one already
/// queued (up to [`queries::MAX_GROUP`]), applies them as one group, and
/// only then answers each caller.
fn write_groups(
    mut conn: Connection,
    jobs: &Receiver<CommitJob>,
    lock_wait: Duration,
    configured: Synchronous,
) {
    let mut current = configured;
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < queries::MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let batches: Vec<&CommitBatch> = group.iter().map(|job| &job.batch).collect();
        // A panic rolls the transaction back; the callers' answers are
        // dropped with the group, so they see an error.
        let outcomes = catch_unwind(AssertUnwindSafe(|| {
            let wanted = group_synchronous(configured, &batches);
            if wanted != current {
                // Outside any transaction: the pragma applies to the next.
                conn.pragma_update(None, "synchronous", wanted.pragma())?;
                current = wanted;
            }
            retry_while_busy(
                lock_wait,
                || queries::commit_group(&mut conn, &batches),
                is_busy,
            )
        }));
        let outcomes: Vec<Option<Result<Committed, StorageError>>> = match outcomes {
            Ok(Ok(outcomes)) => outcomes.into_iter().map(Some).collect(),
            Ok(Err(e)) => {
                // Nothing of the group was applied; each caller hears why.
                let message = backend("commit", e).to_string();
                group
                    .iter()
                    .map(|_| Some(Err(StorageError::backend(&message))))
                    .collect()
            }
            Err(_) => group.iter().map(|_| None).collect(),
        };
        for (job, outcome) in group.into_iter().zip(outcomes) {
            if let Some(outcome) = outcome {
                // The caller may have stopped waiting; the commit stands.
                let _ = job.answer.send(outcome);
            }
        }
    }
}

/// How a group must be synced: as configured, unless every batch in it is
/// [`Durability::Deferred`], which lets a `Full` store write it `Normal`
/// (the next `Full` commit syncs the log, and with it this group).
pub(super) fn group_synchronous(configured: Synchronous, batches: &[&CommitBatch]) -> Synchronous {
    if batches
        .iter()
        .all(|batch| batch.durability == Durability::Deferred)
    {
        Synchronous::Normal
    } else {
        configured
    }
}

/// Whether SQLite refused because another connection holds the lock.
pub(super) fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Runs `attempt` until it succeeds, fails with something other than
/// `SQLITE_BUSY`/`SQLITE_LOCKED`, or `lock_wait` has passed.
///
/// Each attempt already waits up to the connection's busy timeout inside
/// SQLite; this loop covers the cases where SQLite answers busy without
/// waiting (WAL recovery, a checkpoint or a journal-mode change in another
/// process). Backoff doubles from 1 ms to 64 ms, with jitter so that
/// processes do not retry in lockstep. `attempt` must leave nothing applied
/// when it fails (a transaction that rolls back on drop does).
pub(super) fn retry_while_busy<T, E>(
    lock_wait: Duration,
    mut attempt: impl FnMut() -> Result<T, E>,
    busy: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let started = Instant::now();
    let mut backoff = Duration::from_millis(1);
    loop {
        match attempt() {
            Err(error) if busy(&error) && started.elapsed() < lock_wait => {
                std::thread::sleep(backoff + jitter(backoff));
                backoff = (backoff * 2).min(Duration::from_millis(64));
            }
            outcome => return outcome,
        }
    }
}

/// Up to `max`, from the clock's nanoseconds: cheap and good enough to
/// spread retries.
fn jitter(max: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    Duration::from_nanos(u64::from(nanos) % max.as_nanos().max(1) as u64)
}

/// A SQLite failure as a port error; `SQLITE_BUSY` here means the lock-wait
/// limit passed.
pub(super) fn backend(what: &str, error: rusqlite::Error) -> StorageError {
    let message = if is_busy(&error) {
        format!("{what}: the database file stayed locked by another connection too long")
    } else {
        format!("{what}: {error}")
    };
    StorageError::Backend {
        message,
        source: Some(Box::new(error)),
    }
}
