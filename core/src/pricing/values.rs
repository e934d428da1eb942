//! The validated building blocks of rate plans: rule ids, prices,
//! percentages and inclusive date ranges.
//!
//! Each type checks its invariant when it is built and when it is
//! deserialized, so a rate plan made of them cannot hold a negative price,
//! a discount of 120 % or a season that ends before it starts. Must never
//! know about any particular rule: these are values, not rules.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::validate_id;
use crate::money::{Currency, Money};

/// The id of one rule of a rate plan (a season, a weekday rate, a fee, a
/// tax...), named in every quote line the rule produces.
///
/// Follows the crate's id rule: 1-64 characters of `A-Z a-z 0-9 - _ . :`.
///
/// ```
/// use reservo::pricing::RuleId;
/// assert_eq!(RuleId::new("summer-2026").unwrap().as_str(), "summer-2026");
/// assert_eq!(RuleId::new("no spaces").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct RuleId(String);

impl RuleId {
    /// Validates and wraps a rule id.
    pub fn new(id: impl Into<String>) -> Result<RuleId> {
        let id = id.into();
        validate_id("rule_id", &id)?;
        Ok(RuleId(id))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        RuleId::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A price a rate plan charges: zero or more, in whole minor units of its
/// currency, and at most [`Price::MAX_UNITS`] of it.
///
/// The upper bound keeps every quote's arithmetic far inside the exact
/// range of [`Decimal`], whatever the party size and stay length.
///
/// ```
/// use reservo::pricing::Price;
/// let night = Price::parse("120.00", "EUR").unwrap();
/// assert_eq!(night.money().to_string(), "120.00 EUR");
/// let negative = Price::parse("-5", "EUR").unwrap_err();
/// assert_eq!(negative.code(), "INVALID_INPUT");
/// assert!(negative.to_string().contains("-5.00 EUR"));
/// assert_eq!(Price::parse("9.999", "EUR").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Price(Money);

impl Price {
    /// The largest price, in whole units of the currency (10^12).
    pub const MAX_UNITS: i64 = 1_000_000_000_000;

    /// A price of `money`, refused with [`Error::InvalidInput`] naming the
    /// value if it is negative, has more decimals than the currency's minor
    /// unit, or exceeds [`Price::MAX_UNITS`].
    pub fn new(money: Money) -> Result<Price> {
        if money.is_negative() {
            return Err(Error::invalid(
                "price",
                format!("{money} is negative; prices are zero or more"),
            ));
        }
        if !money.is_rounded() {
            return Err(Error::invalid(
                "price",
                format!(
                    "{money} has more decimals than the {} decimal(s) of {}",
                    money.currency().minor_units(),
                    money.currency()
                ),
            ));
        }
        if money.amount() > Decimal::from(Price::MAX_UNITS) {
            return Err(Error::invalid(
                "price",
                format!("{money} is more than the maximum of {}", Price::MAX_UNITS),
            ));
        }
        Ok(Price(money))
    }

    /// Parses a decimal amount and an ISO 4217 code into a price.
    pub fn parse(amount: &str, currency: &str) -> Result<Price> {
        Price::new(Money::parse(amount, currency)?)
    }

    /// Zero of `currency` (a free night, a free infant).
    pub fn zero(currency: Currency) -> Price {
        Price(Money::zero(currency))
    }

    /// The price as money.
    pub fn money(&self) -> Money {
        self.0
    }

    /// The exact amount.
    pub fn amount(&self) -> Decimal {
        self.0.amount()
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.0.currency()
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Price::new(Money::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Civil dates from `first` to `last`, both included: a season's nights,
/// a promo's booking or stay window.
///
/// Inclusive on both ends because that is how people state them
/// ("1 July to 31 August"). For a season, a date in the range is a night
/// that starts on that date.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::pricing::DateRange;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let summer = DateRange::new(d(7, 1), d(8, 31)).unwrap();
/// assert!(summer.contains(d(8, 31)));
/// assert_eq!(summer.days(), 62);
/// assert_eq!(DateRange::new(d(8, 31), d(7, 1)).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DateRange {
    first: NaiveDate,
    last: NaiveDate,
}

impl DateRange {
    /// The dates `first..=last`; refused if `last` is before `first`.
    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<DateRange> {
        if last < first {
            return Err(Error::invalid(
                "date_range",
                format!("last date {last} is before first date {first}"),
            ));
        }
        Ok(DateRange { first, last })
    }

    /// The first date in the range.
    pub fn first(&self) -> NaiveDate {
        self.first
    }

    /// The last date in the range.
    pub fn last(&self) -> NaiveDate {
        self.last
    }

    /// Whether `date` is in the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }

    /// Whether every date from `first` to `last` is in the range.
    pub fn covers(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.first <= first && last <= self.last
    }

    /// Whether the two ranges share a date.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    /// Number of dates in the range (1 for a single day).
    pub fn days(&self) -> i64 {
        crate::time::days_between(self.first, self.last) + 1
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.first, self.last)
    }
}

impl<'de> Deserialize<'de> for DateRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            first: NaiveDate,
            last: NaiveDate,
        }
        let raw = Raw::deserialize(d)?;
        DateRange::new(raw.first, raw.last).map_err(serde::de::Error::custom)
    }
}

/// A discount of `raw` off `base`, clamped to `0..=base` so that `base`
/// never goes below zero.
pub(crate) fn clamp_discount(raw: Decimal, base: Decimal) -> Decimal {
    raw.min(base).max(Decimal::ZERO)
}

/// Checks that `price` is in the plan's `currency`.
pub(crate) fn same_currency(currency: Currency, price: &Price) -> Result<()> {
    if price.currency() == currency {
        Ok(())
    } else {
        Err(Error::CurrencyMismatch {
            left: currency.code().to_owned(),
            right: price.currency().code().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn price_refuses_negative_unrounded_and_huge_amounts_naming_them() {
        for (amount, shown) in [("-0.01", "-0.01 EUR"), ("1.005", "1.005 EUR")] {
            let err = Price::parse(amount, "EUR").unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT");
            assert!(err.to_string().contains(shown), "{err}");
        }
        assert_eq!(
            Price::parse("1000000000001", "JPY").unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert!(Price::parse("0", "EUR").is_ok());
    }

    #[test]
    fn deserializing_a_price_validates_it() {
        assert!(serde_json::from_str::<Price>(r#"{"amount":"-1","currency":"EUR"}"#).is_err());
        let p: Price = serde_json::from_str(r#"{"amount":"12.50","currency":"EUR"}"#).unwrap();
        assert_eq!(p.amount(), dec!(12.50));
    }

    #[test]
    fn date_range_is_inclusive_and_ordered() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        let r = DateRange::new(d(10), d(10)).unwrap();
        assert_eq!(r.days(), 1);
        assert!(r.contains(d(10)) && !r.contains(d(11)));
        assert!(r.overlaps(&DateRange::new(d(1), d(10)).unwrap()));
        assert!(!r.overlaps(&DateRange::new(d(11), d(12)).unwrap()));
        assert!(
            serde_json::from_str::<DateRange>(r#"{"first":"2026-03-02","last":"2026-03-01"}"#)
                .is_err()
        );
    }
}
