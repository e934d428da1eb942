//! Calendar selectors shared by schedules and restrictions: a non-empty set
//! of weekdays and an inclusive, possibly open-ended range of civil dates.
//!
//! Owns only which civil dates a rule covers. Must never look at instants
//! or time zones: a date is a civil date in the property's zone.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::{add_days, days_between, weekday_index};

const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A non-empty set of weekdays.
///
/// Serialized as a list of lowercase three-letter names in Monday-first
/// order, e.g. `["mon","wed","fri"]`. Deserializing takes the spellings a
/// rate plan's weekdays take (`"fri"`, `"Fri"`, `"Friday"`, in any case)
/// and refuses an empty list, a duplicate or an unknown name.
///
/// ```
/// use chrono::{NaiveDate, Weekday};
/// use reservo::schedule::Weekdays;
/// let mwf = Weekdays::new([Weekday::Mon, Weekday::Wed, Weekday::Fri]).unwrap();
/// assert!(mwf.contains_date(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap())); // a Monday
/// assert_eq!(serde_json::to_string(&mwf).unwrap(), r#"["mon","wed","fri"]"#);
/// assert_eq!(Weekdays::new([]).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays {
    /// Bit `i` set = weekday `i` (Monday = 0) is in the set; never 0.
    bits: u8,
}

impl Weekdays {
    /// Every day of the week.
    pub const ALL: Weekdays = Weekdays { bits: 0x7f };

    /// The set of `days`; refuses an empty set and a day given twice.
    pub fn new(days: impl IntoIterator<Item = Weekday>) -> Result<Weekdays> {
        let mut bits = 0u8;
        for day in days {
            let bit = 1u8 << day.num_days_from_monday();
            if bits & bit != 0 {
                return Err(Error::invalid(
                    "weekdays",
                    format!("{} is listed twice", NAMES[bit.trailing_zeros() as usize]),
                ));
            }
            bits |= bit;
        }
        if bits == 0 {
            return Err(Error::invalid(
                "weekdays",
                "at least one weekday is required",
            ));
        }
        Ok(Weekdays { bits })
    }

    /// Whether `day` is in the set.
    pub fn contains(&self, day: Weekday) -> bool {
        self.bits & (1u8 << day.num_days_from_monday()) != 0
    }

    /// Whether the weekday of `date` is in the set.
    pub fn contains_date(&self, date: NaiveDate) -> bool {
        self.bits & (1u8 << weekday_index(date)) != 0
    }

    /// The days of the set, Monday first.
    pub fn iter(&self) -> impl Iterator<Item = Weekday> + '_ {
        (0u8..7)
            .filter(|i| self.bits & (1u8 << i) != 0)
            .map(|i| Weekday::try_from(i).expect("0..7 is a weekday"))
    }

    /// The days in both sets, or `None` if they share none.
    pub fn intersection(&self, other: &Weekdays) -> Option<Weekdays> {
        let bits = self.bits & other.bits;
        (bits != 0).then_some(Weekdays { bits })
    }
}

impl Serialize for Weekdays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(
            self.iter()
                .map(|d| NAMES[d.num_days_from_monday() as usize]),
        )
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut days = Vec::with_capacity(names.len());
        for name in &names {
            // chrono's spellings, as a rate plan's weekdays take them:
            // "fri", "Fri" or "Friday", in any case.
            let day = name.parse::<Weekday>().map_err(|_| {
                serde::de::Error::custom(Error::invalid(
                    "weekdays",
                    format!("{name:?} is not a weekday; use mon tue wed thu fri sat sun"),
                ))
            })?;
            days.push(day);
        }
        Weekdays::new(days).map_err(serde::de::Error::custom)
    }
}

