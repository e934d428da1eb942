//! The vocabulary the cases are written in: a [`Failure`] that says what the
//! store did wrong, `ensure!`/`ensure_eq!`, and batch builders.

use std::fmt;
use std::sync::Arc;

use crate::ports::{
    CommitBatch, Committed, Expectation, KeyRange, Mutation, NewEvent, Record, Storage,
    StorageError, StoredEvent, Version,
};

/// What a store did that the contract forbids.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error where the case expected success fails the case.
impl From<StorageError> for Failure {
    fn from(error: StorageError) -> Self {
        Failure(format!("unexpected storage error: {error}"))
    }
}

/// What a case returns.
pub(crate) type Outcome = Result<(), Failure>;

/// Fails the case with a formatted message.
macro_rules! fail {
    ($($message:tt)+) => {
        return Err($crate::store::conformance::check::Failure(format!($($message)+)))
    };
}

/// Fails the case with a formatted message unless the condition holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            $crate::store::conformance::check::fail!($($message)+);
        }
    };
}

/// Fails the case unless `actual == expected`, showing both.
macro_rules! ensure_eq {
    ($actual:expr, $expected:expr, $($what:tt)+) => {{
        let (actual, expected) = (&$actual, &$expected);
        if actual != expected {
            return Err($crate::store::conformance::check::Failure(format!(
                "{}: expected {expected:?}, got {actual:?}",
                format!($($what)+)
            )));
        }
    }};
}

pub(crate) use {ensure, ensure_eq, fail};

/// Enough to read a whole test store in one call.
pub(crate) const EVERYTHING: usize = 1_000_000;

pub(crate) fn put(key: &str, value: &[u8]) -> Mutation {
    Mutation::Put {
        key: key.to_owned(),
        value: value.to_vec(),
    }
}

pub(crate) fn delete(key: &str) -> Mutation {
    Mutation::Delete {
        key: key.to_owned(),
    }
}

pub(crate) fn expect(key: &str, version: Option<Version>) -> Expectation {
    Expectation {
        key: key.to_owned(),
        version,
    }
}

pub(crate) fn event(kind: &str) -> NewEvent {
    NewEvent {
        kind: kind.to_owned(),
        payload: format!("{{\"kind\":\"{kind}\"}}").into_bytes(),
    }
}

pub(crate) fn batch(expectations: Vec<Expectation>, mutations: Vec<Mutation>) -> CommitBatch {
    CommitBatch {
        durability: Default::default(),
        expectations,
        mutations,
        events: Vec::new(),
    }
}

/// Puts `pairs` unconditionally in one commit.
pub(crate) async fn put_all(
    store: &Arc<dyn Storage>,
    pairs: &[(&str, &[u8])],
) -> Result<Committed, Failure> {
    let mutations = pairs.iter().map(|(key, value)| put(key, value)).collect();
    Ok(store.commit(batch(Vec::new(), mutations)).await?)
}

/// The record at `key`, or `None`.
pub(crate) async fn get_one(
    store: &Arc<dyn Storage>,
    key: &str,
) -> Result<Option<Record>, Failure> {
    let mut found = store.get(&[key.to_owned()]).await?;
    ensure_eq!(found.len(), 1, "get of one key returned this many results");
    Ok(found.pop().flatten())
}

/// The version of the record at `key`, or `None`.
pub(crate) async fn version_of(
    store: &Arc<dyn Storage>,
    key: &str,
) -> Result<Option<Version>, Failure> {
    Ok(get_one(store, key).await?.map(|record| record.version))
}

/// Everything a store shows through the port: every record and event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Contents {
    records: Vec<Record>,
    events: Vec<StoredEvent>,
}

pub(crate) async fn contents(store: &Arc<dyn Storage>) -> Result<Contents, Failure> {
    Ok(Contents {
        records: store.scan(&KeyRange::prefix(""), EVERYTHING).await?,
        events: store.read_events(0, EVERYTHING).await?,
    })
}

/// Commits `batch`, which must fail with a conflict naming `key` and leave
/// the store's contents exactly as they were.
pub(crate) async fn ensure_conflict_changes_nothing(
    store: &Arc<dyn Storage>,
    batch: CommitBatch,
    key: &str,
) -> Outcome {
    let before = contents(store).await?;
    match store.commit(batch).await {
        Err(StorageError::Conflict { key: named }) => {
            ensure_eq!(named, key, "the key named by the conflict")
        }
        Ok(committed) => {
            fail!("commit expected a conflict on {key:?} but succeeded with {committed:?}")
        }
        Err(other) => fail!("commit expected a conflict on {key:?} but failed with {other}"),
    }
    let after = contents(store).await?;
    ensure!(
        before == after,
        "a commit that conflicted on {key:?} changed the store:\nbefore {before:?}\nafter  {after:?}"
    );
    Ok(())
}
