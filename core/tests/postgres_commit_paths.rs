//! `PostgresStore` commits on each of their two paths (ADR 013): the
//! one-statement commit, and the pipelined transaction a batch takes when
//! it expects a key absent without writing it (its claim is a placeholder
//! row). What a conflict names, which rows a commit keeps from changing
//! while it runs, and what contention that outlasts every retry becomes.
//!
//! The server comes from `RESERVO_PG_URL`; `scripts/postgres.sh run -- cargo
//! test -p reservo --features postgres --test postgres_commit_paths`
//! provides a throwaway one. Without it the tests print a skip notice and
//! pass, except under `CI=true`, where they fail.

#![cfg(feature = "postgres")]

#[path = "support/batches.rs"]
mod batches;
#[path = "support/pg.rs"]
mod pg;

use std::sync::Arc;
use std::time::{Duration, Instant};

use batches::{batch, expect, put};
use pg::{connect, drop_tables, fresh_prefix, inspect, pg_url};
use reservo::ports::{CommitBatch, Committed, Durability, Storage, StorageError, Version};
use reservo::store::{PostgresOptions, PostgresStore};
use tokio::task::JoinHandle;

/// What provides a server for these tests.
const RUN: &str = "cargo test -p reservo --features postgres --test postgres_commit_paths";

/// Three keys at their first versions.
async fn three_keys(store: &PostgresStore) -> Version {
    store
        .commit(batch(
            vec![],
            vec![put("a", b"a"), put("b", b"b"), put("k", b"k")],
        ))
        .await
        .expect("a, b, k")
        .version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_names_the_stale_key_on_both_paths() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    let first = three_keys(&store).await;
    let later = store
        .commit(batch(vec![], vec![put("b", b"b2")]))
        .await
        .expect("b again")
        .version;
    assert!(later > first);
    // "a" is as expected, "b" is not: the conflict is on "b", whichever
    // way the commit goes.
    let one_statement = batch(
        vec![expect("a", Some(first)), expect("b", Some(first))],
        vec![put("new", b"n")],
    );
    let claiming = batch(
        vec![
            expect("a", Some(first)),
            expect("b", Some(first)),
            expect("unclaimed", None),
        ],
        vec![put("new", b"n")],
    );
    for stale in [one_statement, claiming] {
        match store.commit(stale).await {
            Err(StorageError::Conflict { key }) => assert_eq!(key, "b"),
            other => panic!("expected a conflict on b: {other:?}"),
        }
    }
    let found = store.get(&["new".into()]).await.expect("get");
    assert!(
        found[0].is_none(),
        "nothing of a conflicting commit applied"
    );
    drop_tables(&url, &prefix).await;
}

