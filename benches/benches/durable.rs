//! Durable bookings per second: `Engine::hold` + `Engine::confirm` on the
//! durable stores, each beside a hand-written plain-SQL booking doing the
//! same work against the same database in the same run.
//!
//! The baseline books one unit of a two-night stay in one transaction: for
//! each night a conditional counter `UPDATE inventory SET booked = booked +
//! 1 WHERE resource = ? AND night = ? AND booked < capacity` (one row or the
//! booking is refused), then an `INSERT` of the booking row, then `COMMIT`.
//! Reservo does more: two commits (the hold, then the confirmation), a
//! priced quote, idempotency records, look-up indexes and outbox events.
//!
//! * `sqlite_full/*`: one SQLite file with `synchronous=FULL` (the store's
//!   default); the baseline's tables live in the same file. One caller, and
//!   16 concurrent callers, all on one resource and the same nights.
//! * `postgres/*`: 16 concurrent callers on one database, on one hot
//!   resource, and spread over 1,000 resources. Skipped with a notice when
//!   `RESERVO_PG_URL` is unset. Both sides connect over plain TCP
//!   (`sslmode=disable`, whatever the URL says): the baseline's driver has
//!   no TLS, and the ratio is about the work, not the encryption.
//!
//! Targets: Reservo at least 0.5x the baseline on each database, and at
//! least 1,000 durable confirms/s from one caller on SQLite FULL.
//!
//! Run: `scripts/postgres.sh run -- cargo bench -p reservo-benches --bench
//! durable` (plain `cargo bench ... --bench durable` runs the SQLite part).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use reservo::engine::Engine;
use reservo::ports::{
    CommitBatch, Committed, Durable, Key, KeyRange, Record, Storage, StorageError, StoredEvent,
};
use reservo::store::{PostgresOptions, PostgresStore, SqliteStore};
use reservo_benches::{durable_confirm, durable_hold, durable_hotel, durable_nights};

/// Concurrent callers in the `16_callers` and PostgreSQL benches.
const CALLERS: usize = 16;
/// Resources the spread PostgreSQL load is shared over.
const SPREAD: usize = 1_000;
/// Units per resource and night: more than a run can sell.
const UNITS: u32 = 10_000_000;

fn resource_id(n: usize) -> String {
    format!("room-{n:04}")
}

/// A unique number per booking in the whole run, for idempotency keys.
static KEYS: AtomicU64 = AtomicU64::new(0);
/// Reservo bookings made since the last [`Counted::reset`].
static BOOKINGS: AtomicU64 = AtomicU64::new(0);

/// Runs `total` bookings through `callers` concurrent tasks and returns
/// the wall time. `book(caller, n)` does booking number `n`.
async fn run_callers<F, Fut>(callers: usize, total: u64, book: F) -> Duration
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let (next, book) = (Arc::clone(&next), book.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    book(caller, n).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a booking task panicked");
    }
    started.elapsed()
}

/// Bookings per second, sampled flat: each sample is a few hundred
/// bookings of milliseconds each.
fn per_booking(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(1));
}

/// Which resource booking number `n` takes.
type Pick = fn(u64) -> usize;

// ------------------------------------------------------------- Reservo

/// The store under the Reservo benches, counting its calls and the time
/// they take, so each bench can say where a booking's time goes.
struct Counted {
    inner: Arc<dyn Storage>,
    reads: AtomicU64,
    read_nanos: AtomicU64,
    commits: AtomicU64,
    commit_nanos: AtomicU64,
    conflicts: AtomicU64,
}

impl Counted {
    fn new(inner: Arc<dyn Storage>) -> Arc<Counted> {
        Arc::new(Counted {
            inner,
            reads: AtomicU64::new(0),
            read_nanos: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            commit_nanos: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
        })
    }

