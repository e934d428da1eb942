//! How long a `PostgresStore` operation waits for a connection
//! (`PostgresOptions::with_pool_timeout`): a server that never answers, or
//! a pool whose every connection is busy, fails the operation with a
//! `StorageError::Backend` that says so, instead of hanging its caller.
//!
//! The first test needs no server; the second uses the one of
//! `scripts/postgres.sh run -- cargo test -p reservo --all-features --test
//! postgres_pool_timeouts` and skips without it (except under `CI=true`).

#[path = "support/pg.rs"]
mod pg;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use pg::{connect, drop_tables, fresh_prefix, inspect, pg_url};
use reservo::ports::{CommitBatch, Key, Mutation, Storage, StorageError};
use reservo::store::{PostgresOptions, PostgresStore};

/// Far longer than any timeout here: reaching it means the store hung.
const HUNG: Duration = Duration::from_secs(20);

fn put(key: &str) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: b"{}".to_vec(),
    }
}

#[tokio::test]
async fn a_server_that_never_answers_fails_the_connect_within_the_pool_timeout() {
    // Accepts connections and never says a word: a stalled server, or a
    // proxy in front of a dead one.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let url = format!("postgres://app@127.0.0.1:{port}/bookings?sslmode=disable");
    let options = PostgresOptions::default().with_pool_timeout(Some(Duration::from_millis(300)));

    let started = Instant::now();
    let connected = tokio::time::timeout(HUNG, PostgresStore::connect_with(&url, options))
        .await
        .expect("the connect hung past its pool timeout");

    let Err(StorageError::Backend { message, .. }) = connected else {
        panic!("expected a backend error, got {:?}", connected.map(|_| ()));
    };
    assert!(message.contains("pool timeout"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_default_pool_timeout_is_thirty_seconds_and_none_waits_forever() {
    let options = PostgresOptions::default();
    assert_eq!(options.pool_timeout(), Some(Duration::from_secs(30)));
    assert_eq!(options.with_pool_timeout(None).pool_timeout(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_finding_every_connection_busy_fails_after_the_pool_timeout() {
    let Some(url) = pg_url("cargo test -p reservo --all-features --test postgres_pool_timeouts")
    else {
        return;
    };
    let prefix = fresh_prefix();
    connect(&url, &prefix).await; // creates the tables
    let options = PostgresOptions::default()
        .with_pool_size(1)
        .with_pool_timeout(Some(Duration::from_millis(300)))
        .with_table_prefix(&prefix);
    let store = std::sync::Arc::new(PostgresStore::connect_with(&url, options).await.unwrap());
    let first = CommitBatch {
        mutations: vec![put("k")],
        ..Default::default()
    };
    store.commit(first).await.expect("create the key");
    // Another client locks the key's row, so the next commit of it waits
    // on the server holding the pool's only connection.
    let mut other = inspect(&url).await;
    let tx = other.transaction().await.expect("begin");
    let lock = format!("SELECT 1 FROM {prefix}records WHERE key = 'k'::bytea FOR UPDATE");
    tx.execute(&lock, &[]).await.expect("row lock");
    let blocked = tokio::spawn({
        let store = store.clone();
        async move {
            let second = CommitBatch {
                mutations: vec![put("k")],
                ..Default::default()
            };
            store.commit(second).await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !blocked.is_finished(),
        "the commit did not wait on the lock"
    );

    let started = Instant::now();
    let keys: [Key; 1] = ["k".into()];
    let read = tokio::time::timeout(HUNG, store.get(&keys))
        .await
        .expect("the read hung past its pool timeout");

    let Err(StorageError::Backend { message, .. }) = read else {
        panic!("expected a backend error, got {read:?}");
    };
    assert!(message.contains("stayed in use"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The lock goes; the waiting commit and later reads carry on.
    tx.rollback().await.expect("rollback");
    let committed = tokio::time::timeout(HUNG, blocked).await.expect("commit");
    assert!(committed.expect("commit task").is_ok());
    assert!(store.get(&keys).await.expect("read")[0].is_some());
    drop_tables(&url, &prefix).await;
}
