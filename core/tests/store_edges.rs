//! Edges of the storage contract, run against the memory store and the
//! SQLite store alike: batches that expect and write one key, empty
//! batches, prefixes at the top of the key alphabet, `scan_each` against
//! `scan`, the memory store's inline sizes, large values and keys, and two
//! SQLite handles on one file.
//!
//! Run with `cargo test -p reservo --features sqlite --test store_edges`.

#![cfg(feature = "sqlite")]

#[path = "support/batches.rs"]
mod batches;

use std::sync::Arc;

use batches::{batch, delete, expect, put};

use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, NewEvent, Record, Storage, StorageError, Version,
};
use reservo::store::{MAX_KEY_LEN, MemoryStore, SqliteOptions, SqliteStore};

/// A store under test, with the directory its file lives in (if any).
struct Subject {
    name: &'static str,
    store: Arc<dyn Storage>,
    _dir: Option<tempfile::TempDir>,
}

fn subjects() -> Vec<Subject> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteStore::open(dir.path().join("edges.sqlite")).expect("open");
    let dir_off = tempfile::tempdir().expect("temp dir");
    let queued = SqliteStore::open_with(
        dir_off.path().join("edges.sqlite"),
        SqliteOptions::default().commit_on_caller(false),
    )
    .expect("open");
    vec![
        Subject {
            name: "memory",
            store: Arc::new(MemoryStore::new()),
            _dir: None,
        },
        Subject {
            name: "sqlite",
            store: Arc::new(sqlite),
            _dir: Some(dir),
        },
        Subject {
            name: "sqlite (writer thread)",
            store: Arc::new(queued),
            _dir: Some(dir_off),
        },
    ]
}

async fn everything(store: &dyn Storage) -> (Vec<Record>, usize) {
    let records = store.scan(&KeyRange::prefix(""), usize::MAX).await.unwrap();
    let events = store.read_events(0, usize::MAX).await.unwrap().len();
    (records, events)
}

async fn scanned_keys(store: &dyn Storage, range: &KeyRange, limit: usize) -> Vec<String> {
    let records = store.scan(range, limit).await.unwrap();
    let mut lent = Vec::new();
    let visited = store
        .scan_each(range, limit, &mut |key, value| {
            lent.push((key.to_owned(), value.to_vec()));
        })
        .await
        .unwrap();
    assert_eq!(visited, lent.len(), "scan_each counted what it visited");
    let copied: Vec<_> = records
        .iter()
        .map(|r| (r.key.clone(), r.value.clone()))
        .collect();
    assert_eq!(lent, copied, "scan_each and scan disagree on {range:?}");
    records.into_iter().map(|r| r.key).collect()
}

#[tokio::test]
async fn a_batch_that_expects_and_writes_one_key_is_checked_against_the_state_before_it() {
    for Subject { name, store, .. } in subjects() {
        let created = store
            .commit(batch(vec![expect("k", None)], vec![put("k", b"1")]))
            .await
            .unwrap();
        // Expecting absence of a key the same batch writes: it is present.
        let again = store
            .commit(batch(vec![expect("k", None)], vec![put("k", b"2")]))
            .await;
        assert!(
            matches!(again, Err(StorageError::Conflict { ref key }) if key == "k"),
            "{name}: {again:?}"
        );
        let deleted = delete_at(&*store, "k", created.version).await;
        assert!(deleted.version > created.version, "{name}");
        assert_eq!(
            store.get(&["k".into()]).await.unwrap(),
            vec![None],
            "{name}"
        );
        // Deleting an absent key while expecting it absent is fine, and
        // still uses a version.
        let absent = store
            .commit(batch(vec![expect("k", None)], vec![delete("k")]))
            .await
            .unwrap();
        assert!(absent.version > deleted.version, "{name}");
        let recreated = store
            .commit(batch(vec![expect("k", None)], vec![put("k", b"3")]))
            .await
            .unwrap();
        assert!(recreated.version > absent.version, "{name}");
        // A version of the key's earlier life never matches.
        let stale = batch(
            vec![expect("k", Some(created.version))],
            vec![put("k", b"4")],
        );
        refused_as_conflict(&*store, stale, name).await;
    }
}

/// Deletes `key`, expecting it at `version`.
async fn delete_at(store: &dyn Storage, key: &str, version: Version) -> Committed {
    let deletion = batch(vec![expect(key, Some(version))], vec![delete(key)]);
    store.commit(deletion).await.unwrap()
}

/// Commits `batch`, which must be refused as a conflict.
async fn refused_as_conflict(store: &dyn Storage, batch: CommitBatch, name: &str) {
    let outcome = store.commit(batch).await;
    assert!(
        matches!(outcome, Err(StorageError::Conflict { .. })),
        "{name}: {outcome:?}"
    );
}

