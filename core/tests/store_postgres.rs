//! `PostgresStore` against a real server: the storage contract, migrations,
//! reconnects, and commits from several OS processes at once.
//!
//! The server comes from `RESERVO_PG_URL`; `scripts/postgres.sh run -- cargo
//! test -p reservo --features postgres,conformance --test store_postgres`
//! provides a throwaway one. Without it the tests print a skip notice and
//! pass, except under `CI=true`, where they fail. Every test works in tables
//! of its own random prefix and drops them at the end, so runs can share a
//! database.

#[path = "support/pg.rs"]
mod pg;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use pg::{connect, drop_tables, fresh_prefix, inspect, pg_url};
use reservo::ports::{CommitBatch, Expectation, Mutation, NewEvent, Storage, StorageError};
use reservo::store::{PostgresOptions, PostgresStore, conformance};

/// What provides a server for these tests.
const RUN: &str = "cargo test -p reservo --features postgres,conformance --test store_postgres";

/// Drops every table of the prefixes.
async fn drop_all(url: &str, prefixes: &[String]) {
    for prefix in prefixes {
        drop_tables(url, prefix).await;
    }
}

fn put(key: &str, value: &[u8]) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: value.to_vec(),
    }
}

fn event(kind: &str, payload: &str) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        payload: payload.as_bytes().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_conformance_kit() {
    let Some(url) = pg_url(RUN) else { return };
    let prefixes = Arc::new(Mutex::new(Vec::new()));
    let report = conformance::run({
        let (url, prefixes) = (url.clone(), Arc::clone(&prefixes));
        move || {
            // Each case gets empty tables of its own.
            let prefix = fresh_prefix();
            prefixes.lock().expect("prefix list").push(prefix.clone());
            let url = url.clone();
            async move { Arc::new(connect(&url, &prefix).await) as Arc<dyn Storage> }
        }
    })
    .await;
    let prefixes = prefixes.lock().expect("prefix list").clone();
    drop_all(&url, &prefixes).await;
    report.assert_all_passed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_sees_committed_records_versions_and_events() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let first = connect(&url, &prefix).await;
    let committed = first
        .commit(CommitBatch {
            durability: Default::default(),
            expectations: vec![Expectation {
                key: "bk/1".into(),
                version: None,
            }],
            mutations: vec![put("bk/1", b"{\"n\":1}")],
            events: vec![event("booking.created", "{}")],
        })
        .await
        .expect("first commit");
    drop(first);

    let second = connect(&url, &prefix).await;
    let records = second.get(&["bk/1".into()]).await.expect("get");
    let record = records[0].as_ref().expect("record survives a reconnect");
    assert_eq!(record.value, b"{\"n\":1}");
    assert_eq!(record.version, committed.version);
    let events = second.read_events(0, 10).await.expect("read events");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].seq, events[0].kind.as_str()),
        (1, "booking.created")
    );
    drop_all(&url, &[prefix]).await;
}

