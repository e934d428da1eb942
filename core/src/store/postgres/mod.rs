//! [`PostgresStore`]: the [`Storage`] port on PostgreSQL, for deployments
//! where many app instances share one database (feature `postgres`).
//!
//! This module owns the connection pool, the translation of the port's four
//! operations into SQL, and the retry of transactions the database aborted
//! for contention. It must never hold a transaction open across a call back
//! into the caller, apply part of a batch, hand out a version twice for a
//! key, or let a reader see an outbox sequence number after a larger one.
//! It knows nothing of bookings: it keeps bytes in key order.
//!
//! # Tables
//!
//! Every table name starts with the prefix from [`PostgresOptions`]
//! (`reservo_` by default), so several stores (or test runs) can share one
//! database:
//!
//! * `{p}records (key BYTEA PRIMARY KEY, value BYTEA, version INT8)` —
//!   keys are `bytea` so they order by bytes on every engine (they are
//!   ASCII: `SELECT convert_from(key, 'UTF8')` shows them). Values are
//!   `bytea`; the engine writes JSON into them, so
//!   `convert_from(value, 'UTF8')::jsonb` inspects them.
//! * `{p}events (seq INT8 PRIMARY KEY, kind TEXT, payload BYTEA)` — the
//!   outbox, numbered.
//! * `{p}pending_events (version INT8, n INT8, kind TEXT, payload BYTEA)`
//!   — events committed but not numbered yet: the commit's version and
//!   their place in the commit.
//! * `{p}counters (name TEXT PRIMARY KEY, value INT8)` — the row
//!   `event_seq`, the last outbox sequence number given out.
//! * `{p}versions` — a sequence: the store-wide counter versions come from.
//!   Sequence values are never reused, so a version never repeats for a
//!   key; they may have gaps, which the contract allows.
//! * `{p}migrations (version INT8 PRIMARY KEY, name, applied_at)` — which
//!   migrations ran; its row `0` is the migration lock.
//!
//! Migrations run on [`PostgresStore::connect`]; concurrent connects from
//! many processes serialize on the lock row (see `schema::migrate`).
//!
//! # How a commit stays correct across processes
//!
//! A commit is one `READ COMMITTED` transaction:
//!
//! 1. `SELECT ... FOR UPDATE` the keys expected present that the batch
//!    writes or deletes, then `SELECT ... FOR SHARE` those it only expects,
//!    each in key order. Either row lock keeps a row unchanged until the
//!    transaction ends, so a check made under it cannot go stale; share
//!    locks do not block each other, so commits that only expect the same
//!    key (the engine's catalog epoch, expected by every hold) run side by
//!    side instead of queueing on that row.
//! 2. Claim the keys expected absent with `INSERT ... ON CONFLICT DO
//!    NOTHING` of a placeholder row (version 0). A key that exists, or that
//!    a concurrent transaction is creating, is not claimed. The primary key
//!    makes two claims of one key impossible. Placeholders are overwritten
//!    or deleted before commit and are never visible to others.
//! 3. Check, in one statement, that every expected key now has the
//!    version expected (0 for a claimed key: this commit's placeholder).
//!    If not, the statement fails (a division by zero), which aborts the
//!    transaction: the store reports a conflict on the first key whose
//!    locked or claimed row differs.
//! 4. Take a version from `{p}versions`.
//! 5. Write, with that version (`currval`): puts on expected keys are
//!    `UPDATE ... WHERE version = expected`, and the statement fails unless
//!    it updated every row — the version check sits in the write statement
//!    itself, as a last guard. Other puts are upserts; deletes are deletes.
//! 6. Only if the batch has events: insert them into `{p}pending_events`
//!    under the commit's version. No number is given out and no shared row
//!    is touched.
//! 7. `COMMIT` — for a [`Durability::Deferred`](crate::ports::Durability)
//!    batch after `SET LOCAL synchronous_commit TO OFF` (sent right after
//!    `BEGIN`), so it returns without waiting for the WAL flush: a server
//!    crash can lose such a commit whole, never part of it, and the next
//!    synced commit's flush covers it. Engines without that setting
//!    (probed on connect) sync every commit.
//!
//! **Most commits run as one statement** (ADR 013, ADR 015): a batch that
//! expects no key absent without also putting it — every hold and
//! confirmation — is sent as one statement of data-modifying `WITH`
//! queries, instead of the ten statements above. The server runs a
//! statement sent alone as a transaction of its own, so there is no
//! `BEGIN` or `COMMIT`; a deferred batch turns `synchronous_commit` off for
//! that transaction from inside the statement (`set_config(...,
//! true)`, read when the transaction commits). Its steps keep the same
//! guarantees in another form: keys only expected are locked `FOR SHARE`
//! and their versions compared; puts and deletes on expected keys are
//! `UPDATE`/`DELETE ... WHERE version = expected`, which lock the row and,
//! under `READ COMMITTED`, re-read a row a concurrent commit changed, so a
//! stale version never matches; puts on keys expected absent are `INSERT
//! ... ON CONFLICT DO NOTHING`, which waits for a concurrent creator and
//! inserts nothing if the key exists; the statement counts what each step
//! locked or wrote and fails (the same division by zero) unless every
//! count is complete, so nothing is applied. The conflict's key is then
//! found by reading the expected keys once more (versions only grow, so a
//! stale key stays stale). A key expected absent but not written can only
//! be kept absent by a claimed placeholder, so such batches take the
//! statements above.
//!
//! **Waiting commits are gathered** (ADR 026, module `gather`): at most
//! [`PostgresOptions::with_commits_in_flight`] one-statement commits are
//! in flight at once; a commit made while that many are waits, and the
//! next statement carries every waiting commit that touches no key another
//! of them writes, each with its own version from the sequence. Such
//! commits could run in any order with the same outcome, so one statement
//! applying them all is the same as applying them one by one. The
//! statement checks every commit's expectations as above and fails whole
//! if any one fails; its commits are then sent one by one, so each caller
//! gets the answer it would have got alone. A lost connection or another
//! error leaves every commit of the statement unknown, and each caller is
//! told so. A commit whose caller stopped waiting before its statement was
//! sent is dropped, never sent.
//!
//! Everything from `BEGIN` to `COMMIT` is sent at once (pipelined on the
//! connection; the server runs the statements in order), so a commit costs
//! one round trip however many kinds of keys it touches. That is safe
//! because no decision is left to the client between statements: every
//! check fails its own statement, a failed statement aborts the
//! transaction, each later statement then fails, and `COMMIT` rolls back.
//! The store reads the results in order and reports the first failure, and
//! success only when every statement, `COMMIT` included, succeeded. A
//! pooled connection is never inside a transaction when it is handed out
//! (every transaction the store opens has its `COMMIT` sent with it, or is
//! rolled back when dropped), so `BEGIN` always opens this commit's own;
//! a caller that stops waiting after the pipeline went out leaves the
//! server to finish it, `COMMIT` or rollback, before the connection's next
//! statement.
//!
//! Each step locks its keys in key order, so two commits on the same keys
//! queue rather than deadlock. Steps 1, 2 and 5 each have their own order,
//! so commits that overlap in different roles (one expects a key that the
//! other only writes) can still deadlock; PostgreSQL detects that after
//! `deadlock_timeout` and aborts one of them. Deadlocks (`40P01`) and
//! serialization failures (`40001`) abort a transaction without applying
//! it, so the whole transaction is retried with jittered backoff; if they
//! persist the commit reports [`StorageError::Conflict`], never a backend
//! error. A connection lost while `COMMIT` is in flight leaves the outcome
//! unknown (applied whole or not at all): that is reported as
//! [`StorageError::Backend`] and not retried.
//!
//! # How the outbox stays in order (ADR 008)
//!
//! Sequence numbers given out by commits could become visible out of order
//! (a transaction holding 7 commits after one holding 8, and a reader that
//! saw 8 later finds 7); numbering under one row lock at commit time
//! (ADR 002) made every event-carrying commit wait for the previous one's
//! flush. So commits leave their events unnumbered and `read_events`
//! numbers them: when `{p}pending_events` is not empty it locks the
//! counter row, then, in the next statement (which under `READ COMMITTED`
//! sees every commit finished before the lock was granted), moves up to
//! 10,000 pending events into `{p}events` in (version, place) order with
//! the next numbers and advances the counter, and commits. Numbers only
//! grow, one numbering is visible before the next can start, and a
//! commit's events become visible together, so a reader that has seen `n`
//! never later finds an event `<= n`, and rolled-back commits leave no
//! gaps. A commit that read another's writes started after it committed,
//! so it has a larger version and its events come later. Readers pay for
//! the order (a short write transaction when something is pending);
//! commits no longer serialize on anything but the keys they touch.
//!
//! # Portability
//!
//! The SQL is written to run unchanged on PostgreSQL and on the
//! Postgres-compatible distributed engines CockroachDB and YugabyteDB. The
//! test suite runs against PostgreSQL (15); the other engines are covered by
//! the choices below, each documented by its vendor, not yet by a test run
//! here. What the store uses, and why that is portable:
//!
//! * `bytea` keys rather than `text COLLATE "C"`: byte order everywhere,
//!   and CockroachDB cannot compare a collated column with a parameter.
//! * `SELECT ... FOR UPDATE` / `FOR SHARE`, `INSERT ... ON CONFLICT`, `UPDATE ... FROM`,
//!   `RETURNING`, `= ANY(array)`, multi-argument `unnest(...) WITH
//!   ORDINALITY`, a data-modifying `WITH` (a `DELETE ... RETURNING`
//!   feeding an `INSERT`) and `row_number() OVER (ORDER BY ...)`:
//!   supported by all three.
//! * The checks fail their statement with `1 / 0` (SQLSTATE `22012`),
//!   plain SQL every engine evaluates, rather than a `DO` block or a
//!   function (PL/pgSQL is PostgreSQL's); writes take the commit's version
//!   with `currval`, which all three support.
//! * `SET LOCAL synchronous_commit` and `set_config('synchronous_commit',
//!   'off', true)` are PostgreSQL's; the store asks the server for the
//!   setting once on connect and, where it is unknown, syncs every commit
//!   (deferring is only ever a hint).
//! * Pipelining is the driver's (several extended-protocol queries in
//!   flight on one connection), not a server feature: any engine that
//!   speaks the PostgreSQL wire protocol accepts it.
//! * `generate_series` (the versions of a gathered statement's commits,
//!   one `nextval` each in a materialized `WITH` query): supported by all
//!   three.
//! * `CREATE SEQUENCE` / `nextval`: supported by all three (on CockroachDB a
//!   sequence is slower than on PostgreSQL, but correct).
//! * The migration lock is a row lock, not `pg_advisory_xact_lock`
//!   (PostgreSQL-only), and every migration statement is idempotent, so
//!   engines without transactional DDL can re-run a migration cut short.
//! * `READ COMMITTED` is requested explicitly, except for the one-statement
//!   commits, which run at the session's default isolation (`READ
//!   COMMITTED` unless the database is configured otherwise). An engine
//!   or a database that runs them as
//!   snapshot or serializable isolation (CockroachDB unless read committed
//!   is enabled, YugabyteDB by default) stays correct: the locks above still
//!   serialize conflicting commits, and two numberings of the outbox at
//!   once surface as `40001`, which is retried.
//!
//! # TLS
//!
//! The connection string's `sslmode` and `sslrootcert` mean what they mean
//! to libpq (`psql`), with rustls doing the work (module `tls`): `prefer`
//! by default, so a server that offers TLS gets an encrypted connection;
//! `verify-full` with `sslrootcert` (a PEM file, or `system`) to also
//! check that the server is the one named; `sslcert` and `sslkey` (PEM
//! files, given together) to log in with a client certificate, for roles
//! the server authenticates by certificate (`cert` in `pg_hba.conf`). No
//! default file is read from the home directory, as libpq would.