    fn read_took(&self, started: Instant) {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let nanos = started.elapsed().as_nanos() as u64;
        self.read_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// A commit (applied or durable, as asked) took since `started`.
    fn commit_took(&self, started: Instant, failed: Option<&StorageError>) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        let nanos = started.elapsed().as_nanos() as u64;
        self.commit_nanos.fetch_add(nanos, Ordering::Relaxed);
        if matches!(failed, Some(StorageError::Conflict { .. })) {
            self.conflicts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Forgets every call so far (the catalog set-up, the baseline's run).
    fn reset(&self) {
        for counter in [&self.reads, &self.read_nanos, &self.commits] {
            counter.store(0, Ordering::Relaxed);
        }
        self.commit_nanos.store(0, Ordering::Relaxed);
        self.conflicts.store(0, Ordering::Relaxed);
        BOOKINGS.store(0, Ordering::Relaxed);
    }

    /// Prints the calls per booking since the last reset.
    fn report(&self, bench: &str) {
        let bookings = BOOKINGS.swap(0, Ordering::Relaxed).max(1) as f64;
        let take = |counter: &AtomicU64| counter.swap(0, Ordering::Relaxed) as f64;
        let (reads, read_ms) = (take(&self.reads), take(&self.read_nanos) / 1e6);
        let (commits, commit_ms) = (take(&self.commits), take(&self.commit_nanos) / 1e6);
        let conflicts = take(&self.conflicts);
        eprintln!(
            "{bench}: {bookings} bookings; per booking {:.1} reads ({:.3} ms each), {:.2} commits ({:.3} ms each), \
             {:.2} of them conflicts",
            reads / bookings,
            read_ms / reads.max(1.0),
            commits / bookings,
            commit_ms / commits.max(1.0),
            conflicts / bookings,
        );
    }
}

#[async_trait::async_trait]
impl Storage for Counted {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        let started = Instant::now();
        let found = self.inner.get(keys).await;
        self.read_took(started);
        found
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let started = Instant::now();
        let found = self.inner.scan(range, limit).await;
        self.read_took(started);
        found
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        let started = Instant::now();
        let committed = self.inner.commit(batch).await;
        self.commit_took(started, committed.as_ref().err());
        committed
    }

    /// Forwarded, so that the engine's turn on a hot resource passes on
    /// when a commit is applied (the default would wait for its sync).
    async fn commit_applied(
        &self,
        batch: CommitBatch,
    ) -> Result<(Committed, Durable), StorageError> {
        let started = Instant::now();
        let committed = self.inner.commit_applied(batch).await;
        self.commit_took(started, committed.as_ref().err());
        committed
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.inner.read_events(after, limit).await
    }
}

/// An engine on `store` with `resources` nightly resources of [`UNITS`]
/// units, on a clock fixed at 1 June 2026.
async fn reservo(store: Arc<Counted>, resources: usize) -> Arc<Engine> {
    Arc::new(durable_hotel(store, (0..resources).map(resource_id), UNITS).await)
}

/// Holds one unit of both nights of resource `n` and confirms it, as a
/// host does: a command that reports `CONTENTION` is sent again under the
/// same idempotency key.
async fn reservo_booking(engine: &Engine, resource: usize) {
    let n = KEYS.fetch_add(1, Ordering::Relaxed);
    let hold = durable_hold(&resource_id(resource), format!("bench-{n}-hold"));
    let hold = again_on_contention(|| engine.hold(&hold)).await;
    let confirm = durable_confirm(hold.id, format!("bench-{n}-confirm"));
    again_on_contention(|| engine.confirm(&confirm)).await;
    BOOKINGS.fetch_add(1, Ordering::Relaxed);
}

async fn again_on_contention<T, F, Fut>(mut command: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = reservo::Result<T>>,
{
    loop {
        match command().await {
            Ok(done) => return done,
            Err(e) if e.code() == "CONTENTION" => continue,
            Err(e) => panic!("booking failed: {}: {e}", e.code()),
        }
    }
}

// ------------------------------------------------------ SQLite baseline

const SQLITE_SCHEMA: &str = "
    CREATE TABLE inventory (
        resource TEXT NOT NULL, night TEXT NOT NULL,
        capacity INTEGER NOT NULL, booked INTEGER NOT NULL,
        PRIMARY KEY (resource, night)) WITHOUT ROWID;
    CREATE TABLE bookings (
        id INTEGER PRIMARY KEY, resource TEXT NOT NULL,
        check_in TEXT NOT NULL, check_out TEXT NOT NULL, guest TEXT NOT NULL);";

/// The baseline's connection to the store's own file, as durable as the
/// store (`synchronous=FULL`; the store already switched the file to WAL).
fn sqlite_baseline(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.execute_batch(SQLITE_SCHEMA).unwrap();
    for night in durable_nights() {
        conn.execute(
            "INSERT INTO inventory VALUES (?1, ?2, ?3, 0)",
            (resource_id(0), night.to_string(), UNITS),
        )
        .unwrap();
    }
    conn
}

fn sqlite_booking(conn: &mut rusqlite::Connection) {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let nights = durable_nights();
    for night in nights {
        let taken = tx
            .prepare_cached(
                "UPDATE inventory SET booked = booked + 1
                 WHERE resource = ?1 AND night = ?2 AND booked < capacity",
            )
            .unwrap()
            .execute((resource_id(0), night.to_string()))
            .unwrap();
        assert_eq!(taken, 1, "baseline sold out");
    }
    tx.prepare_cached(
        "INSERT INTO bookings (resource, check_in, check_out, guest) VALUES (?1, ?2, ?3, ?4)",
    )
    .unwrap()
    .execute((
        resource_id(0),
        nights[0].to_string(),
        nights[1].succ_opt().unwrap().to_string(),
        "+351912345678",
    ))
    .unwrap();
    tx.commit().unwrap();
}

fn sqlite(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite");
    let store = Counted::new(Arc::new(SqliteStore::open(&path).unwrap()));
    let engine = runtime.block_on(reservo(Arc::clone(&store), 1));
    let baseline = Arc::new(Mutex::new(sqlite_baseline(&path)));

    let mut group = c.benchmark_group("durable/sqlite_full");
    per_booking(&mut group);
    for callers in [1, CALLERS] {
        let label = if callers == 1 {
            "one_caller".to_owned()
        } else {
            format!("{callers}_callers")
        };
        store.reset();
        group.bench_function(format!("{label}/reservo_hold_confirm"), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let engine = Arc::clone(&engine);
                run_callers(callers, iters, move |_, _| {
                    let engine = Arc::clone(&engine);
                    async move { reservo_booking(&engine, 0).await }
                })
            });
        });
        store.report(&format!("{label}/reservo_hold_confirm"));
        group.bench_function(format!("{label}/plain_sql_booking"), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let baseline = Arc::clone(&baseline);
                run_callers(callers, iters, move |_, _| {
                    let baseline = Arc::clone(&baseline);
                    async move {
                        tokio::task::spawn_blocking(move || {
                            sqlite_booking(&mut baseline.lock().unwrap());
                        })
                        .await
                        .unwrap();
                    }
                })
            });
        });
    }
    group.finish();
}

