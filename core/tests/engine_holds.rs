//! Holds and their confirmation, by behaviour: all or nothing, expiry by
//! the clock alone, resolving exactly once, extension caps, the expiry
//! sweep, idempotency, promo limits at confirmation, look-ups and events.

#[path = "support/catalog.rs"]
mod catalog;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use catalog::{World, d, rid, stay, world};
use chrono::{Duration, TimeZone, Utc};
use reservo::booking::Customer;
use reservo::engine::{
    ConfirmRequest, Engine, HoldRequest, HoldState, Item, QuoteRequest, SearchFor, SearchRequest,
};
use reservo::ids::HoldId;
use reservo::party::Party;
use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, Record, Storage, StorageError, StoredEvent,
};
use reservo::pricing::{Percentage, Promo, PromoCode, PromoDiscount, UsageLimit};
use reservo::store::MemoryStore;
use reservo::time::ManualClock;

fn adults(n: u32) -> Party {
    Party::adults(n).unwrap()
}

fn villa(from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(rid("villa"), stay(from, to), adults(2)))
}

fn double(from: (u32, u32), to: (u32, u32)) -> QuoteRequest {
    QuoteRequest::new(Item::stay(rid("double"), stay(from, to), adults(2)))
}

/// The 09:00 Lisbon lesson (08:00 UTC in summer) for `n` adults.
fn lesson(month: u32, day: u32, n: u32) -> QuoteRequest {
    let start = Utc.with_ymd_and_hms(2026, month, day, 8, 0, 0).unwrap();
    QuoteRequest::new(Item::session(rid("surf-lesson"), start, adults(n)))
}

fn hold_request(key: &str, items: Vec<QuoteRequest>, ttl_seconds: u32) -> HoldRequest {
    HoldRequest {
        idempotency_key: key.into(),
        items,
        ttl_seconds,
    }
}

fn ana() -> Customer {
    Customer::new("Ana Lima", "+351912345678", None).unwrap()
}

fn rui() -> Customer {
    Customer::new("Rui Costa", "+351934567890", None).unwrap()
}

fn confirm_request(key: &str, hold: &HoldId, customer: Customer) -> ConfirmRequest {
    ConfirmRequest {
        idempotency_key: key.into(),
        hold: hold.clone(),
        customer,
        items: None,
        attribution: Default::default(),
    }
}

async fn hold(w: &World, key: &str, items: Vec<QuoteRequest>) -> HoldId {
    w.engine
        .hold(&hold_request(key, items, 900))
        .await
        .unwrap()
        .id
}

async fn villa_left(engine: &Engine, from: (u32, u32), to: (u32, u32)) -> Vec<u32> {
    engine
        .night_availability(&rid("villa"), d(from.0, from.1), d(to.0, to.1))
        .await
        .unwrap()
        .iter()
        .map(|n| n.available)
        .collect()
}

