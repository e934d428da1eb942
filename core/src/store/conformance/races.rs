//! Cases for concurrency: commits racing from tasks on several threads.
//!
//! Each racer is a spawned tokio task, so on a multi-thread runtime they run
//! in parallel; a store whose check-then-apply is not atomic lets two of
//! them win the same version.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::check::{
    EVERYTHING, Failure, Outcome, batch, ensure, ensure_eq, event, expect, fail, get_one, put,
};
use crate::ports::{CommitBatch, Committed, Storage, StorageError, Version};

/// Racers per race.
const RACERS: usize = 8;
/// Races run one after another, to give a broken store many chances to
/// show it.
const ROUNDS: usize = 12;
/// Increments each racer makes in the counter case.
const INCREMENTS_PER_RACER: usize = 25;

/// Starts every racer at once and collects what each commit returned.
async fn race(
    store: &Arc<dyn Storage>,
    batch_of: impl Fn(usize) -> CommitBatch,
) -> Vec<Result<Committed, StorageError>> {
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for racer in 0..RACERS {
        let (store, start, batch) = (Arc::clone(store), Arc::clone(&start), batch_of(racer));
        racers.spawn(async move {
            start.wait().await;
            (racer, store.commit(batch).await)
        });
    }
    let mut results: Vec<_> = racers.join_all().await;
    results.sort_by_key(|(racer, _)| *racer);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Checks that exactly one racer won and every other one conflicted on
/// `key`; returns the winner.
fn sole_winner(results: &[Result<Committed, StorageError>], key: &str) -> Result<usize, Failure> {
    let mut winners = Vec::new();
    for (racer, result) in results.iter().enumerate() {
        match result {
            Ok(_) => winners.push(racer),
            Err(StorageError::Conflict { key: named }) => {
                ensure_eq!(named, key, "key named by racer {racer}'s conflict")
            }
            Err(other) => fail!("racer {racer} failed with {other} instead of a conflict"),
        }
    }
    ensure!(
        winners.len() == 1,
        "racers {winners:?} all won the same expected version of {key}"
    );
    Ok(winners[0])
}

pub(crate) async fn racing_commits_on_one_version_have_exactly_one_winner(
    store: Arc<dyn Storage>,
) -> Outcome {
    let key = "race/slot";
    let mut expected: Option<Version> = None;
    for round in 0..ROUNDS {
        let results = race(&store, |racer| {
            batch(
                vec![expect(key, expected)],
                vec![put(key, racer.to_string().as_bytes())],
            )
        })
        .await;
        let winner = sole_winner(&results, key)?;
        let record = get_one(&store, key).await?;
        let won = results[winner].as_ref().map(|c| c.version).ok();
        ensure_eq!(
            record.map(|r| (r.value, Some(r.version))),
            Some((winner.to_string().into_bytes(), won)),
            "{key} after round {round}"
        );
        expected = won;
    }
    Ok(())
}

pub(crate) async fn racing_increments_with_retries_lose_no_update(
    store: Arc<dyn Storage>,
) -> Outcome {
    let key = "race/counter";
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut racers = JoinSet::new();
    for _ in 0..RACERS {
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        racers.spawn(async move {
            start.wait().await;
            increment_repeatedly(&store, key).await
        });
    }
    let mut versions = HashSet::new();
    for committed in racers.join_all().await {
        for version in committed? {
            ensure!(
                versions.insert(version),
                "two increments committed as {version}"
            );
        }
    }
    let total = RACERS * INCREMENTS_PER_RACER;
    let value = get_one(&store, key).await?.map(|r| r.value);
    ensure_eq!(
        value,
        Some(total.to_string().into_bytes()),
        "{key} after {total} increments"
    );
    let events = store.read_events(0, EVERYTHING).await?;
    ensure_eq!(events.len(), total, "events appended by {total} increments");
    ensure!(
        events.windows(2).all(|pair| pair[0].seq < pair[1].seq),
        "event sequences are not strictly increasing"
    );
    Ok(())
}

/// One racer: read, add one, commit expecting what was read; retry on
/// conflict. Returns the version of each increment.
async fn increment_repeatedly(
    store: &Arc<dyn Storage>,
    key: &str,
) -> Result<Vec<Version>, Failure> {
    let mut versions = Vec::with_capacity(INCREMENTS_PER_RACER);
    while versions.len() < INCREMENTS_PER_RACER {
        let current = get_one(store, key).await?;
        let count: usize = match &current {
            None => 0,
            Some(record) => std::str::from_utf8(&record.value)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| Failure(format!("{key} holds {:?}, not a count", record.value)))?,
        };
        // Let the other racers run between the read and the commit, as the
        // engine's work between them would.
        tokio::task::yield_now().await;
        let increment = CommitBatch {
            durability: Default::default(),
            expectations: vec![expect(key, current.map(|r| r.version))],
            mutations: vec![put(key, (count + 1).to_string().as_bytes())],
            events: vec![event("counter.incremented")],
        };
        match store.commit(increment).await {
            Ok(committed) => versions.push(committed.version),
            Err(StorageError::Conflict { .. }) => tokio::task::yield_now().await,
            Err(other) => return Err(other.into()),
        }
    }
    Ok(versions)
}
