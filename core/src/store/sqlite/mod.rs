//! [`SqliteStore`]: the embedded, durable [`Storage`] — one SQLite file
//! (feature `sqlite`, SQLite bundled).
//!
//! It owns the file: its schema and migrations (`schema`), the SQL of
//! each port method (`queries`), and the write connection, writer thread
//! and reader pool (`workers`). It must never make the caller's thread
//! wait for a lock held by another connection or process (that waiting is
//! the writer thread's), never let `SQLITE_BUSY` reach a caller while the
//! lock-wait limit has not passed, and never apply part of a batch.
//!
//! # How it works
//!
//! * **One file, WAL mode.** Readers never block the writer or each other.
//!   Records, the commit counter and the outbox are tables of the same
//!   file, written in the same transaction.
//! * **One write connection per store; reads on the caller's thread.**
//!   Commits run in `BEGIN IMMEDIATE` transactions, so the write lock is
//!   taken before any expectation is read. Reads take an idle reader
//!   connection from a pool (or open one) and run where they are called: a
//!   read is a few microseconds of B-tree search, far less than a hand-off
//!   to a thread and back (ADR 007).
//! * **Commits on the caller's thread when nothing else writes.** A commit
//!   that finds no commit queued, the write connection idle and the file's
//!   write lock free (tried without waiting) runs where it is called, and
//!   its caller's thread waits for its sync of the log (ADR 014;
//!   [`SqliteOptions::commit_on_caller`] turns this off). Otherwise it is
//!   queued for the store's writer thread.
//! * **Group commit.** The writer thread takes every commit queued when
//!   it becomes free and applies them, in queue order, in one transaction:
//!   each is checked against what the earlier ones left, a failed one is
//!   skipped (answered `Conflict`) or rolled back to its savepoint, and one
//!   `COMMIT` (one fsync under `Synchronous::Full`) makes the rest durable
//!   together. Nobody is answered before that `COMMIT` returns, so an
//!   acknowledged commit is a durable one, and each commit is atomic and
//!   gets its own version exactly as if it ran alone. While commits are
//!   queued, new ones queue behind them. Several stores or processes on one
//!   file take turns: the writer thread retries a busy file with backoff
//!   (the write connection has no busy timeout, so that a commit on a
//!   caller's thread never waits), readers wait in SQLite's busy timeout
//!   and the same retry loop, until [`SqliteOptions::lock_wait`] has
//!   passed.
//! * **Commits answered once applied** (ADR 020). A commit the engine
//!   makes while holding its turn on a contended resource comes through
//!   [`Storage::commit_applied`]: under `Synchronous::Full` it is written
//!   `NORMAL` (visible when `COMMIT` returns) and its caller then waits for
//!   the log syncer thread, whose one `fdatasync` of the log serves every
//!   commit applied before it. `read_events` hands out no event before it
//!   is durable.
//! * **Runtime-agnostic async.** A queued commit is awaited on a `futures`
//!   oneshot: it works under tokio, async-std, a binding's event loop or a
//!   plain `block_on`. Dropping a `commit` future does not cancel a commit
//!   already handed to the writer.
//! * **2 KiB pages in a new file** (ADR 016). A `FULL` commit writes
//!   every page it changed to the log and syncs it; a booking changes some
//!   24 pages, so half-size pages halve the bytes each sync carries. A file
//!   created beforehand (by an older Reservo, or by the host with another
//!   `PRAGMA page_size`) keeps its own page size.
//! * **Keys apart from values** (schema 2, ADR 017). `records` is a rowid
//!   table with a unique index on `key`: a key search reads only keys,
//!   values sit in the table's leaves, and a commit's new records land
//!   together at its right edge.
//! * **The outbox numbers commits** (ADR 018). A commit that appends
//!   events leaves the `commit_counter` row alone: the outbox's last row
//!   carries its version and sequence number. A host may still prune
//!   old events by hand: a trigger moves a deleted row's numbers into the
//!   counter row first, so none is handed out twice.
//! * **A commit's log frames in one write** (ADR 019). Connections open
//!   through `reservo-wal`, the default VFS with one change: the log file
//!   gathers a transaction's frames (SQLite writes each as a header and a
//!   page) and writes them in one call with the commit frame, before the
//!   commit is synced or visible. The bytes on disk are unchanged.
//! * **Inspectable.** Values are BLOBs holding the engine's JSON:
//!   `SELECT key, CAST(value AS TEXT), version FROM records` shows them.

mod log_sync;
mod queries;
mod schema;
mod vfs;
mod workers;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};

use self::schema::MigrationError;
use self::workers::{CommitWriter, Readers, backend, is_busy, retry_while_busy};
use crate::ports::{
    CommitBatch, Committed, Durable, Key, KeyRange, Record, Storage, StorageError, StoredEvent,
};
use crate::store::validate_batch;

