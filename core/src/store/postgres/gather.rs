//! Commits gathered into one statement (ADR 026): while as many commit
//! statements as the store allows are in flight, further commits wait, and
//! the next statement sent carries every waiting commit that touches no key
//! another of them writes.
//!
//! This module owns which commits go together and the answer each caller
//! gets. It must never put two commits in one statement when one writes a
//! key the other expects or writes (their order would matter, and one
//! statement has none), report success for a commit the statement did not
//! apply, or report one commit's conflict to another: a gathered statement
//! whose checks fail is not applied at all, and its commits are then sent
//! one by one, each getting its own answer.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;
use tokio_postgres::types::ToSql;

use super::commit::{self, Plan, failed_check};
use super::retry::{AttemptError, Connections, on_connection, retrying};
use super::schema::Sql;
use super::to_u64;
use crate::ports::{CommitBatch, Committed, StorageError, Version};

/// A statement parameter.
type Param<'a> = dyn ToSql + Sync + 'a;

/// The most commits one statement carries.
const MOST_A_STATEMENT: usize = 32;

/// The commits of one store that run as one statement each
/// ([`commit::runs_in_one`]), and the tasks sending them.
pub(super) struct Gatherer {
    connections: Connections,
    sql: Arc<Sql>,
    may_defer_flush: bool,
    /// The most statements of gathered commits in flight at once.
    limit: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Tasks sending statements (at most `limit`).
    senders: usize,
    waiting: VecDeque<Waiting>,
}

/// What a commit does on arrival: go alone from the caller's task, or wait
/// in the queue (starting a task to send it if a slot is free).
enum Turn {
    Alone(CommitBatch),
    Queued { start_sender: bool },
}

/// A statement slot held by a caller sending its own commit, given up when
/// the commit is answered or the caller stops waiting.
struct Slot<'a>(&'a Arc<Gatherer>);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// A commit waiting to be sent, with what decides which others it may go
/// with: hashes of the keys it writes and of every key it touches (two
/// keys with one hash are taken as one key, which only keeps two commits
/// apart that could have gone together).
struct Waiting {
    batch: CommitBatch,
    written: Vec<u64>,
    touched: Vec<u64>,
    answer: oneshot::Sender<Result<Committed, StorageError>>,
}

impl Waiting {
    fn new(batch: CommitBatch, answer: oneshot::Sender<Result<Committed, StorageError>>) -> Self {
        let hasher = BuildHasherDefault::<DefaultHasher>::default();
        let written: Vec<u64> = batch
            .mutations
            .iter()
            .map(|m| hasher.hash_one(m.key()))
            .collect();
        let expected = batch.expectations.iter().map(|e| hasher.hash_one(&e.key));
        let touched: Vec<u64> = written.iter().copied().chain(expected).collect();
        Waiting {
            batch,
            written,
            touched,
            answer,
        }
    }
}

impl Gatherer {
    pub(super) fn new(
        connections: Connections,
        sql: Arc<Sql>,
        may_defer_flush: bool,
        limit: usize,
    ) -> Gatherer {
        Gatherer {
            connections,
            sql,
            may_defer_flush,
            limit: limit.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Commits `batch` (valid, and running as one statement). When fewer
    /// than `limit` statements are in flight and nothing waits, it is sent
    /// at once, alone, from the caller's task (no hand-over to another
    /// task: a lone caller's commit costs what it did before gathering).
    /// Otherwise it waits, and a task of the store's sends it with the next
    /// statement that may carry it; a caller that stops waiting then
    /// leaves its commit to that task, which drops it if it has not been
    /// taken yet.
    pub(super) async fn commit(
        self: &Arc<Self>,
        batch: CommitBatch,
    ) -> Result<Committed, StorageError> {
        let (answer, answered) = oneshot::channel();
        let turn = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let free = state.senders < self.limit;
            if free {
                state.senders += 1;
            }
            if free && state.waiting.is_empty() {
                Turn::Alone(batch)
            } else {
                state.waiting.push_back(Waiting::new(batch, answer));
                Turn::Queued { start_sender: free }
            }
        };
        match turn {
            Turn::Alone(batch) => {
                let _slot = Slot(self);
                return self.commit_alone(batch).await;
            }
            Turn::Queued { start_sender: true } => {
                tokio::spawn(Arc::clone(self).send_while_waiting());
            }
            Turn::Queued {
                start_sender: false,
            } => {}
        }
        answered.await.unwrap_or_else(|_| {
            Err(StorageError::backend(
                "the task sending the commit ended without an answer (the runtime is shutting \
                 down?): whether it was applied is unknown",
            ))
        })
    }

    /// Gives up a statement slot: to a task that sends what waits, if
    /// anything does (and a runtime is there to run it).
    fn release(self: &Arc<Self>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if !state.waiting.is_empty() => {
                drop(state);
                runtime.spawn(Arc::clone(self).send_while_waiting());
            }
            _ => state.senders -= 1,
        }
    }

