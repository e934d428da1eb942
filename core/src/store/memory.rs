//! [`MemoryStore`]: the in-memory [`Storage`], always compiled in.
//!
//! It owns a key-ordered map of records, a store-wide commit counter that
//! gives every commit its version, and the event outbox. It is the
//! reference implementation of the contract in [`crate::ports`] and is
//! checked by the same conformance kit as every other store.
//!
//! It must never hold its lock across an `.await` nor apply part of a
//! batch: a commit checks everything first, then applies everything under
//! one write lock. Nothing here survives the process.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use crate::ports::{
    CommitBatch, Committed, Key, KeyRange, Mutation, Record, Storage, StorageError, StoredEvent,
    Version,
};
use crate::store::validate_batch;

/// A value and its version, as kept in the map.
#[derive(Debug, Clone)]
struct Stored {
    value: Vec<u8>,
    version: Version,
}

/// Everything the store holds, behind one lock.
#[derive(Debug, Default)]
struct State {
    records: BTreeMap<Key, Stored>,
    /// The version given to the last successful commit; 0 before the first.
    last_version: u64,
    outbox: Vec<StoredEvent>,
}

/// An in-memory [`Storage`]: safe to share between threads and tasks
/// (`Arc<MemoryStore>`), fast to scan, gone when dropped.
///
/// Versions come from a store-wide commit counter, so a key never gets a
/// version back, even after it is deleted and created again. Events get
/// sequence numbers from 1 in commit order.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use reservo::ports::{CommitBatch, Expectation, Mutation, Storage};
/// use reservo::store::MemoryStore;
///
/// let store = MemoryStore::new();
/// let created = store
///     .commit(CommitBatch {
///         expectations: vec![Expectation { key: "bk/1".into(), version: None }],
///         mutations: vec![Mutation::Put { key: "bk/1".into(), value: b"{}".to_vec() }],
///         events: vec![],
///     })
///     .await
///     .unwrap();
/// let [Some(record)] = &store.get(&["bk/1".into()]).await.unwrap()[..] else { panic!() };
/// assert_eq!(record.version, created.version);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

/// A full copy of a [`MemoryStore`]'s contents, from [`MemoryStore::dump`].
///
/// Two dumps compare equal when the stores hold the same records with the
/// same versions, the same events and the same commit counter — which is
/// how tests prove that a failed commit changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDump {
    /// Every record, in ascending key order.
    pub records: Vec<Record>,
    /// Every outbox event, in sequence order.
    pub events: Vec<StoredEvent>,
    /// The version of the last successful commit (`Version(0)` if none).
    pub last_version: Version,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Copies the whole contents of the store: records, events and the
    /// commit counter.
    pub fn dump(&self) -> StoreDump {
        let state = self.read();
        StoreDump {
            records: state
                .records
                .iter()
                .map(|(key, stored)| to_record(key, stored))
                .collect(),
            events: state.outbox.clone(),
            last_version: Version(state.last_version),
        }
    }

    // A panic can never leave `State` half-changed (commits check before
    // they write, and writing does not panic), so a poisoned lock still
    // guards consistent data.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn to_record(key: &str, stored: &Stored) -> Record {
    Record {
        key: key.to_owned(),
        value: stored.value.clone(),
        version: stored.version,
    }
}

#[async_trait]
impl Storage for MemoryStore {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let state = self.read();
        Ok(keys
            .iter()
            .map(|key| state.records.get(key).map(|stored| to_record(key, stored)))
            .collect())
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let start = Bound::Included(range.start.as_str());
        let end = match range.end.as_deref() {
            // `BTreeMap::range` panics on an inverted range; it is empty.
            Some(end) if end <= range.start.as_str() => return Ok(Vec::new()),
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        let state = self.read();
        Ok(state
            .records
            .range::<str, _>((start, end))
            .take(limit)
            .map(|(key, stored)| to_record(key, stored))
            .collect())
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        validate_batch(&batch)?;
        let mut state = self.write();
        for expectation in &batch.expectations {
            let current = state.records.get(&expectation.key).map(|s| s.version);
            if current != expectation.version {
                return Err(StorageError::Conflict {
                    key: expectation.key.clone(),
                });
            }
        }
        state.last_version += 1;
        let version = Version(state.last_version);
        for mutation in batch.mutations {
            match mutation {
                Mutation::Put { key, value } => {
                    state.records.insert(key, Stored { value, version });
                }
                Mutation::Delete { key } => {
                    state.records.remove(&key);
                }
            }
        }
        let first_seq = state.outbox.len() as u64 + 1;
        state.outbox.extend(
            batch
                .events
                .into_iter()
                .zip(first_seq..)
                .map(|(event, seq)| StoredEvent {
                    seq,
                    kind: event.kind,
                    payload: event.payload,
                }),
        );
        Ok(Committed { version })
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let state = self.read();
        // Sequences are 1, 2, 3, ...: the event with `seq` sits at `seq - 1`.
        let from = usize::try_from(after)
            .map_or(state.outbox.len(), |after| after.min(state.outbox.len()));
        Ok(state.outbox[from..].iter().take(limit).cloned().collect())
    }
}