/// The page size of a file the store creates (ADR 016).
const PAGE_SIZE: i64 = 2048;

/// How hard SQLite works to make each commit survive a power loss
/// (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Every commit is on disk before `commit` returns (`FULL`): a commit
    /// that returned survives power loss and OS crashes. The default.
    ///
    /// Except the commits the engine marks
    /// [`Durability::Deferred`](crate::ports::Durability) (a new hold):
    /// when every commit of a group is deferred, the group is written with
    /// `NORMAL`, and the next durable commit's sync of the log covers it
    /// (the log is written in order). See ADR 007.
    #[default]
    Full,
    /// The write-ahead log is synced at checkpoints only (`NORMAL`): faster
    /// commits, and still never a corrupt file, but on power loss or an OS
    /// crash the last commits before it may be lost even though `commit`
    /// returned. A crash of the process alone loses nothing.
    Normal,
}

impl Synchronous {
    pub(super) fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// How to open a [`SqliteStore`]; [`SqliteOptions::default`] is durable
/// and suits most hosts.
///
/// ```
/// use std::time::Duration;
/// use reservo::store::{SqliteOptions, Synchronous};
///
/// let options = SqliteOptions::default()
///     .synchronous(Synchronous::Normal)
///     .lock_wait(Duration::from_secs(5))
///     .readers(4)
///     .commit_on_caller(false);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    synchronous: Synchronous,
    lock_wait: Duration,
    readers: usize,
    commit_on_caller: bool,
}

impl Default for SqliteOptions {
    /// `Synchronous::Full`, 30 s lock wait, 2 idle reader connections,
    /// commits on the caller's thread when nothing else is writing.
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            lock_wait: Duration::from_secs(30),
            readers: 2,
            commit_on_caller: true,
        }
    }
}

impl SqliteOptions {
    /// Durability of each commit; see [`Synchronous`].
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// How long an operation waits for another connection or process to
    /// release the file's lock before it fails with
    /// [`StorageError::Backend`] (about this long: readers' SQLite busy
    /// timeout is set to it, and the retry loop around reads and commits
    /// stops retrying once it has passed). Until then, contention only
    /// makes calls slower.
    pub fn lock_wait(mut self, lock_wait: Duration) -> Self {
        self.lock_wait = lock_wait;
        self
    }

    /// How many idle reader connections the store keeps (at least 1).
    /// Reads run on the caller's thread; when more run at once than there
    /// are idle connections, the extra ones open a connection of their own.
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// Whether a commit that finds nothing else writing runs on the
    /// caller's thread (`true`, the default) instead of always being handed
    /// to the store's writer thread (ADR 014).
    ///
    /// On the caller's thread a commit saves two thread wake-ups (~100 µs
    /// on a small VM, a third of a durable booking), but the caller's
    /// thread waits for the commit's own work and its sync of the log: a
    /// few hundred microseconds on an SSD, more on slow disks. It never
    /// waits there for a lock: when another commit is queued or running,
    /// or another connection holds the file's write lock, the commit goes
    /// to the writer thread as with `false`. Set `false` when the thread
    /// that awaits store calls must never wait for the disk (an executor
    /// serving latency-critical work on the same threads).
    pub fn commit_on_caller(mut self, commit_on_caller: bool) -> Self {
        self.commit_on_caller = commit_on_caller;
        self
    }
}

