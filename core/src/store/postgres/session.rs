//! The settings a [`PostgresStore`](super::PostgresStore) asks of each
//! connection's session, and what it probes the server for on connect:
//! generic plans, the query timeout as `statement_timeout` and
//! `idle_in_transaction_session_timeout`, and whether a commit may skip its
//! flush. Each is used only where the server knows it, so
//! Postgres-compatible engines without it connect unchanged.

use tokio_postgres_rustls::MakeRustlsConnect;

use super::PostgresOptions;
use super::retry::{Connections, connect_timed_out, db_backend, on_connection, retrying};
use crate::ports::StorageError;

/// `config` with the store's session settings, each where the server knows
/// it (probed on one connection, which also checks that the server
/// answers within the pool timeout: handshake and probe together):
///
/// * `plan_cache_mode=force_generic_plan` (PostgreSQL 12 and later). Left
///   to itself, PostgreSQL plans every execution of a statement that takes
///   an array afresh: a plan made for the array at hand looks cheaper than
///   a generic one. The store's statements take arrays of keys and their
///   best plan never depends on them (primary-key look-ups), and planning
///   them was a fifth of the server's CPU with 16 callers (ADR 009).
///   Engines without the setting keep their own plan caching.
/// * `statement_timeout`, from the options' query timeout, unless the URL
///   sets one itself.
/// * `idle_in_transaction_session_timeout`, the same, unless the URL sets
///   one itself. The store never keeps a transaction waiting on it for
///   longer than a round trip: a commit's statements go out together,
///   `BEGIN` to `COMMIT`, and its few step-by-step transactions (numbering
///   events under the counter row's lock, migrations) send each statement
///   as soon as the last one answers. So a transaction idle for the whole
///   timeout has lost its client (the network cut the connection without
///   closing it), and the server ends it, releasing its row locks, instead
///   of holding them until its TCP keepalives notice.
pub(super) async fn with_session_settings(
    mut config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    options: &PostgresOptions,
) -> Result<tokio_postgres::Config, StorageError> {
    let probing = probe(&config, tls, options);
    let (generic_plans, timeouts) = match options.pool_timeout() {
        Some(timeout) => tokio::time::timeout(timeout, probing)
            .await
            .map_err(|_| StorageError::backend(connect_timed_out(timeout)))??,
        None => probing.await?,
    };
    let settings = session_options(config.get_options(), generic_plans, &timeouts);
    if let Some(settings) = settings {
        config.options(&settings);
    }
    Ok(config)
}

/// Connects once and asks the server which of the settings it knows:
/// `(plan_cache_mode, timeouts to set)`. The caller bounds the
/// whole of it, handshake and questions, by the pool timeout: a server
/// that completes the handshake and then never answers is as unreachable
/// as one that never answers at all.
async fn probe(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    options: &PostgresOptions,
) -> Result<(bool, Timeouts), StorageError> {
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| db_backend("cannot connect to PostgreSQL", e))?;
    // Aborted if the caller gives up on the probe, so a silent server's
    // connection is closed rather than left to the kernel's TCP timeouts.
    let mut connection = AbortOnDrop(tokio::spawn(connection));
    let knows = async |setting: &str| {
        client
            .simple_query(&format!("SHOW {setting}"))
            .await
            .is_ok()
    };
    let generic_plans = knows("plan_cache_mode").await;
    let mut timeouts = Timeouts::default();
    if let Some(timeout) = options.query_timeout() {
        for (setting, slot) in [
            (STATEMENT_TIMEOUT, &mut timeouts.statement),
            (
                IDLE_IN_TRANSACTION_TIMEOUT,
                &mut timeouts.idle_in_transaction,
            ),
        ] {
            if knows(setting).await {
                *slot = Some(timeout);
            }
        }
    }
    drop(client);
    let _ = (&mut connection.0).await;
    Ok((generic_plans, timeouts))
}

const STATEMENT_TIMEOUT: &str = "statement_timeout";
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "idle_in_transaction_session_timeout";

