//! Modifications of free bookings: one confirmed through `pay_and_confirm`
//! is paid through the gateway, so making it cost something charges the
//! guest; one confirmed with `confirm` is paid outside Reservo, and moves
//! no money.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;

use std::sync::Arc;

use modifications::modify;
use money::{
    Shop, ana, cancel, eur, events, hold_villa, pay, shop, use_tiered_policy, villa, villa_free,
};
use reservo::booking::BookingStatus;
use reservo::engine::{Booking, ConfirmRequest, Engine, ModificationQuote, PayAmount};
use reservo::ids::BookingId;
use reservo::ports::PaymentGateway;
use rust_decimal_macros::dec;

/// The villa, 13 to 16 July, on a free `flex` plan with the tiered policy
/// (a full refund until 30 days before), confirmed through
/// `pay_and_confirm` (which charges nothing); then `flex` costs 100.00 a
/// night again (360.00 for three nights with the cleaning fee).
async fn free_booking_paid_through_the_engine(s: &Shop) -> Booking {
    s.w.engine
        .put_rate_plan(catalog::free_nightly_plan("flex"))
        .await
        .unwrap();
    use_tiered_policy(&s.w).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
            .await
            .unwrap();
    priced_again(s).await;
    booking
}

async fn priced_again(s: &Shop) {
    s.w.engine
        .put_rate_plan(catalog::nightly_plan("flex", "100.00"))
        .await
        .unwrap();
}

/// What moving `booking` to 20-23 July would cost.
async fn quote_the_20th(s: &Shop, booking: &BookingId) -> reservo::Result<ModificationQuote> {
    s.w.engine
        .quote_modification(booking, &[villa((7, 20), (7, 23))])
        .await
}

/// `booking` quoted, then modified (key `m1`, paying with `tok_visa`) to
/// 20-23 July.
async fn moved_to_the_20th(s: &Shop, booking: &BookingId) -> (ModificationQuote, Booking) {
    let quote = quote_the_20th(s, booking).await.unwrap();
    let modified =
        s.w.engine
            .modify(&modify("m1", booking, (7, 20), (7, 23)))
            .await
            .unwrap();
    (quote, modified)
}

#[tokio::test]
async fn a_free_booking_paid_through_the_engine_is_charged_when_it_comes_to_cost_something() {
    let s = shop().await;
    let booking = free_booking_paid_through_the_engine(&s).await;
    assert!(booking.total.is_zero());
    assert!(booking.money.payments.is_empty());
    assert!(booking.money.through_gateway());
    assert!(s.gateway.calls().is_empty(), "nothing charged for nothing");

    let (quote, modified) = moved_to_the_20th(&s, &booking.id).await;
    assert_eq!(quote.to_charge, eur("360.00"));
    assert_eq!(quote.to_refund, eur("0.00"));
    assert_eq!(modified.total, eur("360.00"));
    assert_eq!(modified.status, BookingStatus::Confirmed);
    let paid: Vec<_> = modified.money.payments.iter().map(|p| p.amount).collect();
    assert_eq!(paid, [eur("360.00")]);
    assert_eq!(s.gateway.captured(), dec!(360.00));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
    assert_eq!(villa_free(&s.w, (7, 20), (7, 23)).await, [0, 0, 0]);
    let captured = events(&s.w, "payment.captured").await;
    assert_eq!(captured.len(), 1);
    assert_eq!(captured[0]["payment"]["amount"], "360.00");

    // Its payment is refunded like any other on cancellation (in full:
    // more than 30 days before, under the policy snapshotted at booking).
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    let refunds: Vec<_> = cancelled.money.refunds.iter().map(|r| r.amount).collect();
    assert_eq!(refunds, [eur("360.00")]);
    assert_eq!(s.gateway.refunded(), dec!(360.00));
}

#[tokio::test]
async fn a_free_booking_paid_through_the_engine_needs_a_payment_method_to_cost_something() {
    let s = shop().await;
    let booking = free_booking_paid_through_the_engine(&s).await;
    let mut request = modify("m1", &booking.id, (7, 20), (7, 23));
    request.payment_method = None;
    let err = s.w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert!(err.to_string().contains("360.00 EUR is due"), "{err}");

    let unchanged = s.w.engine.booking(&booking.id).await.unwrap();
    assert_eq!(unchanged, booking);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    assert_eq!(villa_free(&s.w, (7, 20), (7, 23)).await, [1, 1, 1]);
    assert!(s.gateway.calls().is_empty());
}

#[tokio::test]
async fn a_free_booking_paid_through_the_engine_moves_to_other_free_dates_without_a_charge() {
    let s = shop().await;
    let booking = free_booking_paid_through_the_engine(&s).await;
    s.w.engine
        .put_rate_plan(catalog::free_nightly_plan("flex"))
        .await
        .unwrap();
    let mut request = modify("m1", &booking.id, (7, 20), (7, 23));
    request.payment_method = None;
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert!(modified.total.is_zero());
    assert!(modified.money.payments.is_empty());
    assert!(
        modified.money.through_gateway(),
        "still paid through the engine"
    );
    assert!(s.gateway.calls().is_empty());
}

