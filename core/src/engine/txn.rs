//! One optimistic change to storage, and the retry loop around it.
//!
//! Owns turning "what I read and what I want to write" into a
//! [`CommitBatch`] whose expectations pin every record the decision was
//! based on, and retrying the whole read-decide-commit cycle on conflict.
//! Must never commit a write without expecting the version it was read at.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use futures_util::lock::Mutex as AsyncMutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys;
use crate::error::{Error, Result};
use crate::ports::{
    CommitBatch, Durability, Durable, Expectation, Key, Mutation, NewEvent, Record, StorageError,
    Version,
};

/// A change being assembled.
///
/// Expectations and writes are kept in the order they are made and put in
/// key order, each key once (its last expectation, its last write), by
/// [`Txn::into_batch`]: a booking's commit has ten or so keys, for which
/// sorting two short vectors once costs less than keeping two ordered maps
/// of owned keys as the commit is built.
#[derive(Debug, Default)]
pub(crate) struct Txn {
    expectations: Vec<Expectation>,
    mutations: Vec<Mutation>,
    events: Vec<NewEvent>,
    durability: Durability,
}

impl Txn {
    /// Pins `key` at `version` (`None`: absent) for the commit.
    pub fn expect(&mut self, key: impl Into<Key>, version: Option<Version>) {
        self.expectations.push(Expectation {
            key: key.into(),
            version,
        });
    }

    /// Pins a record as read (or its absence).
    pub fn expect_read(&mut self, key: impl Into<Key>, record: Option<&Record>) {
        self.expect(key, record.map(|r| r.version));
    }

    pub fn put_raw(&mut self, key: impl Into<Key>, value: Vec<u8>) {
        self.mutations.push(Mutation::Put {
            key: key.into(),
            value,
        });
    }

    pub fn put_json<T: Serialize>(&mut self, key: impl Into<Key>, value: &T) {
        self.put_raw(key, encode_json(value));
    }

    pub fn delete(&mut self, key: impl Into<Key>) {
        self.mutations.push(Mutation::Delete { key: key.into() });
    }

    pub fn event<T: Serialize>(&mut self, kind: &str, payload: &T) {
        self.events.push(NewEvent {
            kind: kind.to_owned(),
            payload: encode_json(payload),
        });
    }

    /// The batch: expectations and writes in key order, each key once —
    /// the last expectation or write made for it wins.
    pub fn into_batch(self) -> CommitBatch {
        CommitBatch {
            expectations: last_of_each_key(self.expectations, |e| &e.key),
            mutations: last_of_each_key(self.mutations, Mutation::key),
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

    /// What the commit will write to ledgers and holds, in order: each
    /// key with its value (`None`: deleted). For [`super::known`].
    pub fn ledger_and_hold_writes(&self) -> Vec<(Key, Option<Vec<u8>>)> {
        self.mutations
            .iter()
            .filter(|m| keys::is_ledger_or_hold(m.key()))
            .map(|m| match m {
                Mutation::Put { key, value } => (key.clone(), Some(value.clone())),
                Mutation::Delete { key } => (key.clone(), None),
            })
            .collect()
    }
}

/// Records a command read ahead, in the `get` that opened it, so that its
/// later steps need not read them again (one round trip instead of several
/// on a networked store). Each was read in that one snapshot and is pinned
/// in the commit like any other read, so a stale one is a conflict.
#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    records: HashMap<Key, Option<Record>>,
}

impl ReadAhead {
    /// Keeps `records`, read at `keys`.
    pub fn of(keys: impl IntoIterator<Item = Key>, records: Vec<Option<Record>>) -> Self {
        ReadAhead {
            records: keys.into_iter().zip(records).collect(),
        }
    }

    /// The record read ahead at `key` (`Some(None)`: read, and absent), or
    /// `None` if it was not read ahead.
    pub fn take(&mut self, key: &str) -> Option<Option<Record>> {
        self.records.remove(key)
    }

    /// The records at every one of `keys`, if all were read ahead.
    pub fn all(&self, keys: &[Key]) -> Option<Vec<Option<Record>>> {
        keys.iter()
            .map(|key| self.records.get(key).cloned())
            .collect()
    }
}

/// `items` in the order of `key_of`, keeping only the last item (in the
/// original order) of each key.
fn last_of_each_key<T>(mut items: Vec<T>, key_of: impl Fn(&T) -> &str) -> Vec<T> {
    // A stable sort keeps each key's items in the order they were made.
    items.sort_by(|a, b| key_of(a).cmp(key_of(b)));
    let mut kept: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        match kept.last_mut() {
            Some(last) if key_of(last) == key_of(&item) => *last = item,
            _ => kept.push(item),
        }
    }
    kept
}

