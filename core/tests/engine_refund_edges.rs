//! What the engine refunds on cancellation: the exact deadline across DST
//! in the property's zone, the policy and prices snapshotted at booking,
//! refunds spread over several payments after earlier refunds, and
//! currencies with 0 and 3 decimals.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;
#[path = "support/policy.rs"]
mod policy;
#[path = "support/refunds.rs"]
mod refunds;

use catalog::{nightly_plan, rid};
use chrono::Duration;
use gateway::TestGateway;
use money::{
    cancel, deposit, eur, hold_items, hold_villa, pay, shop, shop_with, use_tiered_policy, villa,
    villa_free,
};
use policy::{date, money, utc};
use refunds::{add_property_in, flex, paid_in_two, refund_at, refunded, stay_request, villa_paid};
use reservo::booking::BookingStatus;
use reservo::commission::FeeRate;
use reservo::engine::{Item, ModifyRequest, PayAmount, QuoteRequest};
use reservo::money::Currency;
use reservo::party::Party;
use reservo::policy::{AppliedRule, CancellationPolicy, Percentage};
use reservo::ports::Clock;
use reservo::time::Stay;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

// ---------------------------------------------------------------------------
// Engine: exact deadlines, DST in the property's zone, quote == refund
// ---------------------------------------------------------------------------

/// The 30-day deadline of a 13 July check-in in Lisbon is 13 June 15:00
/// WEST (14:00Z). Quote and cancellation agree exactly on it and a second
/// after.
#[tokio::test]
async fn engine_cancels_on_the_exact_deadline_and_a_second_after() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let villa_booking = villa_paid(&s, "a", (7, 13), (7, 16)).await;
    let hold = hold_items(&s.w, "h-b", vec![stay_request("double", (7, 13), (7, 16))]).await;
    let double_booking =
        s.w.engine
            .pay_and_confirm(&pay("p-b", &hold, PayAmount::Full))
            .await
            .unwrap();
    let deadline = utc(2026, 6, 13, 14, 0, 0);
    assert_eq!(refund_at(&s, &villa_booking, deadline).await, eur("360.00"));
    let after = deadline + Duration::seconds(1);
    assert_eq!(refund_at(&s, &double_booking, after).await, eur("270.00"));

    s.w.clock.set(deadline).unwrap();
    let a =
        s.w.engine
            .cancel(&cancel("c-a", &villa_booking.id))
            .await
            .unwrap();
    assert_eq!(refunded(&a), [dec!(360.00)]);
    s.w.clock.set(after).unwrap();
    let b =
        s.w.engine
            .cancel(&cancel("c-b", &double_booking.id))
            .await
            .unwrap();
    assert_eq!(refunded(&b), [dec!(270.00)]);
    assert_eq!(s.gateway.refunded(), dec!(630.00));
}

/// A check-in on the Lisbon fall-back day (25 October 2026, 15:00 WET =
/// 15:00Z): the 7-day deadline is 18 October 15:00 WEST (14:00Z), 169
/// elapsed hours before. The engine cancels by the calendar, not by
/// 168-hour weeks.
#[tokio::test]
async fn engine_7_day_deadline_across_lisbon_fall_back() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = villa_paid(&s, "a", (10, 25), (10, 28)).await;
    assert_eq!(booking.total, eur("360.00"));
    assert_eq!(booking.terms.start.instant(), utc(2026, 10, 25, 15, 0, 0));
    let deadline = utc(2026, 10, 18, 14, 0, 0);
    assert_eq!(refund_at(&s, &booking, deadline).await, eur("270.00"));
    let after = deadline + Duration::seconds(1);
    // first night (Sunday, 100.00) kept
    assert_eq!(refund_at(&s, &booking, after).await, eur("260.00"));
    s.w.clock.set(after).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(260.00)]);
}

/// The Lisbon spring change of 2027 (28 March): the 7-day deadline of a
/// check-in that day (15:00 WEST = 14:00Z) is 21 March 15:00 WET (15:00Z),
/// 167 elapsed hours before.
#[tokio::test]
async fn engine_7_day_deadline_across_lisbon_spring_forward() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let hold = hold_items(
        &s.w,
        "h1",
        vec![QuoteRequest::new(Item::stay(
            rid("villa"),
            Stay::new(date(2027, 3, 28), date(2027, 3, 31)).unwrap(),
            Party::adults(2).unwrap(),
        ))],
    )
    .await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
            .await
            .unwrap();
    assert_eq!(booking.terms.start.instant(), utc(2027, 3, 28, 14, 0, 0));
    let deadline = utc(2027, 3, 21, 15, 0, 0);
    let on_time =
        s.w.engine
            .refund_quote(&booking.id, deadline)
            .await
            .unwrap();
    assert_eq!(on_time.penalty(), booking.total.times(dec!(0.25)));
    let late =
        s.w.engine
            .refund_quote(&booking.id, deadline + Duration::seconds(1))
            .await
            .unwrap();
    assert!(matches!(late.rule(), AppliedRule::Late { .. }));
}