#[tokio::test]
async fn a_free_booking_confirmed_without_the_engine_s_payment_moves_no_money() {
    let s = shop().await;
    s.w.engine
        .put_rate_plan(catalog::free_nightly_plan("flex"))
        .await
        .unwrap();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .confirm(&ConfirmRequest::new("c1", hold.id.clone(), ana()))
            .await
            .unwrap();
    assert!(!booking.money.through_gateway(), "paid outside Reservo");
    priced_again(&s).await;

    let (quote, modified) = moved_to_the_20th(&s, &booking.id).await;
    assert_eq!(quote.to_charge, eur("0.00"));
    assert_eq!(modified.total, eur("360.00"));
    assert!(modified.money.payments.is_empty());
    assert!(s.gateway.calls().is_empty());
}

/// The mark is kept in the booking's record: another engine on the same
/// store (a second app instance, a restart) charges the same.
#[tokio::test]
async fn the_mark_of_a_free_booking_paid_through_the_engine_is_in_its_record() {
    let s = shop().await;
    let booking = free_booking_paid_through_the_engine(&s).await;
    let gateway: Arc<dyn PaymentGateway> = s.gateway.clone();
    let other = Engine::builder(s.w.store.clone())
        .clock(s.w.clock.clone())
        .payment_gateway(gateway)
        .build();
    let read = other.booking(&booking.id).await.unwrap();
    assert!(read.money.through_gateway());
    let modified = other
        .modify(&modify("m1", &booking.id, (7, 20), (7, 23)))
        .await
        .unwrap();
    assert_eq!(modified.money.payments.len(), 1);
    assert_eq!(s.gateway.captured(), dec!(360.00));

    // In JSON only where it says something: a priced booking's record is
    // as it was before the mark existed.
    let json = serde_json::to_value(&read).unwrap();
    assert_eq!(json["money"]["free_through_gateway"], true);
    let priced = money::villa_paid_in_full(&shop().await.w).await;
    let json = serde_json::to_value(&priced).unwrap();
    assert!(
        json["money"].get("free_through_gateway").is_none(),
        "{json}"
    );
    assert!(priced.money.through_gateway());
}

/// A shop whose platform fee is 10% plus a flat 2.00.
async fn shop_with_a_flat_platform_fee() -> Shop {
    use reservo::commission::{CommissionPlan, FeeRate, TaxRemitter};
    use reservo::policy::Percentage;
    let s = shop().await;
    let flat = FeeRate::new(Percentage::whole(10).unwrap(), Some(eur("2.00"))).unwrap();
    let plan = CommissionPlan::new(flat, vec![], TaxRemitter::Owner).unwrap();
    s.w.engine
        .set_commission_plan(&catalog::pid("casa-azul"), plan)
        .await
        .unwrap();
    s
}

/// ADR 024: a booking made free is re-split to a split of zero gross. A
/// flat fee in the commission plan is not taken from it (it would exceed
/// the nothing the booking brings in), so the modification goes through
/// and refunds the guest.
#[tokio::test]
async fn a_booking_made_free_under_a_plan_with_flat_fees_is_re_split_to_zeros() {
    let s = shop_with_a_flat_platform_fee().await;
    use_tiered_policy(&s.w).await;
    let booking = money::villa_paid_in_full(&s.w).await;
    let booked = booking.money.commission.as_ref().unwrap().split().clone();
    assert_eq!(
        booked.platform_fee(),
        eur("38.00"),
        "10% of 360.00, plus 2.00"
    );

    s.w.engine
        .put_rate_plan(catalog::free_nightly_plan("flex"))
        .await
        .unwrap();
    let quote = quote_the_20th(&s, &booking.id).await.unwrap();
    assert_eq!(quote.to_refund, eur("360.00"));
    let mut request = modify("m1", &booking.id, (7, 20), (7, 23));
    request.payment_method = None;
    let modified = s.w.engine.modify(&request).await.unwrap();
    assert!(modified.total.is_zero());
    assert_eq!(s.gateway.refunded(), dec!(360.00));
    let ledger = modified.money.commission.as_ref().unwrap();
    assert!(ledger.split().gross().is_zero());
    assert!(ledger.split().platform_fee().is_zero());
    assert_eq!(ledger.booked().0, &booked, "the booking-time split is kept");
}

/// A nonzero total below the plan's flat fees cannot be split, so it is
/// refused: by `quote_modification` as by `modify`, with nothing changed
/// (before, the quote offered a change that `modify` then refused).
#[tokio::test]
async fn a_total_below_the_plan_s_flat_fees_is_refused_by_the_quote_as_by_modify() {
    let s = shop_with_a_flat_platform_fee().await;
    let booking = money::villa_paid_in_full(&s.w).await;
    let cheap = reservo::pricing::RatePlan::from_json(
        r#"{"id": "flex", "name": "Almost free", "unit": "night",
            "base_price": {"amount": "0.50", "currency": "EUR"}}"#,
    )
    .unwrap();
    s.w.engine.put_rate_plan(cheap).await.unwrap();

    let err = quote_the_20th(&s, &booking.id).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");
    assert!(err.to_string().contains("exceed"), "{err}");
    let err =
        s.w.engine
            .modify(&modify("m1", &booking.id, (7, 20), (7, 23)))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT", "{err}");

    assert_eq!(s.w.engine.booking(&booking.id).await.unwrap(), booking);
    assert_eq!(villa_free(&s.w, (7, 20), (7, 23)).await, [1, 1, 1]);
    assert!(s.gateway.refunded().is_zero());

    // A total the fees fit in goes through.
    s.w.engine
        .put_rate_plan(catalog::nightly_plan("flex", "1.00"))
        .await
        .unwrap();
    let quote = quote_the_20th(&s, &booking.id).await.unwrap();
    assert_eq!(quote.new_total, eur("63.00"));
}
