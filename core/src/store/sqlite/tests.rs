//! What only a raw look at the file can show: its schema, migrations,
//! journal mode and how values are stored.

use std::sync::Arc;

use rusqlite::Connection;

use super::*;
use crate::ports::Storage;
use crate::ports::{Durability, Expectation, Mutation, Version};

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("raw connection to the store's file")
}

pub(super) fn temp_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("reservo.sqlite");
    (dir, path)
}

#[test]
fn reopening_a_file_applies_each_migration_once() {
    let (_dir, path) = temp_file();
    for _ in 0..3 {
        drop(SqliteStore::open(&path).expect("open"));
    }
    let applied: Vec<i64> = raw(&path)
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(applied, (1..=schema::latest_version()).collect::<Vec<_>>());
}

#[test]
fn file_with_a_newer_schema_is_refused_and_left_untouched() {
    let (_dir, path) = temp_file();
    drop(SqliteStore::open(&path).expect("open"));
    let future = schema::latest_version() + 1;
    raw(&path)
        .execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?1, 'from the future')",
            [future],
        )
        .unwrap();
    let refused = SqliteStore::open(&path).expect_err("a newer schema must be refused");
    let StorageError::SchemaTooNew { found, known, .. } = &refused else {
        panic!("expected a typed refusal, got {refused:?}")
    };
    assert_eq!((*found, *known), (future, schema::latest_version()));
    assert_eq!(
        crate::Error::from(refused).code(),
        "SCHEMA_TOO_NEW",
        "the engine's error keeps it apart from a backend failure"
    );
    let newest: i64 = raw(&path)
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(newest, future);
}

#[test]
fn file_is_switched_to_write_ahead_logging() {
    let (_dir, path) = temp_file();
    let _store = SqliteStore::open(&path).expect("open");
    let mode: String = raw(&path)
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn values_are_blobs_whose_text_is_the_engine_json() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let json = r#"{"booking":"bk/1","nights":3}"#;
    let put = Mutation::Put {
        key: "bk/1".into(),
        value: json.as_bytes().to_vec(),
    };
    let batch = CommitBatch {
        mutations: vec![put],
        ..Default::default()
    };
    store.commit(batch).await.expect("commit");
    let (kind, text): (String, String) = raw(&path)
        .query_row(
            "SELECT typeof(value), CAST(value AS TEXT) FROM records WHERE key = 'bk/1'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((kind.as_str(), text.as_str()), ("blob", json));
}

fn busy() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None)
}

#[test]
fn busy_attempts_are_retried_until_one_succeeds() {
    let mut attempts = 0;
    let outcome = retry_while_busy(
        Duration::from_secs(30),
        || {
            attempts += 1;
            if attempts < 4 {
                Err(busy())
            } else {
                Ok(attempts)
            }
        },
        is_busy,
    );
    assert_eq!(outcome.ok(), Some(4));
}

#[test]
fn errors_other_than_busy_are_not_retried() {
    let mut attempts = 0;
    let outcome: rusqlite::Result<()> = retry_while_busy(
        Duration::from_secs(30),
        || {
            attempts += 1;
            Err(rusqlite::Error::QueryReturnedNoRows)
        },
        is_busy,
    );
    assert!(outcome.is_err());
    assert_eq!(attempts, 1);
}

