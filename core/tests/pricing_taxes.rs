//! Taxes (inclusive, exclusive, their bases) and the rounding rules.

mod pricing_support;

use pricing_support::*;
use reservo::money::{Currency, RoundingMode};
use reservo::pricing::{
    FeeBasis, Price, PriceUnit, RatePlanSpec, StayDiscount, TaxBase, TaxRounding,
};

#[test]
fn exclusive_tax_is_added_to_the_total() {
    let mut spec = nightly("100.00");
    spec.taxes = vec![added_tax("sales", "8.875", TaxBase::Accommodation)];
    let quote = quote_nights(spec, 3);
    // 300.00 x 8.875 % = 26.625 -> 26.62 (half-even)
    assert_eq!(
        lines(&quote),
        [
            "base flex 3 x 100.00 = 300.00",
            "tax sales 1 x 26.62 = 26.62"
        ]
    );
    assert_eq!(totals(&quote), ["326.62", "300.00", "26.62", "0.00"]);
}

#[test]
fn inclusive_tax_is_shown_as_contained_and_not_added() {
    let mut spec = nightly("100.00");
    spec.taxes = vec![included_tax("vat", "10", TaxBase::Accommodation)];
    let quote = quote_nights(spec, 3);
    // 300.00 x 10 / 110 = 27.2727...
    assert_eq!(
        lines(&quote),
        [
            "base flex 3 x 100.00 = 300.00",
            "tax vat 1 x 27.27 = 27.27 (included)"
        ]
    );
    assert_eq!(totals(&quote), ["300.00", "300.00", "0.00", "27.27"]);
}

#[test]
fn exclusive_tax_applies_to_the_price_including_inclusive_tax() {
    let mut spec = nightly("110.00");
    spec.taxes = vec![
        included_tax("vat", "10", TaxBase::Accommodation),
        added_tax("city", "5", TaxBase::Accommodation),
    ];
    let quote = quote_nights(spec, 1);
    assert_eq!(totals(&quote), ["115.50", "110.00", "5.50", "10.00"]);
}

#[test]
fn taxes_apply_to_their_declared_base_and_only_taxable_fees() {
    let mut spec = nightly("100.00");
    spec.fees = vec![
        fee("cleaning", "50.00", FeeBasis::PerBooking, true),
        fee("parking", "30.00", FeeBasis::PerBooking, false),
    ];
    spec.taxes = vec![
        added_tax("room", "10", TaxBase::Accommodation),
        added_tax("service", "20", TaxBase::Fees),
        added_tax("all", "1", TaxBase::AccommodationAndFees),
    ];
    let quote = quote_nights(spec, 1);
    assert_eq!(
        &lines(&quote)[3..],
        [
            "tax room 1 x 10.00 = 10.00",
            "tax service 1 x 10.00 = 10.00",
            "tax all 1 x 1.50 = 1.50"
        ]
    );
    assert_eq!(quote.total().amount().to_string(), "201.50");
}

#[test]
fn taxes_apply_after_discounts() {
    let mut spec = nightly("100.00");
    spec.length_of_stay = vec![los("two", 2, percent_off("50"))];
    spec.taxes = vec![added_tax("city", "10", TaxBase::Accommodation)];
    let quote = quote_nights(spec, 2);
    assert_eq!(totals(&quote), ["110.00", "100.00", "10.00", "0.00"]);
}

fn one_night_and_a_fee_of(amount: &str, tax_rounding: TaxRounding) -> RatePlanSpec {
    let mut spec = nightly(amount);
    spec.fees = vec![fee("cleaning", amount, FeeBasis::PerBooking, true)];
    spec.taxes = vec![added_tax("t", "10", TaxBase::AccommodationAndFees)];
    spec.tax_rounding = tax_rounding;
    spec
}

#[test]
fn per_line_and_on_total_tax_rounding_differ_by_a_cent() {
    let request = stay(d(6, 1), d(6, 2), adults(1));
    // Each line's tax is 1.005: per line 1.00 + 1.00; on the total 2.01.
    let per_line = plan(one_night_and_a_fee_of("10.05", TaxRounding::PerLine))
        .quote(&request)
        .unwrap();
    assert_eq!(totals(&per_line), ["22.10", "20.10", "2.00", "0.00"]);
    let on_total = plan(one_night_and_a_fee_of("10.05", TaxRounding::OnTotal))
        .quote(&request)
        .unwrap();
    assert_eq!(totals(&on_total), ["22.11", "20.10", "2.01", "0.00"]);
}

#[test]
fn rounding_mode_decides_ties_of_percent_discounts_and_taxes() {
    // 100.05 x 10 % = 10.005 for the discount; the taxed 90.05 (or 90.04)
    // x 10 % = 9.005 (9.004).
    let cases = [
        (RoundingMode::HalfEven, "-10.00", "9.00"),
        (RoundingMode::HalfUp, "-10.01", "9.00"),
        (RoundingMode::TowardZero, "-10.00", "9.00"),
        (RoundingMode::Floor, "-10.00", "9.00"),
        (RoundingMode::Ceiling, "-10.01", "9.01"),
    ];
    for (mode, discount, tax_amount) in cases {
        let mut spec = nightly("100.05");
        spec.length_of_stay = vec![los("any", 1, percent_off("10"))];
        spec.taxes = vec![added_tax("t", "10", TaxBase::Accommodation)];
        spec.rounding = mode;
        let quote = quote_nights(spec, 1);
        let line = &quote.lines()[1];
        assert_eq!(line.amount.amount().to_string(), discount, "{mode:?}");
        assert_eq!(quote.taxes().amount().to_string(), tax_amount, "{mode:?}");
    }
}

#[test]
fn half_even_is_the_default_rounding() {
    let mut spec = nightly("10.25");
    spec.taxes = vec![added_tax("t", "10", TaxBase::Accommodation)];
    assert_eq!(spec.rounding, RoundingMode::HalfEven);
    // 1.025 -> 1.02 half-even (1.03 half-up)
    let quote = quote_nights(spec, 1);
    assert_eq!(quote.taxes().amount().to_string(), "1.02");
}

#[test]
fn currencies_without_minor_units_round_to_whole_units() {
    let mut spec = RatePlanSpec::new(
        "ryokan".parse().unwrap(),
        "Ryokan",
        PriceUnit::Night,
        Price::parse("9999", "JPY").unwrap(),
    );
    spec.taxes = vec![included_tax("consumption", "10", TaxBase::Accommodation)];
    let quote = quote_nights(spec, 3);
    // 29997 x 10 / 110 = 2727
    assert_eq!(quote.total().currency(), Currency::JPY);
    assert_eq!(totals(&quote), ["29997", "29997", "0", "2727"]);
    assert!(quote.lines().iter().all(|l| l.amount.is_rounded()));
}

#[test]
fn a_tax_never_rounds_below_zero() {
    // A 0.05 night fully discounted: per-line taxes 0.005 -> 0.00 and
    // -0.005 -> -0.01 rounding toward negative infinity; clamped to zero.
    let mut spec = nightly("0.05");
    spec.length_of_stay = vec![los("all", 1, StayDiscount::Percent(pct("100")))];
    spec.taxes = vec![added_tax("t", "10", TaxBase::Accommodation)];
    spec.tax_rounding = TaxRounding::PerLine;
    spec.rounding = RoundingMode::Floor;
    let quote = quote_nights(spec, 1);
    assert_eq!(totals(&quote), ["0.00", "0.00", "0.00", "0.00"]);
    assert_eq!(quote.lines().len(), 2, "no tax line for a zero tax");
}
