//! Idempotency of mutating commands.
//!
//! Owns the record that remembers, per host-chosen key, which command ran
//! with which request and what it produced. A replay with the same request
//! gets the stored result; the same key with a different request is
//! [`Error::IdempotencyConflict`]. The record is written in the same commit
//! as the command's effects, so a command and its record land together or
//! not at all. Must never decide anything else.
//!
//! A command that pays through the gateway claims its key when it records
//! its payment attempt, before any gateway call (see [`super::attempt`]):
//! the key holds a *claim* (`{"v":2,"command":...,"pending":true,
//! "request":...}`) until the attempt applies and replaces it with the
//! record. Every other command and request under a claimed key is a
//! conflict, as under a completed one, so no command can take the key of a
//! payment whose outcome is still unknown.
//!
//! The record is JSON, written as
//! `{"v":2,"command":"<command>","result":"<id>","request":<request>}` with
//! the request's canonical bytes (its serde JSON, fields in declaration
//! order) last and verbatim, so a replay is recognised by comparing bytes,
//! without building a JSON tree. Anything else under the key (a record of
//! version 1, whose request was written with sorted keys, or another
//! command) is compared as JSON values.

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::ports::Record;

use super::txn::{Txn, decode_json};

/// A request in canonical form: its JSON bytes as serde writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint(Vec<u8>);

impl Fingerprint {
    /// The canonical bytes of `request`.
    pub fn of<T: Serialize>(request: &T) -> Fingerprint {
        Fingerprint(serde_json::to_vec(request).expect("requests serialize"))
    }

    /// The request as a JSON value (for records that keep it as one).
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.0).expect("a fingerprint is JSON")
    }
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

const HEAD: &[u8] = br#"{"v":2,"command":"#;

/// The record of `command` with `request` and `result`.
fn encode(command: &str, request: &Fingerprint, result: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + command.len() + result.len() + request.0.len());
    out.extend_from_slice(HEAD);
    serde_json::to_writer(&mut out, command).expect("strings serialize");
    out.extend_from_slice(br#","result":"#);
    serde_json::to_writer(&mut out, result).expect("strings serialize");
    out.extend_from_slice(br#","request":"#);
    out.extend_from_slice(&request.0);
    out.push(b'}');
    out
}

/// The result of a version-2 record of `command` with exactly `request`,
/// read without parsing the request; `None` if the bytes are anything else.
fn exact_replay<'r>(bytes: &'r [u8], command: &str, request: &Fingerprint) -> Option<&'r str> {
    let rest = bytes.strip_prefix(HEAD)?.strip_prefix(b"\"")?;
    let rest = rest.strip_prefix(command.as_bytes())?;
    let rest = rest.strip_prefix(br#"","result":""#)?;
    let rest = rest.strip_suffix(b"}")?.strip_suffix(&request.0[..])?;
    let result = rest.strip_suffix(br#"","request":"#)?;
    // Results are ids: printable ASCII without quotes or escapes.
    if result.iter().any(|b| *b == b'"' || *b == b'\\') {
        return None;
    }
    std::str::from_utf8(result).ok()
}

/// What an idempotency record says to `command` with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyUse {
    /// Nothing is under the key.
    Unused,
    /// The command completed with this result id.
    Done(String),
    /// A payment attempt of this very command and request claimed the key
    /// and has not applied yet.
    Claimed,
}

/// How `command` with `request` finds the key: unused, completed with a
/// result, or claimed by its own payment attempt; a conflict if another
/// command or request used or claimed it.
pub(crate) fn key_use(
    key: &str,
    record: Option<&Record>,
    command: &str,
    request: &Fingerprint,
) -> Result<KeyUse> {
    let Some(record) = record else {
        return Ok(KeyUse::Unused);
    };
    if let Some(result) = exact_replay(&record.value, command, request) {
        return Ok(KeyUse::Done(result.to_owned()));
    }
    let stored: Value = decode_json(record)?;
    let same = stored.get("command").and_then(Value::as_str) == Some(command)
        && stored.get("request") == Some(&request.to_value());
    let claimed = stored.get("pending").and_then(Value::as_bool) == Some(true);
    match stored.get("result").and_then(Value::as_str) {
        Some(result) if same => Ok(KeyUse::Done(result.to_owned())),
        None if same && claimed => Ok(KeyUse::Claimed),
        _ if same => Err(Error::CorruptRecord {
            key: record.key.clone(),
            message: "idempotency record without a result".into(),
        }),
        _ => Err(Error::IdempotencyConflict {
            key: key.to_owned(),
        }),
    }
}

/// The stored result id if `record` is a replay of `command` with
/// `request`; a conflict if the key was used or claimed otherwise, or is
/// claimed by a payment attempt (only the attempt resumes its claim);
/// `None` if unused.
pub(crate) fn replayed(
    key: &str,
    record: Option<&Record>,
    command: &str,
    request: &Fingerprint,
) -> Result<Option<String>> {
    match key_use(key, record, command, request)? {
        KeyUse::Unused => Ok(None),
        KeyUse::Done(result) => Ok(Some(result)),
        KeyUse::Claimed => Err(Error::IdempotencyConflict {
            key: key.to_owned(),
        }),
    }
}