fn one_put() -> CommitBatch {
    CommitBatch {
        mutations: vec![Mutation::Put {
            key: "bk/1".into(),
            value: b"{}".to_vec(),
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn commit_waits_for_another_process_to_release_the_write_lock() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let holder = raw(&path);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        holder.execute_batch("COMMIT").unwrap();
    });
    let committed = store.commit(one_put()).await;
    release.join().unwrap();
    assert!(committed.is_ok(), "{committed:?}");
}

#[tokio::test]
async fn commit_fails_cleanly_once_the_lock_wait_limit_passes() {
    let (_dir, path) = temp_file();
    let options = SqliteOptions::default().lock_wait(Duration::from_millis(50));
    let store = SqliteStore::open_with(&path, options).expect("open");
    let holder = raw(&path);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let refused = store.commit(one_put()).await;
    holder.execute_batch("ROLLBACK").unwrap();
    assert!(
        matches!(refused, Err(StorageError::Backend { .. })),
        "{refused:?}"
    );
    assert_eq!(store.get(&["bk/1".into()]).await.unwrap(), vec![None]);
    assert!(store.commit(one_put()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commits_queued_together_keep_each_their_own_outcome_version_and_events() {
    // Handed to the writer thread always, and mixed with commits on the
    // callers' threads (the default).
    for commit_on_caller in [false, true] {
        concurrent_commits_keep_their_outcomes(commit_on_caller).await;
    }
}

async fn concurrent_commits_keep_their_outcomes(commit_on_caller: bool) {
    use crate::ports::NewEvent;
    let (_dir, path) = temp_file();
    let options = SqliteOptions::default().commit_on_caller(commit_on_caller);
    let store = Arc::new(SqliteStore::open_with(&path, options).expect("open"));
    // 64 callers at once: each claims the same key (one wins) and a key of
    // its own (all win), so the writer sees groups mixing both outcomes.
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let claim = |key: &str| Expectation {
                    key: key.to_owned(),
                    version: None,
                };
                let put = |key: &str| Mutation::Put {
                    key: key.to_owned(),
                    value: format!("{i}").into_bytes(),
                };
                let shared = store.commit(CommitBatch {
                    durability: Default::default(),
                    expectations: vec![claim("shared")],
                    mutations: vec![put("shared")],
                    events: vec![NewEvent {
                        kind: "won".into(),
                        payload: b"{}".to_vec(),
                    }],
                });
                let own_key = format!("own/{i:02}");
                let own = store.commit(CommitBatch {
                    durability: Default::default(),
                    expectations: vec![claim(&own_key)],
                    mutations: vec![put(&own_key)],
                    events: vec![NewEvent {
                        kind: "own".into(),
                        payload: b"{}".to_vec(),
                    }],
                });
                let (shared, own) = tokio::join!(shared, own);
                (
                    shared.ok().map(|c| c.version),
                    own.expect("own key").version,
                )
            })
        })
        .collect();
    let mut winners = 0;
    let mut versions = std::collections::BTreeSet::new();
    for task in tasks {
        let (shared, own) = task.await.expect("task");
        winners += usize::from(shared.is_some());
        assert!(versions.insert(own), "version {own} given twice");
        if let Some(version) = shared {
            assert!(versions.insert(version), "version {version} given twice");
        }
    }
    assert_eq!(winners, 1, "exactly one claim of the shared key succeeds");
    let events = store.read_events(0, 1_000).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=65).collect::<Vec<_>>(),
        "no gaps, no rolled-back events"
    );
    assert_eq!(events.iter().filter(|e| e.kind == "won").count(), 1);
    if !commit_on_caller {
        assert_eq!(store.writer.commits_on_caller(), 0);
    }
}

#[tokio::test]
async fn a_commit_runs_on_its_callers_thread_only_when_nothing_else_writes() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    store.commit(one_put()).await.expect("commit");
    assert_eq!(store.writer.commits_on_caller(), 1, "nothing else wrote");

    // Another connection holds the write lock: the commit does not wait on
    // the caller's thread but on the writer thread, until it is released.
    let holder = raw(&path);
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        holder.execute_batch("COMMIT").unwrap();
    });
    let committed = store.commit(one_put()).await;
    release.join().unwrap();
    assert!(committed.is_ok(), "{committed:?}");
    assert_eq!(store.writer.commits_on_caller(), 1, "queued for the writer");

    store.commit(one_put()).await.expect("commit");
    assert_eq!(
        store.writer.commits_on_caller(),
        2,
        "the lock is free again"
    );

    let options = SqliteOptions::default().commit_on_caller(false);
    let handing_off = SqliteStore::open_with(&path, options).expect("open");
    handing_off.commit(one_put()).await.expect("commit");
    assert_eq!(handing_off.writer.commits_on_caller(), 0);
    let versions = handing_off.get(&["bk/1".into()]).await.expect("get");
    assert_eq!(versions[0].as_ref().map(|r| r.version.0), Some(4));
}

#[test]
fn a_group_is_written_normal_only_when_every_commit_in_it_is_deferred() {
    let deferred = CommitBatch {
        durability: Durability::Deferred,
        ..one_put()
    };
    let durable = one_put();
    let full = Synchronous::Full;
    assert_eq!(
        workers::group_synchronous(full, &[&deferred]),
        Synchronous::Normal
    );
    assert_eq!(
        workers::group_synchronous(full, &[&deferred, &durable]),
        Synchronous::Full
    );
    assert_eq!(
        workers::group_synchronous(full, &[&durable]),
        Synchronous::Full
    );
    assert_eq!(
        workers::group_synchronous(Synchronous::Normal, &[&durable]),
        Synchronous::Normal
    );
}

#[tokio::test]
async fn deferred_commits_are_applied_in_order_and_survive_reopening() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    for (i, durability) in [
        Durability::Deferred,
        Durability::Durable,
        Durability::Deferred,
    ]
    .into_iter()
    .enumerate()
    {
        store
            .commit(CommitBatch {
                mutations: vec![Mutation::Put {
                    key: format!("k/{i}"),
                    value: vec![b'0' + i as u8],
                }],
                durability,
                ..CommitBatch::default()
            })
            .await
            .expect("commit");
    }
    drop(store);
    let store = SqliteStore::open(&path).expect("reopen");
    let keys: Vec<String> = (0..3).map(|i| format!("k/{i}")).collect();
    let got = store.get(&keys).await.expect("get");
    let versions: Vec<u64> = got
        .iter()
        .map(|r| r.as_ref().expect("kept").version.0)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
}

