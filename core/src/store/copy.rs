//! Copying one store into another: how a host moves from the embedded
//! SQLite file to PostgreSQL when it outgrows one machine (or back, or
//! from any store to any other).
//!
//! Owns the copy's guarantees: the target must be empty; every record
//! arrives with its bytes, every outbox event with its sequence number (so
//! cursors kept in records, such as the notifier's, and cursors hosts keep
//! themselves stay valid); and the copy is checked against the source
//! afterwards, so a writer that was not stopped is found, not silently
//! half-copied. Must never write to the source.

use super::key_after;
use crate::error::{Error, Result};
use crate::ports::{CommitBatch, Expectation, KeyRange, Mutation, NewEvent, Storage};

/// Records or events a copy commits at once.
const PAGE: usize = 500;

/// What [`copy_store`] copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyReport {
    /// Records copied.
    pub records: u64,
    /// Outbox events copied (the last one's sequence number).
    pub events: u64,
}

/// Copies every record and outbox event of `source` into `target`, which
/// must be empty (a new SQLite file, a new PostgreSQL table prefix).
///
/// Stop every writer of `source` first (engines, notifiers, sweeps): the
/// copy reads it in pages. Records keep their bytes (their versions are
/// the target's own: nothing stores versions); events keep their sequence
/// numbers, so the notifier's cursor and the hosts' own event cursors go
/// on where they were. When it is done the copy reads `source` again and
/// compares: a source that changed meanwhile is an error. After an error,
/// throw the target away and copy again into a new, empty one.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use reservo::ports::{CommitBatch, Mutation, NewEvent, Storage};
/// use reservo::store::{MemoryStore, copy_store};
///
/// let old = MemoryStore::new();
/// old.commit(CommitBatch {
///     mutations: vec![Mutation::Put { key: "bk/1".into(), value: b"{}".to_vec() }],
///     events: vec![NewEvent { kind: "booking.confirmed".into(), payload: b"{}".to_vec() }],
///     ..CommitBatch::default()
/// })
/// .await?;
/// let new = MemoryStore::new();
/// let copied = copy_store(&old, &new).await?;
/// assert_eq!((copied.records, copied.events), (1, 1));
/// assert_eq!(new.read_events(0, 10).await?[0].seq, 1);
/// // Only into an empty store.
/// assert_eq!(copy_store(&old, &new).await.unwrap_err().code(), "INVALID_INPUT");
/// # Ok::<(), reservo::Error>(())
/// # }).unwrap();
/// ```
///
/// # Errors
///
/// `INVALID_INPUT` when `target` is not empty, when the source's events
/// are not numbered 1, 2, 3, … (a host store with gaps: the target would
/// number them differently), or when the source changed during the copy;
/// `STORAGE_ERROR` from either store. Nothing is written before the first
/// two checks pass.
pub async fn copy_store(source: &dyn Storage, target: &dyn Storage) -> Result<CopyReport> {
    let everything = KeyRange::prefix("");
    let target_empty =
        target.scan(&everything, 1).await?.is_empty() && target.read_events(0, 1).await?.is_empty();
    if !target_empty {
        return Err(Error::invalid(
            "target",
            "the store to copy into already has records or events: copy into a new, empty \
             store",
        ));
    }
    let numbered = check_numbering(source).await?;
    let events = copy_events(source, target).await?;
    let records = copy_records(source, target).await?;
    let more_events = !source.read_events(events, 1).await?.is_empty();
    if events != numbered || more_events || !same_records(source, target, records).await? {
        return Err(changed());
    }
    Ok(CopyReport { records, events })
}

fn changed() -> Error {
    Error::invalid(
        "source",
        "it changed while it was copied: stop every writer (engines, notifiers, sweeps), \
         then copy again into a new, empty store",
    )
}

/// The source's last sequence number, once every event is known to be
/// numbered 1, 2, 3, … (read before anything is written).
async fn check_numbering(source: &dyn Storage) -> Result<u64> {
    let mut last = 0;
    loop {
        let page = source.read_events(last, PAGE).await?;
        let Some(end) = page.last().map(|e| e.seq) else {
            return Ok(last);
        };
        for event in &page {
            if event.seq != last + 1 {
                return Err(Error::invalid(
                    "source",
                    format!(
                        "its events skip from sequence {last} to {}: a copy would number \
                         them differently and move every event cursor",
                        event.seq
                    ),
                ));
            }
            last = event.seq;
        }
        debug_assert_eq!(last, end);
    }
}

/// Appends the source's events to the target in order, a page a commit,
/// checking that each keeps its sequence number.
async fn copy_events(source: &dyn Storage, target: &dyn Storage) -> Result<u64> {
    let mut last = 0;
    loop {
        let page = source.read_events(last, PAGE).await?;
        if page.is_empty() {
            return Ok(last);
        }
        let first = page[0].seq;
        let events = page
            .into_iter()
            .map(|e| {
                last = e.seq;
                NewEvent {
                    kind: e.kind,
                    payload: e.payload,
                }
            })
            .collect();
        target
            .commit(CommitBatch {
                events,
                ..CommitBatch::default()
            })
            .await?;
        let landed = target.read_events(first - 1, 1).await?;
        if let Some(other) = landed.first().map(|e| e.seq).filter(|seq| *seq != first) {
            return Err(Error::invalid(
                "target",
                format!(
                    "it numbered the source's event {first} as {other}: only a store that \
                     was empty when the copy began numbers events as the source did"
                ),
            ));
        }
    }
}

/// Puts every source record into the target, a page a commit, each
/// expected absent (so nothing written to the target meanwhile is
/// overwritten).
async fn copy_records(source: &dyn Storage, target: &dyn Storage) -> Result<u64> {
    let mut range = KeyRange::prefix("");
    let mut copied = 0;
    loop {
        let page = source.scan(&range, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(copied);
        };
        range.start = key_after(&last.key);
        copied += page.len() as u64;
        let expectations = page
            .iter()
            .map(|r| Expectation {
                key: r.key.clone(),
                version: None,
            })
            .collect();
        let mutations = page
            .into_iter()
            .map(|r| Mutation::Put {
                key: r.key,
                value: r.value,
            })
            .collect();
        target
            .commit(CommitBatch {
                expectations,
                mutations,
                ..CommitBatch::default()
            })
            .await?;
    }
}

/// Whether the source now holds exactly the `count` records the target
/// got, key for key and byte for byte.
async fn same_records(source: &dyn Storage, target: &dyn Storage, count: u64) -> Result<bool> {
    let mut range = KeyRange::prefix("");
    let mut seen = 0;
    loop {
        let page = source.scan(&range, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(seen == count);
        };
        range.start = key_after(&last.key);
        seen += page.len() as u64;
        let keys: Vec<String> = page.iter().map(|r| r.key.clone()).collect();
        let copies = target.get(&keys).await?;
        let same = page
            .iter()
            .zip(&copies)
            .all(|(r, copy)| copy.as_ref().is_some_and(|c| c.value == r.value));
        if !same {
            return Ok(false);
        }
    }
}
