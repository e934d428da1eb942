//! One [`CommitBatch`] as one PostgreSQL transaction: the plan (which keys
//! to lock, claim, write and delete, each list in key order) and the attempt
//! that runs it. The parent module describes the protocol and why it holds
//! across processes.
//!
//! This module owns the order of the statements in a commit. It must never
//! report success before `COMMIT` returns, report a conflict after anything
//! was committed, or touch the event counter row before the last step (that
//! row lock is what serializes the outbox, and it must be held briefly).

use std::collections::{BTreeMap, HashMap, HashSet};

use deadpool_postgres::Pool;
use tokio_postgres::IsolationLevel;

use super::retry::{AttemptError, retrying};
use super::schema::Sql;
use super::to_u64;
use crate::ports::{CommitBatch, Committed, Mutation, StorageError, Version};
use crate::store::validate_batch;

/// Applies `batch` atomically if every expectation holds; see
/// [`crate::ports::Storage::commit`].
pub(super) async fn commit(
    pool: &Pool,
    sql: &Sql,
    batch: CommitBatch,
) -> Result<Committed, StorageError> {
    validate_batch(&batch)?;
    let plan = Plan::new(&batch)?;
    retrying(
        || attempt(pool, sql, &plan),
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
struct Plan<'a> {
    /// Keys expected present that the batch writes or deletes, with the
    /// version each must have: locked `FOR UPDATE`.
    present_keys: Vec<&'a [u8]>,
    present_versions: Vec<i64>,
    /// Keys expected present that the batch only reads: locked `FOR
    /// SHARE`, so commits that only expect a key (the engine's catalog
    /// epoch) do not queue behind each other, while a writer of it waits.
    shared_keys: Vec<&'a [u8]>,
    shared_versions: Vec<i64>,
    /// Keys expected absent: claimed with a placeholder row.
    absent_keys: Vec<&'a [u8]>,
    /// Puts on expected keys, with the version the row must still have (0
    /// for this commit's own placeholder).
    checked_keys: Vec<&'a [u8]>,
    checked_values: Vec<&'a [u8]>,
    checked_expected: Vec<i64>,
    /// Puts on keys the batch has no expectation about.
    blind_keys: Vec<&'a [u8]>,
    blind_values: Vec<&'a [u8]>,
    /// Deleted keys, and claimed keys that are not put (their placeholder).
    deleted_keys: Vec<&'a [u8]>,
    event_kinds: Vec<&'a str>,
    event_payloads: Vec<&'a [u8]>,
}

impl<'a> Plan<'a> {
    /// Sorts a valid batch into statements' parameters. A batch that
    /// expects a version no record can have conflicts at once.
    fn new(batch: &'a CommitBatch) -> Result<Plan<'a>, StorageError> {
        let mut plan = Plan::default();
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
        for mutation in mutations {
            match mutation {
                Mutation::Put { key, value } => {
                    put.insert(key);
                    if let Some(&version) = expected.get(key.as_str()) {
                        plan.checked_keys.push(key.as_bytes());
                        plan.checked_values.push(value);
                        plan.checked_expected.push(version);
                    } else {
                        plan.blind_keys.push(key.as_bytes());
                        plan.blind_values.push(value);
                    }
                }
                Mutation::Delete { key } => plan.deleted_keys.push(key.as_bytes()),
            }
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

/// The first of `wanted` that is not in `got`.
fn first_missing<'k>(wanted: &[&'k [u8]], got: &HashSet<Vec<u8>>) -> Option<&'k [u8]> {
    wanted.iter().copied().find(|key| !got.contains(*key))
}

/// One try at running the plan as a transaction. Returning early drops the
/// transaction, which rolls it back.
async fn attempt(pool: &Pool, sql: &Sql, plan: &Plan<'_>) -> Result<Committed, AttemptError> {
    let mut client = pool.get().await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;

    let locks = [
        (
            &sql.lock_present,
            &plan.present_keys,
            &plan.present_versions,
        ),
        (&sql.share_present, &plan.shared_keys, &plan.shared_versions),
    ];
    for (lock, keys, versions) in locks {
        if keys.is_empty() {
            continue;
        }
        let statement = tx.prepare_cached(lock).await?;
        let rows = tx.query(&statement, &[keys]).await?;
        let current: HashMap<Vec<u8>, i64> =
            rows.iter().map(|row| (row.get(0), row.get(1))).collect();
        for (key, version) in keys.iter().zip(versions) {
            if current.get(*key) != Some(version) {
                return Err(conflict(key));
            }
        }
    }

    if !plan.absent_keys.is_empty() {
        let statement = tx.prepare_cached(&sql.claim_absent).await?;
        let rows = tx.query(&statement, &[&plan.absent_keys]).await?;
        let claimed: HashSet<Vec<u8>> = rows.iter().map(|row| row.get(0)).collect();
        if let Some(key) = first_missing(&plan.absent_keys, &claimed) {
            return Err(conflict(key));
        }
    }

    let statement = tx.prepare_cached(&sql.next_version).await?;
    let version: i64 = tx.query_one(&statement, &[]).await?.get(0);

    if !plan.checked_keys.is_empty() {
        let statement = tx.prepare_cached(&sql.put_checked).await?;
        let params = [
            &plan.checked_keys as &(dyn tokio_postgres::types::ToSql + Sync),
            &plan.checked_values,
            &plan.checked_expected,
            &version,
        ];
        let rows = tx.query(&statement, &params).await?;
        let written: HashSet<Vec<u8>> = rows.iter().map(|row| row.get(0)).collect();
        // Unreachable while the locks above hold; the last line of defence.
        if let Some(key) = first_missing(&plan.checked_keys, &written) {
            return Err(conflict(key));
        }
    }

    if !plan.blind_keys.is_empty() {
        let statement = tx.prepare_cached(&sql.put_blind).await?;
        tx.execute(
            &statement,
            &[&plan.blind_keys, &plan.blind_values, &version],
        )
        .await?;
    }

    if !plan.deleted_keys.is_empty() {
        let statement = tx.prepare_cached(&sql.delete).await?;
        tx.execute(&statement, &[&plan.deleted_keys]).await?;
    }

    if !plan.event_kinds.is_empty() {
        let count = i64::try_from(plan.event_kinds.len())
            .map_err(|_| StorageError::backend("too many events in one commit"))?;
        let statement = tx.prepare_cached(&sql.take_event_seqs).await?;
        let last: i64 = tx.query_one(&statement, &[&count]).await?.get(0);
        let seqs: Vec<i64> = (last - count + 1..=last).collect();
        let statement = tx.prepare_cached(&sql.insert_events).await?;
        tx.execute(
            &statement,
            &[&seqs, &plan.event_kinds, &plan.event_payloads],
        )
        .await?;
    }

    tx.commit().await?;
    Ok(Committed {
        version: Version(to_u64(version, "version from the sequence")?),
    })
}
