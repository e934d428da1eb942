//! Reads a decimal from serde data without ever passing through a float.
//!
//! Owns the rule that an amount or a percentage arrives as a decimal string
//! (`"99.99"`) or an integer (`100`). A JSON number with a fraction or an
//! exponent reaches serde as an `f64`, which cannot hold most cents
//! exactly and keeps only ~15 digits, so it is refused with a hint instead
//! of being rounded without a word. Must never accept an `f64`.

use std::fmt;

use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, IntoDeserializer, Visitor};

/// A decimal from a string (read as `rust_decimal` reads one) or an
/// integer; a float is an error that says how to write the value instead.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(ExactDecimal)
}

struct ExactDecimal;

impl Visitor<'_> for ExactDecimal {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string such as \"12.50\", or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        <Decimal as serde::Deserialize>::deserialize(v.into_deserializer())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        Err(E::custom(format_args!(
            "the number {v} would be read as a float, which cannot hold most amounts \
             exactly: write it as a string (\"{v}\")"
        )))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Amount(#[serde(deserialize_with = "deserialize")] Decimal);

    fn read(json: &str) -> Result<Decimal, String> {
        serde_json::from_str::<Amount>(json)
            .map(|a| a.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn strings_and_integers_are_read_exactly() {
        assert_eq!(read(r#""99.99""#), Ok(dec!(99.99)));
        assert_eq!(read(r#""0.100""#).unwrap().to_string(), "0.100");
        assert_eq!(
            read(r#""12345678901234567.89""#),
            Ok(dec!(12345678901234567.89))
        );
        assert_eq!(read("100"), Ok(dec!(100)));
        assert_eq!(read("-7"), Ok(dec!(-7)));
        assert_eq!(read("18446744073709551615"), Ok(Decimal::from(u64::MAX)));
    }

    #[test]
    fn a_float_is_refused_with_a_hint() {
        let err = read("99.99").unwrap_err();
        assert!(
            err.starts_with(
                "the number 99.99 would be read as a float, which cannot hold most amounts \
                 exactly: write it as a string (\"99.99\")"
            ),
            "{err}"
        );
        assert!(read("1e3").unwrap_err().contains("float"));
        // Too large for 64 bits: serde_json hands it over as an f64.
        assert!(read("123456789012345678901").unwrap_err().contains("float"));
    }

    #[test]
    fn other_kinds_are_refused() {
        let err = read("true").unwrap_err();
        assert!(
            err.contains("expected a decimal string such as \"12.50\", or an integer"),
            "{err}"
        );
        assert!(read(r#""12,50""#).is_err());
        assert!(read("null").is_err());
    }
}
