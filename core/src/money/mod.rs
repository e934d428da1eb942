//! Money: an exact decimal amount in one ISO 4217 currency.
//!
//! Owns currencies and their minor units, arithmetic that refuses to mix
//! currencies, explicit rounding to the minor unit, and exact allocation of
//! a total into parts. Must never use floating point, and never round
//! implicitly: intermediate amounts keep full precision until the caller
//! rounds them with a named [`RoundingMode`].

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod allocation;
mod currency;
mod exact;
mod percentage;

use allocation::{integer_weights, mul_div};

pub use currency::{Currency, RoundingMode};
pub use percentage::Percentage;

/// An exact amount of one currency.
///
/// Arithmetic checks currencies and keeps full precision until [`Money::round`];
/// a JSON amount is a decimal string or an integer, never a float.
///
/// ```
/// use reservo::money::{Money, RoundingMode};
/// use rust_decimal::Decimal;
///
/// let night = Money::parse("99.99", "EUR").unwrap();
/// let tax = night.percent(Decimal::new(7, 0)); // 6.9993 EUR, unrounded
/// assert_eq!(tax.round(RoundingMode::HalfEven).to_string(), "7.00 EUR");
/// let total = night.checked_add(&tax.round_default()).unwrap();
/// assert_eq!(total.to_string(), "106.99 EUR");
/// assert_eq!(
///     night.checked_add(&Money::parse("1", "USD").unwrap()).unwrap_err().code(),
///     "CURRENCY_MISMATCH"
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(deserialize_with = "exact::deserialize")]
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// An amount of `currency`, kept exactly as given.
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero of `currency`, to its minor unit (`0.00` EUR, `0` JPY), as
    /// an amount parsed from text would be.
    pub fn zero(currency: Currency) -> Money {
        Money::from_minor(0, currency)
    }

    /// Parses a decimal string amount and an ISO 4217 code.
    pub fn parse(amount: &str, currency: &str) -> Result<Money> {
        let currency = Currency::from_code(currency)?;
        let value = Decimal::from_str_exact(amount.trim()).map_err(|e| {
            Error::invalid("amount", format!("{amount:?} is not a decimal number: {e}"))
        })?;
        Ok(Money::new(value, currency))
    }

    /// An amount given in minor units (cents for EUR, yen for JPY).
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money::new(Decimal::new(minor, currency.minor_units()), currency)
    }

    /// The exact amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount < Decimal::ZERO
    }

    /// Whether the amount has no more decimals than the currency's minor unit.
    pub fn is_rounded(&self) -> bool {
        self.amount.round_dp(self.currency.minor_units()) == self.amount
    }

    fn same_currency(&self, other: &Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                left: self.currency.code().to_owned(),
                right: other.currency.code().to_owned(),
            })
        }
    }

    /// `self + other`, refusing different currencies, and with
    /// [`Error::InvalidInput`] a sum too large for a decimal.
    pub fn checked_add(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        let sum = self
            .amount
            .checked_add(other.amount)
            .ok_or_else(|| Error::invalid("amount", format!("{self} + {other} is too large")))?;
        Ok(Money::new(sum, self.currency))
    }

    /// `self - other`, refusing different currencies, and with
    /// [`Error::InvalidInput`] a difference too large for a decimal.
    pub fn checked_sub(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        let difference = self
            .amount
            .checked_sub(other.amount)
            .ok_or_else(|| Error::invalid("amount", format!("{self} - {other} is too large")))?;
        Ok(Money::new(difference, self.currency))
    }

    /// Compares two amounts of the same currency.
    pub fn checked_cmp(&self, other: &Money) -> Result<Ordering> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    /// The smaller of two amounts of the same currency.
    pub fn checked_min(&self, other: &Money) -> Result<Money> {
        Ok(match self.checked_cmp(other)? {
            Ordering::Greater => *other,
            _ => *self,
        })
    }

    /// `self × factor`, unrounded.
    ///
    /// # Panics
    ///
    /// If the product is too large for a decimal (about 7.9 × 10^28).
    /// Amounts and factors that come from outside the program go through
    /// [`Money::checked_times`] instead.
    pub fn times(&self, factor: Decimal) -> Money {
        Money::new(self.amount * factor, self.currency)
    }

    /// `self × factor`, unrounded, and with [`Error::InvalidInput`] a
    /// product too large for a decimal.
    ///
    /// ```
    /// use reservo::money::Money;
    /// use rust_decimal::Decimal;
    /// let night = Money::parse("99.99", "EUR").unwrap();
    /// assert_eq!(night.checked_times(Decimal::from(3)).unwrap().to_string(), "299.97 EUR");
    /// let huge = Money::new(Decimal::MAX, night.currency());
    /// assert_eq!(huge.checked_times(Decimal::TWO).unwrap_err().code(), "INVALID_INPUT");
    /// ```
    pub fn checked_times(&self, factor: Decimal) -> Result<Money> {
        let product = self
            .amount
            .checked_mul(factor)
            .ok_or_else(|| Error::invalid("amount", format!("{self} × {factor} is too large")))?;
        Ok(Money::new(product, self.currency))
    }

    /// `percent`% of `self`, unrounded.
    ///
    /// # Panics
    ///
    /// If the share is too large for a decimal, which takes a percentage
    /// beyond ±100 (within, see [`Percentage::of`], which never fails).
    /// Percentages that come from outside the program go through
    /// [`Money::checked_percent`] instead.
    pub fn percent(&self, percent: Decimal) -> Money {
        self.checked_percent(percent)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `percent`% of `self`, unrounded, and with [`Error::InvalidInput`] a
    /// share too large for a decimal (only possible beyond ±100 %).
    pub fn checked_percent(&self, percent: Decimal) -> Result<Money> {
        let share = self
            .amount
            .checked_mul(percent)
            .map(|product| product / Decimal::ONE_HUNDRED)
            .or_else(|| {
                // `amount × percent` overflowed, but the share itself may
                // fit: take the hundredth first.
                (self.amount / Decimal::ONE_HUNDRED).checked_mul(percent)
            })
            .ok_or_else(|| {
                Error::invalid("amount", format!("{percent}% of {self} is too large"))
            })?;
        Ok(Money::new(share, self.currency))
    }

    /// The amount negated.
    pub fn negated(&self) -> Money {
        Money::new(-self.amount, self.currency)
    }

    /// Rounded to the currency's minor unit with `mode`, and written to
    /// it: `0.00` EUR, not `0`.
    pub fn round(&self, mode: RoundingMode) -> Money {
        let minor = self.currency.minor_units();
        let mut amount = self.amount.round_dp_with_strategy(minor, mode.strategy());
        amount.rescale(minor);
        Money::new(amount, self.currency)
    }

    /// Rounded half-even, the default mode.
    pub fn round_default(&self) -> Money {
        self.round(RoundingMode::HalfEven)
    }

    /// The amount in minor units. Fails if the amount is not rounded to the
    /// minor unit or does not fit an `i64`.
    pub fn to_minor(&self) -> Result<i64> {
        if !self.is_rounded() {
            return Err(Error::invalid(
                "amount",
                format!("{self} has more decimals than {} allows", self.currency),
            ));
        }
        let too_large = || Error::invalid("amount", format!("{self} is too large"));
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10i64.pow(self.currency.minor_units())))
            .ok_or_else(too_large)?;
        i64::try_from(scaled.trunc()).map_err(|_| too_large())
    }

    /// Sums `parts`, all of which must be in `currency`.
    pub fn sum<'a>(
        currency: Currency,
        parts: impl IntoIterator<Item = &'a Money>,
    ) -> Result<Money> {
        parts
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// Splits `self` into parts proportional to `weights`, exactly: the parts
    /// are whole minor units and always sum to `self`.
    ///
    /// Uses the largest-remainder method: every part first gets its share
    /// rounded toward zero, then the minor units left over go one each to
    /// the parts with the largest remainders (ties to the earlier part).
    /// The shares are computed in integers, never rounded, so any amount
    /// that fits minor units allocates. The amount must already be rounded
    /// to the minor unit; weights must be non-negative, not all zero, and
    /// fit 128 bits when written at the scale of the most precise one
    /// ([`Error::InvalidInput`] otherwise).
    ///
    /// ```
    /// use reservo::money::Money;
    /// use rust_decimal::Decimal;
    /// let total = Money::parse("100.00", "EUR").unwrap();
    /// let parts = total.allocate(&[Decimal::ONE, Decimal::ONE, Decimal::ONE]).unwrap();
    /// let shown: Vec<String> = parts.iter().map(|m| m.amount().to_string()).collect();
    /// assert_eq!(shown, ["33.34", "33.33", "33.33"]);
    /// ```
    pub fn allocate(&self, weights: &[Decimal]) -> Result<Vec<Money>> {
        if weights.is_empty() {
            return Err(Error::invalid("weights", "at least one weight is needed"));
        }
        if let Some(w) = weights
            .iter()
            .find(|w| w.is_sign_negative() && !w.is_zero())
        {
            return Err(Error::invalid("weights", format!("weight {w} is negative")));
        }
        let weights = integer_weights(weights)?;
        let total_weight = weights
            .iter()
            .try_fold(0u128, |sum, w| sum.checked_add(*w))
            .ok_or_else(|| Error::invalid("weights", "weights too large to allocate"))?;
        if total_weight == 0 {
            return Err(Error::invalid("weights", "weights sum to zero"));
        }
        let total_minor = self.to_minor()?;
        let magnitude = total_minor.unsigned_abs();
        let mut parts = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        let mut given: u64 = 0;
        for (index, weight) in weights.iter().enumerate() {
            let (floor, remainder) = mul_div(magnitude, *weight, total_weight);
            // Each floor is at most its exact share, so they sum to at
            // most `magnitude` and neither this nor `left` can overflow.
            given += floor;
            parts.push(floor);
            remainders.push((remainder, index));
        }
        let mut left = magnitude - given;
        // Largest remainder first (all over the same `total_weight`, so
        // comparing them is exact); among equal remainders the earlier part.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders {
            if left == 0 {
                break;
            }
            parts[index] += 1;
            left -= 1;
        }
        let sign: i128 = if total_minor < 0 { -1 } else { 1 };
        parts
            .into_iter()
            .map(|units| {
                // |part| <= |total|, so the signed part fits as the total does.
                let units = i64::try_from(i128::from(units) * sign)
                    .map_err(|_| Error::invalid("amount", format!("{self} is too large")))?;
                Ok(Money::from_minor(units, self.currency))
            })
            .collect()
    }
}