mod commit;
mod conninfo;
mod gather;
mod options;
mod retry;
mod schema;
mod session;
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{Client, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::IsolationLevel;

use crate::ports::{
    CommitBatch, Committed, Key, KeyRange, Record, Storage, StorageError, StoredEvent, Version,
};
pub use options::PostgresOptions;
use options::validate_prefix;
use retry::{AttemptError, Connections, backend, db_backend, on_connection, retrying};
use schema::Sql;
use session::{has_synchronous_commit, with_session_settings};

/// The server the store's unit tests run against (`RESERVO_PG_URL`, as
/// `scripts/postgres.sh run` sets it), or `None` after a notice naming
/// what is skipped. Under `CI=true` a missing server fails the test.
#[cfg(test)]
fn test_server_url(skipped: &str) -> Option<String> {
    match std::env::var("RESERVO_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("RESERVO_PG_URL is not set and CI=true: run under scripts/postgres.sh run")
        }
        _ => {
            eprintln!("SKIPPED: RESERVO_PG_URL is not set, so {skipped}");
            None
        }
    }
}

/// A [`Storage`] on PostgreSQL or a Postgres-compatible engine, safe to
/// share between tasks (`Arc<PostgresStore>`) and between processes (each
/// connecting to the same database and prefix).
///
/// ```no_run
/// # async fn demo() -> Result<(), reservo::ports::StorageError> {
/// use reservo::store::{PostgresOptions, PostgresStore};
///
/// let store = PostgresStore::connect("postgres://app@127.0.0.1:5432/bookings").await?;
/// let tenant = PostgresStore::connect_with(
///     "host=/run/postgresql dbname=bookings",
///     PostgresOptions::default()
///         .with_pool_size(16)
///         .with_table_prefix("tenant_a_"),
/// )
/// .await?;
/// # Ok(()) }
/// ```
pub struct PostgresStore {
    connections: Connections,
    sql: Arc<Sql>,
    options: PostgresOptions,
    /// Commits that run as one statement go through it (ADR 026).
    gatherer: Arc<gather::Gatherer>,
    /// Whether the server has `synchronous_commit`, so a
    /// [`Durability::Deferred`](crate::ports::Durability::Deferred) commit
    /// can skip waiting for its WAL flush (probed on connect).
    may_defer_flush: bool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects with [`PostgresOptions::default`]. See
    /// [`PostgresStore::connect_with`].
    pub async fn connect(url: &str) -> Result<PostgresStore, StorageError> {
        PostgresStore::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects to the database at `url` (a `postgres://` URL or a libpq
    /// `key=value` string), creating or migrating the tables for the
    /// options' prefix before it returns. Safe to call from many processes
    /// at once. Must be called within a Tokio runtime.
    ///
    /// TLS follows the string's `sslmode` and `sslrootcert` as in libpq;
    /// across a network, ask for `verify-full`:
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), reservo::ports::StorageError> {
    /// use reservo::store::PostgresStore;
    ///
    /// // Encrypted, and the server must hold a certificate for
    /// // db.example.com signed by a root in the file.
    /// let store = PostgresStore::connect(
    ///     "postgres://app@db.example.com/bookings?sslmode=verify-full\
    ///      &sslrootcert=/etc/ssl/db-ca.pem",
    /// )
    /// .await?;
    /// // The same, trusting the operating system's roots (a managed
    /// // database with a publicly signed certificate).
    /// let store = PostgresStore::connect(
    ///     "postgres://app@db.example.com/bookings?sslrootcert=system",
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`StorageError::Backend`] if the string is invalid (an unknown
    /// `sslmode`, `verify-ca` or `verify-full` without `sslrootcert`, a
    /// root file that cannot be read), the server cannot be reached or
    /// refuses the connection (a certificate that fails verification
    /// included), or the schema cannot be migrated;
    /// [`StorageError::SchemaTooNew`] if the tables were migrated by a newer
    /// Reservo (nothing is changed).
    pub async fn connect_with(
        url: &str,
        options: PostgresOptions,
    ) -> Result<PostgresStore, StorageError> {
        validate_prefix(options.table_prefix())?;
        let (url, tls) = tls::split(url)?;
        let tls = tls::connector(&tls)?;
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| backend("invalid PostgreSQL connection string", e))?;
        let config = with_session_settings(config, tls.clone(), &options).await?;
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size())
            .wait_timeout(options.pool_timeout())
            .create_timeout(options.pool_timeout())
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| backend("cannot build the connection pool", e))?;
        let connections = Connections {
            pool,
            query_timeout: options.query_timeout(),
        };
        let sql = Sql::new(options.table_prefix());
        schema::migrate(&connections, &sql).await?;
        let may_defer_flush = has_synchronous_commit(&connections).await?;
        let sql = Arc::new(sql);
        let gatherer = Arc::new(gather::Gatherer::new(
            Connections {
                pool: connections.pool.clone(),
                query_timeout: connections.query_timeout,
            },
            Arc::clone(&sql),
            may_defer_flush,
            options.commits_in_flight(),
        ));
        Ok(PostgresStore {
            connections,
            sql,
            gatherer,
            options,
            may_defer_flush,
        })
    }

    /// The options this store was connected with.
    pub fn options(&self) -> &PostgresOptions {
        &self.options
    }
}

