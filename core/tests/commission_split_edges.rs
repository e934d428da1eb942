//! Commission splits at their edges: fees that round past the base,
//! currencies with 0 and 3 decimals, one minor unit, flat fees against the
//! base, bad amounts and rates, and a property test that every split of a
//! valid plan sums exactly.

#[path = "support/commission.rs"]
mod commission;

use commission::{broker, channel, cur, m, minor_parts, pct, percent_plan, terms};
use proptest::prelude::*;
use reservo::commission::{CommissionPlan, FeeRate, IntermediaryTerms, TaxRemitter};
use reservo::money::Money;
use reservo::policy::Percentage;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// A plan whose percentages add up to at most 100% splits any gross, even
/// where rounding each fee half-even on its own would take more than the
/// base (50% + 50% of 0.03 EUR: 0.02 + 0.02): the base is then shared out
/// exactly by largest remainder, the owner weighing what the fees leave of
/// 100%. Flat fees still cannot exceed the base.
#[test]
fn a_plan_of_at_most_100_percent_splits_any_gross_even_when_fees_round_up() {
    let plan = percent_plan(dec!(50), &[dec!(50)]);
    let split = plan.split(m("0.03", "EUR"), m("0", "EUR"));
    let split = split.expect("a plan of at most 100% splits any gross");
    assert_eq!(split.gross(), m("0.03", "EUR"));
    // 0.015 each: the tie goes to the earlier part
    assert_eq!(minor_parts(&split), [2, 1, 0, 0]);

    let quarters = percent_plan(dec!(25), &[dec!(25), dec!(25), dec!(25)]);
    let split = quarters
        .split(m("0.06", "EUR"), m("0", "EUR"))
        .expect("4 x 25% of 0.06 EUR");
    assert_eq!(minor_parts(&split), [2, 2, 1, 1, 0, 0]);

    let ninety = percent_plan(dec!(0), &[dec!(30), dec!(30), dec!(30)]);
    let split = ninety
        .split(m("5", "JPY"), m("0", "JPY"))
        .expect("3 x 30% of 5 JPY leaves the owner 0.5 JPY exact");
    assert_eq!(minor_parts(&split), [0, 2, 2, 1, 0, 0]);

    // results that fit the base are the fees rounded one by one, as before
    let split = ninety.split(m("7", "JPY"), m("0", "JPY")).unwrap();
    assert_eq!(minor_parts(&split), [0, 2, 2, 2, 0, 1]);
    // a flat fee on top still has to fit
    let with_flat = CommissionPlan::new(
        FeeRate::percent(pct(dec!(50))),
        vec![terms(
            channel("ota"),
            FeeRate::new(pct(dec!(50)), Some(m("0.01", "EUR"))).unwrap(),
        )],
        TaxRemitter::Owner,
    )
    .unwrap();
    let err = with_flat
        .split(m("0.03", "EUR"), m("0", "EUR"))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    // over 100% is still refused when the rounded fees exceed the base
    let over = percent_plan(dec!(60), &[dec!(50)]);
    let err = over.split(m("1.00", "EUR"), m("0", "EUR")).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn split_in_zero_and_three_decimal_currencies_stays_in_whole_minor_units() {
    let plan = CommissionPlan::new(
        FeeRate::percent(pct(dec!(3.333))),
        vec![terms(
            channel("ota"),
            FeeRate::new(pct(dec!(15)), Some(m("0.125", "KWD"))).unwrap(),
        )],
        TaxRemitter::Platform,
    )
    .unwrap();
    // base 10.000 KWD: 3.333% = 0.3333 -> 0.333; 15% = 1.5 + 0.125
    let split = plan.split(m("11.000", "KWD"), m("1.000", "KWD")).unwrap();
    assert_eq!(minor_parts(&split), [333, 1625, 1000, 8042]);
    assert_eq!(split.gross(), m("11.000", "KWD"));

    let yen = percent_plan(dec!(3.333), &[dec!(33.333)]);
    // base 1001: 33.36... -> 33; 333.66... -> 334
    let split = yen.split(m("1101", "JPY"), m("100", "JPY")).unwrap();
    assert_eq!(minor_parts(&split), [33, 334, 100, 634]);
    assert!(split.parts().iter().all(Money::is_rounded));
}

#[test]
fn split_of_one_minor_unit_gives_it_to_the_owner_or_to_taxes() {
    let plan = percent_plan(dec!(3), &[dec!(15), dec!(10)]);
    for code in ["JPY", "EUR", "KWD"] {
        let c = cur(code);
        let split = plan.split(Money::from_minor(1, c), Money::zero(c)).unwrap();
        assert_eq!(minor_parts(&split), [0, 0, 0, 0, 1], "{code}");
        let all_tax = plan
            .split(Money::from_minor(1, c), Money::from_minor(1, c))
            .unwrap();
        assert_eq!(minor_parts(&all_tax), [0, 0, 0, 1, 0], "{code}");
    }
}

#[test]
fn flat_fees_larger_than_the_base_are_refused_even_when_the_gross_covers_them() {
    // gross 12.00 of which 10.00 taxes: base 2.00 < flat 5.00
    let plan = CommissionPlan::new(
        FeeRate::none(),
        vec![terms(
            broker("agent"),
            FeeRate::new(Percentage::ZERO, Some(m("5.00", "EUR"))).unwrap(),
        )],
        TaxRemitter::Owner,
    )
    .unwrap();
    let err = plan
        .split(m("12.00", "EUR"), m("10.00", "EUR"))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    // flat exactly the base: the owner gets nothing, but it splits
    let split = plan.split(m("15.00", "EUR"), m("10.00", "EUR")).unwrap();
    assert_eq!(split.owner_payout(), m("0.00", "EUR"));
    assert_eq!(split.gross(), m("15.00", "EUR"));
}

/// A free booking (one made free by a modification: ADR 024) pays no flat
/// fee, while one minor unit still owes it.
#[test]
fn a_gross_of_zero_splits_into_zeros_whatever_the_flat_fees() {
    let plan = CommissionPlan::new(
        FeeRate::new(pct(dec!(10)), Some(m("2.00", "EUR"))).unwrap(),
        vec![terms(
            broker("agent"),
            FeeRate::new(Percentage::ZERO, Some(m("5.00", "EUR"))).unwrap(),
        )],
        TaxRemitter::Owner,
    )
    .unwrap();
    let split = plan.split(m("0.00", "EUR"), m("0.00", "EUR")).unwrap();
    assert_eq!(minor_parts(&split), [0, 0, 0, 0]);
    assert_eq!(split.commissions().len(), 1, "every party is in the split");
    let err = plan.split(m("0.01", "EUR"), m("0", "EUR")).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    // The flat fees' currency is still the only one the plan splits.
    let err = plan.split(m("0", "USD"), m("0", "USD")).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
}

#[test]
fn flat_plus_percent_over_the_gross_is_refused_but_exactly_the_gross_is_not() {
    let plan = CommissionPlan::new(
        FeeRate::new(pct(dec!(50)), Some(m("1.00", "EUR"))).unwrap(),
        vec![terms(
            channel("ota"),
            FeeRate::new(pct(dec!(40)), Some(m("1.00", "EUR"))).unwrap(),
        )],
        TaxRemitter::Owner,
    )
    .unwrap();
    // 20.00: 10+1 + 8+1 = 20 exactly
    let split = plan.split(m("20.00", "EUR"), m("0", "EUR")).unwrap();
    assert_eq!(split.owner_payout(), m("0.00", "EUR"));
    let err = plan.split(m("19.99", "EUR"), m("0", "EUR")).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn bad_amounts_and_rates_are_typed_errors() {
    // negative / fractional flats
    for flat in ["-0.01", "0.001"] {
        let err = FeeRate::new(Percentage::ZERO, Some(m(flat, "EUR"))).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{flat}");
    }
    // percentages out of range
    assert_eq!(
        Percentage::new(dec!(-0.001)).unwrap_err().code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        Percentage::new(dec!(100.0001)).unwrap_err().code(),
        "INVALID_INPUT"
    );
    let plan = percent_plan(dec!(10), &[dec!(15)]);
    for (gross, taxes) in [
        ("-1.00", "0"),
        ("1.00", "-0.01"),
        ("1.001", "0"),
        ("1", "0.001"),
    ] {
        let err = plan.split(m(gross, "EUR"), m(taxes, "EUR")).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{gross} {taxes}");
    }
    // flat fees in two currencies in one plan
    let err = CommissionPlan::new(
        FeeRate::new(Percentage::ZERO, Some(m("1.00", "EUR"))).unwrap(),
        vec![terms(
            channel("ota"),
            FeeRate::new(Percentage::ZERO, Some(m("1.00", "USD"))).unwrap(),
        )],
        TaxRemitter::Owner,
    )
    .unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    // a flat fee in another currency than the booking's
    let eur_flat = CommissionPlan::new(
        FeeRate::new(Percentage::ZERO, Some(m("1.00", "EUR"))).unwrap(),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    let err = eur_flat.split(m("100", "JPY"), m("0", "JPY")).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    // too many intermediaries
    let many: Vec<Decimal> = vec![dec!(1); CommissionPlan::MAX_INTERMEDIARIES + 1];
    let err = CommissionPlan::new(
        FeeRate::none(),
        many.iter()
            .enumerate()
            .map(|(i, p)| terms(channel(&format!("c{i}")), FeeRate::percent(pct(*p))))
            .collect(),
        TaxRemitter::Owner,
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn the_same_id_as_channel_and_as_broker_are_two_intermediaries() {
    let plan = CommissionPlan::new(
        FeeRate::none(),
        vec![
            terms(channel("acme"), FeeRate::percent(pct(dec!(10)))),
            terms(broker("acme"), FeeRate::percent(pct(dec!(5)))),
        ],
        TaxRemitter::Intermediary(broker("acme")),
    )
    .unwrap();
    let split = plan.split(m("100.00", "EUR"), m("0", "EUR")).unwrap();
    assert_eq!(split.commission_total(), m("15.00", "EUR"));
}

#[test]
fn tax_remitter_does_not_change_the_amounts() {
    let amounts = |remitter: TaxRemitter| {
        let plan = CommissionPlan::new(
            FeeRate::percent(pct(dec!(7))),
            vec![terms(channel("ota"), FeeRate::percent(pct(dec!(12))))],
            remitter,
        )
        .unwrap();
        let split = plan.split(m("123.45", "EUR"), m("11.22", "EUR")).unwrap();
        assert_eq!(split.taxes(), m("11.22", "EUR"));
        minor_parts(&split)
    };
    let owner = amounts(TaxRemitter::Owner);
    assert_eq!(owner, amounts(TaxRemitter::Platform));
    assert_eq!(owner, amounts(TaxRemitter::Intermediary(channel("ota"))));
}

proptest! {
    /// Plans whose percentages add up to at most 100% and a gross large
    /// enough that the owner's exact share covers the rounding of every
    /// fee: the split succeeds, sums exactly, and each fee is its exact
    /// percentage within half a minor unit (flat fees exact).
    #[test]
    fn splits_of_valid_plans_sum_and_each_fee_is_its_rounded_percentage(
        code in prop::sample::select(vec!["JPY", "EUR", "KWD"]),
        rates in prop::collection::vec(0u32..=3_333_333, 1..=9),
        flat in 0i64..50,
        gross in 1_000i64..1_000_000_000,
        tax_share in 0u32..=60,
    ) {
        let c = cur(code);
        let total: u32 = rates.iter().sum();
        prop_assume!(total <= 90_000_000);
        let rate = |r: u32| pct(Decimal::new(i64::from(r), 6));
        let flat_money = Money::from_minor(flat, c);
        let intermediaries: Vec<IntermediaryTerms> = rates[1..]
            .iter()
            .enumerate()
            .map(|(i, r)| terms(
                broker(&format!("b{i}")),
                FeeRate::new(rate(*r), Some(flat_money)).unwrap(),
            ))
            .collect();
        let n = intermediaries.len() as i64;
        let plan = CommissionPlan::new(
            FeeRate::percent(rate(rates[0])),
            intermediaries,
            TaxRemitter::Platform,
        ).unwrap();
        let taxes = gross * i64::from(tax_share) / 100;
        let base = gross - taxes;
        prop_assume!(base >= 100 * (n * flat + 10));
        let split = plan
            .split(Money::from_minor(gross, c), Money::from_minor(taxes, c))
            .unwrap();
        let parts = minor_parts(&split);
        prop_assert_eq!(parts.iter().sum::<i64>(), gross);
        prop_assert!(parts.iter().all(|p| *p >= 0));
        let exact = |r: u32| Decimal::from(base) * Decimal::new(i64::from(r), 6) / dec!(100);
        prop_assert!((Decimal::from(parts[0]) - exact(rates[0])).abs() <= dec!(0.5));
        for (i, r) in rates[1..].iter().enumerate() {
            let fee = Decimal::from(parts[1 + i] - flat);
            prop_assert!((fee - exact(*r)).abs() <= dec!(0.5));
        }
        prop_assert_eq!(parts[parts.len() - 2], taxes);
    }
}
