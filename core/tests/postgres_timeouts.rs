//! How long a `PostgresStore` operation waits: for a connection
//! (`PostgresOptions::with_pool_timeout`: a server that never answers or
//! answers only the handshake, or a pool whose every connection is busy)
//! and for the server's answers on it
//! (`PostgresOptions::with_query_timeout`: a statement stuck behind a
//! lock, or a server that stopped answering mid-operation). Each fails the
//! operation with a `StorageError::Backend` that says so, instead of
//! hanging its caller.
//!
//! The tests that need a server use the one of `scripts/postgres.sh run --
//! cargo test -p reservo --all-features --test postgres_timeouts` and skip
//! without it (except under `CI=true`).

#[path = "support/pg.rs"]
mod pg;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use pg::{connect, drop_tables, fresh_prefix, inspect, lock_key, pg_url, terminate_lock_waiter};
use reservo::ports::{CommitBatch, Expectation, Key, Mutation, Storage, StorageError};
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
    let (port, closed) = silent_server(|_| {});
    connect_fails_within_the_pool_timeout(port).await;
    closes_its_connection(closed).await;
}

#[tokio::test]
async fn a_server_that_stalls_after_the_handshake_fails_the_connect_within_the_pool_timeout() {
    // Completes the startup handshake (trust authentication) and then
    // never answers a query: a server wedged after accepting a session.
    let (port, closed) = silent_server(|stream| {
        let mut length = [0u8; 4];
        if stream.read_exact(&mut length).is_err() {
            return;
        }
        let mut startup = vec![0u8; (u32::from_be_bytes(length) as usize).saturating_sub(4)];
        if stream.read_exact(&mut startup).is_err() {
            return;
        }
        let authentication_ok = [b'R', 0, 0, 0, 8, 0, 0, 0, 0];
        let ready_for_query = [b'Z', 0, 0, 0, 5, b'I'];
        let _ = stream.write_all(&authentication_ok);
        let _ = stream.write_all(&ready_for_query);
    });
    connect_fails_within_the_pool_timeout(port).await;
    // The connection the store was probing on is closed, not left to wait
    // for an answer that never comes.
    closes_its_connection(closed).await;
}

/// A local server that runs `greet` on each connection it accepts and then
/// holds it open without another word, reading what comes; returns its
/// port, and a receiver told of each connection the client closed.
fn silent_server(greet: fn(&mut TcpStream)) -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let port = listener.local_addr().expect("its address").port();
    let (closed, closes) = mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let closed = closed.clone();
            std::thread::spawn(move || {
                greet(&mut stream);
                let mut buf = [0u8; 1024];
                while let Ok(1..) = stream.read(&mut buf) {}
                let _ = closed.send(());
            });
        }
    });
    (port, closes)
}

/// Waits for the client to close its connection to a [`silent_server`].
async fn closes_its_connection(closed: mpsc::Receiver<()>) {
    tokio::task::spawn_blocking(move || closed.recv_timeout(HUNG))
        .await
        .expect("task")
        .expect("the store left its connection open");
}

