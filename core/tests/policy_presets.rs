//! Presets behave as the platforms' published rules say, and each name of
//! `presets::by_name` gives its own preset.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use reservo::money::Money;
use reservo::policy::presets::booking_com::AfterDeadline;
use reservo::policy::presets::{airbnb, booking_com, vrbo};
use reservo::policy::{
    AppliedRule, BookingFacts, BookingStart, CancellationEvent, CancellationPolicy, Percentage,
};
use reservo::time::Stay;

fn usd(s: &str) -> Money {
    Money::parse(s, "USD").unwrap()
}

/// Four nights of 100.00 from 2026-08-10 in New York, check-in 16:00
/// (20:00Z), plus a 40.00 non-refundable service fee.
fn stay_booked_at(booked_at: DateTime<Utc>) -> BookingFacts {
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let start = BookingStart::for_stay(
        &Stay::new(d(8, 10), d(8, 14)).unwrap(),
        "America/New_York".parse().unwrap(),
        NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
    )
    .unwrap();
    BookingFacts::new(
        booked_at,
        start,
        usd("440.00"),
        usd("440.00"),
        usd("40.00"),
        vec![usd("100.00"); 4],
    )
    .unwrap()
}

fn booked_early() -> BookingFacts {
    stay_booked_at(Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap())
}

fn check_in() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 10, 20, 0, 0).unwrap()
}

fn refund_at(policy: &CancellationPolicy, facts: &BookingFacts, at: DateTime<Utc>) -> Money {
    policy
        .quote(facts, CancellationEvent::Cancelled { at })
        .unwrap()
        .refund()
}

#[test]
fn airbnb_flexible_refunds_in_full_until_24_hours_then_keeps_the_first_night() {
    let p = airbnb::flexible();
    let facts = booked_early();
    assert_eq!(
        refund_at(&p, &facts, check_in() - Duration::hours(24)),
        usd("400.00")
    );
    assert_eq!(
        refund_at(&p, &facts, check_in() - Duration::hours(23)),
        usd("300.00")
    );
    let no_show = p.quote(&facts, CancellationEvent::NoShow).unwrap();
    assert_eq!(no_show.refund(), usd("300.00"));
}

#[test]
fn airbnb_moderate_keeps_first_night_and_half_the_rest_inside_5_days() {
    let p = airbnb::moderate();
    let facts = booked_early();
    assert_eq!(
        refund_at(&p, &facts, check_in() - Duration::days(5)),
        usd("400.00")
    );
    // 100 for the first night, 150 of the other 300.
    assert_eq!(
        refund_at(&p, &facts, check_in() - Duration::days(4)),
        usd("150.00")
    );
}

#[test]
fn airbnb_limited_and_firm_step_from_full_to_half_to_nothing() {
    let facts = booked_early();
    for (policy, full_days) in [(airbnb::limited(), 14), (airbnb::firm(), 30)] {
        let full = refund_at(&policy, &facts, check_in() - Duration::days(full_days));
        assert_eq!(full, usd("400.00"));
        let half = refund_at(&policy, &facts, check_in() - Duration::days(full_days - 1));
        assert_eq!(half, usd("200.00"));
        let half_last = refund_at(&policy, &facts, check_in() - Duration::days(7));
        assert_eq!(half_last, usd("200.00"));
        let nothing = refund_at(&policy, &facts, check_in() - Duration::days(6));
        assert_eq!(nothing, usd("0.00"));
    }
}

#[test]
fn airbnb_24_hour_window_needs_a_booking_7_days_ahead() {
    let firm = airbnb::firm();
    // Booked 10 days out: free within 24 h, half after.
    let ten_days = stay_booked_at(check_in() - Duration::days(10));
    let within = ten_days.booked_at() + Duration::hours(23);
    let quote = firm
        .quote(&ten_days, CancellationEvent::Cancelled { at: within })
        .unwrap();
    assert_eq!(quote.refund(), usd("400.00"));
    assert!(matches!(quote.rule(), AppliedRule::FreeWindow { .. }));
    assert_eq!(
        refund_at(&firm, &ten_days, ten_days.booked_at() + Duration::hours(25)),
        usd("200.00")
    );
    // Booked 6 days out: no window.
    let six_days = stay_booked_at(check_in() - Duration::days(6));
    assert_eq!(
        refund_at(&firm, &six_days, six_days.booked_at() + Duration::hours(1)),
        usd("0.00")
    );
}

#[test]
fn airbnb_strict_is_free_within_48_hours_only_if_cancelled_14_days_out() {
    let strict = airbnb::strict();
    let facts = booked_early();
    let booked = facts.booked_at();
    assert_eq!(
        refund_at(&strict, &facts, booked + Duration::hours(47)),
        usd("400.00")
    );
    assert_eq!(
        refund_at(&strict, &facts, booked + Duration::hours(49)),
        usd("200.00")
    );
    assert_eq!(
        refund_at(&strict, &facts, check_in() - Duration::days(6)),
        usd("0.00")
    );
    // Booked 15 days out, cancelled 36 h later (13.5 days out): the 48-hour
    // window's condition fails, but the 24-hour window has closed too.
    let late = stay_booked_at(check_in() - Duration::days(15));
    assert_eq!(
        refund_at(&strict, &late, late.booked_at() + Duration::hours(36)),
        usd("200.00")
    );
}

