//! The PostgreSQL store's tables, its versioned migrations and the SQL text
//! of every statement it runs, with the table prefix filled in.
//!
//! This module owns the schema: what the tables are, how a database is
//! brought up to date, and how concurrent connects agree on who migrates.
//! It must never change a migration once released (add a new one instead)
//! nor run DDL that is not idempotent (`IF NOT EXISTS`), because on engines
//! without transactional DDL a migration interrupted half-way is re-run.

use std::collections::BTreeSet;

use deadpool_postgres::Client;
use tokio_postgres::error::SqlState;

use super::retry::{AttemptError, Connections, db_backend, on_connection, retrying};
use crate::ports::StorageError;

/// One schema change, applied at most once per table prefix.
struct Migration {
    /// Position in the history, from 1; recorded in `{p}migrations`.
    version: i64,
    /// What it does, for people reading `{p}migrations`.
    name: &'static str,
    /// Idempotent statements, `{p}` standing for the table prefix.
    statements: &'static [&'static str],
}

/// Every migration, in order. Released entries never change.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "records, outbox events, event counter, version sequence",
        statements: &[
            // Keys are bytea so they order by bytes on every engine: CockroachDB
            // cannot compare a `COLLATE "C"` column with an uncollated
            // parameter. Version 0 marks an uncommitted absence placeholder
            // (see the commit module); committed versions start at 1.
            "CREATE TABLE IF NOT EXISTS {p}records (
            key BYTEA PRIMARY KEY,
            value BYTEA NOT NULL,
            version INT8 NOT NULL CHECK (version >= 0)
        )",
            "CREATE TABLE IF NOT EXISTS {p}events (
            seq INT8 PRIMARY KEY,
            kind TEXT NOT NULL,
            payload BYTEA NOT NULL
        )",
            "CREATE TABLE IF NOT EXISTS {p}counters (
            name TEXT PRIMARY KEY,
            value INT8 NOT NULL
        )",
            "INSERT INTO {p}counters (name, value) VALUES ('event_seq', 0)
            ON CONFLICT (name) DO NOTHING",
            "CREATE SEQUENCE IF NOT EXISTS {p}versions",
        ],
    },
    Migration {
        version: 2,
        name: "outbox events wait unnumbered until a reader numbers them",
        statements: &[
            // A commit's events, keyed by the commit's version and their
            // place in it, until `read_events` moves them into `{p}events`
            // with numbers (ADR 008). Events already in `{p}events` keep
            // theirs, and the counter goes on from the last one.
            "CREATE TABLE IF NOT EXISTS {p}pending_events (
            version INT8 NOT NULL,
            n INT8 NOT NULL,
            kind TEXT NOT NULL,
            payload BYTEA NOT NULL,
            PRIMARY KEY (version, n)
        )",
        ],
    },
];

/// The SQL of every statement the store runs, for one table prefix.
#[derive(Debug)]
pub(super) struct Sql {
    prefix: String,
    pub get: String,
    pub scan_bounded: String,
    pub scan_unbounded: String,
    pub read_events: String,
    pub begin: String,
    pub check_versions: String,
    pub end: String,
    pub lock_present: String,
    pub share_present: String,
    pub claim_absent: String,
    pub next_version: String,
    pub put_checked: String,
    pub put_blind: String,
    pub delete: String,
    pub append_events: String,
    pub any_pending: String,
    pub lock_counter: String,
    pub number_pending: String,
    pub commit_without_flush: String,
    pub commit_in_one: String,
    pub commit_gathered: String,
}

