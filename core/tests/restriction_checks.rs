//! Behaviour of restriction checks: which rule applies on which date, which
//! violation is reported, and what the error says.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use reservo::Error;
use reservo::error::RestrictionRule;
use reservo::ids::ResourceId;
use reservo::restriction::{BookedAt, DatedRestriction, Lead, Nights, Restriction, Restrictions};
use reservo::schedule::{DateRange, Weekdays};
use reservo::time::Stay;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}
fn n(nights: u32) -> Nights {
    Nights::new(nights).unwrap()
}
fn sydney() -> Tz {
    "Australia/Sydney".parse().unwrap()
}
fn villa() -> ResourceId {
    ResourceId::new("villa-7").unwrap()
}
/// `restriction` on every day of `from ..= until`.
fn on(from: NaiveDate, until: NaiveDate, restriction: Restriction) -> DatedRestriction {
    DatedRestriction {
        dates: DateRange::new(from, Some(until)).unwrap(),
        weekdays: Weekdays::ALL,
        restriction,
    }
}
/// Booked at noon UTC on 1 May 2026, long before July.
fn early() -> BookedAt {
    BookedAt::new(
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap(),
        sydney(),
    )
}
fn stay(from: NaiveDate, to: NaiveDate) -> Stay {
    Stay::new(from, to).unwrap()
}
fn check(entries: Vec<DatedRestriction>, s: Stay) -> Result<(), Error> {
    Restrictions::new(entries).check_stay(&villa(), &s, &early())
}
/// The rule and date of a violation.
fn broke(result: Result<(), Error>) -> (RestrictionRule, NaiveDate, String) {
    match result.unwrap_err() {
        Error::RestrictionViolated {
            rule,
            date,
            detail,
            resource,
        } => {
            assert_eq!(resource, "villa-7");
            (rule, date, detail)
        }
        other => panic!("expected a restriction violation, got {other}"),
    }
}

#[test]
fn min_stay_on_arrival_applies_only_to_arrivals_in_its_range() {
    let rules = || {
        vec![on(
            d(7, 1),
            d(7, 31),
            Restriction::MinStayOnArrival { nights: n(3) },
        )]
    };
    let (rule, date, detail) = broke(check(rules(), stay(d(7, 10), d(7, 12))));
    assert_eq!((rule, date), (RestrictionRule::MinStayOnArrival, d(7, 10)));
    assert_eq!(detail, "2 nights requested, at least 3 required");
    // Arriving the day before the range: its nights inside do not count.
    assert!(check(rules(), stay(d(6, 30), d(7, 2))).is_ok());
}

#[test]
fn min_stay_through_applies_to_a_stay_that_only_touches_its_range() {
    let rules = vec![on(
        d(7, 1),
        d(7, 31),
        Restriction::MinStayThrough { nights: n(3) },
    )];
    let (rule, date, _) = broke(check(rules, stay(d(6, 30), d(7, 2))));
    assert_eq!((rule, date), (RestrictionRule::MinStayThrough, d(7, 1)));
}

#[test]
fn max_stays_cap_the_length_on_arrival_and_through() {
    let arrival = vec![on(
        d(7, 1),
        d(7, 1),
        Restriction::MaxStayOnArrival { nights: n(7) },
    )];
    assert!(check(arrival.clone(), stay(d(7, 1), d(7, 8))).is_ok());
    let (rule, _, detail) = broke(check(arrival, stay(d(7, 1), d(7, 9))));
    assert_eq!(rule, RestrictionRule::MaxStayOnArrival);
    assert_eq!(detail, "8 nights requested, at most 7 allowed");
    let through = vec![on(
        d(7, 20),
        d(7, 20),
        Restriction::MaxStayThrough { nights: n(7) },
    )];
    let (rule, date, _) = broke(check(through, stay(d(7, 15), d(7, 25))));
    assert_eq!((rule, date), (RestrictionRule::MaxStayThrough, d(7, 20)));
}

#[test]
fn closed_to_arrival_on_saturdays_only() {
    let saturdays = vec![DatedRestriction {
        dates: DateRange::starting(d(1, 1)),
        weekdays: Weekdays::new([Weekday::Sat]).unwrap(),
        restriction: Restriction::ClosedToArrival,
    }];
    let (rule, date, _) = broke(check(saturdays.clone(), stay(d(7, 4), d(7, 6))));
    assert_eq!((rule, date), (RestrictionRule::ClosedToArrival, d(7, 4)));
    assert!(check(saturdays, stay(d(7, 3), d(7, 6))).is_ok()); // through a Saturday
}

