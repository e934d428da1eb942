//! Recurring schedules of timed sessions (a class, a tour, an activity) in
//! civil time, and their expansion into [`Occurrence`]s.
//!
//! Owns the weekly rules, one-off extra sessions, cancellations and buffers
//! of a resource that sells slots, and the one way they become instants.
//! Must never read a clock, store anything or decide availability: it says
//! which sessions exist, the catalog and availability decide who gets them.
//!
//! # Rules of expansion
//!
//! * A session's start is its rule's local wall time on its local date in
//!   the venue's IANA zone, turned into an instant by [`to_instant`] with
//!   [`Disambiguation::Compatible`]: a time in a DST **gap** is shifted
//!   forward by the gap (02:30 becomes 03:30), a time in a **fold** takes
//!   the earlier instant. The occurrence keeps its scheduled date and time
//!   and says whether it was shifted.
//! * A session's length is **elapsed** time: a 90-minute class that starts
//!   at 01:00 on a fold night ends 90 real minutes later, at 01:30 on the
//!   wall clock after the clock went back.
//! * Buffers widen the **occupied** interval, `[start - before, end + after)`,
//!   next to the sellable [`Slot`] `[start, end)`.
//! * Cancellations remove rule sessions only; extra sessions always occur.
//! * Two sessions never share a start instant: construction refuses the
//!   same date and time twice, and when a gap shift lands a session on the
//!   start of another, the unshifted session is kept.
//! * Occurrences are sorted by start instant and are a pure function of the
//!   schedule, the zone and the dates: the same inputs give the same output.

mod calendar;
mod rule;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use calendar::{DateRange, Weekdays};
pub use rule::{
    Buffers, Cancellation, ExtraSession, MAX_BUFFER_MINUTES, MAX_SESSION_MINUTES, ScheduleRule,
};

use crate::error::{Error, Result};
use crate::time::{Disambiguation, Slot, Stay, add_days, days_between, local_date, to_instant};

/// The most dates one call to [`Schedule::occurrences`] expands.
pub const MAX_EXPANSION_DAYS: u32 = Stay::MAX_NIGHTS;

/// A resource's recurring sessions: weekly rules, extra one-off sessions,
/// cancellations and buffers.
///
/// Serialized as `{"rules":[..],"extra_sessions":[..],"cancellations":[..],
/// "buffers":{"before_minutes":0,"after_minutes":0}}` (the last three may be
/// absent). Deserializing validates as [`Schedule::new`] does.
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
/// use reservo::schedule::{Buffers, DateRange, Schedule, ScheduleRule, Weekdays};
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
/// let mwf = Weekdays::new([Weekday::Mon, Weekday::Wed, Weekday::Fri]).unwrap();
/// let dates = DateRange::new(d(1, 5), Some(d(6, 30))).unwrap();
/// let yoga = ScheduleRule::new(mwf, vec![t(9, 0), t(17, 30)], 90, dates).unwrap();
/// let schedule = Schedule::new(vec![yoga], vec![], vec![], Buffers::new(15, 15).unwrap()).unwrap();
///
/// let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
/// let week = schedule.occurrences(berlin, d(1, 5), d(1, 12)).unwrap();
/// assert_eq!(week.len(), 6); // Mon, Wed, Fri at 09:00 and 17:30
/// let first = &week[0];
/// assert_eq!(first.slot().start(), Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap()); // 09:00 CET
/// assert_eq!(first.occupied().start(), Utc.with_ymd_and_hms(2026, 1, 5, 7, 45, 0).unwrap());
/// assert_eq!(schedule.occurrence_at(berlin, first.slot().start()).as_ref(), Some(first));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    rules: Vec<ScheduleRule>,
    /// Sorted by date, then start time; no two at the same date and time.
    extra_sessions: Vec<ExtraSession>,
    /// Sorted; whole-day cancellations sort before a session's on a date.
    cancellations: Vec<Cancellation>,
    buffers: Buffers,
}

