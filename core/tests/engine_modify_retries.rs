//! Modifications whose gateway answer was lost: the booking and its
//! nights stay as they were until the outcome is known, a retry charges
//! or refunds once, and a charge that can no longer apply is reversed.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;

use gateway::TestGateway;
use modifications::{balance, modify, net_at_gateway};
use money::{
    cancel, deposit, eur, events, hold_villa, pay, shop, shop_with, villa_free, villa_paid_in_full,
};
use reservo::booking::BookingStatus;
use reservo::engine::{AttemptState, PayAmount};
use reservo::ports::GatewayCapabilities;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

#[tokio::test]
async fn lost_difference_charge_leaves_the_booking_and_nights_and_a_retry_charges_once() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let request = modify("m1", &booking.id, (7, 14), (7, 18));
    s.gateway.lose_next(1);
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    assert_eq!(s.w.engine.booking(&booking.id).await.unwrap(), booking);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [0, 0, 0, 1, 1]);
    let attempt = s.w.engine.payment_attempt("m1").await.unwrap();
    assert!(matches!(
        attempt.state,
        AttemptState::Pending {
            last_error: Some(_)
        }
    ));
    assert_eq!(attempt.amount, eur("120.00"));
    // Another card under the same key is another request.
    let mut other_card = request.clone();
    other_card.payment_method = Some("tok_other".into());
    let err = s.w.engine.modify(&other_card).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");

    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, eur("480.00"));
    assert_eq!(s.gateway.captured(), dec!(480.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [1, 0, 0, 0, 0]);
    assert_eq!(s.w.engine.modify(&request).await.unwrap(), modified);
    let charges = s
        .gateway
        .calls()
        .iter()
        .filter(|c| c.key == "m1:charge")
        .count();
    assert_eq!(charges, 2);
    assert_eq!(s.gateway.captured(), dec!(480.00));
}

#[tokio::test]
async fn lost_difference_charge_is_reversed_if_the_new_nights_were_sold_meanwhile() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let request = modify("m1", &booking.id, (7, 13), (7, 18));
    s.gateway.lose_next(1);
    s.w.engine.modify(&request).await.unwrap_err();
    let other_hold = hold_villa(&s.w, "h2", (7, 16), (7, 18)).await;
    let other =
        s.w.engine
            .pay_and_confirm(&pay("p2", &other_hold, PayAmount::Full))
            .await
            .unwrap();
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["m1:charge"]);
    let attempt = s.w.engine.payment_attempt("m1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Reversed { .. }));
    assert_eq!(s.w.engine.booking(&booking.id).await.unwrap(), booking);
    assert_eq!(
        net_at_gateway(&s.gateway),
        (booking.total.amount() + other.total.amount())
    );
    assert_eq!(events(&s.w, "payment.reversed").await.len(), 1);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [0, 0, 0, 0, 0]);
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    assert!(
        s.w.engine
            .reconcile_payments()
            .await
            .unwrap()
            .settled
            .is_empty()
    );
}

#[tokio::test]
async fn lost_difference_charge_then_cancellation_reverses_the_charge() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    s.gateway.lose_next(1);
    s.w.engine
        .modify(&modify("m1", &booking.id, (7, 13), (7, 18)))
        .await
        .unwrap_err();
    // Non-refundable (no policy): the cancellation keeps the 360.00.
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    s.w.engine.reconcile_payments().await.unwrap();
    let attempt = s.w.engine.payment_attempt("m1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Reversed { .. }));
    assert_eq!(net_at_gateway(&s.gateway), dec!(360.00));
    let after = s.w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(after.status, BookingStatus::Cancelled);
    assert_eq!(after.money.payments.len(), 1);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [1, 1, 1, 1, 1]);
}

#[tokio::test]
async fn lost_refund_of_a_shrinking_modification_stays_pending_and_is_issued_once() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let request = modify("m1", &booking.id, (7, 13), (7, 15));
    s.gateway.lose_next(1);
    // The swap is committed; only the refund's answer is lost.
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, eur("260.00"));
    assert!(modified.money.has_pending_refunds());
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 1]);
    // A replay returns the booking without asking the gateway again.
    let calls = s.gateway.calls().len();
    s.w.engine.modify(&request).await.unwrap();
    assert_eq!(s.gateway.calls().len(), calls);
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["m1:refund:0"]);
    let after = s.w.engine.booking(&booking.id).await.unwrap();
    assert!(!after.money.has_pending_refunds());
    assert_eq!(s.gateway.refunded(), dec!(100.00));
    assert_eq!(events(&s.w, "refund.issued").await.len(), 1);
    s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(s.gateway.refunded(), dec!(100.00));
}

