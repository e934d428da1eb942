//! Daylight-saving transitions of 2026 in three zones, each direction:
//! civil times to instants, schedules, stays and calendar arithmetic.
//!
//! The dates are checked against the zone database by the first test, so a
//! wrong date here fails loudly rather than testing an ordinary day.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use reservo::schedule::{Buffers, DateRange, ExtraSession, Schedule, ScheduleRule, Weekdays};
use reservo::time::{Disambiguation, Stay, add_days, add_months, days_between, to_instant};

/// A zone, its two 2026 transition days and its offsets in hours.
struct Zone {
    name: &'static str,
    /// The day the clocks jump forward; 02:30 does not exist on it.
    gap_day: NaiveDate,
    /// The day the clocks go back, and a wall time that happens twice.
    fold_day: NaiveDate,
    fold_time: NaiveTime,
    standard: i64,
    summer: i64,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn zones() -> [Zone; 3] {
    [
        Zone {
            name: "America/New_York",
            gap_day: d(2026, 3, 8),
            fold_day: d(2026, 11, 1),
            fold_time: t(1, 30),
            standard: -5,
            summer: -4,
        },
        Zone {
            name: "Europe/Berlin",
            gap_day: d(2026, 3, 29),
            fold_day: d(2026, 10, 25),
            fold_time: t(2, 30),
            standard: 1,
            summer: 2,
        },
        Zone {
            name: "Australia/Sydney",
            gap_day: d(2026, 10, 4),
            fold_day: d(2026, 4, 5),
            fold_time: t(2, 30),
            standard: 10,
            summer: 11,
        },
    ]
}

impl Zone {
    fn tz(&self) -> Tz {
        self.name.parse().unwrap()
    }
    /// The instant of `civil` read with a UTC offset of `hours`.
    fn at_offset(&self, date: NaiveDate, time: NaiveTime, hours: i64) -> DateTime<Utc> {
        Utc.from_utc_datetime(&(date.and_time(time) - Duration::hours(hours)))
    }
}

fn offset_hours(tz: Tz, instant: DateTime<Utc>) -> i64 {
    i64::from(instant.with_timezone(&tz).offset().fix().local_minus_utc()) / 3600
}

fn local_wall(tz: Tz, instant: DateTime<Utc>) -> (NaiveDate, NaiveTime) {
    let local = instant.with_timezone(&tz).naive_local();
    (local.date(), local.time())
}

#[test]
fn transitions_fall_on_the_2026_dates_used_here() {
    for z in zones() {
        let tz = z.tz();
        let noon = |date: NaiveDate| {
            to_instant(tz, date.and_time(t(12, 0)), Disambiguation::Reject).unwrap()
        };
        let before_gap = add_days(z.gap_day, -1).unwrap();
        let before_fold = add_days(z.fold_day, -1).unwrap();
        assert_eq!(offset_hours(tz, noon(before_gap)), z.standard, "{}", z.name);
        assert_eq!(offset_hours(tz, noon(z.gap_day)), z.summer, "{}", z.name);
        assert_eq!(offset_hours(tz, noon(before_fold)), z.summer, "{}", z.name);
        assert_eq!(offset_hours(tz, noon(z.fold_day)), z.standard, "{}", z.name);
    }
}

#[test]
fn gap_time_resolves_per_disambiguation_in_every_zone() {
    for z in zones() {
        let civil = z.gap_day.and_time(t(2, 30));
        let at = |rule| to_instant(z.tz(), civil, rule);
        // Forward: read with the offset before the jump (lands at 03:30).
        let forward = z.at_offset(z.gap_day, t(2, 30), z.standard);
        assert_eq!(
            at(Disambiguation::Compatible).unwrap(),
            forward,
            "{}",
            z.name
        );
        assert_eq!(at(Disambiguation::Later).unwrap(), forward, "{}", z.name);
        assert_eq!(local_wall(z.tz(), forward).1, t(3, 30), "{}", z.name);
        // Backward: read with the offset after the jump (lands at 01:30).
        let backward = z.at_offset(z.gap_day, t(2, 30), z.summer);
        assert_eq!(at(Disambiguation::Earlier).unwrap(), backward, "{}", z.name);
        assert_eq!(local_wall(z.tz(), backward).1, t(1, 30), "{}", z.name);
        let err = at(Disambiguation::Reject).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{}", z.name);
    }
}

#[test]
fn fold_time_resolves_per_disambiguation_in_every_zone() {
    for z in zones() {
        let civil = z.fold_day.and_time(z.fold_time);
        let at = |rule| to_instant(z.tz(), civil, rule);
        let first = z.at_offset(z.fold_day, z.fold_time, z.summer);
        let second = z.at_offset(z.fold_day, z.fold_time, z.standard);
        assert_eq!(second - first, Duration::hours(1));
        assert_eq!(at(Disambiguation::Compatible).unwrap(), first, "{}", z.name);
        assert_eq!(at(Disambiguation::Earlier).unwrap(), first, "{}", z.name);
        assert_eq!(at(Disambiguation::Later).unwrap(), second, "{}", z.name);
        let err = at(Disambiguation::Reject).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{}", z.name);
    }
}

fn daily(times: Vec<NaiveTime>, minutes: u32, dates: DateRange) -> ScheduleRule {
    ScheduleRule::new(Weekdays::ALL, times, minutes, dates).unwrap()
}

#[test]
fn sessions_keep_wall_time_across_transition_and_gap_session_shifts_forward() {
    for z in zones() {
        let tz = z.tz();
        for (day, shift) in [(z.gap_day, -1), (z.fold_day, 1)] {
            let before = add_days(day, -1).unwrap();
            let rule = daily(vec![t(2, 30), t(17, 30)], 60, DateRange::starting(before));
            let schedule = Schedule::new(vec![rule], vec![], vec![], Buffers::NONE).unwrap();
            let got = schedule
                .occurrences(tz, before, add_days(day, 1).unwrap())
                .unwrap();
            assert_eq!(got.len(), 4, "{} {day}", z.name);
            let evening = |i: usize| got[i].slot().start();
            // 17:30 stays 17:30; the instants are 24 h plus the offset change apart.
            assert_eq!(local_wall(tz, evening(1)), (before, t(17, 30)));
            assert_eq!(local_wall(tz, evening(3)), (day, t(17, 30)));
            assert_eq!(
                evening(3) - evening(1),
                Duration::hours(24 + shift),
                "{} {day}",
                z.name
            );
            let night = got[2];
            assert_eq!(night.date(), day);
            assert_eq!(night.start_time(), t(2, 30));
            if day == z.gap_day {
                assert!(night.shifted_by_gap(), "{}", z.name);
                assert_eq!(local_wall(tz, night.slot().start()), (day, t(3, 30)));
            } else {
                assert!(!night.shifted_by_gap(), "{}", z.name);
                assert_eq!(local_wall(tz, night.slot().start()), (day, t(2, 30)));
            }
        }
    }
}

#[test]
fn session_across_a_fold_lasts_its_elapsed_minutes() {
    let z = &zones()[0];
    let tz = z.tz();
    let dates = DateRange::new(z.fold_day, Some(z.fold_day)).unwrap();
    let rule = daily(vec![t(1, 0)], 90, dates);
    let schedule = Schedule::new(vec![rule], vec![], vec![], Buffers::NONE).unwrap();
    let got = schedule.occurrences(tz, z.fold_day, add_days(z.fold_day, 1).unwrap());
    let slot = got.unwrap()[0].slot();
    assert_eq!(slot.duration(), Duration::minutes(90));
    // 01:00 EDT + 90 minutes is 01:30 EST: half an hour on the wall clock.
    assert_eq!(local_wall(tz, slot.end()).1, t(1, 30));
    assert_eq!(offset_hours(tz, slot.end()), z.standard);
}

#[test]
fn buffers_around_a_gap_are_elapsed_minutes() {
    let z = &zones()[0];
    let tz = z.tz();
    let extra = ExtraSession::new(z.gap_day, t(3, 0), 60).unwrap();
    let buffers = Buffers::new(60, 30).unwrap();
    let schedule = Schedule::new(vec![], vec![extra], vec![], buffers).unwrap();
    let got = schedule.occurrences(tz, z.gap_day, add_days(z.gap_day, 1).unwrap());
    let occurrence = got.unwrap()[0];
    // One real hour before 03:00 EDT is 01:00 EST on the wall clock.
    assert_eq!(local_wall(tz, occurrence.occupied().start()).1, t(1, 0));
    assert_eq!(
        occurrence.occupied().end() - occurrence.slot().end(),
        Duration::minutes(30)
    );
}

#[test]
fn stay_over_a_transition_counts_calendar_nights_and_elapsed_hours() {
    for z in zones() {
        let tz = z.tz();
        for (day, shift) in [(z.gap_day, -1), (z.fold_day, 1)] {
            let stay = Stay::new(add_days(day, -1).unwrap(), add_days(day, 2).unwrap()).unwrap();
            assert_eq!(stay.nights(), 3);
            let noon_in = stay.arrival_instant(tz, t(12, 0)).unwrap();
            let noon_out = stay.departure_instant(tz, t(12, 0)).unwrap();
            assert_eq!(
                noon_out - noon_in,
                Duration::hours(24 * 3 + shift),
                "{} {day}",
                z.name
            );
            let arrival = stay.arrival_instant(tz, t(15, 0)).unwrap();
            let departure = stay.departure_instant(tz, t(11, 0)).unwrap();
            assert_eq!(local_wall(tz, arrival), (stay.check_in(), t(15, 0)));
            assert_eq!(local_wall(tz, departure), (stay.check_out(), t(11, 0)));
            assert_eq!(departure - arrival, Duration::hours(24 * 3 - 4 + shift));
        }
    }
}

#[test]
fn new_york_spring_stay_arrives_and_departs_at_the_exact_instants() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let stay = Stay::new(d(2026, 3, 7), d(2026, 3, 9)).unwrap();
    let arrival = stay.arrival_instant(ny, t(15, 0)).unwrap();
    let departure = stay.departure_instant(ny, t(11, 0)).unwrap();
    assert_eq!(arrival, Utc.with_ymd_and_hms(2026, 3, 7, 20, 0, 0).unwrap()); // EST
    assert_eq!(
        departure,
        Utc.with_ymd_and_hms(2026, 3, 9, 15, 0, 0).unwrap()
    ); // EDT
    assert_eq!(departure - arrival, Duration::hours(43));
}

