//! Commits answered once applied: visible at once, durable only after a
//! sync of the log, and their events handed out only once durable.

use std::time::Duration;

use futures_util::FutureExt;

use crate::ports::{CommitBatch, Durability, Expectation, Mutation, NewEvent, Storage};
use crate::store::sqlite::tests::temp_file;
use crate::store::sqlite::{SqliteOptions, SqliteStore, Synchronous};

fn put_with_event(key: &str) -> CommitBatch {
    CommitBatch {
        mutations: vec![Mutation::Put {
            key: key.into(),
            value: b"{}".to_vec(),
        }],
        events: vec![NewEvent {
            kind: "put".into(),
            payload: key.as_bytes().to_vec(),
        }],
        ..CommitBatch::default()
    }
}

/// Lets the syncer thread reach (and stop at) a held sync.
fn settle() {
    std::thread::sleep(Duration::from_millis(50));
}

#[tokio::test]
// The guard holds back the syncer thread, never this task.
#[allow(clippy::await_holding_lock)]
async fn an_applied_commit_is_visible_at_once_and_durable_only_after_a_sync() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let log_sync = store.writer.log_sync();
    let held = log_sync.hold_syncs();
    let (first, first_durable) = store
        .commit_applied(put_with_event("a/1"))
        .await
        .expect("applied");
    let (second, second_durable) = store
        .commit_applied(put_with_event("a/2"))
        .await
        .expect("applied");
    assert!(second.version > first.version);
    let read = store.get(&["a/1".into(), "a/2".into()]).await.expect("get");
    assert!(
        read.iter().all(Option::is_some),
        "both visible before a sync"
    );

    let mut first_durable = Box::pin(first_durable.wait());
    let mut second_durable = Box::pin(second_durable.wait());
    let mut events = Box::pin(store.read_events(0, 10));
    settle();
    assert!(
        (&mut first_durable).now_or_never().is_none(),
        "not synced yet"
    );
    assert!((&mut second_durable).now_or_never().is_none());
    assert!(
        (&mut events).now_or_never().is_none(),
        "events wait to be durable"
    );

    drop(held);
    first_durable.await.expect("synced");
    second_durable.await.expect("synced");
    let events = events.await.expect("events");
    assert_eq!(events.len(), 2);
    assert!(log_sync.syncs() >= 1);

    // Everything applied is covered now: events come without a sync.
    let syncs = log_sync.syncs();
    let again = store.read_events(0, 10).await.expect("events");
    assert_eq!(again, events);
    assert_eq!(log_sync.syncs(), syncs, "nothing left to sync");
}

#[tokio::test]
// The guard holds back the syncer thread, never this task.
#[allow(clippy::await_holding_lock)]
async fn one_sync_serves_every_commit_applied_before_it() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let log_sync = store.writer.log_sync();
    let held = log_sync.hold_syncs();
    // The first waiter's sync starts and is held; the others queue behind.
    let (_, first) = store.commit_applied(put_with_event("b/0")).await.unwrap();
    settle();
    let mut waiting = Vec::new();
    for n in 1..=20 {
        let (_, durable) = store
            .commit_applied(put_with_event(&format!("b/{n}")))
            .await
            .unwrap();
        waiting.push(durable);
    }
    drop(held);
    first.wait().await.expect("synced");
    for durable in waiting {
        durable.wait().await.expect("synced");
    }
    assert_eq!(log_sync.syncs(), 2, "one held sync, then one for the rest");
}

