//! Length-of-stay discounts: cheaper nights for longer stays
//! ("7+ nights: 10 % off", "28+ nights: 25 % off").
//!
//! Owns the tiers and the rule that picks one. Must never discount fees or
//! taxes: a tier discounts the accommodation only (nightly rates plus
//! occupancy charges), and never below zero.
//!
//! # Which tier applies
//!
//! Of the tiers whose `min_nights` the stay reaches, the one that takes the
//! **most money off** this stay applies (the best for the guest); on equal
//! amounts the tier with the higher `min_nights`, then the smaller id. Only
//! one tier ever applies.
//!
//! # Amounts
//!
//! * [`StayDiscount::Percent`]: the percentage of the accommodation,
//!   rounded once to the minor unit with the plan's rounding mode;
//! * [`StayDiscount::FixedPerNight`]: the amount times the nights.
//!
//! Either is clamped to the accommodation, so it never makes it negative.

use std::num::NonZeroU32;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::values::{Price, RuleId, clamp_discount, same_currency};
use crate::error::Result;
use crate::money::Percentage;
use crate::money::{Currency, Money, RoundingMode};

/// How much a length-of-stay tier takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StayDiscount {
    /// A percentage of the accommodation: `{"percent": "10"}`.
    Percent(Percentage),
    /// An amount off each night: `{"fixed_per_night": {"amount": "15.00", "currency": "EUR"}}`.
    FixedPerNight(Price),
}

/// One tier of length-of-stay discount.
///
/// ```
/// use reservo::pricing::{LengthOfStayDiscount, Percentage, RuleId, StayDiscount};
/// let weekly = LengthOfStayDiscount {
///     id: RuleId::new("weekly").unwrap(),
///     min_nights: 7.try_into().unwrap(),
///     discount: StayDiscount::Percent(Percentage::parse("10").unwrap()),
/// };
/// assert_eq!(weekly.min_nights.get(), 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthOfStayDiscount {
    /// The tier's id, named in its quote line.
    pub id: RuleId,
    /// The fewest nights a stay needs for this tier.
    pub min_nights: NonZeroU32,
    /// What it takes off.
    pub discount: StayDiscount,
}

impl LengthOfStayDiscount {
    /// Checks the tier's amounts are in the plan's `currency`.
    pub(crate) fn validate(&self, currency: Currency) -> Result<()> {
        match &self.discount {
            StayDiscount::Percent(_) => Ok(()),
            StayDiscount::FixedPerNight(price) => same_currency(currency, price),
        }
    }

    /// The discount this tier gives a stay of `nights` whose accommodation
    /// is `accommodation` (rounded, clamped; see the module docs).
    fn amount(
        &self,
        nights: u32,
        accommodation: Decimal,
        currency: Currency,
        mode: RoundingMode,
    ) -> Decimal {
        let raw = match &self.discount {
            StayDiscount::Percent(p) => p
                .of_money(Money::new(accommodation, currency), mode)
                .amount(),
            StayDiscount::FixedPerNight(price) => price.amount() * Decimal::from(nights),
        };
        clamp_discount(raw, accommodation)
    }
}

/// The tier that applies to a stay and what it takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppliedStayDiscount<'a> {
    /// The tier.
    pub(crate) tier: &'a LengthOfStayDiscount,
    /// The amount taken off (positive, rounded, at most the accommodation).
    pub(crate) amount: Decimal,
}

/// The best tier for a stay of `nights` (see the module docs), if any
/// applies and takes something off.
pub(crate) fn best_tier(
    tiers: &[LengthOfStayDiscount],
    nights: u32,
    accommodation: Decimal,
    currency: Currency,
    mode: RoundingMode,
) -> Option<AppliedStayDiscount<'_>> {
    tiers
        .iter()
        .filter(|tier| tier.min_nights.get() <= nights)
        .map(|tier| AppliedStayDiscount {
            tier,
            amount: tier.amount(nights, accommodation, currency, mode),
        })
        .filter(|applied| applied.amount > Decimal::ZERO)
        .max_by(|a, b| {
            a.amount
                .cmp(&b.amount)
                .then(a.tier.min_nights.cmp(&b.tier.min_nights))
                .then(b.tier.id.cmp(&a.tier.id))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn tier(id: &str, min: u32, discount: StayDiscount) -> LengthOfStayDiscount {
        LengthOfStayDiscount {
            id: RuleId::new(id).unwrap(),
            min_nights: NonZeroU32::new(min).unwrap(),
            discount,
        }
    }

    fn percent(p: &str) -> StayDiscount {
        StayDiscount::Percent(Percentage::parse(p).unwrap())
    }

    fn best(
        tiers: &[LengthOfStayDiscount],
        nights: u32,
        acc: Decimal,
    ) -> Option<(String, Decimal)> {
        best_tier(tiers, nights, acc, Currency::EUR, RoundingMode::HalfEven)
            .map(|a| (a.tier.id.to_string(), a.amount))
    }

    #[test]
    fn the_tier_taking_most_off_applies() {
        let tiers = [
            tier("weekly", 7, percent("10")),
            tier("monthly", 28, percent("25")),
            tier(
                "flat",
                7,
                StayDiscount::FixedPerNight(Price::parse("20", "EUR").unwrap()),
            ),
        ];
        assert_eq!(best(&tiers, 6, dec!(600)), None);
        // 7 nights at 100: 10 % = 70, 20 a night = 140.
        assert_eq!(best(&tiers, 7, dec!(700)), Some(("flat".into(), dec!(140))));
        // 28 nights at 100: 25 % = 700 beats 20 x 28 = 560.
        assert_eq!(
            best(&tiers, 28, dec!(2800)),
            Some(("monthly".into(), dec!(700)))
        );
    }

    #[test]
    fn equal_amounts_go_to_the_longer_tier_whatever_the_list_order() {
        let a = tier("a", 7, percent("10"));
        let b = tier("b", 5, percent("10"));
        assert_eq!(best(&[a.clone(), b.clone()], 7, dec!(700)).unwrap().0, "a");
        assert_eq!(best(&[b, a], 7, dec!(700)).unwrap().0, "a");
    }

    #[test]
    fn fixed_discount_never_exceeds_the_accommodation() {
        let tiers = [tier(
            "big",
            2,
            StayDiscount::FixedPerNight(Price::parse("80", "EUR").unwrap()),
        )];
        assert_eq!(best(&tiers, 2, dec!(100)), Some(("big".into(), dec!(100))));
        assert_eq!(best(&tiers, 2, dec!(0)), None);
    }
}
