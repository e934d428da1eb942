//! The threads that own SQLite connections, and the one way callers reach
//! them.
//!
//! rusqlite is blocking, and the [`Storage`](crate::ports::Storage) port is
//! async and runtime-agnostic. There is one write connection. A commit that
//! finds it idle, no commit queued and the file's write lock free runs on
//! the caller's thread (ADR 014: two thread wake-ups cost a third of a
//! durable booking); any other commit goes to the writer thread, which
//! waits for locks and applies queued commits in groups: the caller sends
//! its batch over a channel and awaits a `futures` oneshot for the answer,
//! which works on any executor. Reads (`get`, `scan`, `read_events`) are
//! short B-tree searches and run on the caller's thread ([`Readers`], ADR
//! 007); the only waiting in them is for SQLite's file lock, inside
//! [`retry_while_busy`], which WAL readers meet only during recovery.
//!
//! This module must never let `SQLITE_BUSY` reach a caller before the
//! store's lock-wait limit has passed, and never make a caller's thread
//! wait for a lock: waiting is the writer thread's.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use futures_channel::oneshot;
use rusqlite::{Connection, ErrorCode};

use super::Synchronous;
use super::log_sync::LogSync;
use super::queries;
use crate::ports::{CommitBatch, Committed, Durability, Durable, StorageError};

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

    /// How many reader connections wait in the pool.
    #[cfg(test)]
    pub(super) fn idle(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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
    /// Counted by the log syncer until it is over: it may be visible
    /// before it is durable ([`CommitWriter::counts_until_synced`]).
    counted: bool,
    answer: oneshot::Sender<Result<Applied, StorageError>>,
}

/// A commit that was applied: its version, and whether its log is still
/// to be synced (it ran in a `NORMAL` group of a `Full` store).
type Applied = (Committed, bool);

/// The write connection and the `synchronous` level it is set to now.
struct WriteConnection {
    conn: Connection,
    current: Synchronous,
}

/// What the writer thread and callers committing on their own thread share.
struct Shared {
    connection: Mutex<WriteConnection>,
    /// Commits queued for the writer thread and not yet answered: while
    /// there are any, new commits queue behind them (so group commit
    /// gathers them and none waits behind a stream of commits that skipped
    /// the queue).
    queued: AtomicUsize,
    /// Commits that ran on their caller's thread, for tests.
    on_caller: AtomicU64,
    configured: Synchronous,
    lock_wait: Duration,
    log_sync: LogSync,
}

impl Shared {
    /// Whether the group just committed on `writer` left its log to be
    /// synced: it ran `NORMAL` on a `Full` store.
    fn unsynced(&self, writer: &WriteConnection) -> bool {
        writer.current == Synchronous::Normal && self.configured == Synchronous::Full
    }