impl super::Engine {
    /// Reads the key's record: the stored result id if `command` with
    /// `request` already ran under `key`, `None` if the key is unused, a
    /// conflict otherwise (see [`replayed`]).
    pub(crate) async fn replay_of(
        &self,
        key: &str,
        command: &str,
        request: &Fingerprint,
    ) -> Result<Option<String>> {
        let storage_key = super::keys::idempotency(key);
        let record = self.storage.get(std::slice::from_ref(&storage_key)).await?;
        replayed(key, record[0].as_ref(), command, request)
    }
}

/// Records the key in `txn`, expecting it to be unused.
pub(crate) fn remember(
    txn: &mut Txn,
    storage_key: &str,
    command: &str,
    request: &Fingerprint,
    result: &str,
) {
    txn.expect(storage_key, None);
    txn.put_raw(storage_key, encode(command, request, result));
}

/// Claims the key in `txn` for a payment attempt of `command` with
/// `request`, expecting it to be unused.
pub(crate) fn claim(txn: &mut Txn, storage_key: &str, command: &str, request: &Fingerprint) {
    txn.expect(storage_key, None);
    txn.put_raw(storage_key, encode_claim(command, request));
}

/// The claim of `command` with `request`.
fn encode_claim(command: &str, request: &Fingerprint) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + command.len() + request.0.len());
    out.extend_from_slice(HEAD);
    serde_json::to_writer(&mut out, command).expect("strings serialize");
    out.extend_from_slice(br#","pending":true,"request":"#);
    out.extend_from_slice(&request.0);
    out.push(b'}');
    out
}

/// Records in `txn` the result of the command whose claim is `claimed`
/// (the record as read, pinned), or of one that never claimed the key
/// (`None`: expected unused).
pub(crate) fn remember_claimed(
    txn: &mut Txn,
    storage_key: &str,
    claimed: Option<&Record>,
    command: &str,
    request: &Fingerprint,
    result: &str,
) {
    txn.expect_read(storage_key, claimed);
    txn.put_raw(storage_key, encode(command, request, result));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Version;
    use serde_json::json;

    fn record(value: Vec<u8>) -> Record {
        Record {
            key: "idem/k".into(),
            value,
            version: Version(1),
        }
    }

    #[test]
    fn a_replay_is_recognised_by_its_bytes_and_anything_else_conflicts() {
        let request = Fingerprint::of(&json!({"b": 1, "a": [1, 2]}));
        let stored = record(encode("hold", &request, "h-1"));
        let value: Value = serde_json::from_slice(&stored.value).unwrap();
        assert_eq!(value["request"], request.to_value());
        assert_eq!(exact_replay(&stored.value, "hold", &request), Some("h-1"));
        let replay = replayed("k", Some(&stored), "hold", &request).unwrap();
        assert_eq!(replay.as_deref(), Some("h-1"));
        let other = Fingerprint::of(&json!({"b": 2}));
        for (command, request) in [("hold", &other), ("confirm", &request)] {
            let err = replayed("k", Some(&stored), command, request).unwrap_err();
            assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
        }
        assert_eq!(replayed("k", None, "hold", &request).unwrap(), None);
    }

    #[test]
    fn a_claim_is_its_own_attempts_and_a_conflict_for_everything_else() {
        let request = Fingerprint::of(&json!({"hold": "h-1"}));
        let stored = record(encode_claim("pay_and_confirm", &request));
        let own = key_use("k", Some(&stored), "pay_and_confirm", &request).unwrap();
        assert_eq!(own, KeyUse::Claimed);
        for (command, request) in [
            ("cancel", &request),
            ("pay_and_confirm", &Fingerprint::of(&json!({"hold": "h-2"}))),
        ] {
            let err = key_use("k", Some(&stored), command, request).unwrap_err();
            assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
        }
        let err = replayed("k", Some(&stored), "pay_and_confirm", &request).unwrap_err();
        assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    }

    /// Results are ids and never need escaping; one that did is read
    /// through the JSON decoder, not taken as its raw escaped bytes.
    #[test]
    fn a_result_that_needs_escaping_is_read_as_json() {
        let request = Fingerprint::of(&json!({"hold": "h-1"}));
        for result in [r#"h"1"#, r"h\1"] {
            let stored = record(encode("hold", &request, result));
            assert_eq!(exact_replay(&stored.value, "hold", &request), None);
            let replay = replayed("k", Some(&stored), "hold", &request).unwrap();
            assert_eq!(replay.as_deref(), Some(result));
        }
    }

    /// A record of this very request with neither a result nor a claim
    /// was not written by the engine: corrupt, not a conflict.
    #[test]
    fn a_record_of_the_request_without_a_result_or_claim_is_corrupt() {
        let request = Fingerprint::of(&json!({"hold": "h-1"}));
        let bare = json!({"v": 2, "command": "hold", "request": request.to_value()});
        let stored = record(serde_json::to_vec(&bare).unwrap());
        let err = key_use("k", Some(&stored), "hold", &request).unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD");
        let err = key_use("k", Some(&stored), "release", &request).unwrap_err();
        assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    }

    #[test]
    fn version_1_records_with_sorted_keys_still_replay() {
        let typed = Fingerprint(br#"{"z":1,"a":"x"}"#.to_vec());
        let v1 = json!({"command": "hold", "request": {"a": "x", "z": 1}, "result": "h-9"});
        let stored = record(serde_json::to_vec(&v1).unwrap());
        let replay = replayed("k", Some(&stored), "hold", &typed).unwrap();
        assert_eq!(replay.as_deref(), Some("h-9"));
    }
}
