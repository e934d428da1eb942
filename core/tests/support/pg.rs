//! The PostgreSQL server of the store tests: found from `RESERVO_PG_URL`
//! (`scripts/postgres.sh run -- ...` provides a throwaway one), skipped
//! with a notice without it except under `CI=true`, where a missing server
//! fails the test. Every test works in tables of its own random prefix.

#![allow(dead_code)]

use reservo::store::{PostgresOptions, PostgresStore};

/// The server to test against, or `None` (after a notice) to skip; `run`
/// is the command that would provide one, for the message.
pub fn pg_url(run: &str) -> Option<String> {
    match std::env::var("RESERVO_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "RESERVO_PG_URL is not set and CI=true: the PostgreSQL store must be tested in CI. \
             Run: scripts/postgres.sh run -- {run}"
        ),
        _ => {
            eprintln!(
                "SKIPPED: RESERVO_PG_URL is not set, so the PostgreSQL store was not tested. \
                 Run under scripts/postgres.sh run -- ... to test it."
            );
            None
        }
    }
}

/// A table prefix no other test or run uses.
pub fn fresh_prefix() -> String {
    format!("t{}_", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

/// A store on the tables of `prefix`, with a pool of 4.
pub async fn connect(url: &str, prefix: &str) -> PostgresStore {
    connect_with_pool(url, prefix, 4).await
}

/// A store on the tables of `prefix`, with a pool of `pool_size`.
pub async fn connect_with_pool(url: &str, prefix: &str, pool_size: usize) -> PostgresStore {
    let options = PostgresOptions::default()
        .with_pool_size(pool_size)
        .with_table_prefix(prefix);
    PostgresStore::connect_with(url, options)
        .await
        .unwrap_or_else(|e| panic!("connecting with prefix {prefix}: {e}"))
}

/// A plain connection, to look at the tables or act beside the store as
/// another client would.
pub async fn inspect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("inspection connection");
    tokio::spawn(connection);
    client
}

/// Drops every table of `prefix`: test hygiene for shared databases.
pub async fn drop_tables(url: &str, prefix: &str) {
    inspect(url)
        .await
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {prefix}records, {prefix}events, {prefix}pending_events, \
             {prefix}counters, {prefix}migrations; DROP SEQUENCE IF EXISTS {prefix}versions;"
        ))
        .await
        .expect("dropping test tables");
}

/// Terminates, through `client`, the backend waiting on a lock in a
/// statement on `prefix`'s records (as a failover or a network cut would
/// end it), polling until there is one.
pub async fn terminate_lock_waiter(client: &tokio_postgres::Client, prefix: &str) {
    let waiting = format!("%{prefix}records%");
    loop {
        let rows = client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND query LIKE $1",
                &[&waiting],
            )
            .await
            .expect("terminate");
        if !rows.is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A client of its own holding a row lock (`FOR UPDATE`) on `key` of
/// `prefix`'s records in an open transaction, until it sends `ROLLBACK` or
/// `COMMIT` (or is dropped).
pub async fn lock_key(url: &str, prefix: &str, key: &str) -> tokio_postgres::Client {
    let client = inspect(url).await;
    client
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM {prefix}records WHERE key = '{key}'::bytea FOR UPDATE"
        ))
        .await
        .unwrap_or_else(|e| panic!("locking {key}: {e}"));
    client
}