// -------------------------------------------------- PostgreSQL baseline

/// One caller's connection with its statements prepared.
struct PgCaller {
    client: tokio_postgres::Client,
    take_night: tokio_postgres::Statement,
    insert_booking: tokio_postgres::Statement,
}

async fn pg_callers(
    url: &str,
    prefix: &str,
    resources: usize,
) -> Arc<Vec<tokio::sync::Mutex<PgCaller>>> {
    let mut callers = Vec::with_capacity(CALLERS);
    for i in 0..CALLERS {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        if i == 0 {
            client
                .batch_execute(&format!(
                    "CREATE TABLE {prefix}inventory (
                         resource TEXT NOT NULL, night TEXT NOT NULL,
                         capacity INT4 NOT NULL, booked INT4 NOT NULL,
                         PRIMARY KEY (resource, night));
                     CREATE TABLE {prefix}bookings (
                         id BIGSERIAL PRIMARY KEY, resource TEXT NOT NULL,
                         check_in TEXT NOT NULL, check_out TEXT NOT NULL, guest TEXT NOT NULL);
                     INSERT INTO {prefix}inventory
                         SELECT 'room-' || lpad(r::text, 4, '0'), n, {UNITS}, 0
                         FROM generate_series(0, {}) AS r,
                              (VALUES ('{}'), ('{}')) AS nights(n);",
                    resources - 1,
                    durable_nights()[0],
                    durable_nights()[1]
                ))
                .await
                .unwrap();
        }
        let take_night = client
            .prepare(&format!(
                "UPDATE {prefix}inventory SET booked = booked + 1
                 WHERE resource = $1 AND night = $2 AND booked < capacity"
            ))
            .await
            .unwrap();
        let insert_booking = client
            .prepare(&format!(
                "INSERT INTO {prefix}bookings (resource, check_in, check_out, guest)
                 VALUES ($1, $2, $3, $4)"
            ))
            .await
            .unwrap();
        callers.push(tokio::sync::Mutex::new(PgCaller {
            client,
            take_night,
            insert_booking,
        }));
    }
    Arc::new(callers)
}

