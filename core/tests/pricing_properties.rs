//! Invariants of every quote, over random rate plans and requests.

mod pricing_support;

use chrono::Weekday;
use pricing_support::*;
use proptest::prelude::*;
use reservo::money::{Currency, Money, RoundingMode};
use reservo::party::Party;
use reservo::pricing::{
    ChildBand, DateRange, Fee, LengthOfStayDiscount, Occupancy, Percentage, Price, PromoDiscount,
    Quote, QuoteRequest, RatePlan, RatePlanSpec, RuleKind, Season, StayDiscount, Tax, TaxBase,
    TaxInclusion, TaxRounding, WeekdayRate,
};
use rust_decimal::Decimal;

fn price(max_cents: i64) -> impl Strategy<Value = Price> {
    (0..=max_cents).prop_map(|cents| Price::new(Money::from_minor(cents, Currency::EUR)).unwrap())
}

fn percentage() -> impl Strategy<Value = Percentage> {
    (0i64..=10_000).prop_map(|hundredths| Percentage::new(Decimal::new(hundredths, 2)).unwrap())
}

fn seasons() -> impl Strategy<Value = Vec<Season>> {
    prop::collection::vec((0i64..200, 0i64..60, price(50_000), -1i32..2), 0..4).prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (start, len, price, priority))| {
                let first = d(5, 1) + chrono::Days::new(start as u64);
                Season {
                    id: id(&format!("season-{i}")),
                    name: format!("Season {i}"),
                    dates: DateRange::new(first, first + chrono::Days::new(len as u64)).unwrap(),
                    price,
                    priority,
                }
            })
            .collect()
    })
}

fn weekday_rates() -> impl Strategy<Value = Vec<WeekdayRate>> {
    prop::option::of((
        prop::sample::subsequence(
            vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            1..4,
        ),
        price(50_000),
    ))
    .prop_map(|rate| {
        rate.into_iter()
            .map(|(weekdays, price)| WeekdayRate {
                id: id("weekdays"),
                name: "Weekdays".into(),
                weekdays,
                price,
            })
            .collect()
    })
}

fn stay_discount() -> impl Strategy<Value = StayDiscount> {
    prop_oneof![
        percentage().prop_map(StayDiscount::Percent),
        price(20_000).prop_map(StayDiscount::FixedPerNight),
    ]
}

fn length_of_stay() -> impl Strategy<Value = Vec<LengthOfStayDiscount>> {
    prop::collection::vec((1u32..30, stay_discount()), 0..3).prop_map(|tiers| {
        tiers
            .into_iter()
            .enumerate()
            .map(|(i, (min, discount))| LengthOfStayDiscount {
                id: id(&format!("los-{i}")),
                min_nights: min.try_into().unwrap(),
                discount,
            })
            .collect()
    })
}

fn occupancy_rules() -> impl Strategy<Value = Option<Occupancy>> {
    prop::option::of((
        1u32..4,
        prop::option::of(price(5_000)),
        price(3_000),
        price(3_000),
    ))
    .prop_map(|occupancy| {
        occupancy.map(|(included, extra_adult, infant, child)| Occupancy {
            included_guests: included,
            extra_adult,
            child_bands: vec![
                ChildBand {
                    id: id("infant"),
                    min_age: 0,
                    max_age: 2,
                    price: infant,
                },
                ChildBand {
                    id: id("child"),
                    min_age: 3,
                    max_age: 11,
                    price: child,
                },
            ],
        })
    })
}

fn fees() -> impl Strategy<Value = Vec<Fee>> {
    prop::collection::vec(
        (price(10_000), 0usize..4, any::<bool>(), any::<bool>()),
        0..4,
    )
    .prop_map(|fees| {
        fees.into_iter()
            .enumerate()
            .map(|(i, (amount, basis, taxable, refundable))| Fee {
                id: id(&format!("fee-{i}")),
                name: format!("Fee {i}"),
                amount,
                basis: all_fee_bases()[basis],
                taxable,
                refundable,
            })
            .collect()
    })
}

fn taxes() -> impl Strategy<Value = Vec<Tax>> {
    prop::collection::vec((0i64..=3_000, any::<bool>(), 0usize..3), 0..4).prop_map(|taxes| {
        taxes
            .into_iter()
            .enumerate()
            .map(|(i, (hundredths, inclusive, base))| Tax {
                id: id(&format!("tax-{i}")),
                name: format!("Tax {i}"),
                rate: Percentage::new(Decimal::new(hundredths, 2)).unwrap(),
                inclusion: if inclusive {
                    TaxInclusion::Inclusive
                } else {
                    TaxInclusion::Exclusive
                },
                base: [
                    TaxBase::Accommodation,
                    TaxBase::Fees,
                    TaxBase::AccommodationAndFees,
                ][base],
            })
            .collect()
    })
}

