//! Money: an exact decimal amount in one ISO 4217 currency.
//!
//! Owns currencies and their minor units, arithmetic that refuses to mix
//! currencies, explicit rounding to the minor unit, and exact allocation of
//! a total into parts. Must never use floating point, and never round
//! implicitly: intermediate amounts keep full precision until the caller
//! rounds them with a named [`RoundingMode`].

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// ISO 4217 codes Reservo knows. Every code has two minor units unless it is
/// listed in [`MINOR_UNIT_EXCEPTIONS`].
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD \
BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK \
DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR \
ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD \
MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB \
PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN \
SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND \
VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// Currencies whose minor unit is not 1/100, with their number of decimals.
const MINOR_UNIT_EXCEPTIONS: &[(&str, u8)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

/// An ISO 4217 currency with its number of minor-unit decimals.
///
/// ```
/// use reservo::money::Currency;
/// let jpy = Currency::from_code("JPY").unwrap();
/// assert_eq!(jpy.minor_units(), 0);
/// assert_eq!(Currency::from_code("eur").unwrap().code(), "EUR");
/// assert_eq!(Currency::from_code("XYZ").unwrap_err().code(), "UNKNOWN_CURRENCY");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency::known(*b"EUR", 2);
    /// US dollar.
    pub const USD: Currency = Currency::known(*b"USD", 2);
    /// Pound sterling.
    pub const GBP: Currency = Currency::known(*b"GBP", 2);
    /// Japanese yen.
    pub const JPY: Currency = Currency::known(*b"JPY", 0);

    const fn known(code: [u8; 3], minor_units: u8) -> Currency {
        Currency { code, minor_units }
    }

    /// Looks up an ISO 4217 code, case-insensitively.
    pub fn from_code(code: &str) -> Result<Currency> {
        let unknown = || Error::UnknownCurrency {
            code: code.to_owned(),
        };
        // Records carry a currency in every amount: decoding one must not
        // allocate nor walk the list of codes (a binary search of it).
        let trimmed = code.trim().as_bytes();
        let [a, b, c] = trimmed else {
            return Err(unknown());
        };
        let upper = [
            a.to_ascii_uppercase(),
            b.to_ascii_uppercase(),
            c.to_ascii_uppercase(),
        ];
        let list = ISO_4217.as_bytes();
        let count = list.len().div_ceil(4);
        let nth = |i: usize| &list[i * 4..i * 4 + 3];
        let (mut low, mut high) = (0, count);
        let mut found = false;
        while low < high {
            let mid = (low + high) / 2;
            match nth(mid).cmp(&upper[..]) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => {
                    found = true;
                    break;
                }
            }
        }
        if !found {
            return Err(unknown());
        }
        let minor_units = MINOR_UNIT_EXCEPTIONS
            .iter()
            .find(|(c, _)| c.as_bytes() == upper)
            .map_or(2, |(_, n)| *n);
        Ok(Currency {
            code: upper,
            minor_units,
        })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    /// Number of decimals of the minor unit (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Currency> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Code;
        impl serde::de::Visitor<'_> for Code {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ISO 4217 currency code")
            }
            fn visit_str<E: serde::de::Error>(
                self,
                code: &str,
            ) -> std::result::Result<Currency, E> {
                Currency::from_code(code).map_err(E::custom)
            }
        }
        d.deserialize_str(Code)
    }
}

/// How to round an amount to its currency's minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Ties go to the even neighbour (banker's rounding). The default: it
    /// does not drift over many roundings.
    #[default]
    HalfEven,
    /// Ties go away from zero (what most people learn at school).
    HalfUp,
    /// Always toward zero: a rounded refund is never more than the exact one.
    TowardZero,
    /// Always toward negative infinity.
    Floor,
    /// Always toward positive infinity.
    Ceiling,
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::TowardZero => RoundingStrategy::ToZero,
            RoundingMode::Floor => RoundingStrategy::ToNegativeInfinity,
            RoundingMode::Ceiling => RoundingStrategy::ToPositiveInfinity,
        }
    }
}

