//! Cancellation deadlines and free windows at their exact instants, in the
//! property's zone: DST changes in Lisbon, New York and Santiago, tiers
//! whose nominal and actual order disagree, and window and lead-time
//! boundaries; and how a policy keeps its tiers (farthest first, ties of
//! the same deadline, at most 16 tiers and 4 windows).

#[path = "support/policy.rs"]
mod policy;

use std::num::NonZeroU16;

use chrono::{DateTime, Duration, Utc};
use policy::{at, date, eur, hm, money, paid_facts, pct, refund, stay_start, tz, utc};
use reservo::policy::presets::{airbnb, booking_com, vrbo};
use reservo::policy::{
    AppliedRule, BookingFacts, BookingStart, CancellationPolicy, DeadlineTime,
    FreeCancellationWindow, LeadCondition, LeadMeasuredAt, Penalty, Threshold, Tier,
};

/// Full refund until `threshold`, nothing after.
fn free_until(threshold: Threshold) -> CancellationPolicy {
    CancellationPolicy::new(
        vec![Tier::new(threshold, Penalty::None)],
        Penalty::FULL,
        vec![],
    )
    .unwrap()
}

fn deadline_of(quote: &reservo::policy::RefundQuote) -> DateTime<Utc> {
    match quote.rule() {
        AppliedRule::Tier { deadline, .. } => deadline,
        other => panic!("expected a tier, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Domain: deadlines across DST in the property's zone
// ---------------------------------------------------------------------------

/// Lisbon falls back on 2026-10-25 at 02:00 WEST. A check-in that day at
/// 15:00 WET (15:00Z) has its "1 day before" deadline at 15:00 WEST the day
/// before (14:00Z): 25 elapsed hours. "24 hours before" is 15:00Z.
#[test]
fn lisbon_fall_back_day_deadline_is_25_hours_and_inclusive() {
    let start = stay_start("Europe/Lisbon", date(2026, 10, 25), 2, hm(15, 0));
    assert_eq!(start.instant(), utc(2026, 10, 25, 15, 0, 0));
    let facts = paid_facts(start, "200.00", &["100.00", "100.00"]);
    let by_day = free_until(Threshold::days(1));
    let deadline = utc(2026, 10, 24, 14, 0, 0);
    let quote = by_day.quote(&facts, at(deadline)).unwrap();
    assert_eq!(quote.refund(), eur("200.00"));
    assert_eq!(deadline_of(&quote), deadline);
    assert_eq!(
        refund(&by_day, &facts, deadline + Duration::seconds(1)),
        eur("0.00")
    );
    let by_hours = free_until(Threshold::hours(24));
    assert_eq!(
        refund(&by_hours, &facts, deadline + Duration::minutes(30)),
        eur("200.00")
    );
    assert_eq!(
        refund(&by_hours, &facts, utc(2026, 10, 24, 15, 0, 1)),
        eur("0.00")
    );
}

/// Lisbon springs forward on 2026-03-29 at 01:00 WET. A check-in that day
/// at 15:00 WEST (14:00Z): "1 day before" is 15:00 WET on the 28th
/// (15:00Z), 23 elapsed hours.
#[test]
fn lisbon_spring_forward_day_deadline_is_23_hours_and_inclusive() {
    let start = stay_start("Europe/Lisbon", date(2026, 3, 29), 2, hm(15, 0));
    assert_eq!(start.instant(), utc(2026, 3, 29, 14, 0, 0));
    let facts = paid_facts(start, "200.00", &["100.00", "100.00"]);
    let by_day = free_until(Threshold::days(1));
    let deadline = utc(2026, 3, 28, 15, 0, 0);
    assert_eq!(refund(&by_day, &facts, deadline), eur("200.00"));
    assert_eq!(
        refund(&by_day, &facts, deadline + Duration::seconds(1)),
        eur("0.00")
    );
}

/// New York falls back on 2026-11-01 (01:00-02:00 happens twice). A
/// deadline that lands on 01:30 that day is the *earlier* 01:30 (EDT,
/// 05:30Z), per the crate's Compatible rule; the later 01:30 (06:30Z) is
/// already past it.
#[test]
fn new_york_deadline_in_the_fold_is_the_earlier_instant() {
    // A session starting 2026-11-08 01:30 EST (06:30Z).
    let start = BookingStart::at_instant(utc(2026, 11, 8, 6, 30, 0), tz("America/New_York"));
    let facts = paid_facts(start, "80.00", &[]);
    let policy = free_until(Threshold::days(7));
    let quote = policy
        .quote(&facts, at(utc(2026, 11, 1, 5, 30, 0)))
        .unwrap();
    assert_eq!(quote.refund(), eur("80.00"));
    assert_eq!(deadline_of(&quote), utc(2026, 11, 1, 5, 30, 0));
    assert_eq!(
        refund(&policy, &facts, utc(2026, 11, 1, 5, 30, 1)),
        eur("0.00")
    );
    // The second 01:30 (EST) is an hour after the deadline.
    assert_eq!(
        refund(&policy, &facts, utc(2026, 11, 1, 6, 30, 0)),
        eur("0.00")
    );
}

/// New York springs forward on 2026-03-08 (02:00-03:00 does not exist). A
/// deadline on 02:30 that day moves to 03:30 EDT (07:30Z).
#[test]
fn new_york_deadline_in_the_gap_moves_forward_by_the_gap() {
    let start = BookingStart::at_instant(utc(2026, 3, 15, 6, 30, 0), tz("America/New_York"));
    assert_eq!(start.local().time(), hm(2, 30));
    let facts = paid_facts(start, "80.00", &[]);
    let policy = free_until(Threshold::days(7));
    let deadline = utc(2026, 3, 8, 7, 30, 0);
    let quote = policy.quote(&facts, at(deadline)).unwrap();
    assert_eq!(deadline_of(&quote), deadline);
    assert_eq!(quote.refund(), eur("80.00"));
    assert_eq!(
        refund(&policy, &facts, deadline + Duration::seconds(1)),
        eur("0.00")
    );
}

/// A fall-back week: a 7-day deadline for a check-in on 2026-11-04 16:00
/// EST (21:00Z) is 2026-10-28 16:00 EDT (20:00Z), 169 elapsed hours;
/// "168 hours" is an hour later.
#[test]
fn new_york_week_across_fall_back_is_169_hours() {
    let start = stay_start("America/New_York", date(2026, 11, 4), 3, hm(16, 0));
    assert_eq!(start.instant(), utc(2026, 11, 4, 21, 0, 0));
    let facts = paid_facts(start, "300.00", &["100.00"; 3]);
    let days = free_until(Threshold::days(7));
    assert_eq!(
        refund(&days, &facts, utc(2026, 10, 28, 20, 0, 0)),
        eur("300.00")
    );
    assert_eq!(
        refund(&days, &facts, utc(2026, 10, 28, 20, 0, 1)),
        eur("0.00")
    );
    let hours = free_until(Threshold::hours(168));
    assert_eq!(
        refund(&hours, &facts, utc(2026, 10, 28, 21, 0, 0)),
        eur("300.00")
    );
}

/// Santiago de Chile springs forward at midnight (2026-09-06 00:00 does not
/// exist). An end-of-day deadline and a Booking.com "00:00" deadline on
/// that midnight resolve (no error) to the instant the day ends.
#[test]
fn end_of_day_on_a_midnight_dst_gap_is_the_end_of_the_day() {
    let zone = tz("America/Santiago");
    // 2026-09-05 23:00 -04 is 03:00Z; the day ends at 04:00Z (= 01:00 -03).
    let start = stay_start("America/Santiago", date(2026, 9, 12), 2, hm(15, 0));
    assert_eq!(start.time_zone(), zone);
    let facts = paid_facts(start, "200.00", &["100.00", "100.00"]);
    let end_of_day = free_until(Threshold::DaysBefore {
        days: 7,
        at: DeadlineTime::EndOfDay,
    });
    let quote = end_of_day
        .quote(&facts, at(utc(2026, 9, 6, 3, 59, 59)))
        .unwrap();
    assert_eq!(quote.refund(), eur("200.00"));
    assert_eq!(deadline_of(&quote), utc(2026, 9, 6, 4, 0, 0));
    let midnight = booking_com::free_until(6, booking_com::AfterDeadline::Full);
    let quote = midnight
        .quote(&facts, at(utc(2026, 9, 6, 4, 0, 0)))
        .unwrap();
    assert_eq!(quote.refund(), eur("200.00"));
    assert_eq!(
        refund(&midnight, &facts, utc(2026, 9, 6, 4, 0, 1)),
        eur("0.00")
    );
}

/// Vrbo's end-of-day deadline on the Lisbon fall-back day: the day is 25
/// hours long and ends at 00:00 WET (00:00Z) the next day.
#[test]
fn vrbo_end_of_day_on_a_25_hour_day() {
    // Check-in 2026-11-08; 14 days before is 2026-10-25, the fall-back day.
    let start = stay_start("Europe/Lisbon", date(2026, 11, 8), 2, hm(16, 0));
    let facts = paid_facts(start, "200.00", &["100.00", "100.00"]);
    let relaxed = vrbo::relaxed();
    let end = utc(2026, 10, 26, 0, 0, 0);
    assert_eq!(refund(&relaxed, &facts, end), eur("200.00"));
    assert_eq!(
        refund(&relaxed, &facts, end + Duration::seconds(1)),
        eur("100.00")
    );
}

/// Tiers whose nominal order (days × 24 vs hours) differs from the order
/// of their actual deadlines are still chosen by deadline, in every
/// listing order.
#[test]
fn tiers_with_nominal_and_actual_order_disagreeing_are_chosen_by_deadline() {
    // Start 15:00; "1 day before at 23:00" is 16 h before; "20 hours" is 20 h.
    let start = stay_start("Europe/Lisbon", date(2026, 7, 20), 2, hm(15, 0));
    let facts = paid_facts(start, "100.00", &[]);
    let late_evening = Tier::new(
        Threshold::DaysBefore {
            days: 1,
            at: DeadlineTime::At(hm(23, 0)),
        },
        Penalty::percent(pct(50)),
    );
    let twenty_hours = Tier::new(Threshold::hours(20), Penalty::percent(pct(10)));
    for tiers in [
        vec![late_evening, twenty_hours],
        vec![twenty_hours, late_evening],
    ] {
        let policy = CancellationPolicy::new(tiers, Penalty::FULL, vec![]).unwrap();
        let s = start.instant();
        assert_eq!(
            refund(&policy, &facts, s - Duration::hours(21)),
            eur("90.00")
        );
        assert_eq!(
            refund(&policy, &facts, s - Duration::hours(20)),
            eur("90.00")
        );
        assert_eq!(
            refund(&policy, &facts, s - Duration::hours(18)),
            eur("50.00")
        );
        assert_eq!(
            refund(&policy, &facts, s - Duration::hours(16)),
            eur("50.00")
        );
        assert_eq!(
            refund(&policy, &facts, s - Duration::hours(15)),
            eur("0.00")
        );
    }
}

// ---------------------------------------------------------------------------
// Domain: free windows at their exact boundaries
// ---------------------------------------------------------------------------

/// Airbnb's 24-hour window: the lead time "booked at least 7 days before
/// check-in" is 7 calendar days at check-in time, which across the Lisbon
/// spring change is 167 elapsed hours; the window closes exactly 24 h after
/// booking (inclusive).
#[test]
fn airbnb_24_hour_window_lead_is_calendar_days_across_dst_and_closes_inclusively() {
    // Check-in 2026-04-02 15:00 WEST (14:00Z); 7 days before: 2026-03-26
    // 15:00 WET (15:00Z).
    let start = stay_start("Europe/Lisbon", date(2026, 4, 2), 3, hm(15, 0));
    let booked_on_deadline = utc(2026, 3, 26, 15, 0, 0);
    let facts = |booked: DateTime<Utc>| {
        BookingFacts::new(
            booked,
            start,
            eur("300.00"),
            eur("300.00"),
            eur("0.00"),
            vec![eur("100.00"); 3],
        )
        .unwrap()
    };
    let firm = airbnb::firm();
    let on_time = facts(booked_on_deadline);
    let closes = booked_on_deadline + Duration::hours(24);
    let quote = firm.quote(&on_time, at(closes)).unwrap();
    assert_eq!(quote.refund(), eur("300.00"));
    assert!(
        matches!(quote.rule(), AppliedRule::FreeWindow { closes_at, .. } if closes_at == closes)
    );
    // A second after the window closes: the 7-day tier has passed, nothing back.
    assert_eq!(
        refund(&firm, &on_time, closes + Duration::seconds(1)),
        eur("0.00")
    );
    // Booked a second after the lead deadline: no window.
    let late = facts(booked_on_deadline + Duration::seconds(1));
    assert_eq!(
        refund(&firm, &late, late.booked_at() + Duration::minutes(1)),
        eur("0.00")
    );
}

/// Airbnb Strict's 48-hour window measures the lead at cancellation: on the
/// 14-day deadline exactly it is free; a second later it is the 50% tier.
#[test]
fn airbnb_strict_48_hour_window_at_the_exact_cancellation_lead() {
    let start = stay_start("America/New_York", date(2026, 3, 20), 2, hm(16, 0));
    // 14 days before: 2026-03-06 16:00 EST (21:00Z), before the spring change.
    let lead_deadline = utc(2026, 3, 6, 21, 0, 0);
    let facts = BookingFacts::new(
        lead_deadline - Duration::hours(40),
        start,
        money("200.00", "USD"),
        money("200.00", "USD"),
        money("0.00", "USD"),
        vec![money("100.00", "USD"); 2],
    )
    .unwrap();
    let strict = airbnb::strict();
    let quote = strict.quote(&facts, at(lead_deadline)).unwrap();
    assert_eq!(quote.refund(), money("200.00", "USD"));
    assert!(matches!(quote.rule(), AppliedRule::FreeWindow { .. }));
    let quote = strict
        .quote(&facts, at(lead_deadline + Duration::seconds(1)))
        .unwrap();
    assert_eq!(quote.refund(), money("100.00", "USD"));
}

/// A free window never covers a cancellation at or after the start, even
/// within its hours.
#[test]
fn free_window_ends_at_the_start_even_inside_its_hours() {
    let start = BookingStart::at_instant(utc(2026, 7, 1, 9, 0, 0), tz("Europe/Lisbon"));
    let window = FreeCancellationWindow {
        hours_after_booking: NonZeroU16::new(48).unwrap(),
        min_lead: None,
    };
    let policy = CancellationPolicy::new(vec![], Penalty::FULL, vec![window]).unwrap();
    let facts = BookingFacts::new(
        start.instant() - Duration::hours(2),
        start,
        eur("45.00"),
        eur("45.00"),
        eur("0.00"),
        vec![],
    )
    .unwrap();
    assert_eq!(
        refund(&policy, &facts, start.instant() - Duration::seconds(1)),
        eur("45.00")
    );
    assert_eq!(refund(&policy, &facts, start.instant()), eur("0.00"));
}

/// A lead condition measured at cancellation with an hour threshold, and
/// one measured at booking: both inclusive at the deadline.
#[test]
fn lead_conditions_are_inclusive_for_both_measures() {
    let start = BookingStart::at_instant(utc(2026, 7, 10, 12, 0, 0), tz("UTC"));
    let booked = start.instant() - Duration::hours(72);
    let facts = BookingFacts::new(
        booked,
        start,
        eur("90.00"),
        eur("90.00"),
        eur("0.00"),
        vec![],
    )
    .unwrap();
    let window = |measured_at| FreeCancellationWindow {
        hours_after_booking: NonZeroU16::new(48).unwrap(),
        min_lead: Some(LeadCondition {
            threshold: Threshold::hours(36),
            measured_at,
        }),
    };
    let by_cancel = CancellationPolicy::new(
        vec![],
        Penalty::FULL,
        vec![window(LeadMeasuredAt::Cancellation)],
    )
    .unwrap();
    let lead = start.instant() - Duration::hours(36);
    assert_eq!(refund(&by_cancel, &facts, lead), eur("90.00"));
    assert_eq!(
        refund(&by_cancel, &facts, lead + Duration::seconds(1)),
        eur("0.00")
    );
    let by_booking =
        CancellationPolicy::new(vec![], Penalty::FULL, vec![window(LeadMeasuredAt::Booking)])
            .unwrap();
    // Booked 72 h before: the booking lead holds for the whole window.
    assert_eq!(
        refund(&by_booking, &facts, booked + Duration::hours(48)),
        eur("90.00")
    );
    let tight = BookingFacts::new(
        lead + Duration::seconds(1),
        start,
        eur("90.00"),
        eur("90.00"),
        eur("0.00"),
        vec![],
    )
    .unwrap();
    assert_eq!(refund(&by_booking, &tight, tight.booked_at()), eur("0.00"));
}

// ---------------------------------------------------------------------------
// Domain: how a policy keeps its tiers
// ---------------------------------------------------------------------------

#[test]
fn tiers_come_back_farthest_first_whatever_order_they_were_listed_in() {
    let tier = |threshold| Tier::new(threshold, Penalty::percent(pct(50)));
    let listed = [
        Threshold::days(7),
        Threshold::hours(12),
        Threshold::days(30),
        Threshold::hours(72),
    ];
    let policy = CancellationPolicy::new(listed.map(tier).to_vec(), Penalty::FULL, vec![]).unwrap();
    let kept: Vec<Threshold> = policy.tiers().iter().map(|t| t.threshold).collect();
    // 720, 168, 72 and 12 hours before the start.
    assert_eq!(
        kept,
        [
            Threshold::days(30),
            Threshold::days(7),
            Threshold::hours(72),
            Threshold::hours(12)
        ]
    );
    let mut reversed = listed;
    reversed.reverse();
    let same = CancellationPolicy::new(reversed.map(tier).to_vec(), Penalty::FULL, vec![]);
    assert_eq!(same.unwrap(), policy);
}

/// One day before a 15:00 check-in and 24 hours before it are the same
/// instant away from a DST change: the tier first in the canonical order
/// (a day before, then 24 hours before) applies, however they were listed.
#[test]
fn of_two_tiers_with_the_same_deadline_the_first_in_canonical_order_applies() {
    let start = stay_start("Europe/Lisbon", date(2026, 7, 10), 3, hm(15, 0));
    let by_day = Tier::new(Threshold::days(1), Penalty::None);
    let by_hours = Tier::new(Threshold::hours(24), Penalty::FULL);
    for listed in [vec![by_day, by_hours], vec![by_hours, by_day]] {
        let policy = CancellationPolicy::new(listed, Penalty::FULL, vec![]).unwrap();
        assert_eq!(policy.tiers(), [by_day, by_hours]);
        let deadline = utc(2026, 7, 9, 14, 0, 0);
        for cancelled in [deadline - Duration::hours(30), deadline] {
            assert_eq!(
                policy.tier_at(&start, cancelled).unwrap(),
                Some((by_day, deadline)),
                "cancelled at {cancelled}"
            );
        }
        assert_eq!(
            policy
                .tier_at(&start, deadline + Duration::seconds(1))
                .unwrap(),
            None
        );
    }
}

#[test]
fn a_policy_takes_at_most_16_tiers_and_4_free_windows() {
    let tiers = |n: u16| -> Vec<Tier> {
        (1..=n)
            .map(|d| Tier::new(Threshold::days(d), Penalty::None))
            .collect()
    };
    let windows = |n: u16| -> Vec<FreeCancellationWindow> {
        (1..=n)
            .map(|h| FreeCancellationWindow {
                hours_after_booking: NonZeroU16::new(h).unwrap(),
                min_lead: None,
            })
            .collect()
    };
    let max_tiers = u16::try_from(CancellationPolicy::MAX_TIERS).unwrap();
    let max_windows = u16::try_from(CancellationPolicy::MAX_FREE_WINDOWS).unwrap();
    assert_eq!((max_tiers, max_windows), (16, 4));

    let fullest =
        CancellationPolicy::new(tiers(max_tiers), Penalty::FULL, windows(max_windows)).unwrap();
    assert_eq!(fullest.tiers().len(), 16);
    assert_eq!(fullest.free_windows().len(), 4);

    for (tiers, windows, field) in [
        (tiers(max_tiers + 1), windows(1), "tiers"),
        (tiers(1), windows(max_windows + 1), "free_windows"),
    ] {
        match CancellationPolicy::new(tiers, Penalty::FULL, windows) {
            Err(reservo::Error::InvalidInput {
                field: named,
                message,
            }) => {
                assert_eq!(named, field);
                assert!(message.contains("more than the maximum"), "{message}");
            }
            other => panic!("expected too many {field} refused, got {other:?}"),
        }
    }
}