#[test]
fn closed_to_departure_reads_the_check_out_date() {
    let rules = || vec![on(d(7, 5), d(7, 5), Restriction::ClosedToDeparture)];
    let (rule, date, _) = broke(check(rules(), stay(d(7, 3), d(7, 5))));
    assert_eq!((rule, date), (RestrictionRule::ClosedToDeparture, d(7, 5)));
    assert!(check(rules(), stay(d(7, 3), d(7, 6))).is_ok());
}

#[test]
fn stop_sell_blocks_any_night_but_not_the_departure_day() {
    let rules = || vec![on(d(7, 5), d(7, 6), Restriction::StopSell)];
    let (rule, date, _) = broke(check(rules(), stay(d(7, 1), d(7, 10))));
    assert_eq!((rule, date), (RestrictionRule::StopSell, d(7, 5)));
    assert!(check(rules(), stay(d(7, 1), d(7, 5))).is_ok());
}

#[test]
fn overlapping_entries_apply_the_strictest_whatever_their_order() {
    let min3 = on(
        d(7, 1),
        d(7, 31),
        Restriction::MinStayOnArrival { nights: n(3) },
    );
    let min5 = on(
        d(7, 10),
        d(7, 20),
        Restriction::MinStayOnArrival { nights: n(5) },
    );
    for entries in [vec![min3, min5], vec![min5, min3]] {
        let (_, _, detail) = broke(check(entries.clone(), stay(d(7, 12), d(7, 14))));
        assert_eq!(detail, "2 nights requested, at least 5 required");
        assert!(check(entries.clone(), stay(d(7, 12), d(7, 16))).is_err());
        assert!(check(entries, stay(d(7, 12), d(7, 17))).is_ok());
    }
}

#[test]
fn the_first_rule_in_the_documented_order_is_reported() {
    let entries = vec![
        on(
            d(7, 1),
            d(7, 31),
            Restriction::MinStayThrough { nights: n(9) },
        ),
        on(
            d(7, 1),
            d(7, 31),
            Restriction::MinStayOnArrival { nights: n(9) },
        ),
        on(d(7, 1), d(7, 31), Restriction::ClosedToDeparture),
        on(d(7, 1), d(7, 31), Restriction::ClosedToArrival),
        on(d(7, 12), d(7, 13), Restriction::StopSell),
    ];
    let (rule, date, _) = broke(check(entries.clone(), stay(d(7, 10), d(7, 14))));
    assert_eq!((rule, date), (RestrictionRule::StopSell, d(7, 12)));
    let (rule, _, _) = broke(check(entries[..4].to_vec(), stay(d(7, 10), d(7, 14))));
    assert_eq!(rule, RestrictionRule::ClosedToArrival);
    let (rule, _, _) = broke(check(entries[..2].to_vec(), stay(d(7, 10), d(7, 14))));
    assert_eq!(rule, RestrictionRule::MinStayOnArrival);
}

#[test]
fn stay_lead_counts_calendar_days_in_the_property_zone() {
    let rules = Restrictions::new(vec![on(
        d(7, 10),
        d(7, 10),
        Restriction::MinAdvance {
            lead: Lead::Days(1),
        },
    )]);
    let s = stay(d(7, 10), d(7, 12));
    // 23:59 AEST on the 9th is one calendar day ahead; 00:01 on the 10th is none.
    let late_evening = BookedAt::new(
        Utc.with_ymd_and_hms(2026, 7, 9, 13, 59, 0).unwrap(),
        sydney(),
    );
    assert!(rules.check_stay(&villa(), &s, &late_evening).is_ok());
    let after_midnight = BookedAt::new(
        Utc.with_ymd_and_hms(2026, 7, 9, 14, 1, 0).unwrap(),
        sydney(),
    );
    let (rule, date, detail) = broke(rules.check_stay(&villa(), &s, &after_midnight));
    assert_eq!((rule, date), (RestrictionRule::MinAdvance, d(7, 10)));
    assert_eq!(detail, "booked 0 days ahead, at least 1 required");
}

#[test]
fn max_advance_in_days_bounds_stays_and_slots() {
    let rules = Restrictions::new(vec![on(
        d(1, 1),
        d(12, 31),
        Restriction::MaxAdvance {
            lead: Lead::Days(60),
        },
    )]);
    let booked = early(); // 1 May, Sydney
    assert!(
        rules
            .check_stay(&villa(), &stay(d(6, 30), d(7, 1)), &booked)
            .is_ok()
    );
    let (rule, _, _) = broke(rules.check_stay(&villa(), &stay(d(7, 1), d(7, 2)), &booked));
    assert_eq!(rule, RestrictionRule::MaxAdvance);
    let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let (rule, _, _) = broke(rules.check_slot(&villa(), d(7, 1), start, &booked));
    assert_eq!(rule, RestrictionRule::MaxAdvance);
}