impl Schedule {
    /// A schedule. Refuses two rules with a session at the same date and
    /// time, an extra session at the same date and time as another or as
    /// a rule session that is not cancelled, and a cancellation given twice.
    /// Extra sessions and cancellations may be given in any order.
    pub fn new(
        rules: Vec<ScheduleRule>,
        mut extra_sessions: Vec<ExtraSession>,
        mut cancellations: Vec<Cancellation>,
        buffers: Buffers,
    ) -> Result<Schedule> {
        for (i, a) in rules.iter().enumerate() {
            for (j, b) in rules.iter().enumerate().skip(i + 1) {
                if let Some((date, time)) = a.shared_session(b) {
                    return Err(Error::invalid(
                        "rules",
                        format!("rules {i} and {j} both have a session on {date} at {time}"),
                    ));
                }
            }
        }
        cancellations.sort_unstable();
        if let Some(w) = cancellations.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::invalid(
                "cancellations",
                format!(
                    "{} is cancelled twice",
                    describe(w[0].date(), w[0].start_time())
                ),
            ));
        }
        extra_sessions.sort_unstable();
        if let Some(w) = extra_sessions
            .windows(2)
            .find(|w| (w[0].date(), w[0].start_time()) == (w[1].date(), w[1].start_time()))
        {
            return Err(Error::invalid(
                "extra_sessions",
                format!(
                    "two extra sessions on {} at {}",
                    w[0].date(),
                    w[0].start_time()
                ),
            ));
        }
        let schedule = Schedule {
            rules,
            extra_sessions,
            cancellations,
            buffers,
        };
        for extra in &schedule.extra_sessions {
            let (date, time) = (extra.date(), extra.start_time());
            if schedule.rule_session_on(date, time).is_some() {
                return Err(Error::invalid(
                    "extra_sessions",
                    format!("{date} at {time} is already a session of the weekly rules"),
                ));
            }
        }
        Ok(schedule)
    }

    /// The weekly rules, in the order given.
    pub fn rules(&self) -> &[ScheduleRule] {
        &self.rules
    }

    /// The extra sessions, sorted by date and time.
    pub fn extra_sessions(&self) -> &[ExtraSession] {
        &self.extra_sessions
    }

    /// The cancellations, sorted by date.
    pub fn cancellations(&self) -> &[Cancellation] {
        &self.cancellations
    }

    /// The setup and cleanup buffers around every session.
    pub fn buffers(&self) -> Buffers {
        self.buffers
    }

    /// Every session whose local date is in `from .. to_exclusive`, sorted
    /// by start instant. Refuses `to_exclusive` before `from` and ranges of
    /// more than [`MAX_EXPANSION_DAYS`] days; an empty range gives none.
    pub fn occurrences(
        &self,
        tz: Tz,
        from: NaiveDate,
        to_exclusive: NaiveDate,
    ) -> Result<Vec<Occurrence>> {
        let days = days_between(from, to_exclusive);
        if days < 0 || days > i64::from(MAX_EXPANSION_DAYS) {
            return Err(Error::invalid(
                "dates",
                format!(
                    "{from} .. {to_exclusive} is not a range of 0 to {MAX_EXPANSION_DAYS} days"
                ),
            ));
        }
        let mut out = Vec::new();
        for date in from.iter_days().take_while(|d| *d < to_exclusive) {
            self.expand_day(tz, date, &mut out)?;
        }
        out.sort_unstable_by_key(|o| (o.slot.start(), o.shifted_by_gap, o.date, o.start_time));
        out.dedup_by_key(|o| o.slot.start());
        Ok(out)
    }

    /// The session that starts exactly at `start`, if there is one.
    ///
    /// Expands only the local date of `start` and the day before it (a
    /// session shifted by a gap at midnight can start on the next date).
    pub fn occurrence_at(&self, tz: Tz, start: DateTime<Utc>) -> Option<Occurrence> {
        let date = local_date(start, tz);
        let day_before = add_days(date, -1).ok()?;
        let next_day = add_days(date, 1).ok()?;
        self.occurrences(tz, day_before, next_day)
            .ok()?
            .into_iter()
            .find(|o| o.slot.start() == start)
    }

    /// The duration of the rule session on `date` at `time`, unless there
    /// is none or it is cancelled.
    fn rule_session_on(&self, date: NaiveDate, time: NaiveTime) -> Option<u32> {
        let rule = self
            .rules
            .iter()
            .find(|r| r.runs_on(date) && r.start_times().binary_search(&time).is_ok())?;
        (!self.is_cancelled(date, time)).then_some(rule.duration_minutes())
    }

    fn is_cancelled(&self, date: NaiveDate, time: NaiveTime) -> bool {
        let first = self.cancellations.partition_point(|c| c.date() < date);
        self.cancellations[first..]
            .iter()
            .take_while(|c| c.date() == date)
            .any(|c| c.cancels(date, time))
    }

    fn expand_day(&self, tz: Tz, date: NaiveDate, out: &mut Vec<Occurrence>) -> Result<()> {
        for rule in self.rules.iter().filter(|r| r.runs_on(date)) {
            for time in rule.start_times() {
                if !self.is_cancelled(date, *time) {
                    out.push(self.occurrence(tz, date, *time, rule.duration_minutes())?);
                }
            }
        }
        let first = self.extra_sessions.partition_point(|e| e.date() < date);
        for extra in self.extra_sessions[first..]
            .iter()
            .take_while(|e| e.date() == date)
        {
            out.push(self.occurrence(tz, date, extra.start_time(), extra.duration_minutes())?);
        }
        Ok(())
    }

    fn occurrence(
        &self,
        tz: Tz,
        date: NaiveDate,
        start_time: NaiveTime,
        duration_minutes: u32,
    ) -> Result<Occurrence> {
        let civil = date.and_time(start_time);
        let start = to_instant(tz, civil, Disambiguation::Compatible)?;
        let later = |at: DateTime<Utc>, m: u32| at.checked_add_signed(Duration::minutes(m.into()));
        let earlier =
            |at: DateTime<Utc>, m: u32| at.checked_sub_signed(Duration::minutes(m.into()));
        let out_of_range = || Error::invalid("date", format!("{civil} is out of range"));
        let end = later(start, duration_minutes).ok_or_else(out_of_range)?;
        let occupied_start =
            earlier(start, self.buffers.before_minutes()).ok_or_else(out_of_range)?;
        let occupied_end = later(end, self.buffers.after_minutes()).ok_or_else(out_of_range)?;
        Ok(Occurrence {
            date,
            start_time,
            shifted_by_gap: start.with_timezone(&tz).naive_local() != civil,
            slot: Slot::new(start, end)?,
            occupied: Slot::new(occupied_start, occupied_end)?,
        })
    }
}

