//! A percentage between 0 and 100, the one way Reservo states a share.
//!
//! Owns the range check so that a penalty, a commission rate or a refund
//! share can never be negative or above a hundred percent. Must never hold
//! a float.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::money::Money;

/// A percentage in `0..=100`, kept as an exact decimal.
///
/// Serialized as a decimal string (`"12.5"`); deserializing checks the range.
///
/// ```
/// use reservo::policy::Percentage;
/// use rust_decimal::Decimal;
/// let half = Percentage::new(Decimal::new(50, 0)).unwrap();
/// assert_eq!(half.value(), Decimal::new(50, 0));
/// assert_eq!(Percentage::new(Decimal::new(101, 0)).unwrap_err().code(), "INVALID_INPUT");
/// assert_eq!(serde_json::to_string(&half).unwrap(), "\"50\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Percentage(Decimal);

impl Percentage {
    /// Zero percent.
    pub const ZERO: Percentage = Percentage(Decimal::ZERO);
    /// One hundred percent.
    pub const HUNDRED: Percentage = Percentage(Decimal::ONE_HUNDRED);

    /// A percentage, refused unless it lies in `0..=100`.
    pub fn new(value: Decimal) -> Result<Percentage> {
        if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
            return Err(Error::invalid(
                "percentage",
                format!("{value} is outside 0..=100"),
            ));
        }
        Ok(Percentage(value.normalize()))
    }

    /// A whole percentage such as `50`; values above 100 are refused.
    ///
    /// ```
    /// use reservo::policy::Percentage;
    /// assert_eq!(Percentage::whole(30).unwrap().to_string(), "30%");
    /// ```
    pub fn whole(value: u8) -> Result<Percentage> {
        Percentage::new(Decimal::from(value))
    }

    /// The number of percent (`50` for half).
    pub fn value(self) -> Decimal {
        self.0
    }

    /// Whether this is zero percent.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// This percentage of `amount`, unrounded.
    ///
    /// ```
    /// use reservo::money::Money;
    /// use reservo::policy::Percentage;
    /// let third = Percentage::new("33.3".parse().unwrap()).unwrap();
    /// let fee = third.of(&Money::parse("10.00", "EUR").unwrap());
    /// assert_eq!(fee, Money::parse("3.33", "EUR").unwrap());
    /// ```
    pub fn of(self, amount: &Money) -> Money {
        amount.percent(self.0)
    }
}

impl fmt::Display for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl<'de> Deserialize<'de> for Percentage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = <Decimal as Deserialize>::deserialize(d)?;
        Percentage::new(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializing_checks_the_range() {
        assert!(serde_json::from_str::<Percentage>("\"12.5\"").is_ok());
        assert!(serde_json::from_str::<Percentage>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Percentage>("\"100.01\"").is_err());
    }
}
