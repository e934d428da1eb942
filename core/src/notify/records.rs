//! The notifier's records in the storage port: keys, encodings, and the
//! commit batches that move them.
//!
//! | key | record |
//! |---|---|
//! | `sms/cursor` | `{"v":1,"after":<seq>}`: every outbox event up to `after` has been turned into deliveries |
//! | `sms/q/<due ms, 15 digits>/<seq, 20 digits>/<audience>` | a pending delivery, keyed by when it is next due (a claim moves it to its lease's end) |
//! | `sms/sent/<seq>/<audience>` | a delivered delivery |
//! | `sms/failed/<seq>/<audience>` | a delivery given up |
//!
//! Delivery values are `{"v":1, ...}` with the fields of [`Delivery`].
//!
//! A delivery's state decides its key, so "what is due now" is one range
//! scan and a delivery is in exactly one place. Every batch here expects
//! the version of each record it replaces and the absence of each record
//! it creates, so two dispatchers can never both apply the same step.
//!
//! Must never be bypassed: no other notify module formats keys. These are
//! meant to move to `engine/keys.rs` (the functions) and `engine::txn::Txn`
//! (the batches) once the engine module is compiled into the crate.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::notify::{Delivery, DeliveryState};
use crate::ports::{CommitBatch, Expectation, Key, KeyRange, Mutation, Record, Version};

/// The cursor record.
pub(super) const CURSOR: &str = "sms/cursor";
/// Pending deliveries, by due time.
pub(super) const QUEUED: &str = "sms/q/";
/// Delivered deliveries, by event.
pub(super) const SENT: &str = "sms/sent/";
/// Failed deliveries, by event.
pub(super) const FAILED: &str = "sms/failed/";

/// The encoding version of the records here.
const FORMAT: u32 = 1;

/// Milliseconds since the epoch, as 15 digits (enough until year 33658);
/// instants before 1970 sort as 1970.
fn due(at: DateTime<Utc>) -> String {
    format!("{:015}", at.timestamp_millis().max(0))
}

/// The key a delivery lives at, given its state.
pub(super) fn key_of(delivery: &Delivery) -> Key {
    let (seq, audience) = (delivery.seq, delivery.audience.as_str());
    match delivery.state {
        DeliveryState::Pending {
            next_attempt_at, ..
        } => format!("{QUEUED}{}/{seq:020}/{audience}", due(next_attempt_at)),
        DeliveryState::Delivered { .. } => format!("{SENT}{seq:020}/{audience}"),
        DeliveryState::Failed { .. } => format!("{FAILED}{seq:020}/{audience}"),
    }
}

/// Pending deliveries due at or before `now`, earliest first.
pub(super) fn due_by(now: DateTime<Utc>) -> KeyRange {
    let after_now = now + chrono::Duration::milliseconds(1);
    KeyRange {
        start: QUEUED.to_owned(),
        end: Some(format!("{QUEUED}{}", due(after_now))),
    }
}

/// Every record here: its encoding version, then its fields.
#[derive(Serialize, Deserialize)]
struct Versioned<T> {
    v: u32,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    after: u64,
}

fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(&Versioned { v: FORMAT, body }).expect("notify records always serialize")
}

fn decode<T: DeserializeOwned>(record: &Record) -> Result<T> {
    let corrupt = |message: String| Error::CorruptRecord {
        key: record.key.clone(),
        message,
    };
    let stored: Versioned<T> =
        serde_json::from_slice(&record.value).map_err(|e| corrupt(e.to_string()))?;
    if stored.v != FORMAT {
        return Err(corrupt(format!("unknown record format {}", stored.v)));
    }
    Ok(stored.body)
}

/// The last outbox sequence already turned into deliveries (0: none).
pub(super) fn decode_cursor(record: Option<&Record>) -> Result<u64> {
    record.map_or(Ok(0), |r| decode::<Cursor>(r).map(|c| c.after))
}

/// A delivery as stored.
pub(super) fn decode_delivery(record: &Record) -> Result<Delivery> {
    decode(record)
}

fn put_delivery(delivery: &Delivery) -> Mutation {
    Mutation::Put {
        key: key_of(delivery),
        value: encode(delivery),
    }
}

/// Moves the cursor from where it was read (`cursor`, absent before the
/// first batch) to `after`, creating `deliveries`.
pub(super) fn ingest(cursor: Option<&Record>, after: u64, deliveries: &[Delivery]) -> CommitBatch {
    let mut expectations = vec![Expectation {
        key: CURSOR.to_owned(),
        version: cursor.map(|r| r.version),
    }];
    let mut mutations = vec![Mutation::Put {
        key: CURSOR.to_owned(),
        value: encode(&Cursor { after }),
    }];
    for delivery in deliveries {
        let put = put_delivery(delivery);
        expectations.push(Expectation {
            key: put.key().to_owned(),
            version: None,
        });
        mutations.push(put);
    }
    CommitBatch {
        durability: Default::default(),
        expectations,
        mutations,
        events: Vec::new(),
    }
}

/// Replaces the delivery at `old_key` (read at `old_version`) by `delivery`,
/// at the key its new state gives it.
pub(super) fn replace(old_key: &str, old_version: Version, delivery: &Delivery) -> CommitBatch {
    let put = put_delivery(delivery);
    let mut expectations = vec![Expectation {
        key: old_key.to_owned(),
        version: Some(old_version),
    }];
    let mut mutations = Vec::with_capacity(2);
    if put.key() != old_key {
        expectations.push(Expectation {
            key: put.key().to_owned(),
            version: None,
        });
        mutations.push(Mutation::Delete {
            key: old_key.to_owned(),
        });
    }
    mutations.push(put);
    CommitBatch {
        durability: Default::default(),
        expectations,
        mutations,
        events: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Audience;
    use chrono::TimeZone;

    fn pending(seq: u64, at: DateTime<Utc>) -> Delivery {
        Delivery {
            seq,
            event_kind: "booking.confirmed".into(),
            audience: Audience::Guest,
            dedupe_key: Delivery::dedupe_key_for(seq, Audience::Guest),
            message: None,
            state: DeliveryState::Pending {
                next_attempt_at: at,
                claimed: false,
            },
            attempts: 0,
            last_error: None,
            created_at: at,
        }
    }

    #[test]
    fn queued_keys_sort_by_due_time_then_event_and_due_range_is_inclusive() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
        let early = key_of(&pending(99, t));
        let late = key_of(&pending(1, t + chrono::Duration::milliseconds(1)));
        assert_eq!(early, "sms/q/001782896400000/00000000000000000099/guest");
        assert!(early < late);
        assert!(due_by(t).contains(&early));
        assert!(!due_by(t).contains(&late));
        assert!(!due_by(t).contains(SENT));
    }

    #[test]
    fn unknown_format_is_a_corrupt_record() {
        let record = Record {
            key: CURSOR.into(),
            value: br#"{"v":2,"after":3}"#.to_vec(),
            version: Version(1),
        };
        assert_eq!(
            decode_cursor(Some(&record)).unwrap_err().code(),
            "CORRUPT_RECORD"
        );
    }
}