fn describe(date: NaiveDate, time: Option<NaiveTime>) -> String {
    match time {
        Some(t) => format!("the session on {date} at {t}"),
        None => format!("{date}"),
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            rules: Vec<ScheduleRule>,
            #[serde(default)]
            extra_sessions: Vec<ExtraSession>,
            #[serde(default)]
            cancellations: Vec<Cancellation>,
            #[serde(default)]
            buffers: Buffers,
        }
        let r = Raw::deserialize(d)?;
        Schedule::new(r.rules, r.extra_sessions, r.cancellations, r.buffers)
            .map_err(serde::de::Error::custom)
    }
}

/// One session of a [`Schedule`]: its scheduled local date and time, the
/// sellable [`Slot`] and the interval the resource is occupied for.
///
/// Serialized as `{"date":..,"start_time":..,"shifted_by_gap":false,
/// "slot":{"start":..,"end":..},"occupied":{"start":..,"end":..}}`;
/// deserializing refuses an `occupied` interval that does not contain the
/// slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Occurrence {
    date: NaiveDate,
    start_time: NaiveTime,
    shifted_by_gap: bool,
    slot: Slot,
    occupied: Slot,
}

impl Occurrence {
    /// The local date the session is scheduled on.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The local wall time the session is scheduled at. On a gap day the
    /// session actually starts later on the wall clock; see
    /// [`Occurrence::shifted_by_gap`].
    pub fn start_time(&self) -> NaiveTime {
        self.start_time
    }

    /// Whether the scheduled time did not exist (a DST gap) and the start
    /// was shifted forward by the gap.
    pub fn shifted_by_gap(&self) -> bool {
        self.shifted_by_gap
    }

    /// The sellable session, `[start, end)`.
    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// The interval the resource is taken, `[start - before, end + after)`.
    pub fn occupied(&self) -> Slot {
        self.occupied
    }
}

impl<'de> Deserialize<'de> for Occurrence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            date: NaiveDate,
            start_time: NaiveTime,
            shifted_by_gap: bool,
            slot: Slot,
            occupied: Slot,
        }
        let r = Raw::deserialize(d)?;
        if r.occupied.start() > r.slot.start() || r.occupied.end() < r.slot.end() {
            return Err(serde::de::Error::custom(Error::invalid(
                "occupied",
                format!(
                    "{} .. {} does not contain the slot {} .. {}",
                    r.occupied.start(),
                    r.occupied.end(),
                    r.slot.start(),
                    r.slot.end()
                ),
            )));
        }
        Ok(Occurrence {
            date: r.date,
            start_time: r.start_time,
            shifted_by_gap: r.shifted_by_gap,
            slot: r.slot,
            occupied: r.occupied,
        })
    }
}