impl PartialOrd for Money {
    /// Amounts of different currencies are not comparable (`None`).
    fn partial_cmp(&self, other: &Money) -> Option<Ordering> {
        self.checked_cmp(other).ok()
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl fmt::Display for Money {
    /// Shows the amount padded to the minor unit, then the code:
    /// `12.30 EUR`, `1500 JPY`. Extra precision is shown, never hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.padded_amount(), self.currency)
    }
}

impl Money {
    /// The amount with at least the currency's minor-unit digits (`50` EUR
    /// is `50.00`, `1500` JPY stays `1500`); extra precision is kept. What
    /// event payloads carry, so templates show amounts alike.
    pub(crate) fn padded_amount(&self) -> Decimal {
        let mut amount = self.amount;
        if amount.scale() < self.currency.minor_units() {
            amount.rescale(self.currency.minor_units());
        }
        amount
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn eur(s: &str) -> Money {
        Money::parse(s, "EUR").unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Currency::from_code("EUR").unwrap().minor_units(), 2);
        assert_eq!(Currency::from_code("KWD").unwrap().minor_units(), 3);
        assert_eq!(Currency::from_code("CLF").unwrap().minor_units(), 4);
        assert_eq!(Currency::from_code("VND").unwrap().minor_units(), 0);
        assert_eq!(Currency::EUR, Currency::from_code("EUR").unwrap());
        assert_eq!(Currency::JPY, Currency::from_code("jpy").unwrap());
    }

