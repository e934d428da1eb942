//! Modifications and their money at the edges: change fees, refunds across
//! several payments and on gateways without partial refunds, bookings
//! still pending payment, and key conflicts and bad input (for payments
//! too) that change nothing.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;

use catalog::World;
use modifications::{balance, modify, net_at_gateway, priced_total, shop_with_fee};
use money::{
    cancel, deposit, eur, events, hold_villa, no_partial_refunds, pay, shop, shop_with, villa,
    villa_free, villa_paid_in_full,
};
use reservo::booking::BookingStatus;
use reservo::engine::{ModifyRequest, PayAmount, RefundState};
use reservo::ids::BookingId;
use reservo::money::Money;
use reservo::ports::Storage;
use rust_decimal_macros::dec;

/// Bad input changes nothing: `pay_and_confirm` and `pay_balance` refuse a
/// blank payment method, and so does a modification, before it records an
/// attempt or asks the gateway.
#[tokio::test]
async fn modify_refuses_a_blank_or_oversized_payment_method_before_anything() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let calls = s.gateway.calls().len();
    let before = s.w.store.dump();
    for method in ["", "   ", &"x".repeat(501)] {
        let mut request = modify("m1", &booking.id, (7, 14), (7, 18));
        request.payment_method = Some(method.to_owned());
        let err = s.w.engine.modify(&request).await.map(|b| b.total);
        assert_eq!(
            err.map_err(|e| e.code()),
            Err("INVALID_INPUT"),
            "method {method:?}"
        );
        assert_eq!(s.gateway.calls().len(), calls, "method {method:?}");
        assert_eq!(s.w.store.dump(), before, "method {method:?}");
    }
}

/// The commission terms are checked before the guest is charged: a channel
/// the property's commission plan has no terms for is refused with nothing
/// recorded and no gateway call.
#[tokio::test]
async fn pay_and_confirm_through_a_channel_without_terms_charges_nothing() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let before = s.w.store.dump();
    let mut request = pay("p1", &hold, PayAmount::Full);
    request.attribution.channel = Some("unknown-ota".into());
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(s.gateway.calls().is_empty());
    assert_eq!(s.w.store.dump(), before);
}

// ------------------------------------------------------- modification money

#[tokio::test]
async fn a_move_at_the_same_price_charges_exactly_the_change_fee() {
    let s = shop_with_fee("10.00").await;
    let booking = villa_paid_in_full(&s.w).await;
    // Mon-Wed to Tue-Thu: 3 x 100.00 + 60.00 either way.
    let request = modify("m1", &booking.id, (7, 14), (7, 17));
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    assert_eq!(quote.difference, eur("10.00"));
    assert_eq!(quote.to_charge, eur("10.00"));
    assert_eq!(quote.to_refund, eur("0.00"));
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, eur("370.00"));
    assert_eq!(modified.money.change_fees, Some(eur("10.00")));
    assert_eq!(s.gateway.captured(), dec!(370.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 18)).await, [1, 0, 0, 0, 1]);
}

#[tokio::test]
async fn a_change_fee_larger_than_the_price_drop_is_charged_not_refunded() {
    let s = shop_with_fee("150.00").await;
    let booking = villa_paid_in_full(&s.w).await;
    // 13-15: 260.00 + 150.00 fee = 410.00 against 360.00 paid.
    let request = modify("m1", &booking.id, (7, 13), (7, 15));
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    assert_eq!(quote.to_charge, eur("50.00"));
    assert_eq!(quote.to_refund, eur("0.00"));
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.total, eur("410.00"));
    assert_eq!(s.gateway.refunded(), dec!(0));
    assert_eq!(s.gateway.captured(), dec!(410.00));
    assert_eq!(priced_total(&modified), modified.total);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 1]);
}

