//! Phone numbers in E.164 form, the only form an [`SmsSender`] is given.
//!
//! Owns the check that a recipient is `+`, a country code and subscriber
//! number: 8 to 15 digits in all, the first not `0` — the rule of
//! [`validate_e164`], so the notifier texts exactly the numbers a booking
//! or property may carry. Must never guess: a national number, spaces or
//! punctuation are refused, not repaired.
//!
//! [`validate_e164`]: crate::booking::validate_e164
//!
//! [`SmsSender`]: crate::ports::SmsSender

use std::fmt;

use crate::error::Result;

/// A phone number in E.164 form, such as `+14155550100`.
///
/// ```
/// use reservo::notify::PhoneNumber;
/// assert_eq!(PhoneNumber::parse("+351912345678").unwrap().as_str(), "+351912345678");
/// for bad in ["351912345678", "+0912", "+4412", "+1 415 555 0100", "+1234567890123456", "+"] {
///     assert_eq!(PhoneNumber::parse(bad).unwrap_err().code(), "INVALID_INPUT");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Checks that `number` is E.164: `+`, then 8 to 15 digits, the first
    /// from 1 to 9.
    pub fn parse(number: &str) -> Result<PhoneNumber> {
        crate::booking::validate_e164(number)?;
        Ok(PhoneNumber(number.to_owned()))
    }

    /// The number as text, `+` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
