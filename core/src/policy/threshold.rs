//! Deadlines relative to the start of a booking.
//!
//! Owns [`BookingStart`] (the start of a stay or slot, with the property's
//! time zone) and [`Threshold`] ("30 days before check-in", "48 hours
//! before start"), and the one rule that turns a threshold into an instant.
//! A day-based threshold is calendar arithmetic on the property's civil
//! date, turned into an instant by [`time::to_instant`](crate::time::to_instant)
//! with [`Disambiguation::Compatible`]; an hour-based one is elapsed time.
//! Must never move between dates in 24-hour blocks.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::time::{Disambiguation, Stay, add_days, local_date, to_instant};

/// When a booking starts: an instant and the property's time zone, so that
/// day-based deadlines can be counted in the property's calendar.
///
/// Serialized as `{"instant": "...Z", "time_zone": "Europe/Berlin"}`.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
/// use reservo::policy::BookingStart;
/// use reservo::time::Stay;
/// let d = |day| NaiveDate::from_ymd_opt(2026, 7, day).unwrap();
/// let berlin = "Europe/Berlin".parse().unwrap();
/// let start = BookingStart::for_stay(
///     &Stay::new(d(10), d(13)).unwrap(), berlin, NaiveTime::from_hms_opt(15, 0, 0).unwrap(),
/// ).unwrap();
/// assert_eq!(start.instant(), Utc.with_ymd_and_hms(2026, 7, 10, 13, 0, 0).unwrap());
/// assert_eq!(start.local_date(), d(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BookingStart {
    #[serde(serialize_with = "crate::text::serialize_instant")]
    instant: DateTime<Utc>,
    time_zone: Tz,
}

impl BookingStart {
    /// The start of a stay: its check-in date at the property's check-in
    /// time, resolved across DST gaps and folds by the crate's one rule.
    pub fn for_stay(stay: &Stay, time_zone: Tz, check_in_time: NaiveTime) -> Result<BookingStart> {
        Ok(BookingStart {
            instant: stay.arrival_instant(time_zone, check_in_time)?,
            time_zone,
        })
    }

    /// The start of a slot or anything else that starts at a known instant,
    /// in a property in `time_zone`.
    pub fn at_instant(instant: DateTime<Utc>, time_zone: Tz) -> BookingStart {
        BookingStart { instant, time_zone }
    }

    /// The instant the booking starts.
    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// The property's time zone.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// The civil date of the start in the property's time zone.
    pub fn local_date(&self) -> NaiveDate {
        local_date(self.instant, self.time_zone)
    }

    /// The civil date and time of the start in the property's time zone.
    pub fn local(&self) -> NaiveDateTime {
        self.instant.with_timezone(&self.time_zone).naive_local()
    }
}

impl<'de> Deserialize<'de> for BookingStart {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            instant: DateTime<Utc>,
            time_zone: Tz,
        }
        let raw = Raw::deserialize(d)?;
        Ok(BookingStart::at_instant(raw.instant, raw.time_zone))
    }
}

/// The civil time of day a day-based deadline falls at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineTime {
    /// The booking's own start time of day (check-in time for stays): "30
    /// days before check-in" means the same wall-clock time, 30 calendar
    /// days earlier. Airbnb counts this way.
    StartTime,
    /// The end of the civil day, i.e. midnight at the start of the next
    /// day: "by 11:59 pm on the day 14 days before check-in" (Vrbo).
    EndOfDay,
    /// A fixed civil time of day, e.g. `00:00` for "before 12 AM on the
    /// day N days before arrival" (Booking.com).
    At(NaiveTime),
}

/// How long before the start a deadline falls.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
/// use reservo::policy::{BookingStart, DeadlineTime, Threshold};
/// use reservo::time::Stay;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let ny = "America/New_York".parse().unwrap();
/// let start = BookingStart::for_stay(
///     &Stay::new(d(3, 8), d(3, 12)).unwrap(), ny, NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
/// ).unwrap(); // 2026-03-08 16:00 EDT; clocks sprang forward that morning
/// let one_day = Threshold::DaysBefore { days: 1, at: DeadlineTime::StartTime };
/// let day_deadline = one_day.deadline(&start).unwrap();
/// // 16:00 EST the day before: a calendar day, only 23 elapsed hours
/// assert_eq!(day_deadline, Utc.with_ymd_and_hms(2026, 3, 7, 21, 0, 0).unwrap());
/// let hours = Threshold::HoursBefore { hours: 24 }.deadline(&start).unwrap();
/// assert_eq!(start.instant() - hours, chrono::Duration::hours(24));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Threshold {
    /// `days` calendar days before the start's civil date, at `at` in the
    /// property's time zone.
    DaysBefore {
        /// Calendar days before the start date (0 means the start date).
        days: u16,
        /// The time of day of the deadline.
        at: DeadlineTime,
    },
    /// `hours` of elapsed time before the start instant.
    HoursBefore {
        /// Hours before the start.
        hours: u16,
    },
}