#[tokio::test]
async fn change_fees_accumulate_and_stay_non_refundable_across_modifications() {
    let s = shop_with_fee("10.00").await;
    use_policy(&s.w).await;
    let booking = villa_paid_in_full(&s.w).await;
    let id = booking.id.clone();
    s.w.engine
        .modify(&modify("m1", &id, (7, 13), (7, 15)))
        .await
        .unwrap();
    let twice =
        s.w.engine
            .modify(&modify("m2", &id, (7, 13), (7, 16)))
            .await
            .unwrap();
    assert_eq!(twice.money.change_fees, Some(eur("20.00")));
    assert_eq!(twice.total, eur("380.00"));
    assert_eq!(priced_total(&twice), twice.total);
    assert_eq!(
        twice.money.paid(twice.total.currency()).amount(),
        net_at_gateway(&s.gateway)
    );
    // Cancelled more than 30 days ahead: everything but the fees comes back.
    let cancelled = s.w.engine.cancel(&cancel("c1", &id)).await.unwrap();
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(net_at_gateway(&s.gateway), dec!(20.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
}

async fn use_policy(w: &World) {
    money::use_tiered_policy(w).await;
}

#[tokio::test]
async fn lowering_the_price_without_partial_refunds_is_refused_and_changes_nothing() {
    let s = shop_with(no_partial_refunds(), None).await;
    let booking = villa_paid_in_full(&s.w).await;
    let request = modify("m1", &booking.id, (7, 13), (7, 15));
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    assert_eq!(quote.to_refund, eur("100.00"));
    let calls = s.gateway.calls().len();
    let before = s.w.store.dump();
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_UNSUPPORTED");
    assert_eq!(s.w.store.dump(), before);
    assert_eq!(s.gateway.calls().len(), calls);
    // Nothing was remembered under the key: it can be used once it can apply.
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_UNSUPPORTED");
}

#[tokio::test]
async fn without_partial_refunds_a_modification_can_give_back_a_whole_later_payment() {
    let s = shop_with(no_partial_refunds(), None).await;
    let booking = villa_paid_in_full(&s.w).await;
    let id = booking.id.clone();
    let longer =
        s.w.engine
            .modify(&modify("m1", &id, (7, 13), (7, 17)))
            .await
            .unwrap();
    assert_eq!(longer.total, eur("460.00"));
    let amounts: Vec<_> = longer.money.payments.iter().map(|p| p.amount).collect();
    assert_eq!(amounts, [eur("360.00"), eur("100.00")]);
    let back =
        s.w.engine
            .modify(&modify("m2", &id, (7, 13), (7, 16)))
            .await
            .unwrap();
    assert_eq!(back.total, eur("360.00"));
    assert_eq!(back.money.refunds.len(), 1);
    assert_eq!(back.money.refunds[0].amount, eur("100.00"));
    assert_eq!(
        back.money.refunds[0].payment,
        longer.money.payments[1].gateway_id
    );
    assert!(matches!(
        back.money.refunds[0].state,
        RefundState::Issued { .. }
    ));
    assert_eq!(net_at_gateway(&s.gateway), dec!(360.00));
}

#[tokio::test]
async fn shrinking_a_deposit_and_balance_booking_refunds_across_both_payments_exactly() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("300.00")))
            .await
            .unwrap();
    let paid =
        s.w.engine
            .pay_balance(&balance("p2", &booking.id))
            .await
            .unwrap();
    let ids: Vec<String> = paid
        .money
        .payments
        .iter()
        .map(|p| p.gateway_id.clone())
        .collect();
    // 13-14: 100.00 + 60.00; 200.00 comes back, more than the 60.00 balance.
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 13), (7, 14)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("160.00"));
    let by_payment = s.gateway.refunds_by_payment();
    assert_eq!(by_payment[&ids[1]], dec!(60.00));
    assert_eq!(by_payment[&ids[0]], dec!(140.00));
    let refunds: Vec<_> = modified
        .money
        .refunds
        .iter()
        .map(|r| (r.key.as_str(), r.amount))
        .collect();
    assert_eq!(
        refunds,
        [
            ("m1:refund:1", eur("60.00")),
            ("m1:refund:0", eur("140.00"))
        ]
    );
    assert_eq!(
        modified.money.paid(modified.total.currency()),
        eur("160.00")
    );
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 1, 1]);
}