/// A JSON buffer that grew past this is not kept for the next call.
const KEEP_AT_MOST: usize = 64 * 1024;

thread_local! {
    /// The buffer [`encode_json`] writes into, kept between calls.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `value` as compact JSON, in a vector of exactly its length.
///
/// The JSON is written into a buffer this thread keeps between calls and
/// then copied out once: written straight into a new vector, a booking
/// record (~2 KB) grew it five times, and a hold + confirm made ~25 such
/// reallocations.
pub(crate) fn encode_json<T: Serialize>(value: &T) -> Vec<u8> {
    let encode = |out: &mut Vec<u8>| {
        serde_json::to_writer(out, value).expect("engine records always serialize");
    };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => {
            scratch.clear();
            encode(&mut scratch);
            let encoded = scratch.to_vec();
            if scratch.capacity() > KEEP_AT_MOST {
                *scratch = Vec::new();
            }
            encoded
        }
        // A `Serialize` impl that encodes something of its own while
        // being encoded: give it a buffer of its own.
        Err(_) => {
            let mut out = Vec::new();
            encode(&mut out);
            out
        }
    })
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
///
/// An attempt that holds the turn commits through
/// [`Storage::commit_applied`](crate::ports::Storage::commit_applied): the
/// turn passes to the next caller as soon as the commit is applied, and
/// this waits for it to be durable after giving the turn back (ADR 020).
/// So nothing is answered before it is durable, and an attempt must never
/// call out of the engine (a gateway, an SMS sender) after a commit.
pub(crate) async fn retry_on_conflict<T, F, Fut>(max_attempts: u32, attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_contending(max_attempts, None, attempt).await
}

/// [`retry_on_conflict`] for a command that knows what it will contend on
/// (`contended`: the resource whose inventory it takes). Its conflicts,
/// whatever key they name, queue its retries on `contended`, and they make
/// `contended` hot: while it is hot, even first attempts take its turn. It
/// stays hot while other callers wait for the turn, and cools after
/// [`HOT_FOR`] successes with nobody else in line. (Cooling after a fixed
/// number of successes let the queue lapse in the middle of a rush: every
/// caller's next first attempt went at once and all but one conflicted,
/// 0.11 conflicts a booking with 16 callers on one resource; now none.) Under
/// a rush on one resource (the last rooms of a date, an on-sale) that
/// spares nearly every first attempt a read, a commit and a conflict that
/// were bound to be wasted; otherwise it costs nothing.
pub(crate) async fn retry_contending<T, F, Fut>(
    max_attempts: u32,
    contended: Option<&str>,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut last_key: Option<String> = None;
    let mut queue: Option<&str> = contended.filter(|hint| heat_of(hint).load(Relaxed) > 0);
    for _ in 0..max_attempts {
        let mut others_in_line = false;
        let outcome = match queue.or(last_key.as_deref()) {
            // A retry loop nested in an attempt that holds a turn does not
            // queue: one task never waits for a turn while holding one, so
            // turns cannot deadlock.
            Some(key) if !HOLDING_TURN.with(Cell::get) => {
                let (turn, line) = hot_key_turn(key);
                let (outcome, unsynced) = {
                    let _in_line = InLine::join(line);
                    let _turn = turn.lock().await;
                    let mut held = HoldingTurn {
                        attempt: Box::pin(attempt()),
                        unsynced: Vec::new(),
                    };
                    let outcome = (&mut held).await;
                    others_in_line = line.load(Relaxed) > 1;
                    (outcome, held.unsynced)
                };
                // The turn is given back: the next caller goes on while
                // this one's commits are synced.
                for durable in unsynced {
                    durable.wait().await?;
                }
                outcome
            }
            _ => attempt().await,
        };
        match outcome {
            Err(Error::Storage(StorageError::Conflict { key })) => {
                if let Some(hint) = contended {
                    heat_of(hint).store(HOT_FOR, Relaxed);
                    queue = Some(hint);
                }
                last_key = Some(key);
            }
            other => {
                if let Some(hint) = contended {
                    if others_in_line {
                        // Others wait for the turn: the rush goes on.
                        heat_of(hint).store(HOT_FOR, Relaxed);
                    } else {
                        cool(heat_of(hint));
                    }
                }
                return other;
            }
        }
    }
    Err(Error::Contention {
        attempts: max_attempts,
        key: last_key.unwrap_or_default(),
    })
}

