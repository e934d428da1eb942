//! `SqliteStore` on real files: the conformance kit, durability across
//! reopening, and several OS processes committing to one file.
//!
//! Run with `cargo test -p reservo --features sqlite --test store_sqlite`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use reservo::ports::{
    CommitBatch, Expectation, KeyRange, Mutation, NewEvent, Storage, StorageError,
};
use reservo::store::{SqliteOptions, SqliteStore, Synchronous, conformance};

/// Stores on fresh files in one temp dir that lives as long as the factory.
fn fresh_stores(options: SqliteOptions) -> impl Fn() -> std::future::Ready<Arc<dyn Storage>> {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let made = AtomicUsize::new(0);
    move || {
        let path = dir.path().join(format!(
            "case-{}.sqlite",
            made.fetch_add(1, Ordering::Relaxed)
        ));
        let store = SqliteStore::open_with(path, options.clone()).expect("open a fresh store");
        std::future::ready(Arc::new(store) as Arc<dyn Storage>)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_store_passes_the_conformance_kit() {
    conformance::run(fresh_stores(SqliteOptions::default()))
        .await
        .assert_all_passed();
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_store_with_normal_sync_passes_the_conformance_kit() {
    let options = SqliteOptions::default()
        .synchronous(Synchronous::Normal)
        .readers(1);
    conformance::run(fresh_stores(options))
        .await
        .assert_all_passed();
}

fn put(key: &str, value: &str) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: value.as_bytes().to_vec(),
    }
}

fn event(kind: &str, payload: &str) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        payload: payload.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn committed_data_and_the_commit_counter_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reservo.sqlite");
    let first = {
        let store = SqliteStore::open(&path).unwrap();
        let batch = CommitBatch {
            mutations: vec![put("bk/1", r#"{"status":"held"}"#)],
            events: vec![event("hold.placed", "{}")],
            ..Default::default()
        };
        store.commit(batch).await.unwrap()
    };
    let store = SqliteStore::open(&path).unwrap();
    let record = store
        .get(&["bk/1".into()])
        .await
        .unwrap()
        .pop()
        .flatten()
        .expect("bk/1 kept");
    assert_eq!(
        (record.value.as_slice(), record.version),
        (&br#"{"status":"held"}"#[..], first.version)
    );
    let delete = CommitBatch {
        durability: Default::default(),
        expectations: vec![Expectation {
            key: "bk/1".into(),
            version: Some(first.version),
        }],
        mutations: vec![Mutation::Delete { key: "bk/1".into() }],
        events: vec![event("hold.released", "{}")],
    };
    store.commit(delete).await.unwrap();
    let recreated = store.commit(CommitBatch {
        mutations: vec![put("bk/1", "{}")],
        ..Default::default()
    });
    assert!(
        recreated.await.unwrap().version > first.version,
        "a version was reused after reopening"
    );
    let seqs: Vec<u64> = store
        .read_events(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
}

#[tokio::test]
async fn malformed_batch_is_rejected_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("reservo.sqlite")).unwrap();
    store
        .commit(CommitBatch {
            mutations: vec![put("bk/1", "{}")],
            ..Default::default()
        })
        .await
        .unwrap();
    let everything = KeyRange::prefix("");
    let before = store.scan(&everything, 100).await.unwrap();
    let twice = CommitBatch {
        mutations: vec![put("bk/2", "{}"), put("bk/2", "{}")],
        events: vec![event("booking.created", "{}")],
        ..Default::default()
    };
    assert!(matches!(
        store.commit(twice).await,
        Err(StorageError::Backend { .. })
    ));
    assert_eq!(store.scan(&everything, 100).await.unwrap(), before);
    assert!(store.read_events(0, 100).await.unwrap().is_empty());
}

/// A minimal executor: proves the store needs no async runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

#[test]
fn store_works_under_an_executor_that_is_not_tokio() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("reservo.sqlite")).unwrap();
    let committed = block_on(store.commit(CommitBatch {
        mutations: vec![put("k", "{}")],
        ..Default::default()
    }));
    let found = block_on(store.get(&["k".into()])).unwrap();
    assert_eq!(
        found[0].as_ref().map(|r| r.version),
        Some(committed.unwrap().version)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_stores_on_one_file_never_both_win_the_same_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reservo.sqlite");
    let (left, right) = (
        SqliteStore::open(&path).unwrap(),
        SqliteStore::open(&path).unwrap(),
    );
    let created = left.commit(CommitBatch {
        mutations: vec![put("slot/1", "free")],
        ..Default::default()
    });
    let version = created.await.unwrap().version;
    let take = |who: &str| CommitBatch {
        expectations: vec![Expectation {
            key: "slot/1".into(),
            version: Some(version),
        }],
        mutations: vec![put("slot/1", who)],
        ..Default::default()
    };
    let (a, b) = tokio::join!(left.commit(take("left")), right.commit(take("right")));
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one store must win: {a:?} / {b:?}"
    );
    let loser = if a.is_ok() { b } else { a };
    assert!(matches!(loser, Err(StorageError::Conflict { .. })));
}

