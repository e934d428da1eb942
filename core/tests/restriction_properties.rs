//! Invariants of restriction checks over random rules, stays and slots.

use chrono::{Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use reservo::Error;
use reservo::ids::ResourceId;
use reservo::restriction::{BookedAt, DatedRestriction, Lead, Nights, Restriction, Restrictions};
use reservo::schedule::{DateRange, Weekdays};
use reservo::time::Stay;

fn day(offset: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(offset.into())
}

fn restriction() -> impl Strategy<Value = Restriction> {
    let nights = (1u32..15).prop_map(|n| Nights::new(n).unwrap());
    let lead = prop_oneof![
        (0u32..40).prop_map(Lead::Days),
        (0u32..5000).prop_map(Lead::Minutes)
    ];
    prop_oneof![
        nights
            .clone()
            .prop_map(|nights| Restriction::MinStayOnArrival { nights }),
        nights
            .clone()
            .prop_map(|nights| Restriction::MaxStayOnArrival { nights }),
        nights
            .clone()
            .prop_map(|nights| Restriction::MinStayThrough { nights }),
        nights.prop_map(|nights| Restriction::MaxStayThrough { nights }),
        Just(Restriction::ClosedToArrival),
        Just(Restriction::ClosedToDeparture),
        lead.clone()
            .prop_map(|lead| Restriction::MinAdvance { lead }),
        lead.prop_map(|lead| Restriction::MaxAdvance { lead }),
        Just(Restriction::StopSell),
    ]
}

fn entry_with(
    restriction: impl Strategy<Value = Restriction>,
) -> impl Strategy<Value = DatedRestriction> {
    (
        prop::collection::btree_set(0u8..7, 1..=7),
        0u32..90,
        prop::option::of(0u32..60),
        restriction,
    )
        .prop_map(|(wd, from, len, restriction)| DatedRestriction {
            dates: DateRange::new(day(from), len.map(|l| day(from + l))).unwrap(),
            weekdays: Weekdays::new(wd.into_iter().map(|i| Weekday::try_from(i).unwrap())).unwrap(),
            restriction,
        })
}

fn entries() -> impl Strategy<Value = Vec<DatedRestriction>> {
    prop::collection::vec(entry_with(restriction()), 0..8)
}

fn stay() -> impl Strategy<Value = Stay> {
    (0u32..100, 1u32..20)
        .prop_map(|(from, nights)| Stay::new(day(from), day(from + nights)).unwrap())
}

fn booked() -> impl Strategy<Value = BookedAt> {
    (0i64..120 * 24 * 60).prop_map(|m| {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        BookedAt::new(
            Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap() + Duration::minutes(m),
            tz,
        )
    })
}

fn resource() -> ResourceId {
    ResourceId::new("room-101").unwrap()
}

/// The code, date and message of a result, comparable across runs.
fn outcome(result: Result<(), Error>) -> Option<String> {
    result.err().map(|e| format!("{} {e}", e.code()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_stay_violation_is_dated_inside_the_stay_or_on_departure(
        rules in entries(), s in stay(), at in booked(),
    ) {
        if let Err(err) = Restrictions::new(rules).check_stay(&resource(), &s, &at) {
            match err {
                Error::RestrictionViolated { date, .. } => {
                    prop_assert!(s.check_in() <= date && date <= s.check_out());
                }
                other => prop_assert!(false, "unexpected error {other}"),
            }
        }
    }

    #[test]
    fn entry_order_never_changes_the_outcome(
        rules in entries(), s in stay(), at in booked(), start in 0i64..100 * 24 * 60,
    ) {
        let reversed: Vec<_> = rules.iter().rev().copied().collect();
        let (a, b) = (Restrictions::new(rules), Restrictions::new(reversed));
        prop_assert_eq!(
            outcome(a.check_stay(&resource(), &s, &at)),
            outcome(b.check_stay(&resource(), &s, &at))
        );
        let slot_start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(start);
        let slot_date = slot_start.date_naive();
        prop_assert_eq!(
            outcome(a.check_slot(&resource(), slot_date, slot_start, &at)),
            outcome(b.check_slot(&resource(), slot_date, slot_start, &at))
        );
    }

    #[test]
    fn adding_an_entry_never_lifts_a_violation(
        rules in entries(), extra in entry_with(restriction()), s in stay(), at in booked(),
    ) {
        let before = Restrictions::new(rules.clone()).check_stay(&resource(), &s, &at);
        let mut more = rules;
        more.push(extra);
        let after = Restrictions::new(more).check_stay(&resource(), &s, &at);
        prop_assert!(before.is_ok() || after.is_err());
    }

    #[test]
    fn a_shorter_stay_passes_every_max_stay_rule_a_longer_one_passes(
        rules in prop::collection::vec(entry_with(prop_oneof![
            (1u32..15).prop_map(|n| Restriction::MaxStayOnArrival { nights: Nights::new(n).unwrap() }),
            (1u32..15).prop_map(|n| Restriction::MaxStayThrough { nights: Nights::new(n).unwrap() }),
        ]), 0..6),
        s in stay(), cut in 1u32..20, at in booked(),
    ) {
        let rules = Restrictions::new(rules);
        let shorter_nights = s.nights().saturating_sub(cut).max(1);
        let shorter = Stay::new(s.check_in(), s.check_in() + chrono::Days::new(shorter_nights.into())).unwrap();
        if rules.check_stay(&resource(), &s, &at).is_ok() {
            prop_assert!(rules.check_stay(&resource(), &shorter, &at).is_ok());
        }
    }

    #[test]
    fn a_longer_stay_passes_every_min_stay_on_arrival_rule_a_shorter_one_passes(
        rules in prop::collection::vec(entry_with(
            (1u32..15).prop_map(|n| Restriction::MinStayOnArrival { nights: Nights::new(n).unwrap() }),
        ), 0..6),
        s in stay(), extra in 1u64..20, at in booked(),
    ) {
        let rules = Restrictions::new(rules);
        let longer = Stay::new(s.check_in(), s.check_out() + chrono::Days::new(extra)).unwrap();
        if rules.check_stay(&resource(), &s, &at).is_ok() {
            prop_assert!(rules.check_stay(&resource(), &longer, &at).is_ok());
        }
    }

    #[test]
    fn booking_earlier_never_breaks_a_minimum_advance_a_later_booking_meets(
        rules in prop::collection::vec(entry_with(
            prop_oneof![(0u32..40).prop_map(Lead::Days), (0u32..5000).prop_map(Lead::Minutes)]
                .prop_map(|lead| Restriction::MinAdvance { lead }),
        ), 0..6),
        s in stay(), at in booked(), earlier in 0i64..10_000,
    ) {
        let rules = Restrictions::new(rules);
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let sooner = BookedAt::new(at.instant() - Duration::minutes(earlier), tz);
        if rules.check_stay(&resource(), &s, &at).is_ok() {
            prop_assert!(rules.check_stay(&resource(), &s, &sooner).is_ok());
        }
        let start = tz.from_local_datetime(&s.check_in().and_hms_opt(10, 0, 0).unwrap()).unwrap().to_utc();
        if rules.check_slot(&resource(), s.check_in(), start, &at).is_ok() {
            prop_assert!(rules.check_slot(&resource(), s.check_in(), start, &sooner).is_ok());
        }
    }
}
