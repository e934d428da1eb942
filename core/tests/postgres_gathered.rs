//! `PostgresStore` gathering waiting commits into one statement (ADR 026):
//! which commits go together, and that each still gets its own answer.
//!
//! Each test holds the store's only commit statement in flight
//! (`with_commits_in_flight(1)`) on a row that another client has locked,
//! lets commits pile up behind it, then releases the lock. Rows written by
//! one statement share their `xmin` (the writing transaction), which is how
//! the tests see what went together.
//!
//! The server comes from `RESERVO_PG_URL`; `scripts/postgres.sh run -- cargo
//! test -p reservo --features postgres --test postgres_gathered` provides a
//! throwaway one. Without it the tests print a skip notice and pass, except
//! under `CI=true`, where they fail.

#![cfg(feature = "postgres")]

#[path = "support/batches.rs"]
mod batches;
#[path = "support/pg.rs"]
mod pg;

use std::sync::Arc;
use std::time::Duration;

use batches::{batch, event, expect, put};
use pg::{drop_tables, fresh_prefix, inspect, lock_key, pg_url};
use reservo::ports::{CommitBatch, Committed, Storage, StorageError, Version};
use reservo::store::{PostgresOptions, PostgresStore};
use tokio::task::JoinHandle;

/// What provides a server for these tests.
const RUN: &str = "cargo test -p reservo --features postgres --test postgres_gathered";

/// How long the tests give spawned commits to reach the store's queue.
const SETTLE: Duration = Duration::from_millis(300);

/// A store with one commit statement in flight at a time.
async fn store(url: &str, prefix: &str) -> Arc<PostgresStore> {
    let options = PostgresOptions::default()
        .with_pool_size(4)
        .with_commits_in_flight(1)
        .with_table_prefix(prefix);
    Arc::new(
        PostgresStore::connect_with(url, options)
            .await
            .expect("connect"),
    )
}

/// The store's one statement in flight, held on a row another client has
/// locked until [`Held::release`].
struct Held {
    client: tokio_postgres::Client,
    blocked: JoinHandle<Result<Committed, StorageError>>,
}

impl Held {
    async fn start(url: &str, prefix: &str, store: &Arc<PostgresStore>) -> Held {
        let (client, blocking) = locked_row(url, prefix, store).await;
        let blocked = spawn_commit(store, blocking);
        tokio::time::sleep(SETTLE).await;
        assert!(!blocked.is_finished(), "the blocked commit did not wait");
        Held { client, blocked }
    }

    /// Lets the held statement finish, and with it the commits behind it.
    async fn release(self) {
        self.client.batch_execute("COMMIT").await.expect("unlock");
        self.blocked
            .await
            .expect("blocked commit task")
            .expect("the blocked commit");
    }
}

/// A client holding the row `block` locked (created first), and a commit
/// of the store that must wait for it.
async fn locked_row(
    url: &str,
    prefix: &str,
    store: &PostgresStore,
) -> (tokio_postgres::Client, CommitBatch) {
    let created = store
        .commit(batch(vec![], vec![put("block", b"0")]))
        .await
        .expect("create the blocking row");
    let client = lock_key(url, prefix, "block").await;
    let blocking = batch(
        vec![expect("block", Some(created.version))],
        vec![put("block", b"1")],
    );
    (client, blocking)
}

fn spawn_commit(
    store: &Arc<PostgresStore>,
    batch: CommitBatch,
) -> JoinHandle<Result<Committed, StorageError>> {
    let store = Arc::clone(store);
    tokio::spawn(async move { store.commit(batch).await })
}

/// Commits `batches` behind a held statement, then releases it: the
/// outcome of each, in order.
async fn behind_a_held_statement(
    url: &str,
    prefix: &str,
    store: &Arc<PostgresStore>,
    batches: Vec<CommitBatch>,
) -> Vec<Result<Committed, StorageError>> {
    let held = Held::start(url, prefix, store).await;
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|b| spawn_commit(store, b))
        .collect();
    tokio::time::sleep(SETTLE).await;
    assert!(
        tasks.iter().all(|t| !t.is_finished()),
        "commits did not wait"
    );
    held.release().await;
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("commit task"));
    }
    outcomes
}