fn slot_rules(restriction: Restriction) -> Restrictions {
    Restrictions::new(vec![on(d(3, 1), d(3, 31), restriction)])
}
fn slot_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap()
}
fn check_slot_booked(rules: &Restrictions, before: Duration) -> Result<(), Error> {
    let booked = BookedAt::new(slot_start() - before, sydney());
    rules.check_slot(&villa(), d(3, 10), slot_start(), &booked)
}

#[test]
fn slot_lead_in_minutes_is_elapsed_time_to_the_start() {
    let min = slot_rules(Restriction::MinAdvance {
        lead: Lead::Minutes(60),
    });
    assert!(check_slot_booked(&min, Duration::minutes(60)).is_ok());
    let (rule, date, detail) = broke(check_slot_booked(&min, Duration::seconds(3599)));
    assert_eq!((rule, date), (RestrictionRule::MinAdvance, d(3, 10)));
    assert_eq!(detail, "booked 59 minutes ahead, at least 60 required");
    let max = slot_rules(Restriction::MaxAdvance {
        lead: Lead::Minutes(24 * 60),
    });
    assert!(check_slot_booked(&max, Duration::hours(24)).is_ok());
    assert!(check_slot_booked(&max, Duration::hours(25)).is_err());
}

#[test]
fn slots_read_stop_sell_and_ignore_stay_rules() {
    let stopped = slot_rules(Restriction::StopSell);
    let (rule, _, _) = broke(check_slot_booked(&stopped, Duration::days(3)));
    assert_eq!(rule, RestrictionRule::StopSell);
    let stay_only = Restrictions::new(vec![
        on(d(3, 1), d(3, 31), Restriction::ClosedToArrival),
        on(
            d(3, 1),
            d(3, 31),
            Restriction::MinStayThrough { nights: n(9) },
        ),
    ]);
    assert!(check_slot_booked(&stay_only, Duration::days(3)).is_ok());
}

#[test]
fn minute_leads_do_not_apply_to_stays() {
    let rules = vec![on(
        d(7, 1),
        d(7, 31),
        Restriction::MinAdvance {
            lead: Lead::Minutes(1_000_000),
        },
    )];
    assert!(check(rules, stay(d(7, 10), d(7, 12))).is_ok());
}

