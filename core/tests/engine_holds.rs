//! Holds and their confirmation, by behaviour: all or nothing, expiry by
//! the clock alone, resolving exactly once, extension caps and the expiry
//! sweep. Replays, promo limits, look-ups and events are in
//! `engine_hold_records.rs`.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use catalog::{d, rid, stay, world};
use chrono::Duration;
use holds::*;
use reservo::engine::{
    Engine, EngineConfig, ExtendRequest, HoldState, ReleaseRequest, SearchFor, SearchRequest,
};
use reservo::ids::HoldId;
use reservo::ports::{CommitBatch, Durability, Key, KeyRange, Record, Storage};
use reservo::store::MemoryStore;
use spy_store::{Hooks, Spy};

#[tokio::test]
async fn a_hold_takes_every_item_or_none() {
    let w = world().await;
    hold(&w, "first", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    // The doubles are free; the villa's 4 July is not.
    let err = w
        .engine
        .hold(&hold_request(
            "second",
            vec![
                double((7, 1), (7, 6)),
                double((7, 2), (7, 3)),
                villa((7, 4), (7, 6)),
            ],
            900,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert!(err.to_string().contains("2026-07-04"), "{err}");
    assert_eq!(w.store.dump(), before);
    let doubles = w
        .engine
        .night_availability(&rid("double"), d(7, 1), d(7, 6))
        .await
        .unwrap();
    assert!(doubles.iter().all(|n| n.available == 5), "{doubles:?}");
}

#[tokio::test]
async fn items_at_two_properties_are_refused_and_change_nothing() {
    let w = world().await;
    let before = w.store.dump();
    // The villa is Ana's, the lesson Rui's: one booking pays one owner.
    let err = w
        .engine
        .hold(&hold_request(
            "cart",
            vec![villa((7, 3), (7, 5)), lesson(7, 4, 2)],
            900,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let message = err.to_string();
    assert!(
        message.contains("surf-school") && message.contains("casa-azul"),
        "{message}"
    );
    assert_eq!(w.store.dump(), before);
    // Each on its own is fine.
    hold(&w, "villa", vec![villa((7, 3), (7, 5))]).await;
    hold(&w, "lesson", vec![lesson(7, 4, 2)]).await;
}

#[tokio::test]
async fn a_ttl_of_zero_or_above_the_maximum_is_refused_and_changes_nothing() {
    let w = world().await;
    let before = w.store.dump();
    for ttl in [0, 3601, u32::MAX] {
        let err = w
            .engine
            .hold(&hold_request("k", vec![villa((7, 3), (7, 5))], ttl))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "ttl {ttl}");
        assert!(err.to_string().contains(&ttl.to_string()), "{err}");
    }
    assert_eq!(w.store.dump(), before);
    // The maximum itself is allowed.
    let held = w
        .engine
        .hold(&hold_request("k", vec![villa((7, 3), (7, 5))], 3600))
        .await
        .unwrap();
    assert_eq!(
        held.expires_at,
        catalog::start_of_tests() + Duration::hours(1)
    );
}

#[tokio::test]
async fn an_expired_hold_never_blocks_availability_even_before_any_sweep() {
    let w = world().await;
    let first = w
        .engine
        .hold(&hold_request("first", vec![villa((7, 3), (7, 5))], 60))
        .await
        .unwrap();
    assert_eq!(villa_left(&w.engine, (7, 2), (7, 6)).await, [1, 0, 0, 1]);
    w.clock.advance(Duration::seconds(59));
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    w.clock.advance(Duration::seconds(1));
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [1, 1]);
    let nights = w
        .engine
        .night_availability(&rid("villa"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(nights.iter().all(|n| n.held == 0));
    let hits = w
        .engine
        .search(&SearchRequest {
            what: SearchFor::Stay(stay((7, 3), (7, 5))),
            party: adults(2),
            property: None,
        })
        .await
        .unwrap();
    assert!(hits.iter().any(|h| h.resource == rid("villa")));
    // The nights can be held again, and the stored hold reads as expired.
    hold(&w, "second", vec![villa((7, 3), (7, 5))]).await;
    let stored = w.engine.hold_by_id(&first.id).await.unwrap();
    assert_eq!(
        stored.state_at(reservo::ports::Clock::now(&*w.clock)),
        HoldState::Expired {
            at: first.expires_at
        }
    );
}

#[tokio::test]
async fn confirming_an_expired_hold_is_hold_expired_and_changes_nothing() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    w.clock.advance(Duration::seconds(900));
    let before = w.store.dump();
    let err = w
        .engine
        .confirm(&confirm_request("c", &id, ana()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_EXPIRED");
    for err in [
        w.engine
            .release(&ReleaseRequest::new(
                format!("release-162-{}", id),
                id.clone(),
            ))
            .await
            .unwrap_err(),
        w.engine
            .extend(&ExtendRequest::new(
                format!("extend-164-{}", id),
                id.clone(),
                60,
            ))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "HOLD_EXPIRED");
    }
    assert_eq!(w.store.dump(), before);
}

#[tokio::test]
async fn a_hold_resolves_exactly_once() {
    let w = world().await;
    let confirmed = hold(&w, "h1", vec![villa((7, 3), (7, 5))]).await;
    w.engine
        .confirm(&confirm_request("c1", &confirmed, ana()))
        .await
        .unwrap();
    let released = hold(&w, "h2", vec![double((7, 3), (7, 5))]).await;
    w.engine
        .release(&ReleaseRequest::new(
            format!("release-179-{}", released),
            released.clone(),
        ))
        .await
        .unwrap();
    let before = w.store.dump();
    for (id, state) in [(&confirmed, "confirmed"), (&released, "released")] {
        let errors = [
            w.engine
                .confirm(&confirm_request(&format!("again-{id}"), id, ana()))
                .await
                .unwrap_err(),
            w.engine
                .release(&ReleaseRequest::new(
                    format!("release-187-{}", id),
                    id.clone(),
                ))
                .await
                .unwrap_err(),
            w.engine
                .extend(&ExtendRequest::new(
                    format!("extend-191-{}", id),
                    id.clone(),
                    60,
                ))
                .await
                .unwrap_err(),
        ];
        for err in errors {
            assert_eq!(err.code(), "HOLD_ALREADY_RESOLVED");
            assert!(err.to_string().contains(state), "{err}");
        }
    }
    assert_eq!(w.store.dump(), before);
    // Expiry does not turn a resolved hold into an expired one.
    w.clock.advance(Duration::hours(3));
    assert_eq!(
        w.engine.expire_due(100).await.unwrap(),
        Vec::<HoldId>::new()
    );
    assert!(matches!(
        w.engine.hold_by_id(&released).await.unwrap().state,
        HoldState::Released { .. }
    ));
}

#[tokio::test]
async fn confirming_a_subset_books_it_and_releases_the_rest() {
    let w = world().await;
    let id = hold(
        &w,
        "h",
        vec![
            villa((7, 3), (7, 5)),
            double((7, 3), (7, 5)),
            double((7, 4), (7, 6)),
        ],
    )
    .await;
    for items in [vec![], vec![0, 0], vec![3]] {
        let mut bad = confirm_request("bad", &id, ana());
        bad.items = Some(items);
        let err = w.engine.confirm(&bad).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
    }
    let mut request = confirm_request("c", &id, ana());
    request.items = Some(vec![2, 1]);
    let booking = w.engine.confirm(&request).await.unwrap();
    let booked: Vec<&str> = booking
        .items
        .iter()
        .map(|i| i.resource().as_str())
        .collect();
    assert_eq!(booked, ["double", "double"]);
    assert_eq!(
        booking.total,
        booking.items[0]
            .quote
            .total()
            .checked_add(&booking.items[1].quote.total())
            .unwrap()
    );
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [1, 1]);
    let doubles = w
        .engine
        .night_availability(&rid("double"), d(7, 3), d(7, 6))
        .await
        .unwrap();
    let booked: Vec<(u32, u32)> = doubles.iter().map(|n| (n.booked, n.held)).collect();
    assert_eq!(booked, [(1, 0), (2, 0), (1, 0)]);
    let stored = w.engine.hold_by_id(&id).await.unwrap();
    assert_eq!(
        stored.state,
        HoldState::Confirmed {
            booking: booking.id.clone(),
            at: catalog::start_of_tests()
        }
    );
}

#[tokio::test]
async fn extend_moves_the_expiry_up_to_the_lifetime_cap_and_no_further() {
    let w = world().await;
    let t0 = catalog::start_of_tests();
    let held = w
        .engine
        .hold(&hold_request("h", vec![villa((7, 3), (7, 5))], 3600))
        .await
        .unwrap();
    assert_eq!(held.max_until, t0 + Duration::hours(2));
    w.clock.advance(Duration::minutes(50));
    let extended = w
        .engine
        .extend(&ExtendRequest::new(
            format!("extend-276-{}", held.id),
            held.id.clone(),
            3600,
        ))
        .await
        .unwrap();
    assert_eq!(extended.expires_at, t0 + Duration::minutes(110));
    // Past the first expiry, the extended hold still takes the villa.
    w.clock.advance(Duration::minutes(20));
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    assert_eq!(
        w.engine.expire_due(100).await.unwrap(),
        Vec::<HoldId>::new()
    );
    // Exactly up to the cap is fine; a second past it is not.
    let before = w.store.dump();
    let err = w
        .engine
        .extend(&ExtendRequest::new(
            format!("extend-287-{}", held.id),
            held.id.clone(),
            50 * 60 + 1,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_EXTENSION_LIMIT");
    assert_eq!(w.store.dump(), before);
    let capped = w
        .engine
        .extend(&ExtendRequest::new(
            format!("extend-290-{}", held.id),
            held.id.clone(),
            50 * 60,
        ))
        .await
        .unwrap();
    assert_eq!(capped.expires_at, held.max_until);
    assert_eq!(
        w.engine
            .extend(&ExtendRequest::new(
                format!("extend-293-{}", held.id),
                held.id.clone(),
                0
            ))
            .await
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
    w.clock.advance(Duration::minutes(50));
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [1, 1]);
}

#[tokio::test]
async fn expire_due_marks_each_hold_once_with_an_event_and_frees_its_ledgers() {
    let w = world().await;
    let short = w
        .engine
        .hold(&hold_request("short", vec![villa((7, 3), (7, 5))], 60))
        .await
        .unwrap();
    let lesson_hold = w
        .engine
        .hold(&hold_request("lesson", vec![lesson(7, 4, 3)], 120))
        .await
        .unwrap();
    let long = hold(&w, "long", vec![double((7, 3), (7, 4))]).await;
    w.clock.advance(Duration::seconds(60));
    assert_eq!(
        w.engine.expire_due(100).await.unwrap(),
        vec![short.id.clone()]
    );
    w.clock.advance(Duration::seconds(60));
    assert_eq!(
        w.engine.expire_due(100).await.unwrap(),
        vec![lesson_hold.id.clone()]
    );
    assert_eq!(
        w.engine.expire_due(100).await.unwrap(),
        Vec::<HoldId>::new()
    );
    assert_eq!(
        event_kinds(&w).await,
        [
            "hold.created",
            "hold.created",
            "hold.created",
            "hold.expired",
            "hold.expired"
        ]
    );
    for (id, expires_at) in [
        (&short.id, short.expires_at),
        (&lesson_hold.id, lesson_hold.expires_at),
    ] {
        let stored = w.engine.hold_by_id(id).await.unwrap();
        assert_eq!(stored.state, HoldState::Expired { at: expires_at });
    }
    // The expired holds are gone from the ledgers themselves; the live
    // one is still there.
    let ledgers: Vec<(String, String)> = w
        .store
        .dump()
        .records
        .into_iter()
        .filter(|r| r.key.starts_with("nt/") || r.key.starts_with("st/"))
        .map(|r| (r.key, String::from_utf8(r.value).unwrap()))
        .collect();
    for (key, value) in &ledgers {
        assert!(!value.contains(short.id.as_str()), "{key}: {value}");
        assert!(!value.contains(lesson_hold.id.as_str()), "{key}: {value}");
    }
    assert!(ledgers.iter().any(|(_, v)| v.contains(long.as_str())));
    assert_eq!(
        w.engine
            .confirm(&confirm_request("c", &short.id, ana()))
            .await
            .unwrap_err()
            .code(),
        "HOLD_EXPIRED"
    );
}

/// Hooks whose first scan of the hold expiry index returns a snapshot
/// taken earlier: a sweep that scanned, then lost the race to a confirm or
/// an extension.
struct StaleExpiryScan {
    snapshot: Mutex<Option<Vec<Record>>>,
}

impl Hooks for StaleExpiryScan {
    fn scan_instead(&self, range: &KeyRange) -> Option<Vec<Record>> {
        if range.start.starts_with("hx/") {
            self.snapshot.lock().unwrap().take()
        } else {
            None
        }
    }
}

#[tokio::test]
async fn the_sweep_skips_holds_resolved_or_extended_after_it_scanned() {
    let w = world().await;
    let ttl = |key, item| hold_request(key, vec![item], 60);
    let confirmed = w
        .engine
        .hold(&ttl("c", villa((7, 3), (7, 5))))
        .await
        .unwrap();
    let extended = w
        .engine
        .hold(&ttl("e", double((7, 3), (7, 5))))
        .await
        .unwrap();
    let snapshot = w.store.scan(&KeyRange::prefix("hx/"), 100).await.unwrap();
    assert_eq!(snapshot.len(), 2);
    w.engine
        .confirm(&confirm_request("c1", &confirmed.id, ana()))
        .await
        .unwrap();
    w.engine
        .extend(&ExtendRequest::new(
            format!("extend-407-{}", extended.id),
            extended.id.clone(),
            600,
        ))
        .await
        .unwrap();
    w.clock.advance(Duration::seconds(60));
    let stale = StaleExpiryScan {
        snapshot: Mutex::new(Some(snapshot)),
    };
    let sweeper = Engine::builder(Spy::over(w.store.clone(), stale))
        .clock(w.clock.clone())
        .build();
    assert_eq!(sweeper.expire_due(100).await.unwrap(), Vec::<HoldId>::new());
    assert!(!event_kinds(&w).await.contains(&"hold.expired".to_owned()));
    let doubles = w
        .engine
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(doubles.iter().all(|n| n.held == 1));
    // The extended hold's own index entry survived: it expires on time.
    w.clock.advance(Duration::seconds(540));
    assert_eq!(
        w.engine.expire_due(100).await.unwrap(),
        vec![extended.id.clone()]
    );
}

#[tokio::test]
async fn expire_due_takes_at_most_its_limit_oldest_first() {
    let w = world().await;
    let mut ids = Vec::new();
    for (n, ttl) in [(0u32, 30u32), (1, 10), (2, 20)] {
        let request = hold_request(&format!("h{n}"), vec![double((7, 3 + n), (7, 4 + n))], ttl);
        ids.push(w.engine.hold(&request).await.unwrap().id);
    }
    w.clock.advance(Duration::seconds(30));
    assert_eq!(
        w.engine.expire_due(2).await.unwrap(),
        [ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(w.engine.expire_due(2).await.unwrap(), [ids[0].clone()]);
}

/// Hooks that note each commit's first event kind and durability, and
/// count `get` calls.
#[derive(Default)]
struct StoreLog {
    commits: Mutex<Vec<(String, Durability)>>,
    /// `get` calls so far.
    gets: AtomicUsize,
}

impl StoreLog {
    fn on(inner: Arc<MemoryStore>) -> Arc<Spy<StoreLog>> {
        Spy::over(inner, StoreLog::default())
    }
}

#[async_trait]
impl Hooks for StoreLog {
    fn on_get(&self, _keys: &[Key]) {
        self.gets.fetch_add(1, Ordering::Relaxed);
    }

    async fn on_commit(&self, batch: &CommitBatch) {
        let kind = batch
            .events
            .first()
            .map(|e| e.kind.clone())
            .unwrap_or_default();
        self.commits.lock().unwrap().push((kind, batch.durability));
    }
}

#[tokio::test]
async fn only_a_new_hold_may_be_acknowledged_before_it_is_durable() {
    let w = world().await;
    for (durable_holds, nights) in [(false, ((7, 3), (7, 5))), (true, ((7, 6), (7, 8)))] {
        let log = StoreLog::on(w.store.clone());
        let engine = Engine::builder(log.clone())
            .clock(w.clock.clone())
            .config(EngineConfig {
                durable_holds,
                ..EngineConfig::default()
            })
            .build();
        let key = format!("durability-{durable_holds}");
        let hold = engine
            .hold(&hold_request(&key, vec![villa(nights.0, nights.1)], 900))
            .await
            .unwrap();
        engine
            .confirm(&confirm_request(&format!("{key}-c"), &hold.id, ana()))
            .await
            .unwrap();
        let commits = log.hooks.commits.lock().unwrap().clone();
        let (created, others): (Vec<_>, Vec<_>) =
            commits.iter().partition(|(kind, _)| kind == "hold.created");
        let expected = if durable_holds {
            Durability::Durable
        } else {
            Durability::Deferred
        };
        assert_eq!(created, [&("hold.created".to_owned(), expected)]);
        assert!(!others.is_empty());
        assert!(
            others.iter().all(|(_, d)| *d == Durability::Durable),
            "{others:?}"
        );
    }
}
