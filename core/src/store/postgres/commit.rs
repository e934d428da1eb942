//! One [`CommitBatch`] as one PostgreSQL transaction: the plan (which keys
//! to lock, claim, write and delete, each list in key order) and the attempt
//! that runs it. The parent module describes the protocol and why it holds
//! across processes.
//!
//! This module owns the order of the statements in a commit. It must never
//! report success before `COMMIT` returns, report a conflict after anything
//! was committed, or number outbox events (readers do, see ADR 008).

use std::collections::{BTreeMap, HashMap, HashSet};

use deadpool_postgres::Client;
use futures_util::future::{join3, join4};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

/// A statement parameter.
type Param<'a> = dyn ToSql + Sync + 'a;

use super::retry::{AttemptError, Connections, on_connection, retrying};
use super::schema::Sql;
use super::to_u64;
use crate::ports::{CommitBatch, Committed, Durability, Mutation, StorageError, Version};
use crate::store::validate_batch;

/// Applies `batch` atomically if every expectation holds; see
/// [`crate::ports::Storage::commit`].
pub(super) async fn commit(
    connections: &Connections,
    sql: &Sql,
    batch: CommitBatch,
    may_defer_flush: bool,
) -> Result<Committed, StorageError> {
    validate_batch(&batch)?;
    let plan = Plan::new(&batch, may_defer_flush)?;
    retrying(
        || {
            on_connection(connections, async |client| match &plan.in_one {
                Some(in_one) => attempt_in_one(client, sql, &plan, in_one).await,
                None => attempt(client, sql, &plan).await,
            })
        },
        // Contention that outlasts every retry changed nothing: to the
        // engine that is a conflict, and it re-reads and retries.
        |_| StorageError::Conflict {
            key: contended_key(&batch),
        },
    )
    .await
}

/// The statements' parameters for one batch, each list sorted by key so
/// that concurrent commits take row locks in the same order.
#[derive(Debug, Default)]
pub(super) struct Plan<'a> {
    /// Keys expected present that the batch writes or deletes, with the
    /// version each must have: locked `FOR UPDATE`.
    present_keys: Vec<&'a [u8]>,
    present_versions: Vec<i64>,
    /// Keys expected present that the batch only reads: locked `FOR
    /// SHARE`, so commits that only expect a key (the engine's catalog
    /// epoch) do not queue behind each other, while a writer of it waits.
    pub(super) shared_keys: Vec<&'a [u8]>,
    pub(super) shared_versions: Vec<i64>,
    /// Keys expected absent: claimed with a placeholder row.
    absent_keys: Vec<&'a [u8]>,
    /// Every expected key, in key order, with the version it must have
    /// once locked or claimed (0: this commit's placeholder).
    expected_keys: Vec<&'a [u8]>,
    expected_versions: Vec<i64>,
    /// Puts on expected keys, with the version the row must still have (0
    /// for this commit's own placeholder).
    checked_keys: Vec<&'a [u8]>,
    checked_values: Vec<&'a [u8]>,
    checked_expected: Vec<i64>,
    /// Puts on keys the batch has no expectation about.
    pub(super) blind_keys: Vec<&'a [u8]>,
    pub(super) blind_values: Vec<&'a [u8]>,
    /// Deleted keys, and claimed keys that are not put (their placeholder).
    deleted_keys: Vec<&'a [u8]>,
    pub(super) event_kinds: Vec<&'a str>,
    pub(super) event_payloads: Vec<&'a [u8]>,
    /// The same batch as the lists of [`Sql::commit_in_one`], if it can run
    /// as one statement: `None` when it expects a key absent without
    /// writing it, which only a claimed placeholder can keep absent.
    pub(super) in_one: Option<InOne<'a>>,
    /// Whether `COMMIT` may return before the commit's WAL is flushed (a
    /// [`Durability::Deferred`] batch on a server that has
    /// `synchronous_commit`).
    pub(super) without_flush: bool,
}

