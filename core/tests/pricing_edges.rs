//! Pricing and money at their edges: the largest amounts, stays and
//! parties, rounding of totals, discounts that would go below zero, and
//! stored quotes that do not add up. Nothing here may panic: bad input is
//! a typed error.

mod pricing_support;

use pricing_support::*;
use reservo::ids::RatePlanId;
use reservo::money::{Currency, Money, Percentage, RoundingMode};
use reservo::party::Party;
use reservo::pricing::{
    DateRange, FeeBasis, MAX_TAXES, Price, PromoDiscount, Quote, QuoteLine, RatePlan, RuleKind,
    RuleRef, StayDiscount, TaxBase, TaxInclusion, TaxRounding,
};
use reservo::time::Stay;
use rust_decimal::Decimal;

fn money(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn line(kind: RuleKind, quantity: u32, unit: &str, amount: &str) -> QuoteLine {
    QuoteLine {
        rule: RuleRef {
            kind,
            id: "r".into(),
        },
        description: "r".into(),
        quantity,
        unit_amount: money(unit),
        amount: money(amount),
        included: false,
        refundable: true,
    }
}

/// About a thousandth of the largest decimal: any product by 1000 or
/// more overflows.
const HUGE: &str = "79228162514264337593543950";
/// More than half the largest decimal: two of them overflow a sum.
const BIG: &str = "50000000000000000000000000000";

#[test]
fn a_percentage_of_the_largest_amount_is_exact_and_never_panics() {
    let max = Money::new(Decimal::MAX, Currency::EUR);
    assert_eq!(Percentage::HUNDRED.of(&max), max);
    assert_eq!(max.percent(Decimal::ONE_HUNDRED), max);
    let half = Percentage::parse("50").unwrap().of(&max);
    assert!(half.amount() > Decimal::MAX / Decimal::TWO - Decimal::ONE);
    let huge = Money::parse(HUGE, "EUR").unwrap();
    let tenth = Percentage::parse("10")
        .unwrap()
        .of_money(huge, RoundingMode::HalfEven);
    assert_eq!(
        tenth.amount(),
        Decimal::from_str_exact("7922816251426433759354395").unwrap()
    );
}

#[test]
fn money_times_and_percent_overflow_as_invalid_input() {
    let huge = Money::parse(HUGE, "EUR").unwrap();
    assert_eq!(
        huge.checked_times(Decimal::from(10_000))
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        huge.checked_percent(Decimal::from(1_000_000))
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        huge.checked_times(Decimal::TWO).unwrap().amount(),
        Decimal::from_str_exact(HUGE).unwrap() * Decimal::TWO
    );
}

#[test]
fn a_stored_quote_whose_line_overflows_is_invalid_input() {
    let lines = vec![line(RuleKind::Base, 4_000_000_000, HUGE, HUGE)];
    let err = Quote::from_lines(RatePlanId::new("p").unwrap(), Currency::EUR, lines).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn a_stored_quote_whose_lines_sum_past_a_decimal_is_invalid_input() {
    let lines = vec![
        line(RuleKind::Base, 1, BIG, BIG),
        line(RuleKind::Base, 1, BIG, BIG),
    ];
    let err = Quote::from_lines(RatePlanId::new("p").unwrap(), Currency::EUR, lines).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn a_quote_whose_accommodation_alone_overflows_is_invalid_input() {
    // The running subtotal stays in range (BIG, 0, BIG), but the two
    // accommodation lines alone sum past the largest decimal.
    let neg = format!("-{BIG}");
    let lines = vec![
        line(RuleKind::Base, 1, BIG, BIG),
        line(RuleKind::Fee, 1, &neg, &neg),
        line(RuleKind::Base, 1, BIG, BIG),
    ];
    let result = Quote::from_lines(RatePlanId::new("p").unwrap(), Currency::EUR, lines);
    let err = result.map(|quote| quote.accommodation()).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn a_stored_quote_json_with_huge_amounts_is_refused_not_a_panic() {
    let json = format!(
        r#"{{"rate_plan":"p","currency":"EUR","lines":[{{"rule":{{"kind":"base","id":"p"}},
        "description":"x","quantity":4000000000,"unit_amount":{{"amount":"{HUGE}","currency":"EUR"}},
        "amount":{{"amount":"{HUGE}","currency":"EUR"}}}}],
        "subtotal":{{"amount":"0","currency":"EUR"}},"taxes":{{"amount":"0","currency":"EUR"}},
        "included_taxes":{{"amount":"0","currency":"EUR"}},"total":{{"amount":"0","currency":"EUR"}}}}"#
    );
    assert!(serde_json::from_str::<Quote>(&json).is_err());
}