    #[test]
    fn unknown_currency_names_the_code() {
        let err = Currency::from_code("EU").unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_CURRENCY");
        assert!(err.to_string().contains("\"EU\""));
        assert_eq!(
            Currency::from_code("").unwrap_err().code(),
            "UNKNOWN_CURRENCY"
        );
    }

    #[test]
    fn rounding_is_explicit_and_selectable() {
        let m = eur("2.345");
        assert_eq!(m.round(RoundingMode::HalfEven).amount(), dec!(2.34));
        assert_eq!(m.round(RoundingMode::HalfUp).amount(), dec!(2.35));
        assert_eq!(
            eur("2.355").round(RoundingMode::HalfEven).amount(),
            dec!(2.36)
        );
        assert_eq!(
            eur("-2.345").round(RoundingMode::HalfUp).amount(),
            dec!(-2.35)
        );
        assert_eq!(
            eur("2.349").round(RoundingMode::TowardZero).amount(),
            dec!(2.34)
        );
        assert_eq!(
            eur("-2.341").round(RoundingMode::Floor).amount(),
            dec!(-2.35)
        );
        assert_eq!(
            eur("2.341").round(RoundingMode::Ceiling).amount(),
            dec!(2.35)
        );
        let yen = Money::parse("1234.5", "JPY").unwrap();
        assert_eq!(yen.round_default().amount(), dec!(1234));
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let usd = Money::parse("1", "USD").unwrap();
        for err in [
            eur("1").checked_add(&usd).unwrap_err(),
            eur("1").checked_sub(&usd).unwrap_err(),
            eur("1").checked_cmp(&usd).unwrap_err(),
        ] {
            assert_eq!(err.code(), "CURRENCY_MISMATCH");
        }
        assert_eq!(eur("1").partial_cmp(&usd), None);
        let err = Money::sum(Currency::EUR, &[eur("1"), usd]).unwrap_err();
        assert_eq!(err.code(), "CURRENCY_MISMATCH");
    }

