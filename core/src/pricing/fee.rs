//! Fees: cleaning, linen, resort or booking fees added to the accommodation.
//!
//! Owns [`Fee`] and [`FeeBasis`]: what a fee costs and how many times it
//! is charged. Must never be discounted (length-of-stay tiers and promos
//! take money off the accommodation only) and never depends on other fees.

use serde::{Deserialize, Serialize};

use super::values::{Price, RuleId, same_currency};
use crate::error::Result;
use crate::ids::validate_name;
use crate::money::Currency;

/// How many times a fee is charged.
///
/// "Guests" are everyone in the party, children and infants included.
/// For a per-slot plan, a slot counts as one night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeBasis {
    /// Once per booking (a cleaning fee).
    PerBooking,
    /// Once per night (a resort fee).
    PerNight,
    /// Once per guest for the whole booking (linen).
    PerGuest,
    /// Once per guest per night (a per-person tourist levy).
    PerGuestPerNight,
}

impl FeeBasis {
    /// How many times the fee is charged for `nights` nights and `guests` guests.
    ///
    /// ```
    /// use reservo::pricing::FeeBasis;
    /// assert_eq!(FeeBasis::PerBooking.quantity(7, 3), 1);
    /// assert_eq!(FeeBasis::PerGuestPerNight.quantity(7, 3), 21);
    /// ```
    pub fn quantity(self, nights: u32, guests: u32) -> u32 {
        match self {
            FeeBasis::PerBooking => 1,
            FeeBasis::PerNight => nights,
            FeeBasis::PerGuest => guests,
            // Bounded by Stay::MAX_NIGHTS x Party::MAX_SIZE, far below u32::MAX.
            FeeBasis::PerGuestPerNight => nights * guests,
        }
    }
}

/// A fee of a rate plan.
///
/// ```
/// use reservo::pricing::{Fee, FeeBasis, Price, RuleId};
/// let cleaning = Fee {
///     id: RuleId::new("cleaning").unwrap(),
///     name: "Cleaning".into(),
///     amount: Price::parse("60.00", "EUR").unwrap(),
///     basis: FeeBasis::PerBooking,
///     taxable: true,
/// };
/// assert!(cleaning.taxable);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// The fee's id, named in its quote line.
    pub id: RuleId,
    /// Its name for people ("Cleaning").
    pub name: String,
    /// The amount charged each time.
    pub amount: Price,
    /// How many times it is charged.
    pub basis: FeeBasis,
    /// Whether taxes on fees apply to it (see [`super::TaxBase`]).
    pub taxable: bool,
}

impl Fee {
    /// Checks the fee's name, and that its amount is in the plan's `currency`.
    pub(crate) fn validate(&self, currency: Currency) -> Result<()> {
        validate_name("fees.name", &self.name)?;
        same_currency(currency, &self.amount)
    }
}