/// Connects to the local `port` with a pool timeout of 300 ms and checks
/// that the connect fails with a backend error naming it, in time.
async fn connect_fails_within_the_pool_timeout(port: u16) {
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
fn the_default_timeouts_are_thirty_seconds_and_none_waits_forever() {
    let options = PostgresOptions::default();
    assert_eq!(options.pool_timeout(), Some(Duration::from_secs(30)));
    assert_eq!(options.query_timeout(), Some(Duration::from_secs(30)));
    let unbounded = options.with_pool_timeout(None).with_query_timeout(None);
    assert_eq!(unbounded.pool_timeout(), None);
    assert_eq!(unbounded.query_timeout(), None);
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

    let message = read_of_k_fails_in_time(&store).await;
    assert!(message.contains("stayed in use"), "{message}");
    // The lock goes; the waiting commit and later reads carry on.
    tx.rollback().await.expect("rollback");
    let committed = tokio::time::timeout(HUNG, blocked).await.expect("commit");
    assert!(committed.expect("commit task").is_ok());
    let keys: [Key; 1] = ["k".into()];
    assert!(store.get(&keys).await.expect("read")[0].is_some());
    drop_tables(&url, &prefix).await;
}

/// A store on the tables of `prefix` through `url`, with one connection and
/// the given query timeout.
/// Reads key `k` and expects it to fail with a backend error within 5 s
/// (the tests' timeouts are about a second): that error's message.
async fn read_of_k_fails_in_time(store: &PostgresStore) -> String {
    let started = Instant::now();
    let keys: [Key; 1] = ["k".into()];
    let read = tokio::time::timeout(HUNG, store.get(&keys))
        .await
        .expect("the read hung past its timeout");
    let Err(StorageError::Backend { message, .. }) = read else {
        panic!("expected a backend error, got {read:?}");
    };
    assert!(started.elapsed() < Duration::from_secs(5), "{message}");
    message
}

async fn store_with_query_timeout(url: &str, prefix: &str, timeout: Duration) -> PostgresStore {
    let options = PostgresOptions::default()
        .with_pool_size(1)
        .with_query_timeout(Some(timeout))
        .with_table_prefix(prefix);
    PostgresStore::connect_with(url, options)
        .await
        .unwrap_or_else(|e| panic!("connecting with prefix {prefix}: {e}"))
}

fn put_value(key: &str, value: &[u8]) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: value.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_stuck_behind_a_lock_is_cancelled_by_the_server_after_the_query_timeout() {
    let Some(url) = pg_url("cargo test -p reservo --all-features --test postgres_timeouts") else {
        return;
    };
    let prefix = fresh_prefix();
    let store = store_with_query_timeout(&url, &prefix, Duration::from_millis(300)).await;
    let created = CommitBatch {
        mutations: vec![put_value("k", b"before")],
        ..Default::default()
    };
    let version = store.commit(created).await.expect("create the key").version;
    // A stuck client (an open transaction in psql, a hung app instance)
    // holds the key's row.
    let mut other = inspect(&url).await;
    let tx = other.transaction().await.expect("begin");
    let lock = format!("SELECT 1 FROM {prefix}records WHERE key = 'k'::bytea FOR UPDATE");
    tx.execute(&lock, &[]).await.expect("row lock");

    let started = Instant::now();
    let update = CommitBatch {
        expectations: vec![Expectation {
            key: "k".into(),
            version: Some(version),
        }],
        mutations: vec![put_value("k", b"after"), put_value("other", b"x")],
        ..Default::default()
    };
    let stuck = tokio::time::timeout(HUNG, store.commit(update))
        .await
        .expect("the commit hung past its query timeout");

    let Err(StorageError::Backend { message, .. }) = stuck else {
        panic!("expected a backend error, got {stuck:?}");
    };
    assert!(message.contains("statement timeout"), "{message}");
    assert!(message.contains("with_query_timeout"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The server rolled the commit back: once the lock goes, the key is as
    // it was, the other key was never written, and the store goes on.
    tx.rollback().await.expect("rollback");
    let keys: [Key; 2] = ["k".into(), "other".into()];
    let read = store.get(&keys).await.expect("read");
    let kept = read[0].as_ref().expect("the key");
    assert_eq!(
        (kept.value.as_slice(), kept.version),
        (&b"before"[..], version)
    );
    assert!(read[1].is_none(), "part of a cancelled commit was applied");
    let retried = CommitBatch {
        expectations: vec![Expectation {
            key: "k".into(),
            version: Some(version),
        }],
        mutations: vec![put_value("k", b"after")],
        ..Default::default()
    };
    store
        .commit(retried)
        .await
        .expect("the same commit, unblocked");
    drop_tables(&url, &prefix).await;
}

/// Migrating is not bounded by the query timeout: a connect that finds
/// another process migrating (here: holding the migration lock row, as a
/// long migration does) waits for it, past the timeout, then goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_waits_past_the_query_timeout_for_another_process_migrating() {
    let Some(url) = pg_url("cargo test -p reservo --all-features --test postgres_timeouts") else {
        return;
    };
    let prefix = fresh_prefix();
    let mut other = inspect(&url).await;
    other
        .batch_execute(&format!(
            "CREATE TABLE {prefix}migrations (version INT8 PRIMARY KEY, name TEXT NOT NULL, \
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()); \
             INSERT INTO {prefix}migrations (version, name) VALUES (0, 'migration lock')"
        ))
        .await
        .expect("a migrations table with its lock row");
    let tx = other.transaction().await.expect("begin");
    let lock = format!("SELECT 1 FROM {prefix}migrations WHERE version = 0 FOR UPDATE");
    tx.execute(&lock, &[]).await.expect("the migration lock");

    let (waiting_url, waiting_prefix) = (url.clone(), prefix.clone());
    let connecting = tokio::spawn(async move {
        let timeout = Duration::from_millis(300);
        store_with_query_timeout(&waiting_url, &waiting_prefix, timeout).await
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !connecting.is_finished(),
        "the connect ended while another process held the migration lock"
    );
    tx.commit()
        .await
        .expect("the other process's migration ends");
    let store = tokio::time::timeout(HUNG, connecting)
        .await
        .expect("the connect hung after the lock was released")
        .expect("the connect succeeds");
    let put = CommitBatch {
        mutations: vec![put_value("k", b"v")],
        ..Default::default()
    };
    store.commit(put).await.expect("the migrated store works");
    drop_tables(&url, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_mid_operation_fails_it_after_the_query_timeout() {
    let Some(url) = pg_url("cargo test -p reservo --all-features --test postgres_timeouts") else {
        return;
    };
    let prefix = fresh_prefix();
    connect(&url, &prefix).await; // creates the tables
    let proxy = Proxy::to(&url);
    let store = store_with_query_timeout(&proxy.url, &prefix, Duration::from_millis(300)).await;
    let created = CommitBatch {
        mutations: vec![put_value("k", b"v")],
        ..Default::default()
    };
    store.commit(created).await.expect("through the proxy");

    // The network stops carrying the connection's bytes without closing
    // it: no statement_timeout can answer now, only the client's wait.
    proxy.frozen.store(true, Ordering::SeqCst);
    let message = read_of_k_fails_in_time(&store).await;
    assert!(message.contains("did not answer"), "{message}");
    assert!(message.contains("with_query_timeout"), "{message}");
    // The silent connection was closed, not returned to the pool: once the
    // network is back, the next operation gets a new one.
    proxy.frozen.store(false, Ordering::SeqCst);
    let keys: [Key; 1] = ["k".into()];
    let read = tokio::time::timeout(HUNG, store.get(&keys))
        .await
        .expect("the store stayed stuck on the closed connection")
        .expect("a read on a new connection");
    assert_eq!(read[0].as_ref().expect("the key").value, b"v");
    drop_tables(&url, &prefix).await;
}

/// A connection the server ended (here: terminated while its commit
/// waited on a row lock) is kept out of the pool even when the client has
/// not seen it close: the proxy hides the server's close, so only the
/// error's SQLSTATE (`57P01`) says the connection is gone. Returned to the
/// pool, it would take the next operation's statements and never answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_server_ended_is_not_reused_though_it_looks_open() {
    let Some(url) = pg_url("cargo test -p reservo --all-features --test postgres_timeouts") else {
        return;
    };
    let prefix = fresh_prefix();
    connect(&url, &prefix).await; // creates the tables
    let proxy = Proxy::to(&url);
    let store =
        Arc::new(store_with_query_timeout(&proxy.url, &prefix, Duration::from_secs(2)).await);
    store
        .commit(CommitBatch {
            mutations: vec![put_value("k", b"v")],
            ..Default::default()
        })
        .await
        .expect("through the proxy");
    proxy.hides_close.store(true, Ordering::SeqCst);
    let locker = lock_key(&url, &prefix, "k").await;
    let committing = tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            store
                .commit(CommitBatch {
                    mutations: vec![put_value("k", b"w")],
                    ..Default::default()
                })
                .await
        }
    });
    terminate_lock_waiter(&locker, &prefix).await;
    let outcome = committing.await.expect("task");
    let Err(StorageError::Backend { message, .. }) = outcome else {
        panic!("expected the connection's loss: {outcome:?}");
    };
    assert!(message.contains("SQLSTATE 57P01"), "{message}");
    locker.batch_execute("ROLLBACK").await.expect("unlock");
    // The pool's one connection was the lost one: the next read gets a new
    // one, not the silent one (which would leave it unanswered until the
    // query timeout).
    let keys: [Key; 1] = ["k".into()];
    let read = tokio::time::timeout(HUNG, store.get(&keys))
        .await
        .expect("the store hung")
        .expect("a read on a new connection, not on the lost one");
    assert_eq!(read[0].as_ref().expect("the key").value, b"v");
    drop_tables(&url, &prefix).await;
}

/// A TCP proxy in front of the server of `url` that can stop carrying
/// bytes (`frozen`) while keeping every connection open: a network that
/// silently drops a connection. With `hides_close` set, a connection the
/// server closes stays open towards the client: the server's goodbye is
/// lost, as it may be in a failover.
struct Proxy {
    /// `url` through the proxy, without TLS.
    url: String,
    frozen: Arc<AtomicBool>,
    hides_close: Arc<AtomicBool>,
}

impl Proxy {
    fn to(url: &str) -> Proxy {
        let config: tokio_postgres::Config = url.parse().expect("the server's URL");
        let Some(tokio_postgres::config::Host::Tcp(host)) = config.get_hosts().first() else {
            panic!("the test server must be on TCP: {url}");
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let target = format!("{host}:{port}");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
        let proxied = format!(
            "127.0.0.1:{}",
            listener.local_addr().expect("address").port()
        );
        let frozen = Arc::new(AtomicBool::new(false));
        let hides_close = Arc::new(AtomicBool::new(false));
        let (flag, hiding) = (frozen.clone(), hides_close.clone());
        let server = target.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let server = TcpStream::connect(&server).expect("the server behind the proxy");
                let never = Arc::new(AtomicBool::new(false));
                pipe(&client, &server, &flag, &never);
                pipe(&server, &client, &flag, &hiding);
            }
        });
        let url = url.replacen(&target, &proxied, 1);
        assert!(url.contains(&proxied), "the URL does not name {target}");
        let separator = if url.contains('?') { '&' } else { '?' };
        Proxy {
            url: format!("{url}{separator}sslmode=disable"),
            frozen,
            hides_close,
        }
    }
}

/// Copies bytes from `from` to `to` on a thread of its own, holding them
/// while `frozen` is set; at the end of `from`, ends `to` unless
/// `hides_close` is set.
fn pipe(from: &TcpStream, to: &TcpStream, frozen: &Arc<AtomicBool>, hides_close: &Arc<AtomicBool>) {
    let (mut from, mut to) = (
        from.try_clone().expect("socket"),
        to.try_clone().expect("socket"),
    );
    let (frozen, hides_close) = (frozen.clone(), hides_close.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            while frozen.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        if !hides_close.load(Ordering::SeqCst) {
            let _ = to.shutdown(Shutdown::Write);
        }
    });
}
