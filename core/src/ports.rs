//! Ports: the traits through which the engine reaches the outside world.
//!
//! A host implements these in its own language (through a binding) or uses
//! the ones Reservo ships: [`crate::store::MemoryStore`] and the durable
//! stores for [`Storage`], [`crate::time::SystemClock`] and
//! [`crate::time::ManualClock`] for [`Clock`]. Payment gateways and SMS
//! senders are always the host's.
//!
//! Every contract below is complete: a host can implement a port from these
//! docs alone. Only the engine calls ports; domain modules never do.
//!
//! # The storage contract in short
//!
//! [`Storage`] is an ordered, versioned record store with one atomic
//! operation, [`Storage::commit`]: check expected versions, apply writes and
//! deletes, and append events — all of it or none of it. The engine owns
//! the data model (keys, encodings, indexes); the store only keeps bytes in
//! key order. That is enough for the engine to never overbook on any
//! backend that can do a conditional multi-key write.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------- storage

/// A record key: printable ASCII (`0x21..=0x7E`), 1 to 512 bytes, compared
/// byte by byte. The engine builds keys such as
/// `bk/booking/01J.../` so that a prefix scan returns related records in
/// order. Stores must compare keys by bytes (in SQL databases, a `bytea` or
/// `BLOB` column is the portable way; a `"C"` collation also works on
/// PostgreSQL itself).
pub type Key = String;

/// The version of a stored record, chosen by the store.
///
/// The contract: a key's version changes on every write of that key, and a
/// version once replaced (by a write or a delete) is never given to that key
/// again. A store-wide counter incremented by every commit satisfies it and
/// is what Reservo's own stores use. The engine only compares versions for
/// equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A stored record: its key, opaque value and current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's key.
    pub key: Key,
    /// The value exactly as the engine wrote it. The engine writes UTF-8
    /// JSON, so durable stores can keep it inspectable, but a store must
    /// treat it as opaque bytes.
    pub value: Vec<u8>,
    /// The record's current version.
    pub version: Version,
}

/// A half-open range of keys, `[start, end)`, for [`Storage::scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// First key included.
    pub start: Key,
    /// First key excluded; `None` scans to the end of the key space.
    pub end: Option<Key>,
}

impl KeyRange {
    /// Every key that starts with `prefix`.
    ///
    /// ```
    /// use reservo::ports::KeyRange;
    /// let range = KeyRange::prefix("bk/");
    /// assert!(range.contains("bk/1"));
    /// assert!(!range.contains("bl"));
    /// ```
    pub fn prefix(prefix: &str) -> KeyRange {
        // Keys are printable ASCII, so incrementing the last byte of the
        // prefix gives the first key after every key with that prefix.
        let mut end = prefix.as_bytes().to_vec();
        let end = loop {
            match end.pop() {
                None => break None,
                Some(b) if b < 0x7E => {
                    end.push(b + 1);
                    break Some(String::from_utf8(end).expect("ASCII stays UTF-8"));
                }
                Some(_) => continue,
            }
        };
        KeyRange {
            start: prefix.to_owned(),
            end,
        }
    }

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &str) -> bool {
        key >= self.start.as_str() && self.end.as_deref().is_none_or(|end| key < end)
    }
}

/// What a commit expects of one key before it applies anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The key.
    pub key: Key,
    /// `Some(v)`: the key must exist with version `v`. `None`: the key must
    /// be absent.
    pub version: Option<Version>,
}

/// One write of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Create or replace the record at `key`.
    Put {
        /// The key.
        key: Key,
        /// The new value.
        value: Vec<u8>,
    },
    /// Remove the record at `key`; removing an absent key is not an error.
    Delete {
        /// The key.
        key: Key,
    },
}

impl Mutation {
    /// The key this mutation writes.
    pub fn key(&self) -> &str {
        match self {
            Mutation::Put { key, .. } | Mutation::Delete { key } => key,
        }
    }
}