impl Sql {
    /// The statements for tables named `{prefix}records` and so on. The
    /// prefix must already be validated as a plain identifier.
    pub fn new(prefix: &str) -> Sql {
        let t = |sql: &str| sql.replace("{p}", prefix);
        Sql {
            prefix: prefix.to_owned(),
            get: t("SELECT key, value, version FROM {p}records WHERE key = ANY($1::bytea[])"),
            scan_bounded: t("SELECT key, value, version FROM {p}records \
                 WHERE key >= $1::bytea AND key < $2::bytea ORDER BY key LIMIT $3::int8"),
            scan_unbounded: t("SELECT key, value, version FROM {p}records \
                 WHERE key >= $1::bytea ORDER BY key LIMIT $2::int8"),
            read_events: t("SELECT seq, kind, payload FROM {p}events \
                 WHERE seq > $1::int8 ORDER BY seq LIMIT $2::int8"),
            begin: "BEGIN ISOLATION LEVEL READ COMMITTED".to_owned(),
            // Fails the transaction (division by zero) unless every key
            // $1 has the version $2 (0: this commit's placeholder): sent
            // after the locks and claims, before any write. This and
            // `put_checked` say `key = ANY($1)` besides the join, so that
            // a plan made while the table had no statistics (a new table:
            // plans are generic and kept per connection) still finds the
            // rows through the primary key; the join alone was planned as
            // a scan of the whole table, which every commit then paid.
            check_versions: t(
                "SELECT 1 / (CASE WHEN (SELECT count(*) FROM {p}records AS r \
                 JOIN unnest($1::bytea[], $2::int8[]) AS e(key, version) \
                 ON r.key = e.key AND r.version = e.version \
                 WHERE r.key = ANY($1::bytea[])) = array_length($1::bytea[], 1) \
                 THEN 1 ELSE 0 END)",
            ),
            end: "COMMIT".to_owned(),
            lock_present: t("SELECT key, version FROM {p}records \
                 WHERE key = ANY($1::bytea[]) ORDER BY key FOR UPDATE"),
            share_present: t("SELECT key, version FROM {p}records \
                 WHERE key = ANY($1::bytea[]) ORDER BY key FOR SHARE"),
            claim_absent: t("INSERT INTO {p}records (key, value, version) \
                 SELECT k, ''::bytea, 0 FROM unnest($1::bytea[]) AS t(k) ORDER BY k \
                 ON CONFLICT (key) DO NOTHING RETURNING key"),
            next_version: t("SELECT nextval('{p}versions')"),
            // The writes take the version `next_version` just took
            // (`currval`), so they can be sent in the same pipeline. A put
            // on an expected key fails the transaction unless every row
            // still had the version expected: the last line of defence.
            put_checked: t("WITH written AS (UPDATE {p}records AS r \
                 SET value = u.value, version = currval('{p}versions') \
                 FROM unnest($1::bytea[], $2::bytea[], $3::int8[]) AS u(key, value, expected) \
                 WHERE r.key = u.key AND r.version = u.expected AND r.key = ANY($1::bytea[]) \
                 RETURNING r.key) \
                 SELECT 1 / (CASE WHEN count(*) = array_length($1::bytea[], 1) \
                 THEN 1 ELSE 0 END) FROM written"),
            put_blind: t("INSERT INTO {p}records (key, value, version) \
                 SELECT u.key, u.value, currval('{p}versions') \
                 FROM unnest($1::bytea[], $2::bytea[]) AS u(key, value) ORDER BY u.key \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version"),
            delete: t("DELETE FROM {p}records WHERE key = ANY($1::bytea[])"),
            // No lock: a commit's events wait, unnumbered, for a reader.
            append_events: t("INSERT INTO {p}pending_events (version, n, kind, payload) \
                 SELECT currval('{p}versions'), e.n, e.kind, e.payload \
                 FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS e(kind, payload, n)"),
            any_pending: t("SELECT EXISTS (SELECT 1 FROM {p}pending_events)"),
            lock_counter: t("SELECT value FROM {p}counters WHERE name = 'event_seq' FOR UPDATE"),
            // Run after `lock_counter` in the same transaction, with the
            // counter's value as $1: a new statement, so (under READ
            // COMMITTED) it sees every commit that finished before the lock
            // was granted, including the previous numbering.
            number_pending: t("WITH moved AS (DELETE FROM {p}pending_events \
                 WHERE (version, n) IN (SELECT version, n FROM {p}pending_events \
                   ORDER BY version, n LIMIT $2::int8) \
                 RETURNING version, n, kind, payload), \
                 numbered AS (INSERT INTO {p}events (seq, kind, payload) \
                   SELECT $1::int8 + row_number() OVER (ORDER BY version, n), kind, payload \
                   FROM moved RETURNING seq) \
                 UPDATE {p}counters SET value = (SELECT max(seq) FROM numbered) \
                 WHERE name = 'event_seq' AND EXISTS (SELECT 1 FROM numbered)"),
            commit_without_flush: "SET LOCAL synchronous_commit TO OFF".to_owned(),
            // A whole commit in one statement, for batches that claim no
            // key without writing it (see the commit module): checks, writes
            // and events in data-modifying `WITH` queries, all taking one
            // version. Each check is a count of the rows a step locked or
            // wrote as expected; unless all match, the division by zero
            // fails the statement and nothing is applied. Rows a concurrent
            // commit changed are re-read under the row lock (`READ
            // COMMITTED`), so a stale version never matches. The `= ANY`
            // conditions keep the primary key in generic plans, as above.
            commit_in_one: t("WITH v AS (SELECT nextval('{p}versions') AS v), \
                 shared AS (SELECT r.key, r.version FROM {p}records AS r \
                   WHERE r.key = ANY($1::bytea[]) ORDER BY r.key FOR SHARE), \
                 updated AS (UPDATE {p}records AS r \
                   SET value = u.value, version = (SELECT v FROM v) \
                   FROM unnest($3::bytea[], $4::bytea[], $5::int8[]) AS u(key, value, expected) \
                   WHERE r.key = u.key AND r.version = u.expected AND r.key = ANY($3::bytea[]) \
                   RETURNING r.key), \
                 removed AS (DELETE FROM {p}records AS r \
                   USING unnest($6::bytea[], $7::int8[]) AS d(key, expected) \
                   WHERE r.key = d.key AND r.version = d.expected AND r.key = ANY($6::bytea[]) \
                   RETURNING r.key), \
                 created AS (INSERT INTO {p}records (key, value, version) \
                   SELECT c.key, c.value, (SELECT v FROM v) \
                   FROM unnest($8::bytea[], $9::bytea[]) AS c(key, value) ORDER BY c.key \
                   ON CONFLICT (key) DO NOTHING RETURNING key), \
                 blind AS (INSERT INTO {p}records (key, value, version) \
                   SELECT b.key, b.value, (SELECT v FROM v) \
                   FROM unnest($10::bytea[], $11::bytea[]) AS b(key, value) ORDER BY b.key \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version \
                   RETURNING key), \
                 gone AS (DELETE FROM {p}records WHERE key = ANY($12::bytea[]) RETURNING key), \
                 appended AS (INSERT INTO {p}pending_events (version, n, kind, payload) \
                   SELECT (SELECT v FROM v), e.n, e.kind, e.payload \
                   FROM unnest($13::text[], $14::bytea[]) WITH ORDINALITY AS e(kind, payload, n) \
                   RETURNING n) \
                 SELECT v.v / (CASE WHEN \
                   (SELECT count(*) FROM shared AS s \
                     JOIN unnest($1::bytea[], $2::int8[]) AS e(key, version) \
                     ON s.key = e.key AND s.version = e.version) \
                     = coalesce(array_length($1::bytea[], 1), 0) \
                   AND (SELECT count(*) FROM updated) = coalesce(array_length($3::bytea[], 1), 0) \
                   AND (SELECT count(*) FROM removed) = coalesce(array_length($6::bytea[], 1), 0) \
                   AND (SELECT count(*) FROM created) = coalesce(array_length($8::bytea[], 1), 0) \
                   THEN 1 ELSE 0 END), \
                   CASE WHEN $15::bool THEN set_config('synchronous_commit', 'off', true) END \
                 FROM v"),
            // Several commits in one statement (ADR 026), $20 of them, each
            // with its own version: `commit_in_one`'s lists for all of them,
            // each entry naming its commit's place. Gathered commits touch no
            // key another of them writes, so applying them in one statement
            // is applying them one after another; a failed check of any one
            // fails the statement, and nothing of any of them is applied.
            // `v` calls `nextval`, so it is evaluated once and each
            // commit's version taken once. (A lone commit keeps
            // `commit_in_one`: this statement's joins cost it ~10% more on
            // the durable bench's hot row.)
            commit_gathered: t("WITH v AS (SELECT i, nextval('{p}versions') AS v \
                   FROM generate_series(1, $20::int4) AS i), \
                 shared AS (SELECT r.key, r.version FROM {p}records AS r \
                   WHERE r.key = ANY($1::bytea[]) ORDER BY r.key FOR SHARE), \
                 updated AS (UPDATE {p}records AS r \
                   SET value = u.value, version = v.v \
                   FROM unnest($3::bytea[], $4::bytea[], $5::int8[], $6::int4[]) \
                     AS u(key, value, expected, i) JOIN v ON v.i = u.i \
                   WHERE r.key = u.key AND r.version = u.expected AND r.key = ANY($3::bytea[]) \
                   RETURNING r.key), \
                 removed AS (DELETE FROM {p}records AS r \
                   USING unnest($7::bytea[], $8::int8[]) AS d(key, expected) \
                   WHERE r.key = d.key AND r.version = d.expected AND r.key = ANY($7::bytea[]) \
                   RETURNING r.key), \
                 created AS (INSERT INTO {p}records (key, value, version) \
                   SELECT c.key, c.value, v.v \
                   FROM unnest($9::bytea[], $10::bytea[], $11::int4[]) AS c(key, value, i) \
                   JOIN v ON v.i = c.i ORDER BY c.key \
                   ON CONFLICT (key) DO NOTHING RETURNING key), \
                 blind AS (INSERT INTO {p}records (key, value, version) \
                   SELECT b.key, b.value, v.v \
                   FROM unnest($12::bytea[], $13::bytea[], $14::int4[]) AS b(key, value, i) \
                   JOIN v ON v.i = b.i ORDER BY b.key \
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version \
                   RETURNING key), \
                 gone AS (DELETE FROM {p}records WHERE key = ANY($15::bytea[]) RETURNING key), \
                 appended AS (INSERT INTO {p}pending_events (version, n, kind, payload) \
                   SELECT v.v, e.n, e.kind, e.payload \
                   FROM unnest($16::text[], $17::bytea[], $18::int4[]) WITH ORDINALITY \
                     AS e(kind, payload, i, n) JOIN v ON v.i = e.i \
                   RETURNING n) \
                 SELECT v.v / (CASE WHEN \
                   (SELECT count(*) FROM shared AS s \
                     JOIN unnest($1::bytea[], $2::int8[]) AS e(key, version) \
                     ON s.key = e.key AND s.version = e.version) \
                     = coalesce(array_length($1::bytea[], 1), 0) \
                   AND (SELECT count(*) FROM updated) = coalesce(array_length($3::bytea[], 1), 0) \
                   AND (SELECT count(*) FROM removed) = coalesce(array_length($7::bytea[], 1), 0) \
                   AND (SELECT count(*) FROM created) = coalesce(array_length($9::bytea[], 1), 0) \
                   THEN 1 ELSE 0 END), \
                   CASE WHEN $19::bool THEN set_config('synchronous_commit', 'off', true) END \
                 FROM v ORDER BY v.i"),
        }
    }