// ---------------------------------------------------------------------------
// Engine: the snapshot
// ---------------------------------------------------------------------------

/// After booking, the plan's policy becomes non-refundable and its prices
/// change: the booking keeps its policy and its night amounts.
#[tokio::test]
async fn catalog_changes_after_booking_do_not_change_its_refund() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = villa_paid(&s, "a", (7, 13), (7, 16)).await;
    let ten_days = utc(2026, 7, 3, 10, 0, 0);
    let the_day_before = utc(2026, 7, 12, 10, 0, 0);
    let before = (
        refund_at(&s, &booking, ten_days).await,
        refund_at(&s, &booking, the_day_before).await,
    );
    assert_eq!(before, (eur("270.00"), eur("260.00")));
    s.w.engine
        .set_cancellation_policy(&flex(), CancellationPolicy::non_refundable())
        .await
        .unwrap();
    s.w.engine
        .put_rate_plan(nightly_plan("flex", "400.00"))
        .await
        .unwrap();
    let after = (
        refund_at(&s, &booking, ten_days).await,
        refund_at(&s, &booking, the_day_before).await,
    );
    assert_eq!(after, before);
    s.w.clock.set(ten_days).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(270.00)]);
    // A new booking takes the new policy.
    let fresh = villa_paid(&s, "b", (8, 3), (8, 6)).await;
    assert_eq!(
        fresh.terms.cancellation_policy,
        CancellationPolicy::non_refundable()
    );
}

/// A modification keeps the snapshotted policy, even after the plan's
/// policy changed.
#[tokio::test]
async fn modification_keeps_the_policy_agreed_at_booking() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = villa_paid(&s, "a", (7, 13), (7, 16)).await;
    s.w.engine
        .set_cancellation_policy(&flex(), CancellationPolicy::non_refundable())
        .await
        .unwrap();
    let modified =
        s.w.engine
            .modify(&ModifyRequest {
                idempotency_key: "m1".into(),
                booking: booking.id.clone(),
                items: vec![villa((7, 14), (7, 17))],
                payment_method: Some("tok_visa".into()),
                expected_total: None,
            })
            .await
            .unwrap();
    assert_eq!(modified.terms.cancellation_policy, money::tiered_policy());
    // 14-17 July: Tue, Wed, Thu at 100.00 + 60.00 = 360.00, still; 35 days
    // out nothing is kept.
    assert_eq!(
        refund_at(&s, &modified, utc(2026, 6, 5, 10, 0, 0)).await,
        eur("360.00")
    );
}

// ---------------------------------------------------------------------------
// Engine: refunds over several payments, after earlier refunds
// ---------------------------------------------------------------------------

/// A modification refunds 100.00 of the balance; the cancellation then
/// refunds 75% of the new total from what is left of the balance first,
/// then from the deposit, and the gateway never refunds a payment beyond
/// what it captured.
#[tokio::test]
async fn cancel_after_a_modification_refund_spreads_over_what_is_left() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    let shorter =
        s.w.engine
            .modify(&ModifyRequest {
                idempotency_key: "m1".into(),
                booking: booking.id.clone(),
                items: vec![villa((7, 13), (7, 15))],
                payment_method: None,
                expected_total: None,
            })
            .await
            .unwrap();
    assert_eq!(shorter.total, eur("260.00"));
    assert_eq!(refunded(&shorter), [dec!(100.00)]);
    let ten_days = utc(2026, 7, 3, 10, 0, 0);
    let quote =
        s.w.engine
            .refund_quote(&booking.id, ten_days)
            .await
            .unwrap();
    assert_eq!(
        (quote.refund(), quote.penalty()),
        (eur("195.00"), eur("65.00"))
    );
    s.w.clock.set(ten_days).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(
        refunded(&cancelled),
        [dec!(100.00), dec!(160.00), dec!(35.00)]
    );
    let keys: Vec<&str> = cancelled
        .money
        .refunds
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(keys, ["m1:refund:1", "c1:refund:1", "c1:refund:0"]);
    assert_eq!(s.gateway.refunded(), dec!(295.00));
    assert_eq!(cancelled.money.paid(Currency::EUR), eur("65.00"));
    let ledger = cancelled.money.commission.unwrap();
    assert_eq!(ledger.remaining().gross(), eur("65.00"));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
}

/// A modification that charges a third payment: a full refund gives back
/// all three, newest first, each exactly.
#[tokio::test]
async fn full_refund_over_three_payments_newest_first() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let booking = paid_in_two(&s).await;
    let longer =
        s.w.engine
            .modify(&ModifyRequest {
                idempotency_key: "m1".into(),
                booking: booking.id.clone(),
                items: vec![villa((7, 13), (7, 17))],
                payment_method: Some("tok_visa".into()),
                expected_total: None,
            })
            .await
            .unwrap();
    assert_eq!(longer.total, eur("460.00"));
    assert_eq!(longer.money.payments.len(), 3);
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(
        refunded(&cancelled),
        [dec!(100.00), dec!(260.00), dec!(100.00)]
    );
    assert_eq!(s.gateway.refunded(), s.gateway.captured());
    assert!(cancelled.money.paid(Currency::EUR).is_zero());
}

