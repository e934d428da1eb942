//! Occupancy pricing: what a party pays beyond the guests the rate includes.
//!
//! Owns [`Occupancy`] and [`ChildBand`], and the rule that decides which
//! guests the included occupancy covers. Must never look at anything but
//! the party's counts and ages (no names, no personal data).
//!
//! # Who pays what
//!
//! * A child whose age falls in a [`ChildBand`] pays that band's price (zero
//!   makes the band free, e.g. infants 0-2); a child in no band is priced
//!   as an adult (so "12-17 as adult" needs no band).
//! * The rate includes `included_guests` guests. They are the party's most
//!   expensive guests: guests are ordered by their extra price, highest
//!   first (adults before children on equal prices, then older bands
//!   first), and the first `included_guests` pay nothing extra. This is
//!   the order that favours the guest, and it is the same whatever the
//!   order of ages in the party.
//! * Every other guest pays their price per unit: per night of a stay, or
//!   once for a slot.
//! * No `extra_adult` price means extra adults pay nothing.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::values::{Price, RuleId, same_currency};
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::party::Party;

/// The rule id that extra-adult quote lines name.
pub const EXTRA_ADULT_RULE: &str = "extra_adult";

/// Children's oldest age (a guest of 18 is an adult).
const MAX_CHILD_AGE: u8 = 17;
/// Ages 0 to 17.
const CHILD_AGES: usize = MAX_CHILD_AGE as usize + 1;

/// A price for children of an age band, per unit (night or slot).
///
/// ```
/// use reservo::pricing::{ChildBand, Price, RuleId};
/// let kids = ChildBand {
///     id: RuleId::new("child-3-11").unwrap(),
///     min_age: 3,
///     max_age: 11,
///     price: Price::parse("15.00", "EUR").unwrap(),
/// };
/// assert!(kids.includes(7) && !kids.includes(12));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildBand {
    /// The band's id, named in its quote lines.
    pub id: RuleId,
    /// Youngest age in the band (0-17).
    pub min_age: u8,
    /// Oldest age in the band (`min_age`-17).
    pub max_age: u8,
    /// Price per child per unit; zero for a free band.
    pub price: Price,
}

impl ChildBand {
    /// Whether a child of `age` is in this band.
    pub fn includes(&self, age: u8) -> bool {
        self.min_age <= age && age <= self.max_age
    }
}

/// Occupancy pricing of a rate plan (see the module docs).
///
/// ```
/// use reservo::pricing::{ChildBand, Occupancy, Price, RuleId};
/// let eur = |a: &str| Price::parse(a, "EUR").unwrap();
/// let occupancy = Occupancy {
///     included_guests: 2,
///     extra_adult: Some(eur("25.00")),
///     child_bands: vec![
///         ChildBand { id: RuleId::new("infant").unwrap(), min_age: 0, max_age: 2, price: eur("0") },
///         ChildBand { id: RuleId::new("child").unwrap(), min_age: 3, max_age: 11, price: eur("15.00") },
///     ],
/// };
/// assert_eq!(occupancy.included_guests, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Occupancy {
    /// Guests the rate includes (at least 1).
    pub included_guests: u32,
    /// Price per extra adult per unit (night or slot); none: extra adults are free.
    #[serde(default)]
    pub extra_adult: Option<Price>,
    /// Children's prices by age band; bands may not overlap.
    #[serde(default)]
    pub child_bands: Vec<ChildBand>,
}

/// Which occupancy rule charges a group of guests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuestGroup {
    /// Adults, and children in no band.
    Adults,
    /// Children in `child_bands[i]`.
    Band(usize),
}

/// Extra guests of one group a party pays for, per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExtraGuests {
    /// Whose price applies.
    pub(crate) group: GuestGroup,
    /// Guests charged.
    pub(crate) guests: u32,
    /// Price per guest per unit.
    pub(crate) price: Decimal,
}

/// An [`Occupancy`], compiled for pricing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OccupancyTable {
    /// The band of each child age, if any.
    band_of_age: [Option<usize>; CHILD_AGES],
    /// The groups in the order the included occupancy covers them.
    cover_order: Vec<GuestGroup>,
    /// The groups in the order quote lines show them: adults, then bands
    /// by age, youngest first.
    display_order: Vec<GuestGroup>,
}