    /// The write connection, even if a commit panicked while holding it
    /// (its transaction rolled back as the panic unwound).
    fn lock(&self) -> MutexGuard<'_, WriteConnection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The write connection if no one else is using it.
    fn try_lock(&self) -> Option<MutexGuard<'_, WriteConnection>> {
        match self.connection.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

/// Commits: on the caller's thread when nothing else is writing (ADR 014),
/// otherwise through the writer thread, which applies queued commits in
/// groups, one transaction and one fsync per group (group commit).
pub(super) struct CommitWriter {
    shared: Arc<Shared>,
    commit_on_caller: bool,
    queue: Option<Sender<CommitJob>>,
    thread: Option<JoinHandle<()>>,
}

impl CommitWriter {
    /// Starts the writer thread on `conn`, whose `PRAGMA synchronous` is
    /// `synchronous`; with `commit_on_caller`, a commit that finds the
    /// queue empty and the file unlocked runs on its caller's thread.
    ///
    /// `conn` loses its busy timeout: SQLite then answers busy at once, so
    /// a commit on a caller's thread never waits for a lock, and the writer
    /// thread's [`retry_while_busy`] does all the waiting, up to
    /// `lock_wait`.
    pub(super) fn start(
        conn: Connection,
        database: &std::path::Path,
        lock_wait: Duration,
        synchronous: Synchronous,
        commit_on_caller: bool,
    ) -> Result<Self, StorageError> {
        conn.busy_timeout(Duration::ZERO)
            .map_err(|e| backend("setting up the write connection", e))?;
        let shared = Arc::new(Shared {
            connection: Mutex::new(WriteConnection {
                conn,
                current: synchronous,
            }),
            queued: AtomicUsize::new(0),
            on_caller: AtomicU64::new(0),
            configured: synchronous,
            lock_wait,
            log_sync: LogSync::start(database)?,
        });
        let (queue, jobs) = mpsc::channel::<CommitJob>();
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("reservo-sqlite-writer".to_owned())
                .spawn(move || write_groups(&shared, &jobs))
                .map_err(|e| StorageError::backend(format!("cannot start a SQLite thread: {e}")))?
        };
        Ok(CommitWriter {
            shared,
            commit_on_caller,
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Applies `batch` and returns its outcome, only after the transaction
    /// holding it has committed (or failed).
    pub(super) async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        Ok(self.apply(batch, false).await?.0)
    }

    /// Applies `batch` and returns its outcome once it is applied, with
    /// what is left before it is durable: under `Synchronous::Full` a
    /// durable batch is written like a deferred one (`NORMAL`, so it is
    /// visible at once) and the log syncer syncs it, with every commit
    /// applied before it, while the write connection goes on.
    pub(super) async fn commit_applied(
        &self,
        mut batch: CommitBatch,
    ) -> Result<(Committed, Durable), StorageError> {
        if batch.durability == Durability::Deferred || self.shared.configured != Synchronous::Full {
            return Ok((self.commit(batch).await?, Durable::done()));
        }
        batch.durability = Durability::Deferred;
        let (committed, unsynced) = self.apply(batch, true).await?;
        let durable = if unsynced {
            self.shared.log_sync.durable()
        } else {
            Durable::done()
        };
        Ok((committed, durable))
    }

    /// Resolves once every commit a read made before this call saw is
    /// durable, given that the read saw events up to sequence `through`:
    /// at once on a `Normal` store, which promises nothing more.
    pub(super) fn visible_durable(&self, through: u64) -> Durable {
        if self.shared.configured == Synchronous::Full {
            self.shared.log_sync.visible_durable(through)
        } else {
            Durable::done()
        }
    }

    /// The log syncer, for tests.
    #[cfg(test)]
    pub(super) fn log_sync(&self) -> &LogSync {
        &self.shared.log_sync
    }

    /// Whether the log syncer must count `batch` from before it is applied
    /// until it is over, so that `read_events` hands out none of its
    /// events before a sync covers them: an `early` commit
    /// ([`CommitWriter::commit_applied`]), or a deferred one that appends
    /// events, on a `Full` store. Both are written `NORMAL`: visible when
    /// applied, durable only once the log is synced. An event handed out
    /// and then lost to a power cut is worse than a late one: the next
    /// commit's event takes its sequence number, and a reader already past
    /// it never sees that event.
    fn counts_until_synced(&self, batch: &CommitBatch, early: bool) -> bool {
        self.shared.configured == Synchronous::Full
            && (early || (batch.durability == Durability::Deferred && !batch.events.is_empty()))
    }

    /// Applies `batch` here or on the writer thread. A counted one (see
    /// [`CommitWriter::counts_until_synced`]) is counted by the log syncer
    /// from before it is applied until it is over, wherever it runs.
    async fn apply(&self, batch: CommitBatch, early: bool) -> Result<Applied, StorageError> {
        let counted = self.counts_until_synced(&batch, early);
        if counted {
            self.shared.log_sync.begin();
        }
        if let Some(outcome) = self.commit_here(&batch, counted) {
            return outcome;
        }
        let (answer, answered) = oneshot::channel();
        let stopped = || StorageError::backend("the SQLite writer thread stopped");
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        let job = CommitJob {
            batch,
            counted,
            answer,
        };
        if self
            .queue
            .as_ref()
            .is_none_or(|queue| queue.send(job).is_err())
        {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            if counted {
                self.shared.log_sync.end();
            }
            return Err(stopped());
        }
        answered.await.map_err(|_| stopped())?
    }

    /// Commits `batch` on this thread if nothing else is writing: no commit
    /// queued, the write connection idle and the file's write lock free
    /// (taken without waiting). `None` when it must be queued instead.
    ///
    /// The caller's thread then waits for the commit's own work and sync,
    /// but never for a lock: the wait for another writer, up to the
    /// lock-wait limit, happens on the writer thread.
    fn commit_here(
        &self,
        batch: &CommitBatch,
        counted: bool,
    ) -> Option<Result<Applied, StorageError>> {
        if !self.commit_on_caller || self.shared.queued.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let mut writer = self.shared.try_lock()?;
        // The write connection answers busy at once (no busy timeout).
        let outcome = match apply_group(&mut writer, self.shared.configured, &[batch]) {
            Err(e) if is_busy(&e) => return None,
            Err(e) => Err(backend("commit", e)),
            Ok((mut outcomes, last_seq)) => {
                self.shared.on_caller.fetch_add(1, Ordering::Relaxed);
                let unsynced = self.shared.unsynced(&writer);
                self.shared
                    .log_sync
                    .applied(last_seq, synced_log(&outcomes, unsynced));
                let outcome = outcomes.pop().expect("one outcome a batch");
                outcome.map(|c| (c, unsynced))
            }
        };
        if counted {
            self.shared.log_sync.end();
        }
        Some(outcome)
    }

    /// How many commits ran on their caller's thread so far.
    #[cfg(test)]
    pub(super) fn commits_on_caller(&self) -> u64 {
        self.shared.on_caller.load(Ordering::Relaxed)
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

/// One attempt at `batches` in one transaction, with the connection's
/// `synchronous` level set for them first.
fn apply_group(
    writer: &mut WriteConnection,
    configured: Synchronous,
    batches: &[&CommitBatch],
) -> rusqlite::Result<(Vec<queries::CommitOutcome>, u64)> {
    let wanted = group_synchronous(configured, batches);
    if wanted != writer.current {
        // Outside any transaction: the pragma applies to the next.
        writer
            .conn
            .pragma_update(None, "synchronous", wanted.pragma())?;
        writer.current = wanted;
    }
    queries::commit_group(&mut writer.conn, batches)
}

/// Whether committing a group with `outcomes` synced the log: it was
/// written `FULL` (not `unsynced`) and wrote something, which every applied
/// batch does (SQLite syncs no log for a transaction that changed nothing).
fn synced_log(outcomes: &[queries::CommitOutcome], unsynced: bool) -> bool {
    !unsynced && outcomes.iter().any(Result::is_ok)
}

/// The writer's loop: waits for a commit, takes every other one already
/// queued (up to [`queries::MAX_GROUP`]), applies them as one group, and
/// only then answers each caller.
fn write_groups(shared: &Shared, jobs: &Receiver<CommitJob>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < queries::MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let batches: Vec<&CommitBatch> = group.iter().map(|job| &job.batch).collect();
        let mut writer = shared.lock();
        // A panic rolls the transaction back; the callers' answers are
        // dropped with the group, so they see an error.
        let outcomes = catch_unwind(AssertUnwindSafe(|| {
            retry_while_busy(
                shared.lock_wait,
                || apply_group(&mut writer, shared.configured, &batches),
                is_busy,
            )
        }));
        let unsynced = shared.unsynced(&writer);
        if let Ok(Ok((outcomes, last_seq))) = &outcomes {
            shared
                .log_sync
                .applied(*last_seq, synced_log(outcomes, unsynced));
        }
        for _ in group.iter().filter(|job| job.counted) {
            shared.log_sync.end();
        }
        // Answered below: callers arriving from now on may commit on
        // their own thread once the connection is free.
        shared.queued.fetch_sub(group.len(), Ordering::SeqCst);
        drop(writer);
        let outcomes: Vec<Option<Result<Applied, StorageError>>> = match outcomes {
            Ok(Ok((outcomes, _))) => outcomes
                .into_iter()
                .map(|outcome| Some(outcome.map(|c| (c, unsynced))))
                .collect(),
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
/// On a reader connection each attempt already waits up to the busy
/// timeout inside SQLite, and this loop covers the cases where SQLite
/// answers busy without waiting (WAL recovery, a checkpoint or a
/// journal-mode change in another process); the write connection has no
/// busy timeout, so for commits this loop is all the waiting. Backoff
/// doubles from 1 ms to 64 ms, with jitter so that processes do not retry
/// in lockstep. `attempt` must leave nothing applied when it fails (a
/// transaction that rolls back on drop does).
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