#[tokio::test]
async fn an_empty_batch_changes_nothing_but_uses_a_version() {
    for Subject { name, store, .. } in subjects() {
        let first = store.commit(batch(vec![], vec![put("a", b"1")])).await;
        let first = first.unwrap().version;
        let before = everything(&*store).await;
        let empty = store.commit(CommitBatch::default()).await.unwrap();
        assert!(empty.version > first, "{name}");
        assert_eq!(everything(&*store).await, before, "{name}");
        let next = store.commit(batch(vec![], vec![put("b", b"2")])).await;
        assert!(next.unwrap().version > empty.version, "{name}");
        // An expectation alone, failing, is a conflict that changes nothing.
        let guarded = batch(vec![expect("a", Some(Version(first.0 + 99)))], vec![]);
        refused_as_conflict(&*store, guarded, name).await;
    }
}

#[tokio::test]
async fn prefixes_at_the_top_of_the_key_alphabet_scan_exactly_their_keys() {
    let keys = [
        "!", "a", "a}", "a~", "a~!", "a~~", "a~~~", "b", "~", "~!", "~~", "~~~",
    ];
    for Subject { name, store, .. } in subjects() {
        let mutations = keys.iter().map(|key| put(key, key.as_bytes())).collect();
        store.commit(batch(vec![], mutations)).await.unwrap();
        for prefix in ["", "a", "a~", "a~~", "~", "~~", "~~~", "~~~~", "!", "b"] {
            let expected: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|key| key.starts_with(prefix))
                .collect();
            for limit in [0, 1, 2, usize::MAX] {
                let scanned = scanned_keys(&*store, &KeyRange::prefix(prefix), limit).await;
                let wanted: Vec<&str> = expected.iter().copied().take(limit).collect();
                assert_eq!(scanned, wanted, "{name}: prefix {prefix:?}, limit {limit}");
            }
        }
        // A prefix with a byte no key can hold finds nothing.
        for prefix in ["a\u{7f}", "caf\u{e9}", "a b"] {
            let scanned = scanned_keys(&*store, &KeyRange::prefix(prefix), usize::MAX).await;
            assert!(scanned.is_empty(), "{name}: prefix {prefix:?}: {scanned:?}");
        }
    }
}

#[tokio::test]
async fn values_and_keys_at_the_inline_boundaries_round_trip() {
    for Subject { name, store, .. } in subjects() {
        let mut written = Vec::new();
        for key_len in [1, 45, 46, 47, 100, MAX_KEY_LEN] {
            for value_len in [0, 1, 21, 22, 23, 255, 256, 4096] {
                let stem = format!("k{key_len:03}v{value_len:04}/");
                let key = format!("{stem}{}", "x".repeat(key_len.saturating_sub(stem.len())));
                let key = key[..key_len.max(stem.len())].to_owned();
                let value: Vec<u8> = (0..value_len).map(|i| (i * 7 % 256) as u8).collect();
                written.push((key, value));
            }
        }
        let mutations = written.iter().map(|(k, v)| put(k, v)).collect();
        store.commit(batch(vec![], mutations)).await.unwrap();
        // Overwrite each with a value on the other side of the boundary.
        let swapped: Vec<(Key, Vec<u8>)> = written
            .iter()
            .map(|(k, v)| (k.clone(), vec![0xA5; if v.len() <= 22 { 23 } else { 22 }]))
            .collect();
        for values in [&written, &swapped] {
            let mutations = values.iter().map(|(k, v)| put(k, v)).collect();
            store.commit(batch(vec![], mutations)).await.unwrap();
            let keys: Vec<Key> = values.iter().map(|(k, _)| k.clone()).collect();
            let got = store.get(&keys).await.unwrap();
            for ((key, value), record) in values.iter().zip(&got) {
                let record = record.as_ref().unwrap_or_else(|| panic!("{name}: {key}"));
                assert_eq!((&record.key, &record.value), (key, value), "{name}");
            }
            let mut sorted = values.clone();
            sorted.sort();
            let scanned = scanned_keys(&*store, &KeyRange::prefix("k"), usize::MAX).await;
            let expected: Vec<Key> = sorted.into_iter().map(|(k, _)| k).collect();
            assert_eq!(scanned, expected, "{name}");
        }
    }
}

#[tokio::test]
async fn keys_outside_the_alphabet_are_refused_and_change_nothing() {
    let long = "k".repeat(MAX_KEY_LEN + 1);
    for Subject { name, store, .. } in subjects() {
        store
            .commit(batch(vec![], vec![put("a", b"1")]))
            .await
            .unwrap();
        let before = everything(&*store).await;
        for key in ["caf\u{e9}", "", "a b", "tab\t", "\u{7f}", long.as_str()] {
            for bad in [
                batch(vec![], vec![put("ok", b"1"), put(key, b"1")]),
                batch(vec![expect(key, None)], vec![put("ok", b"1")]),
                batch(vec![], vec![delete(key)]),
            ] {
                let refused = store.commit(bad).await;
                assert!(
                    matches!(refused, Err(StorageError::Backend { .. })),
                    "{name}: {key:?}: {refused:?}"
                );
            }
            assert_eq!(store.get(&[key.to_owned()]).await.unwrap(), vec![None]);
        }
        assert_eq!(everything(&*store).await, before, "{name}");
    }
}