impl OccupancyTable {
    /// Validates `occupancy` against the plan's `currency` and compiles it.
    pub(crate) fn new(currency: Currency, occupancy: &Occupancy) -> Result<OccupancyTable> {
        if occupancy.included_guests == 0 {
            return Err(Error::invalid(
                "occupancy.included_guests",
                "a rate includes at least 1 guest, got 0",
            ));
        }
        if let Some(price) = &occupancy.extra_adult {
            same_currency(currency, price)?;
        }
        let mut band_of_age = [None; CHILD_AGES];
        for (index, band) in occupancy.child_bands.iter().enumerate() {
            same_currency(currency, &band.price)?;
            if band.min_age > band.max_age || band.max_age > MAX_CHILD_AGE {
                return Err(Error::invalid(
                    "occupancy.child_bands",
                    format!(
                        "band {} covers ages {}-{}; bands need 0 <= min_age <= max_age <= {MAX_CHILD_AGE}",
                        band.id, band.min_age, band.max_age
                    ),
                ));
            }
            for age in band.min_age..=band.max_age {
                let slot = &mut band_of_age[usize::from(age)];
                if let Some(other) = *slot {
                    let other: &ChildBand = &occupancy.child_bands[other];
                    return Err(Error::invalid(
                        "occupancy.child_bands",
                        format!("bands {} and {} both cover age {age}", other.id, band.id),
                    ));
                }
                *slot = Some(index);
            }
        }
        let price_of = |group: &GuestGroup| match group {
            GuestGroup::Adults => occupancy
                .extra_adult
                .map_or(Decimal::ZERO, |price| price.amount()),
            GuestGroup::Band(i) => occupancy.child_bands[*i].price.amount(),
        };
        let min_age_of = |group: &GuestGroup| match group {
            GuestGroup::Adults => None,
            GuestGroup::Band(i) => Some(occupancy.child_bands[*i].min_age),
        };
        let mut display_order: Vec<GuestGroup> = std::iter::once(GuestGroup::Adults)
            .chain((0..occupancy.child_bands.len()).map(GuestGroup::Band))
            .collect();
        display_order.sort_by_key(min_age_of); // `None` (adults) sorts first
        let mut cover_order = display_order.clone();
        // Highest price first; on equal prices adults, then older bands.
        cover_order.sort_by(|a, b| {
            price_of(b).cmp(&price_of(a)).then(
                min_age_of(a)
                    .map(std::cmp::Reverse)
                    .cmp(&min_age_of(b).map(std::cmp::Reverse)),
            )
        });
        Ok(OccupancyTable {
            band_of_age,
            cover_order,
            display_order,
        })
    }

    /// The extra guests `party` pays for, by group in display order; groups
    /// with nobody to charge or a zero price are left out.
    pub(crate) fn extra_guests<'a>(
        &'a self,
        occupancy: &'a Occupancy,
        party: &Party,
    ) -> impl Iterator<Item = ExtraGuests> + 'a {
        // counts[0]: adults; counts[1 + i]: children of band i.
        let mut counts = [0u32; CHILD_AGES + 1];
        counts[0] = party.adult_count();
        for &age in party.children_ages() {
            match self.band_of_age.get(usize::from(age)).copied().flatten() {
                Some(band) => counts[1 + band] += 1,
                None => counts[0] += 1,
            }
        }
        let slot = |group: &GuestGroup| match group {
            GuestGroup::Adults => 0,
            GuestGroup::Band(i) => 1 + i,
        };
        let mut left_included = occupancy.included_guests;
        for group in &self.cover_order {
            let covered = counts[slot(group)].min(left_included);
            counts[slot(group)] -= covered;
            left_included -= covered;
        }
        self.display_order.iter().filter_map(move |group| {
            let price = match group {
                GuestGroup::Adults => occupancy.extra_adult?.amount(),
                GuestGroup::Band(i) => occupancy.child_bands[*i].price.amount(),
            };
            let guests = counts[slot(group)];
            (guests > 0 && price > Decimal::ZERO).then_some(ExtraGuests {
                group: *group,
                guests,
                price,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn eur(a: &str) -> Price {
        Price::parse(a, "EUR").unwrap()
    }

    fn band(id: &str, min: u8, max: u8, price: &str) -> ChildBand {
        ChildBand {
            id: RuleId::new(id).unwrap(),
            min_age: min,
            max_age: max,
            price: eur(price),
        }
    }

    fn family_plan() -> Occupancy {
        Occupancy {
            included_guests: 2,
            extra_adult: Some(eur("25")),
            child_bands: vec![band("child", 3, 11, "15"), band("infant", 0, 2, "0")],
        }
    }

    fn extras(
        occupancy: &Occupancy,
        adults: u32,
        ages: Vec<u8>,
    ) -> Vec<(GuestGroup, u32, Decimal)> {
        let table = OccupancyTable::new(Currency::EUR, occupancy).unwrap();
        let party = Party::new(adults, ages).unwrap();
        table
            .extra_guests(occupancy, &party)
            .map(|e| (e.group, e.guests, e.price))
            .collect()
    }

    #[test]
    fn included_guests_cover_the_most_expensive_first() {
        let plan = family_plan();
        // 1 adult, a 7-year-old, a baby: adult and child are included, baby free.
        assert_eq!(extras(&plan, 1, vec![1, 7]), vec![]);
        // 3 adults and a 7-year-old: one adult and the child pay.
        assert_eq!(
            extras(&plan, 3, vec![7]),
            vec![
                (GuestGroup::Adults, 1, dec!(25)),
                (GuestGroup::Band(0), 1, dec!(15))
            ]
        );
        // a 14-year-old is in no band: priced as an adult.
        assert_eq!(
            extras(&plan, 2, vec![14]),
            vec![(GuestGroup::Adults, 1, dec!(25))]
        );
    }

    #[test]
    fn overlapping_or_adult_bands_are_refused() {
        let mut plan = family_plan();
        plan.child_bands.push(band("teen", 11, 17, "20"));
        let err = OccupancyTable::new(Currency::EUR, &plan).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("age 11"), "{err}");
        let mut plan = family_plan();
        plan.child_bands = vec![band("old", 12, 18, "20")];
        assert_eq!(
            OccupancyTable::new(Currency::EUR, &plan)
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn prices_in_another_currency_are_refused() {
        let mut plan = family_plan();
        plan.extra_adult = Some(Price::parse("25", "USD").unwrap());
        assert_eq!(
            OccupancyTable::new(Currency::EUR, &plan)
                .unwrap_err()
                .code(),
            "CURRENCY_MISMATCH"
        );
    }
}