/// How many attempts on a contended resource must succeed after its last
/// conflict before first attempts stop queueing for it.
const HOT_FOR: u32 = 32;

/// The heat of the stripe `contended` falls on: above zero, first attempts
/// on it queue.
fn heat_of(contended: &str) -> &'static AtomicU32 {
    static HEAT: [AtomicU32; HOT_KEY_STRIPES] = [const { AtomicU32::new(0) }; HOT_KEY_STRIPES];
    &HEAT[stripe_of(contended)]
}

/// One success on a hot stripe: its heat goes down by one (never below
/// zero; a stripe that is not hot is not written).
fn cool(heat: &AtomicU32) {
    if heat.load(Relaxed) > 0 {
        let _ = heat.fetch_update(Relaxed, Relaxed, |h| h.checked_sub(1));
    }
}

/// How many queues the keys of this process share.
pub(crate) const HOT_KEY_STRIPES: usize = 64;

/// The queue of retries for `key`: one async mutex among
/// [`HOT_KEY_STRIPES`], shared by every engine in the process (two keys on
/// one stripe only queue behind each other), and how many tasks hold or
/// wait for it. An async mutex from `futures-util`, so it works on any
/// executor.
fn hot_key_turn(key: &str) -> (&'static AsyncMutex<()>, &'static AtomicU32) {
    static STRIPES: OnceLock<Vec<AsyncMutex<()>>> = OnceLock::new();
    static IN_LINE: [AtomicU32; HOT_KEY_STRIPES] = [const { AtomicU32::new(0) }; HOT_KEY_STRIPES];
    let stripes =
        STRIPES.get_or_init(|| (0..HOT_KEY_STRIPES).map(|_| AsyncMutex::new(())).collect());
    let stripe = stripe_of(key);
    (&stripes[stripe], &IN_LINE[stripe])
}

/// A task counted in a turn's line from joining it until dropped (its
/// attempt is over, or its future was dropped while it waited).
struct InLine(&'static AtomicU32);

impl InLine {
    fn join(line: &'static AtomicU32) -> InLine {
        line.fetch_add(1, Relaxed);
        InLine(line)
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

/// The stripe of `key` among [`HOT_KEY_STRIPES`].
pub(crate) fn stripe_of(key: &str) -> usize {
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
    (hash % HOT_KEY_STRIPES as u64) as usize
}

thread_local! {
    /// Whether the attempt being polled on this thread holds a hot-key
    /// turn. Nested retry loops run inside their parent's poll, on the same
    /// thread, so they see it.
    static HOLDING_TURN: Cell<bool> = const { Cell::new(false) };

    /// The commits the turn-holding attempt being polled on this thread
    /// made that are applied but not yet durable; `None` outside such an
    /// attempt.
    static UNSYNCED: RefCell<Option<Vec<Durable>>> = const { RefCell::new(None) };
}

/// Whether a commit made now may be answered before it is durable: it is
/// made in an attempt that holds a turn, which waits for it afterwards.
pub(crate) fn may_commit_applied() -> bool {
    UNSYNCED.with(|unsynced| unsynced.borrow().is_some())
}

/// Leaves `durable` for the turn-holding attempt being polled to wait
/// for once it gives its turn back; gives it back if there is none.
pub(crate) fn wait_after_turn(durable: Durable) -> Option<Durable> {
    if !durable.is_pending() {
        return None;
    }
    UNSYNCED.with(|unsynced| match unsynced.borrow_mut().as_mut() {
        Some(unsynced) => {
            unsynced.push(durable);
            None
        }
        None => Some(durable),
    })
}

/// An attempt run while holding a hot-key turn: marks [`HOLDING_TURN`]
/// while it is polled, and collects its commits that are not yet durable
/// ([`UNSYNCED`]).
struct HoldingTurn<Fut> {
    attempt: Pin<Box<Fut>>,
    unsynced: Vec<Durable>,
}

impl<Fut: Future> Future for HoldingTurn<Fut> {
    type Output = Fut::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        let this = &mut *self;
        let before = HOLDING_TURN.with(|holding| holding.replace(true));
        let outer = UNSYNCED.with(|u| u.replace(Some(std::mem::take(&mut this.unsynced))));
        let polled = this.attempt.as_mut().poll(cx);
        this.unsynced = UNSYNCED.with(|u| u.replace(outer)).unwrap_or_default();
        HOLDING_TURN.with(|holding| holding.set(before));
        polled
    }
}

#[cfg(test)]
mod tests;