#[async_trait]
impl Storage for PostgresStore {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        let rows = retrying(
            || {
                on_connection(&self.connections, async |client| {
                    let statement = client.prepare_cached(&self.sql.get).await?;
                    Ok(client.query(&statement, &[&wanted]).await?)
                })
            },
            |e| db_backend("reading records kept conflicting", e),
        )
        .await?;
        let mut found: HashMap<Key, Record> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let record = to_record(row)?;
            found.insert(record.key.clone(), record);
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let start = range.start.as_bytes();
        let rows = retrying(
            || {
                on_connection(&self.connections, async |client| {
                    let rows = match range.end.as_deref() {
                        Some(end) => {
                            let statement = client.prepare_cached(&self.sql.scan_bounded).await?;
                            client
                                .query(&statement, &[&start, &end.as_bytes(), &limit])
                                .await?
                        }
                        None => {
                            let statement = client.prepare_cached(&self.sql.scan_unbounded).await?;
                            client.query(&statement, &[&start, &limit]).await?
                        }
                    };
                    Ok(rows)
                })
            },
            |e| db_backend("scanning records kept conflicting", e),
        )
        .await?;
        rows.iter().map(to_record).collect()
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        crate::store::validate_batch(&batch)?;
        if gather::gathers(&batch) {
            return self.gatherer.commit(batch).await;
        }
        commit::commit(&self.connections, &self.sql, batch, self.may_defer_flush).await
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        let Ok(after) = i64::try_from(after) else {
            // No stored sequence number exceeds i64::MAX.
            return Ok(Vec::new());
        };
        // A larger limit than i64::MAX (`usize::MAX`: "all of them") cannot
        // be reached: read as if it were i64::MAX, as `scan` does.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        retrying(
            || number_pending_events(&self.connections, &self.sql),
            |e| db_backend("numbering outbox events kept conflicting", e),
        )
        .await?;
        let rows = retrying(
            || {
                on_connection(&self.connections, async |client| {
                    let statement = client.prepare_cached(&self.sql.read_events).await?;
                    Ok(client.query(&statement, &[&after, &limit]).await?)
                })
            },
            |e| db_backend("reading events kept conflicting", e),
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredEvent {
                    seq: to_u64(row.get(0), "event sequence")?,
                    kind: row.get(1),
                    payload: row.get(2),
                })
            })
            .collect()
    }
}

