//! Nightly (or per-slot) rates: the base price, weekday rates and seasons,
//! and the one precedence rule that picks a night's price.
//!
//! Owns [`Season`], [`WeekdayRate`] and the compiled lookup that resolves
//! a civil date to the rule that prices it. Must never depend on the order
//! rules are listed in: precedence is decided by dates and declared
//! priorities only, and a tie it cannot break is refused when the plan is
//! built.
//!
//! # Precedence
//!
//! For each night (or the slot's local date):
//!
//! 1. a [`Season`] whose dates contain the date wins; among several, the
//!    **narrowest** (fewest days) wins, then the **highest `priority`**.
//!    Two overlapping seasons of the same length and priority are refused
//!    with `INVALID_INPUT` when the plan is built;
//! 2. otherwise a [`WeekdayRate`] listing the date's weekday (a weekday may
//!    be listed by at most one weekday rate);
//! 3. otherwise the plan's base price.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::values::{DateRange, Price, RuleId, same_currency};
use crate::error::{Error, Result};
use crate::ids::validate_name;
use crate::money::Currency;
use crate::time::weekday_index;

/// A price for the nights of a date range ("Summer", "Christmas week").
///
/// ```
/// use reservo::pricing::{DateRange, Price, RuleId, Season};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let summer = Season {
///     id: RuleId::new("summer").unwrap(),
///     name: "Summer".into(),
///     dates: DateRange::new(d(7, 1), d(8, 31)).unwrap(),
///     price: Price::parse("150.00", "EUR").unwrap(),
///     priority: 0,
/// };
/// assert!(summer.dates.contains(d(7, 14)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Season {
    /// The season's id, named in its quote lines.
    pub id: RuleId,
    /// Its name for people ("Summer").
    pub name: String,
    /// The nights it prices (by the date each night starts), both ends included.
    pub dates: DateRange,
    /// The price of each of those nights (or of a slot on those dates).
    pub price: Price,
    /// Breaks ties between overlapping seasons of the same length: the
    /// higher priority wins. Default 0.
    #[serde(default)]
    pub priority: i32,
}

/// A price for nights that start on certain weekdays ("Weekend": Friday
/// and Saturday nights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekdayRate {
    /// The rate's id, named in its quote lines.
    pub id: RuleId,
    /// Its name for people ("Weekend").
    pub name: String,
    /// The weekdays it prices: the weekday a night starts on, or a slot's
    /// local weekday. Serialized as `"Mon"` ... `"Sun"`.
    pub weekdays: Vec<Weekday>,
    /// The price of each of those nights (or of a slot on those days).
    pub price: Price,
}

/// Which rule priced a night: what a quote's rate line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateSource {
    /// The plan's base price.
    Base,
    /// `weekday_rates[i]`.
    Weekday(usize),
    /// `seasons[i]`.
    Season(usize),
}

/// The rate rules of a plan, compiled for lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RateTable {
    /// Index into the weekday rates for each weekday (Monday first).
    by_weekday: [Option<usize>; 7],
    /// Indices of the seasons, highest precedence first.
    seasons_by_precedence: Vec<usize>,
}

