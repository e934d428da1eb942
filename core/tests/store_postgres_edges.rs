//! `PostgresStore` at the edges of its contract and its configuration:
//! keys at the top of the alphabet, limits, large batches, invalid input,
//! lost connections, serializable databases, least-privilege roles and
//! connection strings as libpq users write them.
//!
//! The server comes from `RESERVO_PG_URL`; `scripts/postgres.sh run -- cargo
//! test -p reservo --features postgres --test store_postgres_edges` provides
//! a throwaway one. Without it the tests print a skip notice and pass,
//! except under `CI=true`, where they fail. Every test works in tables of
//! its own random prefix and drops them at the end.

#![cfg(feature = "postgres")]

#[path = "support/batches.rs"]
mod batches;
#[path = "support/pg.rs"]
mod pg;

use batches::{batch, delete, event, expect, put};
use pg::{connect, drop_tables, fresh_prefix, inspect, lock_key, pg_url, terminate_lock_waiter};
use reservo::ports::{
    CommitBatch, Expectation, KeyRange, Mutation, Storage, StorageError, Version,
};
use reservo::store::{PostgresOptions, PostgresStore};

/// What provides a server for these tests.
const RUN: &str = "cargo test -p reservo --features postgres --test store_postgres_edges";

async fn keys_in(store: &PostgresStore, range: &KeyRange, limit: usize) -> Vec<String> {
    let records = store.scan(range, limit).await.expect("scan");
    records.into_iter().map(|r| r.key).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_at_the_top_of_the_key_alphabet_and_at_their_limits() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    let keys = ["!", "a", "a~", "a~~", "a~~a", "b", "~", "~~"];
    let puts = keys.iter().map(|k| put(k, k.as_bytes())).collect();
    store.commit(batch(vec![], puts)).await.expect("commit");

    let all = KeyRange::prefix("");
    assert_eq!(keys_in(&store, &all, usize::MAX).await, keys);
    assert!(keys_in(&store, &all, 0).await.is_empty());
    assert_eq!(keys_in(&store, &all, 1).await, ["!"]);
    let tilde = KeyRange::prefix("~");
    assert_eq!(keys_in(&store, &tilde, 10).await, ["~", "~~"]);
    assert_eq!(keys_in(&store, &tilde, 1).await, ["~"]);
    let a_tildes = KeyRange::prefix("a~~");
    assert_eq!(keys_in(&store, &a_tildes, 10).await, ["a~~", "a~~a"]);
    let mut visited = Vec::new();
    let mut visit = |key: &str, value: &[u8]| {
        assert_eq!(key.as_bytes(), value);
        visited.push(key.to_owned());
    };
    let n = store
        .scan_each(&tilde, 10, &mut visit)
        .await
        .expect("scan_each");
    assert_eq!((n, visited), (2, vec!["~".to_owned(), "~~".to_owned()]));
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expecting_and_writing_one_key_in_every_combination() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    // Absent, expected absent, put: created.
    let v1 = store
        .commit(batch(vec![expect("k", None)], vec![put("k", b"1")]))
        .await
        .expect("create")
        .version;
    // Again: a conflict on k.
    let again = store
        .commit(batch(vec![expect("k", None)], vec![put("k", b"x")]))
        .await;
    assert!(
        matches!(&again, Err(StorageError::Conflict { key }) if key == "k"),
        "{again:?}"
    );
    // Expected at its version, deleted; then a stale delete conflicts.
    let v2 = store
        .commit(batch(vec![expect("k", Some(v1))], vec![delete("k")]))
        .await
        .expect("delete")
        .version;
    assert!(v2 > v1);
    let stale = store
        .commit(batch(vec![expect("k", Some(v1))], vec![delete("k")]))
        .await;
    assert!(
        matches!(&stale, Err(StorageError::Conflict { key }) if key == "k"),
        "{stale:?}"
    );
    // Expected absent and deleted (a no-op delete with a guard).
    store
        .commit(batch(vec![expect("k", None)], vec![delete("k")]))
        .await
        .expect("guarded delete of an absent key");
    // Recreated: a fresh version, never an old one.
    let v3 = store
        .commit(batch(vec![expect("k", None)], vec![put("k", b"3")]))
        .await
        .expect("recreate")
        .version;
    assert!(v3 != v1 && v3 != v2, "{v1} {v2} {v3}");
    let record = store.get(&["k".into()]).await.expect("get")[0].clone();
    assert_eq!(
        record.map(|r| (r.value, r.version)),
        Some((b"3".to_vec(), v3))
    );
    // Deleting absent keys blindly, and an empty batch, both succeed.
    store
        .commit(batch(vec![], vec![delete("none"), delete("nothing")]))
        .await
        .expect("blind deletes of absent keys");
    store
        .commit(CommitBatch::default())
        .await
        .expect("empty batch");
    // Versions no record can have are conflicts, not errors.
    for version in [0, u64::MAX] {
        let impossible = store
            .commit(batch(vec![expect("k", Some(Version(version)))], vec![]))
            .await;
        assert!(matches!(impossible, Err(StorageError::Conflict { .. })));
    }
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_and_many_keys_commit_whole() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    let big: Vec<u8> = (0..8 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let keys: Vec<String> = (0..5000).map(|i| format!("many/{i:05}")).collect();
    let mut mutations: Vec<Mutation> = keys.iter().map(|k| put(k, b"v")).collect();
    mutations.push(put("big", &big));
    let mut expectations: Vec<Expectation> = keys.iter().map(|k| expect(k, None)).collect();
    expectations.push(expect("guard", None));
    let committed = store
        .commit(CommitBatch {
            expectations,
            mutations,
            events: (0..1000).map(|_| event("many")).collect(),
            ..Default::default()
        })
        .await
        .expect("a large commit");
    let got = store.get(&["big".into()]).await.expect("get")[0].clone();
    assert_eq!(
        got.map(|r| (r.value == big, r.version)),
        Some((true, committed.version))
    );
    let scanned = store
        .scan(&KeyRange::prefix("many/"), usize::MAX)
        .await
        .expect("scan");
    assert_eq!(scanned.len(), keys.len());
    let events = store.read_events(0, 5000).await.expect("events");
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=1000).collect::<Vec<_>>()
    );
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_keys_are_refused_and_change_nothing() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = connect(&url, &prefix).await;
    for bad in ["caf\u{e9}", "with space", "", "tab\t", &"k".repeat(513)] {
        let refused = store
            .commit(CommitBatch {
                expectations: vec![expect("fine", None)],
                mutations: vec![put("fine", b"1"), put(bad, b"1")],
                events: vec![event("never")],
                ..Default::default()
            })
            .await;
        assert!(
            matches!(refused, Err(StorageError::Backend { .. })),
            "{bad:?}: {refused:?}"
        );
    }
    assert_eq!(store.get(&["fine".into()]).await.expect("get"), vec![None]);
    assert!(store.read_events(0, 10).await.expect("events").is_empty());
    drop_tables(&url, &prefix).await;
}

