//! Holds and bookings as records: idempotent replays, promo limits under
//! racing confirmations, look-ups by customer and by resource, the event
//! outbox, and two engines sharing one store.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::sync::{Arc, Mutex};

use catalog::{d, limited_promo, rid, world};
use chrono::Duration;
use holds::*;
use reservo::engine::{Engine, ExtendRequest, HoldState, ReleaseRequest};
use reservo::ports::{Key, Storage};
use reservo::time::ManualClock;
use spy_store::{Hooks, Spy};

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
        .put_promo(limited_promo("FIRST3", 3))
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

/// Each promo code counts its own uses: using up one leaves another.
#[tokio::test]
async fn each_promo_code_counts_its_own_uses() {
    let w = world().await;
    for code in ["ONCE", "ALSO-ONCE"] {
        w.engine.put_promo(limited_promo(code, 1)).await.unwrap();
    }
    let codes = ["once", "also-once", "once"];
    let mut holds = Vec::new();
    for (n, code) in codes.iter().enumerate() {
        let night = 1 + u32::try_from(n).unwrap();
        let item = double((7, night), (7, night + 1)).with_promo(*code);
        holds.push(hold(&w, &format!("h{n}"), vec![item]).await);
    }
    for (n, id) in holds.iter().enumerate().take(2) {
        let request = confirm_request(&format!("c{n}"), id, ana());
        w.engine.confirm(&request).await.unwrap();
    }
    let again = confirm_request("c2", &holds[2], ana());
    let err = w.engine.confirm(&again).await.unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE");
}

/// Every key a store was asked to `get`.
#[derive(Default)]
struct Gets(Mutex<Vec<Key>>);

impl Hooks for Gets {
    fn on_get(&self, keys: &[Key]) {
        self.0.lock().unwrap().extend_from_slice(keys);
    }
}

#[tokio::test]
async fn a_listing_by_resource_reads_only_bookings_whose_dates_meet_the_range() {
    let w = world().await;
    let mut booked = Vec::new();
    for (n, item) in [villa((7, 3), (7, 5)), villa((7, 20), (7, 23))]
        .into_iter()
        .enumerate()
    {
        let id = hold(&w, &format!("h{n}"), vec![item]).await;
        let confirm = confirm_request(&format!("c{n}"), &id, ana());
        booked.push(w.engine.confirm(&confirm).await.unwrap().id);
    }
    let spy = Spy::over(w.store.clone(), Gets::default());
    let reader = Engine::builder(spy.clone()).clock(w.clock.clone()).build();
    let listed = reader
        .bookings_for_resource(&rid("villa"), d(7, 4), d(7, 10))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, booked[0]);
    let read: Vec<Key> = spy.hooks.0.lock().unwrap().clone();
    assert_eq!(
        read,
        [format!("bk/{}", booked[0])],
        "the 20 July stay shares the month entry range but is not read"
    );
    // The last night of the first stay is 4 July, the first of the second 20 July.
    for (from, to, expected) in [
        ((7, 5), (7, 20), 0),
        ((7, 4), (7, 5), 1),
        ((7, 22), (7, 23), 1),
        ((7, 1), (8, 1), 2),
    ] {
        let listed = reader
            .bookings_for_resource(&rid("villa"), d(from.0, from.1), d(to.0, to.1))
            .await
            .unwrap();
        assert_eq!(listed.len(), expected, "{from:?}..{to:?}");
    }
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
    w.engine
        .extend(&ExtendRequest::new(
            format!("extend-240-{}", extended),
            extended.clone(),
            1200,
        ))
        .await
        .unwrap();
    w.engine
        .release(&ReleaseRequest::new(
            format!("release-241-{}", released),
            released.clone(),
        ))
        .await
        .unwrap();
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