/// An inclusive range of civil dates, `from ..= until`; `until: None` is
/// open-ended.
///
/// Serialized as `{"from":"2026-01-05","until":"2026-06-30"}` (`until` may
/// be `null` or absent); deserializing refuses `until` before `from`.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::schedule::DateRange;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let spring = DateRange::new(d(3, 1), Some(d(5, 31))).unwrap();
/// assert!(spring.contains(d(5, 31)) && !spring.contains(d(6, 1)));
/// assert!(DateRange::starting(d(3, 1)).contains(d(12, 31)));
/// assert_eq!(DateRange::new(d(5, 1), Some(d(4, 30))).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DateRange {
    from: NaiveDate,
    until: Option<NaiveDate>,
}

impl DateRange {
    /// The dates `from ..= until`; refuses `until` before `from`.
    pub fn new(from: NaiveDate, until: Option<NaiveDate>) -> Result<DateRange> {
        if let Some(until) = until
            && until < from
        {
            return Err(Error::invalid(
                "dates",
                format!("until {until} is before from {from}"),
            ));
        }
        Ok(DateRange { from, until })
    }

    /// Every date from `from` on.
    pub fn starting(from: NaiveDate) -> DateRange {
        DateRange { from, until: None }
    }

    /// The first date.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The last date, or `None` if open-ended.
    pub fn until(&self) -> Option<NaiveDate> {
        self.until
    }

    /// Whether `date` is in the range.
    pub fn contains(&self, date: NaiveDate) -> bool {
        date >= self.from && self.until.is_none_or(|u| date <= u)
    }

    /// The first date in both this range and `start .. end_exclusive` whose
    /// weekday is in `weekdays`, if any. Looks at no more than seven dates.
    pub fn first_match(
        &self,
        weekdays: &Weekdays,
        start: NaiveDate,
        end_exclusive: NaiveDate,
    ) -> Option<NaiveDate> {
        let lo = start.max(self.from);
        let hi = match self.until {
            Some(u) => end_exclusive.min(u.succ_opt().unwrap_or(NaiveDate::MAX)),
            None => end_exclusive,
        };
        let span = days_between(lo, hi).min(7);
        (0..span)
            .filter_map(|i| add_days(lo, i).ok())
            .find(|d| weekdays.contains_date(*d))
    }
}

impl<'de> Deserialize<'de> for DateRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            from: NaiveDate,
            #[serde(default)]
            until: Option<NaiveDate>,
        }
        let raw = Raw::deserialize(d)?;
        DateRange::new(raw.from, raw.until).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn weekdays_round_trip_and_refuse_bad_lists() {
        let w: Weekdays = serde_json::from_str(r#"["sun","mon"]"#).unwrap();
        assert_eq!(serde_json::to_string(&w).unwrap(), r#"["mon","sun"]"#);
        let spelled: Weekdays = serde_json::from_str(r#"["Sun","MONDAY","fri"]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&spelled).unwrap(),
            r#"["mon","fri","sun"]"#
        );
        for bad in [r#"[]"#, r#"["mon","Monday"]"#, r#"["mo"]"#, r#"["frid"]"#] {
            let err = serde_json::from_str::<Weekdays>(bad).unwrap_err();
            assert!(err.to_string().contains("weekdays"), "{bad}: {err}");
        }
    }

    #[test]
    fn first_match_finds_the_first_selected_weekday_inside_both_ranges() {
        let range = DateRange::new(d(1, 7), Some(d(1, 20))).unwrap();
        let fri = Weekdays::new([Weekday::Fri]).unwrap();
        // 2026-01-09 is the first Friday on or after the 7th.
        assert_eq!(range.first_match(&fri, d(1, 1), d(2, 1)), Some(d(1, 9)));
        assert_eq!(range.first_match(&fri, d(1, 10), d(1, 16)), None);
        assert_eq!(range.first_match(&fri, d(1, 17), d(3, 1)), None);
        assert_eq!(range.first_match(&fri, d(1, 21), d(3, 1)), None);
    }

    #[test]
    fn date_range_deserializing_validates() {
        assert!(serde_json::from_str::<DateRange>(r#"{"from":"2026-02-01"}"#).is_ok());
        let err =
            serde_json::from_str::<DateRange>(r#"{"from":"2026-02-01","until":"2026-01-31"}"#)
                .unwrap_err();
        assert!(err.to_string().contains("2026-01-31"));
    }
}
