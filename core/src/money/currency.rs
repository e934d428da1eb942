//! Currencies: ISO 4217 codes and their minor units, and how amounts are
//! rounded to them.
//!
//! Owns the table of codes and decimals. Must never guess a currency: an
//! unknown code is an error.

use std::fmt;
use std::str::FromStr;

use rust_decimal::RoundingStrategy;
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
    pub(crate) fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::TowardZero => RoundingStrategy::ToZero,
            RoundingMode::Floor => RoundingStrategy::ToNegativeInfinity,
            RoundingMode::Ceiling => RoundingStrategy::ToPositiveInfinity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// What a record or a host's JSON with a currency of the wrong kind
    /// or an unknown code is told.
    #[test]
    fn a_currency_decodes_from_a_known_code_only() {
        let eur: Currency = serde_json::from_str(r#""EUR""#).unwrap();
        assert_eq!(eur.code(), "EUR");
        let number = serde_json::from_str::<Currency>("978").unwrap_err();
        assert!(
            number
                .to_string()
                .contains("expected an ISO 4217 currency code"),
            "{number}"
        );
        let unknown = serde_json::from_str::<Currency>(r#""EURO""#).unwrap_err();
        assert!(unknown.to_string().contains("EURO"), "{unknown}");
    }
}
