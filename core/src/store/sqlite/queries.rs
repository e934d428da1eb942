//! The SQL behind each [`Storage`](crate::ports::Storage) method, as plain
//! blocking functions on one connection.
//!
//! Owns the statements and the conversions between SQLite rows and port
//! types. It must never wait for anything but SQLite, and never commit part
//! of a batch: [`commit`] runs in one `BEGIN IMMEDIATE` transaction that
//! rolls back on any early return.

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
    let tx = conn.transaction()?;
    let found = {
        let mut select =
            tx.prepare_cached("SELECT key, value, version FROM records WHERE key = ?1")?;
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

/// One attempt at `batch`: checks every expectation, then applies every
/// mutation, bumps the commit counter and appends the events, all in one
/// `BEGIN IMMEDIATE` transaction. A conflict rolls back and is returned as
/// `Ok(Err(Conflict))`; an `Err` is SQLite's (maybe `SQLITE_BUSY`, which
/// the caller retries) and also leaves nothing applied.
pub(super) fn commit(
    conn: &mut Connection,
    batch: &CommitBatch,
) -> rusqlite::Result<CommitOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut current = tx.prepare_cached("SELECT version FROM records WHERE key = ?1")?;
        for expected in &batch.expectations {
            let version: Option<i64> = current
                .query_row([&expected.key], |row| row.get(0))
                .optional()?;
            if version.map(|v| Version(to_u64(v))) != expected.version {
                return Ok(Err(StorageError::Conflict {
                    key: expected.key.clone(),
                }));
            }
        }
    }
    let (version, last_seq): (i64, i64) = tx.query_row(
        "UPDATE commit_counter SET last_version = last_version + 1,
             last_event_seq = last_event_seq + ?1
         WHERE id = 1 RETURNING last_version, last_event_seq",
        [batch.events.len() as i64],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO records (key, value, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM records WHERE key = ?1")?;
        for mutation in &batch.mutations {
            match mutation {
                Mutation::Put { key, value } => upsert.execute(params![key, value, version])?,
                Mutation::Delete { key } => delete.execute([key])?,
            };
        }
        let mut append = tx.prepare_cached(
            "INSERT INTO outbox (seq, kind, payload, version) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let first_seq = last_seq - batch.events.len() as i64 + 1;
        for (seq, event) in (first_seq..).zip(&batch.events) {
            append.execute(params![seq, event.kind, event.payload, version])?;
        }
    }
    tx.commit()?;
    Ok(Ok(Committed {
        version: Version(to_u64(version)),
    }))
}

/// `PRAGMA integrity_check`: every problem SQLite finds, or none.
pub(super) fn integrity_problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut check = conn.prepare("PRAGMA integrity_check")?;
    let lines = check.query_map([], |row| row.get::<_, String>(0))?;
    lines
        .filter(|line| !matches!(line, Ok(ok) if ok == "ok"))
        .collect()
}
