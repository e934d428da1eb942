//! Taxes on non-refundable fees: the exclusive tax charged on a fee the
//! host keeps is still owed to the tax authority, so a cancellation keeps
//! it with the fee, exactly in minor units, rounded so that the refund is
//! never more than its exact value; inclusive taxes are inside the fee.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::{World, d, nightly, rid, stay};
use chrono::{TimeZone, Utc};
use money::{cancel, eur, hold_items, pay, shop};
use proptest::prelude::*;
use reservo::engine::{Booking, Item, PayAmount, QuoteRequest};
use reservo::ids::RatePlanId;
use reservo::money::Money;
use reservo::party::Party;
use reservo::policy::{
    BookingFacts, BookingStart, CancellationEvent, CancellationPolicy, Penalty, Threshold, Tier,
};
use reservo::ports::Clock;
use reservo::pricing::{Quote, RatePlan};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// 100.00 a night, a refundable cleaning fee and a non-refundable service
/// fee (both taxable), and one tax given as JSON.
fn loft_plan(cleaning: &str, service: &str, tax: &str, rounding: &str) -> RatePlan {
    RatePlan::from_json(&format!(
        r#"{{
      "id": "loft", "name": "Loft", "unit": "night",
      "base_price": {{"amount": "100.00", "currency": "EUR"}},
      "fees": [{{"id": "cleaning", "name": "Cleaning", "amount": {{"amount": "{cleaning}", "currency": "EUR"}},
                "basis": "per_booking", "taxable": true}},
               {{"id": "service", "name": "Service", "amount": {{"amount": "{service}", "currency": "EUR"}},
                "basis": "per_booking", "taxable": true, "refundable": false}}],
      "taxes": [{tax}],
      "tax_rounding": "{rounding}"
    }}"#
    ))
    .unwrap()
}

fn tax(rate: &str, inclusion: &str, base: &str) -> String {
    format!(
        r#"{{"id": "city", "name": "City tax", "rate": "{rate}", "inclusion": "{inclusion}", "base": "{base}"}}"#
    )
}

/// The loft on `plan`, refunded in full until 30 days before check-in.
async fn set_up(w: &World, plan: RatePlan) {
    w.engine.put_rate_plan(plan).await.unwrap();
    w.engine
        .put_resource(nightly("loft", "casa-azul", 1, 2, "loft"))
        .await
        .unwrap();
    let policy = CancellationPolicy::new(
        vec![Tier::new(Threshold::days(30), Penalty::None)],
        Penalty::FULL,
        vec![],
    )
    .unwrap();
    w.engine
        .set_cancellation_policy(&RatePlanId::new("loft").unwrap(), policy)
        .await
        .unwrap();
}

/// The loft 13-16 July (three weeknights), for two, paid in full.
async fn book_loft(w: &World) -> Booking {
    let item = QuoteRequest::new(Item::stay(
        rid("loft"),
        stay((7, 13), (7, 16)),
        Party::adults(2).unwrap(),
    ));
    let hold = hold_items(w, "h1", vec![item]).await;
    w.engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap()
}

fn refunded(booking: &Booking) -> Money {
    let sum = booking
        .money
        .refunds
        .iter()
        .map(|r| r.amount.amount())
        .sum();
    Money::new(sum, booking.total.currency())
}

/// Quotes a free cancellation of a booking of `plan` now, and cancels it:
/// (refund, kept as non-refundable, refunded by the cancellation).
async fn cancel_free(plan: RatePlan) -> (Booking, Money, Money, Money) {
    let s = shop().await;
    set_up(&s.w, plan).await;
    let booking = book_loft(&s.w).await;
    let quote =
        s.w.engine
            .refund_quote(&booking.id, s.w.clock.now())
            .await
            .unwrap();
    assert_eq!(quote.penalty(), eur("0.00"));
    let paid = booking.total.amount();
    assert_eq!(
        quote.refund().amount() + quote.non_refundable_kept().amount(),
        paid,
        "refund + penalty + non_refundable_kept == paid"
    );
    let cancelled = s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    (
        booking,
        quote.refund(),
        quote.non_refundable_kept(),
        refunded(&cancelled),
    )
}

#[tokio::test]
async fn a_cancellation_keeps_the_exclusive_tax_charged_on_a_non_refundable_fee() {
    // 300.00 + 60.00 + 20.00, and 10% on all of it: 38.00, 2.00 of it on
    // the service fee, which the host keeps and owes the tax on.
    let plan = loft_plan(
        "60.00",
        "20.00",
        &tax("10", "exclusive", "accommodation_and_fees"),
        "on_total",
    );
    let (booking, refund, kept, refunded) = cancel_free(plan).await;
    assert_eq!(booking.total, eur("418.00"));
    assert_eq!(booking.items[0].quote.non_refundable_taxes(), eur("2.00"));
    assert_eq!(kept, eur("22.00"));
    assert_eq!(refund, eur("396.00"));
    assert_eq!(refunded, eur("396.00"));
}

