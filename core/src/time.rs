//! Time: stays, slots, civil times in a property's time zone, and clocks.
//!
//! Owns the rule for turning a civil (wall-clock) time into an instant
//! across DST gaps and folds, calendar arithmetic in days and months, and
//! the [`Clock`] implementations. Must never add 24-hour blocks to move
//! between dates, and never read the system time outside [`SystemClock`].
//!
//! # Civil times become instants by one rule
//!
//! A property's deadlines, check-in and check-out times and slot schedules
//! are civil times in its IANA time zone. [`to_instant`] turns one into an
//! instant with a [`Disambiguation`]; the default, [`Disambiguation::Compatible`],
//! is the rule of RFC 5545 and JavaScript's Temporal:
//!
//! * **gap** (the clock jumps forward, e.g. 02:30 does not exist in
//!   New York on the second Sunday of March): the time is read with the
//!   offset from *before* the gap, which lands the same distance after the
//!   jump (02:30 becomes 03:30 EDT);
//! * **fold** (the clock goes back, e.g. 01:30 happens twice in New York on
//!   the first Sunday of November): the *earlier* of the two instants.

use std::sync::Mutex;

use chrono::{
    DateTime, Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ports::Clock;

/// Parses an IANA time zone name such as `Europe/Berlin`.
///
/// ```
/// let tz = reservo::time::parse_time_zone("Australia/Sydney").unwrap();
/// assert_eq!(tz.name(), "Australia/Sydney");
/// assert_eq!(reservo::time::parse_time_zone("Mars/Olympus").unwrap_err().code(), "INVALID_INPUT");
/// ```
pub fn parse_time_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        Error::invalid(
            "time_zone",
            format!("{name:?} is not an IANA time zone name"),
        )
    })
}

/// How to resolve a civil time that a DST transition makes ambiguous or
/// non-existent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disambiguation {
    /// Gap: shift forward by the gap's length. Fold: the earlier instant.
    #[default]
    Compatible,
    /// Gap: the last instant before the jump's wall time, read with the
    /// offset after it (shifts backward). Fold: the earlier instant.
    Earlier,
    /// Gap: shift forward as `Compatible`. Fold: the later instant.
    Later,
    /// Refuse both with [`Error::InvalidInput`].
    Reject,
}

/// Turns a civil date and time in `tz` into an instant, resolving gaps and
/// folds by `rule` (see the module docs).
///
/// ```
/// use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
/// use reservo::time::{to_instant, Disambiguation};
/// let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
/// let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(); // clocks jump 02:00 -> 03:00
/// let at = to_instant(ny, day.and_time(NaiveTime::from_hms_opt(2, 30, 0).unwrap()), Disambiguation::Compatible).unwrap();
/// assert_eq!(at, Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap()); // 03:30 EDT
/// ```
pub fn to_instant(tz: Tz, civil: NaiveDateTime, rule: Disambiguation) -> Result<DateTime<Utc>> {
    match tz.from_local_datetime(&civil) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, second) => {
            let (earlier, later) = if first < second {
                (first, second)
            } else {
                (second, first)
            };
            match rule {
                Disambiguation::Compatible | Disambiguation::Earlier => {
                    Ok(earlier.with_timezone(&Utc))
                }
                Disambiguation::Later => Ok(later.with_timezone(&Utc)),
                Disambiguation::Reject => Err(Error::invalid(
                    "time",
                    format!("{civil} happens twice in {} (DST fold)", tz.name()),
                )),
            }
        }
        LocalResult::None => {
            if rule == Disambiguation::Reject {
                return Err(Error::invalid(
                    "time",
                    format!("{civil} does not exist in {} (DST gap)", tz.name()),
                ));
            }
            // The offsets in force just before and just after the gap. Gaps
            // are at most a few hours; a day either side is always outside.
            let before = offset_seconds_at(tz, civil - chrono::Duration::days(1));
            let after = offset_seconds_at(tz, civil + chrono::Duration::days(1));
            let offset = if rule == Disambiguation::Earlier {
                after
            } else {
                before
            };
            let utc = civil - chrono::Duration::seconds(i64::from(offset));
            Ok(Utc.from_utc_datetime(&utc))
        }
    }
}