#[test]
fn prices_past_the_maximum_are_refused_wherever_a_plan_takes_one() {
    let price = |amount: &str| format!(r#"{{"amount": "{amount}", "currency": "EUR"}}"#);
    let plan_with = |base: &str, fee: &str| {
        format!(
            r#"{{"id": "p", "name": "P", "unit": "night", "base_price": {},
                "fees": [{{"id": "f", "name": "F", "amount": {}, "basis": "per_guest_per_night",
                           "taxable": true}}]}}"#,
            price(base),
            price(fee)
        )
    };
    assert!(RatePlan::from_json(&plan_with("1000000000000", "1000000000000")).is_ok());
    for (base, fee) in [(HUGE, "1"), ("1", HUGE), ("1000000000000.01", "1")] {
        let err = RatePlan::from_json(&plan_with(base, fee)).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{base} {fee}");
    }
}

/// A plan where every price is the largest allowed and every rule applies
/// per guest and per night.
fn largest_plan() -> RatePlan {
    let max = Price::MAX_UNITS.to_string();
    let mut spec = nightly(&max);
    spec.weekday_rates.push(weekend(&max));
    spec.occupancy = Some(occupancy(1, &max, vec![band("kids", 0, 17, &max)]));
    spec.fees = all_fee_bases()
        .iter()
        .enumerate()
        .map(|(i, basis)| fee(&format!("fee{i}"), &max, *basis, true))
        .collect();
    spec.taxes = (0..MAX_TAXES)
        .map(|i| {
            let inclusion = if i % 2 == 0 {
                TaxInclusion::Exclusive
            } else {
                TaxInclusion::Inclusive
            };
            tax(
                &format!("tax{i}"),
                "100",
                inclusion,
                TaxBase::AccommodationAndFees,
            )
        })
        .collect();
    spec.tax_rounding = TaxRounding::PerLine;
    plan(spec)
}

#[test]
fn the_largest_plan_stay_and_party_price_without_overflow() {
    let plan = largest_plan();
    let check_in = d(1, 1);
    let check_out = check_in + chrono::Days::new(u64::from(Stay::MAX_NIGHTS));
    let party = Party::new(Party::MAX_SIZE - 2, vec![4, 9]).unwrap();
    let request = stay(check_in, check_out, party)
        .with_promo(redeem(promo("HALF", PromoDiscount::Percent(pct("50"))), 0));
    let quote = plan.quote(&request).unwrap();
    assert_eq!(plan.total(&request).unwrap(), quote.total());
    let lines: Vec<Money> = quote.lines().iter().map(|l| l.amount).collect();
    let added: Vec<Money> = quote
        .lines()
        .iter()
        .filter(|l| !l.included)
        .map(|l| l.amount)
        .collect();
    assert!(!lines.is_empty());
    assert_eq!(Money::sum(Currency::EUR, &added).unwrap(), quote.total());
}

#[test]
fn discounts_larger_than_the_stay_leave_it_free_never_negative() {
    let mut spec = nightly("10.00");
    spec.length_of_stay = vec![los("long", 2, StayDiscount::FixedPerNight(eur("25.00")))];
    spec.fees = vec![fee("cleaning", "5.00", FeeBasis::PerBooking, true)];
    spec.taxes = vec![added_tax("vat", "10", TaxBase::AccommodationAndFees)];
    spec.rounding = RoundingMode::Floor;
    spec.tax_rounding = TaxRounding::PerLine;
    let request = stay(d(6, 1), d(6, 4), adults(1)).with_promo(redeem(
        promo("FIFTY", PromoDiscount::Fixed(eur("50.00"))),
        0,
    ));
    let quote = plan(spec).quote(&request).unwrap();
    // 30.00 of nights, all taken off by the tier; the promo has nothing left.
    assert_eq!(
        lines(&quote),
        [
            "base flex 3 x 10.00 = 30.00",
            "length_of_stay long 1 x -30.00 = -30.00",
            "fee cleaning 1 x 5.00 = 5.00",
            "tax vat 1 x 0.50 = 0.50",
        ]
    );
    assert_eq!(quote.total().to_string(), "5.50 EUR");
    assert_eq!(amounts(quote.nights()), ["0.00", "0.00", "0.00"]);
}

