//! Reading bookings back: listings by resource and by customer at month,
//! year and range edges, and the events commands append, with the
//! property, period and resources they name.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/lifecycle.rs"]
mod lifecycle;
#[path = "support/money.rs"]
mod money;

use catalog::{rid, world};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use holds::*;
use lifecycle::{confirm, date, villa_stay};
use money::events as payloads;
use reservo::engine::{CancelRequest, ExtendRequest, Item, QuoteRequest, ReleaseRequest};
use reservo::ids::BookingId;
use reservo::ports::Storage;

async fn listed(w: &catalog::World, from: NaiveDate, to: NaiveDate) -> Vec<BookingId> {
    w.engine
        .bookings_for_resource(&rid("villa"), from, to)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect()
}

// --------------------------------------------------------------- look-ups

#[tokio::test]
async fn listings_by_resource_find_stays_across_a_month_end_at_every_edge() {
    let w = world().await;
    let id = w
        .engine
        .hold(&hold_request(
            "h",
            vec![villa_stay(date(2026, 7, 30), date(2026, 8, 2))],
            900,
        ))
        .await
        .unwrap()
        .id;
    let booking = confirm(&w, "c", &id).await.id;
    let one = vec![booking.clone()];
    for (from, to, expected) in [
        (date(2026, 7, 1), date(2026, 7, 30), vec![]),
        (date(2026, 7, 29), date(2026, 7, 30), vec![]),
        (date(2026, 7, 29), date(2026, 7, 31), one.clone()),
        (date(2026, 7, 31), date(2026, 8, 1), one.clone()),
        (date(2026, 8, 1), date(2026, 8, 2), one.clone()),
        (date(2026, 8, 2), date(2026, 8, 31), vec![]),
        (date(2026, 8, 1), date(2026, 9, 1), one.clone()),
        (date(2026, 6, 1), date(2027, 6, 1), one.clone()),
    ] {
        assert_eq!(listed(&w, from, to).await, expected, "{from}..{to}");
    }
}

#[tokio::test]
async fn listings_by_resource_find_stays_across_a_year_end_and_cancelled_ones() {
    let w = world().await;
    let id = w
        .engine
        .hold(&hold_request(
            "h",
            vec![villa_stay(date(2026, 12, 30), date(2027, 1, 2))],
            900,
        ))
        .await
        .unwrap()
        .id;
    let booking = confirm(&w, "c", &id).await.id;
    w.engine
        .cancel(&CancelRequest {
            idempotency_key: "x".into(),
            booking: booking.clone(),
            reason: Some("changed plans".into()),
        })
        .await
        .unwrap();
    let one = vec![booking.clone()];
    for (from, to, expected) in [
        (date(2026, 12, 1), date(2026, 12, 30), vec![]),
        (date(2026, 12, 31), date(2027, 1, 1), one.clone()),
        (date(2027, 1, 1), date(2027, 1, 2), one.clone()),
        (date(2027, 1, 2), date(2027, 2, 1), vec![]),
        (date(2026, 11, 15), date(2027, 1, 15), one.clone()),
    ] {
        assert_eq!(listed(&w, from, to).await, expected, "{from}..{to}");
    }
    for (from, to) in [
        (date(2026, 7, 3), date(2026, 7, 3)),
        (date(2026, 7, 4), date(2026, 7, 3)),
        (date(2026, 1, 1), date(2027, 2, 6)),
    ] {
        let err = w
            .engine
            .bookings_for_resource(&rid("villa"), from, to)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{from}..{to}");
    }
}

