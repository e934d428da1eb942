//! Non-refundable fees: a rate plan's fee marked `refundable: false` is
//! kept by every cancellation, from the quote snapshotted on the booking;
//! fees without the flag are refunded as before.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::{World, nightly, rid, stay};
use money::{cancel, eur, hold_items, pay, shop};
use reservo::engine::{Booking, Item, PayAmount, QuoteRequest};
use reservo::ids::RatePlanId;
use reservo::party::Party;
use reservo::policy::{CancellationPolicy, Penalty, Threshold, Tier};
use reservo::ports::Clock;
use reservo::pricing::{QuoteLine, RatePlan};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// 100.00 a night, a refundable cleaning fee of 60.00 and a service fee
/// of 20.00, non-refundable when `service_refundable` is false.
fn loft_plan(service_refundable: bool) -> RatePlan {
    RatePlan::from_json(&format!(
        r#"{{
      "id": "loft", "name": "Loft", "unit": "night",
      "base_price": {{"amount": "100.00", "currency": "EUR"}},
      "fees": [{{"id": "cleaning", "name": "Cleaning", "amount": {{"amount": "60.00", "currency": "EUR"}},
                "basis": "per_booking", "taxable": false}},
               {{"id": "service", "name": "Service", "amount": {{"amount": "20.00", "currency": "EUR"}},
                "basis": "per_booking", "taxable": false, "refundable": {service_refundable}}}]
    }}"#
    ))
    .unwrap()
}

/// Everything back until 30 days before check-in, nothing after.
fn full_refund_until_30_days() -> CancellationPolicy {
    CancellationPolicy::new(
        vec![Tier::new(Threshold::days(30), Penalty::None)],
        Penalty::FULL,
        vec![],
    )
    .unwrap()
}

/// The loft on `plan` with the full-refund policy, and the villa (whose
/// plan has only a cleaning fee, without the flag) with it too.
async fn set_up(w: &World, plan: RatePlan) {
    w.engine.put_rate_plan(plan).await.unwrap();
    w.engine
        .put_resource(nightly("loft", "casa-azul", 1, 2, "loft"))
        .await
        .unwrap();
    for plan in ["loft", "flex"] {
        w.engine
            .set_cancellation_policy(&RatePlanId::new(plan).unwrap(), full_refund_until_30_days())
            .await
            .unwrap();
    }
}

/// `resource` 13-16 July (three weeknights), for two, paid in full.
async fn book(w: &World, key: &str, resource: &str) -> Booking {
    let item = QuoteRequest::new(Item::stay(
        rid(resource),
        stay((7, 13), (7, 16)),
        Party::adults(2).unwrap(),
    ));
    let hold = hold_items(w, &format!("h-{key}"), vec![item]).await;
    w.engine
        .pay_and_confirm(&pay(&format!("p-{key}"), &hold, PayAmount::Full))
        .await
        .unwrap()
}

fn refunded(booking: &Booking) -> Decimal {
    booking
        .money
        .refunds
        .iter()
        .map(|r| r.amount.amount())
        .sum()
}

fn fee_line<'b>(booking: &'b Booking, id: &str) -> &'b QuoteLine {
    booking.items[0]
        .quote
        .lines()
        .iter()
        .find(|l| l.rule.id == id)
        .unwrap()
}

#[tokio::test]
async fn a_free_cancellation_refunds_everything_but_the_non_refundable_fee() {
    let s = shop().await;
    set_up(&s.w, loft_plan(false)).await;
    let booking = book(&s.w, "1", "loft").await;
    assert_eq!(booking.total, eur("380.00"));
    assert!(!fee_line(&booking, "service").refundable);
    assert!(fee_line(&booking, "cleaning").refundable);

    let now = s.w.clock.now();
    let quote = s.w.engine.refund_quote(&booking.id, now).await.unwrap();
    assert_eq!(quote.refund(), eur("360.00"));
    assert_eq!(quote.penalty(), eur("0.00"));
    assert_eq!(quote.non_refundable_kept(), eur("20.00"));

    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), dec!(360.00));
}

#[tokio::test]
async fn a_non_refundable_fee_is_kept_by_the_booked_quote_even_after_the_plan_changes() {
    let s = shop().await;
    set_up(&s.w, loft_plan(false)).await;
    let booking = book(&s.w, "1", "loft").await;
    s.w.engine.put_rate_plan(loft_plan(true)).await.unwrap();

    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), dec!(360.00));
}

#[tokio::test]
async fn fees_without_the_flag_are_refunded_and_stored_as_before() {
    let s = shop().await;
    set_up(&s.w, loft_plan(false)).await;
    let villa = book(&s.w, "1", "villa").await;
    assert_eq!(villa.total, eur("360.00"));
    let stored = serde_json::to_string(&villa.items[0].quote).unwrap();
    assert!(!stored.contains("refundable"), "{stored}");

    let now = s.w.clock.now();
    let quote = s.w.engine.refund_quote(&villa.id, now).await.unwrap();
    assert_eq!(quote.refund(), eur("360.00"));
    assert_eq!(quote.non_refundable_kept(), eur("0.00"));
    let cancelled = s.w.engine.cancel(&cancel("c1", &villa.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), dec!(360.00));
}

#[tokio::test]
async fn a_fee_marked_refundable_is_refunded_like_one_without_the_flag() {
    let s = shop().await;
    set_up(&s.w, loft_plan(true)).await;
    let booking = book(&s.w, "1", "loft").await;
    assert!(fee_line(&booking, "service").refundable);

    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    assert_eq!(refunded(&cancelled), dec!(380.00));
}