/// Waits until a backend waits on a lock `client` holds; `committing` must
/// still run meanwhile.
async fn until_blocked_by(
    client: &tokio_postgres::Client,
    committing: &mut JoinHandle<Result<Committed, StorageError>>,
) {
    let started = Instant::now();
    loop {
        if committing.is_finished() {
            let outcome = committing.await.expect("commit task");
            panic!("the commit did not wait: {outcome:?}");
        }
        let waiting: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))",
                &[],
            )
            .await
            .expect("pg_stat_activity")
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the commit never waited"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether another client can change `key` while `store` commits `batch`
/// on the pipelined path. The commit is held between its locks and its
/// writes: another client has inserted, and not committed, the key the
/// batch claims (`claimed`), so the claim waits.
async fn changeable_during_commit(
    url: &str,
    prefix: &str,
    store: &Arc<PostgresStore>,
    batch: CommitBatch,
    key: &str,
) -> bool {
    let claimer = inspect(url).await;
    claimer
        .batch_execute(&format!(
            "BEGIN; INSERT INTO {prefix}records (key, value, version) \
             VALUES ('claimed'::bytea, ''::bytea, 1)"
        ))
        .await
        .expect("insert the claimed key");
    let mut committing = {
        let store = Arc::clone(store);
        tokio::spawn(async move { store.commit(batch).await })
    };
    until_blocked_by(&claimer, &mut committing).await;
    let writer = inspect(url).await;
    let changed = writer
        .batch_execute(&format!(
            "SET lock_timeout = '300ms'; \
             UPDATE {prefix}records SET value = 'changed'::bytea WHERE key = '{key}'::bytea"
        ))
        .await;
    claimer.batch_execute("ROLLBACK").await.expect("roll back");
    let committed = committing.await.expect("commit task");
    match changed {
        Ok(()) => true,
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            assert!(committed.is_ok(), "{committed:?}");
            false
        }
        Err(e) => panic!("updating {key}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claiming_commit_keeps_the_keys_it_expects_from_changing_until_it_ends() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = Arc::new(connect(&url, &prefix).await);
    let first = three_keys(&store).await;
    // "k" expected and written (locked for update), then "k" expected and
    // only read (locked for share): either way another client's change of
    // "k" waits for the commit, so the commit's check still holds when it
    // applies.
    let writes_k = batch(
        vec![expect("k", Some(first)), expect("claimed", None)],
        vec![put("k", b"k2")],
    );
    assert!(!changeable_during_commit(&url, &prefix, &store, writes_k, "k").await);
    let second = store.get(&["k".into()]).await.expect("get")[0]
        .as_ref()
        .expect("k")
        .version;
    let reads_k = batch(
        vec![expect("k", Some(second)), expect("claimed", None)],
        vec![put("other", b"o")],
    );
    assert!(!changeable_during_commit(&url, &prefix, &store, reads_k, "k").await);
    // A key the commit does not expect is not held.
    let neither = batch(vec![expect("claimed", None)], vec![put("more", b"m")]);
    assert!(changeable_during_commit(&url, &prefix, &store, neither, "a").await);
    drop_tables(&url, &prefix).await;
}

/// A trigger that fails every write of one key with a given SQLSTATE,
/// counting the tries in a sequence (which a rollback does not undo).
struct Refusal {
    admin: tokio_postgres::Client,
    prefix: String,
}

impl Refusal {
    async fn install(url: &str, prefix: &str, key: &str, sqlstate: &str, message: &str) -> Self {
        let admin = inspect(url).await;
        admin
            .batch_execute(&format!(
                "CREATE SEQUENCE {prefix}tries; \
                 CREATE FUNCTION {prefix}refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN PERFORM nextval('{prefix}tries'); \
                 RAISE EXCEPTION '{message}' USING ERRCODE = '{sqlstate}'; END $$; \
                 CREATE TRIGGER {prefix}refuse BEFORE INSERT OR UPDATE ON {prefix}records \
                 FOR EACH ROW WHEN (NEW.key = '{key}'::bytea) EXECUTE FUNCTION {prefix}refuse()"
            ))
            .await
            .expect("the refusing trigger");
        Refusal {
            admin,
            prefix: prefix.to_owned(),
        }
    }

    /// How many writes of the key were tried.
    async fn tries(&self) -> i64 {
        let prefix = &self.prefix;
        self.admin
            .query_one(&format!("SELECT last_value FROM {prefix}tries"), &[])
            .await
            .expect("tries")
            .get(0)
    }

    async fn remove(self) {
        let prefix = &self.prefix;
        self.admin
            .batch_execute(&format!(
                "DROP TRIGGER {prefix}refuse ON {prefix}records; \
                 DROP FUNCTION {prefix}refuse(); DROP SEQUENCE {prefix}tries"
            ))
            .await
            .expect("drop the trigger");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contention_that_outlasts_every_retry_is_a_conflict_on_the_batch_s_first_key() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    let first = three_keys(&store).await;
    // Every write of "contended" fails as a serialization failure would
    // (SQLSTATE 40001: nothing applied, try again).
    let refusal = Refusal::install(&url, &prefix, "contended", "40001", "contended").await;
    let cases = [
        // Named by its first expectation ...
        (
            batch(vec![expect("b", Some(first))], vec![put("contended", b"c")]),
            "b",
        ),
        // ... or, without one, its first write.
        (batch(vec![], vec![put("contended", b"c")]), "contended"),
        // The same on the pipelined path.
        (
            batch(
                vec![expect("a", Some(first)), expect("absent", None)],
                vec![put("contended", b"c")],
            ),
            "a",
        ),
    ];
    for (n, (contended, named)) in (1..).zip(cases) {
        let started = Instant::now();
        match store.commit(contended).await {
            Err(StorageError::Conflict { key }) => assert_eq!(key, named),
            other => panic!("expected a conflict on {named}: {other:?}"),
        }
        assert_eq!(refusal.tries().await, 20 * n, "20 tries a commit");
        // Between tries it waits a random time up to 2, 4, ... 64 ms (so
        // contenders fall out of step): ~480 ms over 19 waits on average,
        // and under 100 ms only if nearly every draw is close to zero.
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
    }
    let found = store.get(&["contended".into()]).await.expect("get");
    assert!(found[0].is_none());
    refusal.remove().await;
    drop_tables(&url, &prefix).await;
}

/// An error the server raises that is neither contention nor a
/// cancellation (here a trigger's `RAISE`) fails the commit at once, with
/// the server's message and SQLSTATE, and applies nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_other_server_error_is_reported_once_with_its_message_and_sqlstate() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    let first = three_keys(&store).await;
    let refusal = Refusal::install(&url, &prefix, "refused", "P0001", "no writes to refused").await;
    let paths = [
        batch(vec![expect("b", Some(first))], vec![put("refused", b"r")]),
        batch(
            vec![expect("a", Some(first)), expect("absent", None)],
            vec![put("k", b"k2"), put("refused", b"r")],
        ),
    ];
    for (n, refused) in (1..).zip(paths) {
        match store.commit(refused).await {
            Err(StorageError::Backend { message, .. }) => {
                assert!(message.starts_with("PostgreSQL failed"), "{message}");
                assert!(
                    message.contains("no writes to refused (SQLSTATE P0001)"),
                    "{message}"
                );
                assert!(!message.contains("cancelled"), "{message}");
            }
            other => panic!("expected the server's error: {other:?}"),
        }
        assert_eq!(refusal.tries().await, n, "tried once");
    }
    let found = store
        .get(&["refused".into(), "k".into()])
        .await
        .expect("get");
    assert!(found[0].is_none());
    assert_eq!(found[1].as_ref().expect("k").value, b"k");
    refusal.remove().await;
    drop_tables(&url, &prefix).await;
}

/// A commit that may be acknowledged before its flush (`Durability::Deferred`,
/// a new hold's) turns `synchronous_commit` off for its own transaction, on
/// both paths; every other commit keeps the server's setting. A deferred
/// constraint trigger, which runs as the transaction commits, records the
/// setting it sees for each key written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_deferred_commit_skips_its_flush() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    let first = three_keys(&store).await;
    let admin = inspect(&url).await;
    admin
        .batch_execute(&format!(
            "CREATE TABLE {prefix}seen (key BYTEA, setting TEXT); \
             CREATE FUNCTION {prefix}note() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN INSERT INTO {prefix}seen VALUES \
             (NEW.key, current_setting('synchronous_commit')); RETURN NULL; END $$; \
             CREATE CONSTRAINT TRIGGER {prefix}note AFTER INSERT OR UPDATE ON {prefix}records \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {prefix}note()"
        ))
        .await
        .expect("the noting trigger");
    let deferred = |mut batch: CommitBatch| {
        batch.durability = Durability::Deferred;
        batch
    };
    let commits = [
        deferred(batch(vec![], vec![put("one-statement-deferred", b"1")])),
        deferred(batch(
            vec![expect("a", Some(first)), expect("absent", None)],
            vec![put("pipelined-deferred", b"1")],
        )),
        batch(vec![], vec![put("one-statement-durable", b"1")]),
        batch(
            vec![expect("b", Some(first)), expect("absent", None)],
            vec![put("pipelined-durable", b"1")],
        ),
    ];
    for commit in commits {
        store.commit(commit).await.expect("commit");
    }
    let seen: Vec<(String, String)> = admin
        .query(
            &format!(
                "SELECT convert_from(key, 'UTF8'), setting FROM {prefix}seen \
                 WHERE key <> 'absent'::bytea ORDER BY 1"
            ),
            &[],
        )
        .await
        .expect("what the trigger saw")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let expected = [
        ("one-statement-deferred", "off"),
        ("one-statement-durable", "on"),
        ("pipelined-deferred", "off"),
        ("pipelined-durable", "on"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(seen, expected);
    admin
        .batch_execute(&format!(
            "DROP TRIGGER {prefix}note ON {prefix}records; \
             DROP FUNCTION {prefix}note(); DROP TABLE {prefix}seen"
        ))
        .await
        .expect("drop the trigger");
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_shows_the_options_it_was_connected_with() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let options = PostgresOptions::default()
        .with_pool_size(3)
        .with_commits_in_flight(5)
        .with_query_timeout(Some(Duration::from_secs(7)))
        .with_table_prefix(&prefix);
    let store = PostgresStore::connect_with(&url, options.clone())
        .await
        .expect("connect");
    assert_eq!(store.options(), &options);
    let shown = format!("{store:?}");
    assert!(
        shown.starts_with("PostgresStore") && shown.contains(&format!("{options:?}")),
        "{shown}"
    );
    // The URL (and any password in it) is not part of what it shows.
    assert!(!shown.contains("postgres://") && !shown.contains("127.0.0.1"));
    drop_tables(&url, &prefix).await;
}
