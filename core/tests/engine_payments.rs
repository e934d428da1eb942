//! Payments through the `PaymentGateway` port: pay and confirm, deposits
//! and balances, declines, unknown outcomes and their reconciliation.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use chrono::Duration;
use gateway::{DECLINED_CARD, TestGateway};
use money::{
    ana, deposit, eur, events, hold_villa, pay, shop, shop_with, villa_free, villa_paid_in_full,
};
use reservo::booking::BookingStatus;
use reservo::engine::{AttemptState, Engine, HoldState, PayAmount, PayBalanceRequest};
use reservo::ports::GatewayCapabilities;
use rust_decimal_macros::dec;

#[tokio::test]
async fn full_payment_confirms_the_booking_with_the_payment_recorded() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert_eq!(booking.total, eur("360.00"));
    assert_eq!(booking.money.payments.len(), 1);
    assert_eq!(booking.money.payments[0].amount, eur("360.00"));
    assert_eq!(s.gateway.captured(), dec!(360.00));
    assert_eq!(s.gateway.calls()[0].key, "p1:charge");
    let captured = events(&s.w, "payment.captured").await;
    assert_eq!(captured.len(), 1);
    assert_eq!(captured[0]["payment"]["amount"], "360.00");
    assert_eq!(events(&s.w, "booking.confirmed").await.len(), 1);
}

#[tokio::test]
async fn declined_payment_leaves_no_booking_and_the_hold_active_for_another_card() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.payment_method = DECLINED_CARD.into();
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    assert!(
        s.w.engine
            .bookings_by_customer(&ana().phone)
            .await
            .unwrap()
            .is_empty()
    );
    let hold_now = s.w.engine.hold_by_id(&hold.id).await.unwrap();
    assert_eq!(hold_now.state, HoldState::Active);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    assert_eq!(events(&s.w, "payment.failed").await.len(), 1);
    let attempt = s.w.engine.payment_attempt("p1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Declined { .. }));
    // The same key stays declined without asking the gateway again.
    let calls = s.gateway.calls().len();
    let again = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(again.code(), "PAYMENT_DECLINED");
    assert_eq!(s.gateway.calls().len(), calls);
    // Another card under a new key books it.
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p2", &hold, PayAmount::Full))
            .await
            .unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
}

#[tokio::test]
async fn lost_gateway_answer_is_recorded_and_a_retry_resolves_it_without_charging_twice() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let request = pay("p1", &hold, PayAmount::Full);
    s.gateway.lose_next(1);
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    let attempt = s.w.engine.payment_attempt("p1").await.unwrap();
    assert!(matches!(
        attempt.state,
        AttemptState::Pending {
            last_error: Some(_)
        }
    ));
    assert_eq!(attempt.amount, eur("360.00"));
    assert!(
        s.w.engine
            .bookings_by_customer(&ana().phone)
            .await
            .unwrap()
            .is_empty()
    );
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert_eq!(s.gateway.captured(), dec!(360.00));
    let keys: Vec<String> = s.gateway.calls().iter().map(|c| c.key.clone()).collect();
    assert_eq!(keys, ["p1:charge", "p1:charge"]);
    let replay = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(replay.id, booking.id);
    assert_eq!(s.gateway.calls().len(), 2);
}

#[tokio::test]
async fn reconcile_settles_unknown_payments_with_the_same_keys() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.gateway.fail_next(1);
    let request = pay("p1", &hold, PayAmount::Full);
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    s.gateway.fail_next(1);
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.still_pending, ["p1:charge"]);
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["p1:charge"]);
    let bookings = s.w.engine.bookings_by_customer(&ana().phone).await.unwrap();
    assert_eq!(bookings.len(), 1);
    assert_eq!(s.gateway.captured(), dec!(360.00));
    let replay = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(replay.id, bookings[0].id);
    assert!(
        s.w.engine
            .reconcile_payments()
            .await
            .unwrap()
            .settled
            .is_empty()
    );
    assert!(s.gateway.calls().iter().all(|c| c.key == "p1:charge"));
}

#[tokio::test]
async fn payment_approved_after_its_hold_expired_is_refunded_in_full() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.gateway.fail_next(1);
    let request = pay("p1", &hold, PayAmount::Full);
    s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    s.w.clock.advance(Duration::minutes(20));
    s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(s.gateway.captured(), dec!(360.00));
    assert_eq!(s.gateway.refunded(), dec!(360.00));
    let attempt = s.w.engine.payment_attempt("p1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Reversed { .. }));
    assert!(
        s.w.engine
            .bookings_by_customer(&ana().phone)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(events(&s.w, "payment.reversed").await.len(), 1);
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
}

#[tokio::test]
async fn deposit_then_balance_moves_pending_payment_to_confirmed() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    assert_eq!(events(&s.w, "booking.pending_payment").await.len(), 1);
    let balance = PayBalanceRequest {
        idempotency_key: "p2".into(),
        booking: booking.id.clone(),
        payment_method: "tok_visa".into(),
    };
    let paid = s.w.engine.pay_balance(&balance).await.unwrap();
    assert_eq!(paid.status, BookingStatus::Confirmed);
    let amounts: Vec<_> = paid.money.payments.iter().map(|p| p.amount).collect();
    assert_eq!(amounts, [eur("100.00"), eur("260.00")]);
    assert_eq!(s.gateway.captured(), dec!(360.00));
    assert_eq!(
        s.w.engine.pay_balance(&balance).await.unwrap().id,
        booking.id
    );
    let again = PayBalanceRequest {
        idempotency_key: "p3".into(),
        ..balance.clone()
    };
    let err = s.w.engine.pay_balance(&again).await.unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    let other_card = PayBalanceRequest {
        payment_method: "tok_other".into(),
        ..balance
    };
    let err = s.w.engine.pay_balance(&other_card).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(s.gateway.captured(), dec!(360.00));
}

