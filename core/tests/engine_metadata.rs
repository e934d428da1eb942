//! The host's metadata on bookings: given at confirmation (directly or
//! through a payment, even one settled later by reconciliation), kept with
//! the booking and in its events, replaced with `set_booking_metadata`,
//! and refused whole when malformed.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use money::{ana, events, hold_villa, pay, shop, villa_free};
use reservo::booking::{BookingStatus, Metadata};
use reservo::engine::{CancelRequest, ConfirmRequest, HoldState, PayAmount, SetMetadataRequest};
use reservo::ids::BookingId;
use reservo::notify::Template;
use reservo::ports::Storage;
use serde_json::json;

fn order(id: &str) -> Metadata {
    Metadata::from_pairs([("order_id", id), ("source", "web")]).unwrap()
}

fn set(key: &str, booking: &BookingId, metadata: Metadata) -> SetMetadataRequest {
    SetMetadataRequest {
        idempotency_key: key.into(),
        booking: booking.clone(),
        metadata,
    }
}

#[tokio::test]
async fn metadata_given_at_confirmation_is_kept_on_the_booking_and_in_its_event() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let request = ConfirmRequest::new("c1", hold.id.clone(), ana()).with_metadata(order("A-1"));
    let booking = s.w.engine.confirm(&request).await.unwrap();
    assert_eq!(booking.metadata, order("A-1"));
    let read = s.w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(read.metadata, order("A-1"));
    let by_phone = s.w.engine.bookings_by_customer(&ana().phone).await.unwrap();
    assert_eq!(by_phone[0].metadata, order("A-1"));
    let confirmed = events(&s.w, "booking.confirmed").await;
    assert_eq!(
        confirmed[0]["metadata"],
        json!({"order_id": "A-1", "source": "web"})
    );
    // Every key can be named in an SMS template.
    let template = Template::parse("Order {metadata.order_id} is confirmed").unwrap();
    assert_eq!(
        template.render(&confirmed[0]).unwrap(),
        "Order A-1 is confirmed"
    );

    // A booking without metadata has none in its event either: payloads
    // keep the bytes they had before metadata existed.
    let other = hold_villa(&s.w, "h2", (7, 20), (7, 22)).await;
    let plain = ConfirmRequest::new("c2", other.id, ana());
    let booking = s.w.engine.confirm(&plain).await.unwrap();
    assert!(booking.metadata.is_empty());
    let confirmed = events(&s.w, "booking.confirmed").await;
    assert!(confirmed[1].get("metadata").is_none(), "{}", confirmed[1]);
}

#[tokio::test]
async fn malformed_metadata_refuses_the_confirmation_and_changes_nothing() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let before = s.w.store.read_events(0, usize::MAX).await.unwrap().len();
    let mut request = ConfirmRequest::new("c1", hold.id.clone(), ana());
    // Built by deserializing, as a binding would: not checked yet.
    request.metadata = serde_json::from_value(json!({"order id": "A-1"})).unwrap();
    let err = s.w.engine.confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("\"order id\""), "{err}");
    let mut paid = pay("p1", &hold, PayAmount::Full);
    paid.metadata = request.metadata.clone();
    let err = s.w.engine.pay_and_confirm(&paid).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(s.gateway.calls().is_empty(), "nothing was charged");
    assert_eq!(
        s.w.store.read_events(0, usize::MAX).await.unwrap().len(),
        before
    );
    let held = s.w.engine.hold_by_id(&hold.id).await.unwrap();
    assert_eq!(held.state, HoldState::Active);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    // The same key with good metadata goes through.
    request.metadata = order("A-1");
    s.w.engine.confirm(&request).await.unwrap();
}

#[tokio::test]
async fn metadata_of_a_payment_whose_outcome_was_lost_reaches_the_booking_reconciliation_makes() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.metadata = order("A-7");
    s.gateway.lose_next(1);
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    s.w.engine.reconcile_payments().await.unwrap();
    let booking = s.w.engine.bookings_by_customer(&ana().phone).await.unwrap();
    assert_eq!(booking.len(), 1);
    assert_eq!(booking[0].status, BookingStatus::Confirmed);
    assert_eq!(booking[0].metadata, order("A-7"));
}