/// `url`'s user and port, to build other connection strings to the server.
fn user_and_port(url: &str) -> (String, u16) {
    let config: tokio_postgres::Config = url.parse().expect("RESERVO_PG_URL parses");
    let user = config.get_user().expect("RESERVO_PG_URL names a user");
    (user.to_owned(), config.get_ports()[0])
}

/// libpq takes a URL's password up to the `@`, so `?` and `=` may appear
/// in it unencoded (the test server trusts every local login, so any
/// password is accepted; what matters is that the string parses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_holding_a_question_mark_connects_as_libpq_allows() {
    let Some(url) = pg_url(RUN) else { return };
    let (user, port) = user_and_port(&url);
    let prefix = fresh_prefix();
    for password in ["pa?ss", "pa?s=s", "p%40ss%3F"] {
        let url = format!("postgres://{user}:{password}@127.0.0.1:{port}/reservo_test");
        let options = PostgresOptions::default().with_table_prefix(&prefix);
        if let Err(e) = PostgresStore::connect_with(&url, options).await {
            panic!("password {password:?}: {e}");
        }
    }
    drop_tables(&url, &prefix).await;
}

#[tokio::test]
async fn errors_about_a_connection_string_never_quote_a_password() {
    // No server needed: these strings are refused before connecting.
    for bad in [
        "postgresql+asyncpg://app:s3cret@127.0.0.1:1/db",
        "postgres://app@127.0.0.1:1/db?s3cret",
        "postgres://app@127.0.0.1:1/db?password=s3cret&sslmode=nope",
    ] {
        match PostgresStore::connect(bad).await {
            Err(StorageError::Backend { message, .. }) => {
                assert!(!message.contains("s3cret"), "{bad}: {message}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

/// Production roles often may read and write the tables but not create
/// any (a separate role migrates; PostgreSQL 15 lets nobody else create in
/// `public`): connecting to tables already migrated must need no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_may_only_read_and_write_the_tables_connects_once_they_exist() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let owner = connect(&url, &prefix).await;
    owner
        .commit(batch(vec![], vec![put("a", b"1")]))
        .await
        .expect("commit");
    let (user, _) = user_and_port(&url);
    let role = format!("{prefix}app");
    let admin = inspect(&url).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON {prefix}records, {prefix}events, \
             {prefix}pending_events, {prefix}counters, {prefix}migrations TO {role}; \
             GRANT USAGE, SELECT ON SEQUENCE {prefix}versions TO {role};"
        ))
        .await
        .expect("a role without CREATE");
    let app_url = url.replacen(&format!("://{user}@"), &format!("://{role}@"), 1);
    let app = PostgresStore::connect_with(
        &app_url,
        PostgresOptions::default().with_table_prefix(&prefix),
    )
    .await;
    let outcome = match &app {
        Ok(app) => app
            .commit(CommitBatch {
                expectations: vec![expect("b", None)],
                mutations: vec![put("b", b"2")],
                events: vec![event("made")],
                ..Default::default()
            })
            .await
            .map(drop)
            .and(app.read_events(0, 10).await.map(|e| e.len())),
        Err(e) => Err(StorageError::backend(e)),
    };
    drop(app);
    drop_tables(&url, &prefix).await;
    admin
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .expect("dropping the role");
    assert_eq!(outcome.expect("the app role connects and commits"), 1);
}

/// A role with no rights at all is refused at once, with the server's
/// reason: it may not create the tables (a failed creation is retried only
/// when it raced another creator), nor read tables another role migrated
/// (only a missing migrations table means "not migrated yet").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_rights_is_refused_with_the_servers_reason() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let (user, _) = user_and_port(&url);
    let role = format!("{prefix}nobody");
    let admin = inspect(&url).await;
    // PostgreSQL 15's default; said here for older servers.
    admin
        .batch_execute(&format!(
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC; CREATE ROLE {role} LOGIN"
        ))
        .await
        .expect("a role without rights");
    let role_url = url.replacen(&format!("://{user}@"), &format!("://{role}@"), 1);
    let connect_as_role = async || {
        let options = PostgresOptions::default().with_table_prefix(&prefix);
        match PostgresStore::connect_with(&role_url, options).await {
            Ok(_) => panic!("a role without rights connected"),
            Err(StorageError::Backend { message, .. }) => message,
            Err(other) => panic!("expected the server's refusal: {other:?}"),
        }
    };
    let creating = connect_as_role().await;
    let reading = {
        connect(&url, &prefix).await; // the tables, migrated by their owner
        connect_as_role().await
    };
    drop_tables(&url, &prefix).await;
    admin
        .batch_execute(&format!("DROP ROLE {role}"))
        .await
        .expect("dropping the role");
    assert!(
        creating.contains("permission denied for schema public (SQLSTATE 42501)"),
        "{creating}"
    );
    assert!(!creating.contains("kept"), "not retried: {creating}");
    assert!(
        reading.contains(&format!(
            "permission denied for table {prefix}migrations (SQLSTATE 42501)"
        )),
        "{reading}"
    );
}

/// The store's connection that runs `commit`, found waiting on a row lock
/// another client holds, and terminated as a failover or a network cut
/// would: the outcome is unknown to the store, so it must say so
/// (`Backend`), never claim a conflict or a success; and the pool must
/// replace the dead connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_during_a_commit_is_an_unknown_outcome_and_the_pool_recovers() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let store = std::sync::Arc::new(connect(&url, &prefix).await);
    let v1 = store
        .commit(batch(vec![], vec![put("k", b"1")]))
        .await
        .expect("create")
        .version;
    // One statement (no guard), and the statement-per-step protocol.
    for guard in [None, Some("zz/guard")] {
        let locker = lock_key(&url, &prefix, "k").await;
        let mut expectations = vec![expect("k", Some(v1))];
        expectations.extend(guard.map(|g| expect(g, None)));
        let committing = tokio::spawn({
            let store = std::sync::Arc::clone(&store);
            async move {
                store
                    .commit(CommitBatch {
                        expectations,
                        mutations: vec![put("k", b"2")],
                        events: vec![event("never")],
                        ..Default::default()
                    })
                    .await
            }
        });
        let killer = inspect(&url).await;
        terminate_lock_waiter(&killer, &prefix).await;
        let outcome = committing.await.expect("task");
        assert!(
            matches!(outcome, Err(StorageError::Backend { .. })),
            "{outcome:?}"
        );
        locker.batch_execute("ROLLBACK").await.expect("unlock");
        // Nothing was applied, and the next commit gets a live connection.
        for _ in 0..4 {
            store
                .commit(batch(vec![expect("k", Some(v1))], vec![]))
                .await
                .expect("k unchanged, and a commit after the loss works");
        }
    }
    assert!(store.read_events(0, 10).await.expect("events").is_empty());
    drop_tables(&url, &prefix).await;
}