/// A [`Storage`] in one SQLite file, shared safely by many threads, tasks
/// and processes.
///
/// Share it as `Arc<SqliteStore>`. Dropping it waits for the operations
/// already queued to finish, then closes the file.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use reservo::ports::{CommitBatch, Mutation, Storage};
/// use reservo::store::SqliteStore;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteStore::open(dir.path().join("reservo.sqlite")).unwrap();
/// let put = Mutation::Put { key: "bk/1".into(), value: br#"{"nights":2}"#.to_vec() };
/// store.commit(CommitBatch { mutations: vec![put], ..Default::default() }).await.unwrap();
/// assert!(store.get(&["bk/1".into()]).await.unwrap()[0].is_some());
/// # });
/// ```
pub struct SqliteStore {
    path: PathBuf,
    lock_wait: Duration,
    writer: CommitWriter,
    readers: Readers,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with the default
    /// [`SqliteOptions`]. See [`SqliteStore::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens (creating if needed) the store at `path`: switches the file to
    /// WAL, applies the schema migrations it lacks, opens the reader
    /// connections and starts the writer thread.
    ///
    /// This call blocks (file I/O, and waiting for the lock if another
    /// process is migrating): call it at start-up, or from a blocking task.
    ///
    /// # Errors
    ///
    /// [`StorageError::SchemaTooNew`] if the file was written by a newer
    /// Reservo whose schema this code does not know (the file is left
    /// untouched); [`StorageError::Backend`] if it cannot be opened or
    /// migrated.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StorageError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = connect(&path, &options)?;
        // Only a file that has no pages yet takes it (ADR 016); an existing
        // file keeps the page size it was created with.
        writer
            .pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(|e| backend("setting the page size", e))?;
        let wal = retry_while_busy(
            options.lock_wait,
            || {
                writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| {
                    row.get::<_, String>(0)
                })
            },
            is_busy,
        )
        .map_err(|e| backend("switching to WAL", e))?;
        if !wal.eq_ignore_ascii_case("wal") {
            return Err(StorageError::backend(format!(
                "{} cannot use write-ahead logging (journal mode stayed {wal})",
                path.display()
            )));
        }
        let busy = |e: &MigrationError| matches!(e, MigrationError::Sqlite(e) if is_busy(e));
        retry_while_busy(options.lock_wait, || schema::migrate(&mut writer), busy).map_err(
            |error| match error {
                MigrationError::TooNew { found } => StorageError::SchemaTooNew {
                    store: path.display().to_string(),
                    found,
                    known: schema::latest_version(),
                },
                MigrationError::Sqlite(e) => backend("migrating the schema", e),
            },
        )?;
        let open_reader = {
            let (path, options) = (path.clone(), options.clone());
            move || {
                let reader = connect(&path, &options)?;
                reader
                    .pragma_update(None, "query_only", true)
                    .map_err(|e| backend("opening a reader", e))?;
                Ok(reader)
            }
        };
        let idle = (0..options.readers)
            .map(|_| open_reader())
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(SqliteStore {
            lock_wait: options.lock_wait,
            writer: CommitWriter::start(
                writer,
                &path,
                options.lock_wait,
                options.synchronous,
                options.commit_on_caller,
            )?,
            readers: Readers::new(idle, options.readers, open_reader),
            path,
        })
    }

    /// Runs `query` on a reader connection on this thread, retrying while
    /// the file is busy; `what` names the call in errors.
    fn read<T>(
        &self,
        what: &str,
        mut query: impl FnMut(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StorageError> {
        self.readers.run(|conn| {
            retry_while_busy(self.lock_wait, || query(conn), is_busy).map_err(|e| backend(what, e))
        })
    }

    /// The file this store keeps its data in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs SQLite's `PRAGMA integrity_check` on the file.
    ///
    /// # Errors
    ///
    /// [`StorageError::Backend`] listing every problem SQLite found, or if
    /// the check could not run.
    pub async fn integrity_check(&self) -> Result<(), StorageError> {
        let lock_wait = self.lock_wait;
        // It reads the whole file: run it on a thread of its own rather
        // than on the caller's executor.
        let conn = self.readers.open()?;
        let (answer, answered) = futures_channel::oneshot::channel();
        std::thread::Builder::new()
            .name("reservo-sqlite-integrity-check".to_owned())
            .spawn(move || {
                let problems =
                    retry_while_busy(lock_wait, || queries::integrity_problems(&conn), is_busy)
                        .map_err(|e| backend("integrity check", e));
                let _ = answer.send(problems);
            })
            .map_err(|e| StorageError::backend(format!("cannot start a SQLite thread: {e}")))?;
        let problems = answered
            .await
            .map_err(|_| StorageError::backend("the integrity check thread stopped"))??;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StorageError::backend(format!(
                "integrity check failed: {}",
                problems.join("; ")
            )))
        }
    }
}

fn connect(path: &Path, options: &SqliteOptions) -> Result<Connection, StorageError> {
    let vfs = vfs::register().map_err(StorageError::backend)?;
    let open = || -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs)?;
        conn.busy_timeout(options.lock_wait)?;
        conn.pragma_update(None, "synchronous", options.synchronous.pragma())?;
        Ok(conn)
    };
    open().map_err(|e| backend(&format!("opening {}", path.display()), e))
}

#[async_trait]
impl Storage for SqliteStore {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.read("get", |conn| queries::get(conn, keys))
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        self.read("scan", |conn| queries::scan(conn, range, limit))
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        validate_batch(&batch)?;
        self.writer.commit(batch).await
    }

    async fn commit_applied(
        &self,
        batch: CommitBatch,
    ) -> Result<(Committed, Durable), StorageError> {
        validate_batch(&batch)?;
        self.writer.commit_applied(batch).await
    }

    /// Returns events only once they are durable: if a commit applied
    /// before it was synced ([`Storage::commit_applied`]) may be among
    /// them, through this store or another on the same file, this waits
    /// for a sync of the log.
    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let events = self.read("read_events", |conn| {
            queries::read_events(conn, after, limit)
        })?;
        if let Some(last) = events.last() {
            self.writer.visible_durable(last.seq).wait().await?;
        }
        Ok(events)
    }
}

#[cfg(test)]
mod open_tests;
#[cfg(test)]
mod tests;