impl RateTable {
    /// Validates the rate rules against the plan's `currency` and compiles
    /// their precedence.
    pub(crate) fn new(
        currency: Currency,
        weekday_rates: &[WeekdayRate],
        seasons: &[Season],
    ) -> Result<RateTable> {
        let mut by_weekday = [None; 7];
        for (index, rate) in weekday_rates.iter().enumerate() {
            validate_name("weekday_rates.name", &rate.name)?;
            same_currency(currency, &rate.price)?;
            if rate.weekdays.is_empty() {
                return Err(Error::invalid(
                    "weekday_rates.weekdays",
                    format!("weekday rate {} lists no weekday", rate.id),
                ));
            }
            for day in &rate.weekdays {
                let slot = &mut by_weekday[day.num_days_from_monday() as usize];
                if let Some(other) = *slot {
                    let other: &WeekdayRate = &weekday_rates[other];
                    return Err(Error::invalid(
                        "weekday_rates.weekdays",
                        format!(
                            "{day} is listed by weekday rate {} and by {}; a weekday may have one rate",
                            other.id, rate.id
                        ),
                    ));
                }
                *slot = Some(index);
            }
        }
        for season in seasons {
            validate_name("seasons.name", &season.name)?;
            same_currency(currency, &season.price)?;
        }
        for (i, a) in seasons.iter().enumerate() {
            for b in &seasons[i + 1..] {
                if a.dates.overlaps(&b.dates)
                    && a.dates.days() == b.dates.days()
                    && a.priority == b.priority
                {
                    return Err(Error::invalid(
                        "seasons",
                        format!(
                            "seasons {} and {} overlap with the same length ({} days) and priority ({}); \
                             give one a higher priority",
                            a.id,
                            b.id,
                            a.dates.days(),
                            a.priority
                        ),
                    ));
                }
            }
        }
        let mut seasons_by_precedence: Vec<usize> = (0..seasons.len()).collect();
        // Narrowest first, then highest priority, then earliest start: the
        // last key only orders seasons that never overlap, so it never
        // decides a price.
        seasons_by_precedence.sort_by(|&a, &b| {
            let (a, b) = (&seasons[a], &seasons[b]);
            a.dates
                .days()
                .cmp(&b.dates.days())
                .then(b.priority.cmp(&a.priority))
                .then(a.dates.first().cmp(&b.dates.first()))
        });
        Ok(RateTable {
            by_weekday,
            seasons_by_precedence,
        })
    }

    /// The rule that prices `date` (see the module docs for precedence).
    pub(crate) fn source(&self, seasons: &[Season], date: NaiveDate) -> RateSource {
        for &index in &self.seasons_by_precedence {
            if seasons[index].dates.contains(date) {
                return RateSource::Season(index);
            }
        }
        match self.by_weekday[usize::from(weekday_index(date))] {
            Some(index) => RateSource::Weekday(index),
            None => RateSource::Base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn season(id: &str, first: NaiveDate, last: NaiveDate, priority: i32) -> Season {
        Season {
            id: RuleId::new(id).unwrap(),
            name: id.into(),
            dates: DateRange::new(first, last).unwrap(),
            price: Price::parse("1", "EUR").unwrap(),
            priority,
        }
    }

    #[test]
    fn narrowest_season_wins_regardless_of_list_order() {
        let wide = season("summer", d(6, 1), d(8, 31), 5);
        let narrow = season("festival", d(7, 10), d(7, 12), 0);
        for seasons in [
            vec![wide.clone(), narrow.clone()],
            vec![narrow.clone(), wide.clone()],
        ] {
            let table = RateTable::new(Currency::EUR, &[], &seasons).unwrap();
            let RateSource::Season(i) = table.source(&seasons, d(7, 11)) else {
                panic!("a season covers the date");
            };
            assert_eq!(seasons[i].id.as_str(), "festival");
        }
    }

    #[test]
    fn same_length_overlapping_seasons_need_distinct_priorities() {
        let a = season("a", d(7, 1), d(7, 10), 0);
        let b = season("b", d(7, 5), d(7, 14), 0);
        let err = RateTable::new(Currency::EUR, &[], &[a.clone(), b.clone()]).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("a and b"), "{err}");
        let b = Season { priority: 1, ..b };
        let seasons = [a, b];
        let table = RateTable::new(Currency::EUR, &[], &seasons).unwrap();
        assert_eq!(table.source(&seasons, d(7, 7)), RateSource::Season(1));
    }

    #[test]
    fn a_weekday_may_have_only_one_rate() {
        let rate = |id: &str, days: Vec<Weekday>| WeekdayRate {
            id: RuleId::new(id).unwrap(),
            name: id.into(),
            weekdays: days,
            price: Price::parse("1", "EUR").unwrap(),
        };
        let err = RateTable::new(
            Currency::EUR,
            &[
                rate("weekend", vec![Weekday::Fri, Weekday::Sat]),
                rate("saturday", vec![Weekday::Sat]),
            ],
            &[],
        )
        .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("Sat"), "{err}");
    }
}
