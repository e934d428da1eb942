//! The parts a [`Schedule`](super::Schedule) is made of: weekly rules,
//! one-off extra sessions, cancellations and buffers.
//!
//! Owns the validation of each part on its own (whole-minute start times,
//! positive bounded durations, no duplicate times). Must never expand
//! sessions or touch time zones; that is the schedule's job.

use chrono::{NaiveDate, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use super::calendar::{DateRange, Weekdays};
use crate::error::{Error, Result};

/// The longest session a schedule accepts: seven days, in minutes.
pub const MAX_SESSION_MINUTES: u32 = 7 * 24 * 60;

/// The longest buffer before or after a session: one day, in minutes.
pub const MAX_BUFFER_MINUTES: u32 = 24 * 60;

fn check_start_time(field: &str, time: NaiveTime) -> Result<()> {
    if time.second() != 0 || time.nanosecond() != 0 {
        return Err(Error::invalid(
            field,
            format!("{time} is not a whole minute; sessions start on whole minutes"),
        ));
    }
    Ok(())
}

fn check_duration(field: &str, minutes: u32) -> Result<()> {
    if minutes == 0 || minutes > MAX_SESSION_MINUTES {
        return Err(Error::invalid(
            field,
            format!("{minutes} minutes is not a session length: use 1 to {MAX_SESSION_MINUTES}"),
        ));
    }
    Ok(())
}

/// A weekly rule: on `weekdays`, at each of `start_times` (local wall time
/// in the venue's zone), a session of `duration_minutes` of elapsed time,
/// on every date of `dates`.
///
/// Serialized as `{"weekdays":["mon"],"start_times":["09:00:00"],
/// "duration_minutes":90,"dates":{"from":"2026-01-05","until":null}}`.
/// Start times are kept sorted.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, Weekday};
/// use reservo::schedule::{DateRange, ScheduleRule, Weekdays};
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let from = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
/// let mwf = Weekdays::new([Weekday::Mon, Weekday::Wed, Weekday::Fri]).unwrap();
/// let rule = ScheduleRule::new(mwf, vec![t(17, 30), t(9, 0)], 90, DateRange::starting(from)).unwrap();
/// assert_eq!(rule.start_times(), [t(9, 0), t(17, 30)]);
/// let twice = ScheduleRule::new(mwf, vec![t(9, 0), t(9, 0)], 90, DateRange::starting(from));
/// assert_eq!(twice.unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ScheduleRule {
    weekdays: Weekdays,
    start_times: Vec<NaiveTime>,
    duration_minutes: u32,
    dates: DateRange,
}

impl ScheduleRule {
    /// A rule with at least one start time, no time twice, every time on a
    /// whole minute, and a duration of 1 to [`MAX_SESSION_MINUTES`].
    pub fn new(
        weekdays: Weekdays,
        mut start_times: Vec<NaiveTime>,
        duration_minutes: u32,
        dates: DateRange,
    ) -> Result<ScheduleRule> {
        if start_times.is_empty() {
            return Err(Error::invalid(
                "start_times",
                "a rule needs at least one start time",
            ));
        }
        for time in &start_times {
            check_start_time("start_times", *time)?;
        }
        start_times.sort_unstable();
        if let Some(pair) = start_times.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::invalid(
                "start_times",
                format!("{} is listed twice", pair[0]),
            ));
        }
        check_duration("duration_minutes", duration_minutes)?;
        Ok(ScheduleRule {
            weekdays,
            start_times,
            duration_minutes,
            dates,
        })
    }

    /// The weekdays the rule runs on.
    pub fn weekdays(&self) -> Weekdays {
        self.weekdays
    }

    /// The local start times, sorted.
    pub fn start_times(&self) -> &[NaiveTime] {
        &self.start_times
    }

    /// Elapsed length of each session, in minutes.
    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    /// The dates the rule is in force.
    pub fn dates(&self) -> DateRange {
        self.dates
    }

    /// Whether the rule has sessions on `date` (before cancellations).
    pub fn runs_on(&self, date: NaiveDate) -> bool {
        self.dates.contains(date) && self.weekdays.contains_date(date)
    }

    /// A date and time at which both rules have a session, if any.
    pub(crate) fn shared_session(&self, other: &ScheduleRule) -> Option<(NaiveDate, NaiveTime)> {
        let common = self.weekdays.intersection(&other.weekdays)?;
        let time = self
            .start_times
            .iter()
            .find(|t| other.start_times.binary_search(t).is_ok())?;
        let end = other
            .dates
            .until()
            .map_or(NaiveDate::MAX, |u| u.succ_opt().unwrap_or(NaiveDate::MAX));
        let date = self.dates.first_match(&common, other.dates.from(), end)?;
        Some((date, *time))
    }
}

impl<'de> Deserialize<'de> for ScheduleRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            weekdays: Weekdays,
            start_times: Vec<NaiveTime>,
            duration_minutes: u32,
            dates: DateRange,
        }
        let r = Raw::deserialize(d)?;
        ScheduleRule::new(r.weekdays, r.start_times, r.duration_minutes, r.dates)
            .map_err(serde::de::Error::custom)
    }
}