#[tokio::test]
async fn after_a_partial_refund_growing_again_charges_only_the_gap() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let id = booking.id.clone();
    s.w.engine
        .modify(&modify("m1", &id, (7, 13), (7, 14)))
        .await
        .unwrap();
    assert_eq!(net_at_gateway(&s.gateway), dec!(160.00));
    let grown =
        s.w.engine
            .modify(&modify("m2", &id, (7, 13), (7, 17)))
            .await
            .unwrap();
    // 4 nights (Thu included) 400.00 + 60.00 = 460.00; 160.00 still paid.
    assert_eq!(grown.total, eur("460.00"));
    assert_eq!(grown.money.payments[1].amount, eur("300.00"));
    assert_eq!(net_at_gateway(&s.gateway), dec!(460.00));
    // Shrinking again takes the newest payment first, then the remainder.
    let shrunk =
        s.w.engine
            .modify(&modify("m3", &id, (7, 15), (7, 16)))
            .await
            .unwrap();
    assert_eq!(shrunk.total, eur("160.00"));
    let refunded: Vec<_> = shrunk.money.payments.iter().map(|p| p.refunded).collect();
    assert_eq!(refunded, [eur("200.00"), eur("300.00")]);
    assert_eq!(net_at_gateway(&s.gateway), dec!(160.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 17)).await, [1, 1, 0, 1]);
}

#[tokio::test]
async fn pending_payment_booking_grown_moves_the_difference_into_its_balance() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    let calls = s.gateway.calls().len();
    let request = modify("m1", &booking.id, (7, 14), (7, 18));
    let quote =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap();
    assert_eq!(quote.to_charge, eur("0.00"));
    assert_eq!(quote.to_refund, eur("0.00"));
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert_eq!(modified.status, BookingStatus::PendingPayment);
    assert_eq!(modified.total, eur("480.00"));
    assert_eq!(s.gateway.calls().len(), calls);
    let paid =
        s.w.engine
            .pay_balance(&balance("p2", &booking.id))
            .await
            .unwrap();
    assert_eq!(paid.status, BookingStatus::Confirmed);
    assert_eq!(paid.money.payments[1].amount, eur("380.00"));
    assert_eq!(s.gateway.captured(), dec!(480.00));
}

/// Confirmed by the modification, the booking announces it after
/// `booking.modified` with `booking.confirmed`, as paying the balance would
/// (the guest's and owner's confirmations go out on it).
#[tokio::test]
async fn pending_payment_booking_shrunk_below_its_deposit_is_refunded_the_excess_and_confirmed() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("300.00")))
            .await
            .unwrap();
    assert!(events(&s.w, "booking.confirmed").await.is_empty());
    let modified =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 13), (7, 14)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("160.00"));
    assert_eq!(modified.status, BookingStatus::Confirmed);
    assert_eq!(s.gateway.refunded(), dec!(140.00));
    assert_eq!(
        modified.money.paid(modified.total.currency()),
        eur("160.00")
    );
    let kinds: Vec<String> =
        s.w.store
            .read_events(0, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .skip_while(|kind| kind != "booking.modified")
            .collect();
    assert_eq!(
        kinds,
        ["booking.modified", "booking.confirmed", "refund.issued"]
    );
    let confirmed = events(&s.w, "booking.confirmed").await;
    assert_eq!(confirmed[0]["booking"]["total"], "160.00");
    assert_eq!(confirmed[0]["period"]["end"], "2026-07-14");
    let err =
        s.w.engine
            .pay_balance(&balance("p2", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
}

#[tokio::test]
async fn pending_payment_booking_shrunk_below_its_deposit_without_partial_refunds_changes_nothing()
{
    let s = shop_with(no_partial_refunds(), None).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("300.00")))
            .await
            .unwrap();
    let before = s.w.store.dump();
    let err =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 13), (7, 14)))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_UNSUPPORTED");
    assert_eq!(s.w.store.dump(), before);
}

// ------------------------------------------------------- idempotency, input