#[tokio::test]
async fn only_an_unsynced_durable_commit_leaves_anything_to_wait_for() {
    let (_dir, path) = temp_file();
    let full = SqliteStore::open(&path).expect("open");
    let deferred = CommitBatch {
        durability: Durability::Deferred,
        ..put_with_event("c/1")
    };
    let (_, durable) = full.commit_applied(deferred).await.unwrap();
    assert!(
        !durable.is_pending(),
        "a deferred commit is answered as ever"
    );
    let (_, durable) = full.commit_applied(put_with_event("c/2")).await.unwrap();
    assert!(durable.is_pending());
    durable.wait().await.expect("synced");

    let (_dir, path) = temp_file();
    let normal = SqliteOptions::default().synchronous(Synchronous::Normal);
    let normal = SqliteStore::open_with(&path, normal).expect("open");
    let (_, durable) = normal.commit_applied(put_with_event("c/3")).await.unwrap();
    assert!(!durable.is_pending(), "a NORMAL store never syncs a commit");
    assert_eq!(normal.writer.log_sync().syncs(), 0);
}

#[tokio::test]
// The guard holds back the syncer thread, never this task.
#[allow(clippy::await_holding_lock)]
async fn events_another_store_applied_before_a_sync_are_synced_before_they_are_read() {
    let (_dir, path) = temp_file();
    let (writer, reader) = (
        SqliteStore::open(&path).expect("open"),
        SqliteStore::open(&path).expect("open a second store on the file"),
    );
    // The writer's own sync is held: its commit is applied, not durable.
    let held = writer.writer.log_sync().hold_syncs();
    let (_, durable) = writer
        .commit_applied(put_with_event("d/1"))
        .await
        .expect("applied");
    assert!(durable.is_pending());
    // A FULL commit whose expectation fails writes nothing, so SQLite
    // syncs nothing: it vouches for no event.
    let conflicting = CommitBatch {
        expectations: vec![Expectation {
            key: "d/1".into(),
            version: None,
        }],
        ..put_with_event("d/0")
    };
    let refused = reader.commit(conflicting).await;
    assert!(refused.is_err(), "{refused:?}");
    // The reader cannot count the writer's commits: it syncs the shared
    // log itself before handing the event out.
    let syncs = reader.writer.log_sync().syncs();
    let events = reader.read_events(0, 10).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(
        reader.writer.log_sync().syncs(),
        syncs + 1,
        "the event was handed out before a sync covered it"
    );
    // Known durable now: reading it again needs no sync.
    assert_eq!(reader.read_events(0, 10).await.expect("events"), events);
    assert_eq!(reader.writer.log_sync().syncs(), syncs + 1);
    drop(held);
    durable.wait().await.expect("synced");

    // A FULL commit syncs the whole log as it commits: the reader's own,
    // and every event before it, are read without another sync.
    writer.commit(put_with_event("d/2")).await.expect("commit");
    reader.commit(put_with_event("d/3")).await.expect("commit");
    assert_eq!(reader.read_events(0, 10).await.expect("events").len(), 3);
    assert_eq!(reader.writer.log_sync().syncs(), syncs + 1);
}

/// `sync` fails on a log that is not there, and opens the file at the
/// log's path again once it is another file (the log deleted and made
/// anew when every connection closed), keeping it while it is the same.
#[test]
fn a_sync_follows_the_file_at_the_log_s_path() {
    let (_dir, db) = temp_file();
    let log = db.with_extension("sqlite-wal");
    let mut open = None;
    assert!(super::sync(&log, &mut open).is_err(), "no log yet");
    assert!(open.is_none());

    std::fs::write(&log, b"first").unwrap();
    super::sync(&log, &mut open).expect("sync the log");
    let first = open.as_ref().map(|(_, id)| *id).expect("opened");
    super::sync(&log, &mut open).expect("sync it again");
    assert!(open.as_ref().is_some_and(|(_, id)| *id == first), "kept");

    // Another file at the same path: written beside it, renamed over it.
    let next = db.with_extension("next");
    std::fs::write(&next, b"second").unwrap();
    std::fs::rename(&next, &log).unwrap();
    super::sync(&log, &mut open).expect("sync the new log");
    let now = super::identity(&std::fs::metadata(&log).unwrap());
    let (_, reopened) = open.as_ref().expect("opened");
    assert!(*reopened == now && now != first, "the new file is synced");
}
