//! One optimistic change to storage, and the retry loop around it.
//!
//! Owns turning "what I read and what I want to write" into a
//! [`CommitBatch`] whose expectations pin every record the decision was
//! based on, and retrying the whole read-decide-commit cycle on conflict.
//! Must never commit a write without expecting the version it was read at.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use futures_util::lock::Mutex as AsyncMutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ports::{
    CommitBatch, Durability, Expectation, Key, Mutation, NewEvent, Record, StorageError, Version,
};

/// A change being assembled.
#[derive(Debug, Default)]
pub(crate) struct Txn {
    expectations: BTreeMap<Key, Option<Version>>,
    mutations: BTreeMap<Key, Mutation>,
    events: Vec<NewEvent>,
    durability: Durability,
}

impl Txn {
    /// Pins `key` at `version` (`None`: absent) for the commit.
    pub fn expect(&mut self, key: &str, version: Option<Version>) {
        self.expectations.insert(key.to_owned(), version);
    }

    /// Pins a record as read (or its absence).
    pub fn expect_read(&mut self, key: &str, record: Option<&Record>) {
        self.expect(key, record.map(|r| r.version));
    }

    pub fn put_raw(&mut self, key: &str, value: Vec<u8>) {
        let key = key.to_owned();
        self.mutations
            .insert(key.clone(), Mutation::Put { key, value });
    }

    pub fn put_json<T: Serialize>(&mut self, key: &str, value: &T) {
        self.put_raw(key, encode_json(value));
    }

    pub fn delete(&mut self, key: &str) {
        let key = key.to_owned();
        self.mutations.insert(key.clone(), Mutation::Delete { key });
    }

    pub fn event<T: Serialize>(&mut self, kind: &str, payload: &T) {
        self.events.push(NewEvent {
            kind: kind.to_owned(),
            payload: encode_json(payload),
        });
    }

    pub fn into_batch(self) -> CommitBatch {
        CommitBatch {
            expectations: self
                .expectations
                .into_iter()
                .map(|(key, version)| Expectation { key, version })
                .collect(),
            mutations: self.mutations.into_values().collect(),
            events: self.events,
            durability: self.durability,
        }
    }

    /// Lets the store acknowledge this commit before it is on stable
    /// storage (see [`Durability::Deferred`]): for commits whose loss in a
    /// power cut the engine and the guest recover from, never for one that
    /// records money or a booking.
    pub fn defer_durability(&mut self) {
        self.durability = Durability::Deferred;
    }
}

pub(crate) fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("engine records always serialize")
}

pub(crate) fn decode_json<T: DeserializeOwned>(record: &Record) -> Result<T> {
    serde_json::from_slice(&record.value).map_err(|e| Error::CorruptRecord {
        key: record.key.clone(),
        message: e.to_string(),
    })
}

/// Runs `attempt` until it does not end in a storage conflict, at most
/// `max_attempts` times. Each attempt must re-read what it depends on.
///
/// The first attempt runs freely. After a conflict on key `K`, every later
/// attempt first takes this process's queue for `K` ([`hot_key_turn`]), so
/// callers that keep colliding on one hot record take turns instead of
/// re-reading and failing together (a conflict storm: with 16 callers on
/// one resource, most commits were conflicts). Correctness does not depend
/// on the queue: every attempt still commits with its reads pinned, and
/// other processes are not queued at all.
pub(crate) async fn retry_on_conflict<T, F, Fut>(max_attempts: u32, mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut last_key: Option<String> = None;
    for _ in 0..max_attempts {
        let outcome = match &last_key {
            // A retry loop nested in an attempt that holds a turn does not
            // queue: one task never waits for a turn while holding one, so
            // turns cannot deadlock.
            Some(key) if !HOLDING_TURN.with(Cell::get) => {
                let _turn = hot_key_turn(key).lock().await;
                HoldingTurn(Box::pin(attempt())).await
            }
            _ => attempt().await,
        };
        match outcome {
            Err(Error::Storage(StorageError::Conflict { key })) => last_key = Some(key),
            other => return other,
        }
    }
    Err(Error::Contention {
        attempts: max_attempts,
        key: last_key.unwrap_or_default(),
    })
}

/// How many queues the keys of this process share.
const HOT_KEY_STRIPES: usize = 64;

/// The queue of retries for `key`: one async mutex among
/// [`HOT_KEY_STRIPES`], shared by every engine in the process (two keys on
/// one stripe only queue behind each other). An async mutex from
/// `futures-util`, so it works on any executor.
fn hot_key_turn(key: &str) -> &'static AsyncMutex<()> {
    static STRIPES: OnceLock<Vec<AsyncMutex<()>>> = OnceLock::new();
    let stripes =
        STRIPES.get_or_init(|| (0..HOT_KEY_STRIPES).map(|_| AsyncMutex::new(())).collect());
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
    &stripes[(hash % HOT_KEY_STRIPES as u64) as usize]
}

thread_local! {
    /// Whether the attempt being polled on this thread holds a hot-key
    /// turn. Nested retry loops run inside their parent's poll, on the same
    /// thread, so they see it.
    static HOLDING_TURN: Cell<bool> = const { Cell::new(false) };
}

/// An attempt run while holding a hot-key turn: marks [`HOLDING_TURN`]
/// while it is polled.
struct HoldingTurn<Fut>(Pin<Box<Fut>>);

impl<Fut: Future> Future for HoldingTurn<Fut> {
    type Output = Fut::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        let before = HOLDING_TURN.with(|holding| holding.replace(true));
        let polled = self.0.as_mut().poll(cx);
        HOLDING_TURN.with(|holding| holding.set(before));
        polled
    }
}