    #[test]
    fn display_and_debug_pad_to_the_minor_unit() {
        assert_eq!(eur("12.3").to_string(), "12.30 EUR");
        assert_eq!(eur("12.345").to_string(), "12.345 EUR");
        assert_eq!(Money::parse("1500", "JPY").unwrap().to_string(), "1500 JPY");
        // What a failed `assert_eq!` on amounts shows.
        assert_eq!(format!("{:?}", eur("12.3")), "Money(12.30 EUR)");
        assert_eq!(format!("{:?}", Currency::JPY), "JPY");
    }

    #[test]
    fn parse_rejects_garbage_naming_it() {
        let err = Money::parse("12,50", "EUR").unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("12,50"));
    }

    #[test]
    fn minor_units_round_trip() {
        let m = Money::from_minor(-12345, Currency::EUR);
        assert_eq!(m.amount(), dec!(-123.45));
        assert_eq!(m.to_minor().unwrap(), -12345);
        assert_eq!(eur("1.001").to_minor().unwrap_err().code(), "INVALID_INPUT");
    }

    #[test]
    fn allocation_gives_leftover_units_to_largest_remainders() {
        let parts = eur("10.00").allocate(&[dec!(1), dec!(2), dec!(3)]).unwrap();
        let amounts: Vec<Decimal> = parts.iter().map(Money::amount).collect();
        // exact: 1.666.., 3.333.., 5.00
        assert_eq!(amounts, [dec!(1.67), dec!(3.33), dec!(5.00)]);
        let negative = eur("-0.05").allocate(&[dec!(1), dec!(1)]).unwrap();
        assert_eq!(negative[0].amount() + negative[1].amount(), dec!(-0.05));
        assert_eq!(negative[0].amount(), dec!(-0.03));
    }