fn offset_seconds_at(tz: Tz, civil: NaiveDateTime) -> i32 {
    use chrono::Offset;
    let t = tz
        .from_local_datetime(&civil)
        .earliest()
        .expect("a day away from a transition is a plain civil time");
    t.offset().fix().local_minus_utc()
}

/// The civil date of `instant` in `tz`.
pub fn local_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// `date` plus `days` calendar days (negative goes back).
pub fn add_days(date: NaiveDate, days: i64) -> Result<NaiveDate> {
    let moved = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    moved.ok_or_else(|| Error::invalid("date", format!("{date} {days:+} days is out of range")))
}

/// `date` plus `months` calendar months, clamped to the last day of a
/// shorter month (January 31 + 1 month = February 28 or 29).
pub fn add_months(date: NaiveDate, months: i32) -> Result<NaiveDate> {
    let moved = if months >= 0 {
        date.checked_add_months(Months::new(months.unsigned_abs()))
    } else {
        date.checked_sub_months(Months::new(months.unsigned_abs()))
    };
    moved.ok_or_else(|| Error::invalid("date", format!("{date} {months:+} months is out of range")))
}

/// Calendar days from `from` to `to` (negative if `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// A stay of whole nights: `[check_in, check_out)` in civil dates.
///
/// The night of a date is the night that starts on that date. A stay from
/// the 10th to the 13th has the nights of the 10th, 11th and 12th.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::time::Stay;
/// let d = |day| NaiveDate::from_ymd_opt(2026, 7, day).unwrap();
/// let stay = Stay::new(d(10), d(13)).unwrap();
/// assert_eq!(stay.nights(), 3);
/// assert_eq!(stay.night_dates().collect::<Vec<_>>(), [d(10), d(11), d(12)]);
/// assert_eq!(Stay::new(d(13), d(13)).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Stay {
    #[serde(serialize_with = "crate::text::serialize_date")]
    check_in: NaiveDate,
    #[serde(serialize_with = "crate::text::serialize_date")]
    check_out: NaiveDate,
}

impl Stay {
    /// The longest stay Reservo accepts, in nights.
    pub const MAX_NIGHTS: u32 = 3 * 366;

    /// A stay of at least one night and at most [`Stay::MAX_NIGHTS`].
    pub fn new(check_in: NaiveDate, check_out: NaiveDate) -> Result<Stay> {
        let nights = days_between(check_in, check_out);
        if nights < 1 {
            return Err(Error::invalid(
                "stay",
                format!("check-out {check_out} must be after check-in {check_in}"),
            ));
        }
        if nights > i64::from(Stay::MAX_NIGHTS) {
            return Err(Error::invalid(
                "stay",
                format!(
                    "{nights} nights is longer than the maximum of {}",
                    Stay::MAX_NIGHTS
                ),
            ));
        }
        Ok(Stay {
            check_in,
            check_out,
        })
    }

    /// The arrival date.
    pub fn check_in(&self) -> NaiveDate {
        self.check_in
    }

    /// The departure date (its night is not part of the stay).
    pub fn check_out(&self) -> NaiveDate {
        self.check_out
    }

    /// Number of nights.
    pub fn nights(&self) -> u32 {
        u32::try_from(days_between(self.check_in, self.check_out)).expect("checked in new")
    }

    /// The date of each night, in order.
    pub fn night_dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.check_in
            .iter_days()
            .take_while(move |d| *d < self.check_out)
    }

    /// Whether two stays share a night.
    pub fn overlaps(&self, other: &Stay) -> bool {
        self.check_in < other.check_out && other.check_in < self.check_out
    }

    /// The instant of arrival: `check_in` at the property's check-in time.
    pub fn arrival_instant(&self, tz: Tz, check_in_time: NaiveTime) -> Result<DateTime<Utc>> {
        to_instant(
            tz,
            self.check_in.and_time(check_in_time),
            Disambiguation::Compatible,
        )
    }

    /// The instant of departure: `check_out` at the property's check-out time.
    pub fn departure_instant(&self, tz: Tz, check_out_time: NaiveTime) -> Result<DateTime<Utc>> {
        to_instant(
            tz,
            self.check_out.and_time(check_out_time),
            Disambiguation::Compatible,
        )
    }
}

impl<'de> Deserialize<'de> for Stay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            check_in: NaiveDate,
            check_out: NaiveDate,
        }
        let raw = Raw::deserialize(d)?;
        Stay::new(raw.check_in, raw.check_out).map_err(serde::de::Error::custom)
    }
}

