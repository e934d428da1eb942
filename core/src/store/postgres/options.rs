//! [`PostgresOptions`]: how a [`PostgresStore`](super::PostgresStore)
//! connects, and the check that keeps its table prefix safe to paste into
//! SQL.

use std::time::Duration;

use crate::ports::StorageError;

/// How a [`PostgresStore`](super::PostgresStore) connects: pool size, how
/// long an operation waits for a connection and for the server's answers,
/// how many commit statements it keeps in flight, and table prefix.
///
/// ```
/// use std::time::Duration;
/// use reservo::store::PostgresOptions;
/// let options = PostgresOptions::default()
///     .with_pool_size(4)
///     .with_pool_timeout(Some(Duration::from_secs(5)))
///     .with_query_timeout(Some(Duration::from_secs(10)))
///     .with_commits_in_flight(2)
///     .with_table_prefix("tenant_a_");
/// assert_eq!(options.table_prefix(), "tenant_a_");
/// assert_eq!(options.commits_in_flight(), 2);
/// assert_eq!(options.pool_size(), 4);
/// assert_eq!(options.pool_timeout(), Some(Duration::from_secs(5)));
/// assert_eq!(options.query_timeout(), Some(Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    pool_size: usize,
    pool_timeout: Option<Duration>,
    query_timeout: Option<Duration>,
    commits_in_flight: usize,
    table_prefix: String,
}

impl Default for PostgresOptions {
    /// A pool of 8 connections, pool and query timeouts of 30 seconds each,
    /// 4 commit statements in flight and the table prefix `reservo_`.
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            pool_timeout: Some(PostgresOptions::DEFAULT_POOL_TIMEOUT),
            query_timeout: Some(PostgresOptions::DEFAULT_QUERY_TIMEOUT),
            commits_in_flight: 4,
            table_prefix: "reservo_".to_owned(),
        }
    }
}

impl PostgresOptions {
    /// The pool timeout of [`PostgresOptions::default`].
    pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(30);

    /// The query timeout of [`PostgresOptions::default`].
    pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(30);

    /// How long the client waits for the server past the query timeout
    /// before it gives up on the connection: the server's own cancellation
    /// (`statement_timeout`) normally answers first, with a clean error.
    pub const QUERY_TIMEOUT_GRACE: Duration = Duration::from_secs(1);

