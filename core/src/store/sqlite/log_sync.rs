//! Syncing the write-ahead log for commits applied before they were
//! durable ([`Storage::commit_applied`](crate::ports::Storage::commit_applied)).
//!
//! Such a commit runs with `synchronous=NORMAL`: its frames are written
//! and visible when SQLite's `COMMIT` returns, but not synced. Its caller
//! then waits ([`LogSync::durable`]) for the syncer thread, which takes
//! every waiter in line, syncs the log file (`fdatasync`) and answers
//! them: a sync makes every frame written before it began durable, so one
//! sync serves every commit applied before it (group commit, while the
//! write connection goes on with the next ones). A failed sync fails every
//! commit it was to cover, and every later one: after a failed `fsync`
//! the kernel may have dropped the unwritten pages and a later `fsync`
//! succeeds without them, and recovery stops at the first lost frame of
//! the log, so nothing applied after it can be called durable either.
//!
//! Readers of the outbox must not see an event before it is durable
//! ([`LogSync::visible_durable`]): early commits, and deferred commits
//! that append events (also written `NORMAL`), are counted when they
//! begin and when they end, and each sync records how many had ended
//! before it began. Another store on the same file (in this process or
//! another) may have applied such a commit too, which this one cannot
//! count: so it also keeps the sequence number up to which it knows the
//! outbox durable — raised by its own `FULL` commits (SQLite syncs the
//! whole log at each, covering every frame before it) and its own syncs
//! — and a read that returns an event past it waits for a sync first.
//! The log is one file: a sync from any store covers every store's
//! frames written before it.
//!
//! This module must never answer a waiter before a sync that began after
//! the waiter came has succeeded.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use futures_channel::oneshot;

use crate::ports::{Durable, StorageError};

/// Where to tell a waiter the outcome of the sync that covered it.
type Waiter = oneshot::Sender<Result<(), StorageError>>;

#[derive(Default)]
struct State {
    waiting: Vec<Waiter>,
    /// How many early commits had ended before the last successful sync
    /// began: all of them are durable.
    covered: u64,
    /// Why a sync failed, once one has: every later waiter fails with it.
    failed: Option<String>,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    log: PathBuf,
    /// Early commits begun and ended (applied or failed), in all.
    begun: AtomicU64,
    ended: AtomicU64,
    /// The outbox's last sequence number as this store's latest commit
    /// left it: every event up to it was in the log by then.
    applied_seq: AtomicU64,
    /// Every event up to this sequence number is durable, whichever store
    /// appended it.
    durable_seq: AtomicU64,
    /// How many syncs ran, for tests.
    #[cfg(test)]
    syncs: std::sync::atomic::AtomicU64,
    /// Held by the syncer while it syncs; tests take it to hold syncs back.
    #[cfg(test)]
    gate: Mutex<()>,
    /// Makes the next sync fail, for tests.
    #[cfg(test)]
    fail_next: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The syncer of one database file's log, and its thread.
pub(super) struct LogSync {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogSync {
    /// Starts the syncer for the database at `database` (its log is the
    /// file beside it named `<database>-wal`).
    pub(super) fn start(database: &Path) -> Result<LogSync, StorageError> {
        let mut log = database.as_os_str().to_owned();
        log.push("-wal");
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            wake: Condvar::new(),
            log: PathBuf::from(log),
            begun: AtomicU64::new(0),
            ended: AtomicU64::new(0),
            applied_seq: AtomicU64::new(0),
            durable_seq: AtomicU64::new(0),
            #[cfg(test)]
            syncs: Default::default(),
            #[cfg(test)]
            gate: Mutex::new(()),
            #[cfg(test)]
            fail_next: Default::default(),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("reservo-sqlite-sync".to_owned())
                .spawn(move || sync_loop(&shared))
                .map_err(|e| StorageError::backend(format!("cannot start a SQLite thread: {e}")))?
        };
        Ok(LogSync {
            shared,
            thread: Some(thread),
        })
    }

    /// An early commit is about to be applied.
    pub(super) fn begin(&self) {
        self.shared.begun.fetch_add(1, SeqCst);
    }

    /// An early commit begun is over: applied (visible) or failed.
    pub(super) fn end(&self) {
        self.shared.ended.fetch_add(1, SeqCst);
    }

    /// A commit of this store left the outbox's last event at `last_seq`;
    /// `synced`: it was written `FULL`, so the log was synced as it
    /// committed (unless an earlier sync failed, which no later sync can
    /// make up for).
    pub(super) fn applied(&self, last_seq: u64, synced: bool) {
        self.shared.applied_seq.fetch_max(last_seq, SeqCst);
        if synced && self.shared.lock().failed.is_none() {
            self.shared.durable_seq.fetch_max(last_seq, SeqCst);
        }
    }