/// A domain event to append to the outbox in the same commit as the writes
/// that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The event's kind, such as `booking.confirmed`.
    pub kind: String,
    /// The event's body (UTF-8 JSON written by the engine; opaque to stores).
    pub payload: Vec<u8>,
}

/// An event as stored: with the sequence number the store gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the outbox, starting at 1, strictly increasing in commit
    /// order.
    pub seq: u64,
    /// The event's kind.
    pub kind: String,
    /// The event's body.
    pub payload: Vec<u8>,
}

/// How soon a commit must survive a power loss or an OS crash.
///
/// A hint that lets a store skip the disk sync of commits whose loss the
/// engine can recover from. A store may always treat a commit as
/// [`Durability::Durable`] (the memory store has nothing to sync); a store
/// that honours [`Durability::Deferred`] must keep the order: a durable
/// commit makes every commit before it durable too. SQLite writes deferred
/// commits with `synchronous=NORMAL`, PostgreSQL with `synchronous_commit`
/// off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// On stable storage before `commit` returns. The default.
    #[default]
    Durable,
    /// May be acknowledged before it is on stable storage: a power loss, an
    /// OS crash or a crash of a database server may lose it (whole, never
    /// part of it) until the store's next durable commit, which makes it
    /// durable too. A crash of the app's process alone loses nothing. The engine asks for it only for a new
    /// hold, whose loss looks to the guest like an early expiry (ADR 007).
    Deferred,
}

/// One atomic change: expectations, writes and events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitBatch {
    /// Versions (or absence) the keys must have; checked before anything is
    /// applied. A key appears here at most once.
    pub expectations: Vec<Expectation>,
    /// Writes, applied in order; a key appears here at most once.
    pub mutations: Vec<Mutation>,
    /// Events appended to the outbox, in this order, if and only if the
    /// writes are applied.
    pub events: Vec<NewEvent>,
    /// Whether the commit must be durable before `commit` returns.
    pub durability: Durability,
}

/// What a successful commit reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The version every key put by the commit now has. A commit with no
    /// puts still reports a fresh version (stores may use one up).
    pub version: Version,
}

/// A failure of the [`Storage`] port.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An expectation of the commit did not hold; nothing was applied. The
    /// engine re-reads and retries.
    #[error("commit conflict on key {key}")]
    Conflict {
        /// A key whose expectation failed.
        key: Key,
    },
    /// The backend failed (I/O, connection, corrupt file, host exception),
    /// or a batch broke the rules of [`CommitBatch`] (a bad key, a key
    /// listed twice). From `commit`, the outcome is *unknown*: the store
    /// guarantees the batch was applied whole or not at all, but not which.
    /// The engine therefore re-reads before deciding anything, and every
    /// engine command is idempotent on its key.
    #[error("storage backend failed: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The backend's own error, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The store was written by a newer Reservo: its schema is at a
    /// version this code does not know. Raised on opening; nothing was
    /// changed. Unlike [`StorageError::Backend`], waiting or retrying
    /// cannot help: open it with the newer Reservo (during a rolling
    /// upgrade, an old instance meeting this should stop taking work).
    #[error(
        "{store} has schema version {found}, newer than version {known} that this Reservo knows: open it with a newer Reservo"
    )]
    SchemaTooNew {
        /// Which store: the SQLite file, or the PostgreSQL table prefix.
        store: String,
        /// The newest schema version found in the store.
        found: i64,
        /// The newest schema version this code knows.
        known: i64,
    },
}

impl StorageError {
    /// A backend error from anything displayable.
    pub fn backend(message: impl fmt::Display) -> Self {
        StorageError::Backend {
            message: message.to_string(),
            source: None,
        }
    }
}

