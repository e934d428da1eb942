//! Many tasks on a multi-thread runtime racing for the last units of one
//! resource through hold, extend, confirm, release and expiry, on the
//! in-memory store and on SQLite: inventory never goes below zero, nothing
//! is sold twice, and every booking the engine acknowledged is there.

#[path = "support/catalog.rs"]
mod catalog;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use catalog::{d, nightly, nightly_plan, rid, start_of_tests};
use chrono::{Duration, NaiveDate};
use reservo::booking::Customer;
use reservo::catalog::Property;
use reservo::engine::{
    Booking, ConfirmRequest, Engine, ExtendRequest, HoldRequest, Item, QuoteRequest, ReleaseRequest,
};
use reservo::party::Party;
use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, Record, Storage, StorageError, StoredEvent,
};
use reservo::store::MemoryStore;
use reservo::time::{ManualClock, Stay};

/// Units of the raced room type.
const UNITS: u32 = 4;
/// The raced nights: 1 to 6 July.
const FIRST_NIGHT: (u32, u32) = (7, 1);
const NIGHTS: i64 = 5;
const TASKS: u64 = 12;
const ROUNDS: u64 = 25;

/// A store that yields to the scheduler before every call, as a store
/// over a network would: reads and commits of different tasks interleave
/// far more often than on a store that never awaits.
struct Yielding<S>(S);

#[async_trait]
impl<S: Storage> Storage for Yielding<S> {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        tokio::task::yield_now().await;
        self.0.get(keys).await
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        tokio::task::yield_now().await;
        self.0.scan(range, limit).await
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        tokio::task::yield_now().await;
        self.0.commit(batch).await
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.0.read_events(after, limit).await
    }
}

/// What one racing task was told by the engine.
#[derive(Default)]
struct Acknowledged {
    bookings: Vec<Booking>,
    released: usize,
    refused: BTreeMap<&'static str, usize>,
}

/// A small deterministic generator (xorshift64), one per task.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn first_night() -> NaiveDate {
    d(FIRST_NIGHT.0, FIRST_NIGHT.1)
}

async fn set_up(storage: Arc<dyn Storage>, clock: Arc<ManualClock>) -> Engine {
    let engine = Engine::builder(storage).clock(clock).build();
    engine
        .put_property(Property::new("inn", "Inn", "owner-ana", "Europe/Lisbon", "EUR").unwrap())
        .await
        .unwrap();
    engine
        .put_rate_plan(nightly_plan("flex", "100.00"))
        .await
        .unwrap();
    engine
        .put_resource(nightly("room", "inn", UNITS, 2, "flex"))
        .await
        .unwrap();
    engine
}

/// One task: holds random stays inside the raced nights and then confirms,
/// releases, extends and confirms, or abandons them to expiry.
async fn racer(engine: Arc<Engine>, task: u64) -> Acknowledged {
    let mut dice = Dice(0x2545_F491_4F6C_DD1D ^ (task + 1).wrapping_mul(0x9E37_79B9));
    let mut seen = Acknowledged::default();
    let customer = Customer::new("Racer", &format!("+3519{:08}", task), None).unwrap();
    for round in 0..ROUNDS {
        let from = first_night() + Duration::days(dice.below(NIGHTS as u64) as i64);
        let nights = 1 + dice.below(3) as i64;
        let to = (from + Duration::days(nights)).min(first_night() + Duration::days(NIGHTS));
        let request = HoldRequest::new(
            format!("h-{task}-{round}"),
            vec![QuoteRequest::new(Item::stay(
                rid("room"),
                Stay::new(from, to).unwrap(),
                Party::adults(1).unwrap(),
            ))],
            30 + dice.below(60) as u32,
        );
        let hold = match engine.hold(&request).await {
            Ok(hold) => hold,
            Err(err) => {
                *seen.refused.entry(code(&err)).or_default() += 1;
                continue;
            }
        };
        let confirm = ConfirmRequest {
            idempotency_key: format!("c-{task}-{round}"),
            hold: hold.id.clone(),
            customer: Some(customer.clone()),
            items: None,
            attribution: Default::default(),
            metadata: Default::default(),
        };
        let outcome = match dice.below(4) {
            0 => engine
                .release(&ReleaseRequest::new(
                    format!("r-{task}-{round}"),
                    hold.id.clone(),
                ))
                .await
                .map(|_| None),
            1 => match engine
                .extend(&ExtendRequest::new(
                    format!("e-{task}-{round}"),
                    hold.id.clone(),
                    60,
                ))
                .await
            {
                Ok(_) => engine.confirm(&confirm).await.map(Some),
                Err(err) => Err(err),
            },
            2 => Ok(None), // abandoned: it expires by the clock
            _ => engine.confirm(&confirm).await.map(Some),
        };
        match outcome {
            Ok(Some(booking)) => seen.bookings.push(booking),
            Ok(None) => seen.released += 1,
            Err(err) => *seen.refused.entry(code(&err)).or_default() += 1,
        }
        tokio::task::yield_now().await;
    }
    seen
}

fn code(err: &reservo::Error) -> &'static str {
    let code = err.code();
    assert!(
        ["UNAVAILABLE", "HOLD_EXPIRED", "CONTENTION"].contains(&code),
        "unexpected error in the race: {err}"
    );
    code
}

/// Moves the clock in 7-second steps and sweeps expiries, while the racers run.
async fn clock_and_sweeper(engine: Arc<Engine>, clock: Arc<ManualClock>, steps: u32) {
    for _ in 0..steps {
        clock.advance(Duration::seconds(7));
        engine.expire_due(100).await.unwrap();
        tokio::task::yield_now().await;
    }
}

