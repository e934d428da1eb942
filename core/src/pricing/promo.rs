//! Promo codes: a discount a guest unlocks by entering a code.
//!
//! Owns [`Promo`] (the definition the host stores), [`PromoRedemption`]
//! (a code entered for one quote, with the promo and its uses so far) and
//! the applicability checks. Must never count uses itself: the engine
//! passes the current count and records a use when a booking is confirmed.
//!
//! # When a code applies
//!
//! Checked in this order; the first that fails is the
//! `PROMO_NOT_APPLICABLE` reason:
//!
//! 1. the entered code equals the promo's code, ignoring case and
//!    surrounding spaces;
//! 2. the usage limit is not reached ([`UsageLimit`]);
//! 3. the booking date is in the booking window, if there is one;
//! 4. every night of the stay (or the slot's local date) is in the stay
//!    window, if there is one;
//! 5. the stay has at least `min_nights` nights, if set (a slot counts as
//!    one night).
//!
//! A fixed discount in another currency than the plan's is
//! `CURRENCY_MISMATCH`.
//!
//! # Amount
//!
//! A promo discounts the accommodation after any length-of-stay discount,
//! never fees or taxes: a percentage of it rounded once with the plan's
//! rounding mode, or a fixed amount per quote; either clamped so the
//! accommodation never goes below zero. A quote prices one item (one
//! unit's stay, or one session): an engine booking of three rooms with a
//! fixed promo takes the amount off each room, and counts one use of the
//! code.

use std::fmt;
use std::num::NonZeroU32;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::request::PricedItem;
use super::values::{DateRange, Price, clamp_discount, same_currency};
use crate::error::{Error, Result};
use crate::money::Percentage;
use crate::money::{Currency, Money, RoundingMode};

/// A promo code as the host defines it: 1 to 32 characters of `A-Z`,
/// `0-9`, `-` and `_`, kept in upper case (codes match case-insensitively).
///
/// ```
/// use reservo::pricing::PromoCode;
/// assert_eq!(PromoCode::new("summer-10").unwrap().as_str(), "SUMMER-10");
/// assert_eq!(PromoCode::new("10% OFF").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PromoCode(String);

impl PromoCode {
    /// Validates a code and puts it in upper case.
    pub fn new(code: &str) -> Result<PromoCode> {
        let ok = (1..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(Error::invalid(
                "promo_code",
                format!("{code:?} is not a valid promo code: use 1-32 characters of A-Z 0-9 - _"),
            ));
        }
        Ok(PromoCode(code.to_ascii_uppercase()))
    }

    /// The code, in upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `entered` is this code, ignoring case and surrounding spaces.
    pub fn matches(&self, entered: &str) -> bool {
        entered.trim().eq_ignore_ascii_case(&self.0)
    }
}

impl fmt::Display for PromoCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PromoCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        PromoCode::new(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// What a promo takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromoDiscount {
    /// A percentage of the accommodation: `{"percent": "10"}`.
    Percent(Percentage),
    /// A fixed amount off each item's accommodation (see the module docs):
    /// `{"fixed": {"amount": "20.00", "currency": "EUR"}}`.
    Fixed(Price),
}

/// How many bookings may use a promo.
///
/// The count the engine passes ([`PromoRedemption::uses`]) is the number of
/// confirmed bookings that used the code, not counting the one being
/// quoted. A code with `MaxUses(n)` applies while that count is below `n`,
/// so exactly `n` bookings can use it. The engine re-checks with the count
/// read in the same commit that confirms the booking and records the use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageLimit {
    /// Any number of bookings (`"unlimited"`). The default.
    #[default]
    Unlimited,
    /// At most this many bookings (`{"max_uses": 100}`).
    MaxUses(NonZeroU32),
}

impl UsageLimit {
    /// Whether one more booking may use the code after `uses` did.
    ///
    /// ```
    /// use reservo::pricing::UsageLimit;
    /// let limit = UsageLimit::MaxUses(3.try_into().unwrap());
    /// assert!(limit.allows(2));
    /// assert!(!limit.allows(3));
    /// assert!(UsageLimit::Unlimited.allows(u32::MAX));
    /// ```
    pub fn allows(self, uses: u32) -> bool {
        match self {
            UsageLimit::Unlimited => true,
            UsageLimit::MaxUses(max) => uses < max.get(),
        }
    }
}

impl fmt::Display for UsageLimit {
    /// `unlimited` or `100 uses`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageLimit::Unlimited => f.write_str("unlimited"),
            UsageLimit::MaxUses(max) => write!(f, "{max} uses"),
        }
    }
}