#[tokio::test]
async fn lost_balance_charge_is_reversed_when_a_modification_changed_the_balance() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    s.gateway.lose_next(1);
    let err =
        s.w.engine
            .pay_balance(&balance("p2", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    // The balance was 260.00 when charged; the modification makes it 160.00.
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 13), (7, 15)))
            .await
            .unwrap();
    assert_eq!(modified.status, BookingStatus::PendingPayment);
    s.w.engine.reconcile_payments().await.unwrap();
    let attempt = s.w.engine.payment_attempt("p2").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Reversed { .. }));
    let after = s.w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(after.status, BookingStatus::PendingPayment);
    assert_eq!(after.money.payments.len(), 1);
    assert_eq!(net_at_gateway(&s.gateway), dec!(100.00));
    let paid =
        s.w.engine
            .pay_balance(&balance("p3", &booking.id))
            .await
            .unwrap();
    assert_eq!(paid.money.payments[1].amount, eur("160.00"));
    assert_eq!(net_at_gateway(&s.gateway), dec!(260.00));
}

#[tokio::test]
async fn separate_capture_gateway_captures_the_difference_once_after_lost_authorizations() {
    let gateway = TestGateway::with(GatewayCapabilities {
        partial_refunds: true,
        separate_capture: true,
    });
    let s = shop_with(gateway, None).await;
    let booking = villa_paid_in_full(&s.w).await;
    let request = modify("m1", &booking.id, (7, 14), (7, 18));
    let calls = s.gateway.calls().len();
    // The authorization's answer is lost twice.
    s.gateway.lose_next(2);
    for _ in 0..2 {
        let err = s.w.engine.modify(&request).await.unwrap_err();
        assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
        assert_eq!(s.w.engine.booking(&booking.id).await.unwrap(), booking);
    }
    s.w.engine.modify(&request).await.unwrap();
    let ops: Vec<(&str, String, Decimal)> = s.gateway.calls()[calls..]
        .iter()
        .map(|c| (c.op, c.key.clone(), c.amount))
        .collect();
    assert_eq!(
        ops,
        [
            ("authorize", "m1:authorize".into(), dec!(120.00)),
            ("authorize", "m1:authorize".into(), dec!(120.00)),
            ("authorize", "m1:authorize".into(), dec!(120.00)),
            ("capture", "m1:charge".into(), dec!(120.00)),
        ]
    );
    assert_eq!(s.gateway.captured(), dec!(480.00));
}

/// A modification applied at the price quoted: `expected_total` is the
/// quote's `new_total`; when rates change between the quote and the
/// modification, it fails with `PRICE_CHANGED` before anything is charged
/// or changed, and applies at the new quote.
#[tokio::test]
async fn a_modification_expected_at_its_quoted_total_refuses_a_new_price() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let mut request = modify("m1", &booking.id, (7, 14), (7, 18));
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    request.expected_total = Some(quote.new_total);
    s.w.engine
        .put_rate_plan(catalog::nightly_plan("flex", "120.00"))
        .await
        .unwrap();
    let calls = s.gateway.calls().len();
    let before = s.w.store.dump();
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PRICE_CHANGED");
    assert!(
        err.to_string().contains(&quote.new_total.to_string()),
        "{err}"
    );
    assert_eq!(s.gateway.calls().len(), calls, "nothing is charged");
    assert_eq!(s.w.store.dump(), before, "nothing changes");
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [0, 0, 0, 1, 1]);

    // The same key with the new quote's total is a new request: applied,
    // charged exactly the new difference.
    let requote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    assert_ne!(requote.new_total, quote.new_total);
    request.expected_total = Some(requote.new_total);
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, requote.new_total);
    assert_eq!(net_at_gateway(&s.gateway), requote.new_total.amount());
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [1, 0, 0, 0, 0]);
    // A replay answers with the booking; the same key at another expected
    // total conflicts.
    assert_eq!(s.w.engine.modify(&request).await.unwrap(), modified);
    request.expected_total = Some(quote.new_total);
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
}

/// Without `expected_total` a modification's record is what it was before
/// the field existed (the field is not serialized when absent), and an
/// expected total in the booking's currency but another scale is the same
/// price.
#[tokio::test]
async fn an_expected_total_compares_amounts_not_their_digits() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let mut request = modify("m1", &booking.id, (7, 14), (7, 16));
    assert!(
        !serde_json::to_string(&request)
            .unwrap()
            .contains("expected_total")
    );
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    let padded = format!("{}0", quote.new_total.amount());
    request.expected_total = Some(eur(&padded));
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, quote.new_total);
}