async fn event_kinds(w: &World) -> Vec<String> {
    w.store
        .read_events(0, usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .filter(|k| k != "catalog.changed")
        .collect()
}

#[tokio::test]
async fn a_hold_takes_every_item_or_none() {
    let w = world().await;
    hold(&w, "first", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    // The lesson and the double are free; the villa's 4 July is not.
    let err = w
        .engine
        .hold(&hold_request(
            "second",
            vec![
                lesson(7, 2, 3),
                double((7, 1), (7, 6)),
                villa((7, 4), (7, 6)),
            ],
            900,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    assert!(err.to_string().contains("2026-07-04"), "{err}");
    assert_eq!(w.store.dump(), before);
    let seats = w
        .engine
        .session_availability(&rid("surf-lesson"), d(7, 2), d(7, 3))
        .await
        .unwrap();
    assert_eq!(seats[0].available, 8);
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
        w.engine.release(&id).await.unwrap_err(),
        w.engine.extend(&id, 60).await.unwrap_err(),
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
    w.engine.release(&released).await.unwrap();
    let before = w.store.dump();
    for (id, state) in [(&confirmed, "confirmed"), (&released, "released")] {
        let errors = [
            w.engine
                .confirm(&confirm_request(&format!("again-{id}"), id, ana()))
                .await
                .unwrap_err(),
            w.engine.release(id).await.unwrap_err(),
            w.engine.extend(id, 60).await.unwrap_err(),
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
            lesson(7, 4, 2),
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
    assert_eq!(booked, ["double", "surf-lesson"]);
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
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap();
    assert!(doubles.iter().all(|n| (n.booked, n.held) == (1, 0)));
    let seats = w
        .engine
        .session_availability(&rid("surf-lesson"), d(7, 4), d(7, 5))
        .await
        .unwrap();
    assert_eq!((seats[0].booked, seats[0].held), (2, 0));
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
    let extended = w.engine.extend(&held.id, 3600).await.unwrap();
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
    let err = w.engine.extend(&held.id, 50 * 60 + 1).await.unwrap_err();
    assert_eq!(err.code(), "HOLD_EXTENSION_LIMIT");
    assert_eq!(w.store.dump(), before);
    let capped = w.engine.extend(&held.id, 50 * 60).await.unwrap();
    assert_eq!(capped.expires_at, held.max_until);
    assert_eq!(
        w.engine.extend(&held.id, 0).await.unwrap_err().code(),
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

/// A store whose first scan of the hold expiry index returns a snapshot
/// taken earlier: a sweep that scanned, then lost the race to a confirm or
/// an extension.
struct StaleExpiryScan {
    inner: Arc<MemoryStore>,
    snapshot: Mutex<Option<Vec<Record>>>,
}

#[async_trait]
impl Storage for StaleExpiryScan {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.inner.get(keys).await
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        if range.start.starts_with("hx/") {
            if let Some(snapshot) = self.snapshot.lock().unwrap().take() {
                return Ok(snapshot);
            }
        }
        self.inner.scan(range, limit).await
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        self.inner.commit(batch).await
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.inner.read_events(after, limit).await
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
    w.engine.extend(&extended.id, 600).await.unwrap();
    w.clock.advance(Duration::seconds(60));
    let stale = StaleExpiryScan {
        inner: w.store.clone(),
        snapshot: Mutex::new(Some(snapshot)),
    };
    let sweeper = Engine::builder(Arc::new(stale))
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

#[tokio::test]
async fn a_replayed_hold_returns_the_same_hold_and_another_payload_conflicts() {
    let w = world().await;
    let request = hold_request("hold-1", vec![villa((7, 3), (7, 5))], 900);
    let first = w.engine.hold(&request).await.unwrap();
    let after_first = w.store.dump();
    w.clock.advance(Duration::seconds(5));
    let replay = w.engine.hold(&request).await.unwrap();
    assert_eq!(replay, first);
    assert_eq!(w.store.dump(), after_first);
    for other in [
        hold_request("hold-1", vec![villa((7, 3), (7, 6))], 900),
        hold_request("hold-1", vec![villa((7, 3), (7, 5))], 901),
    ] {
        let err = w.engine.hold(&other).await.unwrap_err();
        assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
        assert!(err.to_string().contains("hold-1"), "{err}");
    }
    // A key used by a hold cannot be reused to confirm.
    let err = w
        .engine
        .confirm(&confirm_request("hold-1", &first.id, ana()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(w.store.dump(), after_first);
}

#[tokio::test]
async fn a_replayed_confirm_returns_the_same_booking_and_another_payload_conflicts() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5)), double((7, 3), (7, 5))]).await;
    let request = confirm_request("confirm-1", &id, ana());
    let booking = w.engine.confirm(&request).await.unwrap();
    let after_first = w.store.dump();
    // A replay succeeds although the hold is resolved by now.
    assert_eq!(w.engine.confirm(&request).await.unwrap(), booking);
    assert_eq!(w.store.dump(), after_first);
    let mut subset = request.clone();
    subset.items = Some(vec![0]);
    let other_customer = confirm_request("confirm-1", &id, rui());
    for other in [subset, other_customer] {
        let err = w.engine.confirm(&other).await.unwrap_err();
        assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    }
    assert_eq!(w.store.dump(), after_first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_promo_usage_limit_holds_when_confirmations_race() {
    let w = world().await;
    w.engine
        .put_promo(Promo {
            code: PromoCode::new("FIRST3").unwrap(),
            discount: PromoDiscount::Percent(Percentage::parse("10").unwrap()),
            booking_window: None,
            stay_window: None,
            usage_limit: UsageLimit::MaxUses(3.try_into().unwrap()),
            min_nights: None,
        })
        .await
        .unwrap();
    // Eight holds priced before anyone used the code: all get the discount.
    let mut holds = Vec::new();
    for n in 0..8u32 {
        let item = double((7, 1 + n), (7, 2 + n)).with_promo("first3");
        holds.push(hold(&w, &format!("h{n}"), vec![item]).await);
    }
    let engine = Arc::new(w.engine);
    let tasks: Vec<_> = holds
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let engine = Arc::clone(&engine);
            let request = confirm_request(&format!("c{n}"), id, ana());
            tokio::spawn(async move { engine.confirm(&request).await })
        })
        .collect();
    let mut confirmed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => confirmed += 1,
            Err(err) => assert_eq!(err.code(), "PROMO_NOT_APPLICABLE"),
        }
    }
    assert_eq!(confirmed, 3);
    let mut active = 0;
    for id in &holds {
        let state = engine.hold_by_id(id).await.unwrap().state;
        active += usize::from(state == HoldState::Active);
    }
    assert_eq!(active, 5, "refused confirmations leave their holds active");
}

#[tokio::test]
async fn bookings_are_found_by_customer_and_by_resource_and_dates() {
    let w = world().await;
    let mut booked = Vec::new();
    for (n, (item, customer)) in [
        (villa((7, 3), (7, 5)), ana()),
        (double((7, 4), (7, 6)), rui()),
        (villa((7, 10), (7, 12)), ana()),
    ]
    .into_iter()
    .enumerate()
    {
        let id = hold(&w, &format!("h{n}"), vec![item]).await;
        w.clock.advance(Duration::seconds(1));
        let booking = w
            .engine
            .confirm(&confirm_request(&format!("c{n}"), &id, customer))
            .await
            .unwrap();
        booked.push(booking.id);
    }
    let ids = |bookings: Vec<reservo::engine::Booking>| -> Vec<_> {
        bookings.into_iter().map(|b| b.id).collect()
    };
    let anas = w.engine.bookings_by_customer(&ana().phone).await.unwrap();
    assert_eq!(ids(anas), [booked[0].clone(), booked[2].clone()]);
    let ruis = w.engine.bookings_by_customer(&rui().phone).await.unwrap();
    assert_eq!(ids(ruis), [booked[1].clone()]);
    assert!(
        w.engine
            .bookings_by_customer("+14155550100")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        w.engine
            .bookings_by_customer("not-a-phone")
            .await
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
    let villa_july = w
        .engine
        .bookings_for_resource(&rid("villa"), d(7, 1), d(8, 1))
        .await
        .unwrap();
    assert_eq!(ids(villa_july), [booked[0].clone(), booked[2].clone()]);
    // The range is of nights: 4 July is the villa's second night, 5 July
    // its check-out day.
    let on_the_4th = w
        .engine
        .bookings_for_resource(&rid("villa"), d(7, 4), d(7, 5))
        .await
        .unwrap();
    assert_eq!(ids(on_the_4th), [booked[0].clone()]);
    assert!(
        w.engine
            .bookings_for_resource(&rid("villa"), d(7, 5), d(7, 10))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn every_change_appends_its_event_in_commit_order() {
    let w = world().await;
    let confirmed = hold(&w, "h1", vec![villa((7, 3), (7, 5))]).await;
    let released = hold(&w, "h2", vec![double((7, 3), (7, 5))]).await;
    let extended = hold(&w, "h3", vec![lesson(7, 4, 1)]).await;
    w.engine.extend(&extended, 1200).await.unwrap();
    w.engine.release(&released).await.unwrap();
    let booking = w
        .engine
        .confirm(&confirm_request("c1", &confirmed, ana()))
        .await
        .unwrap();
    w.clock.advance(Duration::hours(1));
    w.engine.expire_due(10).await.unwrap();
    assert_eq!(
        event_kinds(&w).await,
        [
            "hold.created",
            "hold.created",
            "hold.created",
            "hold.extended",
            "hold.released",
            "booking.confirmed",
            "hold.expired",
        ]
    );
    let events = w.store.read_events(0, usize::MAX).await.unwrap();
    assert!(events.windows(2).all(|p| p[1].seq == p[0].seq + 1));
    let confirmed_event = events
        .iter()
        .find(|e| e.kind == "booking.confirmed")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&confirmed_event.payload).unwrap();
    assert_eq!(body["booking"]["id"], booking.id.as_str());
    assert_eq!(body["customer"]["phone"], "+351912345678");
    assert_eq!(body["period"]["start"], "2026-07-03");
    // Reading after a sequence number gives only what came later.
    let last_two = w
        .store
        .read_events(events[events.len() - 3].seq, usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        last_two.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["booking.confirmed", "hold.expired"]
    );
}

#[tokio::test]
async fn two_engines_on_one_store_never_hold_the_same_last_unit() {
    let w = world().await;
    let clock = Arc::new(ManualClock::new(catalog::start_of_tests()));
    let other = Engine::builder(w.store.clone()).clock(clock).build();
    hold(&w, "mine", vec![villa((7, 3), (7, 5))]).await;
    let err = other
        .hold(&hold_request("theirs", vec![villa((7, 4), (7, 6))], 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
}