#[tokio::test]
async fn a_new_file_gets_2_kib_pages_and_an_existing_file_keeps_its_own() {
    let page_size = |path: &Path| -> i64 {
        raw(path)
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap()
    };
    let (_dir, path) = temp_file();
    drop(SqliteStore::open(&path).expect("open a new file"));
    assert_eq!(page_size(&path), 2048);

    let (_older, path) = temp_file();
    raw(&path)
        .execute_batch("PRAGMA page_size = 4096; CREATE TABLE host_notes (note TEXT);")
        .unwrap();
    let store = SqliteStore::open(&path).expect("open a file made with 4 KiB pages");
    assert_eq!(page_size(&path), 4096);
    let put = Mutation::Put {
        key: "bk/1".into(),
        value: vec![b'x'; 10_000],
    };
    store
        .commit(CommitBatch {
            mutations: vec![put],
            ..Default::default()
        })
        .await
        .expect("a commit on the 4 KiB file");
    let read = store.get(&["bk/1".into()]).await.unwrap();
    assert_eq!(read[0].as_ref().map(|r| r.value.len()), Some(10_000));
}

#[tokio::test]
async fn a_file_of_schema_1_is_migrated_with_its_records_and_versions() {
    let (_dir, path) = temp_file();
    {
        let mut old = raw(&path);
        schema::migrate_up_to(&mut old, 1).expect("schema 1");
        old.execute_batch(
            "INSERT INTO records (key, value, version) VALUES
                 ('hold/1', CAST('{\"old\":1}' AS BLOB), 7),
                 ('bk/1', CAST('{\"old\":2}' AS BLOB), 9);
             UPDATE commit_counter SET last_version = 9;",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).expect("open migrates");
    let found = store
        .get(&["bk/1".into(), "hold/1".into()])
        .await
        .expect("get");
    let found: Vec<_> = found
        .into_iter()
        .map(|record| {
            let record = record.expect("kept by the migration");
            (record.key, record.value, record.version)
        })
        .collect();
    assert_eq!(
        found,
        [
            ("bk/1".to_string(), br#"{"old":2}"#.to_vec(), Version(9)),
            ("hold/1".to_string(), br#"{"old":1}"#.to_vec(), Version(7)),
        ]
    );
    // A commit that expects the version the old file had still applies.
    let batch = CommitBatch {
        expectations: vec![Expectation {
            key: "bk/1".into(),
            version: Some(Version(9)),
        }],
        mutations: vec![Mutation::Put {
            key: "bk/1".into(),
            value: b"{}".to_vec(),
        }],
        ..Default::default()
    };
    assert_eq!(
        store.commit(batch).await.expect("commit").version,
        Version(10)
    );
    // Values now live in a rowid table, apart from the key index.
    let rows: i64 = raw(&path)
        .query_row("SELECT count(id) FROM records", [], |row| row.get(0))
        .unwrap();
    assert_eq!(rows, 2);
}

/// The sequence numbers of every event in the store's outbox.
async fn event_seqs(store: &SqliteStore) -> Vec<u64> {
    let events = store.read_events(0, 100).await.expect("read events");
    events.iter().map(|event| event.seq).collect()
}

/// A commit putting `key`, with `events` events.
fn put_with_events(key: &str, events: usize) -> CommitBatch {
    CommitBatch {
        mutations: vec![Mutation::Put {
            key: key.into(),
            value: b"{}".to_vec(),
        }],
        events: (0..events)
            .map(|n| crate::ports::NewEvent {
                kind: "test.event".into(),
                payload: format!("{{\"n\":{n}}}").into_bytes(),
            })
            .collect(),
        ..Default::default()
    }
}

#[tokio::test]
async fn versions_and_event_numbers_go_on_whether_commits_append_events_or_not() {
    let (_dir, path) = temp_file();
    let events_each = [2, 0, 1, 0, 0, 3];
    {
        let store = SqliteStore::open(&path).expect("open");
        for (n, events) in events_each.iter().enumerate() {
            let committed = store
                .commit(put_with_events(&format!("k/{n}"), *events))
                .await
                .expect("commit");
            assert_eq!(committed.version, Version(n as u64 + 1));
        }
        // A commit with events leaves the counter row as the last commit
        // without events left it (ADR 018): its outbox rows say it all.
        let counter: (i64, i64) = raw(&path)
            .query_row(
                "SELECT last_version, last_event_seq FROM commit_counter",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(counter, (5, 3));
    }
    let store = SqliteStore::open(&path).expect("reopen");
    let committed = store.commit(put_with_events("k/last", 0)).await.unwrap();
    assert_eq!(committed.version, Version(7));
    let committed = store.commit(put_with_events("k/after", 1)).await.unwrap();
    assert_eq!(committed.version, Version(8));
    assert_eq!(event_seqs(&store).await, (1..=7).collect::<Vec<_>>());
}

#[tokio::test]
async fn deleting_events_by_hand_never_makes_a_version_or_event_number_repeat() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    for n in 0..3 {
        store
            .commit(put_with_events(&format!("k/{n}"), 2))
            .await
            .unwrap();
    }
    // A host prunes the whole outbox.
    raw(&path).execute("DELETE FROM outbox", []).unwrap();
    let committed = store.commit(put_with_events("k/next", 1)).await.unwrap();
    assert_eq!(committed.version, Version(4));
    assert_eq!(event_seqs(&store).await, [7]);
}