fn with_kept_fee(lines: &mut [QuoteLine]) {
    lines
        .iter_mut()
        .find(|l| l.rule.kind == RuleKind::Fee)
        .unwrap()
        .refundable = false;
}

fn quote_of(lines: Vec<QuoteLine>) -> Quote {
    Quote::from_lines(RatePlanId::new("p").unwrap(), Currency::EUR, lines).unwrap()
}

#[test]
fn non_refundable_taxes_must_be_whole_within_the_taxes_and_charged_on_a_kept_fee() {
    let mut lines = vec![
        line(RuleKind::Base, 1, "80.00", "80.00"),
        line(RuleKind::Fee, 1, "20.00", "20.00"),
        line(RuleKind::Tax, 1, "10.00", "10.00"),
    ];
    let refundable = quote_of(lines.clone());
    with_kept_fee(&mut lines);
    let kept = quote_of(lines);
    for bad in ["0.005", "-0.01", "10.01"] {
        let err = kept
            .clone()
            .with_non_refundable_taxes(money(bad))
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{bad}: {err}");
    }
    for good in ["0.00", "2.00", "10.00"] {
        let quote = kept.clone().with_non_refundable_taxes(money(good)).unwrap();
        assert_eq!(quote.non_refundable_taxes(), money(good));
    }
    let usd = Money::parse("1.00", "USD").unwrap();
    let err = kept.with_non_refundable_taxes(usd).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    // Without a non-refundable fee, no tax is kept: only zero is accepted.
    let err = refundable
        .clone()
        .with_non_refundable_taxes(money("1.00"))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let quote = refundable.with_non_refundable_taxes(money("0.00")).unwrap();
    assert_eq!(quote.non_refundable_taxes(), money("0.00"));
}

#[test]
fn a_quote_without_the_kept_taxes_assumes_none_when_nothing_is_charged_before_taxes() {
    // A promo takes the accommodation and the fee's worth: the subtotal is
    // zero and only the taxes are left, so there is no share to keep.
    let mut lines = vec![
        line(RuleKind::Base, 1, "10.00", "10.00"),
        line(RuleKind::Promo, 1, "-30.00", "-30.00"),
        line(RuleKind::Fee, 1, "20.00", "20.00"),
        line(RuleKind::Tax, 1, "5.00", "5.00"),
    ];
    with_kept_fee(&mut lines);
    let quote = quote_of(lines);
    assert_eq!(quote.non_refundable().amount(), Decimal::from(20));
    assert!(quote.non_refundable_taxes().is_zero());
}

#[test]
fn nights_must_be_whole_and_non_negative_even_when_they_add_up() {
    let quote = quote_of(vec![line(RuleKind::Base, 2, "100.00", "200.00")]);
    for bad in [["100.005", "99.995"], ["-10.00", "210.00"]] {
        let err = quote
            .clone()
            .with_nights(bad.map(money).to_vec())
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{bad:?}: {err}");
    }
    let quote = quote
        .with_nights(vec![money("90.00"), money("110.00")])
        .unwrap();
    assert_eq!(amounts(quote.nights()), ["90.00", "110.00"]);
}

#[test]
fn prices_show_their_currency_and_date_ranges_their_ends() {
    assert_eq!(eur("12.50").to_string(), "12.50 EUR");
    let summer = DateRange::new(d(7, 1), d(8, 31)).unwrap();
    assert_eq!((summer.first(), summer.last()), (d(7, 1), d(8, 31)));
}
