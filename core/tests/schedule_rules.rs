//! Behaviour of schedules: validation, exceptions, lookup and JSON shape.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use reservo::schedule::{
    Buffers, Cancellation, DateRange, ExtraSession, MAX_EXPANSION_DAYS, MAX_SESSION_MINUTES,
    Occurrence, Schedule, ScheduleRule, Weekdays,
};

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}
fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}
fn days(list: &[Weekday]) -> Weekdays {
    Weekdays::new(list.iter().copied()).unwrap()
}
fn berlin() -> Tz {
    "Europe/Berlin".parse().unwrap()
}
/// Mon/Wed/Fri at 09:00 and 17:30 for 90 minutes, January to June 2026.
fn yoga() -> ScheduleRule {
    let mwf = days(&[Weekday::Mon, Weekday::Wed, Weekday::Fri]);
    let dates = DateRange::new(d(1, 5), Some(d(6, 30))).unwrap();
    ScheduleRule::new(mwf, vec![t(9, 0), t(17, 30)], 90, dates).unwrap()
}
fn starts(list: &[Occurrence]) -> Vec<(NaiveDate, NaiveTime)> {
    list.iter().map(|o| (o.date(), o.start_time())).collect()
}

#[test]
fn rule_parts_that_cannot_run_are_refused() {
    let mon = days(&[Weekday::Mon]);
    let dates = DateRange::starting(d(1, 5));
    let cases = [
        ScheduleRule::new(mon, vec![], 60, dates),
        ScheduleRule::new(mon, vec![t(9, 0)], 0, dates),
        ScheduleRule::new(mon, vec![t(9, 0), t(9, 0)], 60, dates),
        ScheduleRule::new(
            mon,
            vec![NaiveTime::from_hms_opt(9, 0, 30).unwrap()],
            60,
            dates,
        ),
    ];
    for case in cases {
        assert_eq!(case.unwrap_err().code(), "INVALID_INPUT");
    }
    assert_eq!(Weekdays::new([]).unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(
        DateRange::new(d(2, 1), Some(d(1, 31))).unwrap_err().code(),
        "INVALID_INPUT"
    );
}

#[test]
fn deserializing_a_rule_validates_and_names_the_bad_value() {
    let ok = r#"{"weekdays":["mon"],"start_times":["09:00"],"duration_minutes":60,
                 "dates":{"from":"2026-01-05"}}"#;
    assert!(serde_json::from_str::<ScheduleRule>(ok).is_ok());
    let bad = [
        (ok.replace(r#"["mon"]"#, "[]"), "weekday"),
        (ok.replace("60", "0"), "0 minutes"),
        (ok.replace(r#"["09:00"]"#, r#"["09:00","09:00"]"#), "09:00"),
        (
            ok.replace(
                r#""from":"2026-01-05""#,
                r#""from":"2026-01-05","until":"2026-01-04""#,
            ),
            "2026-01-04",
        ),
    ];
    for (json, named) in bad {
        let err = serde_json::from_str::<ScheduleRule>(&json).unwrap_err();
        assert!(err.to_string().contains(named), "{named}: {err}");
    }
}

/// A misspelt field is refused, not ignored: ignored, `cancelations`
/// would leave the sessions it cancels on sale.
#[test]
fn misspelt_fields_of_a_schedule_are_refused() {
    let schedule = r#"{"rules": [{"weekdays": ["mon"], "start_times": ["09:00"],
                                  "duration_minutes": 60, "dates": {"from": "2026-01-05"}}],
                       "extra_sessions": [{"date": "2026-01-07", "start_time": "10:00",
                                           "duration_minutes": 30}],
                       "cancellations": [{"date": "2026-01-12"}],
                       "buffers": {"before_minutes": 5}}"#;
    assert!(serde_json::from_str::<Schedule>(schedule).is_ok());
    for (from, to) in [
        (r#""cancellations""#, r#""cancelations""#),
        (r#""weekdays""#, r#""weekday""#),
        (
            r#""from": "2026-01-05""#,
            r#""from": "2026-01-05", "till": "2026-02-01""#,
        ),
        (
            r#""duration_minutes": 30"#,
            r#""duration_minutes": 30, "seats": 4"#,
        ),
        (
            r#"{"date": "2026-01-12"}"#,
            r#"{"date": "2026-01-12", "time": "09:00"}"#,
        ),
        (r#""before_minutes""#, r#""before""#),
    ] {
        let bad = schedule.replace(from, to);
        assert_ne!(bad, schedule);
        let err = serde_json::from_str::<Schedule>(&bad).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{to}: {err}");
    }
}

#[test]
fn two_rules_with_the_same_session_are_refused() {
    let mon_wed = days(&[Weekday::Mon, Weekday::Wed]);
    let other = ScheduleRule::new(mon_wed, vec![t(17, 30)], 60, DateRange::starting(d(3, 1)));
    let err = Schedule::new(vec![yoga(), other.unwrap()], vec![], vec![], Buffers::NONE);
    assert!(err.unwrap_err().to_string().contains("17:30"));
}

#[test]
fn rules_sharing_a_time_but_no_date_are_accepted() {
    let mon = days(&[Weekday::Mon]);
    // Both run Mondays at 09:00, but their ranges share only Tue-Wed 6-7 Jan.
    let first = ScheduleRule::new(
        mon,
        vec![t(9, 0)],
        60,
        DateRange::new(d(1, 1), Some(d(1, 7))).unwrap(),
    );
    let second = ScheduleRule::new(mon, vec![t(9, 0)], 60, DateRange::starting(d(1, 6)));
    let tue = ScheduleRule::new(
        days(&[Weekday::Tue]),
        vec![t(9, 0)],
        60,
        DateRange::starting(d(1, 1)),
    );
    let rules = vec![first.unwrap(), second.unwrap(), tue.unwrap()];
    assert!(Schedule::new(rules, vec![], vec![], Buffers::NONE).is_ok());
}

#[test]
fn cancellations_remove_rule_sessions_but_never_extra_sessions() {
    let replacement = ExtraSession::new(d(1, 7), t(10, 0), 60).unwrap();
    let cancellations = vec![
        Cancellation::whole_day(d(1, 7)),
        Cancellation::session(d(1, 9), t(17, 30)).unwrap(),
    ];
    let schedule = Schedule::new(
        vec![yoga()],
        vec![replacement],
        cancellations,
        Buffers::NONE,
    )
    .unwrap();
    let week = schedule.occurrences(berlin(), d(1, 5), d(1, 12)).unwrap();
    assert_eq!(
        starts(&week),
        [
            (d(1, 5), t(9, 0)),
            (d(1, 5), t(17, 30)),
            (d(1, 7), t(10, 0)),
            (d(1, 9), t(9, 0))
        ]
    );
}

#[test]
fn extra_session_on_a_live_rule_session_is_refused_unless_it_is_cancelled() {
    let clash = ExtraSession::new(d(1, 7), t(9, 0), 60).unwrap();
    let err = Schedule::new(vec![yoga()], vec![clash], vec![], Buffers::NONE).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("2026-01-07"));
    let cancelled = vec![Cancellation::session(d(1, 7), t(9, 0)).unwrap()];
    let schedule = Schedule::new(vec![yoga()], vec![clash], cancelled, Buffers::NONE).unwrap();
    let day = schedule.occurrences(berlin(), d(1, 7), d(1, 8)).unwrap();
    assert_eq!(day[0].slot().duration(), Duration::minutes(60));
}

#[test]
fn the_same_exception_twice_is_refused() {
    let extra = ExtraSession::new(d(1, 10), t(10, 0), 60).unwrap();
    assert!(Schedule::new(vec![], vec![extra, extra], vec![], Buffers::NONE).is_err());
    let off = Cancellation::whole_day(d(1, 7));
    assert!(Schedule::new(vec![yoga()], vec![], vec![off, off], Buffers::NONE).is_err());
}

#[test]
fn open_ended_rule_keeps_running() {
    let sun = ScheduleRule::new(
        days(&[Weekday::Sun]),
        vec![t(11, 0)],
        120,
        DateRange::starting(d(1, 4)),
    );
    let schedule = Schedule::new(vec![sun.unwrap()], vec![], vec![], Buffers::NONE).unwrap();
    let far = NaiveDate::from_ymd_opt(2028, 12, 31).unwrap(); // a Sunday
    let got = schedule
        .occurrences(berlin(), far, far.succ_opt().unwrap())
        .unwrap();
    assert_eq!(starts(&got), [(far, t(11, 0))]);
}

#[test]
fn a_gap_shift_onto_another_session_keeps_the_unshifted_one() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let rule = ScheduleRule::new(
        Weekdays::ALL,
        vec![t(2, 30), t(3, 30)],
        30,
        DateRange::starting(d(3, 7)),
    );
    let schedule = Schedule::new(vec![rule.unwrap()], vec![], vec![], Buffers::NONE).unwrap();
    let gap_day = schedule.occurrences(ny, d(3, 8), d(3, 9)).unwrap();
    assert_eq!(gap_day.len(), 1);
    assert_eq!(gap_day[0].start_time(), t(3, 30));
    assert!(!gap_day[0].shifted_by_gap());
    assert_eq!(schedule.occurrences(ny, d(3, 7), d(3, 8)).unwrap().len(), 2);
}

#[test]
fn occurrence_at_finds_sessions_and_nothing_else() {
    let extra = ExtraSession::new(d(1, 10), t(10, 0), 60).unwrap();
    let off = Cancellation::session(d(1, 5), t(9, 0)).unwrap();
    let schedule = Schedule::new(
        vec![yoga()],
        vec![extra],
        vec![off],
        Buffers::new(10, 20).unwrap(),
    )
    .unwrap();
    let tz = berlin();
    let at = |h, m| Utc.with_ymd_and_hms(2026, 1, 5, h, m, 0).unwrap();
    assert!(schedule.occurrence_at(tz, at(8, 0)).is_none()); // 09:00 CET, cancelled
    let evening = schedule.occurrence_at(tz, at(16, 30)).unwrap(); // 17:30 CET
    assert_eq!(evening.start_time(), t(17, 30));
    assert_eq!(evening.occupied().start(), at(16, 20));
    assert_eq!(evening.occupied().end(), at(18, 20));
    assert!(schedule.occurrence_at(tz, at(16, 31)).is_none());
    let saturday = Utc.with_ymd_and_hms(2026, 1, 10, 9, 0, 0).unwrap();
    assert_eq!(
        schedule.occurrence_at(tz, saturday).unwrap().date(),
        d(1, 10)
    );
}

#[test]
fn occurrences_refuse_inverted_or_oversized_ranges() {
    let schedule = Schedule::new(vec![yoga()], vec![], vec![], Buffers::NONE).unwrap();
    assert!(
        schedule
            .occurrences(berlin(), d(1, 5), d(1, 5))
            .unwrap()
            .is_empty()
    );
    let inverted = schedule
        .occurrences(berlin(), d(1, 6), d(1, 5))
        .unwrap_err();
    assert_eq!(inverted.code(), "INVALID_INPUT");
    let to = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    assert_eq!(
        schedule
            .occurrences(berlin(), d(1, 1), to)
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
}

#[test]
fn schedule_round_trips_through_json_and_deserializing_validates() {
    let extra = ExtraSession::new(d(1, 10), t(10, 0), 60).unwrap();
    let off = Cancellation::whole_day(d(1, 7));
    let schedule = Schedule::new(
        vec![yoga()],
        vec![extra],
        vec![off],
        Buffers::new(15, 0).unwrap(),
    )
    .unwrap();
    let json = serde_json::to_string(&schedule).unwrap();
    assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), schedule);
    let minimal: Schedule = serde_json::from_str(r#"{"rules":[]}"#).unwrap();
    assert_eq!(minimal.buffers(), Buffers::NONE);
    let clash = json.replace(r#""start_time":"10:00:00""#, r#""start_time":"09:00:00""#);
    let clash = clash.replace(r#""date":"2026-01-10""#, r#""date":"2026-01-09""#);
    let err = serde_json::from_str::<Schedule>(&clash).unwrap_err();
    assert!(err.to_string().contains("2026-01-09"), "{err}");
}

#[test]
fn occurrence_json_must_occupy_its_slot() {
    let schedule =
        Schedule::new(vec![yoga()], vec![], vec![], Buffers::new(5, 5).unwrap()).unwrap();
    let first = schedule.occurrences(berlin(), d(1, 5), d(1, 6)).unwrap()[0];
    let json = serde_json::to_string(&first).unwrap();
    assert_eq!(serde_json::from_str::<Occurrence>(&json).unwrap(), first);
    let shrunk = json.replace("07:55:00", "08:05:00"); // occupied starts after the slot
    assert!(serde_json::from_str::<Occurrence>(&shrunk).is_err());
}

#[test]
fn an_extra_session_at_a_new_time_or_on_a_rest_day_is_accepted() {
    // Wednesday the 14th runs the rule, at 09:00 and 17:30 only; Tuesday
    // the 13th does not run it at all.
    let noon_wednesday = ExtraSession::new(d(1, 14), t(12, 0), 60).unwrap();
    let tuesday_nine = ExtraSession::new(d(1, 13), t(9, 0), 60).unwrap();
    let schedule = Schedule::new(
        vec![yoga()],
        vec![noon_wednesday, tuesday_nine],
        vec![],
        Buffers::NONE,
    )
    .unwrap();
    // Expanding each day alone finds its own extra session.
    let tuesday = schedule.occurrences(berlin(), d(1, 13), d(1, 14)).unwrap();
    assert_eq!(starts(&tuesday), [(d(1, 13), t(9, 0))]);
    let wednesday = schedule.occurrences(berlin(), d(1, 14), d(1, 15)).unwrap();
    assert_eq!(
        starts(&wednesday),
        [
            (d(1, 14), t(9, 0)),
            (d(1, 14), t(12, 0)),
            (d(1, 14), t(17, 30))
        ]
    );
}

#[test]
fn a_cancellation_listed_twice_is_named_in_the_error() {
    let session = Cancellation::session(d(1, 9), t(17, 30)).unwrap();
    let err =
        Schedule::new(vec![yoga()], vec![], vec![session, session], Buffers::NONE).unwrap_err();
    assert!(
        err.to_string()
            .contains("the session on 2026-01-09 at 17:30:00 is cancelled twice"),
        "{err}"
    );
    let day = Cancellation::whole_day(d(1, 7));
    let err = Schedule::new(vec![yoga()], vec![], vec![day, day], Buffers::NONE).unwrap_err();
    assert!(
        err.to_string().contains("2026-01-07 is cancelled twice"),
        "{err}"
    );
}

#[test]
fn occurrences_expand_at_most_the_longest_range_in_one_call() {
    let schedule = Schedule::new(vec![yoga()], vec![], vec![], Buffers::NONE).unwrap();
    let from = d(1, 1);
    let longest = from + Duration::days(i64::from(MAX_EXPANSION_DAYS));
    assert!(schedule.occurrences(berlin(), from, longest).is_ok());
    let err = schedule
        .occurrences(berlin(), from, longest + Duration::days(1))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn occurrence_json_may_occupy_exactly_its_slot_but_not_end_early() {
    let schedule = Schedule::new(vec![yoga()], vec![], vec![], Buffers::NONE).unwrap();
    let first = schedule.occurrences(berlin(), d(1, 5), d(1, 6)).unwrap()[0];
    assert_eq!(first.occupied(), first.slot());
    let json = serde_json::to_string(&first).unwrap();
    assert_eq!(serde_json::from_str::<Occurrence>(&json).unwrap(), first);
    // Occupied ending one minute before the slot does is refused.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let early_end = first.slot().end() - Duration::minutes(1);
    value["occupied"]["end"] = serde_json::to_value(early_end).unwrap();
    let err = serde_json::from_value::<Occurrence>(value).unwrap_err();
    assert!(
        err.to_string().contains("does not contain the slot"),
        "{err}"
    );
}

#[test]
fn weekdays_contain_exactly_their_days() {
    let weekend = days(&[Weekday::Sat, Weekday::Sun]);
    let all: Vec<Weekday> = (0..7).map(|i| Weekday::try_from(i).unwrap()).collect();
    let held: Vec<Weekday> = all
        .iter()
        .copied()
        .filter(|&w| weekend.contains(w))
        .collect();
    assert_eq!(held, [Weekday::Sat, Weekday::Sun]);
    let monday = days(&[Weekday::Mon]);
    assert!(monday.contains(Weekday::Mon) && !monday.contains(Weekday::Tue));
    assert!(all.iter().all(|&w| Weekdays::ALL.contains(w)));
}

#[test]
fn sessions_last_one_minute_to_seven_days() {
    let week = 7 * 24 * 60;
    assert_eq!(MAX_SESSION_MINUTES, week);
    let rule = |minutes| {
        let dates = DateRange::new(d(1, 5), Some(d(6, 30))).unwrap();
        ScheduleRule::new(days(&[Weekday::Mon]), vec![t(9, 0)], minutes, dates)
    };
    for minutes in [1, week] {
        assert!(rule(minutes).is_ok(), "{minutes}");
        assert!(ExtraSession::new(d(1, 6), t(9, 0), minutes).is_ok());
    }
    for minutes in [0, week + 1] {
        assert_eq!(rule(minutes).unwrap_err().code(), "INVALID_INPUT");
        let extra = ExtraSession::new(d(1, 6), t(9, 0), minutes);
        assert_eq!(extra.unwrap_err().code(), "INVALID_INPUT");
    }
}

#[test]
fn a_date_range_reports_its_ends() {
    let bounded = DateRange::new(d(1, 5), Some(d(6, 30))).unwrap();
    assert_eq!((bounded.from(), bounded.until()), (d(1, 5), Some(d(6, 30))));
    assert_eq!(DateRange::starting(d(1, 5)).until(), None);
}
