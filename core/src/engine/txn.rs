//! One optimistic change to storage, and the retry loop around it.
//!
//! Owns turning "what I read and what I want to write" into a
//! [`CommitBatch`] whose expectations pin every record the decision was
//! based on, and retrying the whole read-decide-commit cycle on conflict.
//! Must never commit a write without expecting the version it was read at.

use std::collections::BTreeMap;
use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ports::{
    CommitBatch, Expectation, Key, Mutation, NewEvent, Record, StorageError, Version,
};

/// A change being assembled.
#[derive(Debug, Default)]
pub(crate) struct Txn {
    expectations: BTreeMap<Key, Option<Version>>,
    mutations: BTreeMap<Key, Mutation>,
    events: Vec<NewEvent>,
}

impl Txn {
    /// Pins `key` at `version` (`None`: absent) for the commit.
    pub fn expect(&mut self, key: &str, version: Option<Version>) {
        self.expectations.insert(key.to_owned(), version);
    }

    /// Pins a record as read (or its absence).
    pub fn expect_read(&mut self, key: &str, record: Option<&Record>) {
        self.expect(key, record.map(|r| r.version));
    }

    pub fn put_raw(&mut self, key: &str, value: Vec<u8>) {
        let key = key.to_owned();
        self.mutations
            .insert(key.clone(), Mutation::Put { key, value });
    }

    pub fn put_json<T: Serialize>(&mut self, key: &str, value: &T) {
        self.put_raw(key, encode_json(value));
    }

    pub fn delete(&mut self, key: &str) {
        let key = key.to_owned();
        self.mutations.insert(key.clone(), Mutation::Delete { key });
    }

    pub fn event<T: Serialize>(&mut self, kind: &str, payload: &T) {
        self.events.push(NewEvent {
            kind: kind.to_owned(),
            payload: encode_json(payload),
        });
    }

    pub fn into_batch(self) -> CommitBatch {
        CommitBatch {
            expectations: self
                .expectations
                .into_iter()
                .map(|(key, version)| Expectation { key, version })
                .collect(),
            mutations: self.mutations.into_values().collect(),
            events: self.events,
        }
    }
}

pub(crate) fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("engine records always serialize")
}

pub(crate) fn decode_json<T: DeserializeOwned>(record: &Record) -> Result<T> {
    serde_json::from_slice(&record.value).map_err(|e| Error::CorruptRecord {
        key: record.key.clone(),
        message: e.to_string(),
    })
}

/// Runs `attempt` until it does not end in a storage conflict, at most
/// `max_attempts` times. Each attempt must re-read what it depends on.
pub(crate) async fn retry_on_conflict<T, F, Fut>(max_attempts: u32, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut last_key = String::new();
    for _ in 0..max_attempts {
        match attempt().await {
            Err(Error::Storage(StorageError::Conflict { key })) => last_key = key,
            other => return other,
        }
    }
    Err(Error::Contention {
        attempts: max_attempts,
        key: last_key,
    })
}