async fn race(storage: Arc<dyn Storage>) {
    let clock = Arc::new(ManualClock::new(start_of_tests()));
    // Two engines on one store, each with its own catalog cache.
    let engines = [
        Arc::new(set_up(storage.clone(), clock.clone()).await),
        Arc::new(Engine::builder(storage).clock(clock.clone()).build()),
    ];
    let sweeper = tokio::spawn(clock_and_sweeper(engines[0].clone(), clock.clone(), 200));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(racer(engines[task as usize % 2].clone(), task)))
        .collect();
    let mut acknowledged = Vec::new();
    let mut refused: BTreeMap<&str, usize> = BTreeMap::new();
    for task in tasks {
        let seen = task.await.unwrap();
        acknowledged.extend(seen.bookings);
        for (code, n) in seen.refused {
            *refused.entry(code).or_default() += n;
        }
    }
    sweeper.await.unwrap();
    assert!(!acknowledged.is_empty(), "nothing was booked: {refused:?}");
    assert!(
        refused.get("UNAVAILABLE").copied().unwrap_or(0) > 0,
        "the race never ran out of rooms, so it proves nothing: {refused:?}"
    );

    // Nothing sold twice, counted from the bookings themselves.
    let mut sold: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for booking in &acknowledged {
        for item in &booking.items {
            for used in &item.uses {
                *sold.entry(used.date).or_default() += used.units;
            }
        }
    }
    assert!(sold.values().all(|units| *units <= UNITS), "{sold:?}");

    // The ledgers agree, never go below zero, and hold nothing live once
    // every hold has expired.
    let engine = &engines[1];
    let end = first_night() + Duration::days(NIGHTS);
    for night in engine
        .night_availability(&rid("room"), first_night(), end)
        .await
        .unwrap()
    {
        assert!(
            night.blocked + night.held + night.booked + night.available <= night.capacity,
            "{night:?}"
        );
        assert_eq!(
            night.booked,
            sold.get(&night.date).copied().unwrap_or(0),
            "{night:?}"
        );
    }
    clock.advance(Duration::hours(3));
    for night in engine
        .night_availability(&rid("room"), first_night(), end)
        .await
        .unwrap()
    {
        assert_eq!(night.held, 0, "{night:?}");
        assert_eq!(night.available, UNITS - night.booked, "{night:?}");
    }

    // Every acknowledged booking is stored, and no other.
    let stored = engine
        .bookings_for_resource(&rid("room"), first_night(), end)
        .await
        .unwrap();
    let stored_ids: BTreeSet<_> = stored.iter().map(|b| b.id.clone()).collect();
    let acknowledged_ids: BTreeSet<_> = acknowledged.iter().map(|b| b.id.clone()).collect();
    assert_eq!(stored_ids, acknowledged_ids);
    for booking in &acknowledged {
        assert_eq!(&engine.booking(&booking.id).await.unwrap(), booking);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tasks_never_oversell_the_last_units_in_memory() {
    race(Arc::new(Yielding(MemoryStore::new()))).await;
}

/// A store that counts the commits answered before they were durable.
#[cfg(feature = "sqlite")]
struct CountingEarly<S> {
    inner: S,
    early: std::sync::atomic::AtomicUsize,
}

#[cfg(feature = "sqlite")]
#[async_trait]
impl<S: Storage> Storage for CountingEarly<S> {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.inner.get(keys).await
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        self.inner.scan(range, limit).await
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        self.inner.commit(batch).await
    }

    async fn commit_applied(
        &self,
        batch: CommitBatch,
    ) -> Result<(Committed, reservo::ports::Durable), StorageError> {
        let (committed, durable) = self.inner.commit_applied(batch).await?;
        if durable.is_pending() {
            self.early
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok((committed, durable))
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.inner.read_events(after, limit).await
    }
}

/// On SQLite, the commits made in a turn on the contended room are
/// answered once applied (ADR 020), and every acknowledged booking still
/// checks out.
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tasks_never_oversell_the_last_units_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = reservo::store::SqliteStore::open(dir.path().join("race.sqlite")).unwrap();
    let store = Arc::new(CountingEarly {
        inner: store,
        early: Default::default(),
    });
    race(store.clone()).await;
    assert!(
        store.early.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "no commit was made in a turn and answered before its sync"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_one_last_unit_books_it_exactly_once() {
    let clock = Arc::new(ManualClock::new(start_of_tests()));
    let store = Arc::new(Yielding(MemoryStore::new()));
    let engine = Arc::new(set_up(store, clock).await);
    let stay = Stay::new(d(7, 10), d(7, 12)).unwrap();
    // Take all but one unit first.
    for n in 0..UNITS - 1 {
        let item = Item::stay(rid("room"), stay, Party::adults(1).unwrap());
        engine
            .hold(&HoldRequest::new(
                format!("taken-{n}"),
                vec![QuoteRequest::new(item)],
                600,
            ))
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let item = Item::stay(rid("room"), stay, Party::adults(1).unwrap());
                let hold = engine
                    .hold(&HoldRequest::new(
                        format!("last-{n}"),
                        vec![QuoteRequest::new(item)],
                        600,
                    ))
                    .await?;
                engine
                    .confirm(&ConfirmRequest {
                        idempotency_key: format!("confirm-{n}"),
                        hold: hold.id,
                        customer: Some(Customer::new("Last", "+351911111111", None).unwrap()),
                        items: None,
                        attribution: Default::default(),
                        metadata: Default::default(),
                    })
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(err) => assert_eq!(err.code(), "UNAVAILABLE"),
        }
    }
    assert_eq!(won, 1);
    let nights = engine
        .night_availability(&rid("room"), d(7, 10), d(7, 12))
        .await
        .unwrap();
    assert!(
        nights
            .iter()
            .all(|n| (n.held, n.booked, n.available) == (UNITS - 1, 1, 0))
    );
}