/// The parameters of [`Sql::commit_in_one`], each list in key order.
#[derive(Debug, Default)]
pub(super) struct InOne<'a> {
    /// Keys expected present that are puts, with their new value and the
    /// version they must still have.
    pub(super) updated_keys: Vec<&'a [u8]>,
    pub(super) updated_values: Vec<&'a [u8]>,
    pub(super) updated_expected: Vec<i64>,
    /// Keys expected present that are deleted, and their version.
    pub(super) removed_keys: Vec<&'a [u8]>,
    pub(super) removed_expected: Vec<i64>,
    /// Keys expected absent that are puts.
    pub(super) created_keys: Vec<&'a [u8]>,
    pub(super) created_values: Vec<&'a [u8]>,
    /// Deletes of keys the batch has no expectation about.
    pub(super) blind_deleted: Vec<&'a [u8]>,
}

impl<'a> Plan<'a> {
    /// Sorts a valid batch into statements' parameters. A batch that
    /// expects a version no record can have conflicts at once. A deferred
    /// batch skips the flush where the server allows (`may_defer_flush`).
    pub(super) fn new(
        batch: &'a CommitBatch,
        may_defer_flush: bool,
    ) -> Result<Plan<'a>, StorageError> {
        let mut plan = Plan {
            without_flush: may_defer_flush && batch.durability == Durability::Deferred,
            ..Plan::default()
        };
        let mut expected: BTreeMap<&str, i64> = BTreeMap::new();
        for expectation in &batch.expectations {
            let key = expectation.key.as_str();
            match expectation.version {
                // Versions come from a sequence starting at 1 and stored as
                // INT8: no record can have version 0 or one above i64::MAX.
                Some(Version(v)) => match i64::try_from(v) {
                    Ok(v) if v > 0 => {
                        expected.insert(key, v);
                    }
                    _ => {
                        return Err(StorageError::Conflict {
                            key: expectation.key.clone(),
                        });
                    }
                },
                None => {
                    expected.insert(key, 0);
                }
            }
        }
        let written: HashSet<&str> = batch.mutations.iter().map(Mutation::key).collect();
        for (&key, &version) in &expected {
            plan.expected_keys.push(key.as_bytes());
            plan.expected_versions.push(version);
            if version == 0 {
                plan.absent_keys.push(key.as_bytes());
            } else if written.contains(key) {
                plan.present_keys.push(key.as_bytes());
                plan.present_versions.push(version);
            } else {
                plan.shared_keys.push(key.as_bytes());
                plan.shared_versions.push(version);
            }
        }
        let mut mutations: Vec<&Mutation> = batch.mutations.iter().collect();
        mutations.sort_by_key(|m| m.key());
        let mut put: HashSet<&str> = HashSet::new();
        let mut in_one = InOne::default();
        for mutation in mutations {
            match mutation {
                Mutation::Put { key, value } => {
                    put.insert(key);
                    if let Some(&version) = expected.get(key.as_str()) {
                        plan.checked_keys.push(key.as_bytes());
                        plan.checked_values.push(value);
                        plan.checked_expected.push(version);
                        if version == 0 {
                            in_one.created_keys.push(key.as_bytes());
                            in_one.created_values.push(value);
                        } else {
                            in_one.updated_keys.push(key.as_bytes());
                            in_one.updated_values.push(value);
                            in_one.updated_expected.push(version);
                        }
                    } else {
                        plan.blind_keys.push(key.as_bytes());
                        plan.blind_values.push(value);
                    }
                }
                Mutation::Delete { key } => {
                    plan.deleted_keys.push(key.as_bytes());
                    match expected.get(key.as_str()) {
                        Some(&version) => {
                            in_one.removed_keys.push(key.as_bytes());
                            in_one.removed_expected.push(version);
                        }
                        None => in_one.blind_deleted.push(key.as_bytes()),
                    }
                }
            }
        }
        // A key expected absent and not put (a guard, or deleted) must be
        // claimed to stay absent until the commit ends.
        let claims_only = expected
            .iter()
            .any(|(key, &version)| version == 0 && !put.contains(key));
        if !claims_only {
            plan.in_one = Some(in_one);
        }
        let unclaimed = expected
            .iter()
            .filter(|&(key, &version)| version == 0 && !put.contains(key))
            .map(|(key, _)| key.as_bytes())
            .filter(|key| !plan.deleted_keys.contains(key));
        plan.deleted_keys.extend(unclaimed.collect::<Vec<_>>());
        plan.deleted_keys.sort_unstable();
        for event in &batch.events {
            plan.event_kinds.push(&event.kind);
            plan.event_payloads.push(&event.payload);
        }
        Ok(plan)
    }
}