#[tokio::test]
async fn a_tax_on_fees_only_is_kept_for_the_non_refundable_fee_and_refunded_for_the_rest() {
    let plan = loft_plan(
        "60.00",
        "20.00",
        &tax("20", "exclusive", "fees"),
        "per_line",
    );
    let (booking, refund, kept, refunded) = cancel_free(plan).await;
    // 380.00 + 20% of 80.00 in fees.
    assert_eq!(booking.total, eur("396.00"));
    assert_eq!(kept, eur("24.00"));
    assert_eq!(refund, eur("372.00"));
    assert_eq!(refunded, eur("372.00"));
}

#[tokio::test]
async fn a_tax_on_the_accommodation_only_keeps_nothing_but_the_fee() {
    let plan = loft_plan(
        "60.00",
        "20.00",
        &tax("10", "exclusive", "accommodation"),
        "on_total",
    );
    let (booking, refund, kept, _) = cancel_free(plan).await;
    assert_eq!(booking.total, eur("410.00"));
    assert_eq!(booking.items[0].quote.non_refundable_taxes(), eur("0.00"));
    assert_eq!(kept, eur("20.00"));
    assert_eq!(refund, eur("390.00"));
}

#[tokio::test]
async fn an_inclusive_tax_is_inside_the_fee_and_not_kept_twice() {
    let plan = loft_plan(
        "60.00",
        "20.00",
        &tax("10", "inclusive", "accommodation_and_fees"),
        "on_total",
    );
    let (booking, refund, kept, _) = cancel_free(plan).await;
    assert_eq!(booking.total, eur("380.00"));
    assert_eq!(kept, eur("20.00"));
    assert_eq!(refund, eur("360.00"));
}

#[tokio::test]
async fn rounding_on_the_total_never_refunds_a_cent_more_than_the_exact_refund() {
    // Fees of 10.05 each, 10% on fees rounded once: 2.01 in taxes, of
    // which exactly 1.005 on the service fee. Keeping 1.01 refunds
    // 311.05 of an exact 311.055; keeping 1.00 would refund 311.06.
    let plan = loft_plan(
        "10.05",
        "10.05",
        &tax("10", "exclusive", "fees"),
        "on_total",
    );
    let (booking, refund, kept, refunded) = cancel_free(plan).await;
    assert_eq!(booking.total, eur("322.11"));
    assert_eq!(kept, eur("11.06"));
    assert_eq!(refund, eur("311.05"));
    assert_eq!(refunded, eur("311.05"));
}

#[tokio::test]
async fn rounding_per_line_keeps_exactly_the_tax_the_fee_line_was_charged() {
    // Per line, half even: 1.005 rounds to 1.00 on each fee line.
    let plan = loft_plan(
        "10.05",
        "10.05",
        &tax("10", "exclusive", "fees"),
        "per_line",
    );
    let (booking, refund, kept, _) = cancel_free(plan).await;
    assert_eq!(booking.total, eur("322.10"));
    assert_eq!(kept, eur("11.05"));
    assert_eq!(refund, eur("311.05"));
}

/// A quote of the loft 13-16 July on `plan`.
fn loft_quote(plan: &RatePlan) -> Quote {
    let request = reservo::pricing::QuoteRequest::stay(
        stay((7, 13), (7, 16)),
        Party::adults(2).unwrap(),
        d(6, 1),
    );
    plan.quote(&request).unwrap()
}

#[test]
fn a_quote_stored_without_the_figure_still_decodes_and_keeps_the_fees_share_of_the_taxes() {
    let plan = loft_plan(
        "60.00",
        "20.00",
        &tax("10", "exclusive", "fees"),
        "on_total",
    );
    let quote = loft_quote(&plan);
    assert_eq!(quote.non_refundable_taxes(), eur("2.00"));
    let stored = serde_json::to_value(&quote).unwrap();
    assert_eq!(stored["non_refundable_taxes"]["amount"], "2.00");
    let again: Quote = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(again, quote);

    // As stored before quotes carried it: the quote cannot tell the tax
    // was on fees only, so the fee's share of the subtotal is kept:
    // 8.00 x 20.00 / 380.00 = 0.42105... rounded up.
    let mut legacy = stored;
    legacy
        .as_object_mut()
        .unwrap()
        .remove("non_refundable_taxes");
    let old: Quote = serde_json::from_value(legacy.clone()).unwrap();
    assert_eq!(old.non_refundable_taxes(), eur("0.43"));
    assert_eq!(old.non_refundable(), eur("20.43"));
    assert_eq!(serde_json::to_value(&old).unwrap(), legacy, "bytes kept");
}

