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
    value: Value,
    version: Version,
}

/// A record's bytes: short ones (ledgers, index entries) inside the map's
/// own node, so a scan reads them without a cache miss per record; longer
/// ones on the heap.
#[derive(Debug, Clone)]
enum Value {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

/// The longest value kept inline; with the length and the tag a [`Value`]
/// is as small as the `Vec` it replaces.
const INLINE: usize = 22;

impl Value {
    fn new(value: Vec<u8>) -> Value {
        match u8::try_from(value.len()) {
            Ok(len) if value.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..value.len()].copy_from_slice(&value);
                Value::Inline { len, bytes }
            }
            _ => Value::Heap(value.into_boxed_slice()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Value::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Value::Heap(bytes) => bytes,
        }
    }
}

/// A key as kept in the map: keys of up to 46 bytes (every key the engine
/// writes) inside the map's node, so a scan reads them without a cache
/// miss per record; longer ones on the heap. Ordered as `str`, by bytes.
#[derive(Debug, Clone)]
enum StoredKey {
    Inline { len: u8, bytes: [u8; KEY_INLINE] },
    Heap(Box<str>),
}

/// The longest key kept inline (with the length and the tag: 48 bytes).
const KEY_INLINE: usize = 46;

impl StoredKey {
    fn new(key: String) -> StoredKey {
        match u8::try_from(key.len()) {
            Ok(len) if key.len() <= KEY_INLINE => {
                let mut bytes = [0; KEY_INLINE];
                bytes[..key.len()].copy_from_slice(key.as_bytes());
                StoredKey::Inline { len, bytes }
            }
            _ => StoredKey::Heap(key.into_boxed_str()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            StoredKey::Inline { len, bytes } => {
                let bytes = &bytes[..usize::from(*len)];
                debug_assert!(std::str::from_utf8(bytes).is_ok());
                // SAFETY: `StoredKey::new` is the only place an `Inline` key
                // is made, and it copies `len` bytes of a `str` (whole: the
                // copy is never cut), so these bytes are valid UTF-8.
                // Checking again on every comparison and every scanned key
                // cost a tenth of a 10,000-resource search.
                unsafe { std::str::from_utf8_unchecked(bytes) }
            }
            StoredKey::Heap(key) => key,
        }
    }
}

impl std::borrow::Borrow<str> for StoredKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for StoredKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for StoredKey {}

impl PartialOrd for StoredKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StoredKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Everything the store holds, behind one lock.
#[derive(Debug, Default)]
struct State {
    records: BTreeMap<StoredKey, Stored>,
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
///         ..CommitBatch::default()
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
                .map(|(key, stored)| to_record(key.as_str(), stored))
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

/// The records of `range`, in key order.
fn in_range<'s>(state: &'s State, range: &KeyRange) -> impl Iterator<Item = (&'s str, &'s Stored)> {
    let start = Bound::Included(range.start.as_str());
    let end = match range.end.as_deref() {
        // `BTreeMap::range` panics on an inverted range; it is empty.
        Some(end) if end <= range.start.as_str() => None,
        Some(end) => Some(Bound::Excluded(end)),
        None => Some(Bound::Unbounded),
    };
    end.into_iter()
        .flat_map(move |end| state.records.range::<str, _>((start, end)))
        .map(|(key, stored)| (key.as_str(), stored))
}

fn to_record(key: &str, stored: &Stored) -> Record {
    Record {
        key: key.to_owned(),
        value: stored.value.as_bytes().to_vec(),
        version: stored.version,
    }
}

#[async_trait]
impl Storage for MemoryStore {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let state = self.read();
        Ok(keys
            .iter()
            .map(|key| {
                state
                    .records
                    .get(key.as_str())
                    .map(|stored| to_record(key, stored))
            })
            .collect())
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let state = self.read();
        Ok(in_range(&state, range)
            .take(limit)
            .map(|(key, stored)| to_record(key, stored))
            .collect())
    }

    async fn scan_each(
        &self,
        range: &KeyRange,
        limit: usize,
        visit: &mut (dyn for<'r> FnMut(&'r str, &'r [u8]) + Send),
    ) -> Result<usize, StorageError> {
        let state = self.read();
        let mut visited = 0;
        for (key, stored) in in_range(&state, range).take(limit) {
            visit(key, stored.value.as_bytes());
            visited += 1;
        }
        Ok(visited)
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        validate_batch(&batch)?;
        let mut state = self.write();
        for expectation in &batch.expectations {
            let current = state
                .records
                .get(expectation.key.as_str())
                .map(|s| s.version);
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
                    state.records.insert(
                        StoredKey::new(key),
                        Stored {
                            value: Value::new(value),
                            version,
                        },
                    );
                }
                Mutation::Delete { key } => {
                    state.records.remove(key.as_str());
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

#[cfg(test)]
mod tests {
    use super::*;

    fn put(key: &str, value: &[u8]) -> Mutation {
        Mutation::Put {
            key: key.into(),
            value: value.to_vec(),
        }
    }

    /// Keys compare as their text whether kept inline or on the heap, and
    /// equality and both orderings agree (the map and `Borrow<str>` rely on
    /// it).
    #[test]
    fn stored_keys_compare_as_their_text_inline_or_not() {
        let long = "k".repeat(KEY_INLINE + 1);
        let texts = ["a", "a!", "b", &long[..KEY_INLINE], &long];
        for x in texts {
            for y in texts {
                let (kx, ky) = (StoredKey::new(x.to_owned()), StoredKey::new(y.to_owned()));
                assert_eq!(kx == ky, x == y, "{x:?} == {y:?}");
                assert_eq!(kx.cmp(&ky), x.cmp(y), "{x:?} cmp {y:?}");
                assert_eq!(
                    kx.partial_cmp(&ky),
                    Some(x.cmp(y)),
                    "{x:?} partial_cmp {y:?}"
                );
            }
        }
        assert!(matches!(
            StoredKey::new(long[..KEY_INLINE].to_owned()),
            StoredKey::Inline { .. }
        ));
        assert!(matches!(StoredKey::new(long.clone()), StoredKey::Heap(_)));
    }

    #[tokio::test]
    async fn scan_each_lends_what_scan_returns_short_and_long_values_alike() {
        let store = MemoryStore::new();
        let long = vec![b'x'; INLINE + 1];
        let batch = CommitBatch {
            durability: Default::default(),
            expectations: vec![],
            mutations: vec![
                put("a/1", b""),
                put("a/2", &[b'y'; INLINE]),
                put("a/3", &long),
                put("b/1", b"1;0;"),
            ],
            events: vec![],
        };
        store.commit(batch).await.unwrap();
        for (range, limit) in [
            (KeyRange::prefix("a/"), 10),
            (KeyRange::prefix("a/"), 2),
            (KeyRange::prefix(""), 10),
            (
                KeyRange {
                    start: "b".into(),
                    end: Some("a".into()),
                },
                10,
            ),
        ] {
            let scanned = store.scan(&range, limit).await.unwrap();
            let mut lent = Vec::new();
            let visited = store
                .scan_each(&range, limit, &mut |key, value| {
                    lent.push((key.to_owned(), value.to_vec()));
                })
                .await
                .unwrap();
            assert_eq!(visited, scanned.len());
            let scanned: Vec<_> = scanned.into_iter().map(|r| (r.key, r.value)).collect();
            assert_eq!(lent, scanned);
        }
        let got = store.get(&["a/3".into()]).await.unwrap();
        assert_eq!(got[0].as_ref().unwrap().value, long);
    }
}
