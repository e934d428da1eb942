//! How holds resolve across paths and engines: a partial confirm of two
//! units on one night ledger, extend then confirm on known records, expiry
//! at an extended deadline, release then confirm, a hold extended by a
//! second engine and confirmed by the first, two sweepers racing, and
//! midnight sessions on DST nights listed on their civil date.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;

use catalog::{World, d, pid, rid, world};
use chrono::{Duration, TimeZone, Utc};
use holds::*;
use reservo::catalog::{Property, Resource, ResourceKind};
use reservo::engine::{
    CancelRequest, ExtendRequest, HoldState, Item, QuoteRequest, ReleaseRequest, UpdateHoldRequest,
};
use reservo::ids::RatePlanId;
use reservo::ports::Storage;
use reservo::schedule::Schedule;

async fn doubles_left(w: &World) -> Vec<u32> {
    w.engine
        .night_availability(&rid("double"), d(7, 3), d(7, 5))
        .await
        .unwrap()
        .iter()
        .map(|n| n.available)
        .collect()
}

#[tokio::test]
async fn partial_confirm_of_two_units_on_one_ledger_books_one_and_frees_one() {
    let w = world().await;
    let id = hold(
        &w,
        "h",
        vec![double((7, 3), (7, 5)), double((7, 3), (7, 5))],
    )
    .await;
    assert_eq!(doubles_left(&w).await, [3, 3]);
    let mut req = confirm_request("c", &id, ana());
    req.items = Some(vec![1]);
    let booking = w.engine.confirm(&req).await.unwrap();
    assert_eq!(doubles_left(&w).await, [4, 4]);
    // Sweep past the hold's expiry: nothing expired, nothing changes.
    w.clock.advance(Duration::seconds(901));
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    assert_eq!(doubles_left(&w).await, [4, 4]);
    w.engine
        .cancel(&CancelRequest {
            idempotency_key: "x".into(),
            booking: booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap();
    assert_eq!(doubles_left(&w).await, [5, 5]);
    // A replay still answers with the booking; release is refused.
    let again = w.engine.confirm(&req).await.unwrap();
    assert_eq!(again.id, booking.id);
    let err = w
        .engine
        .release(&ReleaseRequest::new("r", id.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_ALREADY_RESOLVED");
    assert_eq!(doubles_left(&w).await, [5, 5]);
}

#[tokio::test]
async fn extended_then_confirmed_on_known_records_books_once() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    w.clock.advance(Duration::seconds(600));
    w.engine
        .extend(&ExtendRequest::new("e", id.clone(), 1200))
        .await
        .unwrap();
    w.engine
        .update_hold(&UpdateHoldRequest::new("u", id.clone()).with_customer(rui()))
        .await
        .unwrap();
    w.clock.advance(Duration::seconds(600));
    let booking = w
        .engine
        .confirm(&reservo::engine::ConfirmRequest::for_hold_customer(
            "c",
            id.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(booking.customer, rui());
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    w.clock.advance(Duration::seconds(3600));
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    let err = w
        .engine
        .hold(&hold_request("h2", vec![villa((7, 4), (7, 5))], 60))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE");
    let k = event_kinds(&w).await;
    assert_eq!(
        k,
        [
            "hold.created",
            "hold.extended",
            "hold.updated",
            "booking.confirmed"
        ]
    );
}

#[tokio::test]
async fn extended_hold_expires_once_at_its_new_expiry() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    w.clock.advance(Duration::seconds(600));
    w.engine
        .extend(&ExtendRequest::new("e", id.clone(), 1200))
        .await
        .unwrap();
    w.clock.advance(Duration::seconds(400));
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    w.clock.advance(Duration::seconds(800));
    assert_eq!(w.engine.expire_due(10).await.unwrap(), vec![id.clone()]);
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    let h = w.engine.hold_by_id(&id).await.unwrap();
    assert!(matches!(h.state, HoldState::Expired { .. }));
    let k = event_kinds(&w).await;
    assert_eq!(k, ["hold.created", "hold.extended", "hold.expired"]);
    let err = w
        .engine
        .confirm(&confirm_request("c", &id, ana()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_EXPIRED");
}

async fn add_midnight_class(w: &World, zone: &str) {
    w.engine
        .put_property(Property::new("night-club", "Night club", "owner-n", zone, "EUR").unwrap())
        .await
        .unwrap();
    let schedule: Schedule = serde_json::from_str(
        r#"{"rules": [{"weekdays": ["mon","tue","wed","thu","fri","sat","sun"],
                        "start_times": ["00:00:00", "23:30:00"], "duration_minutes": 60,
                        "dates": {"from": "2026-01-01"}}]}"#,
    )
    .unwrap();
    w.engine
        .put_resource(Resource {
            id: rid("midnight"),
            property: pid("night-club"),
            name: "Midnight class".into(),
            rate_plan: RatePlanId::new("lesson").unwrap(),
            kind: ResourceKind::Timed { seats: 3, schedule },
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn midnight_sessions_over_dst_are_listed_on_their_civil_date() {
    for (zone, utc) in [
        // Lisbon falls back on 25 Oct 2026: midnight is still WEST (+1).
        (
            "Europe/Lisbon",
            Utc.with_ymd_and_hms(2026, 10, 24, 23, 0, 0).unwrap(),
        ),
        // New York springs forward 8 Mar 2027? use 1 Nov 2026 fall back: midnight EDT (-4).
        (
            "America/New_York",
            Utc.with_ymd_and_hms(2026, 11, 1, 4, 0, 0).unwrap(),
        ),
    ] {
        let w = world().await;
        add_midnight_class(&w, zone).await;
        let item = QuoteRequest::new(Item::session(rid("midnight"), utc, adults(3)));
        let id = hold(&w, "h", vec![item]).await;
        let booking = w
            .engine
            .confirm(&confirm_request("c", &id, ana()))
            .await
            .unwrap();
        let date = utc
            .with_timezone(&zone.parse::<chrono_tz::Tz>().unwrap())
            .date_naive();
        let on = |f: chrono::NaiveDate, t: chrono::NaiveDate| {
            let w = &w;
            async move {
                w.engine
                    .bookings_for_resource(&rid("midnight"), f, t)
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(on(date, date.succ_opt().unwrap()).await, 1, "{zone}");
        assert_eq!(on(date.pred_opt().unwrap(), date).await, 0, "{zone}");
        let avail = w
            .engine
            .session_availability(&rid("midnight"), date, date.succ_opt().unwrap())
            .await
            .unwrap();
        let slot = avail
            .iter()
            .find(|s| s.slot.start() == utc)
            .expect("listed");
        assert_eq!(slot.booked, 3, "{zone}");
        assert_eq!(booking.items[0].uses[0].date, date, "{zone}");
        // A party of 4 is larger than the 3 seats.
        let item = QuoteRequest::new(Item::session(rid("midnight"), utc, adults(4)));
        let err = w
            .engine
            .hold(&hold_request("h4", vec![item], 60))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "PARTY_TOO_LARGE", "{zone}");
    }
}

#[tokio::test]
async fn release_known_then_confirm_is_resolved_and_books_nothing() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    w.engine
        .release(&ReleaseRequest::new("r", id.clone()))
        .await
        .unwrap();
    let before = w.store.dump();
    let err = w
        .engine
        .confirm(&confirm_request("c", &id, ana()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_ALREADY_RESOLVED");
    assert_eq!(w.store.dump(), before);
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [1, 1]);
    let _ = w.store.read_events(0, 100).await.unwrap();
}

fn second_engine(w: &World) -> reservo::engine::Engine {
    reservo::engine::Engine::builder(w.store.clone())
        .clock(w.clock.clone())
        .build()
}

#[tokio::test]
async fn a_hold_extended_by_another_engine_is_confirmed_by_the_first_after_the_old_expiry() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5)), double((7, 3), (7, 4))]).await;
    let other = second_engine(&w);
    w.clock.advance(Duration::seconds(800));
    other
        .extend(&ExtendRequest::new("e", id.clone(), 900))
        .await
        .unwrap();
    w.clock.advance(Duration::seconds(200));
    let mut req = confirm_request("c", &id, ana());
    req.items = Some(vec![0]);
    let booking = w.engine.confirm(&req).await.unwrap();
    assert_eq!(booking.items.len(), 1);
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    assert_eq!(doubles_left(&w).await, [5, 5]);
    w.clock.advance(Duration::seconds(3600));
    assert!(w.engine.expire_due(10).await.unwrap().is_empty());
    assert!(other.expire_due(10).await.unwrap().is_empty());
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
    assert_eq!(doubles_left(&w).await, [5, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweepers_expire_each_hold_once() {
    let w = world().await;
    let mut ids = Vec::new();
    for n in 0..20u32 {
        let day = 1 + n;
        let id = hold(&w, &format!("h{n}"), vec![villa((8, day), (8, day + 1))]).await;
        ids.push(id);
    }
    w.clock.advance(Duration::seconds(901));
    let a = std::sync::Arc::new(second_engine(&w));
    let b = std::sync::Arc::new(second_engine(&w));
    let (ra, rb) = tokio::join!(
        {
            let a = a.clone();
            tokio::spawn(async move { a.expire_due(3).await })
        },
        {
            let b = b.clone();
            tokio::spawn(async move { b.expire_due(100).await })
        }
    );
    let mut all = ra.unwrap().unwrap();
    all.extend(rb.unwrap().unwrap());
    all.extend(w.engine.expire_due(100).await.unwrap());
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected);
    let k = event_kinds(&w).await;
    assert_eq!(k.iter().filter(|k| *k == "hold.expired").count(), 20);
}