impl Plan<'_> {
    /// The first expected key whose row, as locked (`present`, `shared`)
    /// or claimed (`claimed`), is not as the batch expects: what a failed
    /// version check reports. Empty if none differs (the check failed on
    /// a row the locks did not return).
    fn first_stale(&self, present: &[Row], shared: &[Row], claimed: &[Row]) -> &[u8] {
        let locked: HashMap<Vec<u8>, i64> = present
            .iter()
            .chain(shared)
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        let claimed: HashSet<Vec<u8>> = claimed.iter().map(|row| row.get(0)).collect();
        let stale = |(key, version): &(&&[u8], &i64)| match **version {
            0 => !claimed.contains(**key),
            version => locked.get(**key) != Some(&version),
        };
        self.expected_keys
            .iter()
            .zip(&self.expected_versions)
            .find(stale)
            .map_or(&[][..], |(key, _)| key)
    }
}

impl Plan<'_> {
    /// The first expected key whose current row (`rows`: key, value,
    /// version, read after a failed check) is not as the batch expects;
    /// the first expected key if every one now is (the row changed back,
    /// which only a delete and a re-create between the check and the read
    /// can do).
    fn first_differing(&self, rows: &[Row]) -> &[u8] {
        let current: HashMap<Vec<u8>, i64> =
            rows.iter().map(|row| (row.get(0), row.get(2))).collect();
        let differs = |(key, version): &(&&[u8], &i64)| match **version {
            0 => current.contains_key(**key),
            version => current.get(**key) != Some(&version),
        };
        let mut expected = self.expected_keys.iter().zip(&self.expected_versions);
        expected
            .clone()
            .find(differs)
            .or_else(|| expected.next())
            .map_or(&[][..], |(key, _)| key)
    }
}

