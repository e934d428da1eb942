//! Events of commits written `NORMAL` on a `Full` store — deferred ones
//! (a new hold), not only those answered once applied — are handed out
//! only once a sync of the log covers them; and after a failed sync,
//! nothing is called durable any more.

use futures_util::FutureExt;

use crate::ports::{CommitBatch, Durability, Mutation, NewEvent, Storage};
use crate::store::sqlite::tests::temp_file;
use crate::store::sqlite::{SqliteOptions, SqliteStore, Synchronous};

fn deferred_with_event(key: &str) -> CommitBatch {
    CommitBatch {
        mutations: vec![Mutation::Put {
            key: key.into(),
            value: b"{}".to_vec(),
        }],
        events: vec![NewEvent {
            kind: "hold.created".into(),
            payload: key.as_bytes().to_vec(),
        }],
        durability: Durability::Deferred,
        ..CommitBatch::default()
    }
}

#[tokio::test]
// The guard holds back the syncer thread, never this task.
#[allow(clippy::await_holding_lock)]
async fn events_of_a_deferred_commit_are_handed_out_only_once_synced() {
    for commit_on_caller in [true, false] {
        let (_dir, path) = temp_file();
        let options = SqliteOptions::default().commit_on_caller(commit_on_caller);
        let store = SqliteStore::open_with(&path, options).expect("open");
        let log_sync = store.writer.log_sync();
        let held = log_sync.hold_syncs();
        store
            .commit(deferred_with_event("hold/1"))
            .await
            .expect("deferred commit");
        // Applied, not durable: a power cut may still undo it, and the
        // next commit's event would then take its sequence number.
        let mut events = Box::pin(store.read_events(0, 10));
        assert!(
            (&mut events).now_or_never().is_none(),
            "the event of an unsynced deferred commit was handed out"
        );
        drop(held);
        let events = events.await.expect("events");
        assert_eq!(events.len(), 1);
        assert!(log_sync.syncs() >= 1, "a sync covered the event");
        // Covered now: read again without a sync.
        let syncs = log_sync.syncs();
        assert_eq!(store.read_events(0, 10).await.expect("events"), events);
        assert_eq!(log_sync.syncs(), syncs);
    }
}

#[tokio::test]
async fn a_normal_store_and_deferred_commits_without_events_never_wait_for_a_sync() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let no_events = CommitBatch {
        events: vec![],
        ..deferred_with_event("hold/1")
    };
    store.commit(no_events).await.expect("commit");
    let durable = CommitBatch {
        durability: Durability::Durable,
        ..deferred_with_event("hold/2")
    };
    store.commit(durable).await.expect("commit");
    assert_eq!(store.read_events(0, 10).await.expect("events").len(), 1);
    assert_eq!(store.writer.log_sync().syncs(), 0);

    let (_dir, path) = temp_file();
    let normal = SqliteOptions::default().synchronous(Synchronous::Normal);
    let store = SqliteStore::open_with(&path, normal).expect("open");
    store
        .commit(deferred_with_event("hold/3"))
        .await
        .expect("commit");
    assert_eq!(store.read_events(0, 10).await.expect("events").len(), 1);
    assert_eq!(store.writer.log_sync().syncs(), 0);
}

#[tokio::test]
async fn once_a_sync_of_the_log_fails_no_later_commit_is_called_durable() {
    let (_dir, path) = temp_file();
    let store = SqliteStore::open(&path).expect("open");
    let log_sync = store.writer.log_sync();
    let durable_with_event = |key: &str| CommitBatch {
        durability: Durability::Durable,
        ..deferred_with_event(key)
    };
    log_sync.fail_next_sync();
    let (_, lost) = store
        .commit_applied(durable_with_event("a/1"))
        .await
        .unwrap();
    assert!(lost.wait().await.is_err(), "the failed sync is reported");
    // The kernel may have dropped the pages the failed sync did not
    // write, and a later sync succeeds without them; the log's recovery
    // stops at the first lost frame, so later commits are at risk too.
    let (_, later) = store
        .commit_applied(durable_with_event("a/2"))
        .await
        .unwrap();
    let later = later.wait().await;
    assert!(
        later.is_err(),
        "a commit after a failed sync was called durable"
    );
    let events = store.read_events(0, 10).await;
    assert!(
        events.is_err(),
        "events of commits never made durable were handed out: {events:?}"
    );
}
