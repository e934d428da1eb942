//! Builders shared by the pricing integration tests: short constructors
//! for prices, dates and rules, so each test shows only what it is about.

#![allow(dead_code)] // each test file uses its own subset

use chrono::{NaiveDate, Weekday};
use reservo::ids::RatePlanId;
use reservo::money::Money;
use reservo::party::Party;
use reservo::pricing::{
    ChildBand, DateRange, Fee, FeeBasis, LengthOfStayDiscount, Occupancy, Percentage, Price,
    PriceUnit, Promo, PromoCode, PromoDiscount, PromoRedemption, Quote, QuoteRequest, RatePlan,
    RatePlanSpec, RuleId, RuleKind, Season, StayDiscount, Tax, TaxBase, TaxInclusion, UsageLimit,
    WeekdayRate,
};
use reservo::time::Stay;

pub fn eur(amount: &str) -> Price {
    Price::parse(amount, "EUR").unwrap()
}

pub fn pct(percent: &str) -> Percentage {
    Percentage::parse(percent).unwrap()
}

pub fn id(id: &str) -> RuleId {
    RuleId::new(id).unwrap()
}

/// A date in 2026.
pub fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

pub fn nightly(base: &str) -> RatePlanSpec {
    RatePlanSpec::new(
        RatePlanId::new("flex").unwrap(),
        "Flexible",
        PriceUnit::Night,
        eur(base),
    )
}

pub fn plan(spec: RatePlanSpec) -> RatePlan {
    RatePlan::new(spec).unwrap()
}

pub fn season(rule: &str, first: NaiveDate, last: NaiveDate, price: &str) -> Season {
    Season {
        id: id(rule),
        name: rule.into(),
        dates: DateRange::new(first, last).unwrap(),
        price: eur(price),
        priority: 0,
    }
}

pub fn weekend(price: &str) -> WeekdayRate {
    WeekdayRate {
        id: id("weekend"),
        name: "Weekend".into(),
        weekdays: vec![Weekday::Fri, Weekday::Sat],
        price: eur(price),
    }
}

pub fn los(rule: &str, min_nights: u32, discount: StayDiscount) -> LengthOfStayDiscount {
    LengthOfStayDiscount {
        id: id(rule),
        min_nights: min_nights.try_into().unwrap(),
        discount,
    }
}

pub fn band(rule: &str, min_age: u8, max_age: u8, price: &str) -> ChildBand {
    ChildBand {
        id: id(rule),
        min_age,
        max_age,
        price: eur(price),
    }
}

pub fn occupancy(included: u32, extra_adult: &str, bands: Vec<ChildBand>) -> Occupancy {
    Occupancy {
        included_guests: included,
        extra_adult: Some(eur(extra_adult)),
        child_bands: bands,
    }
}

pub fn fee(rule: &str, amount: &str, basis: FeeBasis, taxable: bool) -> Fee {
    Fee {
        id: id(rule),
        name: rule.into(),
        amount: eur(amount),
        basis,
        taxable,
        refundable: true,
    }
}

pub fn tax(rule: &str, rate: &str, inclusion: TaxInclusion, base: TaxBase) -> Tax {
    Tax {
        id: id(rule),
        name: rule.into(),
        rate: pct(rate),
        inclusion,
        base,
    }
}

pub fn promo(code: &str, discount: PromoDiscount) -> Promo {
    Promo {
        code: PromoCode::new(code).unwrap(),
        discount,
        booking_window: None,
        stay_window: None,
        usage_limit: UsageLimit::Unlimited,
        min_nights: None,
    }
}

pub fn redeem(promo: Promo, uses: u32) -> PromoRedemption {
    PromoRedemption {
        code: promo.code.as_str().to_ascii_lowercase(),
        promo,
        uses,
    }
}

/// A stay of whole nights from `check_in` to `check_out`, booked on 1 January.
pub fn stay(check_in: NaiveDate, check_out: NaiveDate, party: Party) -> QuoteRequest {
    QuoteRequest::stay(Stay::new(check_in, check_out).unwrap(), party, d(1, 1))
}

pub fn adults(n: u32) -> Party {
    Party::adults(n).unwrap()
}

/// Amounts without their currency, for readable assertions.
pub fn amounts(money: &[Money]) -> Vec<String> {
    money.iter().map(|m| m.amount().to_string()).collect()
}

/// Each line as `kind id quantity x unit = amount`, for readable assertions.
pub fn lines(quote: &Quote) -> Vec<String> {
    quote
        .lines()
        .iter()
        .map(|l| {
            format!(
                "{} {} {} x {} = {}{}",
                kind(l.rule.kind),
                l.rule.id,
                l.quantity,
                l.unit_amount.amount(),
                l.amount.amount(),
                if l.included { " (included)" } else { "" }
            )
        })
        .collect()
}

fn kind(kind: RuleKind) -> String {
    serde_json::to_value(kind)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

/// The quote's total, subtotal, added taxes and included taxes as plain strings.
pub fn totals(quote: &Quote) -> [String; 4] {
    [
        quote.total().amount().to_string(),
        quote.subtotal().amount().to_string(),
        quote.taxes().amount().to_string(),
        quote.included_taxes().amount().to_string(),
    ]
}

pub fn all_fee_bases() -> [FeeBasis; 4] {
    [
        FeeBasis::PerBooking,
        FeeBasis::PerNight,
        FeeBasis::PerGuest,
        FeeBasis::PerGuestPerNight,
    ]
}

pub fn percent_off(percent: &str) -> StayDiscount {
    StayDiscount::Percent(pct(percent))
}

/// An exclusive (added) tax.
pub fn added_tax(rule: &str, rate: &str, base: TaxBase) -> Tax {
    tax(rule, rate, TaxInclusion::Exclusive, base)
}

/// An inclusive (contained) tax.
pub fn included_tax(rule: &str, rate: &str, base: TaxBase) -> Tax {
    tax(rule, rate, TaxInclusion::Inclusive, base)
}

/// Quotes `nights` nights from 1 June 2026 for one adult on `spec`.
pub fn quote_nights(spec: RatePlanSpec, nights: u64) -> Quote {
    let check_in = d(6, 1);
    plan(spec)
        .quote(&stay(
            check_in,
            check_in + chrono::Days::new(nights),
            adults(1),
        ))
        .unwrap()
}
