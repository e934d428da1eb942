//! The SQL behind each [`Storage`](crate::ports::Storage) method, as plain
//! blocking functions on one connection.
//!
//! Owns the statements and the conversions between SQLite rows and port
//! types. It must never wait for anything but SQLite, and never commit part
//! of a batch: [`commit_group`] runs a group of batches in one `BEGIN
//! IMMEDIATE` transaction that rolls back on any early return, each batch
//! under its own savepoint.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::ports::{
    CommitBatch, Committed, Key, KeyRange, Mutation, Record, StorageError, StoredEvent, Version,
};

/// What a commit attempt found: applied, or a conflict on a key.
pub(super) type CommitOutcome = Result<Committed, StorageError>;

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn record(row: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        key: row.get(0)?,
        value: row.get(1)?,
        version: Version(to_u64(row.get(2)?)),
    })
}

/// The records at `keys`, read in one snapshot.
pub(super) fn get(conn: &mut Connection, keys: &[Key]) -> rusqlite::Result<Vec<Option<Record>>> {
    const SELECT: &str = "SELECT key, value, version FROM records WHERE key = ?1";
    if let [key] = keys {
        // One statement is its own snapshot: no transaction to open.
        let found = conn
            .prepare_cached(SELECT)?
            .query_row([key], record)
            .optional()?;
        return Ok(vec![found]);
    }
    let tx = conn.transaction()?;
    let found = {
        let mut select = tx.prepare_cached(SELECT)?;
        keys.iter()
            .map(|key| select.query_row([key], record).optional())
            .collect::<rusqlite::Result<_>>()?
    };
    tx.commit()?;
    Ok(found)
}

/// Up to `limit` records in `range`, ascending by key.
pub(super) fn scan(
    conn: &Connection,
    range: &KeyRange,
    limit: usize,
) -> rusqlite::Result<Vec<Record>> {
    let limit = to_i64(limit as u64);
    // Two statements, so that SQLite bounds the primary-key search on both
    // ends instead of filtering the tail of the table.
    match &range.end {
        Some(end) => conn
            .prepare_cached(
                "SELECT key, value, version FROM records
                 WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
            )?
            .query_map(params![range.start, end, limit], record)?
            .collect(),
        None => conn
            .prepare_cached(
                "SELECT key, value, version FROM records
                 WHERE key >= ?1 ORDER BY key LIMIT ?2",
            )?
            .query_map(params![range.start, limit], record)?
            .collect(),
    }
}