/// A promo as the host defines and stores it.
///
/// ```
/// use reservo::pricing::{Percentage, Promo, PromoCode, PromoDiscount, UsageLimit};
/// let promo = Promo {
///     code: PromoCode::new("SPRING").unwrap(),
///     discount: PromoDiscount::Percent(Percentage::parse("5").unwrap()),
///     booking_window: None,
///     stay_window: None,
///     usage_limit: UsageLimit::MaxUses(100.try_into().unwrap()),
///     min_nights: None,
/// };
/// let json = serde_json::to_string(&promo).unwrap();
/// assert_eq!(serde_json::from_str::<Promo>(&json).unwrap(), promo);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promo {
    /// The code guests enter.
    pub code: PromoCode,
    /// What it takes off.
    pub discount: PromoDiscount,
    /// Dates (venue-local) on which bookings may use it; none: any date.
    #[serde(default)]
    pub booking_window: Option<DateRange>,
    /// Dates every night of the stay (or the slot's date) must fall in;
    /// none: any date.
    #[serde(default)]
    pub stay_window: Option<DateRange>,
    /// How many bookings may use it.
    #[serde(default)]
    pub usage_limit: UsageLimit,
    /// Fewest nights a stay needs; none: any length.
    #[serde(default)]
    pub min_nights: Option<NonZeroU32>,
}

impl Promo {
    /// The discount on `accommodation` (see the module docs), rounded and
    /// clamped to it.
    pub(crate) fn amount(
        &self,
        accommodation: Decimal,
        currency: Currency,
        mode: RoundingMode,
    ) -> Decimal {
        let raw = match &self.discount {
            PromoDiscount::Percent(p) => p
                .of_money(Money::new(accommodation, currency), mode)
                .amount(),
            PromoDiscount::Fixed(price) => price.amount(),
        };
        clamp_discount(raw, accommodation)
    }
}

/// A code entered for one quote, with the promo the engine found for it
/// and how many bookings have used it so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoRedemption {
    /// The code as the guest entered it.
    pub code: String,
    /// The promo it names.
    pub promo: Promo,
    /// Confirmed bookings that used it so far (see [`UsageLimit`]).
    pub uses: u32,
}

impl PromoRedemption {
    /// Checks that the code applies to `item` booked on `booking_date` in a
    /// plan of `currency`, with the reasons and order of the module docs.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use reservo::money::Currency;
    /// use reservo::pricing::{Percentage, PricedItem, Promo, PromoCode, PromoDiscount, PromoRedemption, UsageLimit};
    /// use reservo::time::Stay;
    /// let d = |day| NaiveDate::from_ymd_opt(2026, 5, day).unwrap();
    /// let redemption = PromoRedemption {
    ///     code: "welcome".into(),
    ///     promo: Promo {
    ///         code: PromoCode::new("WELCOME").unwrap(),
    ///         discount: PromoDiscount::Percent(Percentage::parse("10").unwrap()),
    ///         booking_window: None,
    ///         stay_window: None,
    ///         usage_limit: UsageLimit::MaxUses(1.try_into().unwrap()),
    ///         min_nights: Some(2.try_into().unwrap()),
    ///     },
    ///     uses: 0,
    /// };
    /// let two_nights = PricedItem::Stay(Stay::new(d(10), d(12)).unwrap());
    /// assert!(redemption.check(Currency::EUR, &two_nights, d(1)).is_ok());
    /// let one_night = PricedItem::Stay(Stay::new(d(10), d(11)).unwrap());
    /// let err = redemption.check(Currency::EUR, &one_night, d(1)).unwrap_err();
    /// assert_eq!(err.code(), "PROMO_NOT_APPLICABLE");
    /// assert!(err.to_string().contains("at least 2 nights"));
    /// ```
    pub fn check(
        &self,
        currency: Currency,
        item: &PricedItem,
        booking_date: NaiveDate,
    ) -> Result<()> {
        let promo = &self.promo;
        let refuse = |reason: String| Error::PromoNotApplicable {
            code: self.code.clone(),
            reason,
        };
        if !promo.code.matches(&self.code) {
            return Err(refuse(format!("the promo given for it is {}", promo.code)));
        }
        if !promo.usage_limit.allows(self.uses) {
            return Err(refuse(format!(
                "its usage limit of {} is reached ({} used)",
                promo.usage_limit, self.uses
            )));
        }
        if let Some(window) = promo
            .booking_window
            .filter(|window| !window.contains(booking_date))
        {
            return Err(refuse(format!(
                "bookings made on {booking_date} are outside its booking window {window}"
            )));
        }
        let (first, last) = (item.first_date(), item.last_date());
        if let Some(window) = promo
            .stay_window
            .filter(|window| !window.covers(first, last))
        {
            return Err(refuse(format!(
                "the dates {first} to {last} are not all inside its stay window {window}"
            )));
        }
        if let Some(min) = promo.min_nights.filter(|min| item.nights() < min.get()) {
            return Err(refuse(format!(
                "it needs at least {min} nights, the booking has {}",
                item.nights()
            )));
        }
        if let PromoDiscount::Fixed(price) = &promo.discount {
            same_currency(currency, price)?;
        }
        Ok(())
    }
}