#[test]
fn a_quote_without_non_refundable_fees_is_written_as_before() {
    let plan = RatePlan::from_json(
        r#"{"id": "loft", "name": "Loft", "unit": "night",
            "base_price": {"amount": "100.00", "currency": "EUR"},
            "fees": [{"id": "cleaning", "name": "Cleaning", "amount": {"amount": "60.00", "currency": "EUR"},
                      "basis": "per_booking", "taxable": true}],
            "taxes": [{"id": "city", "name": "City tax", "rate": "10", "inclusion": "exclusive",
                       "base": "fees"}]}"#,
    )
    .unwrap();
    let quote = loft_quote(&plan);
    assert_eq!(quote.non_refundable(), eur("0.00"));
    let stored = serde_json::to_string(&quote).unwrap();
    assert!(!stored.contains("non_refundable"), "{stored}");
}

#[test]
fn a_stored_figure_beyond_the_taxes_is_refused() {
    let plan = loft_plan(
        "60.00",
        "20.00",
        &tax("10", "exclusive", "fees"),
        "on_total",
    );
    let mut stored = serde_json::to_value(loft_quote(&plan)).unwrap();
    stored["non_refundable_taxes"]["amount"] = "8.01".into();
    assert!(serde_json::from_value::<Quote>(stored).is_err());
}

proptest! {
    /// Whatever the fees, rate, base and rounding, the tax kept is the
    /// fee's exact share of the tax charged (per line: the line's own
    /// rounded tax) rounded up, a full refund is never more than the exact
    /// refundable value (what was paid less the fee and that exact share)
    /// nor two cents short of it, and the parts add up to what was paid.
    #[test]
    fn a_refund_never_exceeds_the_exact_value_and_the_parts_sum_to_what_was_paid(
        cleaning in 0i64..10_000,
        service in 1i64..10_000,
        rate in 1u32..300,
        base in prop::sample::select(vec!["fees", "accommodation_and_fees"]),
        rounding in prop::sample::select(vec!["per_line", "on_total"]),
    ) {
        let money = |minor: i64| Money::new(Decimal::new(minor, 2), reservo::money::Currency::EUR);
        let rate = Decimal::new(i64::from(rate), 1);
        let plan = loft_plan(
            &money(cleaning).amount().to_string(),
            &money(service).amount().to_string(),
            &tax(&rate.to_string(), "exclusive", base),
            rounding,
        );
        let quote = loft_quote(&plan);
        let charged = quote.taxes().amount();
        let fee_tax = money(service).amount() * rate / dec!(100);
        let exact_kept = if rounding == "per_line" {
            Money::new(fee_tax, reservo::money::Currency::EUR)
                .round(reservo::money::RoundingMode::HalfEven)
                .amount()
        } else {
            let accommodation = if base == "fees" { dec!(0) } else { dec!(300) };
            let taxed = accommodation + money(cleaning).amount() + money(service).amount();
            charged * fee_tax / (taxed * rate / dec!(100))
        };
        let kept_tax = quote.non_refundable_taxes().amount();
        prop_assert!(kept_tax <= charged);
        prop_assert!(
            exact_kept <= kept_tax && kept_tax - exact_kept < dec!(0.01),
            "kept {} of an exact {}", kept_tax, exact_kept
        );

        let at = Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap();
        let start = BookingStart::at_instant(
            Utc.with_ymd_and_hms(2026, 7, 13, 15, 0, 0).unwrap(),
            "Europe/Lisbon".parse().unwrap(),
        );
        let facts = BookingFacts::new(
            at, start, quote.total(), quote.total(), quote.non_refundable(), vec![],
        ).unwrap();
        let policy = CancellationPolicy::new(
            vec![Tier::new(Threshold::days(30), Penalty::None)], Penalty::FULL, vec![],
        ).unwrap();
        let refund = policy.quote(&facts, CancellationEvent::Cancelled { at }).unwrap();
        let sum = refund.refund().amount() + refund.penalty().amount()
            + refund.non_refundable_kept().amount();
        prop_assert_eq!(sum, quote.total().amount());
        let exact_refund = quote.total().amount() - money(service).amount() - exact_kept;
        let got = refund.refund().amount();
        prop_assert!(got <= exact_refund, "{} > {}", got, exact_refund);
        prop_assert!(exact_refund - got < dec!(0.02), "{} short of {}", got, exact_refund);
    }
}