#[tokio::test]
async fn a_key_of_another_command_is_a_conflict_for_modify_and_back() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let before = s.w.store.dump();
    // "p1" paid the booking, "h1" held it.
    for key in ["p1", "h1"] {
        for to in [(7, 15), (7, 18)] {
            let err =
                s.w.engine
                    .modify(&modify(key, &booking.id, (7, 13), to))
                    .await
                    .unwrap_err();
            assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT", "{key} {to:?}");
        }
    }
    assert_eq!(s.w.store.dump(), before);
    s.w.engine
        .modify(&modify("m1", &booking.id, (7, 13), (7, 15)))
        .await
        .unwrap();
    let err =
        s.w.engine
            .cancel(&cancel("m1", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    let err =
        s.w.engine
            .pay_balance(&balance("m1", &booking.id))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
}

#[tokio::test]
async fn declined_modification_charge_replays_declined_and_a_new_key_can_succeed() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let mut request = modify("m1", &booking.id, (7, 14), (7, 18));
    request.payment_method = Some(gateway::DECLINED_CARD.into());
    assert_eq!(
        s.w.engine.modify(&request).await.unwrap_err().code(),
        "PAYMENT_DECLINED"
    );
    let calls = s.gateway.calls().len();
    assert_eq!(
        s.w.engine.modify(&request).await.unwrap_err().code(),
        "PAYMENT_DECLINED"
    );
    assert_eq!(s.gateway.calls().len(), calls);
    assert_eq!(events(&s.w, "payment.failed").await.len(), 1);
    assert!(
        s.w.engine
            .reconcile_payments()
            .await
            .unwrap()
            .settled
            .is_empty()
    );
    let modified =
        s.w.engine
            .modify(&modify("m2", &booking.id, (7, 14), (7, 18)))
            .await
            .unwrap();
    assert_eq!(modified.total, eur("480.00"));
    assert_eq!(s.gateway.captured(), dec!(480.00));
}

#[tokio::test]
async fn bad_modifications_are_typed_errors_that_change_nothing() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let before = s.w.store.dump();
    let calls = s.gateway.calls().len();
    let base = modify("m1", &booking.id, (7, 14), (7, 18));
    let mut cases: Vec<(ModifyRequest, &str)> = Vec::new();
    let mut empty = base.clone();
    empty.items.clear();
    cases.push((empty, "INVALID_INPUT"));
    let mut many = base.clone();
    many.items = (0..200).map(|_| villa((7, 14), (7, 18))).collect();
    cases.push((many, "INVALID_INPUT"));
    let mut bad_key = base.clone();
    bad_key.idempotency_key = "has space".into();
    cases.push((bad_key, "INVALID_INPUT"));
    let mut unknown = base.clone();
    unknown.booking = BookingId::new("bk-nope").unwrap();
    cases.push((unknown, "NOT_FOUND"));
    let mut twice = base.clone();
    // The villa has one unit: the same nights twice do not fit.
    twice.items = vec![villa((7, 14), (7, 18)), villa((7, 14), (7, 18))];
    cases.push((twice, "UNAVAILABLE"));
    let mut crowd = base.clone();
    crowd.items = vec![reservo::engine::QuoteRequest::new(
        reservo::engine::Item::stay(
            catalog::rid("villa"),
            catalog::stay((7, 14), (7, 18)),
            reservo::party::Party::adults(5).unwrap(),
        ),
    )];
    cases.push((crowd, "any"));
    let mut past = base.clone();
    past.items = vec![villa((5, 1), (5, 3))];
    cases.push((past, "any"));
    for (request, code) in cases {
        let err = s.w.engine.modify(&request).await.unwrap_err();
        if code != "any" {
            assert_eq!(err.code(), code, "{request:?}");
        }
        assert_eq!(s.w.store.dump(), before, "{request:?}");
        assert_eq!(s.gateway.calls().len(), calls, "{request:?}");
    }
}

#[tokio::test]
async fn deposits_in_another_currency_are_a_currency_mismatch_that_changes_nothing() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let before = s.w.store.dump();
    let request = pay(
        "p1",
        &hold,
        PayAmount::Deposit {
            amount: Money::parse("100.00", "USD").unwrap(),
        },
    );
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert_eq!(s.w.store.dump(), before);
    assert!(s.gateway.calls().is_empty());
}

#[tokio::test]
async fn a_cancelled_booking_cannot_be_quoted_or_modified() {
    let s = shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    let before = s.w.store.dump();
    let request = modify("m1", &booking.id, (7, 14), (7, 18));
    let err =
        s.w.engine
            .quote_modification(&booking.id, &request.items)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    assert_eq!(s.w.store.dump(), before);
}
