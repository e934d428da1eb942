//! `PostgresStore` over TLS against a real server: each `sslmode` does
//! what it does in libpq, and a mode that verifies never connects to a
//! server it could not verify.
//!
//! `scripts/postgres.sh` starts the server with TLS on: a certificate for
//! `localhost` (not for 127.0.0.1) signed by a throwaway CA, whose
//! directory is `RESERVO_PG_TLS` (`ca.crt`, and `other-ca.crt` that signed
//! nothing). Run: `scripts/postgres.sh run -- cargo test -p reservo
//! --features postgres --test postgres_tls`. Without the server the tests
//! print a skip notice and pass, except under `CI=true`, where they fail.

use std::error::Error as _;

use reservo::ports::{CommitBatch, Mutation, Storage, StorageError};
use reservo::store::{PostgresOptions, PostgresStore};

/// The server's address and its TLS directory, or `None` (after a notice)
/// to skip.
fn server() -> Option<(tokio_postgres::Config, String)> {
    match (
        std::env::var("RESERVO_PG_URL"),
        std::env::var("RESERVO_PG_TLS"),
    ) {
        (Ok(url), Ok(tls)) if !url.is_empty() && !tls.is_empty() => {
            Some((url.parse().expect("RESERVO_PG_URL parses"), tls))
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "RESERVO_PG_URL or RESERVO_PG_TLS is not set and CI=true: TLS to PostgreSQL must \
             be tested in CI. Run: scripts/postgres.sh run -- cargo test -p reservo --features \
             postgres --test postgres_tls"
        ),
        _ => {
            eprintln!(
                "SKIPPED: RESERVO_PG_URL / RESERVO_PG_TLS are not set, so TLS to PostgreSQL \
                 was not tested. Run under scripts/postgres.sh run -- ... to test it."
            );
            None
        }
    }
}

/// A name no other test or run uses, for the tables and the connections.
fn fresh_name() -> String {
    format!("tls{}_", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

/// The role that logs in only with a client certificate
/// (`$RESERVO_PG_TLS/client.crt` and `client.key`).
const CERT_ROLE: &str = "reservo_cert";

/// A URL for the test server reached as `host` (always at 127.0.0.1) by
/// `user` (the server's own user if `None`), its connections named `name`,
/// with `ssl` parameters appended.
fn url(
    server: &tokio_postgres::Config,
    user: Option<&str>,
    host: &str,
    name: &str,
    ssl: &str,
) -> String {
    let port = server.get_ports().first().copied().expect("a port");
    let user = user.or(server.get_user()).expect("a user");
    let db = server.get_dbname().expect("a database");
    format!("postgres://{user}@{host}:{port}/{db}?hostaddr=127.0.0.1&application_name={name}{ssl}")
}

async fn connect(url: &str, name: &str) -> Result<PostgresStore, StorageError> {
    let options = PostgresOptions::default()
        .with_pool_size(2)
        .with_table_prefix(name);
    PostgresStore::connect_with(url, options).await
}

/// An error and its sources, one line.
fn chain(error: &StorageError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A plain connection, to look at the server the way an operator would.
async fn inspect(server: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, connection) = server
        .connect(tokio_postgres::NoTls)
        .await
        .expect("inspection connection");
    tokio::spawn(connection);
    client
}

/// Whether each open connection named `name` is encrypted.
async fn encrypted(server: &tokio_postgres::Config, name: &str) -> Vec<bool> {
    inspect(server)
        .await
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = $1",
            &[&name],
        )
        .await
        .expect("pg_stat_ssl")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn tables_named(server: &tokio_postgres::Config, name: &str) -> i64 {
    inspect(server)
        .await
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE $1 || '%'",
            &[&name],
        )
        .await
        .expect("pg_tables")
        .get(0)
}

async fn drop_tables(server: &tokio_postgres::Config, p: &str) {
    inspect(server)
        .await
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {p}records, {p}events, {p}pending_events, {p}counters, {p}migrations;
             DROP SEQUENCE IF EXISTS {p}versions;"
        ))
        .await
        .expect("dropping test tables");
}

/// Connects with `ssl`, writes and reads back a record, and returns
/// whether each of the store's connections was encrypted.
async fn round_trip(server: &tokio_postgres::Config, host: &str, ssl: &str) -> Vec<bool> {
    round_trip_as(server, None, host, ssl).await
}

/// [`round_trip`] as `user`.
async fn round_trip_as(
    server: &tokio_postgres::Config,
    user: Option<&str>,
    host: &str,
    ssl: &str,
) -> Vec<bool> {
    let name = fresh_name();
    let store = connect(&url(server, user, host, &name, ssl), &name)
        .await
        .unwrap_or_else(|e| panic!("connecting with {ssl:?}: {}", chain(&e)));
    let put = Mutation::Put {
        key: "bk/1".into(),
        value: b"{}".to_vec(),
    };
    store
        .commit(CommitBatch {
            mutations: vec![put],
            ..Default::default()
        })
        .await
        .expect("a commit");
    let found = store.get(&["bk/1".into()]).await.expect("a read");
    assert!(found[0].is_some(), "the record is back");
    let encrypted = encrypted(server, &name).await;
    drop(store);
    drop_tables(server, &name).await;
    assert!(
        !encrypted.is_empty(),
        "the store keeps its connections open"
    );
    encrypted
}