#[tokio::test]
async fn listings_by_resource_date_sessions_by_their_civil_date() {
    let w = world().await;
    // 14:00 Lisbon on 31 July is 13:00 UTC.
    let start = Utc.with_ymd_and_hms(2026, 7, 31, 13, 0, 0).unwrap();
    let item = QuoteRequest::new(Item::session(rid("surf-lesson"), start, adults(2)));
    let id = hold(&w, "h", vec![item]).await;
    let booking = confirm(&w, "c", &id).await.id;
    let on = |from, to| {
        let engine = &w.engine;
        async move {
            engine
                .bookings_for_resource(&rid("surf-lesson"), from, to)
                .await
                .unwrap()
                .into_iter()
                .map(|b| b.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(on(date(2026, 7, 31), date(2026, 8, 1)).await, [booking]);
    assert!(on(date(2026, 8, 1), date(2026, 8, 2)).await.is_empty());
    assert!(on(date(2026, 7, 30), date(2026, 7, 31)).await.is_empty());
    // The villa has nothing from it.
    assert!(
        listed(&w, date(2026, 7, 1), date(2026, 8, 1))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn listings_by_customer_need_the_exact_e164_number_and_never_match_a_prefix() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let booking = confirm(&w, "c", &id).await.id;
    let ana_phone = ana().phone;
    assert_eq!(
        w.engine
            .bookings_by_customer(&ana_phone)
            .await
            .unwrap()
            .into_iter()
            .map(|b| b.id)
            .collect::<Vec<_>>(),
        [booking]
    );
    for variant in [
        "+351 912 345 678",
        "351912345678",
        "00351912345678",
        " +351912345678",
        "+351-912-345-678",
        "",
    ] {
        let err = w.engine.bookings_by_customer(variant).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{variant:?}");
    }
    // A valid number that is a prefix of Ana's is someone else.
    let prefix = &ana_phone[..ana_phone.len() - 1];
    assert!(
        w.engine
            .bookings_by_customer(prefix)
            .await
            .unwrap()
            .is_empty()
    );
}

// ------------------------------------------------------------------ events

#[tokio::test]
async fn refused_commands_append_no_event_and_cursors_page_the_rest() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let count = w.store.read_events(0, usize::MAX).await.unwrap().len();
    // Refused: unavailable, bad subset, bad customer, resolved twice.
    let _ = w
        .engine
        .hold(&hold_request("again", vec![villa((7, 4), (7, 6))], 900))
        .await
        .unwrap_err();
    let mut subset = confirm_request("c", &id, ana());
    subset.items = Some(vec![1]);
    let _ = w.engine.confirm(&subset).await.unwrap_err();
    confirm(&w, "c", &id).await;
    let _ = w
        .engine
        .release(&ReleaseRequest::new(
            format!("release-198-{}", id),
            id.clone(),
        ))
        .await
        .unwrap_err();
    let _ = w
        .engine
        .extend(&ExtendRequest::new(
            format!("extend-200-{}", id),
            id.clone(),
            60,
        ))
        .await
        .unwrap_err();
    let events = w.store.read_events(0, usize::MAX).await.unwrap();
    assert_eq!(events.len(), count + 1);
    assert_eq!(events.last().unwrap().kind, "booking.confirmed");
    let last = events.last().unwrap().seq;
    assert!(w.store.read_events(last, 10).await.unwrap().is_empty());
    assert!(w.store.read_events(last + 5, 10).await.unwrap().is_empty());
    assert!(w.store.read_events(0, 0).await.unwrap().is_empty());
    assert!(w.store.read_events(u64::MAX, 10).await.unwrap().is_empty());
    let page = w.store.read_events(last - 2, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].seq, last - 1);
}

#[tokio::test]
async fn a_subset_confirm_and_a_release_name_what_they_booked_and_gave_back() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5)), double((7, 3), (7, 5))]).await;
    let mut request = confirm_request("c", &id, ana());
    request.items = Some(vec![1]);
    let booking = w.engine.confirm(&request).await.unwrap();
    let confirmed = payloads(&w, "booking.confirmed").await;
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0]["resources"], serde_json::json!(["double"]));
    assert_eq!(confirmed[0]["booking"]["id"], booking.id.as_str());
    assert_eq!(
        confirmed[0]["booking"]["total"],
        booking.total.amount().to_string()
    );
    assert_eq!(confirmed[0]["property"]["name"], "Casa Azul");
    assert_eq!(confirmed[0]["period"]["end"], "2026-07-05");
    // The villa is free again, with no hold.released event (the hold was
    // confirmed, not released).
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [1, 1]);
    assert!(payloads(&w, "hold.released").await.is_empty());
}

