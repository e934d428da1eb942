//! Fees: cleaning, linen, resort or booking fees added to the accommodation.
//!
//! Owns [`Fee`] and [`FeeBasis`]: what a fee costs, how many times it is
//! charged and whether a cancellation may refund it. Must never be
//! discounted (length-of-stay tiers and promos
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
///     refundable: true,
/// };
/// assert!(cleaning.taxable);
/// // A service fee the property keeps whatever the cancellation policy says.
/// let service: Fee = serde_json::from_str(r#"{"id": "service", "name": "Service",
///     "amount": {"amount": "20.00", "currency": "EUR"}, "basis": "per_booking",
///     "taxable": false, "refundable": false}"#).unwrap();
/// assert!(!service.refundable);
/// // Without the flag a fee is refundable, and the flag is then not written.
/// assert!(!serde_json::to_string(&cleaning).unwrap().contains("refundable"));
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
    /// Whether a cancellation may refund it (`true`, the default when
    /// absent). A non-refundable fee's quote line is marked so
    /// ([`super::QuoteLine::refundable`]), and a cancellation keeps that
    /// line's amount whatever the policy refunds: it is part of the
    /// non-refundable amount of [`crate::policy::BookingFacts`]. So are the
    /// exclusive taxes charged on the fee ([`super::Quote::non_refundable_taxes`]),
    /// which the host still owes on a fee it keeps; inclusive taxes are
    /// inside the fee's amount already.
    #[serde(default = "refundable_default", skip_serializing_if = "is_refundable")]
    pub refundable: bool,
}

/// A fee or quote line without the flag is refundable.
pub(super) fn refundable_default() -> bool {
    true
}

/// The flag is written only when it is `false`, so plans and quotes
/// stored before it existed keep their bytes.
pub(super) fn is_refundable(refundable: &bool) -> bool {
    *refundable
}

impl Fee {
    /// Checks the fee's name, and that its amount is in the plan's `currency`.
    pub(crate) fn validate(&self, currency: Currency) -> Result<()> {
        validate_name("fees.name", &self.name)?;
        same_currency(currency, &self.amount)
    }
}