/// Connecting with `ssl` fails, creates nothing, and names why.
async fn refused(server: &tokio_postgres::Config, host: &str, ssl: &str) -> String {
    refused_as(server, None, host, ssl).await
}

/// [`refused`] as `user`.
async fn refused_as(
    server: &tokio_postgres::Config,
    user: Option<&str>,
    host: &str,
    ssl: &str,
) -> String {
    let name = fresh_name();
    let error = connect(&url(server, user, host, &name, ssl), &name)
        .await
        .err()
        .unwrap_or_else(|| panic!("{ssl:?} to {host} must be refused"));
    assert!(matches!(error, StorageError::Backend { .. }), "{error:?}");
    assert_eq!(tables_named(server, &name).await, 0, "nothing was created");
    chain(&error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_connects_encrypted_to_the_server_its_ca_signed_for_that_name() {
    let Some((server, tls)) = server() else {
        return;
    };
    let ssl = format!("&sslmode=verify-full&sslrootcert={tls}/ca.crt");
    let encrypted = round_trip(&server, "localhost", &ssl).await;
    assert!(encrypted.iter().all(|&e| e), "{encrypted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_refuses_a_certificate_for_another_name_and_verify_ca_accepts_it() {
    let Some((server, tls)) = server() else {
        return;
    };
    // The certificate names localhost; the URL names 127.0.0.1.
    let why = refused(
        &server,
        "127.0.0.1",
        &format!("&sslmode=verify-full&sslrootcert={tls}/ca.crt"),
    )
    .await;
    assert!(why.contains("not valid for name"), "{why}");
    let ssl = format!("&sslmode=verify-ca&sslrootcert={tls}/ca.crt");
    let encrypted = round_trip(&server, "127.0.0.1", &ssl).await;
    assert!(encrypted.iter().all(|&e| e), "{encrypted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_signed_by_another_ca_is_refused() {
    let Some((server, tls)) = server() else {
        return;
    };
    // `require` with a root file verifies as `verify-ca` does (libpq).
    for mode in ["verify-full", "verify-ca", "require"] {
        let ssl = format!("&sslmode={mode}&sslrootcert={tls}/other-ca.crt");
        let why = refused(&server, "localhost", &ssl).await;
        assert!(why.contains("UnknownIssuer"), "{mode}: {why}");
    }
    // The operating system's roots (if it has any) do not include the
    // throwaway CA.
    let why = refused(&server, "localhost", "&sslrootcert=system").await;
    assert!(
        why.contains("UnknownIssuer") || why.contains("no trusted root certificate"),
        "system: {why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_roots_prefer_and_require_encrypt_and_disable_does_not() {
    let Some((server, _)) = server() else {
        return;
    };
    for ssl in ["", "&sslmode=prefer", "&sslmode=require"] {
        let encrypted = round_trip(&server, "127.0.0.1", ssl).await;
        assert!(encrypted.iter().all(|&e| e), "{ssl:?}: {encrypted:?}");
    }
    let encrypted = round_trip(&server, "127.0.0.1", "&sslmode=disable").await;
    assert!(encrypted.iter().all(|&e| !e), "{encrypted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_logs_in_by_certificate_connects_with_sslcert_and_sslkey() {
    let Some((server, tls)) = server() else {
        return;
    };
    let verified = format!("&sslmode=verify-full&sslrootcert={tls}/ca.crt");
    let with_cert = format!("{verified}&sslcert={tls}/client.crt&sslkey={tls}/client.key");
    let encrypted = round_trip_as(&server, Some(CERT_ROLE), "localhost", &with_cert).await;
    assert!(encrypted.iter().all(|&e| e), "{encrypted:?}");
    let why = refused_as(&server, Some(CERT_ROLE), "localhost", &verified).await;
    assert!(why.contains("certificate"), "{why}");
    // The server's certificate is not the client's: the server refuses it.
    let other = format!("{verified}&sslcert={tls}/server.crt&sslkey={tls}/server.key");
    refused_as(&server, Some(CERT_ROLE), "localhost", &other).await;
    let no_key = format!("{verified}&sslcert={tls}/client.crt&sslkey={tls}/client.crt");
    let why = refused_as(&server, Some(CERT_ROLE), "localhost", &no_key).await;
    assert!(why.contains("sslkey"), "{why}");
}

#[tokio::test]
async fn a_mode_that_verifies_without_roots_is_refused_before_connecting() {
    // Port 9 (discard) on loopback: nothing is reached, the string is
    // refused first.
    for ssl in ["sslmode=verify-full", "sslmode=verify-ca", "sslmode=allow"] {
        let error = connect(&format!("postgres://app@127.0.0.1:9/x?{ssl}"), "t_")
            .await
            .err()
            .unwrap_or_else(|| panic!("{ssl} must be refused"));
        let why = chain(&error);
        assert!(why.contains("sslmode"), "{ssl}: {why}");
    }
}