/// `hold.*` events name the hold's property and period like `booking.*`
/// events do; a hold has no customer, so no default SMS reads them (a
/// default guest template would silently never be sent).
#[tokio::test]
async fn hold_events_name_property_and_period_and_no_default_sms_reads_them() {
    let w = world().await;
    hold(
        &w,
        "h",
        vec![villa((7, 3), (7, 5)), double((7, 10), (7, 12))],
    )
    .await;
    w.clock.advance(Duration::seconds(900));
    assert_eq!(w.engine.expire_due(10).await.unwrap().len(), 1);
    for kind in ["hold.created", "hold.expired"] {
        let payloads = payloads(&w, kind).await;
        assert_eq!(payloads.len(), 1, "{kind}");
        let payload = &payloads[0];
        assert_eq!(payload["property"]["id"], "casa-azul", "{payload}");
        assert_eq!(payload["period"]["start"], "2026-07-03", "{payload}");
        assert_eq!(payload["period"]["end"], "2026-07-12", "{payload}");
        assert!(payload.get("customer").is_none(), "{payload}");
    }
    let templates = reservo::notify::SmsTemplates::defaults();
    for audience in reservo::notify::Audience::ALL {
        assert!(templates.get("hold.expired", audience).is_none());
    }
}

/// The `booking.*` payload's `period` (what every default SMS tells the
/// guest, owner and broker) runs from the first item's start to the last
/// item's end: a booking of 3-5 and 10-12 July is "2026-07-03 to
/// 2026-07-12", not the first stay's dates.
#[tokio::test]
async fn booking_event_period_runs_from_the_first_start_to_the_last_end() {
    let w = world().await;
    let id = hold(
        &w,
        "h",
        vec![villa((7, 3), (7, 5)), double((7, 10), (7, 12))],
    )
    .await;
    confirm(&w, "c", &id).await;
    let confirmed = payloads(&w, "booking.confirmed").await;
    let period = &confirmed[0]["period"];
    assert_eq!(
        (period["start"].as_str(), period["end"].as_str()),
        (Some("2026-07-03"), Some("2026-07-12")),
        "the period of a booking of 3-5 and 10-12 July"
    );
}

#[tokio::test]
async fn listings_by_resource_skip_a_booking_whose_stays_there_fall_around_the_range() {
    let w = world().await;
    // One booking, two stays in the villa in July: its month entry spans
    // 2 to 21 July, but no night between them.
    let id = w
        .engine
        .hold(&hold_request(
            "h",
            vec![
                villa_stay(date(2026, 7, 2), date(2026, 7, 4)),
                villa_stay(date(2026, 7, 20), date(2026, 7, 22)),
            ],
            900,
        ))
        .await
        .unwrap()
        .id;
    let booking = confirm(&w, "c", &id).await.id;
    assert!(
        listed(&w, date(2026, 7, 4), date(2026, 7, 20))
            .await
            .is_empty()
    );
    assert!(
        listed(&w, date(2026, 7, 10), date(2026, 7, 15))
            .await
            .is_empty()
    );
    for (from, to) in [
        (date(2026, 7, 3), date(2026, 7, 20)),
        (date(2026, 7, 4), date(2026, 7, 21)),
        (date(2026, 7, 1), date(2026, 8, 1)),
    ] {
        assert_eq!(
            listed(&w, from, to).await,
            std::slice::from_ref(&booking),
            "{from}..{to}"
        );
    }
}