#[tokio::test]
async fn gateways_that_capture_separately_are_authorized_then_captured() {
    let gateway = TestGateway::with(GatewayCapabilities {
        partial_refunds: true,
        separate_capture: true,
    });
    let s = shop_with(gateway, None).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap();
    let ops: Vec<(&str, String)> = s
        .gateway
        .calls()
        .iter()
        .map(|c| (c.op, c.key.clone()))
        .collect();
    assert_eq!(
        ops,
        [
            ("authorize", "p1:authorize".into()),
            ("capture", "p1:charge".into())
        ]
    );
    assert_eq!(s.gateway.captured(), dec!(360.00));
}

#[tokio::test]
async fn same_key_with_another_payment_request_is_a_conflict() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap();
    let err =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("50.00")))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
}

#[tokio::test]
async fn bad_deposits_and_missing_gateways_change_nothing() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let before = s.w.store.dump();
    for amount in ["0.00", "360.01", "10.005"] {
        let err =
            s.w.engine
                .pay_and_confirm(&pay("p1", &hold, deposit(amount)))
                .await
                .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{amount}");
    }
    assert_eq!(s.w.store.dump(), before);
    assert!(s.gateway.calls().is_empty());
    // An engine without a gateway on the same store cannot take payments.
    let bare = Engine::builder(s.w.store.clone())
        .clock(s.w.clock.clone())
        .build();
    let err = bare
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_UNSUPPORTED");
    assert_eq!(s.w.store.dump(), before);
}

/// A hold that costs nothing (a free plan, a full discount) is confirmed
/// by `pay_and_confirm` without a gateway call: gateways refuse charges
/// of nothing. A retry answers with the same booking; a deposit on it is
/// bad input.
#[tokio::test]
async fn a_free_hold_is_confirmed_without_asking_the_gateway() {
    let s = shop().await;
    let free = catalog::free_nightly_plan("flex");
    s.w.engine.put_rate_plan(free).await.unwrap();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    assert!(hold.total.is_zero(), "{}", hold.total);
    let before = s.w.store.dump();
    let err =
        s.w.engine
            .pay_and_confirm(&pay("p0", &hold, deposit("10.00")))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(s.w.store.dump(), before);
    let request = pay("p1", &hold, PayAmount::Full);
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert!(booking.money.payments.is_empty());
    assert!(s.gateway.calls().is_empty(), "{:?}", s.gateway.calls());
    assert!(events(&s.w, "payment.captured").await.is_empty());
    assert_eq!(events(&s.w, "booking.confirmed").await.len(), 1);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    assert_eq!(s.w.engine.pay_and_confirm(&request).await.unwrap(), booking);
    // The key is the payment command's: a plain confirm under it conflicts.
    let confirm = reservo::engine::ConfirmRequest::new("p1", hold.id.clone(), ana());
    let err = s.w.engine.confirm(&confirm).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert!(s.gateway.calls().is_empty());
}

/// The bounds of a payment: a deposit may be the whole total (the booking
/// is then paid in full), and a payment method token 500 characters long
/// but not 501.
#[tokio::test]
async fn a_deposit_of_the_whole_total_and_a_500_character_method_are_accepted() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let mut request = pay("p1", &hold, deposit("360.00"));
    request.payment_method = "m".repeat(501);
    let before = s.w.store.dump();
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("payment_method"), "{err}");
    assert_eq!(s.w.store.dump(), before);
    assert!(s.gateway.calls().is_empty());
    request.payment_method = "m".repeat(500);
    let booking = s.w.engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert_eq!(booking.money.paid(booking.total.currency()), eur("360.00"));
    assert_eq!(s.gateway.captured(), dec!(360.00));
}

/// A promo code other bookings used up after the hold was priced is
/// refused before the gateway is asked, as the confirmation would refuse
/// it: no charge and no refund.
#[tokio::test]
async fn a_promo_used_up_since_the_hold_is_refused_before_anything_is_charged() {
    let s = shop().await;
    let once = catalog::limited_promo("ONCE", 1);
    s.w.engine.put_promo(once).await.unwrap();
    let with_once = |from, to| vec![money::villa(from, to).with_promo("once")];
    let first = money::hold_items(&s.w, "h1", with_once((7, 13), (7, 16))).await;
    let second = money::hold_items(&s.w, "h2", with_once((8, 3), (8, 6))).await;
    s.w.engine
        .pay_and_confirm(&pay("p1", &first, PayAmount::Full))
        .await
        .unwrap();
    let calls = s.gateway.calls().len();
    let err =
        s.w.engine
            .pay_and_confirm(&pay("p2", &second, PayAmount::Full))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE", "{err}");
    assert_eq!(s.gateway.calls().len(), calls, "the gateway was not asked");
    let held = s.w.engine.hold_by_id(&second.id).await.unwrap();
    assert_eq!(held.state, HoldState::Active);
}