/// A timed session: `[start, end)` in instants.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use reservo::time::Slot;
/// let start = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
/// let slot = Slot::new(start, start + chrono::Duration::minutes(90)).unwrap();
/// assert_eq!(slot.duration().num_minutes(), 90);
/// assert_eq!(Slot::new(start, start).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Slot {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Slot {
    /// A slot that ends after it starts.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Slot> {
        if end <= start {
            return Err(Error::invalid(
                "slot",
                format!("end {end} must be after start {start}"),
            ));
        }
        Ok(Slot { start, end })
    }

    /// First instant of the slot.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// First instant after the slot.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Length of the slot in real (elapsed) time.
    pub fn duration(&self) -> chrono::Duration {
        self.end - self.start
    }

    /// Whether two slots share an instant.
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }
}

impl<'de> Deserialize<'de> for Slot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            start: DateTime<Utc>,
            end: DateTime<Utc>,
        }
        let raw = Raw::deserialize(d)?;
        Slot::new(raw.start, raw.end).map_err(serde::de::Error::custom)
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to: for tests, simulations and demos.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use reservo::ports::Clock;
/// use reservo::time::ManualClock;
/// let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// clock.advance(Duration::minutes(15));
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 15, 0).unwrap());
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock to `now`. Refuses to go backwards, as the [`Clock`]
    /// contract requires.
    pub fn set(&self, now: DateTime<Utc>) -> Result<()> {
        let mut current = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if now < *current {
            return Err(Error::invalid(
                "now",
                format!(
                    "{now} is before the clock's {}; clocks never go backwards",
                    *current
                ),
            ));
        }
        *current = now;
        Ok(())
    }

    /// Moves the clock forward by `by` (a negative duration is ignored).
    ///
    /// # Panics
    ///
    /// If that moves it past the last instant chrono can represent; use
    /// [`ManualClock::try_advance`] where `by` comes from outside.
    pub fn advance(&self, by: chrono::Duration) {
        if let Err(e) = self.try_advance(by) {
            panic!("ManualClock::advance: {e}");
        }
    }

    /// Moves the clock forward by `by` (a negative duration is ignored)
    /// and returns where it now shows. One that would move it past the
    /// last representable instant is an [`Error::InvalidInput`] and
    /// leaves it where it was.
    ///
    /// ```
    /// use chrono::{DateTime, Duration, Utc};
    /// use reservo::time::ManualClock;
    /// let clock = ManualClock::new(DateTime::<Utc>::MAX_UTC - Duration::days(1));
    /// assert!(clock.try_advance(Duration::hours(1)).is_ok());
    /// assert_eq!(clock.try_advance(Duration::days(1)).unwrap_err().code(), "INVALID_INPUT");
    /// ```
    pub fn try_advance(&self, by: chrono::Duration) -> Result<DateTime<Utc>> {
        let mut current = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if by > chrono::Duration::zero() {
            *current = current.checked_add_signed(by).ok_or_else(|| {
                Error::invalid(
                    "by",
                    format!(
                        "{} seconds after {} is past the last representable instant",
                        by.num_seconds(),
                        *current
                    ),
                )
            })?;
        }
        Ok(*current)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The weekday of a civil date, Monday = 0 .. Sunday = 6.
pub fn weekday_index(date: NaiveDate) -> u8 {
    u8::try_from(date.weekday().num_days_from_monday()).expect("0..7")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn fold_takes_the_earlier_instant_by_default() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2026-11-01 01:30 happens at 05:30Z (EDT) and at 06:30Z (EST).
        let civil = d(2026, 11, 1).and_time(t(1, 30));
        let early = to_instant(ny, civil, Disambiguation::Compatible).unwrap();
        assert_eq!(early, Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap());
        let late = to_instant(ny, civil, Disambiguation::Later).unwrap();
        assert_eq!(late, Utc.with_ymd_and_hms(2026, 11, 1, 6, 30, 0).unwrap());
        assert_eq!(
            to_instant(ny, civil, Disambiguation::Reject)
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn gap_shifts_forward_by_default_and_back_when_asked() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2026-03-29 02:30 does not exist in Berlin (02:00 CET -> 03:00 CEST).
        let civil = d(2026, 3, 29).and_time(t(2, 30));
        let fwd = to_instant(berlin, civil, Disambiguation::Compatible).unwrap();
        assert_eq!(fwd, Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap()); // 03:30 CEST
        let back = to_instant(berlin, civil, Disambiguation::Earlier).unwrap();
        assert_eq!(back, Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap()); // 01:30 CET
        assert_eq!(
            to_instant(berlin, civil, Disambiguation::Reject)
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
    }

    #[test]
    fn calendar_months_clamp_to_month_end() {
        assert_eq!(add_months(d(2026, 1, 31), 1).unwrap(), d(2026, 2, 28));
        assert_eq!(add_months(d(2028, 1, 31), 1).unwrap(), d(2028, 2, 29));
        assert_eq!(add_months(d(2026, 3, 31), -1).unwrap(), d(2026, 2, 28));
        assert_eq!(add_days(d(2026, 12, 31), 1).unwrap(), d(2027, 1, 1));
        assert_eq!(add_days(d(2026, 1, 1), -1).unwrap(), d(2025, 12, 31));
    }

    #[test]
    fn stay_of_zero_or_negative_nights_is_refused() {
        assert_eq!(
            Stay::new(d(2026, 1, 2), d(2026, 1, 1)).unwrap_err().code(),
            "INVALID_INPUT"
        );
        assert!(
            serde_json::from_str::<Stay>(r#"{"check_in":"2026-01-02","check_out":"2026-01-02"}"#)
                .is_err()
        );
    }

    #[test]
    fn manual_clock_never_goes_backwards() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(
            clock
                .set(start - chrono::Duration::seconds(1))
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
        clock.advance(chrono::Duration::seconds(-5));
        assert_eq!(clock.now(), start);
        // Standing still is not going backwards.
        clock.set(start).unwrap();
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn a_manual_clock_refused_an_advance_past_the_last_instant_stays_put() {
        let start = DateTime::<Utc>::MAX_UTC - chrono::Duration::hours(1);
        let clock = ManualClock::new(start);
        let error = clock.try_advance(chrono::Duration::hours(2)).unwrap_err();
        assert_eq!(error.code(), "INVALID_INPUT");
        assert_eq!(clock.now(), start);
        let moved = clock.try_advance(chrono::Duration::minutes(30)).unwrap();
        assert_eq!(moved, start + chrono::Duration::minutes(30));
        assert_eq!(clock.now(), moved);
    }

    #[test]
    #[should_panic(expected = "past the last representable instant")]
    fn advance_past_the_last_instant_panics_with_its_reason() {
        let clock = ManualClock::new(DateTime::<Utc>::MAX_UTC);
        clock.advance(chrono::Duration::seconds(1));
    }

    /// Stays share a night unless one checks out on or before the day the
    /// other checks in; slots share an instant unless one ends on or before
    /// the other's start. Each case both ways round.
    #[test]
    fn overlaps_needs_a_shared_night_or_instant() {
        let stay = |a, b| Stay::new(d(2026, 7, a), d(2026, 7, b)).unwrap();
        let at = |h| Utc.with_ymd_and_hms(2026, 7, 1, h, 0, 0).unwrap();
        let slot = |a, b| Slot::new(at(a), at(b)).unwrap();
        let stays = [
            ((1, 4), (4, 6), false), // back to back: 4 July is a check-out and a check-in
            ((1, 4), (3, 6), true),  // the night of 3 July
            ((1, 4), (2, 3), true),  // inside
            ((1, 4), (1, 4), true),
            ((1, 2), (5, 6), false),
        ];
        for ((a, b), (c, e), shared) in stays {
            assert_eq!(stay(a, b).overlaps(&stay(c, e)), shared, "{a}-{b} {c}-{e}");
            assert_eq!(stay(c, e).overlaps(&stay(a, b)), shared, "{c}-{e} {a}-{b}");
        }
        let slots = [
            ((9, 10), (10, 11), false),
            ((9, 11), (10, 12), true),
            ((9, 12), (10, 11), true),
            ((9, 10), (9, 10), true),
            ((9, 10), (11, 12), false),
        ];
        for ((a, b), (c, e), shared) in slots {
            assert_eq!(slot(a, b).overlaps(&slot(c, e)), shared, "{a}-{b} {c}-{e}");
            assert_eq!(slot(c, e).overlaps(&slot(a, b)), shared, "{c}-{e} {a}-{b}");
        }
    }
}
