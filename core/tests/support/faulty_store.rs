//! A deliberately naive [`Storage`] that can be told to break one rule of
//! the contract, so tests can prove the conformance kit notices.
//!
//! With [`Fault::None`] it is a correct (slow, simple) store: that is
//! checked too, so a case failing against a faulty store fails because of
//! the fault, not because of the test double.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, Mutation, Record, Storage, StorageError, StoredEvent,
    Version,
};

/// The one rule a [`FaultyStore`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Breaks nothing.
    None,
    /// `get` leaves out absent keys instead of answering `None`.
    GetSkipsAbsentKeys,
    /// Values pass through a lossy UTF-8 conversion.
    MangledValues,
    /// `scan` returns records in the order they were first written.
    ScanInWriteOrder,
    /// `scan` includes the range's end key.
    ScanIncludesEnd,
    /// `scan` ignores its limit.
    ScanIgnoresLimit,
    /// Rewriting a key with the bytes it already holds keeps its version.
    KeepsVersionOnRewrite,
    /// `commit` reports a version other than the one it stored.
    ReportsWrongCommitVersion,
    /// `commit` never checks expectations.
    IgnoresExpectations,
    /// A conflict names the first expected key, not the one that failed.
    ConflictNamesFirstExpectation,
    /// Versions count writes per key, restarting after a delete.
    PerKeyVersions,
    /// Deleting an absent key fails.
    DeleteOfAbsentFails,
    /// Checks each key's expectation just before writing it, so a late
    /// failure leaves the earlier writes applied.
    AppliesPartialBatch,
    /// Checks only the expectations of keys the batch writes.
    ChecksOnlyWrittenKeys,
    /// Checks only the expectations of keys the batch puts: a delete
    /// guarded by a version always applies.
    ChecksOnlyPutKeys,
    /// Appends the batch's events even when it conflicts.
    AppendsEventsOnConflict,
    /// Numbers events from 0.
    NumbersEventsFromZero,
    /// `read_events` includes the event with `seq == after`.
    ReadEventsIncludesAfter,
    /// Checks expectations, waits a few milliseconds (so racing commits
    /// reliably check before any of them applies), then applies.
    NonAtomicCommit,
    /// Keeps a deleted record as a tombstone with its last version, and
    /// takes an expectation of that version as met once the key lives
    /// again (a soft-deleting store that looks for any row of the key with
    /// the expected version).
    TombstonesMeetExpectations,
    /// Gives a commit its event sequence numbers first and makes them
    /// visible later (as numbers from a database sequence would be): a
    /// commit with an odd first number waits a few milliseconds before it
    /// applies, so later numbers become visible before earlier ones.
    NumbersEventsBeforeCommitting,
}

#[derive(Default)]
struct State {
    /// In first-write order.
    records: Vec<Record>,
    last_version: u64,
    /// In sequence order.
    events: Vec<StoredEvent>,
    /// The last sequence number given out, for
    /// [`Fault::NumbersEventsBeforeCommitting`].
    last_seq: u64,
    /// Deleted keys and their last versions, for
    /// [`Fault::TombstonesMeetExpectations`].
    tombstones: Vec<(Key, Version)>,
}

/// A store breaking the rule named by its [`Fault`].
pub struct FaultyStore {
    fault: Fault,
    state: Mutex<State>,
}

