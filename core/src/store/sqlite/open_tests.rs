//! How a store is opened: the options it keeps, the `synchronous` level
//! of its connections, its reader pool, and the integrity check of its
//! file.

use std::time::Duration;

use rusqlite::Connection;

use super::tests::temp_file;
use super::*;
use crate::ports::{CommitBatch, Mutation};

/// Each connection is opened at the `synchronous` level asked for: `FULL`
/// (2) by default, `NORMAL` (1) when opted in; SQLite would take a
/// malformed level as `NORMAL` without a word.
#[test]
fn connections_open_at_the_synchronous_level_asked_for() {
    let (_dir, path) = temp_file();
    for (synchronous, level) in [(Synchronous::Full, 2), (Synchronous::Normal, 1)] {
        let options = SqliteOptions::default().synchronous(synchronous);
        let conn = super::connect(&path, &options).expect("open");
        let set: i64 = conn
            .pragma_query_value(None, "synchronous", |row| row.get(0))
            .expect("read the level");
        assert_eq!(set, level, "{synchronous:?}");
    }
    assert_eq!(SqliteOptions::default().synchronous, Synchronous::Full);
}

/// `integrity_check` passes on a sound file and lists what SQLite finds
/// wrong with a damaged one (here: the last page of the file, a leaf of
/// the records or their keys, overwritten).
#[tokio::test]
async fn integrity_check_reports_a_damaged_file() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let mutations = (0..300)
        .map(|i| Mutation::Put {
            key: format!("bk/{i:04}"),
            value: vec![b'x'; 300],
        })
        .collect();
    let batch = CommitBatch {
        mutations,
        ..Default::default()
    };
    store.commit(batch).await.expect("commit");
    store.integrity_check().await.expect("a sound file");
    drop(store);
    // Every page into the file itself: the log must not hold a sound copy
    // of the page damaged below.
    let plain = Connection::open(&path).expect("a plain connection");
    let checkpointed = (0..100).any(|_| {
        let busy: i64 = plain
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .expect("checkpoint");
        std::thread::sleep(Duration::from_millis(if busy == 0 { 0 } else { 10 }));
        busy == 0
    });
    assert!(checkpointed, "the log was never checkpointed");
    drop(plain);

    let mut bytes = std::fs::read(&path).expect("read the file");
    let last_page = bytes.len() - 2048;
    bytes[last_page + 8..last_page + 1024].fill(0xA5);
    std::fs::write(&path, &bytes).expect("damage the file");
    let store = SqliteStore::open(&path).expect("open the damaged file");
    let shown = format!("{store:?}");
    assert!(shown.starts_with("SqliteStore") && shown.contains("reservo.sqlite"));
    let err = store.integrity_check().await.expect_err("damage found");
    assert!(err.to_string().contains("integrity check failed"), "{err}");
}

#[test]
fn options_keep_every_setting_whatever_the_order() {
    let options = SqliteOptions::default()
        .readers(3)
        .synchronous(Synchronous::Normal)
        .lock_wait(Duration::from_secs(7))
        .commit_on_caller(false)
        .readers(5);
    assert_eq!(options.readers, 5);
    assert_eq!(options.synchronous, Synchronous::Normal);
    assert_eq!(options.lock_wait, Duration::from_secs(7));
    assert!(!options.commit_on_caller);
}

/// A read reuses a pooled reader connection, and the pool keeps at most
/// `readers` connections however many were open at once.
#[test]
fn the_reader_pool_keeps_at_most_its_size() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open_with(&path, SqliteOptions::default().readers(2)).expect("open");
    let pool = &store.readers;
    let idle_before = pool.idle();
    pool.run(|_| Ok(())).expect("a read");
    assert_eq!(pool.idle(), idle_before.max(1), "the connection went back");
    // Three connections at once (nested reads), then back to the pool.
    pool.run(|_| pool.run(|_| pool.run(|_| Ok(()))))
        .expect("nested reads");
    assert_eq!(pool.idle(), 2);
}