/// A key to name when contention outlasts every retry: the first one the
/// batch expects or writes (empty for a batch of events only).
fn contended_key(batch: &CommitBatch) -> String {
    let expected = batch.expectations.iter().map(|e| e.key.as_str());
    let written = batch.mutations.iter().map(Mutation::key);
    expected
        .chain(written)
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The conflict on `key` (kept as bytes in the plan; keys are ASCII).
fn conflict(key: &[u8]) -> AttemptError {
    AttemptError::Fatal(StorageError::Conflict {
        key: String::from_utf8_lossy(key).into_owned(),
    })
}

/// One try at running the plan as a transaction, in one round trip: every
/// statement from `BEGIN` to `COMMIT` is sent at once (pipelined on the
/// connection), and the server runs them in order. A failed check fails
/// its statement, which aborts the transaction, so every later statement
/// fails and `COMMIT` rolls back: nothing is applied unless every
/// statement succeeded. Results are read in the same order, so the first
/// error is the cause and later ones ("transaction aborted") are never
/// reported.
async fn attempt(client: &Client, sql: &Sql, plan: &Plan<'_>) -> Result<Committed, AttemptError> {
    // Prepared before anything is sent (a round trip each, the first time
    // on a connection only), so the pipeline goes out whole.
    let begin = client.prepare_cached(&sql.begin).await?;
    let no_flush = if plan.without_flush {
        Some(client.prepare_cached(&sql.commit_without_flush).await?)
    } else {
        None
    };
    let lock_present = client.prepare_cached(&sql.lock_present).await?;
    let share_present = client.prepare_cached(&sql.share_present).await?;
    let claim_absent = client.prepare_cached(&sql.claim_absent).await?;
    let check_versions = client.prepare_cached(&sql.check_versions).await?;
    let next_version = client.prepare_cached(&sql.next_version).await?;
    let put_checked = client.prepare_cached(&sql.put_checked).await?;
    let put_blind = client.prepare_cached(&sql.put_blind).await?;
    let delete = client.prepare_cached(&sql.delete).await?;
    let append_events = client.prepare_cached(&sql.append_events).await?;
    let end = client.prepare_cached(&sql.end).await?;

    let present_keys: &[&Param<'_>] = &[&plan.present_keys];
    let shared_keys: &[&Param<'_>] = &[&plan.shared_keys];
    let absent_keys: &[&Param<'_>] = &[&plan.absent_keys];
    let check_params: &[&Param<'_>] = &[&plan.expected_keys, &plan.expected_versions];
    let checked_params: &[&Param<'_>] = &[
        &plan.checked_keys,
        &plan.checked_values,
        &plan.checked_expected,
    ];
    let blind_params: &[&Param<'_>] = &[&plan.blind_keys, &plan.blind_values];
    let deleted_keys: &[&Param<'_>] = &[&plan.deleted_keys];
    let event_params: &[&Param<'_>] = &[&plan.event_kinds, &plan.event_payloads];
    let (
        (began, without_flush, present, shared),
        (claimed, checked, version, written),
        (blind, deleted, appended, ended),
    ) = join3(
        join4(
            client.query(&begin, &[]),
            query_opt(client, no_flush.as_ref(), &[]),
            // Lock the expected keys, claim the absent ones, and check
            // every version under those locks (steps 1-2).
            query_if(
                client,
                !plan.present_keys.is_empty(),
                &lock_present,
                present_keys,
            ),
            query_if(
                client,
                !plan.shared_keys.is_empty(),
                &share_present,
                shared_keys,
            ),
        ),
        join4(
            query_if(
                client,
                !plan.absent_keys.is_empty(),
                &claim_absent,
                absent_keys,
            ),
            query_if(
                client,
                !plan.expected_keys.is_empty(),
                &check_versions,
                check_params,
            ),
            // Take a version (step 3); the writes use it through `currval`.
            client.query(&next_version, &[]),
            // Write (step 4), append the events unnumbered (step 5).
            query_if(
                client,
                !plan.checked_keys.is_empty(),
                &put_checked,
                checked_params,
            ),
        ),
        join4(
            query_if(
                client,
                !plan.blind_keys.is_empty(),
                &put_blind,
                blind_params,
            ),
            query_if(client, !plan.deleted_keys.is_empty(), &delete, deleted_keys),
            query_if(
                client,
                !plan.event_kinds.is_empty(),
                &append_events,
                event_params,
            ),
            client.query(&end, &[]),
        ),
    )
    .await;
    began?;
    without_flush?;
    let (present, shared, claimed) = (present?, shared?, claimed?);
    if let Err(e) = checked {
        return Err(if failed_check(&e) {
            conflict(plan.first_stale(&present, &shared, &claimed))
        } else {
            e.into()
        });
    }
    let version: i64 = match version?.first() {
        Some(row) => row.get(0),
        None => return Err(StorageError::backend("nextval returned no row").into()),
    };
    if let Err(e) = written {
        // Unreachable while the locks above hold.
        return Err(if failed_check(&e) {
            conflict(plan.checked_keys.first().copied().unwrap_or_default())
        } else {
            e.into()
        });
    }
    blind?;
    deleted?;
    appended?;
    ended?;
    Ok(Committed {
        version: Version(to_u64(version, "version from the sequence")?),
    })
}

/// One try at a batch that runs as one statement ([`Sql::commit_in_one`]):
/// the statement alone, which the server runs as a transaction of its own
/// (ADR 015), so a commit is one query. When the batch may skip the flush,
/// the statement sets `synchronous_commit` off for its own transaction
/// (`set_config(..., true)`: the commit reads the setting before the
/// transaction's settings are undone). When a check fails, the rows of the
/// expected keys are read afterwards to name one that differs (versions
/// only grow, so a stale one stays stale).
async fn attempt_in_one(
    client: &Client,
    sql: &Sql,
    plan: &Plan<'_>,
    in_one: &InOne<'_>,
) -> Result<Committed, AttemptError> {
    let statement = client.prepare_cached(&sql.commit_in_one).await?;
    let params: &[&Param<'_>] = &[
        &plan.shared_keys,
        &plan.shared_versions,
        &in_one.updated_keys,
        &in_one.updated_values,
        &in_one.updated_expected,
        &in_one.removed_keys,
        &in_one.removed_expected,
        &in_one.created_keys,
        &in_one.created_values,
        &plan.blind_keys,
        &plan.blind_values,
        &in_one.blind_deleted,
        &plan.event_kinds,
        &plan.event_payloads,
        &plan.without_flush,
    ];
    let rows = match client.query(&statement, params).await {
        Ok(rows) => rows,
        Err(e) if failed_check(&e) => {
            let get = client.prepare_cached(&sql.get).await?;
            let rows = client.query(&get, &[&plan.expected_keys]).await?;
            return Err(conflict(plan.first_differing(&rows)));
        }
        Err(e) => return Err(e.into()),
    };
    let version: i64 = match rows.first() {
        Some(row) => row.get(0),
        None => return Err(StorageError::backend("the commit returned no version").into()),
    };
    Ok(Committed {
        version: Version(to_u64(version, "version from the sequence")?),
    })
}

/// Whether `batch` runs as one statement ([`Sql::commit_in_one`]): it
/// expects no key absent without putting it (which only a claimed
/// placeholder keeps absent). Every hold and confirmation does.
pub(super) fn runs_in_one(batch: &CommitBatch) -> bool {
    batch
        .expectations
        .iter()
        .filter(|e| e.version.is_none())
        .all(|e| {
            batch
                .mutations
                .iter()
                .any(|m| matches!(m, Mutation::Put { key, .. } if *key == e.key))
        })
}

/// Whether `e` is one of the store's own checks failing its statement (a
/// division by zero by design: portable, and no other statement divides).
pub(super) fn failed_check(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::DIVISION_BY_ZERO)
}

/// `statement` with `params` if `needed`; otherwise no rows, and nothing
/// is sent. A statement is sent when its future is first polled, so the
/// order the pipeline polls them in is the order the server runs them.
async fn query_if(
    client: &tokio_postgres::Client,
    needed: bool,
    statement: &Statement,
    params: &[&Param<'_>],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    query_opt(client, needed.then_some(statement), params).await
}

/// `statement` with `params` if there is one; otherwise no rows.
async fn query_opt(
    client: &tokio_postgres::Client,
    statement: Option<&Statement>,
    params: &[&Param<'_>],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    match statement {
        Some(statement) => client.query(statement, params).await,
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(durability: Durability) -> CommitBatch {
        CommitBatch {
            durability,
            mutations: vec![Mutation::Put {
                key: "k".into(),
                value: b"v".to_vec(),
            }],
            ..CommitBatch::default()
        }
    }

    #[test]
    fn only_a_deferred_batch_on_a_server_that_allows_it_skips_the_flush() {
        let cases = [
            (Durability::Deferred, true, true),
            (Durability::Deferred, false, false),
            (Durability::Durable, true, false),
            (Durability::Durable, false, false),
        ];
        for (durability, server_allows, skips) in cases {
            let batch = batch(durability);
            let plan = Plan::new(&batch, server_allows).expect("a valid batch");
            assert_eq!(
                plan.without_flush, skips,
                "{durability:?}, server allows: {server_allows}"
            );
        }
    }
}
