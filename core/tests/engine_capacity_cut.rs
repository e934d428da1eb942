//! A catalog change never touches what is sold: a resource replaced with
//! fewer units than are booked, or a schedule that drops a booked session,
//! leaves those bookings in place for the host to move or cancel.
//! Availability shows the shortfall (booked above capacity, nothing
//! available), nothing more is sold, and the bookings still cancel.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;

use catalog::{World, d, nightly, rid, world};
use holds::{ana, confirm_request, double, hold, lesson};
use reservo::booking::BookingStatus;
use reservo::catalog::{Resource, ResourceKind};
use reservo::engine::{Booking, CancelRequest, HoldRequest, QuoteRequest};
use reservo::ids::{BookingId, RatePlanId};
use reservo::schedule::Schedule;

async fn book(w: &World, key: &str, item: QuoteRequest) -> Booking {
    let hold = hold(w, &format!("{key}-hold"), vec![item]).await;
    w.engine
        .confirm(&confirm_request(&format!("{key}-confirm"), &hold, ana()))
        .await
        .unwrap()
}

async fn cancel(w: &World, key: &str, booking: &BookingId) -> Booking {
    w.engine
        .cancel(&CancelRequest {
            idempotency_key: key.into(),
            booking: booking.clone(),
            reason: None,
        })
        .await
        .unwrap()
}

/// (capacity, booked, available) of the double room on 13 and 14 July.
async fn double_nights(w: &World) -> Vec<(u32, u32, u32)> {
    w.engine
        .night_availability(&rid("double"), d(7, 13), d(7, 15))
        .await
        .unwrap()
        .iter()
        .map(|n| (n.capacity, n.booked, n.available))
        .collect()
}

#[tokio::test]
async fn units_cut_below_what_is_booked_keep_the_bookings_and_sell_nothing_more() {
    let w = world().await;
    let mut booked = Vec::new();
    for key in ["b1", "b2", "b3"] {
        booked.push(book(&w, key, double((7, 13), (7, 14))).await);
    }
    assert_eq!(double_nights(&w).await, [(5, 3, 2), (5, 0, 5)]);

    w.engine
        .put_resource(nightly("double", "casa-azul", 1, 2, "flex"))
        .await
        .unwrap();
    assert_eq!(double_nights(&w).await, [(1, 3, 0), (1, 0, 1)]);
    for b in &booked {
        let kept = w.engine.booking(&b.id).await.unwrap();
        assert_eq!(kept.status, BookingStatus::Confirmed);
    }
    let err = w
        .engine
        .hold(&HoldRequest::new("h4", vec![double((7, 13), (7, 14))], 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "UNAVAILABLE", "{err}");

    // Cancelling two of them brings the night back to one booked of one;
    // the third cancellation frees the unit.
    cancel(&w, "x1", &booked[0].id).await;
    cancel(&w, "x2", &booked[1].id).await;
    assert_eq!(double_nights(&w).await, [(1, 1, 0), (1, 0, 1)]);
    cancel(&w, "x3", &booked[2].id).await;
    assert_eq!(double_nights(&w).await, [(1, 0, 1), (1, 0, 1)]);
}

#[tokio::test]
async fn a_booked_session_dropped_from_the_schedule_keeps_its_booking() {
    let w = world().await;
    let booking = book(&w, "b1", lesson(7, 13, 2)).await;
    let afternoons_only: Schedule = serde_json::from_str(
        r#"{"rules": [{"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                       "start_times": ["14:00:00"], "duration_minutes": 120,
                       "dates": {"from": "2026-01-01"}}],
            "buffers": {"before_minutes": 15, "after_minutes": 15}}"#,
    )
    .unwrap();
    w.engine
        .put_resource(Resource {
            id: rid("surf-lesson"),
            property: catalog::pid("surf-school"),
            name: "Surf lesson".into(),
            rate_plan: RatePlanId::new("lesson").unwrap(),
            kind: ResourceKind::Timed {
                seats: 8,
                schedule: afternoons_only,
            },
        })
        .await
        .unwrap();

    let sessions = w
        .engine
        .session_availability(&rid("surf-lesson"), d(7, 13), d(7, 14))
        .await
        .unwrap();
    let starts: Vec<String> = sessions
        .iter()
        .map(|s| s.slot.start().to_rfc3339())
        .collect();
    assert_eq!(starts, ["2026-07-13T13:00:00+00:00"], "the 09:00 is gone");
    let err = w
        .engine
        .hold(&HoldRequest::new("h2", vec![lesson(7, 13, 1)], 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NO_SUCH_SLOT", "{err}");

    let kept = w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(kept.status, BookingStatus::Confirmed);
    let found = w
        .engine
        .bookings_for_resource(&rid("surf-lesson"), d(7, 13), d(7, 14))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "the host finds it to move or cancel");
    assert_eq!(
        cancel(&w, "x1", &booking.id).await.status,
        BookingStatus::Cancelled
    );
}