/// An ordered, versioned record store with atomic conditional commit and an
/// event outbox.
///
/// # Contract
///
/// * **Records.** A record is a [`Key`], an opaque byte value and a
///   [`Version`]. Keys are ordered by their bytes.
/// * **`get`** returns, for each key asked for, the record or `None`, in
///   the order asked. It reads committed data only.
/// * **`scan`** returns the records whose keys lie in the range, in
///   ascending key order, at most `limit` of them. Each record returned is
///   committed data; a scan need not be a snapshot across records (the
///   engine re-validates what it relies on through commit expectations).
/// * **`commit`** is atomic and isolated: either every expectation holds
///   and then every mutation is applied and every event appended, or
///   nothing changes and [`StorageError::Conflict`] is returned. Two
///   commits that expect the same version of a key can never both succeed,
///   whichever threads, processes or machines they come from. Keys put by a
///   successful commit get a new version; the commit returns it.
/// * **Events** get sequence numbers in commit order, starting at 1. A
///   reader that has seen sequence `n` never later finds a new event with a
///   sequence `<= n` (no gaps are filled in after the fact).
/// * **`read_events`** returns the events with `seq > after`, ascending, at
///   most `limit`.
///
/// A conformance kit, `reservo::store::conformance` (feature
/// `conformance`), checks all of this against any implementation,
/// concurrency included.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Reads the records at `keys`, returning `None` for absent keys, in the
    /// order of `keys`.
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError>;

    /// Reads up to `limit` records in `range`, in ascending key order.
    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError>;

    /// Calls `visit` with the key and value of each of up to `limit`
    /// records in `range`, in ascending key order, as [`Storage::scan`]
    /// would return them; returns how many it visited.
    ///
    /// Optional: the default calls [`Storage::scan`]. A store that keeps
    /// records in memory can lend them instead of copying (a search reads
    /// tens of thousands of small records); `visit` must not block.
    async fn scan_each(
        &self,
        range: &KeyRange,
        limit: usize,
        visit: &mut (dyn for<'r> FnMut(&'r str, &'r [u8]) + Send),
    ) -> Result<usize, StorageError> {
        let records = self.scan(range, limit).await?;
        for record in &records {
            visit(&record.key, &record.value);
        }
        Ok(records.len())
    }

    /// Applies `batch` atomically if every expectation holds; otherwise
    /// changes nothing and returns [`StorageError::Conflict`].
    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError>;

    /// Reads up to `limit` outbox events with a sequence greater than
    /// `after`, in ascending order.
    async fn read_events(&self, after: u64, limit: usize)
    -> Result<Vec<StoredEvent>, StorageError>;

    /// [`Storage::commit`], answered as soon as the batch is applied —
    /// every later read sees it and every later commit is ordered after
    /// it — with what is left to wait for before it is durable.
    ///
    /// The engine calls it only while it holds its turn on a contended
    /// resource: it lets the next caller in line read this commit and
    /// queue its own while this one's disk sync is still running, and it
    /// awaits the returned [`Durable`] before it answers its own caller.
    /// So a store that honours it must make a durable commit's sync cover
    /// every commit applied before it (a write-ahead log synced up to a
    /// point does), and must not hand out events (`read_events`) before
    /// they are durable.
    ///
    /// Optional: the default is [`Storage::commit`], already durable. A
    /// store that wraps another (to count, log or inject faults) should
    /// forward this call to the store it wraps: with the default, contended
    /// commits on a SQLite file go one disk sync at a time again.
    async fn commit_applied(
        &self,
        batch: CommitBatch,
    ) -> Result<(Committed, Durable), StorageError> {
        Ok((self.commit(batch).await?, Durable::done()))
    }
}