    /// Resolves once everything applied before this call is durable.
    pub(super) fn durable(&self) -> Durable {
        let (answer, answered) = oneshot::channel();
        self.shared.lock().waiting.push(answer);
        self.shared.wake.notify_one();
        Durable::after(async move {
            answered
                .await
                .unwrap_or_else(|_| Err(StorageError::backend("the SQLite sync thread stopped")))
        })
    }

    /// Resolves once everything a read made before this call saw, events
    /// up to sequence `through` among it, is durable: at once if every
    /// early commit of this store begun so far was covered by a sync and
    /// `through` is known durable, else after the next sync.
    pub(super) fn visible_durable(&self, through: u64) -> Durable {
        let begun = self.shared.begun.load(SeqCst);
        if self.shared.lock().covered >= begun && self.shared.durable_seq.load(SeqCst) >= through {
            return Durable::done();
        }
        let synced = self.durable();
        let shared = Arc::clone(&self.shared);
        Durable::after(async move {
            synced.wait().await?;
            // That sync began after the read: it covered what the read saw.
            shared.durable_seq.fetch_max(through, SeqCst);
            Ok(())
        })
    }

    #[cfg(test)]
    pub(super) fn syncs(&self) -> u64 {
        self.shared.syncs.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes the next sync fail as if `fdatasync` had.
    #[cfg(test)]
    pub(super) fn fail_next_sync(&self) {
        self.shared.fail_next.store(true, SeqCst);
    }

    /// Holds every sync back while the guard lives.
    #[cfg(test)]
    pub(super) fn hold_syncs(&self) -> MutexGuard<'_, ()> {
        self.shared
            .gate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for LogSync {
    /// Syncs for everyone still waiting, then stops the thread.
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The syncer: waits for waiters, syncs the log once for all commits
/// applied so far, answers those it covered, and again.
fn sync_loop(shared: &Shared) {
    let mut log: Option<(File, Identity)> = None;
    loop {
        let (covered, ended, applied, failed) = {
            let mut state = shared.lock();
            while state.waiting.is_empty() && !state.stop {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.waiting.is_empty() {
                return;
            }
            (
                std::mem::take(&mut state.waiting),
                shared.ended.load(SeqCst),
                shared.applied_seq.load(SeqCst),
                state.failed.clone(),
            )
        };
        let outcome = match failed {
            Some(failed) => Err(format!("an earlier sync failed: {failed}")),
            None => {
                #[cfg(test)]
                let _gate = shared.gate.lock().unwrap_or_else(PoisonError::into_inner);
                #[cfg(test)]
                let injected = shared.fail_next.swap(false, SeqCst);
                #[cfg(not(test))]
                let injected = false;
                if injected {
                    Err("injected sync failure".to_owned())
                } else {
                    sync(&shared.log, &mut log)
                }
            }
        };
        #[cfg(test)]
        shared
            .syncs
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        {
            let mut state = shared.lock();
            match &outcome {
                Ok(()) => {
                    state.covered = state.covered.max(ended);
                    shared.durable_seq.fetch_max(applied, SeqCst);
                }
                Err(message) => {
                    state.failed.get_or_insert_with(|| message.clone());
                }
            }
        }
        for answer in covered {
            let answer_with = outcome.as_ref().map_err(|message| {
                StorageError::backend(format!(
                    "the commit was applied, but syncing the log failed, so a power loss \
                     may undo it: {message}"
                ))
            });
            // The caller may have stopped waiting; the commit stands.
            let _ = answer.send(answer_with.copied());
        }
    }
}

/// Which file an open handle is: a log deleted and created again (when
/// every connection to the database closed) is a new file to sync.
#[derive(PartialEq, Eq, Clone, Copy)]
struct Identity {
    device: u64,
    inode: u64,
}

#[cfg(unix)]
fn identity(metadata: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity {
        device: metadata.dev(),
        inode: metadata.ino(),
    }
}

/// Elsewhere a file has no cheap identity: the log opened first is kept.
#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Identity {
    Identity {
        device: 0,
        inode: 0,
    }
}

/// Syncs the log file at `path`, through `open` if it is still that file.
/// A newly opened log also has its directory synced, so that the log's
/// name survives a power loss with it (SQLite syncs a new log's directory
/// only in a sync of its own, which unsynced commits never make).
fn sync(path: &Path, open: &mut Option<(File, Identity)>) -> Result<(), String> {
    let now = std::fs::metadata(path)
        .map(|m| identity(&m))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if open.as_ref().is_none_or(|(_, was)| *was != now) {
        let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let opened = file
            .metadata()
            .map(|m| identity(&m))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // Only Unix lets a directory be opened and synced.
        #[cfg(unix)]
        if let Some(directory) = path.parent() {
            let directory = if directory.as_os_str().is_empty() {
                Path::new(".")
            } else {
                directory
            };
            File::open(directory)
                .and_then(|d| d.sync_all())
                .map_err(|e| format!("{}: {e}", directory.display()))?;
        }
        *open = Some((file, opened));
    }
    let (file, _) = open.as_ref().expect("opened above");
    file.sync_data()
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod deferred_tests;
#[cfg(test)]
mod tests;
