//! Errors and retries of the PostgreSQL store: which database failures
//! mean "contention, nothing applied, try again" and which are reported,
//! and the loop that retries the former.
//!
//! This module owns that classification. It must never retry an error that
//! could mean a transaction was (or might have been) applied, and never
//! turn contention into a [`StorageError::Backend`] for a commit.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use deadpool_postgres::{Client, Object, Pool, PoolError, TimeoutType};
use tokio_postgres::error::SqlState;

use super::PostgresOptions;
use crate::ports::StorageError;

/// A [`StorageError::Backend`] carrying `source`.
pub(super) fn backend(
    message: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> StorageError {
    StorageError::Backend {
        message: with_causes(format!("{message}: {source}"), &source),
        source: Some(Box::new(source)),
    }
}

/// `text` followed by what caused `error`, each cause once: the driver's
/// own message for a failed TLS handshake is only "error performing TLS
/// handshake", and the certificate problem is in its sources. Hosts see the
/// message, not always the chain (a binding's exception carries the message).
fn with_causes(mut text: String, error: &dyn std::error::Error) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Why one attempt at a database operation failed.
pub(super) enum AttemptError {
    /// The database aborted the transaction for contention (`40001`,
    /// `40P01`) and applied nothing: try again.
    Transient(tokio_postgres::Error),
    /// Anything else: report it.
    Fatal(StorageError),
}

impl From<tokio_postgres::Error> for AttemptError {
    fn from(e: tokio_postgres::Error) -> Self {
        let transient = [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ];
        match e.code() {
            Some(code) if transient.contains(code) => AttemptError::Transient(e),
            Some(code) if *code == SqlState::QUERY_CANCELED => AttemptError::Fatal(db_backend(
                "PostgreSQL cancelled the statement (the store's query timeout, \
                 PostgresOptions::with_query_timeout, is the connection's statement_timeout)",
                e,
            )),
            _ => AttemptError::Fatal(db_backend("PostgreSQL failed", e)),
        }
    }
}

/// The store's connection pool, and how long an operation may wait on one
/// of its connections for the server's answers.
pub(super) struct Connections {
    pub pool: Pool,
    /// [`PostgresOptions::query_timeout`]: the server's `statement_timeout`;
    /// the client waits [`PostgresOptions::QUERY_TIMEOUT_GRACE`] longer.
    pub query_timeout: Option<Duration>,
}

/// Runs `work` on a connection of the pool, and keeps the connection out
/// of the pool if the work lost it (see [`forget_if_lost`]) or the server
/// did not answer it within the query timeout and its grace: the answers
/// may still come, or the next caller's requests would queue behind the
/// unanswered ones, so that connection is closed.
pub(super) async fn on_connection<T>(
    connections: &Connections,
    work: impl AsyncFnOnce(&mut Client) -> Result<T, AttemptError>,
) -> Result<T, AttemptError> {
    let mut client = connections.pool.get().await?;
    let outcome = match connections.query_timeout {
        None => work(&mut client).await,
        Some(timeout) => {
            let waited = timeout.saturating_add(PostgresOptions::QUERY_TIMEOUT_GRACE);
            match tokio::time::timeout(waited, work(&mut client)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    drop(Object::take(client));
                    return Err(AttemptError::Fatal(StorageError::backend(no_answer(
                        timeout,
                    ))));
                }
            }
        }
    };
    forget_if_lost(client, &outcome);
    outcome
}

/// The message of an operation the server did not answer in time.
fn no_answer(timeout: Duration) -> String {
    format!(
        "PostgreSQL did not answer within the query timeout of {timeout:?} and a grace of {:?} \
         (PostgresOptions::with_query_timeout): the connection was closed; if the operation was \
         a commit, whether it was applied is unknown",
        PostgresOptions::QUERY_TIMEOUT_GRACE
    )
}

/// Keeps `client` out of the pool when the attempt on it lost its
/// connection (closed, or ended by the server: SQLSTATE classes `08` and
/// `57P`). The pool's fast recycling only asks whether a connection is
/// closed, which one the server has just ended may not show yet, and the
/// next caller would get it and fail.
fn forget_if_lost<T>(client: Client, outcome: &Result<T, AttemptError>) {
    let lost = |e: &tokio_postgres::Error| {
        e.is_closed()
            || e.code()
                .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
    };
    let failed_with_loss = match outcome {
        Err(AttemptError::Fatal(StorageError::Backend {
            source: Some(source),
            ..
        })) => source
            .downcast_ref::<tokio_postgres::Error>()
            .is_some_and(lost),
        _ => false,
    };
    if failed_with_loss || client.is_closed() {
        drop(Object::take(client));
    }
}

