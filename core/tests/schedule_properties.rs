//! Invariants of schedule expansion over random schedules in zones with
//! DST (Lord Howe's transitions are 30 minutes), windows around 2026.

use std::collections::BTreeSet;

use chrono::{Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use reservo::schedule::{
    Buffers, Cancellation, DateRange, ExtraSession, Schedule, ScheduleRule, Weekdays,
};

const ZONES: [&str; 4] = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",
];

fn day(offset: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(offset.into())
}

/// Times cluster in the small hours, where the transitions are.
fn time() -> impl Strategy<Value = NaiveTime> {
    prop_oneof![0u32..24 * 60, 60u32..4 * 60]
        .prop_map(|m| NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap())
}

fn rule() -> impl Strategy<Value = Option<ScheduleRule>> {
    (
        prop::collection::btree_set(0u8..7, 1..=7),
        prop::collection::btree_set(time(), 1..4),
        1u32..600,
        0u32..365,
        prop::option::of(0u32..200),
    )
        .prop_map(|(wd, times, minutes, from, len)| {
            let weekdays =
                Weekdays::new(wd.into_iter().map(|i| Weekday::try_from(i).unwrap())).ok()?;
            let dates = DateRange::new(day(from), len.map(|l| day(from + l))).ok()?;
            ScheduleRule::new(weekdays, times.into_iter().collect(), minutes, dates).ok()
        })
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        prop::collection::vec(rule(), 0..3),
        prop::collection::vec((0u32..365, time(), 1u32..300), 0..4),
        prop::collection::vec((0u32..365, prop::option::of(time())), 0..6),
        0u32..120,
        0u32..120,
    )
        .prop_filter_map(
            "rules must not share a session",
            |(rules, extras, cancels, b, a)| {
                let rules = rules.into_iter().flatten().collect();
                let extras = extras
                    .into_iter()
                    .map(|(d, t, m)| ExtraSession::new(day(d), t, m).unwrap())
                    .collect();
                let mut cancels: Vec<_> = cancels
                    .into_iter()
                    .map(|(d, t)| match t {
                        Some(t) => Cancellation::session(day(d), t).unwrap(),
                        None => Cancellation::whole_day(day(d)),
                    })
                    .collect();
                cancels.sort();
                cancels.dedup();
                Schedule::new(rules, extras, cancels, Buffers::new(b, a).unwrap()).ok()
            },
        )
}

fn window() -> impl Strategy<Value = (Tz, NaiveDate, NaiveDate)> {
    (0..ZONES.len(), 0u32..365, 0u32..45)
        .prop_map(|(z, from, len)| (ZONES[z].parse().unwrap(), day(from), day(from + len)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn expansion_is_sorted_unique_and_deterministic(s in schedule(), (tz, from, to) in window()) {
        let got = s.occurrences(tz, from, to).unwrap();
        prop_assert!(got.windows(2).all(|w| w[0].slot().start() < w[1].slot().start()));
        prop_assert_eq!(&got, &s.occurrences(tz, from, to).unwrap());
        let reordered = Schedule::new(
            s.rules().iter().rev().cloned().collect(),
            s.extra_sessions().iter().rev().copied().collect(),
            s.cancellations().to_vec(),
            s.buffers(),
        ).unwrap();
        prop_assert_eq!(&got, &reordered.occurrences(tz, from, to).unwrap());
    }

    #[test]
    fn sessions_start_at_their_wall_time_unless_it_falls_in_a_gap(
        s in schedule(), (tz, from, to) in window(),
    ) {
        for o in s.occurrences(tz, from, to).unwrap() {
            prop_assert!(from <= o.date() && o.date() < to);
            let civil = o.date().and_time(o.start_time());
            let wall = o.slot().start().with_timezone(&tz).naive_local();
            let in_gap = matches!(tz.from_local_datetime(&civil), LocalResult::None);
            prop_assert_eq!(o.shifted_by_gap(), in_gap);
            if in_gap {
                prop_assert!(wall > civil && wall - civil <= Duration::hours(1));
            } else {
                // A time in a fold takes the earlier of its two instants.
                let earliest = tz.from_local_datetime(&civil).earliest().unwrap().to_utc();
                prop_assert_eq!(o.slot().start(), earliest);
                prop_assert_eq!(wall, civil);
            }
            let b = s.buffers();
            prop_assert_eq!(o.occupied().start(), o.slot().start() - Duration::minutes(b.before_minutes().into()));
            prop_assert_eq!(o.occupied().end(), o.slot().end() + Duration::minutes(b.after_minutes().into()));
        }
    }

    #[test]
    fn occurrence_at_finds_exactly_the_expanded_starts(
        s in schedule(), (tz, from, to) in window(), probes in prop::collection::vec(0i64..45 * 24 * 60, 20),
    ) {
        // Leave a day's margin either side so lookups near the edges are inside.
        let inner_from = from.succ_opt().unwrap();
        let inner_to = to.pred_opt().unwrap();
        let got = s.occurrences(tz, from, to).unwrap();
        let inner: Vec<_> = got.iter().filter(|o| inner_from <= o.date() && o.date() < inner_to).collect();
        let starts: BTreeSet<_> = got.iter().map(|o| o.slot().start()).collect();
        for o in &inner {
            prop_assert_eq!(s.occurrence_at(tz, o.slot().start()), Some(**o));
            for near in [o.slot().start() - Duration::minutes(1), o.slot().start() + Duration::minutes(1)] {
                prop_assert_eq!(s.occurrence_at(tz, near).is_some(), starts.contains(&near));
            }
        }
        let base = tz.from_local_datetime(&inner_from.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap();
        let end = tz.from_local_datetime(&inner_to.and_hms_opt(0, 0, 0).unwrap()).earliest();
        for minute in probes {
            let probe = (base + Duration::minutes(minute)).to_utc();
            if end.is_some_and(|e| probe < e) {
                prop_assert_eq!(s.occurrence_at(tz, probe).is_some(), starts.contains(&probe));
            }
        }
    }

    #[test]
    fn adjacent_windows_expand_to_the_whole(s in schedule(), (tz, from, to) in window(), cut in 0u32..45) {
        let mid = (from + chrono::Days::new(cut.into())).min(to);
        let mut parts = s.occurrences(tz, from, mid).unwrap();
        parts.extend(s.occurrences(tz, mid, to).unwrap());
        prop_assert_eq!(parts, s.occurrences(tz, from, to).unwrap());
    }
}