/// The change fee of a modification is never refunded, even when the
/// policy refunds everything else.
#[tokio::test]
async fn change_fee_is_kept_on_a_free_cancellation() {
    let fee = FeeRate::new(Percentage::ZERO, Some(eur("10.00"))).unwrap();
    let s = shop_with(TestGateway::new(), Some(fee)).await;
    use_tiered_policy(&s.w).await;
    let booking = villa_paid(&s, "a", (7, 13), (7, 16)).await;
    let modified =
        s.w.engine
            .modify(&ModifyRequest {
                idempotency_key: "m1".into(),
                booking: booking.id.clone(),
                items: vec![villa((7, 14), (7, 17))],
                payment_method: Some("tok_visa".into()),
                expected_total: None,
            })
            .await
            .unwrap();
    assert_eq!(modified.total, eur("370.00"));
    let quote = s.w.engine.refund_quote(&booking.id, s.w.clock.now()).await;
    let quote = quote.unwrap();
    assert_eq!(quote.refund(), eur("360.00"));
    assert_eq!(quote.non_refundable_kept(), eur("10.00"));
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(s.gateway.captured() - s.gateway.refunded(), dec!(10.00));
    assert_eq!(
        cancelled.money.commission.unwrap().remaining().gross(),
        eur("10.00")
    );
}

/// A deposit-only booking cancelled inside the 25% tier: 90.00 is due of
/// the 100.00 paid; 10.00 comes back, the ledger keeps 90.00.
#[tokio::test]
async fn deposit_only_booking_pays_its_penalty_out_of_the_deposit() {
    let s = shop().await;
    use_tiered_policy(&s.w).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    let ten_days = utc(2026, 7, 3, 10, 0, 0);
    s.w.clock.set(ten_days).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(10.00)]);
    let ledger = cancelled.money.commission.unwrap();
    assert_eq!(ledger.remaining().gross(), eur("90.00"));
    // Inside the late window a deposit smaller than the first night is
    // kept whole, never more.
    let hold = hold_villa(&s.w, "h2", (7, 20), (7, 23)).await;
    let small =
        s.w.engine
            .pay_and_confirm(&pay("p2", &hold, deposit("50.00")))
            .await
            .unwrap();
    s.w.clock.set(utc(2026, 7, 19, 20, 0, 0)).unwrap();
    let quote =
        s.w.engine
            .refund_quote(&small.id, s.w.clock.now())
            .await
            .unwrap();
    assert_eq!(
        (quote.refund(), quote.penalty()),
        (eur("0.00"), eur("50.00"))
    );
}

// ---------------------------------------------------------------------------
// Engine: currencies with 0 and 3 decimals
// ---------------------------------------------------------------------------

/// Yen: 3 x 10001 = 30003 paid as 12001 + 18002. A third kept: exact
/// refund 20002.10001 yen → 20002, spread 18002 + 2000, in whole yen.
#[tokio::test]
async fn yen_booking_refunds_whole_yen_over_two_payments() {
    let s = shop().await;
    let booking = add_property_in(&s, "JPY", "Asia/Tokyo", "10001").await;
    assert_eq!(booking.total, money("30003", "JPY"));
    s.w.clock.set(utc(2026, 7, 3, 0, 0, 0)).unwrap();
    let quote =
        s.w.engine
            .refund_quote(&booking.id, s.w.clock.now())
            .await
            .unwrap();
    assert_eq!(quote.refund(), money("20002", "JPY"));
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(18002), dec!(2000)]);
    let sent: Vec<Decimal> = s
        .gateway
        .calls()
        .iter()
        .filter(|c| c.op == "refund")
        .map(|c| c.amount)
        .collect();
    assert_eq!(sent, [dec!(18002), dec!(2000)]);
    assert!(
        cancelled
            .money
            .refunds
            .iter()
            .all(|r| r.amount.is_rounded())
    );
}

/// Kuwaiti dinar: 3 x 10.001 = 30.003 paid as 12.001 + 18.002. A third
/// kept: exact refund 20.00210001 → 20.002, spread 18.002 + 2.000.
#[tokio::test]
async fn dinar_booking_refunds_to_the_fils_over_two_payments() {
    let s = shop().await;
    let booking = add_property_in(&s, "KWD", "Asia/Kuwait", "10.001").await;
    assert_eq!(booking.total, money("30.003", "KWD"));
    s.w.clock.set(utc(2026, 7, 3, 0, 0, 0)).unwrap();
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), [dec!(18.002), dec!(2.000)]);
    assert_eq!(s.gateway.refunded(), dec!(20.002));
    let ledger = cancelled.money.commission.unwrap();
    assert_eq!(ledger.remaining().gross(), money("10.001", "KWD"));
}