/// Up to `limit` events with `seq > after`, ascending.
pub(super) fn read_events(
    conn: &Connection,
    after: u64,
    limit: usize,
) -> rusqlite::Result<Vec<StoredEvent>> {
    conn.prepare_cached(
        "SELECT seq, kind, payload FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?
    .query_map(params![to_i64(after), to_i64(limit as u64)], |row| {
        Ok(StoredEvent {
            seq: to_u64(row.get(0)?),
            kind: row.get(1)?,
            payload: row.get(2)?,
        })
    })?
    .collect()
}

/// The most commits the writer applies in one transaction.
pub(super) const MAX_GROUP: usize = 256;

/// One attempt at a group of batches, in one `BEGIN IMMEDIATE` transaction
/// and one `COMMIT` (one fsync for all of them).
///
/// Each batch is applied in queue order as if it ran alone: its
/// expectations are checked against the state the earlier batches of the
/// group left, and if one fails the batch is skipped and answered
/// `Conflict`, the others stay. Each applied batch gets its own version
/// (the counter plus one, in order) and its events the next sequence
/// numbers; the counter row is written at most once for the group, and
/// not at all when its last applied batch appended events. A batch whose
/// writes fail is rolled back to its savepoint and answered with that
/// failure. An `Err` is SQLite's for the whole group (maybe `SQLITE_BUSY`,
/// which the caller retries) and leaves nothing applied; the caller must
/// not answer anyone before this returns.
///
/// Also returns the outbox's last sequence number once the group is
/// committed: every event up to it, of any connection, was written to the
/// log before this transaction's `COMMIT`.
pub(super) fn commit_group(
    conn: &mut Connection,
    batches: &[&CommitBatch],
) -> rusqlite::Result<(Vec<CommitOutcome>, u64)> {
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (mut version, mut last_seq) = last_committed(&tx)?;
    let first_version = version;
    // The version the last event appended in this group carries.
    let mut on_last_event = None;
    let mut outcomes = Vec::with_capacity(batches.len());
    for batch in batches {
        if let Some(key) = failed_expectation(&tx, batch)? {
            outcomes.push(Err(StorageError::Conflict { key }));
            continue;
        }
        let next = (version + 1, last_seq);
        let applied = if batches.len() == 1 {
            // Alone in its transaction: a failure rolls back the whole of it.
            Ok(apply(&tx, batch, next)?)
        } else {
            let savepoint = tx.savepoint()?;
            match apply(&savepoint, batch, next) {
                Ok(seq) => {
                    savepoint.commit()?;
                    Ok(seq)
                }
                // Dropping the savepoint rolls this batch back.
                Err(e) => Err(e),
            }
        };
        match applied {
            Ok(seq) => {
                version += 1;
                if seq != last_seq {
                    on_last_event = Some(version);
                }
                last_seq = seq;
                outcomes.push(Ok(Committed {
                    version: Version(to_u64(version)),
                }));
            }
            Err(e) => outcomes.push(Err(super::workers::backend("commit", e))),
        }
    }
    // The outbox's new last row says where the group ended, unless the
    // group's last commit appended no event (ADR 018).
    if version != first_version && on_last_event != Some(version) {
        tx.prepare_cached(
            "UPDATE commit_counter SET last_version = ?1, last_event_seq = ?2 WHERE id = 1",
        )?
        .execute(params![version, last_seq])?;
    }
    tx.commit()?;
    Ok((outcomes, to_u64(last_seq)))
}

/// The last commit's version and the last event's sequence number.
///
/// A commit that appends events leaves the counter row alone: its version
/// is on the outbox rows it appends, and the outbox's last row gives both
/// numbers. So the counter row holds them as of the last commit without
/// events, the outbox's last row as of the last commit with events, and
/// the later of the two is current (ADR 018). Deleting outbox rows
/// (nothing in Reservo does; a host pruning by hand might) first moves
/// their numbers into the counter row, by a trigger of schema 3.
fn last_committed(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let (counter_version, counter_seq): (i64, i64) = conn
        .prepare_cached("SELECT last_version, last_event_seq FROM commit_counter WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let last_event: Option<(i64, i64)> = conn
        .prepare_cached("SELECT version, seq FROM outbox ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(match last_event {
        Some((version, seq)) => (counter_version.max(version), counter_seq.max(seq)),
        None => (counter_version, counter_seq),
    })
}

/// The first key of `batch` whose expectation does not hold, if any.
fn failed_expectation(conn: &Connection, batch: &CommitBatch) -> rusqlite::Result<Option<Key>> {
    let mut current = conn.prepare_cached("SELECT version FROM records WHERE key = ?1")?;
    for expected in &batch.expectations {
        let version: Option<i64> = current
            .query_row([&expected.key], |row| row.get(0))
            .optional()?;
        if version.map(|v| Version(to_u64(v))) != expected.version {
            return Ok(Some(expected.key.clone()));
        }
    }
    Ok(None)
}

/// Writes `batch` at `version` and appends its events after `last_seq`;
/// returns the new last event sequence number.
fn apply(
    conn: &Connection,
    batch: &CommitBatch,
    (version, last_seq): (i64, i64),
) -> rusqlite::Result<i64> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO records (key, value, version) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
    )?;
    let mut delete = conn.prepare_cached("DELETE FROM records WHERE key = ?1")?;
    for mutation in &batch.mutations {
        match mutation {
            Mutation::Put { key, value } => upsert.execute(params![key, value, version])?,
            Mutation::Delete { key } => delete.execute([key])?,
        };
    }
    let mut append = conn.prepare_cached(
        "INSERT INTO outbox (seq, kind, payload, version) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut seq = last_seq;
    for event in &batch.events {
        seq += 1;
        append.execute(params![seq, event.kind, event.payload, version])?;
    }
    Ok(seq)
}

/// `PRAGMA integrity_check`: every problem SQLite finds, or none.
pub(super) fn integrity_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut check = conn.prepare("PRAGMA integrity_check")?;
    let lines = check.query_map([], |row| row.get::<_, String>(0))?;
    lines
        .filter(|line| !matches!(line, Ok(ok) if ok == "ok"))
        .collect()
}