/// What a commit answered by [`Storage::commit_applied`] still has to do
/// before it is durable. [`Durable::wait`] resolves when it is (or when
/// it is known it cannot be).
#[must_use = "a commit is not durable until its `Durable` resolves"]
pub struct Durable(Option<futures_util::future::BoxFuture<'static, Result<(), StorageError>>>);

impl Durable {
    /// Nothing to wait for: the commit is durable already.
    pub fn done() -> Durable {
        Durable(None)
    }

    /// Durable once `sync` resolves `Ok`.
    pub fn after(
        sync: impl std::future::Future<Output = Result<(), StorageError>> + Send + 'static,
    ) -> Durable {
        Durable(Some(Box::pin(sync)))
    }

    /// Whether there is still something to wait for.
    pub fn is_pending(&self) -> bool {
        self.0.is_some()
    }

    /// Waits until the commit is durable.
    ///
    /// # Errors
    ///
    /// [`StorageError::Backend`] if the store could not make it durable:
    /// the commit was applied, but a power loss may undo it.
    pub async fn wait(self) -> Result<(), StorageError> {
        match self.0 {
            Some(sync) => sync.await,
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Durable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Durable")
            .field(&if self.is_pending() { "pending" } else { "done" })
            .finish()
    }
}

// ------------------------------------------------------------------ clock

/// The source of "now" for the engine. Every deadline, expiry and "in the
/// past" check asks this port, so a test clock controls time completely.
pub trait Clock: Send + Sync {
    /// The current instant. Must not go backwards within one process.
    fn now(&self) -> DateTime<Utc>;
}

// ----------------------------------------------------------- host failures

/// A failure of a host-implemented port whose outcome is not definite.
///
/// For payments this means *unknown*: the engine records the attempt for
/// reconciliation and will retry with the same idempotency key, never a new
/// one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PortError {
    /// What went wrong.
    pub message: String,
    /// The host's own error, kept for chaining (Python `__cause__`, ...).
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl PortError {
    /// A port error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        PortError {
            message: message.into(),
            source: None,
        }
    }
}

// --------------------------------------------------------------- payments

mod payment;

pub use payment::{
    CaptureRequest, GatewayCapabilities, PaymentGateway, PaymentOutcome, PaymentRequest,
    RefundRequest, VoidRequest,
};

// -------------------------------------------------------------------- sms

/// One text message to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsMessage {
    /// Recipient in E.164 form (`+14155550100`).
    pub to: String,
    /// The rendered text.
    pub body: String,
    /// Stable for every attempt to deliver this message: a sender that sees
    /// the same key twice must deliver at most once.
    pub dedupe_key: String,
}

/// The host's SMS provider.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `message`, returning the provider's message id. An `Err` means
    /// not sent (or unknown): the engine retries with backoff under the same
    /// dedupe key and records the failure if it keeps failing.
    ///
    /// Must return within a bounded time (give the provider's HTTP client
    /// a timeout and return `Err` when it passes): the engine does not
    /// time calls out itself (it runs on any executor), and a notifier
    /// waits for each send before the next, so a call that never returns
    /// stops that notifier's deliveries until the process restarts. The
    /// claim it holds lapses after the notifier's lease, so other
    /// notifiers on the same store carry on.
    async fn send(&self, message: &SmsMessage) -> Result<String, PortError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_covers_exactly_the_prefix() {
        let r = KeyRange::prefix("ab/");
        assert_eq!(r.end.as_deref(), Some("ab0"));
        assert!(r.contains("ab/"));
        assert!(r.contains("ab/~~~"));
        assert!(!r.contains("ab0"));
        assert!(!r.contains("ab"));
    }

    #[test]
    fn prefix_of_tildes_carries_to_the_previous_byte() {
        let r = KeyRange::prefix("a~~");
        assert_eq!(r.end.as_deref(), Some("b"));
        assert_eq!(KeyRange::prefix("~").end, None);
        assert_eq!(KeyRange::prefix("").end, None);
    }

    /// How the conformance kit's findings name versions.
    #[test]
    fn a_version_displays_with_a_v() {
        assert_eq!(Version(42).to_string(), "v42");
    }

    #[test]
    fn durable_shows_whether_it_is_still_pending() {
        assert_eq!(format!("{:?}", Durable::done()), r#"Durable("done")"#);
        let pending = Durable::after(async { Ok(()) });
        assert_eq!(format!("{pending:?}"), r#"Durable("pending")"#);
    }
}
