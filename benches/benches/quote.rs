//! Pricing speed: a 14-night quote on a plan with ten rules, line by line
//! (`RatePlan::quote`) and total only (`RatePlan::total`, what availability
//! searches call once per resource). Target: at most 20 µs per quote.
//!
//! Run: `cargo bench -p reservo-benches --bench quote`.

use std::hint::black_box;

use chrono::{NaiveDate, Weekday};
use criterion::{Criterion, criterion_group, criterion_main};
use reservo::ids::RatePlanId;
use reservo::party::Party;
use reservo::pricing::{
    ChildBand, DateRange, Fee, FeeBasis, LengthOfStayDiscount, Occupancy, Percentage, Price,
    PriceUnit, Promo, PromoCode, PromoDiscount, PromoRedemption, QuoteRequest, RatePlan,
    RatePlanSpec, RuleId, Season, StayDiscount, Tax, TaxBase, TaxInclusion, UsageLimit,
    WeekdayRate,
};
use reservo::time::Stay;

fn eur(amount: &str) -> Price {
    Price::parse(amount, "EUR").expect("a valid price")
}

fn rule(id: &str) -> RuleId {
    RuleId::new(id).expect("a valid rule id")
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("a valid date")
}

/// Base price plus ten rules: season, weekend, length of stay, extra
/// adult, child band, cleaning fee, per-night fee, VAT (inclusive), city
/// tax (exclusive); the promo comes with the request.
fn plan() -> RatePlan {
    let mut spec = RatePlanSpec::new(
        RatePlanId::new("flex").expect("a valid id"),
        "Flexible",
        PriceUnit::Night,
        eur("100.00"),
    );
    spec.seasons.push(Season {
        id: rule("summer"),
        name: "Summer".into(),
        dates: DateRange::new(date(7, 1), date(8, 31)).expect("ordered dates"),
        price: eur("150.00"),
        priority: 0,
    });
    spec.weekday_rates.push(WeekdayRate {
        id: rule("weekend"),
        name: "Weekend".into(),
        weekdays: vec![Weekday::Fri, Weekday::Sat],
        price: eur("120.00"),
    });
    spec.length_of_stay.push(LengthOfStayDiscount {
        id: rule("weekly"),
        min_nights: 7.try_into().expect("non-zero"),
        discount: StayDiscount::Percent(Percentage::parse("10").expect("a percentage")),
    });
    spec.occupancy = Some(Occupancy {
        included_guests: 2,
        extra_adult: Some(eur("25.00")),
        child_bands: vec![ChildBand {
            id: rule("child"),
            min_age: 3,
            max_age: 11,
            price: eur("15.00"),
        }],
    });
    spec.fees = vec![
        Fee {
            id: rule("cleaning"),
            name: "Cleaning".into(),
            amount: eur("60.00"),
            basis: FeeBasis::PerBooking,
            taxable: true,
            refundable: true,
        },
        Fee {
            id: rule("resort"),
            name: "Resort fee".into(),
            amount: eur("4.50"),
            basis: FeeBasis::PerNight,
            taxable: false,
            refundable: true,
        },
    ];
    spec.taxes = vec![
        Tax {
            id: rule("vat"),
            name: "VAT".into(),
            rate: Percentage::parse("10").expect("a percentage"),
            inclusion: TaxInclusion::Inclusive,
            base: TaxBase::AccommodationAndFees,
        },
        Tax {
            id: rule("city"),
            name: "City tax".into(),
            rate: Percentage::parse("5").expect("a percentage"),
            inclusion: TaxInclusion::Exclusive,
            base: TaxBase::Accommodation,
        },
    ];
    RatePlan::new(spec).expect("a valid plan")
}

/// 14 nights across the start of the season, 3 adults and a child, with a promo.
fn request() -> QuoteRequest {
    let stay = Stay::new(date(6, 24), date(7, 8)).expect("a valid stay");
    let party = Party::new(3, vec![7]).expect("a valid party");
    QuoteRequest::stay(stay, party, date(3, 1)).with_promo(PromoRedemption {
        code: "spring".into(),
        promo: Promo {
            code: PromoCode::new("SPRING").expect("a valid code"),
            discount: PromoDiscount::Percent(Percentage::parse("5").expect("a percentage")),
            booking_window: Some(DateRange::new(date(1, 1), date(3, 31)).expect("ordered dates")),
            stay_window: None,
            usage_limit: UsageLimit::MaxUses(100.try_into().expect("non-zero")),
            min_nights: None,
        },
        uses: 12,
    })
}

fn bench_quote(c: &mut Criterion) {
    let plan = plan();
    let request = request();
    let quote = plan.quote(&request).expect("the request prices");
    assert_eq!(
        quote.lines().len(),
        11,
        "every rule shows in the bench's quote"
    );
    assert_eq!(
        plan.total(&request).expect("the request prices"),
        quote.total()
    );

    c.bench_function("quote_14_nights_10_rules", |b| {
        b.iter(|| plan.quote(black_box(&request)))
    });
    c.bench_function("total_14_nights_10_rules", |b| {
        b.iter(|| plan.total(black_box(&request)))
    });
}

criterion_group!(benches, bench_quote);
criterion_main!(benches);