/// The migrations table's rows, `(version, applied_at)` in version order
/// (row 0 is the migration lock).
async fn migration_rows(url: &str, prefix: &str) -> Vec<(i64, String)> {
    inspect(url)
        .await
        .query(
            &format!("SELECT version, applied_at::text FROM {prefix}migrations ORDER BY version"),
            &[],
        )
        .await
        .expect("reading migrations")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// The migration versions recorded for `prefix`, lock row excluded.
async fn applied_migrations(url: &str, prefix: &str) -> Vec<i64> {
    let rows = migration_rows(url, prefix).await;
    rows.into_iter()
        .map(|(v, _)| v)
        .filter(|&v| v > 0)
        .collect()
}

/// Events a previous release numbered at commit time keep their numbers,
/// and new ones (numbered by readers) follow on from the counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_numbered_by_a_previous_release_keep_their_numbers() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    inspect(&url)
        .await
        .batch_execute(&format!(
            "INSERT INTO {prefix}events (seq, kind, payload) \
             VALUES (1, 'old.one', '\\x7b7d'), (2, 'old.two', '\\x7b7d'); \
             UPDATE {prefix}counters SET value = 2 WHERE name = 'event_seq';"
        ))
        .await
        .expect("events as the previous release wrote them");
    store
        .commit(CommitBatch {
            durability: Default::default(),
            expectations: vec![],
            mutations: vec![put("k/1", b"1")],
            events: vec![event("new.one", "{}"), event("new.two", "{}")],
        })
        .await
        .expect("commit");
    let events = store.read_events(0, 10).await.expect("read events");
    let seen: Vec<(u64, &str)> = events.iter().map(|e| (e.seq, e.kind.as_str())).collect();
    assert_eq!(
        seen,
        vec![
            (1, "old.one"),
            (2, "old.two"),
            (3, "new.one"),
            (4, "new.two")
        ]
    );
    assert!(
        store.read_events(2, 10).await.expect("read again")[..] == events[2..],
        "a second read numbers nothing again"
    );
    drop_all(&url, &[prefix]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_again_applies_no_migration_twice() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    connect(&url, &prefix).await;
    assert_eq!(applied_migrations(&url, &prefix).await, vec![1, 2]);
    let after_first = migration_rows(&url, &prefix).await;
    connect(&url, &prefix).await;
    connect(&url, &prefix).await;
    // Same rows with the same timestamps: nothing was re-applied.
    assert_eq!(migration_rows(&url, &prefix).await, after_first);
    drop_all(&url, &[prefix]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_connects_all_succeed_and_migrate_once() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let connects: Vec<_> = (0..6)
        .map(|_| {
            let (url, prefix) = (url.clone(), prefix.clone());
            tokio::spawn(async move {
                let options = PostgresOptions::default()
                    .with_pool_size(1)
                    .with_table_prefix(prefix);
                PostgresStore::connect_with(&url, options).await.map(drop)
            })
        })
        .collect();
    for connect in connects {
        connect
            .await
            .expect("task")
            .expect("every concurrent connect succeeds");
    }
    let rows = migration_rows(&url, &prefix).await;
    let versions: Vec<i64> = rows.iter().map(|(v, _)| *v).collect();
    let distinct: BTreeSet<i64> = versions.iter().copied().collect();
    assert_eq!(
        versions.len(),
        distinct.len(),
        "a migration ran twice: {rows:?}"
    );
    drop_all(&url, &[prefix]).await;
}

/// A connect whose `CREATE TABLE IF NOT EXISTS` of the migrations table
/// loses the race to another creator gets a duplicate-key error from the
/// server's catalog (the table did not exist when it looked); it tries
/// again, finds the table, and connects. The race is made certain here: an
/// open transaction has created the table, the connect's creation waits on
/// it, and the transaction then commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_that_loses_the_race_to_create_the_tables_tries_again() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let rival = inspect(&url).await;
    rival
        .batch_execute(&format!(
            "BEGIN; CREATE TABLE {prefix}migrations ( \
             version INT8 PRIMARY KEY, name TEXT NOT NULL, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        ))
        .await
        .expect("the rival's creation, uncommitted");
    let rival_pid: i32 = rival
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);
    let connecting = tokio::spawn({
        let (url, prefix) = (url.clone(), prefix.clone());
        async move {
            let options = PostgresOptions::default().with_table_prefix(prefix);
            PostgresStore::connect_with(&url, options).await.map(drop)
        }
    });
    let watcher = inspect(&url).await;
    loop {
        let waiting: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                &[&rival_pid],
            )
            .await
            .expect("waiting backends")
            .get(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    rival
        .batch_execute("COMMIT")
        .await
        .expect("the rival commits");
    connecting
        .await
        .expect("task")
        .expect("the connect that lost the race succeeds");
    let versions: Vec<i64> = migration_rows(&url, &prefix)
        .await
        .iter()
        .map(|(v, _)| *v)
        .collect();
    assert!(versions.contains(&1), "migrated: {versions:?}");
    drop_all(&url, &[prefix]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_newer_than_this_reservo_are_refused() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    connect(&url, &prefix).await;
    inspect(&url)
        .await
        .execute(
            &format!("INSERT INTO {prefix}migrations (version, name) VALUES (9999, 'future')"),
            &[],
        )
        .await
        .expect("recording a future migration");
    let refused = PostgresStore::connect_with(
        &url,
        PostgresOptions::default().with_table_prefix(prefix.clone()),
    )
    .await;
    assert!(
        matches!(refused, Err(StorageError::SchemaTooNew { found: 9999, .. })),
        "{refused:?}"
    );
    drop_all(&url, &[prefix]).await;
}

#[tokio::test]
async fn unsafe_table_prefix_is_refused_before_any_sql_runs() {
    // No server needed: the prefix is checked before connecting.
    let refused = PostgresStore::connect_with(
        "postgres://nobody@127.0.0.1:1/none",
        PostgresOptions::default().with_table_prefix("x; DROP TABLE y; --"),
    )
    .await;
    assert!(matches!(refused, Err(StorageError::Backend { message, .. })
        if message.contains("table prefix")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_with_different_prefixes_share_a_database_without_sharing_data() {
    let Some(url) = pg_url(RUN) else { return };
    let (a, b) = (fresh_prefix(), fresh_prefix());
    let (store_a, store_b) = (connect(&url, &a).await, connect(&url, &b).await);
    let batch = CommitBatch {
        mutations: vec![put("k", b"a")],
        events: vec![event("e", "a")],
        ..Default::default()
    };
    store_a.commit(batch).await.expect("commit to a");
    assert_eq!(store_b.get(&["k".into()]).await.expect("get"), vec![None]);
    assert!(store_b.read_events(0, 10).await.expect("events").is_empty());
    drop_all(&url, &[a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expecting_a_key_absent_without_writing_it_leaves_it_absent() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    store
        .commit(CommitBatch {
            durability: Default::default(),
            expectations: vec![Expectation {
                key: "guard".into(),
                version: None,
            }],
            mutations: vec![put("other", b"1")],
            events: vec![],
        })
        .await
        .expect("commit");
    assert_eq!(store.get(&["guard".into()]).await.expect("get"), vec![None]);
    let rows = inspect(&url)
        .await
        .query(&format!("SELECT count(*) FROM {prefix}records"), &[])
        .await
        .expect("count");
    assert_eq!(
        rows[0].get::<_, i64>(0),
        1,
        "no placeholder row was left behind"
    );
    drop_all(&url, &[prefix]).await;
}

// ------------------------------------------------- several OS processes

/// Env var telling a child process which prefix to increment in.
const CHILD_PREFIX: &str = "RESERVO_PG_CHILD_PREFIX";
/// Env var giving a child process its number.
const CHILD_ID: &str = "RESERVO_PG_CHILD_ID";
const CHILDREN: usize = 4;
const INCREMENTS_PER_CHILD: usize = 25;
const COUNTER: &str = "counter/shared";

/// Reads the shared counter, adds one, and commits that expecting the
/// version it read, with an event naming the writer; retries on conflict.
async fn increment(store: &PostgresStore, writer: &str) -> u64 {
    loop {
        let current = store.get(&[COUNTER.into()]).await.expect("get")[0].clone();
        let (value, version) = match &current {
            Some(record) => (
                std::str::from_utf8(&record.value)
                    .expect("counter is text")
                    .parse::<u64>()
                    .expect("counter is a number"),
                Some(record.version),
            ),
            None => (0, None),
        };
        let next = value + 1;
        let batch = CommitBatch {
            durability: Default::default(),
            expectations: vec![Expectation {
                key: COUNTER.into(),
                version,
            }],
            mutations: vec![put(COUNTER, next.to_string().as_bytes())],
            events: vec![event("counter.incremented", &format!("{writer} {next}"))],
        };
        match store.commit(batch).await {
            Ok(_) => return next,
            Err(StorageError::Conflict { .. }) => continue,
            Err(e) => panic!("{writer}: commit failed with a non-conflict error: {e}"),
        }
    }
}

/// The child side of the multi-process test: run by the parent as a copy
/// of this test binary with `CHILD_PREFIX` set; does nothing otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "entry point of the child processes spawned by \
            commits_from_several_processes_lose_and_duplicate_nothing"]
async fn child_process_increments_the_shared_counter() {
    let (Ok(prefix), Ok(id), Some(url)) = (
        std::env::var(CHILD_PREFIX),
        std::env::var(CHILD_ID),
        pg_url(RUN),
    ) else {
        eprintln!("not started as a child process: nothing to do");
        return;
    };
    let store = connect(&url, &prefix).await;
    for i in 0..INCREMENTS_PER_CHILD {
        increment(&store, &format!("child{id}/{i}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_from_several_processes_lose_and_duplicate_nothing() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let exe = std::env::current_exe().expect("test binary path");
    // The children connect to a fresh prefix at the same time, so they also
    // race to migrate it.
    let children: Vec<_> = (0..CHILDREN)
        .map(|id| {
            Command::new(&exe)
                .args(["child_process_increments_the_shared_counter", "--exact"])
                .args(["--ignored", "--nocapture", "--test-threads=1"])
                .env(CHILD_PREFIX, &prefix)
                .env(CHILD_ID, id.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawning a child process")
        })
        .collect();
    let waits: Vec<_> = children
        .into_iter()
        .map(|child| tokio::task::spawn_blocking(move || child.wait_with_output()))
        .collect();

    // Meanwhile, read the outbox as a consumer would: every page must go
    // on exactly where the last one stopped.
    let reader = connect(&url, &prefix).await;
    let expected_events = CHILDREN * INCREMENTS_PER_CHILD;
    let mut seen = Vec::new();
    loop {
        // Checked before reading: once every child has exited, one more
        // read sees all that they committed.
        let children_done = waits.iter().all(|w| w.is_finished());
        let after = seen.len() as u64;
        let page = reader.read_events(after, 7).await.expect("read events");
        for (offset, event) in page.iter().enumerate() {
            assert_eq!(
                event.seq,
                after + 1 + offset as u64,
                "a reader past seq {after} got seq {} (gap, repeat or late insert)",
                event.seq
            );
        }
        if page.is_empty() {
            if children_done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        seen.extend(page);
    }
    for wait in waits {
        let output = wait.await.expect("join").expect("child ran");
        assert!(
            output.status.success(),
            "child failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    assert_eq!(seen.len(), expected_events, "every increment has one event");
    let counter = reader.get(&[COUNTER.into()]).await.expect("get")[0]
        .clone()
        .expect("counter exists");
    assert_eq!(counter.value, expected_events.to_string().as_bytes());
    // Each successful commit wrote the next value exactly once, and each
    // child's each increment committed exactly once.
    let payloads: Vec<String> = seen
        .iter()
        .map(|e| String::from_utf8(e.payload.clone()).expect("text payload"))
        .collect();
    let values: Vec<u64> = payloads
        .iter()
        .map(|p| {
            p.rsplit(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .expect("value")
        })
        .collect();
    assert_eq!(values, (1..=expected_events as u64).collect::<Vec<_>>());
    let writers: BTreeSet<&str> = payloads
        .iter()
        .filter_map(|p| p.split(' ').next())
        .collect();
    assert_eq!(writers.len(), expected_events, "a writer committed twice");
    drop(reader);
    drop_all(&url, &[prefix]).await;
}
