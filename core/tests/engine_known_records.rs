//! Holds and confirmations on what the engine knows (ADR 012): an engine
//! that wrote or read a ledger or a hold skips reading it again, and what
//! another engine changed meanwhile is still never sold twice nor refused
//! on stale grounds.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use catalog::{World, world};
use holds::*;
use reservo::booking::BookingStatus;
use reservo::engine::{Engine, Hold, HoldState, ReleaseRequest};
use reservo::ports::{CommitBatch, Key};
use spy_store::{Hooks, Spy};

/// Counts `get` calls and commits.
#[derive(Default)]
struct Counts {
    gets: AtomicUsize,
    commits: AtomicUsize,
}

#[async_trait]
impl Hooks for Counts {
    fn on_get(&self, _keys: &[Key]) {
        self.gets.fetch_add(1, Ordering::Relaxed);
    }

    async fn on_commit(&self, _batch: &CommitBatch) {
        self.commits.fetch_add(1, Ordering::Relaxed);
    }
}

impl Counts {
    /// (gets, commits) so far.
    fn now(&self) -> (usize, usize) {
        (
            self.gets.load(Ordering::Relaxed),
            self.commits.load(Ordering::Relaxed),
        )
    }
}

/// An engine over `w`'s store that counts its reads and commits, with the
/// catalog loaded.
async fn counted(w: &World) -> (Engine, Arc<Spy<Counts>>) {
    let spy = Spy::over(w.store.clone(), Counts::default());
    let engine = Engine::builder(spy.clone()).clock(w.clock.clone()).build();
    engine
        .quote(&double((7, 1), (7, 2)))
        .await
        .expect("the catalog loads");
    (engine, spy)
}

/// Another engine on `w`'s store: what it writes, the tested engine does
/// not know.
fn another_engine(w: &World) -> Engine {
    Engine::builder(w.store.clone())
        .clock(w.clock.clone())
        .build()
}

/// A hold of the villa (one unit), 3 to 5 July, through `engine`.
async fn hold_villa(engine: &Engine, key: &str) -> reservo::Result<Hold> {
    engine
        .hold(&hold_request(key, vec![villa((7, 3), (7, 5))], 900))
        .await
}

/// A hold and its confirmation through `engine`; the (gets, commits) each took.
async fn book(
    engine: &Engine,
    spy: &Spy<Counts>,
    key: &str,
    item: reservo::engine::QuoteRequest,
) -> [(usize, usize); 2] {
    let before = spy.hooks.now();
    let hold = engine
        .hold(&hold_request(key, vec![item], 900))
        .await
        .unwrap();
    let held = spy.hooks.now();
    let booking = engine
        .confirm(&confirm_request(&format!("{key}-c"), &hold.id, ana()))
        .await
        .unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    let confirmed = spy.hooks.now();
    [
        (held.0 - before.0, held.1 - before.1),
        (confirmed.0 - held.0, confirmed.1 - held.1),
    ]
}

/// Each round trip to a networked store is a large share of a booking's
/// time. An engine with its catalog loaded holds without reading the
/// catalog's epoch or the idempotency record (both pinned in the commit
/// instead), reads only ledgers it does not know yet, and confirms its
/// own hold without reading at all: one commit each.
#[tokio::test]
async fn a_booking_on_known_ledgers_reads_nothing_and_commits_twice() {
    let w = world().await;
    let (engine, spy) = counted(&w).await;
    assert_eq!(
        book(&engine, &spy, "new-nights", double((7, 6), (7, 8))).await,
        [(1, 1), (0, 1)],
        "new nights: their ledgers are read once"
    );
    assert_eq!(
        book(&engine, &spy, "known-nights", double((7, 6), (7, 8))).await,
        [(0, 1), (0, 1)],
        "the same nights again: nothing is read"
    );
    // A hold made by another engine is not known: its confirmation reads
    // the hold with the epoch and the idempotency record, then its ledgers.
    let other = another_engine(&w);
    let hold = other
        .hold(&hold_request("theirs", vec![double((7, 9), (7, 11))], 900))
        .await
        .unwrap();
    let before = spy.hooks.now();
    engine
        .confirm(&confirm_request("theirs-c", &hold.id, ana()))
        .await
        .unwrap();
    let after = spy.hooks.now();
    assert_eq!((after.0 - before.0, after.1 - before.1), (2, 1));
}

/// The engine knows the villa (one unit) free on these nights; another
/// engine then holds it. The known ledger is stale: the hold's commit
/// conflicts on it, and the hold, read afresh, is refused.
#[tokio::test]
async fn a_unit_another_engine_took_meanwhile_is_not_sold_twice() {
    let w = world().await;
    let (engine, spy) = counted(&w).await;
    let mine = hold_villa(&engine, "mine").await.unwrap();
    engine
        .release(&ReleaseRequest::new(
            format!("release-148-{}", mine.id),
            mine.id.clone(),
        ))
        .await
        .unwrap();
    let other = another_engine(&w);
    let theirs = hold_villa(&other, "theirs").await.unwrap();
    let before = spy.hooks.now();
    let err = hold_villa(&engine, "again").await.unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    let after = spy.hooks.now();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (2, 1),
        "one commit on the known ledgers (a conflict), then the reads"
    );
    assert_eq!(villa_left(&engine, (7, 3), (7, 5)).await, [0, 0]);
    let held = w.engine.hold_by_id(&theirs.id).await.unwrap();
    assert_eq!(held.state, HoldState::Active);
}

/// The engine knows the villa taken (by its own hold); another engine then
/// releases that hold. The known ledger would refuse a new hold: it is
/// read afresh instead, and the hold is made.
#[tokio::test]
async fn a_unit_another_engine_freed_meanwhile_is_not_refused() {
    let w = world().await;
    let (engine, _spy) = counted(&w).await;
    let first = hold_villa(&engine, "first").await.unwrap();
    let other = another_engine(&w);
    other
        .release(&ReleaseRequest::new(
            format!("release-174-{}", first.id),
            first.id.clone(),
        ))
        .await
        .unwrap();
    let second = hold_villa(&engine, "second")
        .await
        .expect("the villa is free again");
    assert_eq!(villa_left(&engine, (7, 3), (7, 5)).await, [0, 0]);
    let booking = engine
        .confirm(&confirm_request("second-c", &second.id, ana()))
        .await
        .unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
}

/// A replayed hold or confirmation, tried on what the engine knows, meets
/// its own idempotency record in the commit and answers as a replay.
#[tokio::test]
async fn replays_on_known_records_return_the_stored_results() {
    let w = world().await;
    let (engine, _spy) = counted(&w).await;
    let request = hold_request("replayed", vec![double((7, 3), (7, 5))], 900);
    let hold = engine.hold(&request).await.unwrap();
    assert_eq!(engine.hold(&request).await.unwrap().id, hold.id);
    let confirm = confirm_request("replayed-c", &hold.id, ana());
    let booking = engine.confirm(&confirm).await.unwrap();
    assert_eq!(engine.confirm(&confirm).await.unwrap().id, booking.id);
    let mut changed = request.clone();
    changed.ttl_seconds = 600;
    let err = engine.hold(&changed).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    // One unit held and booked once, whatever was replayed.
    let left = engine
        .night_availability(&catalog::rid("double"), catalog::d(7, 3), catalog::d(7, 5))
        .await
        .unwrap();
    assert!(left.iter().all(|n| n.available == 4), "{left:?}");
}
