//! Bookings once made: ended and checked-in bookings refuse further
//! endings, the default SMS rendered from the engine's own events (and a
//! failing one never touching the booking), parties with children,
//! customer emails, and "today" as the property's civil date.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/lifecycle.rs"]
mod lifecycle;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use catalog::{d, rid, world};
use chrono::{Duration, TimeZone, Utc};
use holds::*;
use lifecycle::{confirm, date, villa_stay};
use reservo::booking::{BookingStatus, Customer};
use reservo::checkin::{Direction, ScanId};
use reservo::engine::{
    CancelRequest, CheckInRequest, HoldState, IssuedTicket, Item, NoShowRequest, QuoteRequest,
    TicketSettings,
};
use reservo::ids::BookingId;
use reservo::notify::{Notifier, NotifierConfig, RetryPolicy};
use reservo::ports::{Clock, PortError, SmsMessage, SmsSender};
use reservo::token::{GateId, IssuerKey, IssuerKeySet};

// ---------------------------------------------------------------- lifecycle

#[tokio::test]
async fn ended_bookings_refuse_every_further_ending_and_change_nothing() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let booking = confirm(&w, "c", &id).await;
    w.engine
        .cancel(&CancelRequest {
            idempotency_key: "x1".into(),
            booking: booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap();
    let before = w.store.dump();
    let err = w
        .engine
        .cancel(&CancelRequest {
            idempotency_key: "x2".into(),
            booking: booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    let err = w
        .engine
        .mark_no_show(&NoShowRequest {
            idempotency_key: "n1".into(),
            booking: booking.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    let err = w
        .engine
        .refund_quote(&booking.id, w.clock.now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    assert_eq!(w.store.dump(), before);
    let stored = w.engine.booking(&booking.id).await.unwrap();
    let statuses: Vec<BookingStatus> = stored.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [BookingStatus::Confirmed, BookingStatus::Cancelled]
    );
    // The hold it came from stays confirmed; the nights are free.
    assert!(matches!(
        w.engine.hold_by_id(&id).await.unwrap().state,
        HoldState::Confirmed { .. }
    ));
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, [1, 1]);
    let err = w
        .engine
        .cancel(&CancelRequest {
            idempotency_key: "x3".into(),
            booking: BookingId::new("no-such-booking").unwrap(),
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
}

// ------------------------------------------------------------ notifications

/// Accepts or refuses every message, and keeps them.
struct Phone {
    fail: bool,
    sent: Mutex<Vec<SmsMessage>>,
}

#[async_trait]
impl SmsSender for Phone {
    async fn send(&self, message: &SmsMessage) -> Result<String, PortError> {
        self.sent.lock().unwrap().push(message.clone());
        if self.fail {
            Err(PortError {
                message: "carrier down".into(),
                source: None,
            })
        } else {
            Ok(format!("id-{}", message.dedupe_key))
        }
    }
}

fn phone(fail: bool) -> Arc<Phone> {
    Arc::new(Phone {
        fail,
        sent: Mutex::new(Vec::new()),
    })
}

#[tokio::test]
async fn the_engine_s_own_booking_events_render_the_default_sms() {
    let w = world().await;
    let stay_hold = hold(&w, "h1", vec![villa((7, 3), (7, 5))]).await;
    let stay_booking = confirm(&w, "c1", &stay_hold).await;
    let lesson_hold = hold(&w, "h2", vec![lesson(7, 4, 2)]).await;
    let lesson_booking = w
        .engine
        .confirm(&confirm_request("c2", &lesson_hold, rui()))
        .await
        .unwrap();
    w.engine
        .cancel(&CancelRequest {
            idempotency_key: "x".into(),
            booking: stay_booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap();
    let sender = phone(false);
    let notifier = Notifier::builder(w.store.clone(), sender.clone())
        .clock(w.clock.clone())
        .build()
        .unwrap();
    let report = notifier.run_once(100).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    let sent = sender.sent.lock().unwrap().clone();
    let bodies: Vec<(&str, &str)> = sent
        .iter()
        .map(|m| (m.to.as_str(), m.body.as_str()))
        .collect();
    assert_eq!(
        bodies,
        [
            (
                "+351912345678",
                &*format!(
                    "Hi Ana Lima, your booking at Casa Azul from 2026-07-03 to 2026-07-05 is \
                     confirmed. Ref {}",
                    stay_booking.id
                )
            ),
            (
                "+351934567890",
                &*format!(
                    "Hi Rui Costa, your booking at Onda Surf School from 2026-07-04 09:00 to \
                     2026-07-04 11:00 is confirmed. Ref {}",
                    lesson_booking.id
                )
            ),
            (
                "+351912345678",
                &*format!(
                    "Hi Ana Lima, your booking {} at Casa Azul from 2026-07-03 to 2026-07-05 \
                     is cancelled.",
                    stay_booking.id
                )
            ),
        ]
    );
    let mut keys: Vec<&str> = sent.iter().map(|m| m.dedupe_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 3, "one dedupe key per (event, audience)");
    assert!(notifier.run_once(100).await.unwrap().is_idle());
}

#[tokio::test]
async fn an_sms_that_keeps_failing_is_recorded_and_never_touches_the_booking() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let booking = confirm(&w, "c", &id).await;
    let sender = phone(true);
    let notifier = Notifier::builder(w.store.clone(), sender.clone())
        .clock(w.clock.clone())
        .config(NotifierConfig {
            retry: RetryPolicy {
                base: Duration::seconds(10),
                factor: 2,
                cap: Duration::seconds(15),
                max_attempts: 3,
            },
            ..NotifierConfig::default()
        })
        .build()
        .unwrap();
    let records_before: Vec<_> = w
        .store
        .dump()
        .records
        .into_iter()
        .filter(|r| !r.key.starts_with("sms/"))
        .collect();
    let events_before = w.store.dump().events;
    let first = notifier.run_once(10).await.unwrap();
    assert_eq!((first.queued, first.retried), (1, 1));
    // Not due yet: nothing is sent.
    w.clock.advance(Duration::seconds(9));
    assert_eq!(notifier.run_once(10).await.unwrap().retried, 0);
    w.clock.advance(Duration::seconds(1));
    assert_eq!(notifier.run_once(10).await.unwrap().retried, 1);
    // The second delay is capped at 15 s.
    w.clock.advance(Duration::seconds(15));
    assert_eq!(notifier.run_once(10).await.unwrap().failed, 1);
    assert!(notifier.run_once(10).await.unwrap().is_idle());
    let failed = notifier.failed_deliveries(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 3);
    assert_eq!(failed[0].last_error.as_deref(), Some("carrier down"));
    let sent = sender.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|m| m.dedupe_key == sent[0].dedupe_key));
    let records_after: Vec<_> = w
        .store
        .dump()
        .records
        .into_iter()
        .filter(|r| !r.key.starts_with("sms/"))
        .collect();
    assert_eq!(records_after, records_before);
    assert_eq!(w.store.dump().events, events_before);
    assert_eq!(
        w.engine.booking(&booking.id).await.unwrap().status,
        BookingStatus::Confirmed
    );
}

// ------------------------------------------------------ check-in statuses

fn ticketing(w: &catalog::World) -> reservo::engine::Engine {
    let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [3; 32]));
    reservo::engine::Engine::builder(w.store.clone())
        .clock(w.clock.clone())
        .tickets(keys, TicketSettings::default())
        .build()
}

async fn book_with(
    engine: &reservo::engine::Engine,
    key: &str,
    item: QuoteRequest,
) -> (reservo::engine::Booking, Vec<IssuedTicket>) {
    let hold = engine
        .hold(&hold_request(&format!("{key}-h"), vec![item], 900))
        .await
        .unwrap();
    let booking = engine
        .confirm(&confirm_request(&format!("{key}-c"), &hold.id, ana()))
        .await
        .unwrap();
    let tickets = engine.tickets(&booking.id).await.unwrap();
    (booking, tickets)
}

fn entry(ticket: &IssuedTicket) -> CheckInRequest {
    CheckInRequest {
        token: ticket.text.clone(),
        gate: GateId::new("desk").unwrap(),
        zone: None,
        direction: Direction::In,
        scan_id: ScanId::generate(),
    }
}

#[tokio::test]
async fn checked_in_bookings_cannot_be_cancelled_and_ended_ones_cannot_check_in() {
    let w = world().await;
    let engine = ticketing(&w);
    let (stay_booking, stay_tickets) = book_with(
        &engine,
        "stay",
        villa_stay(date(2026, 6, 10), date(2026, 6, 12)),
    )
    .await;
    let lesson_start = Utc.with_ymd_and_hms(2026, 6, 10, 8, 0, 0).unwrap();
    let (lesson_booking, lesson_tickets) = book_with(
        &engine,
        "lesson",
        QuoteRequest::new(Item::session(rid("surf-lesson"), lesson_start, adults(1))),
    )
    .await;
    let (gone_booking, gone_tickets) = book_with(
        &engine,
        "gone",
        villa_stay(date(2026, 6, 20), date(2026, 6, 22)),
    )
    .await;
    engine
        .cancel(&CancelRequest {
            idempotency_key: "x".into(),
            booking: gone_booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap();
    // 10 June, once the lesson started without its guest: a no-show, whose
    // ticket is then refused, and whose status stays.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 10, 8, 30, 0).unwrap())
        .unwrap();
    engine
        .mark_no_show(&NoShowRequest {
            idempotency_key: "ns".into(),
            booking: lesson_booking.id.clone(),
        })
        .await
        .unwrap();
    let before = w.store.dump();
    let err = engine
        .check_in(&entry(&lesson_tickets[0]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_REVOKED");
    assert_eq!(w.store.dump(), before);
    // The afternoon: the stay checks in, and can then be neither cancelled
    // nor a no-show.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 10, 14, 0, 0).unwrap())
        .unwrap();
    let admitted = engine.check_in(&entry(&stay_tickets[0])).await.unwrap();
    assert_eq!(admitted.status, BookingStatus::CheckedIn);
    let before = w.store.dump();
    let err = engine
        .cancel(&CancelRequest {
            idempotency_key: "x-late".into(),
            booking: stay_booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    let err = engine
        .mark_no_show(&NoShowRequest {
            idempotency_key: "ns-late".into(),
            booking: stay_booking.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    assert_eq!(w.store.dump(), before);
    // 20 June: the cancelled stay's ticket is refused.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 20, 15, 0, 0).unwrap())
        .unwrap();
    let before = w.store.dump();
    let err = engine.check_in(&entry(&gone_tickets[0])).await.unwrap_err();
    assert_eq!(err.code(), "TOKEN_REVOKED");
    assert_eq!(w.store.dump(), before);
    let statuses = [
        (&stay_booking.id, BookingStatus::CheckedIn),
        (&lesson_booking.id, BookingStatus::NoShow),
        (&gone_booking.id, BookingStatus::Cancelled),
    ];
    for (id, status) in statuses {
        assert_eq!(engine.booking(id).await.unwrap().status, status);
    }
}

#[tokio::test]
async fn a_booking_keeps_its_party_with_children_s_ages_and_prices_them() {
    let w = world().await;
    let party = reservo::party::Party::new(1, vec![7, 17]).unwrap();
    let start = Utc.with_ymd_and_hms(2026, 7, 4, 8, 0, 0).unwrap();
    let item = QuoteRequest::new(Item::session(rid("surf-lesson"), start, party.clone()));
    let id = hold(&w, "h", vec![item]).await;
    let booking = confirm(&w, "c", &id).await;
    let stored = w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(stored, booking);
    assert_eq!(stored.items[0].request.item.party, party);
    assert_eq!(stored.items[0].uses[0].units, 3, "one seat per guest");
    assert_eq!(stored.total.amount().to_string(), "105.00");
    let sessions = w
        .engine
        .session_availability(&rid("surf-lesson"), d(7, 4), d(7, 5))
        .await
        .unwrap();
    assert_eq!(sessions[0].booked, 3);
}

/// An email address has one `@` and a domain without empty labels.
#[tokio::test]
async fn customer_emails_with_two_at_signs_or_empty_labels_are_refused() {
    for bad in ["ana@@example.org", "ana@ex@mple.org", "ana@example..org"] {
        let result = Customer::new("Ana Lima", "+351912345678", Some(bad));
        assert_eq!(
            result.as_ref().map_err(|e| e.code()).err(),
            Some("INVALID_INPUT"),
            "{bad:?} was accepted: {result:?}"
        );
    }
}

#[tokio::test]
async fn today_is_the_property_s_civil_date_not_utc_s() {
    let w = world().await;
    // 23:30 UTC on 1 June is 00:30 on 2 June in Lisbon.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 1, 23, 30, 0).unwrap())
        .unwrap();
    let before = w.store.dump();
    let err = w
        .engine
        .hold(&hold_request(
            "yesterday",
            vec![villa_stay(date(2026, 6, 1), date(2026, 6, 3))],
            900,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IN_THE_PAST");
    assert_eq!(w.store.dump(), before);
    w.engine
        .hold(&hold_request(
            "today",
            vec![villa_stay(date(2026, 6, 2), date(2026, 6, 4))],
            900,
        ))
        .await
        .unwrap();
    assert!(w.engine.expire_due(0).await.unwrap().is_empty());
}