#[tokio::test]
async fn set_booking_metadata_replaces_it_once_per_key_in_any_status() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let request = ConfirmRequest::new("c1", hold.id.clone(), ana()).with_metadata(order("A-1"));
    let booking = s.w.engine.confirm(&request).await.unwrap();
    let id = booking.id.clone();

    let invoice = Metadata::from_pairs([("invoice", "F-2026/7731")]).unwrap();
    let changed =
        s.w.engine
            .set_booking_metadata(&set("m1", &id, invoice.clone()))
            .await
            .unwrap();
    assert_eq!(
        changed.metadata, invoice,
        "the old entries are replaced, not merged"
    );
    assert_eq!(changed.status, booking.status);
    assert_eq!(changed.money, booking.money);
    assert_eq!(changed.items, booking.items);
    let events_now = events(&s.w, "booking.metadata_changed").await;
    assert_eq!(events_now.len(), 1);
    assert_eq!(events_now[0]["metadata"], json!({"invoice": "F-2026/7731"}));
    assert_eq!(events_now[0]["booking"]["id"], id.as_str());

    // A replay returns the booking as it is and changes nothing; the same
    // key with other metadata is a conflict.
    let replay =
        s.w.engine
            .set_booking_metadata(&set("m1", &id, invoice.clone()))
            .await
            .unwrap();
    assert_eq!(replay.metadata, invoice);
    let err =
        s.w.engine
            .set_booking_metadata(&set("m1", &id, order("B")))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    // Metadata equal to what the booking has appends no event.
    s.w.engine
        .set_booking_metadata(&set("m2", &id, invoice.clone()))
        .await
        .unwrap();
    assert_eq!(events(&s.w, "booking.metadata_changed").await.len(), 1);

    // A cancelled booking can still be annotated; clearing is empty metadata.
    let cancel = CancelRequest {
        idempotency_key: "x1".into(),
        booking: id.clone(),
        reason: None,
    };
    s.w.engine.cancel(&cancel).await.unwrap();
    let cleared =
        s.w.engine
            .set_booking_metadata(&set("m3", &id, Metadata::new()))
            .await
            .unwrap();
    assert_eq!(cleared.status, BookingStatus::Cancelled);
    assert!(cleared.metadata.is_empty());
    assert!(s.w.engine.booking(&id).await.unwrap().metadata.is_empty());
    let last = events(&s.w, "booking.metadata_changed").await;
    assert_eq!(last.len(), 2);
    assert!(last[1].get("metadata").is_none());
}

#[tokio::test]
async fn set_booking_metadata_refuses_bad_input_and_unknown_bookings_changing_nothing() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .confirm(&ConfirmRequest::new("c1", hold.id, ana()))
            .await
            .unwrap();
    let before = s.w.store.read_events(0, usize::MAX).await.unwrap().len();

    let too_long: Metadata =
        serde_json::from_value(json!({"note": "x".repeat(Metadata::MAX_VALUE_CHARS + 1)})).unwrap();
    let err =
        s.w.engine
            .set_booking_metadata(&set("m1", &booking.id, too_long))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let unknown = BookingId::new("no-such-booking").unwrap();
    let err =
        s.w.engine
            .set_booking_metadata(&set("m2", &unknown, order("A")))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    let err =
        s.w.engine
            .set_booking_metadata(&set("", &booking.id, order("A")))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");

    assert_eq!(
        s.w.store.read_events(0, usize::MAX).await.unwrap().len(),
        before
    );
    assert!(
        s.w.engine
            .booking(&booking.id)
            .await
            .unwrap()
            .metadata
            .is_empty()
    );
    // The refused keys were not used up.
    let ok =
        s.w.engine
            .set_booking_metadata(&set("m1", &booking.id, order("A")))
            .await
            .unwrap();
    assert_eq!(ok.metadata, order("A"));
}
