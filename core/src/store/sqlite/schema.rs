//! The SQLite file's schema and its migrations.
//!
//! Owns the table layout and the ordered list of migrations, applied on
//! open inside one `BEGIN IMMEDIATE` transaction so several processes
//! opening the same file at once apply each migration exactly once. It must
//! never edit a migration that has shipped: a change is a new migration at
//! the end of [`MIGRATIONS`].

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// One step of the schema, applied once per file.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order; the last one's version is the schema this
/// code reads and writes.
///
/// Version 2 (ADR 017) moved `records` from a `WITHOUT ROWID` table, whose
/// B-tree kept each value beside its key (a hold or booking of 1.5–2.3 KB
/// spilled into overflow pages that every key search passing it read), to a
/// rowid table: the key's unique index holds only keys, and values sit in
/// the table's leaves, new ones appended at its right edge.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "records, outbox and commit counter",
        sql: "
        CREATE TABLE records (
            key     TEXT    NOT NULL PRIMARY KEY,   -- printable ASCII, BINARY (byte) order
            value   BLOB    NOT NULL,               -- engine JSON: CAST(value AS TEXT) shows it
            version INTEGER NOT NULL                -- the commit that last wrote it
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            seq     INTEGER NOT NULL PRIMARY KEY,   -- 1, 2, 3, ... in commit order
            kind    TEXT    NOT NULL,
            payload BLOB    NOT NULL,
            version INTEGER NOT NULL                -- the commit that appended it
        );
        CREATE TABLE commit_counter (
            id             INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
            last_version   INTEGER NOT NULL,
            last_event_seq INTEGER NOT NULL
        );
        INSERT INTO commit_counter (id, last_version, last_event_seq) VALUES (1, 0, 0);
    ",
    },
    Migration {
        version: 2,
        name: "records in a rowid table with a unique key index",
        sql: "
        CREATE TABLE records_v2 (
            id      INTEGER NOT NULL PRIMARY KEY,   -- rowid: where the value sits, nothing more
            key     TEXT    NOT NULL UNIQUE,        -- printable ASCII, BINARY (byte) order
            value   BLOB    NOT NULL,               -- engine JSON: CAST(value AS TEXT) shows it
            version INTEGER NOT NULL                -- the commit that last wrote it
        );
        INSERT INTO records_v2 (key, value, version)
            SELECT key, value, version FROM records ORDER BY key;
        DROP TABLE records;
        ALTER TABLE records_v2 RENAME TO records;
    ",
    },
    Migration {
        version: 3,
        name: "deleting outbox rows keeps their numbers in the commit counter",
        // Commits that append events leave the counter row alone (ADR 018):
        // the outbox's last row numbers them. Should a host delete outbox
        // rows, their numbers move into the counter first, so no version or
        // sequence number is ever handed out twice.
        sql: "
        CREATE TRIGGER outbox_delete_keeps_numbers BEFORE DELETE ON outbox
        BEGIN
            UPDATE commit_counter
               SET last_version   = max(last_version, OLD.version),
                   last_event_seq = max(last_event_seq, OLD.seq)
             WHERE id = 1;
        END;
    ",
    },
];

/// The schema version this code knows.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |migration| migration.version)
}

/// Why a file's schema could not be brought up to date.
#[derive(Debug)]
pub(super) enum MigrationError {
    /// The file was written by a newer Reservo.
    TooNew { found: i64 },
    /// SQLite failed (including `SQLITE_BUSY`, which the caller retries).
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrationError {
    fn from(error: rusqlite::Error) -> Self {
        MigrationError::Sqlite(error)
    }
}

/// Applies every migration the file lacks, all in one transaction; returns
/// how many it applied.
pub(super) fn migrate(conn: &mut Connection) -> Result<usize, MigrationError> {
    migrate_up_to(conn, latest_version())
}

/// Applies the migrations the file lacks up to `target` (an older schema,
/// as a file written by an older Reservo has, is what tests need).
pub(super) fn migrate_up_to(conn: &mut Connection, target: i64) -> Result<usize, MigrationError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER NOT NULL PRIMARY KEY,
            name       TEXT    NOT NULL,
            applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );",
    )?;
    let current: i64 = tx
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()?
        .flatten()
        .unwrap_or(0);
    if current > latest_version() {
        return Err(MigrationError::TooNew { found: current });
    }
    let pending: Vec<&Migration> = MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
        .collect();
    for migration in &pending {
        tx.execute_batch(migration.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)",
            (migration.version, migration.name),
        )?;
    }
    tx.commit()?;
    Ok(pending.len())
}
