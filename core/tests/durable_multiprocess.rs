//! Several OS processes, each with several tasks, race through
//! `Engine::hold` and `Engine::confirm` for the last units of one resource
//! on the same nights, on one SQLite file and on one PostgreSQL database.
//!
//! Each child process is this test binary re-run on the ignored test
//! `booking_process_races_for_the_last_units`; it prints every booking
//! acknowledged to it. Afterwards the parent checks that no night was sold
//! beyond capacity (from the ledgers and from the bookings), that every
//! night is sold out exactly (no unit leaked), and that the stored bookings
//! are exactly the acknowledged ones.
//!
//! PostgreSQL comes from `RESERVO_PG_URL`: `scripts/postgres.sh run --
//! cargo test -p reservo --all-features --test durable_multiprocess`.
//! Without it the PostgreSQL test prints a skip notice and passes, except
//! under `CI=true`, where it fails.

mod durable_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use durable_support::{ChildProcess, NightAudit, Rng, book_and_acknowledge, d, nights, say};
use reservo::ports::Storage;
use reservo::store::{SqliteOptions, SqliteStore};

const PROCESSES: usize = 4;
const TASKS_PER_PROCESS: u64 = 8;
/// Random stays each task tries before it sweeps the nights one by one.
const RANDOM_TRIES: usize = 3;
/// Units of the resource: far fewer than the tasks racing for them.
const UNITS: u32 = 5;
/// The nights raced for: 1 to 8 July 2026 (7 nights, 35 unit-nights).
fn first_night() -> chrono::NaiveDate {
    d(7, 1)
}
fn end_of_nights() -> chrono::NaiveDate {
    d(7, 8)
}

/// Which store a child opens: `sqlite:<path>` or `postgres:<table prefix>`.
const CHILD_STORE: &str = "RESERVO_DURABLE_STORE";
/// The child's number, to keep its idempotency keys its own.
const CHILD_ID: &str = "RESERVO_DURABLE_CHILD";
const CHILD_TEST: &str = "booking_process_races_for_the_last_units";

async fn open(spec: &str) -> Arc<dyn Storage> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        let options = SqliteOptions::default().readers(2);
        return Arc::new(SqliteStore::open_with(path, options).expect("open the SQLite file"));
    }
    #[cfg(feature = "postgres")]
    if let Some(prefix) = spec.strip_prefix("postgres:") {
        let url = durable_support::postgres::url().expect("RESERVO_PG_URL for a PostgreSQL child");
        let store = durable_support::postgres::connect(&url, prefix, TASKS_PER_PROCESS as usize);
        return Arc::new(store.await);
    }
    panic!("unknown store {spec:?}")
}