impl FaultyStore {
    /// A new empty store with `fault`, ready for the conformance kit.
    pub fn shared(fault: Fault) -> Arc<dyn Storage> {
        Arc::new(FaultyStore {
            fault,
            state: Mutex::default(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("no test panics while holding the lock")
    }

    /// The key of the first expectation that does not hold, if any.
    fn failed_expectation(&self, state: &State, batch: &CommitBatch) -> Option<Key> {
        if self.fault == Fault::IgnoresExpectations {
            return None;
        }
        let failed = batch.expectations.iter().find(|expected| {
            let written = batch.mutations.iter().any(|m| m.key() == expected.key);
            let deleted = batch
                .mutations
                .iter()
                .any(|m| matches!(m, Mutation::Delete { key } if *key == expected.key));
            let current = state.records.iter().find(|r| r.key == expected.key);
            let tombstone_meets = self.fault == Fault::TombstonesMeetExpectations
                && current.is_some()
                && expected
                    .version
                    .is_some_and(|v| state.tombstones.contains(&(expected.key.clone(), v)));
            (written || self.fault != Fault::ChecksOnlyWrittenKeys)
                && !(deleted && self.fault == Fault::ChecksOnlyPutKeys)
                && !tombstone_meets
                && current.map(|r| r.version) != expected.version
        })?;
        Some(match self.fault {
            Fault::ConflictNamesFirstExpectation => batch.expectations[0].key.clone(),
            _ => failed.key.clone(),
        })
    }

    fn apply(
        &self,
        state: &mut State,
        mutation: Mutation,
        version: Version,
    ) -> Result<(), StorageError> {
        let position = state.records.iter().position(|r| r.key == mutation.key());
        match (mutation, position) {
            (Mutation::Put { key, value }, None) => {
                let version = if self.fault == Fault::PerKeyVersions {
                    Version(1)
                } else {
                    version
                };
                state.records.push(Record {
                    key,
                    value: self.stored(value),
                    version,
                });
            }
            (Mutation::Put { value, .. }, Some(at)) => {
                let record = &mut state.records[at];
                let value = self.stored(value);
                record.version = match self.fault {
                    Fault::PerKeyVersions => Version(record.version.0 + 1),
                    Fault::KeepsVersionOnRewrite if record.value == value => record.version,
                    _ => version,
                };
                record.value = value;
            }
            (Mutation::Delete { .. }, Some(at)) => {
                let removed = state.records.remove(at);
                state.tombstones.push((removed.key, removed.version));
            }
            (Mutation::Delete { key }, None) if self.fault == Fault::DeleteOfAbsentFails => {
                return Err(StorageError::backend(format!("no record at {key}")));
            }
            (Mutation::Delete { .. }, None) => {}
        }
        Ok(())
    }

    fn stored(&self, value: Vec<u8>) -> Vec<u8> {
        match self.fault {
            Fault::MangledValues => String::from_utf8_lossy(&value).into_owned().into_bytes(),
            _ => value,
        }
    }

    fn append_events(&self, state: &mut State, batch: &CommitBatch) {
        for new in &batch.events {
            let seq =
                state.events.len() as u64 + u64::from(self.fault != Fault::NumbersEventsFromZero);
            state.events.push(StoredEvent {
                seq,
                kind: new.kind.clone(),
                payload: new.payload.clone(),
            });
        }
    }

    /// Takes sequence numbers for the batch's events, waits if the first
    /// one is odd, then commits with those numbers.
    async fn commit_numbered_early(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        let first = {
            let mut state = self.state();
            let first = state.last_seq + 1;
            state.last_seq += batch.events.len() as u64;
            first
        };
        if first % 2 == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
        let mut state = self.state();
        if let Some(key) = self.failed_expectation(&state, &batch) {
            return Err(StorageError::Conflict { key });
        }
        state.last_version += 1;
        let version = Version(state.last_version);
        for (seq, new) in (first..).zip(&batch.events) {
            let at = state.events.partition_point(|e| e.seq < seq);
            state.events.insert(
                at,
                StoredEvent {
                    seq,
                    kind: new.kind.clone(),
                    payload: new.payload.clone(),
                },
            );
        }
        for mutation in batch.mutations {
            self.apply(&mut state, mutation, version)?;
        }
        Ok(Committed { version })
    }

    fn commit_partially(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        let mut state = self.state();
        state.last_version += 1;
        let version = Version(state.last_version);
        for mutation in batch.mutations {
            let expected = batch.expectations.iter().find(|e| e.key == mutation.key());
            let current = state
                .records
                .iter()
                .find(|r| r.key == mutation.key())
                .map(|r| r.version);
            if let Some(expected) = expected.filter(|e| e.version != current) {
                return Err(StorageError::Conflict {
                    key: expected.key.clone(),
                });
            }
            self.apply(&mut state, mutation, version)?;
        }
        Ok(Committed { version })
    }
}

#[async_trait]
impl Storage for FaultyStore {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let state = self.state();
        let found = keys
            .iter()
            .map(|key| state.records.iter().find(|r| &r.key == key).cloned());
        Ok(match self.fault {
            Fault::GetSkipsAbsentKeys => found.flatten().map(Some).collect(),
            _ => found.collect(),
        })
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let mut records: Vec<Record> = self.state().records.clone();
        if self.fault != Fault::ScanInWriteOrder {
            records.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let in_range = |r: &&Record| match self.fault {
            Fault::ScanIncludesEnd => {
                r.key >= range.start && range.end.as_ref().is_none_or(|end| &r.key <= end)
            }
            _ => range.contains(&r.key),
        };
        let limit = if self.fault == Fault::ScanIgnoresLimit {
            usize::MAX
        } else {
            limit
        };
        Ok(records
            .iter()
            .filter(in_range)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        if self.fault == Fault::AppliesPartialBatch {
            return self.commit_partially(batch);
        }
        if self.fault == Fault::NumbersEventsBeforeCommitting {
            return self.commit_numbered_early(batch).await;
        }
        if self.fault == Fault::NonAtomicCommit {
            let failed = self.failed_expectation(&self.state(), &batch);
            if let Some(key) = failed {
                return Err(StorageError::Conflict { key });
            }
            // A real pause, not a yield: on a loaded machine a yield may
            // not let a racing task in, and the kit must see the race.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut state = self.state();
        if let Some(key) = self
            .failed_expectation(&state, &batch)
            .filter(|_| self.fault != Fault::NonAtomicCommit)
        {
            if self.fault == Fault::AppendsEventsOnConflict {
                self.append_events(&mut state, &batch);
            }
            return Err(StorageError::Conflict { key });
        }
        state.last_version += 1;
        let version = Version(state.last_version);
        self.append_events(&mut state, &batch);
        for mutation in batch.mutations {
            self.apply(&mut state, mutation, version)?;
        }
        let reported = if self.fault == Fault::ReportsWrongCommitVersion {
            Version(version.0 + 1)
        } else {
            version
        };
        Ok(Committed { version: reported })
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let state = self.state();
        let included = |e: &&StoredEvent| match self.fault {
            Fault::ReadEventsIncludesAfter => e.seq >= after,
            _ => e.seq > after,
        };
        Ok(state
            .events
            .iter()
            .filter(included)
            .take(limit)
            .cloned()
            .collect())
    }
}