/// How many transactions wrote the rows of `keys`.
async fn writers(url: &str, prefix: &str, keys: &[String]) -> i64 {
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    inspect(url)
        .await
        .query_one(
            &format!(
                "SELECT count(DISTINCT xmin::text) FROM {prefix}records WHERE key = ANY($1::bytea[])"
            ),
            &[&keys],
        )
        .await
        .expect("count writers")
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_commits_go_in_one_statement_each_with_its_own_version() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let epoch = store
        .commit(batch(vec![], vec![put("epoch", b"e")]))
        .await
        .expect("epoch")
        .version;
    let keys: Vec<String> = (0..8).map(|i| format!("g{i}")).collect();
    let batches = keys
        .iter()
        .map(|key| CommitBatch {
            // Every commit expects the same key it does not write, as
            // every hold expects the catalog's epoch.
            expectations: vec![expect("epoch", Some(epoch)), expect(key, None)],
            mutations: vec![put(key, key.as_bytes())],
            events: vec![event(&format!("made.{key}")), event(&format!("then.{key}"))],
            ..CommitBatch::default()
        })
        .collect();
    let outcomes = behind_a_held_statement(&url, &prefix, &store, batches).await;

    let versions: Vec<Version> = outcomes
        .into_iter()
        .map(|o| o.expect("every commit applies").version)
        .collect();
    let mut distinct = versions.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        keys.len(),
        "one version a commit: {versions:?}"
    );
    let records = store.get(&keys).await.expect("get");
    for ((key, record), version) in keys.iter().zip(records).zip(&versions) {
        let record = record.unwrap_or_else(|| panic!("{key} written"));
        assert_eq!(
            (record.value, record.version),
            (key.as_bytes().to_vec(), *version)
        );
    }
    assert_eq!(
        writers(&url, &prefix, &keys).await,
        1,
        "one statement wrote them"
    );
    // Each commit's events, in its order, numbered in version order.
    let events = store.read_events(0, 100).await.expect("events");
    let mut by_version: Vec<(Version, &String)> = versions.iter().copied().zip(&keys).collect();
    by_version.sort();
    let expected: Vec<String> = by_version
        .iter()
        .flat_map(|(_, key)| [format!("made.{key}"), format!("then.{key}")])
        .collect();
    let kinds: Vec<String> = events.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, expected);
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_commit_fails_alone_and_the_others_apply() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let stale = store
        .commit(batch(vec![], vec![put("x", b"0")]))
        .await
        .expect("x")
        .version;
    store
        .commit(batch(vec![expect("x", Some(stale))], vec![put("x", b"1")]))
        .await
        .expect("x again");
    let batches = vec![
        batch(vec![expect("a", None)], vec![put("a", b"a")]),
        batch(
            vec![expect("x", Some(stale))],
            vec![put("x", b"lost"), put("c", b"c")],
        ),
        batch(vec![], vec![put("b", b"b")]),
        // Expects a key absent that exists: the other kind of stale check.
        batch(vec![expect("x", None)], vec![put("x", b"lost too")]),
    ];
    let outcomes = behind_a_held_statement(&url, &prefix, &store, batches).await;

    assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
    for conflicted in [&outcomes[1], &outcomes[3]] {
        assert!(
            matches!(conflicted, Err(StorageError::Conflict { key }) if key == "x"),
            "{conflicted:?}"
        );
    }
    let keys = ["a", "b", "c", "x"].map(String::from);
    let values: Vec<Option<Vec<u8>>> = store
        .get(&keys)
        .await
        .expect("get")
        .into_iter()
        .map(|r| r.map(|r| r.value))
        .collect();
    assert_eq!(
        values,
        [
            Some(b"a".to_vec()),
            Some(b"b".to_vec()),
            None,
            Some(b"1".to_vec())
        ]
    );
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_writing_what_another_touches_go_in_statements_of_their_own() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let first = store
        .commit(batch(vec![], vec![put("k1", b"0"), put("k2", b"0")]))
        .await
        .expect("k1, k2")
        .version;
    let batches = vec![
        // Two puts of one key (in one statement the server refuses to
        // change a row twice, and the commits would fail).
        batch(vec![], vec![put("same", b"first")]),
        batch(vec![], vec![put("same", b"second")]),
        // Each expects the key the other writes: applied one after the
        // other, the second sees the first's write and conflicts; in one
        // statement both would see neither and apply.
        batch(vec![expect("k1", Some(first))], vec![put("k2", b"from k1")]),
        batch(vec![expect("k2", Some(first))], vec![put("k1", b"from k2")]),
    ];
    let outcomes = behind_a_held_statement(&url, &prefix, &store, batches).await;

    assert!(outcomes[0].is_ok() && outcomes[1].is_ok(), "{outcomes:?}");
    let same = store.get(&["same".into()]).await.expect("get").remove(0);
    // The callers are concurrent tasks, so either may be queued first; the
    // row holds the one with the later version, applied after the other.
    let versions: Vec<Version> = outcomes[..2]
        .iter()
        .map(|o| o.as_ref().expect("put").version)
        .collect();
    let last: &[u8] = if versions[0] > versions[1] {
        b"first"
    } else {
        b"second"
    };
    let same = same.expect("same");
    assert_eq!(same.value, last, "{versions:?}");
    assert_eq!(same.version, versions[0].max(versions[1]));
    let crossed = [&outcomes[2], &outcomes[3]];
    let applied = crossed.iter().filter(|o| o.is_ok()).count();
    assert_eq!(
        applied, 1,
        "exactly one of the crossed commits: {crossed:?}"
    );
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_claims_a_key_without_writing_it_is_not_gathered() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let held = Held::start(&url, &prefix, &store).await;
    // Keeps "guard" absent without writing it: a claimed placeholder,
    // which only the multi-statement transaction makes. It does not wait
    // for a place in a statement.
    let guarded = tokio::time::timeout(
        Duration::from_secs(5),
        store.commit(batch(
            vec![expect("guard", None)],
            vec![put("guarded", b"g")],
        )),
    )
    .await;
    assert!(matches!(guarded, Ok(Ok(_))), "{guarded:?}");
    held.release().await;
    let found = store
        .get(&["guard".into(), "guarded".into()])
        .await
        .expect("get");
    assert!(found[0].is_none() && found[1].is_some());
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gathered_statement_cut_off_leaves_every_commit_of_it_unknown_and_none_resent() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let second = store
        .commit(batch(vec![], vec![put("block2", b"0")]))
        .await
        .expect("block2")
        .version;
    let held = Held::start(&url, &prefix, &store).await;
    let locker = lock_key(&url, &prefix, "block2").await;
    // Two commits gathered behind the held one; their statement then waits
    // on block2, and its connection is cut.
    let waiting = spawn_commit(
        &store,
        batch(
            vec![expect("block2", Some(second))],
            vec![put("block2", b"1")],
        ),
    );
    let other = spawn_commit(&store, batch(vec![], vec![put("other", b"o")]));
    tokio::time::sleep(SETTLE).await;
    held.release().await;
    tokio::time::sleep(SETTLE).await;
    // This test's gathered statement only (its tables' prefix is in the
    // text): the other tests here run at the same time on the same server.
    let cut: i64 = locker
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE query LIKE '%generate_series(1, $20%' AND query LIKE $1 \
             AND pid <> pg_backend_pid() AND state = 'active'",
            &[&format!("%{prefix}records%")],
        )
        .await
        .expect("cut the gathered statement")
        .get(0);
    assert_eq!(cut, 1, "one gathered statement was waiting");
    for outcome in [waiting.await.expect("task"), other.await.expect("task")] {
        assert!(
            matches!(outcome, Err(StorageError::Backend { .. })),
            "a cut statement's commits are unknown, not resent: {outcome:?}"
        );
    }
    locker.batch_execute("COMMIT").await.expect("unlock block2");
    let found = store
        .get(&["block2".into(), "other".into()])
        .await
        .expect("get");
    assert_eq!(
        found[0].as_ref().map(|r| r.value.clone()),
        Some(b"0".to_vec())
    );
    assert!(
        found[1].is_none(),
        "nothing of the cut statement was applied"
    );
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_carries_at_most_32_commits() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let keys: Vec<String> = (0..40).map(|i| format!("k{i:02}")).collect();
    let batches = keys
        .iter()
        .map(|k| batch(vec![], vec![put(k, b"v")]))
        .collect();
    let outcomes = behind_a_held_statement(&url, &prefix, &store, batches).await;

    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    let sizes: Vec<i64> = inspect(&url)
        .await
        .query(
            &format!(
                "SELECT count(*) FROM {prefix}records WHERE key = ANY($1::bytea[]) \
                 GROUP BY xmin::text ORDER BY 1 DESC"
            ),
            &[&keys],
        )
        .await
        .expect("rows by writer")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(sizes, [32, 8], "32 commits, then 8");
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_caller_stopped_waiting_before_it_was_sent_is_not_applied() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let held = Held::start(&url, &prefix, &store).await;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        store.commit(batch(vec![], vec![put("abandoned", b"v")])),
    )
    .await;
    assert!(
        gave_up.is_err(),
        "the commit waited behind the held statement"
    );
    let kept = spawn_commit(&store, batch(vec![], vec![put("kept", b"v")]));
    tokio::time::sleep(SETTLE).await;
    held.release().await;
    kept.await.expect("task").expect("the waiting commit");

    let found = store
        .get(&["abandoned".into(), "kept".into()])
        .await
        .expect("get");
    assert!(found[0].is_none(), "an abandoned commit was applied");
    assert!(found[1].is_some());
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_stops_waiting_on_its_own_statement_frees_its_place() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = store(&url, &prefix).await;
    let (locker, blocking) = locked_row(&url, &prefix, &store).await;
    // The store's one statement in flight, sent by this caller, which
    // stops waiting while the row is locked.
    let gave_up = tokio::time::timeout(Duration::from_millis(300), store.commit(blocking)).await;
    assert!(gave_up.is_err(), "the commit waited on the locked row");
    locker.batch_execute("COMMIT").await.expect("unlock");

    let next = tokio::time::timeout(
        Duration::from_secs(10),
        store.commit(batch(vec![], vec![put("next", b"v")])),
    )
    .await;
    assert!(
        matches!(next, Ok(Ok(_))),
        "the next commit was not sent: {next:?}"
    );
    drop_tables(&url, &prefix).await;
}