    fn table(&self, sql: &str) -> String {
        sql.replace("{p}", &self.prefix)
    }
}

/// Brings the tables for `sql`'s prefix up to the latest migration.
///
/// A database already up to date is only read (no DDL, no lock), so a role
/// that may read and write the tables but not create anything (the usual
/// split between a migrating role and the app's, and PostgreSQL 15's
/// default for the `public` schema) can connect once they exist.
///
/// Concurrent callers, in any number of processes, serialize on a row lock:
/// the row `version = 0` of `{p}migrations`, taken with `SELECT ... FOR
/// UPDATE` in the transaction that applies the pending migrations. A row
/// lock works the same on PostgreSQL, CockroachDB and YugabyteDB, unlike
/// `pg_advisory_xact_lock` (which CockroachDB does not implement), so no
/// fallback is needed. Only creating `{p}migrations` itself happens before
/// the lock; it is idempotent, and the errors a racing creator can get on
/// PostgreSQL (duplicate table, duplicate type, or a duplicate catalog row)
/// are retried.
///
/// Migrating is not bounded by the query timeout: neither the client's
/// wait nor the server's `statement_timeout` (turned off for the migration's
/// transaction, whatever the connection's), since a migration of large
/// tables may take minutes, and a caller finding another process migrating
/// waits for it to finish rather than failing. Checking whether anything is
/// pending stays bounded.
pub(super) async fn migrate(connections: &Connections, sql: &Sql) -> Result<(), StorageError> {
    if up_to_date(connections, sql).await? {
        return Ok(());
    }
    let connections = &Connections {
        pool: connections.pool.clone(),
        query_timeout: None,
    };
    let create = sql.table(
        "CREATE TABLE IF NOT EXISTS {p}migrations (
            version INT8 PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    );
    retrying(
        || {
            on_connection(connections, async |client| {
                client.batch_execute(&create).await.map_err(|e| {
                    let raced = [
                        SqlState::DUPLICATE_TABLE,
                        SqlState::DUPLICATE_OBJECT,
                        SqlState::UNIQUE_VIOLATION,
                    ];
                    match e.code() {
                        Some(code) if raced.contains(code) => AttemptError::Transient(e),
                        _ => AttemptError::from(e),
                    }
                })
            })
        },
        |e| db_backend("creating the migrations table kept racing", e),
    )
    .await?;
    retrying(
        || on_connection(connections, async |client| apply_pending(client, sql).await),
        |e| db_backend("applying migrations kept conflicting", e),
    )
    .await
}