    /// Sends statements while commits wait, then stops.
    async fn send_while_waiting(self: Arc<Self>) {
        loop {
            let group = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                let group = take_group(&mut state.waiting);
                if group.is_empty() {
                    state.senders -= 1;
                    return;
                }
                group
            };
            self.send(group).await;
        }
    }

    /// Sends `group` and answers each of its commits.
    async fn send(&self, mut group: Vec<Waiting>) {
        if group.len() == 1 {
            let alone = group.remove(0);
            let outcome = self.commit_alone(alone.batch).await;
            let _ = alone.answer.send(outcome);
            return;
        }
        let (batches, answers): (Vec<CommitBatch>, Vec<_>) =
            group.into_iter().map(|w| (w.batch, w.answer)).unzip();
        match self.commit_together(&batches).await {
            Ok(versions) => {
                for (answer, version) in answers.into_iter().zip(versions) {
                    let _ = answer.send(Ok(Committed { version }));
                }
            }
            // One commit's check failed (or contention outlasted every
            // retry): nothing was applied, and each commit alone says
            // whether it conflicts.
            Err(StorageError::Conflict { .. }) => {
                for (batch, answer) in batches.into_iter().zip(answers) {
                    let outcome = self.commit_alone(batch).await;
                    let _ = answer.send(outcome);
                }
            }
            Err(e) => {
                let message = e.to_string();
                let mut answers = answers.into_iter();
                if let Some(first) = answers.next() {
                    let _ = first.send(Err(e));
                }
                for answer in answers {
                    let _ = answer.send(Err(StorageError::backend(&message)));
                }
            }
        }
    }

    /// One commit as its own statement.
    async fn commit_alone(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        commit::commit(&self.connections, &self.sql, batch, self.may_defer_flush).await
    }

    /// `batches` as one statement: the version of each, in order, or a
    /// conflict (on no particular key) if any check failed.
    async fn commit_together(&self, batches: &[CommitBatch]) -> Result<Vec<Version>, StorageError> {
        let plans = batches
            .iter()
            .map(|batch| Plan::new(batch, self.may_defer_flush))
            .collect::<Result<Vec<_>, _>>()?;
        let params = Together::new(&plans)?;
        let versions = retrying(
            || {
                on_connection(&self.connections, async |client| {
                    let statement = client.prepare_cached(&self.sql.commit_gathered).await?;
                    match client.query(&statement, &params.as_params()).await {
                        Ok(rows) => Ok(rows
                            .iter()
                            .map(|row| row.get::<_, i64>(0))
                            .collect::<Vec<_>>()),
                        Err(e) if failed_check(&e) => {
                            Err(AttemptError::Fatal(StorageError::Conflict {
                                key: String::new(),
                            }))
                        }
                        Err(e) => Err(e.into()),
                    }
                })
            },
            |_| StorageError::Conflict { key: String::new() },
        )
        .await?;
        if versions.len() != batches.len() {
            return Err(StorageError::backend(format!(
                "a gathered commit of {} batches returned {} versions",
                batches.len(),
                versions.len()
            )));
        }
        versions
            .into_iter()
            .map(|v| Ok(Version(to_u64(v, "version from the sequence")?)))
            .collect()
    }
}

/// Takes from `waiting` the first commit whose caller still waits, and
/// after it, in order, each commit that touches no key a taken one writes
/// and writes no key a taken one touches, up to [`MOST_A_STATEMENT`].
/// Commits left behind keep their order. Commits whose callers stopped
/// waiting before they were taken are dropped, never sent.
fn take_group(waiting: &mut VecDeque<Waiting>) -> Vec<Waiting> {
    let mut group = Vec::new();
    let mut written: HashSet<u64> = HashSet::new();
    let mut touched: HashSet<u64> = HashSet::new();
    let mut left = VecDeque::with_capacity(waiting.len());
    while let Some(next) = waiting.pop_front() {
        if next.answer.is_closed() {
            continue;
        }
        let fits = group.len() < MOST_A_STATEMENT
            && !next.written.iter().any(|k| touched.contains(k))
            && !next.touched.iter().any(|k| written.contains(k));
        if fits {
            written.extend(&next.written);
            touched.extend(&next.touched);
            group.push(next);
        } else {
            left.push_back(next);
        }
    }
    *waiting = left;
    group
}