/// One task's part of the race: a few random stays of 1 to 3 nights, then
/// every night alone in a random order, so that once all tasks are done
/// every night has been tried by someone after it could no longer change
/// from free to taken. Each booking acknowledged is printed.
async fn race(engine: Arc<reservo::engine::Engine>, child: u64, task: u64, seed: u64) -> usize {
    let mut rng = Rng::new(seed ^ (child << 40) ^ (task << 20));
    let guest = child * 100 + task;
    let mut booked = 0;
    for n in 0..RANDOM_TRIES {
        let stay = rng.stay_within(first_night(), end_of_nights(), 3);
        let key = format!("c{child}-t{task}-r{n}");
        booked += usize::from(book_and_acknowledge(&engine, &key, stay, guest).await);
    }
    let mut sweep = nights(first_night(), end_of_nights());
    for i in (1..sweep.len()).rev() {
        sweep.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for night in sweep {
        let stay = reservo::time::Stay::new(night, night.succ_opt().expect("a next day"))
            .expect("one night");
        let key = format!("c{child}-t{task}-n{night}");
        booked += usize::from(book_and_acknowledge(&engine, &key, stay, guest).await);
    }
    booked
}

/// The child side: run by the parent as a copy of this test binary with
/// `CHILD_STORE` set. Run directly, it races alone on a file of its own
/// and checks the outcome the same way.
#[test]
#[ignore = "child process of the processes_racing_* tests"]
fn booking_process_races_for_the_last_units() {
    durable_support::runtime().block_on(async {
        let Ok(spec) = std::env::var(CHILD_STORE) else {
            let dir = tempfile::tempdir().expect("temp dir");
            let spec = format!("sqlite:{}", dir.path().join("alone.sqlite").display());
            let engine = durable_support::engine(open(&spec).await);
            durable_support::set_up_catalog(&engine, UNITS).await;
            let engine = Arc::new(engine);
            race_in_tasks(&engine, 0, Rng::seed_from_entropy()).await;
            let audit = NightAudit::read(&engine, first_night(), end_of_nights()).await;
            audit.assert_never_oversold();
            return;
        };
        let child: u64 = std::env::var(CHILD_ID)
            .expect("child id")
            .parse()
            .expect("numeric id");
        let engine = Arc::new(durable_support::engine(open(&spec).await));
        let seed = Rng::seed_from_entropy();
        eprintln!("child {child}: seed {seed}");
        say(durable_support::READY);
        race_in_tasks(&engine, child, seed).await;
    });
}

async fn race_in_tasks(engine: &Arc<reservo::engine::Engine>, child: u64, seed: u64) {
    let tasks: Vec<_> = (0..TASKS_PER_PROCESS)
        .map(|task| tokio::spawn(race(Arc::clone(engine), child, task, seed)))
        .collect();
    for task in tasks {
        task.await.expect("a racing task panicked");
    }
}

/// Starts the children on `spec` (whose catalog is set up), waits for
/// them, and checks the outcome through `engine`.
async fn race_and_audit(engine: &reservo::engine::Engine, spec: &str) {
    let children: Vec<ChildProcess> = (0..PROCESSES)
        .map(|id| {
            ChildProcess::spawn(
                CHILD_TEST,
                &[(CHILD_STORE, spec.to_owned()), (CHILD_ID, id.to_string())],
            )
        })
        .collect();
    let acknowledged: Vec<_> = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .flat_map(ChildProcess::finish)
            .collect()
    })
    .await
    .expect("waiting for the children");

    let distinct: BTreeSet<_> = acknowledged.iter().collect();
    assert_eq!(
        distinct.len(),
        acknowledged.len(),
        "a booking was acknowledged twice"
    );
    let audit = NightAudit::read(engine, first_night(), end_of_nights()).await;
    audit.assert_never_oversold();
    audit.assert_has_every(&acknowledged);
    let stored: BTreeSet<_> = audit.bookings.iter().map(|b| &b.id).collect();
    assert_eq!(
        stored, distinct,
        "stored bookings differ from the acknowledged ones"
    );
    for (night, &(booked, held)) in &audit.ledgers {
        assert_eq!(
            (booked, held),
            (UNITS, 0),
            "{night}: every unit must end up booked, none held"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_racing_on_one_sqlite_file_never_sell_a_night_twice_or_lose_a_booking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = format!("sqlite:{}", dir.path().join("race.sqlite").display());
    let engine = durable_support::engine(open(&spec).await);
    durable_support::set_up_catalog(&engine, UNITS).await;
    race_and_audit(&engine, &spec).await;
    let store = SqliteStore::open(dir.path().join("race.sqlite")).expect("reopen");
    store.integrity_check().await.expect("integrity check");
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::durable_support::{self, postgres};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn processes_racing_on_one_postgres_database_never_sell_a_night_twice_or_lose_a_booking()
    {
        let Some(url) = postgres::url() else { return };
        let prefix = postgres::fresh_prefix();
        let spec = format!("postgres:{prefix}");
        let engine = durable_support::engine(super::open(&spec).await);
        durable_support::set_up_catalog(&engine, super::UNITS).await;
        super::race_and_audit(&engine, &spec).await;
        postgres::drop_tables(&url, &prefix).await;
    }
}