impl From<PoolError> for AttemptError {
    fn from(e: PoolError) -> Self {
        let context = "cannot get a PostgreSQL connection";
        let timed_out = |what: &str| {
            StorageError::backend(format!(
                "{context}: {what} within the pool timeout (PostgresOptions::with_pool_timeout); \
                 nothing was sent to the server"
            ))
        };
        AttemptError::Fatal(match e {
            PoolError::Backend(e) => db_backend(context, e),
            PoolError::Timeout(TimeoutType::Wait) => {
                timed_out("every connection of the pool stayed in use")
            }
            PoolError::Timeout(TimeoutType::Create) => timed_out("a new connection was not made"),
            e => backend(context, e),
        })
    }
}

/// The message of a first connection that took longer than `timeout`.
pub(super) fn connect_timed_out(timeout: Duration) -> String {
    format!(
        "cannot connect to PostgreSQL: no connection within the pool timeout of {timeout:?} \
         (PostgresOptions::with_pool_timeout)"
    )
}

/// A [`StorageError::Backend`] for a driver error, with the server's
/// message in it.
pub(super) fn db_backend(context: &str, e: tokio_postgres::Error) -> StorageError {
    StorageError::Backend {
        message: describe(context, &e),
        source: Some(Box::new(e)),
    }
}

/// `context`, plus the server's message and SQLSTATE when the server sent
/// one (the driver's own `Display` says only "db error").
fn describe(context: &str, e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{context}: {} (SQLSTATE {})",
            db.message(),
            db.code().code()
        ),
        None => with_causes(format!("{context}: {e}"), e),
    }
}

impl From<StorageError> for AttemptError {
    fn from(e: StorageError) -> Self {
        AttemptError::Fatal(e)
    }
}

/// How many times an operation is tried before contention is reported.
const MAX_ATTEMPTS: u32 = 20;

/// Runs `attempt` until it succeeds or fails for a reason other than
/// contention; after [`MAX_ATTEMPTS`] transient failures, reports the last
/// one through `give_up`. Waits a random, growing delay (up to 100 ms)
/// between attempts so contenders fall out of step.
pub(super) async fn retrying<T, F, Fut>(
    mut attempt: F,
    give_up: impl FnOnce(tokio_postgres::Error) -> StorageError,
) -> Result<T, StorageError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Transient(e)) if tries >= MAX_ATTEMPTS => return Err(give_up(e)),
            Err(AttemptError::Transient(_)) => {
                let cap_ms = 100u64.min(1 << tries.min(6));
                let jitter_ms = RandomState::new().hash_one(tries) % (cap_ms + 1);
                tokio::time::sleep(Duration::from_millis(jitter_ms)).await;
                tries += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a message and, maybe, a cause.
    #[derive(Debug)]
    struct Failure(&'static str, Option<Box<Failure>>);

    impl std::fmt::Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Failure {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    fn failure(text: &'static str, cause: Option<Failure>) -> Failure {
        Failure(text, cause.map(Box::new))
    }

    #[test]
    fn a_message_names_every_cause_once_in_order() {
        let bad_cert = failure("invalid peer certificate: UnknownIssuer", None);
        let handshake = failure("error performing TLS handshake", Some(bad_cert));
        assert_eq!(
            with_causes("cannot connect".to_owned(), &handshake),
            "cannot connect: invalid peer certificate: UnknownIssuer"
        );
        // A cause the text already ends with (a driver's `Display` that
        // repeats its source) is not said twice; one in the middle is.
        let io = failure("connection reset", None);
        let wrapped = failure("io error: connection reset", Some(io));
        let top = failure("db error", Some(wrapped));
        assert_eq!(
            with_causes("PostgreSQL failed: db error".to_owned(), &top),
            "PostgreSQL failed: db error: io error: connection reset"
        );
        let repeated = failure("reset", Some(failure("reset", None)));
        assert_eq!(
            with_causes("lost: reset".to_owned(), &failure("x", Some(repeated))),
            "lost: reset"
        );
        assert_eq!(
            with_causes("alone".to_owned(), &failure("x", None)),
            "alone"
        );
    }

    #[test]
    fn a_backend_error_says_its_context_its_error_and_their_causes() {
        let error = backend(
            "cannot get a PostgreSQL connection",
            failure("handshake", Some(failure("expired certificate", None))),
        );
        let StorageError::Backend { message, source } = error else {
            panic!("a backend error");
        };
        assert_eq!(
            message,
            "cannot get a PostgreSQL connection: handshake: expired certificate"
        );
        assert_eq!(source.expect("its source").to_string(), "handshake");
    }
}