async fn pg_booking(caller: &mut PgCaller, resource: usize) {
    let resource = resource_id(resource);
    let [first, second] = durable_nights().map(|night| night.to_string());
    let check_out = durable_nights()[1].succ_opt().unwrap().to_string();
    let tx = caller.client.transaction().await.unwrap();
    for night in [&first, &second] {
        let taken = tx
            .execute(&caller.take_night, &[&resource, night])
            .await
            .unwrap();
        assert_eq!(taken, 1, "baseline sold out");
    }
    tx.execute(
        &caller.insert_booking,
        &[&resource, &first, &check_out, &"+351912345678"],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

fn postgres(c: &mut Criterion) {
    let Some(url) = std::env::var("RESERVO_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "SKIPPED durable/postgres: RESERVO_PG_URL is not set. Run under \
             scripts/postgres.sh run -- cargo bench -p reservo-benches --bench durable"
        );
        return;
    };
    let url = plain_tcp(&url);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let prefix = format!("bench_{}_", std::process::id());
    // The server shares this machine's two cores with the callers: two
    // commit statements in flight keep it busy (ADR 026).
    let options = PostgresOptions::default()
        .with_pool_size(CALLERS)
        .with_commits_in_flight(2)
        .with_table_prefix(&prefix);
    let store = runtime
        .block_on(PostgresStore::connect_with(&url, options))
        .unwrap();
    let store = Counted::new(Arc::new(store));
    let engine = runtime.block_on(reservo(Arc::clone(&store), SPREAD));
    let callers = runtime.block_on(pg_callers(&url, &prefix, SPREAD));

    let mut group = c.benchmark_group("durable/postgres");
    per_booking(&mut group);
    // The resource booking `n` takes: always the first, or one in turn.
    let loads: [(&str, Pick); 2] = [
        ("hot_resource", |_| 0),
        ("spread_1000_resources", |n| (n % SPREAD as u64) as usize),
    ];
    for (label, pick) in loads {
        store.reset();
        group.bench_function(format!("{label}/reservo_hold_confirm"), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let engine = Arc::clone(&engine);
                run_callers(CALLERS, iters, move |_, n| {
                    let engine = Arc::clone(&engine);
                    async move { reservo_booking(&engine, pick(n)).await }
                })
            });
        });
        store.report(&format!("{label}/reservo_hold_confirm"));
        group.bench_function(format!("{label}/plain_sql_booking"), |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let callers = Arc::clone(&callers);
                run_callers(CALLERS, iters, move |caller, n| {
                    let callers = Arc::clone(&callers);
                    async move { pg_booking(&mut *callers[caller].lock().await, pick(n)).await }
                })
            });
        });
    }
    group.finish();
    runtime.block_on(async {
        let caller = callers[0].lock().await;
        caller
            .client
            .batch_execute(&format!(
                "DROP TABLE {prefix}inventory, {prefix}bookings, {prefix}records, \
                 {prefix}events, {prefix}pending_events, {prefix}counters, {prefix}migrations; \
                 DROP SEQUENCE {prefix}versions;"
            ))
            .await
            .unwrap();
    });
}

/// `url` (a `postgres://` URL) asking for a connection without TLS.
fn plain_tcp(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