    /// The most connections the store opens at once (at least 1). Each
    /// operation in flight holds one for its duration.
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// How long an operation waits for a connection: for one of the pool's
    /// to be free when all are in use, and for a new one to be established
    /// (including TLS and authentication; also bounds the first connection
    /// of [`PostgresStore::connect_with`](super::PostgresStore::connect_with)
    /// together with the settings it asks the server about on it).
    /// Past it the operation fails with a
    /// [`StorageError::Backend`] that says so, having sent nothing to the
    /// server. `None` waits as long as it takes — a server that stops
    /// answering then hangs every caller. Once the operation has its
    /// connection, [`PostgresOptions::with_query_timeout`] bounds it.
    pub fn with_pool_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_timeout = timeout;
        self
    }

    /// How long one statement may run on the server, and, with
    /// [`PostgresOptions::QUERY_TIMEOUT_GRACE`] more, how long an operation
    /// waits on its connection for the server's answers. Two cases:
    ///
    /// * **The server is busy** (a statement waits on a row lock that a
    ///   stuck transaction holds, or runs long): each connection is opened
    ///   with `statement_timeout` set to the timeout (in milliseconds,
    ///   rounded up), so the server cancels the statement. Its transaction
    ///   is rolled back; the operation fails with a
    ///   [`StorageError::Backend`] naming the timeout, having changed
    ///   nothing. A `statement_timeout` that the URL sets itself (`options=-c
    ///   statement_timeout=...`) is kept instead; so is the default of an
    ///   engine that does not know the setting.
    /// * **The server stopped answering** (it hangs, or the network drops
    ///   the connection without closing it): the operation gives up on the
    ///   connection after the timeout and the grace, closes it and fails
    ///   with a [`StorageError::Backend`] that says so. For a commit, the
    ///   outcome is then unknown, as the storage contract allows; the
    ///   engine re-reads before it decides anything.
    /// * **The client vanished mid-transaction** (the network cut the
    ///   connection while a commit was being sent, or between the steps of
    ///   numbering events): each connection is also opened with
    ///   `idle_in_transaction_session_timeout` set to the timeout, so the
    ///   server ends a transaction that waits on its client for longer,
    ///   releasing its row locks, instead of keeping them until its TCP
    ///   keepalives notice (the store itself never keeps a transaction
    ///   waiting for more than a round trip). Kept as the URL or the engine
    ///   has it, like `statement_timeout`.
    ///
    /// `None` sets neither timeout and waits as long as it takes.
    /// Operations that write many records at once (copying a store) must
    /// fit in the timeout too. Migrations on connect do not: they run
    /// without it (a migration of large tables may take minutes, and a
    /// connect that finds another process migrating waits for it).
    pub fn with_query_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// The most commit statements the store has in flight at once (at
    /// least 1; ADR 026). A commit made while that many are in flight
    /// waits, and the next statement carries every waiting commit that
    /// touches no key another of them writes (up to 32): one statement and
    /// one round trip for several commits, which costs the server and the
    /// client much less than a statement each. Each commit is still checked
    /// and applied whole or not at all, on its own: if one commit's check
    /// fails, the statement applies nothing and its commits are sent again
    /// one by one. Commits that claim a key without writing it (rare: no
    /// hold or confirmation does) are not gathered, nor counted here.
    ///
    /// A commit made while fewer are in flight is sent at once, alone, so a
    /// store with few callers sees no change. Set it near the number of
    /// cores the server can spend on this store's commits: below that the
    /// server idles while commits wait; far above it commits are sent one
    /// each and queue in the server instead (every one of them needs a
    /// connection of the pool, so a value above the pool size acts as the
    /// pool size).
    pub fn with_commits_in_flight(mut self, statements: usize) -> Self {
        self.commits_in_flight = statements.max(1);
        self
    }

    /// The prefix of every table the store uses: 1 to 40 characters of
    /// lowercase ASCII letters, digits and `_`, starting with a letter or
    /// `_`, and not ending in `pending_` (the store with prefix `p` has a
    /// table `{p}pending_events`, which would be the events table of the
    /// prefix `{p}pending_`). Stores with different prefixes share a
    /// database without seeing each other's data.
    pub fn with_table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.table_prefix = prefix.into();
        self
    }

    /// The most connections the store opens at once.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// How long an operation waits for a connection (`None`: forever).
    pub fn pool_timeout(&self) -> Option<Duration> {
        self.pool_timeout
    }

    /// How long one statement may run on the server (`None`: no bound).
    pub fn query_timeout(&self) -> Option<Duration> {
        self.query_timeout
    }

    /// The most commit statements in flight at once.
    pub fn commits_in_flight(&self) -> usize {
        self.commits_in_flight
    }

    /// The prefix of every table the store uses.
    pub fn table_prefix(&self) -> &str {
        &self.table_prefix
    }
}

/// Checks that `prefix` is safe to paste into SQL as part of an identifier.
pub(super) fn validate_prefix(prefix: &str) -> Result<(), StorageError> {
    let starts_well = prefix
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    let rest_ok = prefix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    // `{p}pending_` + `events` is `{p}` + `pending_events`: two stores'
    // tables would be one (and `CREATE TABLE IF NOT EXISTS` would not say).
    let shadows_another = prefix.ends_with("pending_");
    if starts_well && rest_ok && prefix.len() <= 40 && !shadows_another {
        Ok(())
    } else {
        Err(StorageError::backend(format!(
            "invalid table prefix {prefix:?}: use 1 to 40 of [a-z0-9_], not starting with a digit \
             and not ending in `pending_`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_prefix_must_be_a_plain_lowercase_identifier() {
        for good in ["reservo_", "_", "t1_", "a", &"x".repeat(40)] {
            assert!(validate_prefix(good).is_ok(), "{good:?} should be accepted");
        }
        for bad in [
            "",
            "1abc",
            "Tenant",
            "a-b",
            "a;drop",
            "a b",
            "\"q\"",
            &"x".repeat(41),
        ] {
            assert!(validate_prefix(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn pool_size_is_at_least_one() {
        assert_eq!(PostgresOptions::default().with_pool_size(0).pool_size(), 1);
    }

    #[test]
    fn commits_in_flight_are_four_by_default_and_at_least_one() {
        let options = PostgresOptions::default();
        assert_eq!(options.commits_in_flight(), 4);
        assert_eq!(options.with_commits_in_flight(0).commits_in_flight(), 1);
    }
}