#[test]
fn non_refundable_presets_keep_everything() {
    let facts = booked_early();
    for policy in [
        airbnb::non_refundable(),
        booking_com::non_refundable(),
        vrbo::no_refund(),
    ] {
        let at = facts.booked_at() + Duration::minutes(5);
        assert_eq!(refund_at(&policy, &facts, at), usd("0.00"));
    }
}

#[test]
fn booking_com_deadline_is_midnight_starting_the_day_n_days_before_arrival() {
    let facts = booked_early();
    // Free until 00:00 on 8 August (New York) = 04:00Z.
    let deadline = Utc.with_ymd_and_hms(2026, 8, 8, 4, 0, 0).unwrap();
    let first_night = booking_com::free_until(2, AfterDeadline::FirstNight);
    assert_eq!(refund_at(&first_night, &facts, deadline), usd("400.00"));
    let after = deadline + Duration::minutes(1);
    assert_eq!(refund_at(&first_night, &facts, after), usd("300.00"));
    let thirty = booking_com::free_until(2, AfterDeadline::Percent(Percentage::whole(30).unwrap()));
    assert_eq!(refund_at(&thirty, &facts, after), usd("280.00"));
    let full = booking_com::free_until(2, AfterDeadline::Full);
    assert_eq!(refund_at(&full, &facts, after), usd("0.00"));
    let no_show = first_night
        .quote(&facts, CancellationEvent::NoShow)
        .unwrap();
    assert_eq!(no_show.refund(), usd("300.00"));
}

#[test]
fn vrbo_deadlines_run_to_the_end_of_the_property_day() {
    let facts = booked_early();
    // End of 27 July in New York (14 days before 10 August) = 28 July 04:00Z.
    let end_of_day = Utc.with_ymd_and_hms(2026, 7, 28, 4, 0, 0).unwrap();
    let relaxed = vrbo::relaxed();
    assert_eq!(refund_at(&relaxed, &facts, end_of_day), usd("400.00"));
    let next_day = end_of_day + Duration::seconds(1);
    assert_eq!(refund_at(&relaxed, &facts, next_day), usd("200.00"));
    assert_eq!(
        refund_at(&relaxed, &facts, check_in() - Duration::days(6)),
        usd("0.00")
    );
}

#[test]
fn vrbo_policies_step_at_their_published_days() {
    let facts = booked_early();
    let cases = [
        (vrbo::moderate(), 31, "400.00"),
        (vrbo::moderate(), 20, "200.00"),
        (vrbo::moderate(), 13, "0.00"),
        (vrbo::firm(), 61, "400.00"),
        (vrbo::firm(), 45, "200.00"),
        (vrbo::firm(), 29, "0.00"),
        (vrbo::strict(), 61, "400.00"),
        (vrbo::strict(), 59, "0.00"),
    ];
    for (policy, days_out, want) in cases {
        let at = check_in() - Duration::days(days_out);
        assert_eq!(
            refund_at(&policy, &facts, at),
            usd(want),
            "{days_out} days out"
        );
    }
}

#[test]
fn presets_survive_a_json_snapshot() {
    for policy in [
        airbnb::flexible(),
        airbnb::moderate(),
        airbnb::limited(),
        airbnb::firm(),
        airbnb::strict(),
        booking_com::free_until(1, AfterDeadline::FirstNight),
        vrbo::relaxed(),
        vrbo::strict(),
    ] {
        let json = serde_json::to_string(&policy).unwrap();
        let back: CancellationPolicy = serde_json::from_str(&json).unwrap();
        assert_eq!(back, policy);
    }
}

#[test]
fn every_preset_name_gives_its_own_policy() {
    use reservo::policy::presets::{NAMES, by_name};
    let named = [
        ("airbnb.flexible", airbnb::flexible()),
        ("airbnb.moderate", airbnb::moderate()),
        ("airbnb.limited", airbnb::limited()),
        ("airbnb.firm", airbnb::firm()),
        ("airbnb.strict", airbnb::strict()),
        ("airbnb.non_refundable", airbnb::non_refundable()),
        ("booking_com.non_refundable", booking_com::non_refundable()),
        ("vrbo.relaxed", vrbo::relaxed()),
        ("vrbo.moderate", vrbo::moderate()),
        ("vrbo.firm", vrbo::firm()),
        ("vrbo.strict", vrbo::strict()),
        ("vrbo.no_refund", vrbo::no_refund()),
    ];
    assert_eq!(NAMES, named.clone().map(|(name, _)| name));
    for (name, policy) in named {
        assert_eq!(by_name(name), Some(policy), "{name}");
    }
    for unknown in [
        "airbnb.lenient",
        "Airbnb.Flexible",
        "airbnb.flexible ",
        "",
        "vrbo",
    ] {
        assert_eq!(by_name(unknown), None, "{unknown:?}");
    }
}