/// The timeouts to set on each connection, where the server knows them.
#[derive(Debug, Default)]
struct Timeouts {
    statement: Option<std::time::Duration>,
    idle_in_transaction: Option<std::time::Duration>,
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The connection's startup `options`: those `given` in the URL, then the
/// store's (the last `-c` for a setting wins): generic plans if asked for,
/// and each of the `timeouts` in whole milliseconds, rounded up and at
/// least 1 (0 would turn it off), unless `given` sets it. `None` if there
/// is nothing to set beyond what is given.
fn session_options(
    given: Option<&str>,
    generic_plans: bool,
    timeouts: &Timeouts,
) -> Option<String> {
    let given = given.map(str::trim).filter(|given| !given.is_empty());
    let mut settings: Vec<String> = given.iter().map(|given| given.to_string()).collect();
    if generic_plans {
        settings.push("-c plan_cache_mode=force_generic_plan".to_owned());
    }
    for (setting, timeout) in [
        (STATEMENT_TIMEOUT, timeouts.statement),
        (IDLE_IN_TRANSACTION_TIMEOUT, timeouts.idle_in_transaction),
    ] {
        let given_here = given.is_some_and(|given| given.contains(setting));
        if let Some(timeout) = timeout.filter(|_| !given_here) {
            let millis = timeout.as_nanos().div_ceil(1_000_000).max(1);
            settings.push(format!("-c {setting}={millis}"));
        }
    }
    (settings.len() > usize::from(given.is_some())).then(|| settings.join(" "))
}

/// Whether the server knows `synchronous_commit` (PostgreSQL does; some
/// Postgres-compatible engines do not, and then every commit waits for
/// its flush, which is always correct).
pub(super) async fn has_synchronous_commit(
    connections: &Connections,
) -> Result<bool, StorageError> {
    retrying(
        || {
            on_connection(connections, async |client| {
                Ok(client.simple_query("SHOW synchronous_commit").await.is_ok())
            })
        },
        |e| db_backend("asking for synchronous_commit kept conflicting", e),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    use tokio_postgres::error::SqlState;

    const GENERIC: &str = "-c plan_cache_mode=force_generic_plan";

    fn both(timeout: Duration) -> Timeouts {
        Timeouts {
            statement: Some(timeout),
            idle_in_transaction: Some(timeout),
        }
    }

    #[test]
    fn generic_plans_are_asked_for_after_the_urls_own_options() {
        let none = Timeouts::default();
        assert_eq!(session_options(None, true, &none).as_deref(), Some(GENERIC));
        assert_eq!(
            session_options(Some("  "), true, &none).as_deref(),
            Some(GENERIC)
        );
        assert_eq!(
            session_options(Some("-c search_path=app"), true, &none),
            Some(format!("-c search_path=app {GENERIC}"))
        );
    }

    #[test]
    fn the_query_timeout_is_set_in_whole_milliseconds_rounded_up() {
        let timeout = |d: Duration| session_options(None, false, &both(d));
        let expect = |ms: &str| {
            Some(format!(
                "-c statement_timeout={ms} -c idle_in_transaction_session_timeout={ms}"
            ))
        };
        assert_eq!(timeout(Duration::from_secs(30)), expect("30000"));
        assert_eq!(timeout(Duration::from_micros(1_500)), expect("2"));
        // 0 would turn the server's timeouts off.
        assert_eq!(timeout(Duration::ZERO), expect("1"));
        assert_eq!(timeout(Duration::from_nanos(1)), expect("1"));
        let statement_only = Timeouts {
            statement: Some(Duration::from_millis(250)),
            idle_in_transaction: None,
        };
        assert_eq!(
            session_options(None, true, &statement_only),
            Some(format!("{GENERIC} -c statement_timeout=250"))
        );
        let idle_only = Timeouts {
            statement: None,
            idle_in_transaction: Some(Duration::from_millis(250)),
        };
        assert_eq!(
            session_options(None, false, &idle_only).as_deref(),
            Some("-c idle_in_transaction_session_timeout=250")
        );
    }

    #[test]
    fn timeouts_the_url_sets_are_kept_and_nothing_set_means_no_options() {
        let thirty = both(Duration::from_secs(30));
        let given = "-c statement_timeout=5s";
        assert_eq!(
            session_options(Some(given), false, &thirty),
            Some(format!(
                "{given} -c idle_in_transaction_session_timeout=30000"
            ))
        );
        let given = "-c idle_in_transaction_session_timeout=1min";
        assert_eq!(
            session_options(Some(given), true, &thirty),
            Some(format!("{given} {GENERIC} -c statement_timeout=30000"))
        );
        let given = "-c statement_timeout=5s -c idle_in_transaction_session_timeout=1min";
        assert_eq!(session_options(Some(given), false, &thirty), None);
        assert_eq!(session_options(None, false, &Timeouts::default()), None);
        assert_eq!(
            session_options(Some("-c search_path=app"), false, &Timeouts::default()),
            None
        );
    }

    /// A transaction whose client vanished mid-send (here: one that just
    /// stops sending) is ended by the server after the query timeout, and
    /// its row locks with it.
    #[tokio::test]
    async fn the_server_ends_a_transaction_left_waiting_on_its_client() {
        let Some(url) =
            super::super::test_server_url("the idle-in-transaction timeout was not checked")
        else {
            return;
        };
        let (url, tls) = super::super::tls::split(&url).unwrap();
        let tls = super::super::tls::connector(&tls).unwrap();
        let config: tokio_postgres::Config = url.parse().unwrap();
        let options =
            PostgresOptions::default().with_query_timeout(Some(Duration::from_millis(300)));
        let config = with_session_settings(config, tls.clone(), &options)
            .await
            .unwrap();
        let (client, connection) = config.connect(tls).await.unwrap();
        let connection = tokio::spawn(connection);
        client.batch_execute("BEGIN").await.unwrap();
        client.simple_query("SELECT 1").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let ended = client.simple_query("SELECT 1").await.unwrap_err();
        // The server says why as it closes the connection: to the query, or
        // to the connection's task if the query found it closed.
        let closed = connection.await.unwrap().unwrap_err();
        let why = [ended.code(), closed.code()];
        assert!(
            why.contains(&Some(&SqlState::IDLE_IN_TRANSACTION_SESSION_TIMEOUT)),
            "{ended:?} / {closed:?}"
        );
    }
}