/// A batch whose writes the database refuses (here a trigger's `RAISE`)
/// fails alone, though it shares a transaction with the batches queued
/// beside it: it is rolled back to its savepoint, the others commit.
/// Another connection holds the write lock while the commits are made, so
/// they queue and go in groups once it is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_writes_fail_fails_alone_in_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reservo.sqlite");
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON records WHEN NEW.key = 'bad' \
             BEGIN SELECT RAISE(ABORT, 'no writes to bad'); END; \
             BEGIN IMMEDIATE;",
        )
        .unwrap();
    let keys: Vec<String> = (0..8)
        .map(|i| match i {
            4 => "bad".to_owned(),
            _ => format!("good/{i}"),
        })
        .collect();
    let commits: Vec<_> = keys
        .iter()
        .map(|key| {
            let (store, key) = (Arc::clone(&store), key.clone());
            tokio::spawn(async move {
                let batch = CommitBatch {
                    mutations: vec![put(&key, "v")],
                    events: vec![event("written", &key)],
                    ..Default::default()
                };
                store.commit(batch).await
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    other.execute_batch("COMMIT").unwrap();
    for (key, commit) in keys.iter().zip(commits) {
        let outcome = commit.await.unwrap();
        match (key.as_str(), outcome) {
            ("bad", Err(StorageError::Backend { message, .. })) => {
                assert!(message.contains("no writes to bad"), "{message}");
            }
            ("bad", other) => panic!("the refused write: {other:?}"),
            (_, outcome) => assert!(outcome.is_ok(), "{key}: {outcome:?}"),
        }
    }
    let found = store.get(&keys).await.unwrap();
    for (key, record) in keys.iter().zip(found) {
        assert_eq!(record.is_some(), key != "bad", "{key}");
    }
    let events = store.read_events(0, 100).await.unwrap();
    let written: BTreeSet<Vec<u8>> = events.into_iter().map(|e| e.payload).collect();
    let expected: BTreeSet<Vec<u8>> = keys
        .iter()
        .filter(|k| *k != "bad")
        .map(|k| k.as_bytes().to_vec())
        .collect();
    assert_eq!(
        written, expected,
        "the refused batch's event is not in the outbox"
    );
}

// ------------------------------------------------------ several processes

const CHILD_FILE: &str = "RESERVO_SQLITE_CONTENDER_FILE";
const CHILDREN: usize = 3;
const TASKS_PER_CHILD: usize = 4;
const INCREMENTS_PER_TASK: usize = 25;
const COUNTER: &str = "race/counter";

/// Increments `COUNTER` with read-modify-write retry loops from several
/// tasks; each increment appends an event holding the count it wrote.
/// Panics on any error but a conflict, so `SQLITE_BUSY` fails the process.
fn contend(path: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(path).expect("child opens the file"));
        let tasks: Vec<_> = (0..TASKS_PER_CHILD)
            .map(|_| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut done = 0;
                    while done < INCREMENTS_PER_TASK {
                        let current = store
                            .get(&[COUNTER.into()])
                            .await
                            .expect("get")
                            .pop()
                            .flatten();
                        let count: u64 = current
                            .as_ref()
                            .map_or(0, |r| String::from_utf8_lossy(&r.value).parse().unwrap());
                        let next = (count + 1).to_string();
                        let batch = CommitBatch {
                            durability: Default::default(),
                            expectations: vec![Expectation {
                                key: COUNTER.into(),
                                version: current.map(|r| r.version),
                            }],
                            mutations: vec![put(COUNTER, &next)],
                            events: vec![event("counter.incremented", &next)],
                        };
                        match store.commit(batch).await {
                            Ok(_) => done += 1,
                            Err(StorageError::Conflict { .. }) => tokio::task::yield_now().await,
                            Err(other) => panic!("commit failed with {other}"),
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("increment task");
        }
    });
}

/// The child role of `several_processes_...`: run by that test as a
/// separate process on its file. Run directly, it contends on a file of
/// its own and checks its own count.
#[test]
#[ignore = "child process of several_processes_commit_to_one_file_without_losing_an_increment"]
fn contender_process_increments_the_shared_counter() {
    if let Some(path) = std::env::var_os(CHILD_FILE) {
        return contend(Path::new(&path));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alone.sqlite");
    contend(&path);
    let store = SqliteStore::open(&path).unwrap();
    let value = block_on(store.get(&[COUNTER.into()]))
        .unwrap()
        .pop()
        .flatten()
        .unwrap()
        .value;
    assert_eq!(
        value,
        (TASKS_PER_CHILD * INCREMENTS_PER_TASK)
            .to_string()
            .into_bytes()
    );
}

#[tokio::test]
async fn several_processes_commit_to_one_file_without_losing_an_increment() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("shared.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    let me = std::env::current_exe().unwrap();
    // All children start before any is waited for, so they overlap.
    let children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            Command::new(&me)
                .args([
                    "contender_process_increments_the_shared_counter",
                    "--exact",
                    "--ignored",
                ])
                .env(CHILD_FILE, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn a contender process")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a contender failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let total = CHILDREN * TASKS_PER_CHILD * INCREMENTS_PER_TASK;
    let store = SqliteStore::open(&path).unwrap();
    let counter = store
        .get(&[COUNTER.into()])
        .await
        .unwrap()
        .pop()
        .flatten()
        .unwrap();
    assert_eq!(
        counter.value,
        total.to_string().into_bytes(),
        "increments lost or doubled"
    );
    let events = store.read_events(0, total + 10).await.unwrap();
    let counts: BTreeSet<String> = events
        .iter()
        .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
        .collect();
    let expected: BTreeSet<String> = (1..=total).map(|n| n.to_string()).collect();
    assert_eq!(
        (events.len(), counts),
        (total, expected),
        "each count committed exactly once"
    );
    assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    store
        .integrity_check()
        .await
        .expect("PRAGMA integrity_check = ok");
}
