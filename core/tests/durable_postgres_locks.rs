//! How `PostgresStore` locks a key that a commit only expects (does not
//! write), such as the catalog epoch every hold expects: with a share lock,
//! so such commits never wait for each other, while a concurrent writer of
//! the key still cannot slip in between the check and the commit.
//!
//! Another client acts beside the store with plain SQL to hold a lock at a
//! known moment. Needs `RESERVO_PG_URL` (`scripts/postgres.sh run -- cargo
//! test -p reservo --all-features --test durable_postgres_locks`); skips
//! with a notice without it, and fails under `CI=true`.

#![cfg(feature = "postgres")]

mod durable_support;

use std::time::Duration;

use durable_support::postgres::{connect, drop_tables, fresh_prefix, raw, url};
use reservo::ports::{CommitBatch, Expectation, Mutation, Storage, StorageError, Version};

/// Longer than any commit here takes unless it is stuck behind a lock.
const STUCK: Duration = Duration::from_secs(20);

fn put(key: &str) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: b"{}".to_vec(),
    }
}

/// Expects `key` at `version` without writing it, and writes another key.
fn only_expecting(key: &str, version: Version, other: &str) -> CommitBatch {
    CommitBatch {
        durability: Default::default(),
        expectations: vec![Expectation {
            key: key.into(),
            version: Some(version),
        }],
        mutations: vec![put(other)],
        events: vec![],
    }
}

/// A store on fresh tables holding the key `cat/epoch`, and its version.
async fn store_with_epoch(url: &str) -> (String, reservo::store::PostgresStore, Version) {
    let prefix = fresh_prefix();
    let store = connect(url, &prefix, 2).await;
    let epoch = store
        .commit(CommitBatch {
            mutations: vec![put("cat/epoch")],
            ..Default::default()
        })
        .await
        .expect("create the key")
        .version;
    (prefix, store, epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_only_expecting_a_key_do_not_wait_for_each_other() {
    let Some(url) = url() else { return };
    let (prefix, store, epoch) = store_with_epoch(&url).await;
    // Another commit that only expects the key, caught mid-transaction.
    let mut other = raw(&url).await;
    let tx = other.transaction().await.expect("begin");
    tx.execute(
        &format!("SELECT 1 FROM {prefix}records WHERE key = 'cat/epoch'::bytea FOR SHARE"),
        &[],
    )
    .await
    .expect("share lock");
    let committed = tokio::time::timeout(
        STUCK,
        store.commit(only_expecting("cat/epoch", epoch, "hold/1")),
    )
    .await
    .expect("a commit only expecting the key waited for another such commit");
    assert!(committed.is_ok(), "{committed:?}");
    tx.rollback().await.expect("rollback");
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_only_expecting_a_key_conflicts_with_a_write_in_flight_that_changes_it() {
    let Some(url) = url() else { return };
    let (prefix, store, epoch) = store_with_epoch(&url).await;
    // A writer of the key has changed it but not committed yet.
    let mut writer = raw(&url).await;
    let tx = writer.transaction().await.expect("begin");
    tx.execute(
        &format!(
            "UPDATE {prefix}records SET version = nextval('{prefix}versions') \
             WHERE key = 'cat/epoch'::bytea"
        ),
        &[],
    )
    .await
    .expect("update in flight");
    let commit = tokio::spawn(async move {
        let outcome = store
            .commit(only_expecting("cat/epoch", epoch, "hold/1"))
            .await;
        (outcome, store)
    });
    // The commit must wait for the writer rather than pass its check now;
    // give it time to reach the lock before the writer commits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !commit.is_finished(),
        "the commit passed its check while a write of the key was in flight"
    );
    tx.commit().await.expect("writer commits");
    let (outcome, store) = tokio::time::timeout(STUCK, commit)
        .await
        .expect("the commit stayed stuck after the writer committed")
        .expect("commit task");
    assert!(
        matches!(outcome, Err(StorageError::Conflict { ref key }) if key == "cat/epoch"),
        "expected a conflict on cat/epoch, got {outcome:?}"
    );
    assert_eq!(
        store.get(&["hold/1".into()]).await.expect("get"),
        vec![None]
    );
    drop_tables(&url, &prefix).await;
}