/// The most pending events one numbering moves: a long backlog is numbered
/// over several reads rather than in one large transaction.
const NUMBERING_BATCH: i64 = 10_000;

/// Gives the events that commits left unnumbered their outbox sequence
/// numbers, in commit-version order (ADR 008), if there are any.
///
/// The counter row is locked first, in its own statement, and the events
/// are moved by the next one: under `READ COMMITTED` that statement sees
/// every commit that finished before the lock was granted, including the
/// previous numbering, so numbers only grow, and a numbering becomes
/// visible before the next one can start. A reader that has seen `n` can
/// therefore never later find an event `<= n`. Engines that run the
/// transaction at a stronger isolation level abort one of two concurrent
/// numberings (`40001`), which is retried.
async fn number_pending_events(connections: &Connections, sql: &Sql) -> Result<(), AttemptError> {
    on_connection(connections, async |client| number_on(client, sql).await).await
}

/// [`number_pending_events`] on one connection.
async fn number_on(client: &mut Client, sql: &Sql) -> Result<(), AttemptError> {
    let any_pending = client.prepare_cached(&sql.any_pending).await?;
    let pending: bool = client.query_one(&any_pending, &[]).await?.get(0);
    if !pending {
        return Ok(());
    }
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    let lock_counter = tx.prepare_cached(&sql.lock_counter).await?;
    let number_pending = tx.prepare_cached(&sql.number_pending).await?;
    let last: i64 = tx.query_one(&lock_counter, &[]).await?.get(0);
    tx.execute(&number_pending, &[&last, &NUMBERING_BATCH])
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A record from a `key, value, version` row.
fn to_record(row: &tokio_postgres::Row) -> Result<Record, StorageError> {
    let key: Vec<u8> = row.get(0);
    let key = String::from_utf8(key)
        .map_err(|e| backend("stored key is not UTF-8: the table holds foreign data", e))?;
    Ok(Record {
        value: row.get(1),
        version: Version(to_u64(row.get(2), "record version")?),
        key,
    })
}

/// A stored `INT8` that the store only ever writes positive.
fn to_u64(value: i64, what: &str) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::backend(format!("stored {what} {value} < 0")))
}