/// A one-off session outside the weekly rules (an extra Sunday class).
///
/// Serialized as `{"date":"2026-04-05","start_time":"10:00:00","duration_minutes":60}`.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime};
/// use reservo::schedule::ExtraSession;
/// let date = NaiveDate::from_ymd_opt(2026, 4, 5).unwrap();
/// let ten = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
/// assert!(ExtraSession::new(date, ten, 60).is_ok());
/// assert_eq!(ExtraSession::new(date, ten, 0).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ExtraSession {
    date: NaiveDate,
    start_time: NaiveTime,
    duration_minutes: u32,
}

impl ExtraSession {
    /// A session on `date` at `start_time` (whole minute) lasting
    /// 1 to [`MAX_SESSION_MINUTES`] minutes of elapsed time.
    pub fn new(date: NaiveDate, start_time: NaiveTime, duration_minutes: u32) -> Result<Self> {
        check_start_time("start_time", start_time)?;
        check_duration("duration_minutes", duration_minutes)?;
        Ok(ExtraSession {
            date,
            start_time,
            duration_minutes,
        })
    }

    /// The local date.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The local start time.
    pub fn start_time(&self) -> NaiveTime {
        self.start_time
    }

    /// Elapsed length, in minutes.
    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }
}

impl<'de> Deserialize<'de> for ExtraSession {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            date: NaiveDate,
            start_time: NaiveTime,
            duration_minutes: u32,
        }
        let r = Raw::deserialize(d)?;
        ExtraSession::new(r.date, r.start_time, r.duration_minutes)
            .map_err(serde::de::Error::custom)
    }
}

/// Cancels the rule sessions of a whole date, or the one that starts at
/// `start_time` on it. Extra sessions are never cancelled by it: an extra
/// session is itself the exception (cancel the 09:00, add a 10:00).
///
/// Serialized as `{"date":"2026-04-06","start_time":null}` (whole day) or
/// with a start time.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime};
/// use reservo::schedule::Cancellation;
/// let easter_monday = NaiveDate::from_ymd_opt(2026, 4, 6).unwrap();
/// let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
/// assert!(Cancellation::whole_day(easter_monday).cancels(easter_monday, nine));
/// assert!(!Cancellation::session(easter_monday, nine).unwrap()
///     .cancels(easter_monday, NaiveTime::from_hms_opt(17, 30, 0).unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Cancellation {
    date: NaiveDate,
    start_time: Option<NaiveTime>,
}

impl Cancellation {
    /// Cancels every rule session on `date`.
    pub fn whole_day(date: NaiveDate) -> Cancellation {
        Cancellation {
            date,
            start_time: None,
        }
    }

    /// Cancels the rule session on `date` at `start_time` (a whole minute).
    pub fn session(date: NaiveDate, start_time: NaiveTime) -> Result<Cancellation> {
        check_start_time("start_time", start_time)?;
        Ok(Cancellation {
            date,
            start_time: Some(start_time),
        })
    }

    /// The cancelled date.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The cancelled session's start time, or `None` for the whole day.
    pub fn start_time(&self) -> Option<NaiveTime> {
        self.start_time
    }

    /// Whether this cancels the rule session on `date` at `start_time`.
    pub fn cancels(&self, date: NaiveDate, start_time: NaiveTime) -> bool {
        self.date == date && self.start_time.is_none_or(|t| t == start_time)
    }
}

impl<'de> Deserialize<'de> for Cancellation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            date: NaiveDate,
            #[serde(default)]
            start_time: Option<NaiveTime>,
        }
        let r = Raw::deserialize(d)?;
        match r.start_time {
            None => Ok(Cancellation::whole_day(r.date)),
            Some(t) => Cancellation::session(r.date, t).map_err(serde::de::Error::custom),
        }
    }
}

/// Setup time before and cleanup time after every session, during which
/// the resource cannot hold another session. Each is 0 to
/// [`MAX_BUFFER_MINUTES`] minutes of elapsed time.
///
/// Serialized as `{"before_minutes":15,"after_minutes":30}`.
///
/// ```
/// use reservo::schedule::Buffers;
/// assert_eq!(Buffers::new(15, 30).unwrap().after_minutes(), 30);
/// assert_eq!(Buffers::new(0, 24 * 60 + 1).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Buffers {
    before_minutes: u32,
    after_minutes: u32,
}

impl Buffers {
    /// No setup or cleanup time.
    pub const NONE: Buffers = Buffers {
        before_minutes: 0,
        after_minutes: 0,
    };

    /// Buffers of `before_minutes` and `after_minutes`, each at most
    /// [`MAX_BUFFER_MINUTES`].
    pub fn new(before_minutes: u32, after_minutes: u32) -> Result<Buffers> {
        for (field, value) in [
            ("before_minutes", before_minutes),
            ("after_minutes", after_minutes),
        ] {
            if value > MAX_BUFFER_MINUTES {
                return Err(Error::invalid(
                    field,
                    format!("{value} minutes is longer than the maximum of {MAX_BUFFER_MINUTES}"),
                ));
            }
        }
        Ok(Buffers {
            before_minutes,
            after_minutes,
        })
    }

    /// Setup minutes before each session.
    pub fn before_minutes(&self) -> u32 {
        self.before_minutes
    }

    /// Cleanup minutes after each session.
    pub fn after_minutes(&self) -> u32 {
        self.after_minutes
    }
}

impl<'de> Deserialize<'de> for Buffers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            before_minutes: u32,
            #[serde(default)]
            after_minutes: u32,
        }
        let r = Raw::deserialize(d)?;
        Buffers::new(r.before_minutes, r.after_minutes).map_err(serde::de::Error::custom)
    }
}