#[tokio::test]
async fn large_values_and_many_pages_in_one_commit_round_trip() {
    for Subject { name, store, .. } in subjects() {
        let large: Vec<u8> = (0..(6 << 20)).map(|i: u32| (i % 253) as u8).collect();
        let many: Vec<(String, Vec<u8>)> = (0..300)
            .map(|i| (format!("many/{i:04}"), vec![(i % 256) as u8; 20_000]))
            .collect();
        let mut mutations = vec![put("large", &large)];
        mutations.extend(many.iter().map(|(k, v)| put(k, v)));
        let events = vec![NewEvent {
            kind: "big".into(),
            payload: large[..1 << 20].to_vec(),
        }];
        let committed = store
            .commit(CommitBatch {
                mutations,
                events,
                ..CommitBatch::default()
            })
            .await
            .unwrap();
        let got = store.get(&["large".into()]).await.unwrap();
        let record = got[0].as_ref().expect("large");
        assert!(record.value == large, "{name}: the large value changed");
        assert_eq!(record.version, committed.version, "{name}");
        let scanned = store.scan(&KeyRange::prefix("many/"), usize::MAX).await;
        let scanned: Vec<_> = scanned
            .unwrap()
            .into_iter()
            .map(|r| (r.key, r.value))
            .collect();
        assert!(scanned == many, "{name}: the many values changed");
        let events = store.read_events(0, 10).await.unwrap();
        assert_eq!(events.len(), 1, "{name}");
        assert!(events[0].payload == large[..1 << 20], "{name}");
    }
}

// ------------------------------------------------- SQLite files and handles

#[tokio::test(flavor = "multi_thread")]
async fn two_handles_on_one_file_read_each_others_commits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.sqlite");
    let left = SqliteStore::open(&path).unwrap();
    let right =
        SqliteStore::open_with(&path, SqliteOptions::default().commit_on_caller(false)).unwrap();
    let mut version = None;
    for round in 0..50u32 {
        let (writer, reader) = if round % 2 == 0 {
            (&left, &right)
        } else {
            (&right, &left)
        };
        let value = round.to_string().into_bytes();
        let committed = writer
            .commit(batch(
                vec![expect("slot/1", version)],
                vec![put("slot/1", &value)],
            ))
            .await
            .unwrap();
        version = Some(committed.version);
        let got = reader.get(&["slot/1".into(), "none".into()]).await.unwrap();
        let record = got[0].as_ref().expect("a commit of the other handle");
        assert_eq!((&record.value, record.version), (&value, committed.version));
        let scanned = reader.scan(&KeyRange::prefix("slot/"), 10).await.unwrap();
        assert_eq!(scanned, vec![record.clone()], "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_opened_while_another_commits_sees_every_commit_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sqlite");
    let writer = Arc::new(SqliteStore::open(&path).unwrap());
    let committing = {
        let writer = Arc::clone(&writer);
        tokio::spawn(async move {
            let mut last = Version(0);
            for i in 0..300u32 {
                let key = format!("n/{i:04}");
                let committed = writer.commit(batch(vec![], vec![put(&key, b"1")])).await;
                last = committed.unwrap().version;
            }
            last
        })
    };
    for _ in 0..5 {
        let path = path.clone();
        let opened = tokio::task::spawn_blocking(move || SqliteStore::open(path))
            .await
            .unwrap()
            .expect("opening beside a busy writer");
        let records = opened
            .scan(&KeyRange::prefix("n/"), usize::MAX)
            .await
            .unwrap();
        let keys: Vec<_> = records.iter().map(|r| r.key.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
    let last = committing.await.unwrap();
    let reopened = SqliteStore::open(&path).unwrap();
    let records = reopened.scan(&KeyRange::prefix("n/"), usize::MAX).await;
    assert_eq!(records.unwrap().len(), 300);
    let got = reopened.get(&["n/0299".into()]).await.unwrap();
    assert_eq!(got[0].as_ref().map(|r| r.version), Some(last));
}

#[tokio::test]
async fn a_key_deleted_before_reopening_never_gets_an_old_version_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let created = store
        .commit(batch(vec![], vec![put("k", b"1")]))
        .await
        .unwrap();
    let deleted = delete_at(&store, "k", created.version).await;
    let large: Vec<u8> = (0..(3 << 20)).map(|i: u32| (i % 241) as u8).collect();
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let recreated = store
        .commit(batch(vec![expect("k", None)], vec![put("k", &large)]))
        .await
        .unwrap();
    assert!(recreated.version > deleted.version);
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    let got = store.get(&["k".into()]).await.unwrap();
    let record = got[0].as_ref().expect("k after reopening");
    assert!(record.value == large && record.version == recreated.version);
    store.integrity_check().await.expect("integrity");
}