/// Whether every migration this Reservo knows is recorded for `sql`'s
/// prefix, read without locking or creating anything; refuses tables newer
/// than this Reservo. `false` if the migrations table does not exist yet.
async fn up_to_date(connections: &Connections, sql: &Sql) -> Result<bool, StorageError> {
    let applied = sql.table("SELECT version FROM {p}migrations WHERE version > 0");
    retrying(
        || {
            on_connection(connections, async |client| {
                let rows = match client.query(&applied, &[]).await {
                    Ok(rows) => rows,
                    Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => return Ok(false),
                    Err(e) => return Err(e.into()),
                };
                let applied: BTreeSet<i64> = rows.iter().map(|row| row.get(0)).collect();
                refuse_newer(&applied, sql)?;
                Ok(MIGRATIONS.iter().all(|m| applied.contains(&m.version)))
            })
        },
        |e| db_backend("reading the applied migrations kept conflicting", e),
    )
    .await
}

/// An error if `applied` holds a migration this Reservo does not know.
fn refuse_newer(applied: &BTreeSet<i64>, sql: &Sql) -> Result<(), StorageError> {
    let known = latest_migration();
    match applied.iter().find(|&&v| v > known) {
        Some(&found) => Err(StorageError::SchemaTooNew {
            store: format!("the tables with prefix {:?}", sql.prefix),
            found,
            known,
        }),
        None => Ok(()),
    }
}

