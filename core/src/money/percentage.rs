//! Percentages: the one way Reservo states a share.
//!
//! Owns the 0-100 range check. Must never hold a float.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::{Money, RoundingMode};
use crate::error::{Error, Result};

/// A percentage in `0..=100`, kept as an exact decimal: a discount, a tax
/// rate, a penalty, a commission. The one way Reservo states a share.
///
/// Serialized as a decimal string (`"12.5"` is 12.5 %); deserializing takes
/// a string or an integer, never a float, and checks the range.
///
/// ```
/// use reservo::money::{Money, Percentage, RoundingMode};
/// let vat = Percentage::parse("7.5").unwrap();
/// let night = Money::parse("200.00", "EUR").unwrap();
/// assert_eq!(vat.of(&night).to_string(), "15.000 EUR"); // unrounded
/// let five = Percentage::parse("5").unwrap();
/// let share = five.of_money(Money::parse("10.10", "EUR").unwrap(), RoundingMode::HalfEven);
/// assert_eq!(share.to_string(), "0.50 EUR"); // 0.505, tie to even
/// assert_eq!(Percentage::parse("101").unwrap_err().code(), "INVALID_INPUT");
/// assert_eq!(Percentage::whole(30).unwrap().to_string(), "30%");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Percentage(Decimal);

impl Percentage {
    /// Zero percent.
    pub const ZERO: Percentage = Percentage(Decimal::ZERO);
    /// One hundred percent.
    pub const HUNDRED: Percentage = Percentage(Decimal::ONE_HUNDRED);

    /// A percentage, refused with [`Error::InvalidInput`] naming the value
    /// unless it lies in `0..=100`.
    pub fn new(percent: Decimal) -> Result<Percentage> {
        if percent < Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
            return Err(Error::invalid(
                "percent",
                format!("{percent} is not between 0 and 100"),
            ));
        }
        Ok(Percentage(percent.normalize()))
    }

    /// Parses a decimal string such as `"10"` or `"7.5"`.
    pub fn parse(percent: &str) -> Result<Percentage> {
        let value = Decimal::from_str_exact(percent.trim()).map_err(|e| {
            Error::invalid(
                "percent",
                format!("{percent:?} is not a decimal number: {e}"),
            )
        })?;
        Percentage::new(value)
    }

    /// A whole percentage such as `50`; values above 100 are refused.
    pub fn whole(percent: u8) -> Result<Percentage> {
        Percentage::new(Decimal::from(percent))
    }

    /// The number of percent (`50` for half).
    pub fn value(self) -> Decimal {
        self.0
    }

    /// Whether this is zero percent.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// This percentage of `amount`, unrounded. Never fails: a share of at
    /// most 100 % is never larger than the amount. It is exact unless
    /// `amount × percent` exceeds a decimal (amounts beyond 10^26), where
    /// it is computed as `amount ÷ 100 × percent`, to a decimal's 28
    /// significant digits.
    pub fn of(self, amount: &Money) -> Money {
        // `checked_percent` fails only beyond 100 %: within 0-100 the
        // share fits wherever the amount does, so the fallback is never
        // taken.
        amount.checked_percent(self.0).unwrap_or(*amount)
    }

    /// This percentage of `amount`, rounded to the minor unit with `mode`.
    pub fn of_money(self, amount: Money, mode: RoundingMode) -> Money {
        self.of(&amount).round(mode)
    }
}

impl fmt::Display for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl<'de> Deserialize<'de> for Percentage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Percentage::new(super::exact::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