/// The parameters of [`Sql::commit_gathered`]: the lists of
/// [`Sql::commit_in_one`] for every commit of the statement, each entry
/// with its commit's place (1-based) where it takes the commit's version.
#[derive(Default)]
struct Together<'a> {
    shared_keys: Vec<&'a [u8]>,
    shared_versions: Vec<i64>,
    updated_keys: Vec<&'a [u8]>,
    updated_values: Vec<&'a [u8]>,
    updated_expected: Vec<i64>,
    updated_commit: Vec<i32>,
    removed_keys: Vec<&'a [u8]>,
    removed_expected: Vec<i64>,
    created_keys: Vec<&'a [u8]>,
    created_values: Vec<&'a [u8]>,
    created_commit: Vec<i32>,
    blind_keys: Vec<&'a [u8]>,
    blind_values: Vec<&'a [u8]>,
    blind_commit: Vec<i32>,
    blind_deleted: Vec<&'a [u8]>,
    event_kinds: Vec<&'a str>,
    event_payloads: Vec<&'a [u8]>,
    event_commit: Vec<i32>,
    without_flush: bool,
    commits: i32,
}

impl<'a> Together<'a> {
    /// The lists of every plan (each must run as one statement), each list
    /// in key order across the commits, as a single commit's are, so that
    /// statements in flight at once lock shared rows in the same order.
    fn new(plans: &[Plan<'a>]) -> Result<Together<'a>, StorageError> {
        let mut shared = Vec::new();
        let mut updated = Vec::new();
        let mut removed = Vec::new();
        let mut created = Vec::new();
        let mut blind = Vec::new();
        let mut blind_deleted = Vec::new();
        let mut together = Together {
            without_flush: plans.iter().all(|plan| plan.without_flush),
            ..Together::default()
        };
        for plan in plans {
            let Some(in_one) = plan.in_one.as_ref() else {
                return Err(StorageError::backend(
                    "a commit that claims a key without writing it was gathered",
                ));
            };
            together.commits += 1;
            let place = together.commits;
            shared.extend(plan.shared_keys.iter().zip(&plan.shared_versions));
            updated.extend(
                in_one
                    .updated_keys
                    .iter()
                    .zip(&in_one.updated_values)
                    .zip(&in_one.updated_expected)
                    .map(|((key, value), expected)| (*key, *value, *expected, place)),
            );
            removed.extend(in_one.removed_keys.iter().zip(&in_one.removed_expected));
            created.extend(
                in_one
                    .created_keys
                    .iter()
                    .zip(&in_one.created_values)
                    .map(|(key, value)| (*key, *value, place)),
            );
            blind.extend(
                plan.blind_keys
                    .iter()
                    .zip(&plan.blind_values)
                    .map(|(key, value)| (*key, *value, place)),
            );
            blind_deleted.extend(&in_one.blind_deleted);
            // Events keep their order within each commit.
            together.event_kinds.extend(&plan.event_kinds);
            together.event_payloads.extend(&plan.event_payloads);
            let events = plan.event_kinds.len();
            together.event_commit.extend((0..events).map(|_| place));
        }
        shared.sort_unstable();
        updated.sort_unstable_by_key(|u| u.0);
        removed.sort_unstable();
        created.sort_unstable_by_key(|c| c.0);
        blind.sort_unstable_by_key(|b| b.0);
        blind_deleted.sort_unstable();
        let t = &mut together;
        (t.shared_keys, t.shared_versions) = shared.into_iter().unzip();
        for (key, value, expected, place) in updated {
            t.updated_keys.push(key);
            t.updated_values.push(value);
            t.updated_expected.push(expected);
            t.updated_commit.push(place);
        }
        (t.removed_keys, t.removed_expected) = removed.into_iter().unzip();
        for (key, value, place) in created {
            t.created_keys.push(key);
            t.created_values.push(value);
            t.created_commit.push(place);
        }
        for (key, value, place) in blind {
            t.blind_keys.push(key);
            t.blind_values.push(value);
            t.blind_commit.push(place);
        }
        t.blind_deleted = blind_deleted;
        Ok(together)
    }

    fn as_params(&self) -> [&Param<'_>; 20] {
        [
            &self.shared_keys,
            &self.shared_versions,
            &self.updated_keys,
            &self.updated_values,
            &self.updated_expected,
            &self.updated_commit,
            &self.removed_keys,
            &self.removed_expected,
            &self.created_keys,
            &self.created_values,
            &self.created_commit,
            &self.blind_keys,
            &self.blind_values,
            &self.blind_commit,
            &self.blind_deleted,
            &self.event_kinds,
            &self.event_payloads,
            &self.event_commit,
            &self.without_flush,
            &self.commits,
        ]
    }
}

/// Whether `batch` runs as one statement and so may be gathered.
pub(super) fn gathers(batch: &CommitBatch) -> bool {
    commit::runs_in_one(batch)
}