/// One attempt at applying every pending migration under the lock row,
/// without a statement timeout where the server has one.
async fn apply_pending(client: &mut Client, sql: &Sql) -> Result<(), AttemptError> {
    let has_statement_timeout = client.simple_query("SHOW statement_timeout").await.is_ok();
    let tx = client.transaction().await?;
    if has_statement_timeout {
        tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    }
    tx.execute(
        &sql.table(
            "INSERT INTO {p}migrations (version, name) VALUES (0, 'migration lock') \
             ON CONFLICT (version) DO NOTHING",
        ),
        &[],
    )
    .await?;
    tx.query(
        &sql.table("SELECT version FROM {p}migrations WHERE version = 0 FOR UPDATE"),
        &[],
    )
    .await?;
    let applied: BTreeSet<i64> = tx
        .query(
            &sql.table("SELECT version FROM {p}migrations WHERE version > 0"),
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    refuse_newer(&applied, sql)?;
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        for statement in migration.statements {
            tx.batch_execute(&sql.table(statement)).await?;
        }
        tx.execute(
            &sql.table("INSERT INTO {p}migrations (version, name) VALUES ($1, $2)"),
            &[&migration.version, &migration.name],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The version of the last migration this version of Reservo knows.
fn latest_migration() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use tokio_postgres::NoTls;
    use tokio_postgres::config::SslMode;

    use super::*;

    /// The server to test against, or `None` (after a notice) to skip.
    fn server() -> Option<tokio_postgres::Config> {
        let url = super::super::test_server_url("plans were not checked")?;
        Some(url.parse().expect("RESERVO_PG_URL parses"))
    }

    /// Every commit runs these statements with generic plans, made once per
    /// connection, typically while the table is new and has no statistics.
    /// Each must still find its rows through the primary key once the table
    /// has grown: a plan that scans the whole table made every commit cost
    /// as much as the table is large (4 ms instead of 0.6 ms a commit after
    /// a few thousand bookings in the durable bench).
    #[tokio::test]
    async fn keyed_statements_planned_on_a_new_table_use_the_primary_key_once_it_grew() {
        let Some(mut config) = server() else { return };
        config.ssl_mode(SslMode::Disable);
        let (client, connection) = config.connect(NoTls).await.expect("connects");
        tokio::spawn(connection);
        let prefix = format!("p{}_", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let sql = Sql::new(&prefix);
        for migration in MIGRATIONS {
            for statement in migration.statements {
                client.batch_execute(&sql.table(statement)).await.unwrap();
            }
        }
        client
            .batch_execute("SET plan_cache_mode = force_generic_plan")
            .await
            .unwrap();
        let keys = "ARRAY['k1'::bytea, 'k2'::bytea]";
        let values = "ARRAY['v'::bytea, 'v'::bytea]";
        let places = "ARRAY[1, 2]::int4[]";
        let keyed = [
            ("get", &sql.get, keys.to_owned()),
            ("lock_present", &sql.lock_present, keys.to_owned()),
            ("share_present", &sql.share_present, keys.to_owned()),
            ("delete", &sql.delete, keys.to_owned()),
            (
                "check_versions",
                &sql.check_versions,
                format!("{keys}, ARRAY[1, 1]::int8[]"),
            ),
            (
                "put_checked",
                &sql.put_checked,
                format!("{keys}, ARRAY['v'::bytea, 'v'::bytea], ARRAY[1, 1]::int8[]"),
            ),
            (
                "commit_in_one",
                &sql.commit_in_one,
                format!(
                    "{keys}, ARRAY[1, 1]::int8[], {keys}, ARRAY['v'::bytea, 'v'::bytea], \
                     ARRAY[1, 1]::int8[], {keys}, ARRAY[1, 1]::int8[], {keys}, \
                     ARRAY['v'::bytea, 'v'::bytea], {keys}, ARRAY['v'::bytea, 'v'::bytea], \
                     {keys}, ARRAY['e']::text[], ARRAY['p'::bytea], true"
                ),
            ),
            (
                "commit_gathered",
                &sql.commit_gathered,
                format!(
                    "{keys}, ARRAY[1, 1]::int8[], {keys}, {values}, ARRAY[1, 1]::int8[], \
                     {places}, {keys}, ARRAY[1, 1]::int8[], {keys}, {values}, {places}, \
                     {keys}, {values}, {places}, {keys}, ARRAY['e']::text[], \
                     ARRAY['p'::bytea], ARRAY[1]::int4[], true, 2"
                ),
            ),
        ];
        let plan_of = async |name: &str, args: &str| -> String {
            let rows = client
                .simple_query(&format!("EXPLAIN EXECUTE {name}({args})"))
                .await
                .unwrap();
            rows.iter()
                .filter_map(|row| match row {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        for (name, statement, args) in &keyed {
            client
                .batch_execute(&format!("PREPARE {name} AS {statement}"))
                .await
                .unwrap();
            // The generic plan is made here, on the empty table, and kept.
            plan_of(name, args).await;
        }
        client
            .batch_execute(&sql.table(
                "INSERT INTO {p}records (key, value, version) \
                 SELECT convert_to('k' || g, 'UTF8'), '\\x00'::bytea, 1 \
                 FROM generate_series(1, 20000) AS g",
            ))
            .await
            .unwrap();
        for (name, _, args) in &keyed {
            let plan = plan_of(name, args).await;
            assert!(
                plan.contains(&format!("{prefix}records_pkey")) && !plan.contains("Seq Scan"),
                "{name} does not look its keys up in the primary key:\n{plan}"
            );
        }
        client
            .batch_execute(&sql.table(
                "DROP TABLE {p}records, {p}events, {p}pending_events, {p}counters; \
                 DROP SEQUENCE {p}versions;",
            ))
            .await
            .unwrap();
    }
}
