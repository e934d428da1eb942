//! Idempotency of mutating commands.
//!
//! Owns the record that remembers, per host-chosen key, which command ran
//! with which request and what it produced. A replay with the same request
//! gets the stored result; the same key with a different request is
//! [`Error::IdempotencyConflict`]. The record is written in the same commit
//! as the command's effects, so a command and its record land together or
//! not at all. Must never decide anything else.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ports::Record;

use super::txn::{Txn, decode_json};

/// What a key was used for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct IdempotencyRecord {
    /// The command (`hold`, `confirm`, ...).
    pub command: String,
    /// The request exactly as first given.
    pub request: serde_json::Value,
    /// The id of what the command produced.
    pub result: String,
}

/// Checks an idempotency key: 1-200 printable ASCII characters.
pub(crate) fn validate_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return Err(Error::invalid(
            "idempotency_key",
            format!("{key:?} must be 1-200 printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}

/// The stored result id if `record` is a replay of `command` with
/// `request`; a conflict if the key was used otherwise; `None` if unused.
pub(crate) fn replayed(
    key: &str,
    record: Option<&Record>,
    command: &str,
    request: &serde_json::Value,
) -> Result<Option<String>> {
    let Some(record) = record else {
        return Ok(None);
    };
    let stored: IdempotencyRecord = decode_json(record)?;
    if stored.command == command && &stored.request == request {
        Ok(Some(stored.result))
    } else {
        Err(Error::IdempotencyConflict {
            key: key.to_owned(),
        })
    }
}

/// Records the key in `txn`, expecting it to be unused.
pub(crate) fn remember(
    txn: &mut Txn,
    storage_key: &str,
    command: &str,
    request: &serde_json::Value,
    result: &str,
) {
    txn.expect(storage_key, None);
    txn.put_json(
        storage_key,
        &IdempotencyRecord {
            command: command.to_owned(),
            request: request.clone(),
            result: result.to_owned(),
        },
    );
}