impl Threshold {
    /// `days` calendar days before the start, at the start's time of day.
    pub const fn days(days: u16) -> Threshold {
        Threshold::DaysBefore {
            days,
            at: DeadlineTime::StartTime,
        }
    }

    /// `hours` of elapsed time before the start.
    pub const fn hours(hours: u16) -> Threshold {
        Threshold::HoursBefore { hours }
    }

    /// The instant of the deadline for a booking that starts at `start`.
    pub fn deadline(&self, start: &BookingStart) -> Result<DateTime<Utc>> {
        match *self {
            Threshold::HoursBefore { hours } => start
                .instant
                .checked_sub_signed(Duration::hours(i64::from(hours)))
                .ok_or_else(|| Error::invalid("threshold", format!("{self} is out of range"))),
            Threshold::DaysBefore { days, at } => {
                let date = add_days(start.local_date(), -i64::from(days))?;
                let civil = match at {
                    DeadlineTime::StartTime => date.and_time(start.local().time()),
                    DeadlineTime::EndOfDay => add_days(date, 1)?.and_time(NaiveTime::MIN),
                    DeadlineTime::At(time) => date.and_time(time),
                };
                to_instant(start.time_zone, civil, Disambiguation::Compatible)
            }
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::HoursBefore { hours } => write!(f, "{hours} hours before the start"),
            Threshold::DaysBefore { days, at } => {
                write!(f, "{days} days before the start")?;
                match at {
                    DeadlineTime::StartTime => write!(f, " (at the start time)"),
                    DeadlineTime::EndOfDay => write!(f, " (end of that day)"),
                    DeadlineTime::At(time) => write!(f, " (at {time})"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn berlin_start(y: i32, m: u32, d: u32, h: u32) -> BookingStart {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let civil = NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap();
        BookingStart::at_instant(
            to_instant(tz, civil, Disambiguation::Compatible).unwrap(),
            tz,
        )
    }

    #[test]
    fn day_thresholds_count_calendar_days_across_dst() {
        // Clocks go forward in Berlin on 2026-03-29: 7 calendar days before
        // 2026-04-02 15:00 CEST is 2026-03-26 15:00 CET, 167 elapsed hours.
        let start = berlin_start(2026, 4, 2, 15);
        let deadline = Threshold::days(7).deadline(&start).unwrap();
        assert_eq!(
            deadline,
            Utc.with_ymd_and_hms(2026, 3, 26, 14, 0, 0).unwrap()
        );
        assert_eq!((start.instant() - deadline).num_hours(), 167);
        let hours = Threshold::hours(168).deadline(&start).unwrap();
        assert_eq!((start.instant() - hours).num_hours(), 168);
    }

    #[test]
    fn end_of_day_and_fixed_times_land_on_the_named_civil_time() {
        let start = berlin_start(2026, 7, 20, 15);
        let end_of_day = Threshold::DaysBefore {
            days: 14,
            at: DeadlineTime::EndOfDay,
        };
        // End of 2026-07-06 = 2026-07-07 00:00 CEST = 2026-07-06 22:00Z.
        assert_eq!(
            end_of_day.deadline(&start).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 6, 22, 0, 0).unwrap()
        );
        let midnight = Threshold::DaysBefore {
            days: 2,
            at: DeadlineTime::At(NaiveTime::MIN),
        };
        assert_eq!(
            midnight.deadline(&start).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 17, 22, 0, 0).unwrap()
        );
    }

    #[test]
    fn thresholds_round_trip_through_json() {
        let t = Threshold::DaysBefore {
            days: 3,
            at: DeadlineTime::At(NaiveTime::from_hms_opt(12, 0, 0).unwrap()),
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"days_before","days":3,"at":{"at":"12:00:00"}}"#
        );
        assert_eq!(serde_json::from_str::<Threshold>(&json).unwrap(), t);
        let start = berlin_start(2026, 1, 5, 15);
        let back: BookingStart =
            serde_json::from_str(&serde_json::to_string(&start).unwrap()).unwrap();
        assert_eq!(back, start);
    }
}
