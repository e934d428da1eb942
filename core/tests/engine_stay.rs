//! The stay's own transitions: check-in at a desk (no ticket) from the
//! booking's first day, and completion of a checked-in booking, which
//! gives its inventory back. Each is a typed error that changes nothing
//! when illegal, and replays under its key.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;

use catalog::{World, world};
use chrono::{TimeZone, Utc};
use holds::*;
use reservo::booking::BookingStatus;
use reservo::engine::{Booking, CompleteRequest, DeskCheckInRequest};
use reservo::ids::BookingId;
use reservo::ports::Clock;

fn desk(key: &str, booking: &BookingId) -> DeskCheckInRequest {
    DeskCheckInRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
    }
}

fn done(key: &str, booking: &BookingId) -> CompleteRequest {
    CompleteRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
    }
}

/// A confirmed booking of the villa, 3 to 5 July (Lisbon).
async fn villa_booking(w: &World) -> Booking {
    let id = hold(w, "h", vec![villa((7, 3), (7, 5))]).await;
    w.engine
        .confirm(&confirm_request("c", &id, ana()))
        .await
        .unwrap()
}

/// Sets the clock to `hour`:00 UTC on `day` July 2026.
fn on_july(w: &World, day: u32, hour: u32) {
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, day, hour, 0, 0).unwrap())
        .unwrap();
}

#[tokio::test]
async fn a_desk_checks_in_from_the_first_local_day_and_not_before() {
    let w = world().await;
    let booking = villa_booking(&w).await;
    // 22:59 UTC on 2 July is 23:59 in Lisbon: still the day before.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 2, 22, 59, 0).unwrap())
        .unwrap();
    let before = w.store.dump();
    let err = w
        .engine
        .check_in_at_desk(&desk("in", &booking.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert_eq!(w.store.dump(), before);
    // 23:00 UTC is midnight in Lisbon: the first day, early in the morning.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 7, 2, 23, 0, 0).unwrap())
        .unwrap();
    let checked_in = w
        .engine
        .check_in_at_desk(&desk("in", &booking.id))
        .await
        .unwrap();
    assert_eq!(checked_in.status, BookingStatus::CheckedIn);
    assert_eq!(checked_in.history.last().unwrap().at, w.clock.now());
    assert_eq!(
        event_kinds(&w).await.last().map(String::as_str),
        Some("booking.checked_in")
    );
    // The nights stay taken while the guest is in.
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [0, 0]);
}

#[tokio::test]
async fn a_desk_check_in_replays_and_refuses_what_is_not_confirmed() {
    let w = world().await;
    let booking = villa_booking(&w).await;
    on_july(&w, 3, 15);
    w.engine
        .check_in_at_desk(&desk("in", &booking.id))
        .await
        .unwrap();
    let after = w.store.dump();
    // The same request again: the booking as it is, nothing written.
    let replayed = w
        .engine
        .check_in_at_desk(&desk("in", &booking.id))
        .await
        .unwrap();
    assert_eq!(replayed.status, BookingStatus::CheckedIn);
    assert_eq!(w.store.dump(), after);
    // A new key: the booking is no longer confirmed.
    let err = w
        .engine
        .check_in_at_desk(&desk("in-again", &booking.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION", "{err}");
    // The key of another command.
    let err = w
        .engine
        .complete_booking(&done("in", &booking.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT", "{err}");
    assert_eq!(w.store.dump(), after);
}

#[tokio::test]
async fn completing_needs_a_checked_in_booking_and_changes_nothing_otherwise() {
    let w = world().await;
    let booking = villa_booking(&w).await;
    on_july(&w, 5, 12);
    let before = w.store.dump();
    let err = w
        .engine
        .complete_booking(&done("out", &booking.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION", "{err}");
    assert_eq!(w.store.dump(), before);
    let err = w
        .engine
        .complete_booking(&done("out", &BookingId::new("nobody").unwrap()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND", "{err}");
    let err = w
        .engine
        .complete_booking(&done("", &booking.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert_eq!(w.store.dump(), before);
}

#[tokio::test]
async fn an_early_departure_completes_the_booking_and_frees_the_rest_of_the_stay() {
    let w = world().await;
    let booking = villa_booking(&w).await;
    on_july(&w, 3, 15);
    w.engine
        .check_in_at_desk(&desk("in", &booking.id))
        .await
        .unwrap();
    // The guest leaves on the morning of 4 July instead of 5 July.
    on_july(&w, 4, 9);
    let completed = w
        .engine
        .complete_booking(&done("out", &booking.id))
        .await
        .unwrap();
    assert_eq!(completed.status, BookingStatus::Completed);
    let statuses: Vec<_> = completed.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [
            BookingStatus::Confirmed,
            BookingStatus::CheckedIn,
            BookingStatus::Completed
        ]
    );
    assert_eq!(completed.total, booking.total);
    assert_eq!(completed.money, booking.money, "completion moves no money");
    assert_eq!(
        event_kinds(&w).await.last().map(String::as_str),
        Some("booking.completed")
    );
    // The night of 4 July can be sold again.
    assert_eq!(villa_left(&w.engine, (7, 4), (7, 5)).await, [1]);
    hold(&w, "next", vec![villa((7, 4), (7, 5))]).await;
    // Completed is the end: no second completion, no cancellation.
    let err = w
        .engine
        .complete_booking(&done("out-again", &booking.id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION", "{err}");
    let found = w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(found.status, BookingStatus::Completed);
}
