//! Stores: the adapters of the [`Storage`](crate::ports::Storage) port that
//! ship with Reservo.
//!
//! * [`MemoryStore`] — always there; for tests, demos and short-lived hosts.
//! * `SqliteStore` — the embedded, durable default (feature `sqlite`).
//! * `PostgresStore` — many app instances sharing one PostgreSQL (or
//!   CockroachDB, YugabyteDB) database (feature `postgres`).
//! * `conformance` — the contract tests every store must pass, ours and a
//!   host's (feature `conformance`).
//!
//! This module owns what every store shares: the rules a
//! [`CommitBatch`](crate::ports::CommitBatch) must follow before any store
//! looks at its data ([`validate_batch`]). It must never hold domain logic:
//! stores keep bytes in key order and know nothing of bookings.

use std::collections::HashSet;

use crate::ports::{CommitBatch, StorageError};

mod memory;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::{MemoryStore, StoreDump};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

/// The longest key a store accepts, in bytes.
pub const MAX_KEY_LEN: usize = 512;

/// Checks that `key` is a valid [`Key`](crate::ports::Key): printable ASCII
/// (`0x21..=0x7E`), 1 to [`MAX_KEY_LEN`] bytes.
///
/// ```
/// use reservo::store::validate_key;
/// assert!(validate_key("bk/booking/01J").is_ok());
/// assert!(validate_key("has space").is_err());
/// assert!(validate_key("").is_err());
/// ```
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(StorageError::backend(format!(
            "invalid key {key:?}: must be 1 to {MAX_KEY_LEN} bytes, is {}",
            key.len()
        )));
    }
    if let Some(bad) = key.bytes().find(|b| !(0x21..=0x7E).contains(b)) {
        return Err(StorageError::backend(format!(
            "invalid key {key:?}: byte 0x{bad:02X} is not printable ASCII"
        )));
    }
    Ok(())
}

/// Checks the shape of a batch before a store applies it: every key valid,
/// a key at most once among the expectations and at most once among the
/// mutations.
///
/// Stores call this first and return its error unchanged, so a malformed
/// batch changes nothing and is reported as [`StorageError::Backend`] with a
/// message naming the key and the rule it broke — never as a
/// [`StorageError::Conflict`], which would make the engine retry it.
///
/// ```
/// use reservo::ports::{CommitBatch, Mutation};
/// use reservo::store::validate_batch;
///
/// let put = |key: &str| Mutation::Put { key: key.into(), value: b"{}".to_vec() };
/// let twice = CommitBatch { mutations: vec![put("a"), put("a")], ..Default::default() };
/// assert!(validate_batch(&twice).is_err());
/// ```
pub fn validate_batch(batch: &CommitBatch) -> Result<(), StorageError> {
    let mut expected = HashSet::with_capacity(batch.expectations.len());
    for expectation in &batch.expectations {
        validate_key(&expectation.key)?;
        if !expected.insert(expectation.key.as_str()) {
            return Err(StorageError::backend(format!(
                "invalid batch: key {:?} is expected more than once",
                expectation.key
            )));
        }
    }
    let mut written = HashSet::with_capacity(batch.mutations.len());
    for mutation in &batch.mutations {
        validate_key(mutation.key())?;
        if !written.insert(mutation.key()) {
            return Err(StorageError::backend(format!(
                "invalid batch: key {:?} is written more than once",
                mutation.key()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Expectation, Mutation};

    #[test]
    fn keys_outside_printable_ascii_or_length_are_rejected() {
        assert!(validate_key("!").is_ok());
        assert!(validate_key("~").is_ok());
        assert!(validate_key(&"k".repeat(MAX_KEY_LEN)).is_ok());
        assert!(validate_key(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(validate_key("").is_err());
        assert!(validate_key("tab\there").is_err());
        assert!(validate_key("caf\u{e9}").is_err());
        assert!(validate_key("del\u{7f}").is_err());
    }

    #[test]
    fn batch_with_a_key_expected_twice_is_rejected() {
        let expect = |key: &str| Expectation {
            key: key.into(),
            version: None,
        };
        let batch = CommitBatch {
            expectations: vec![expect("a"), expect("b"), expect("a")],
            ..Default::default()
        };
        assert!(matches!(
            validate_batch(&batch),
            Err(StorageError::Backend { .. })
        ));
    }

    #[test]
    fn batch_may_expect_and_write_the_same_key_once_each() {
        let batch = CommitBatch {
            durability: Default::default(),
            expectations: vec![Expectation {
                key: "a".into(),
                version: None,
            }],
            mutations: vec![
                Mutation::Put {
                    key: "a".into(),
                    value: vec![],
                },
                Mutation::Delete { key: "b".into() },
            ],
            events: vec![],
        };
        assert!(validate_batch(&batch).is_ok());
    }

    #[test]
    fn batch_with_an_invalid_key_is_rejected() {
        let batch = CommitBatch {
            mutations: vec![Mutation::Delete {
                key: "no spaces".into(),
            }],
            ..Default::default()
        };
        assert!(validate_batch(&batch).is_err());
    }
}