/// On a database whose default isolation is `SERIALIZABLE` (as on
/// CockroachDB), aborted transactions are retried or reported as
/// conflicts, never as backend errors, and no increment is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serializable_database_loses_no_increment_and_reports_only_conflicts() {
    let Some(url) = pg_url(RUN) else { return };
    let prefix = fresh_prefix();
    let serializable = format!("{url}?options=-c%20default_transaction_isolation%3Dserializable");
    let store = std::sync::Arc::new(connect(&serializable, &prefix).await);
    store
        .commit(batch(vec![], vec![put("c", b"0")]))
        .await
        .expect("create");
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                let mut done = 0;
                while done < 15 {
                    let record = store.get(&["c".into()]).await.expect("get")[0].clone();
                    let record = record.expect("c exists");
                    let n: u64 = String::from_utf8(record.value).unwrap().parse().unwrap();
                    let mut expectations = vec![expect("c", Some(record.version))];
                    if w % 2 == 0 {
                        // The statement-per-step protocol too.
                        expectations.push(expect(&format!("guard/{w}"), None));
                    }
                    let increment = CommitBatch {
                        expectations,
                        mutations: vec![put("c", (n + 1).to_string().as_bytes())],
                        events: vec![event("incremented")],
                        ..Default::default()
                    };
                    match store.commit(increment).await {
                        Ok(_) => done += 1,
                        Err(StorageError::Conflict { .. }) => {}
                        Err(e) => panic!("writer {w}: {e}"),
                    }
                    store.read_events(0, 100).await.expect("numbering");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let record = store.get(&["c".into()]).await.expect("get")[0].clone();
    assert_eq!(record.map(|r| r.value), Some(b"60".to_vec()));
    let seqs: Vec<u64> = store
        .read_events(0, 1000)
        .await
        .expect("events")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=60).collect::<Vec<_>>());
    drop_tables(&url, &prefix).await;
}

#[tokio::test]
async fn a_prefix_whose_events_table_is_another_prefixs_pending_table_is_refused() {
    // `t_pending_` + `events` = `t_` + `pending_events`: the two stores
    // would share a table. No server needed: refused before connecting.
    let refused = PostgresStore::connect_with(
        "postgres://nobody@127.0.0.1:1/none",
        PostgresOptions::default().with_table_prefix("t_pending_"),
    )
    .await;
    assert!(
        matches!(&refused, Err(StorageError::Backend { message, .. })
            if message.contains("table prefix")),
        "{refused:?}"
    );
}
