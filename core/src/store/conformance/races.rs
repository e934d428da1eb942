//! Cases for concurrency: commits racing from tasks on several threads.
//!
//! Each racer is a spawned tokio task, so on a multi-thread runtime they run
//! in parallel; a store whose check-then-apply is not atomic lets two of
//! them win the same version.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
/// Commits each writer makes in the outbox-following case.
const COMMITS_PER_WRITER: usize = 15;
/// The page size of the reader following the outbox: small, so it reads
/// often while the writers commit.
const FOLLOW_PAGE: usize = 7;

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

/// Writers commit events while a reader follows the outbox from a cursor,
/// as a host's consumer does. Everything the reader saw must be exactly
/// the store's whole outbox at the end: a store that gives out sequence
/// numbers before its commits are visible lets the reader move past a
/// number that becomes visible later, and that event is never seen.
pub(crate) async fn a_reader_following_the_outbox_during_commits_misses_nothing(
    store: Arc<dyn Storage>,
) -> Outcome {
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (Arc::clone(&store), Arc::clone(&done));
        tokio::spawn(async move { follow(&store, &done).await })
    };
    let mut writers = JoinSet::new();
    for writer in 0..RACERS {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            for i in 0..COMMITS_PER_WRITER {
                let events = (0..=i % 2)
                    .map(|j| event(&format!("follow.{writer}.{i}.{j}")))
                    .collect();
                let commit = CommitBatch {
                    durability: Default::default(),
                    expectations: vec![],
                    mutations: vec![put(&format!("follow/{writer}/{i}"), b"1")],
                    events,
                };
                store.commit(commit).await?;
                tokio::task::yield_now().await;
            }
            Ok::<(), StorageError>(())
        });
    }
    for written in writers.join_all().await {
        written?;
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader
        .await
        .map_err(|e| Failure(format!("the reader following the outbox panicked: {e}")))??;
    let all: Vec<(u64, String)> = store
        .read_events(0, EVERYTHING)
        .await?
        .into_iter()
        .map(|e| (e.seq, e.kind))
        .collect();
    let per_writer: usize = (0..COMMITS_PER_WRITER).map(|i| 1 + i % 2).sum();
    ensure_eq!(all.len(), RACERS * per_writer, "events in the outbox");
    ensure!(
        seen == all,
        "the reader following the outbox saw {} of {} events; first missed: {:?}",
        seen.len(),
        all.len(),
        all.iter().find(|event| !seen.contains(event))
    );
    Ok(())
}

/// Reads the outbox page by page from a cursor until the writers are done
/// and nothing is left; returns every `(seq, kind)` seen, in order.
async fn follow(
    store: &Arc<dyn Storage>,
    done: &AtomicBool,
) -> Result<Vec<(u64, String)>, Failure> {
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        // Read before the page, so the last (empty) page is read after
        // every commit returned.
        let finished = done.load(Ordering::SeqCst);
        let page = store.read_events(cursor, FOLLOW_PAGE).await?;
        for event in &page {
            ensure!(
                event.seq > cursor,
                "read_events after {cursor} returned sequence {}",
                event.seq
            );
            cursor = event.seq;
            seen.push((event.seq, event.kind.clone()));
        }
        if page.is_empty() {
            if finished {
                return Ok(seen);
            }
            tokio::task::yield_now().await;
        }
    }
}