/// An exact amount of one currency.
///
/// Arithmetic between two `Money` values checks the currencies; the result
/// keeps full precision until [`Money::round`] is called.
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
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// An amount of `currency`, kept exactly as given.
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero of `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::ZERO, currency)
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

    /// `self + other`, refusing different currencies.
    pub fn checked_add(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        Ok(Money::new(self.amount + other.amount, self.currency))
    }

    /// `self - other`, refusing different currencies.
    pub fn checked_sub(&self, other: &Money) -> Result<Money> {
        self.same_currency(other)?;
        Ok(Money::new(self.amount - other.amount, self.currency))
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
    pub fn times(&self, factor: Decimal) -> Money {
        Money::new(self.amount * factor, self.currency)
    }

    /// `percent`% of `self`, unrounded.
    pub fn percent(&self, percent: Decimal) -> Money {
        Money::new(self.amount * percent / Decimal::ONE_HUNDRED, self.currency)
    }

    /// The amount negated.
    pub fn negated(&self) -> Money {
        Money::new(-self.amount, self.currency)
    }

    /// Rounded to the currency's minor unit with `mode`.
    pub fn round(&self, mode: RoundingMode) -> Money {
        let amount = self
            .amount
            .round_dp_with_strategy(self.currency.minor_units(), mode.strategy());
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
        let scaled = self.amount * Decimal::from(10i64.pow(self.currency.minor_units()));
        i64::try_from(scaled.trunc())
            .map_err(|_| Error::invalid("amount", format!("{self} is too large")))
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
    /// The amount must already be rounded to the minor unit; weights must be
    /// non-negative and not all zero.
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
        let total_weight: Decimal = weights.iter().sum();
        if total_weight.is_zero() {
            return Err(Error::invalid("weights", "weights sum to zero"));
        }
        let total_minor = self.to_minor()?;
        let magnitude = Decimal::from(total_minor.unsigned_abs());
        let mut parts = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        let mut given: u64 = 0;
        for (index, weight) in weights.iter().enumerate() {
            let exact = magnitude * *weight / total_weight;
            let floor = exact.trunc();
            let floor_units = u64::try_from(floor).expect("a share never exceeds the total");
            given += floor_units;
            parts.push(floor_units);
            remainders.push((exact - floor, index));
        }
        let mut left = total_minor.unsigned_abs() - given;
        // Largest remainder first; among equal remainders the earlier part.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders {
            if left == 0 {
                break;
            }
            parts[index] += 1;
            left -= 1;
        }
        let sign: i64 = if total_minor < 0 { -1 } else { 1 };
        Ok(parts
            .into_iter()
            .map(|units| {
                let units = i64::try_from(units).expect("parts fit the total") * sign;
                Money::from_minor(units, self.currency)
            })
            .collect())
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
        let mut amount = self.amount;
        if amount.scale() < self.currency.minor_units() {
            amount.rescale(self.currency.minor_units());
        }
        write!(f, "{amount} {}", self.currency)
    }
}

/// A percentage in `0..=100`, kept as an exact decimal: a discount, a tax
/// rate, a penalty, a commission. The one way Reservo states a share.
///
/// Serialized as a decimal string (`"12.5"` is 12.5 %); deserializing checks
/// the range.
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

    /// This percentage of `amount`, exact (unrounded).
    pub fn of(self, amount: &Money) -> Money {
        amount.percent(self.0)
    }

    /// This percentage of `amount`, rounded to the minor unit with `mode`.
    pub fn of_money(self, amount: Money, mode: RoundingMode) -> Money {
        amount.percent(self.0).round(mode)
    }
}

impl fmt::Display for Percentage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl<'de> Deserialize<'de> for Percentage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Percentage::new(<Decimal as Deserialize>::deserialize(d)?).map_err(serde::de::Error::custom)
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
    fn every_listed_code_is_found_and_others_are_not() {
        // `from_code` binary-searches the list: it must stay sorted, with
        // codes of three letters one space apart.
        let codes: Vec<&str> = ISO_4217.split(' ').collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1] && w[1].len() == 3));
        for code in &codes {
            assert_eq!(Currency::from_code(code).unwrap().code(), *code);
        }
        for bad in ["", "EU", "EURO", "AAA", "ZZZ", "E R"] {
            assert_eq!(
                Currency::from_code(bad).unwrap_err().code(),
                "UNKNOWN_CURRENCY"
            );
        }
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
    fn display_pads_to_the_minor_unit() {
        assert_eq!(eur("12.3").to_string(), "12.30 EUR");
        assert_eq!(eur("12.345").to_string(), "12.345 EUR");
        assert_eq!(Money::parse("1500", "JPY").unwrap().to_string(), "1500 JPY");
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