#[test]
fn calendar_months_keep_wall_time_and_clamp_across_transitions() {
    for z in zones() {
        let tz = z.tz();
        for (day, shift) in [(z.gap_day, -1), (z.fold_day, 1)] {
            let month_before = add_months(day, -1).unwrap();
            let nine = |date: NaiveDate| {
                to_instant(tz, date.and_time(t(9, 0)), Disambiguation::Compatible).unwrap()
            };
            let days = days_between(month_before, day);
            assert_eq!(
                nine(day) - nine(month_before),
                Duration::hours(24 * days + shift),
                "{} {day}",
                z.name
            );
            assert_eq!(local_wall(tz, nine(day)).1.hour(), 9);
        }
    }
    // Berlin's gap day is the 29th: a month back clamps to February 28, and
    // a month on from there is the 28th, not the transition day.
    assert_eq!(add_months(d(2026, 3, 29), -1).unwrap(), d(2026, 2, 28));
    assert_eq!(add_months(d(2026, 2, 28), 1).unwrap(), d(2026, 3, 28));
}

#[test]
fn a_year_of_daily_sessions_has_every_session_at_its_wall_time() {
    let year = DateRange::new(d(2026, 1, 1), Some(d(2026, 12, 31))).unwrap();
    for z in zones() {
        let tz = z.tz();
        let rule = daily(vec![t(1, 30), t(2, 30), t(12, 0)], 45, year);
        let schedule = Schedule::new(vec![rule], vec![], vec![], Buffers::NONE).unwrap();
        let got = schedule
            .occurrences(tz, d(2026, 1, 1), d(2027, 1, 1))
            .unwrap();
        assert_eq!(got.len(), 365 * 3, "{}", z.name);
        for o in &got {
            let (date, wall) = local_wall(tz, o.slot().start());
            assert_eq!(date, o.date(), "{}", z.name);
            if o.date() == z.gap_day && o.start_time() == t(2, 30) {
                assert!(o.shifted_by_gap());
                assert_eq!(wall, t(3, 30), "{}", z.name);
            } else {
                assert!(!o.shifted_by_gap(), "{} {}", z.name, o.date());
                assert_eq!(wall, o.start_time(), "{} {}", z.name, o.date());
            }
            if o.date() == z.fold_day && o.start_time() == z.fold_time {
                let first = z.at_offset(z.fold_day, z.fold_time, z.summer);
                assert_eq!(o.slot().start(), first, "{}", z.name);
            }
        }
    }
}

#[test]
fn a_year_of_monday_wednesday_friday_classes_has_312_sessions() {
    let mwf = Weekdays::new([Weekday::Mon, Weekday::Wed, Weekday::Fri]).unwrap();
    let year = DateRange::new(d(2026, 1, 1), Some(d(2026, 12, 31))).unwrap();
    for z in zones() {
        let tz = z.tz();
        let rule = ScheduleRule::new(mwf, vec![t(9, 0), t(17, 30)], 90, year).unwrap();
        let schedule = Schedule::new(vec![rule], vec![], vec![], Buffers::NONE).unwrap();
        // Open the window wider than the rule: nothing outside 2026 appears.
        let got = schedule
            .occurrences(tz, d(2025, 12, 1), d(2027, 2, 1))
            .unwrap();
        // 2026 has 52 Mondays, 52 Wednesdays and 52 Fridays.
        assert_eq!(got.len(), 3 * 52 * 2, "{}", z.name);
        assert!(
            got.iter()
                .all(|o| local_wall(tz, o.slot().start()).1 == o.start_time())
        );
    }
}