    #[test]
    fn allocation_refuses_bad_weights_and_unrounded_totals() {
        assert_eq!(eur("1").allocate(&[]).unwrap_err().code(), "INVALID_INPUT");
        assert_eq!(
            eur("1").allocate(&[dec!(0)]).unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            eur("1").allocate(&[dec!(-1), dec!(2)]).unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            eur("1.001").allocate(&[dec!(1)]).unwrap_err().code(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn allocation_of_the_largest_amounts_is_exact_and_never_panics() {
        for total in [i64::MAX, i64::MIN, 10i64.pow(16)] {
            let money = Money::from_minor(total, Currency::EUR);
            let weights = [Decimal::MAX, dec!(9e15), dec!(1), Decimal::ZERO];
            let parts = money.allocate(&weights).unwrap();
            let sum = Money::sum(Currency::EUR, &parts).unwrap();
            assert_eq!(sum, money, "{total}");
            assert!(parts[3].is_zero());
        }
        // 10^16 cents in thirds: 3333333333333334, then two of ...333
        let thirds = Money::from_minor(10i64.pow(16), Currency::EUR)
            .allocate(&[dec!(1), dec!(1), dec!(1)])
            .unwrap();
        let minor: Vec<i64> = thirds.iter().map(|m| m.to_minor().unwrap()).collect();
        assert_eq!(
            minor,
            [
                3_333_333_333_333_334,
                3_333_333_333_333_333,
                3_333_333_333_333_333
            ]
        );
        // weights that do not fit 128 bits at a common scale are refused
        let apart = [Decimal::MAX, Decimal::new(1, 28)];
        assert_eq!(
            eur("1").allocate(&apart).unwrap_err().code(),
            "INVALID_INPUT"
        );
        // sums and minor units too large for a decimal are typed errors
        let max = Money::new(Decimal::MAX, Currency::EUR);
        assert_eq!(
            max.checked_add(&eur("1")).unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            max.negated().checked_sub(&eur("1")).unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert_eq!(
            max.round_default().to_minor().unwrap_err().code(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn percentages_stay_within_zero_and_a_hundred() {
        assert!(serde_json::from_str::<Percentage>("\"12.5\"").is_ok());
        assert!(serde_json::from_str::<Percentage>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Percentage>("\"100.01\"").is_err());
        assert_eq!(
            Percentage::parse("abc").unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert!(Percentage::HUNDRED.of(&eur("3.00")) == eur("3.00"));
        let seven_and_a_half = serde_json::to_string(&Percentage::parse("7.50").unwrap()).unwrap();
        assert_eq!(seven_and_a_half, r#""7.5""#);
    }

    #[test]
    fn serde_keeps_amounts_as_strings() {
        let json = serde_json::to_string(&eur("12.30")).unwrap();
        assert_eq!(json, r#"{"amount":"12.30","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, eur("12.30"));
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"ZZZ"}"#).is_err());
    }

    proptest! {
        #[test]
        fn allocated_parts_always_sum_to_the_total(
            total in -10_000_000i64..10_000_000,
            weights in prop::collection::vec(0u32..1000, 1..12),
            code in prop::sample::select(vec!["EUR", "JPY", "KWD"]),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let currency = Currency::from_code(code).unwrap();
            let money = Money::from_minor(total, currency);
            let weights: Vec<Decimal> = weights.into_iter().map(Decimal::from).collect();
            let parts = money.allocate(&weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            let sum = Money::sum(currency, &parts).unwrap();
            prop_assert_eq!(sum.amount(), money.amount());
            let total_weight: Decimal = weights.iter().sum();
            for (part, weight) in parts.iter().zip(&weights) {
                prop_assert!(part.is_rounded());
                // each part is within one minor unit of its exact share
                let exact = money.amount() * *weight / total_weight;
                let unit = Decimal::new(1, currency.minor_units());
                prop_assert!((part.amount() - exact).abs() < unit);
                // zero weight gets nothing
                if weight.is_zero() { prop_assert!(part.is_zero()); }
            }
        }

        #[test]
        fn rounding_toward_zero_never_exceeds_the_exact_value(
            units in 0i64..1_000_000_000, scale in 0u32..8,
        ) {
            let exact = Money::new(Decimal::new(units, scale), Currency::EUR);
            let rounded = exact.round(RoundingMode::TowardZero);
            prop_assert!(rounded.amount() <= exact.amount());
            prop_assert!(exact.amount() - rounded.amount() < Decimal::new(1, 2));
        }
    }
}