fn rate_plan() -> impl Strategy<Value = RatePlanSpec> {
    (
        price(50_000),
        weekday_rates(),
        seasons(),
        length_of_stay(),
        occupancy_rules(),
        fees(),
        taxes(),
        0usize..5,
        any::<bool>(),
    )
        .prop_map(
            |(
                base,
                weekday_rates,
                seasons,
                length_of_stay,
                occupancy,
                fees,
                taxes,
                mode,
                per_line,
            )| {
                let mut spec = nightly("0");
                spec.base_price = base;
                spec.weekday_rates = weekday_rates;
                spec.seasons = seasons;
                spec.length_of_stay = length_of_stay;
                spec.occupancy = occupancy;
                spec.fees = fees;
                spec.taxes = taxes;
                spec.rounding = [
                    RoundingMode::HalfEven,
                    RoundingMode::HalfUp,
                    RoundingMode::TowardZero,
                    RoundingMode::Floor,
                    RoundingMode::Ceiling,
                ][mode];
                spec.tax_rounding = if per_line {
                    TaxRounding::PerLine
                } else {
                    TaxRounding::OnTotal
                };
                spec
            },
        )
}

fn request() -> impl Strategy<Value = QuoteRequest> {
    let promo_discount = prop_oneof![
        percentage().prop_map(PromoDiscount::Percent),
        price(100_000).prop_map(PromoDiscount::Fixed),
    ];
    (
        0u64..250,
        1u64..40,
        0u32..5,
        prop::collection::vec(0u8..18, 0..4),
        prop::option::of(promo_discount),
    )
        .prop_filter("a party needs a guest", |(_, _, adults, children, _)| {
            *adults > 0 || !children.is_empty()
        })
        .prop_map(|(start, nights, adults, children, promo_discount)| {
            let check_in = d(5, 1) + chrono::Days::new(start);
            let request = stay(
                check_in,
                check_in + chrono::Days::new(nights),
                Party::new(adults, children).unwrap(),
            );
            match promo_discount {
                Some(discount) => request.with_promo(redeem(promo("CODE", discount), 0)),
                None => request,
            }
        })
}

/// A valid plan and a request it prices (plans whose random seasons tie
/// are refused by `RatePlan::new`, and skipped).
fn case() -> impl Strategy<Value = (RatePlan, QuoteRequest)> {
    (rate_plan(), request()).prop_filter_map("seasons tie", |(spec, request)| {
        RatePlan::new(spec).ok().map(|plan| (plan, request))
    })
}

fn sum(quote: &Quote, keep: impl Fn(&reservo::pricing::QuoteLine) -> bool) -> Decimal {
    quote
        .lines()
        .iter()
        .filter(|l| keep(l))
        .map(|l| l.amount.amount())
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn total_always_equals_the_quotes_total((plan, request) in case()) {
        let quote = plan.quote(&request).unwrap();
        prop_assert_eq!(plan.total(&request).unwrap(), quote.total());
    }

    #[test]
    fn totals_are_exact_sums_of_rounded_lines((plan, request) in case()) {
        let quote = plan.quote(&request).unwrap();
        for line in quote.lines() {
            prop_assert!(line.amount.is_rounded() && line.unit_amount.is_rounded());
            prop_assert_eq!(line.amount.amount(), line.unit_amount.amount() * Decimal::from(line.quantity));
        }
        let is_tax = |l: &reservo::pricing::QuoteLine| l.rule.kind == RuleKind::Tax;
        prop_assert_eq!(quote.subtotal().amount(), sum(&quote, |l| !is_tax(l)));
        prop_assert_eq!(quote.taxes().amount(), sum(&quote, |l| is_tax(l) && !l.included));
        prop_assert_eq!(quote.included_taxes().amount(), sum(&quote, |l| l.included));
        prop_assert_eq!(quote.total().amount(), sum(&quote, |l| !l.included));
        // Each night's share: one per night, none negative, summing to the
        // accommodation exactly.
        let accommodation = sum(&quote, |l| !matches!(l.rule.kind, RuleKind::Fee | RuleKind::Tax));
        prop_assert_eq!(quote.nights().len(), request.item.nights() as usize);
        prop_assert!(quote.nights().iter().all(|n| n.is_rounded() && !n.is_negative()));
        let nights: Decimal = quote.nights().iter().map(|n| n.amount()).sum();
        prop_assert_eq!(nights, accommodation);
    }

    #[test]
    fn total_is_never_negative((plan, request) in case()) {
        let quote = plan.quote(&request).unwrap();
        prop_assert!(!quote.total().is_negative());
        prop_assert!(!quote.subtotal().is_negative());
        prop_assert!(quote.lines().iter().filter(|l| l.rule.kind == RuleKind::Tax).all(|l| !l.amount.is_negative()));
    }

    #[test]
    fn same_inputs_give_identical_quotes((plan, request) in case()) {
        let quote = plan.quote(&request).unwrap();
        prop_assert_eq!(&plan.quote(&request).unwrap(), &quote);
        // Through storage: the plan and the request as JSON.
        let stored_plan = RatePlan::from_json(&serde_json::to_string(&plan).unwrap()).unwrap();
        let stored_request: QuoteRequest =
            serde_json::from_str(&serde_json::to_string(&request).unwrap()).unwrap();
        prop_assert_eq!(&stored_plan.quote(&stored_request).unwrap(), &quote);
        // Listing seasons and tiers in another order changes nothing.
        let mut spec = plan.spec().clone();
        spec.seasons.reverse();
        spec.length_of_stay.reverse();
        prop_assert_eq!(&RatePlan::new(spec).unwrap().quote(&request).unwrap(), &quote);
    }
}
