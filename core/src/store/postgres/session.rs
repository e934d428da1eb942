//! The settings a [`PostgresStore`](super::PostgresStore) asks of each
//! connection's session, and what it probes the server for on connect:
//! generic plans, the query timeout as `statement_timeout`, and whether a
//! commit may skip its flush. Each is used only where the server knows
//! it, so Postgres-compatible engines without it connect unchanged.

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
pub(super) async fn with_session_settings(
    mut config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    options: &PostgresOptions,
) -> Result<tokio_postgres::Config, StorageError> {
    let probing = probe(&config, tls, options);
    let (generic_plans, statement_timeout) = match options.pool_timeout() {
        Some(timeout) => tokio::time::timeout(timeout, probing)
            .await
            .map_err(|_| StorageError::backend(connect_timed_out(timeout)))??,
        None => probing.await?,
    };
    let settings = session_options(config.get_options(), generic_plans, statement_timeout);
    if let Some(settings) = settings {
        config.options(&settings);
    }
    Ok(config)
}

/// Connects once and asks the server which of the settings it knows:
/// `(plan_cache_mode, statement_timeout to set)`. The caller bounds the
/// whole of it, handshake and questions, by the pool timeout: a server
/// that completes the handshake and then never answers is as unreachable
/// as one that never answers at all.
async fn probe(
    config: &tokio_postgres::Config,
    tls: MakeRustlsConnect,
    options: &PostgresOptions,
) -> Result<(bool, Option<std::time::Duration>), StorageError> {
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
    let statement_timeout = match options.query_timeout() {
        Some(timeout) if knows("statement_timeout").await => Some(timeout),
        _ => None,
    };
    drop(client);
    let _ = (&mut connection.0).await;
    Ok((generic_plans, statement_timeout))
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
/// and a `statement_timeout` in whole milliseconds, rounded up and at
/// least 1 (0 would turn it off), unless `given` sets one. `None` if there
/// is nothing to set beyond what is given.
fn session_options(
    given: Option<&str>,
    generic_plans: bool,
    statement_timeout: Option<std::time::Duration>,
) -> Option<String> {
    let given = given.map(str::trim).filter(|given| !given.is_empty());
    let mut settings: Vec<String> = given.iter().map(|given| given.to_string()).collect();
    if generic_plans {
        settings.push("-c plan_cache_mode=force_generic_plan".to_owned());
    }
    let given_timeout = given.is_some_and(|given| given.contains("statement_timeout"));
    if let Some(timeout) = statement_timeout.filter(|_| !given_timeout) {
        let millis = timeout.as_nanos().div_ceil(1_000_000).max(1);
        settings.push(format!("-c statement_timeout={millis}"));
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

    const GENERIC: &str = "-c plan_cache_mode=force_generic_plan";

    #[test]
    fn generic_plans_are_asked_for_after_the_urls_own_options() {
        assert_eq!(session_options(None, true, None).as_deref(), Some(GENERIC));
        assert_eq!(
            session_options(Some("  "), true, None).as_deref(),
            Some(GENERIC)
        );
        assert_eq!(
            session_options(Some("-c search_path=app"), true, None),
            Some(format!("-c search_path=app {GENERIC}"))
        );
    }

    #[test]
    fn the_query_timeout_is_the_statement_timeout_in_whole_milliseconds_rounded_up() {
        let timeout = |d: Duration| session_options(None, false, Some(d));
        let expect = |ms: &str| Some(format!("-c statement_timeout={ms}"));
        assert_eq!(timeout(Duration::from_secs(30)), expect("30000"));
        assert_eq!(timeout(Duration::from_micros(1_500)), expect("2"));
        // 0 would turn the server's timeout off.
        assert_eq!(timeout(Duration::ZERO), expect("1"));
        assert_eq!(timeout(Duration::from_nanos(1)), expect("1"));
        assert_eq!(
            session_options(None, true, Some(Duration::from_millis(250))),
            Some(format!("{GENERIC} -c statement_timeout=250"))
        );
    }

    #[test]
    fn a_statement_timeout_the_url_sets_is_kept_and_nothing_set_means_no_options() {
        let given = "-c statement_timeout=5s";
        assert_eq!(
            session_options(Some(given), false, Some(Duration::from_secs(30))),
            None
        );
        assert_eq!(
            session_options(Some(given), true, Some(Duration::from_secs(30))),
            Some(format!("{given} {GENERIC}"))
        );
        assert_eq!(session_options(None, false, None), None);
        assert_eq!(
            session_options(Some("-c search_path=app"), false, None),
            None
        );
    }
}