#[test]
fn restrictions_round_trip_through_json_and_deserializing_validates() {
    let json = r#"[
        {"dates":{"from":"2026-07-01","until":"2026-08-31"},"weekdays":["fri","sat"],
         "restriction":{"rule":"min_stay_on_arrival","nights":3}},
        {"dates":{"from":"2026-12-24","until":"2026-12-26"},"restriction":{"rule":"stop_sell"}},
        {"dates":{"from":"2026-01-01"},"restriction":{"rule":"min_advance","lead":{"minutes":120}}}
    ]"#;
    let rules: Restrictions = serde_json::from_str(json).unwrap();
    assert_eq!(rules.entries().len(), 3);
    let again = serde_json::to_string(&rules).unwrap();
    assert_eq!(serde_json::from_str::<Restrictions>(&again).unwrap(), rules);
    let missing = json.replace(r#","lead":{"minutes":120}"#, "");
    let err = serde_json::from_str::<Restrictions>(&missing).unwrap_err();
    assert!(err.to_string().contains("missing field `lead`"), "{err}");
    for bad in [
        json.replace(r#""nights":3"#, r#""nights":0"#),
        json.replace(r#""until":"2026-08-31""#, r#""until":"2026-06-30""#),
        json.replace(r#""stop_sell""#, r#""stop_selling""#),
    ] {
        assert!(serde_json::from_str::<Restrictions>(&bad).is_err(), "{bad}");
    }
    // A misspelt field is refused, not ignored: ignored, `weekday` would
    // make the rule apply every day and `untill` never end.
    for (bad, named) in [
        (json.replace(r#""weekdays""#, r#""weekday""#), "weekday"),
        (
            json.replace(r#""until":"2026-12-26""#, r#""untill":"2026-12-26""#),
            "untill",
        ),
        (
            json.replace(r#""nights":3"#, r#""nights":3,"night":4"#),
            "night",
        ),
        (
            json.replace(
                r#"{"rule":"stop_sell"}"#,
                r#"{"rule":"stop_sell","weekdays":["sat"]}"#,
            ),
            "weekdays",
        ),
        (
            json.replace(
                r#"{"rule":"stop_sell"}"#,
                r#"{"rule":"stop_sell","nights":2}"#,
            ),
            "nights",
        ),
        (
            json.replace(r#""minutes":120}"#, r#""minutes":120},"nights":2"#),
            "nights",
        ),
        (
            json.replace(r#""nights":3"#, r#""lead":{"days":3}"#),
            "lead",
        ),
    ] {
        let err = serde_json::from_str::<Restrictions>(&bad).expect_err(named);
        assert!(
            err.to_string()
                .contains(&format!("unknown field `{named}`")),
            "{err}"
        );
    }
}

#[test]
fn stay_lengths_at_the_limit_are_allowed_through_the_range() {
    let min = || {
        vec![on(
            d(7, 1),
            d(7, 31),
            Restriction::MinStayThrough { nights: n(3) },
        )]
    };
    assert!(check(min(), stay(d(6, 30), d(7, 3))).is_ok(), "exactly 3");
    assert!(check(min(), stay(d(7, 10), d(7, 14))).is_ok(), "4 nights");
    let (_, _, detail) = broke(check(min(), stay(d(7, 30), d(8, 1))));
    assert_eq!(detail, "2 nights requested, at least 3 required");
    let max = || {
        vec![on(
            d(7, 20),
            d(7, 20),
            Restriction::MaxStayThrough { nights: n(7) },
        )]
    };
    assert!(check(max(), stay(d(7, 14), d(7, 21))).is_ok(), "exactly 7");
    assert!(check(max(), stay(d(7, 19), d(7, 21))).is_ok(), "2 nights");
}

#[test]
fn slot_lead_in_days_counts_calendar_days_in_the_property_zone() {
    let min = slot_rules(Restriction::MinAdvance {
        lead: Lead::Days(2),
    });
    // Midnight UTC is 11:00 in Sydney in March (daylight time).
    let booked_on = |day| {
        BookedAt::new(
            Utc.with_ymd_and_hms(2026, 3, day, 0, 0, 0).unwrap(),
            sydney(),
        )
    };
    assert_eq!(booked_on(8).local_date(), d(3, 8));
    let check_on = |rules: &Restrictions, day| {
        rules.check_slot(&villa(), d(3, 10), slot_start(), &booked_on(day))
    };
    assert!(check_on(&min, 8).is_ok(), "2 days ahead");
    assert!(check_on(&min, 1).is_ok(), "9 days ahead");
    let (rule, date, detail) = broke(check_on(&min, 9));
    assert_eq!((rule, date), (RestrictionRule::MinAdvance, d(3, 10)));
    assert_eq!(detail, "booked 1 days ahead, at least 2 required");
    let max = slot_rules(Restriction::MaxAdvance {
        lead: Lead::Days(7),
    });
    assert!(check_on(&max, 3).is_ok(), "7 days ahead");
    assert!(check_on(&max, 9).is_ok(), "1 day ahead");
    let (rule, _, detail) = broke(check_on(&max, 2));
    assert_eq!(rule, RestrictionRule::MaxAdvance);
    assert_eq!(detail, "booked 8 days ahead, at most 7 allowed");
}

#[test]
fn the_largest_minimum_is_reported_for_advance_and_stay_through() {
    let advance = |days| {
        on(
            d(5, 1),
            d(5, 31),
            Restriction::MinAdvance {
                lead: Lead::Days(days),
            },
        )
    };
    let through = |nights| {
        on(
            d(7, 1),
            d(7, 31),
            Restriction::MinStayThrough { nights: n(nights) },
        )
    };
    for entries in [vec![advance(3), advance(10)], vec![advance(10), advance(3)]] {
        // Booked on 1 May for 2 May.
        let (rule, _, detail) = broke(check(entries, stay(d(5, 2), d(5, 3))));
        assert_eq!(rule, RestrictionRule::MinAdvance);
        assert_eq!(detail, "booked 1 days ahead, at least 10 required");
    }
    for entries in [vec![through(3), through(5)], vec![through(5), through(3)]] {
        let (_, _, detail) = broke(check(entries, stay(d(7, 10), d(7, 12))));
        assert_eq!(detail, "2 nights requested, at least 5 required");
    }
}

#[test]
fn closed_dates_say_what_is_closed() {
    let arrival = vec![on(d(7, 4), d(7, 4), Restriction::ClosedToArrival)];
    let (_, _, detail) = broke(check(arrival, stay(d(7, 4), d(7, 6))));
    assert_eq!(detail, "arrival is closed");
    let departure = vec![on(d(7, 6), d(7, 6), Restriction::ClosedToDeparture)];
    let (_, _, detail) = broke(check(departure, stay(d(7, 4), d(7, 6))));
    assert_eq!(detail, "departure is closed");
    let stopped = vec![on(d(7, 5), d(7, 5), Restriction::StopSell)];
    let (_, _, detail) = broke(check(stopped, stay(d(7, 4), d(7, 6))));
    assert_eq!(detail, "sales are stopped");
}
