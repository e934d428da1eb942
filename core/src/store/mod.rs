//! Stores: the adapters of the [`Storage`](crate::ports::Storage) port that
//! ship with Reservo.
//!
//! * [`MemoryStore`] — always there; for tests, demos and short-lived hosts.
//! * `SqliteStore` — the embedded, durable default (feature `sqlite`).
//! * `PostgresStore` — many app instances sharing one PostgreSQL (or
//!   CockroachDB, YugabyteDB) database (feature `postgres`).
//! * `conformance` — the contract tests every store must pass, ours and a
//!   host's (feature `conformance`).
//! * [`copy_store`] — moves everything from one store to another, such as
//!   from a SQLite file to PostgreSQL.
//!
//! This module owns what every store shares: the rules a
//! [`CommitBatch`] must follow before any store
//! looks at its data ([`validate_batch`]). It must never hold domain logic:
//! stores keep bytes in key order and know nothing of bookings.

use crate::ports::{CommitBatch, StorageError};

mod copy;
mod memory;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use copy::{CopyReport, copy_store};
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
    // One branch-free pass the compiler vectorizes; every key of every
    // commit comes through here. The slow search below only names the byte.
    let printable = key
        .bytes()
        .fold(true, |ok, b| ok & (b.wrapping_sub(0x21) < 0x7F - 0x21));
    if !printable && let Some(bad) = key.bytes().find(|b| !(0x21..=0x7E).contains(b)) {
        return Err(StorageError::backend(format!(
            "invalid key {key:?}: byte 0x{bad:02X} is not printable ASCII"
        )));
    }
    Ok(())
}

/// The first key after `key`: keys are printable ASCII (`0x21..=0x7E`), so
/// nothing sorts between `key` and `key` followed by `!`. Where a paged
/// scan goes on from.
pub(crate) fn key_after(key: &str) -> String {
    format!("{key}!")
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
    let expected = batch.expectations.iter().map(|e| e.key.as_str());
    if let Some(key) = first_repeated(expected)? {
        return Err(StorageError::backend(format!(
            "invalid batch: key {key:?} is expected more than once"
        )));
    }
    if let Some(key) = first_repeated(batch.mutations.iter().map(|m| m.key()))? {
        return Err(StorageError::backend(format!(
            "invalid batch: key {key:?} is written more than once"
        )));
    }
    Ok(())
}

/// Validates every key and returns one that occurs more than once, if any.
///
/// Sorting borrowed keys finds repeats without hashing: a booking's commit
/// has ten or so keys, where a `HashSet` cost more (its hasher's set-up and
/// SipHash of every key) than the sort; a catalog import of 10,000 keys
/// sorts in well under a millisecond.
fn first_repeated<'k>(
    keys: impl ExactSizeIterator<Item = &'k str>,
) -> Result<Option<&'k str>, StorageError> {
    let mut sorted = Vec::with_capacity(keys.len());
    for key in keys {
        validate_key(key)?;
        sorted.push(key);
    }
    sorted.sort_unstable();
    Ok(sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]))
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
        // Keys with no printable byte at all, below and above the range.
        for key in [" ", "\t\n", "\u{7f}", "\u{e9}", "\u{1F600}", " \u{e9} "] {
            assert!(validate_key(key).is_err(), "{key:?}");
        }
        // Every printable byte, alone.
        for b in 0x21..=0x7E_u8 {
            assert!(validate_key(&char::from(b).to_string()).is_ok(), "{b:#x}");
        }
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
    fn a_repeat_anywhere_in_a_large_batch_is_found_and_named() {
        let put = |key: String| Mutation::Put { key, value: vec![] };
        let mut mutations: Vec<_> = (0..1_000).map(|i| put(format!("k/{i:04}"))).collect();
        assert!(
            validate_batch(&CommitBatch {
                mutations: mutations.clone(),
                ..Default::default()
            })
            .is_ok()
        );
        mutations.insert(3, put("k/0777".into()));
        let Err(StorageError::Backend { message, .. }) = validate_batch(&CommitBatch {
            mutations,
            ..Default::default()
        }) else {
            panic!("a key written twice must be refused");
        };
        assert!(
            message.contains("\"k/0777\" is written more than once"),
            "{message}"
        );
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
