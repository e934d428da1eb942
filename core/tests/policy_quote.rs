//! Refund quotes: tier choice, deadlines, free windows, fees and rounding.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use reservo::money::Money;
use reservo::policy::{
    AppliedRule, BookingFacts, BookingStart, CancellationEvent, CancellationPolicy,
    FreeCancellationWindow, LeadCondition, LeadMeasuredAt, Penalty, Percentage, Threshold, Tier,
};
use reservo::time::Stay;
use rust_decimal_macros::dec;
use std::num::NonZeroU16;

fn eur(s: &str) -> Money {
    Money::parse(s, "EUR").unwrap()
}

fn pct(p: u8) -> Percentage {
    Percentage::whole(p).unwrap()
}

/// A three-night stay in Berlin from 2 April 2026 (after the spring DST
/// change of 29 March), check-in 15:00, booked on 1 January.
fn berlin_facts(price: &str, paid: &str, fee: &str, nights: &[&str]) -> BookingFacts {
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let start = BookingStart::for_stay(
        &Stay::new(d(4, 2), d(4, 5)).unwrap(),
        "Europe/Berlin".parse().unwrap(),
        NaiveTime::from_hms_opt(15, 0, 0).unwrap(),
    )
    .unwrap();
    BookingFacts::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
        start,
        eur(price),
        eur(paid),
        eur(fee),
        nights.iter().map(|n| eur(n)).collect(),
    )
    .unwrap()
}

fn cancel(at: DateTime<Utc>) -> CancellationEvent {
    CancellationEvent::Cancelled { at }
}

fn three_tiers() -> Vec<Tier> {
    vec![
        Tier::new(Threshold::days(30), Penalty::None),
        Tier::new(Threshold::days(7), Penalty::percent(pct(50))),
        Tier::new(Threshold::hours(48), Penalty::percent(pct(80))),
    ]
}

#[test]
fn tiers_are_chosen_by_threshold_never_by_listed_order() {
    let facts = berlin_facts("1000.00", "1000.00", "0.00", &[]);
    let start = facts.start().instant();
    let instants = [
        start - Duration::days(40),
        start - Duration::days(10),
        start - Duration::days(3),
        start - Duration::hours(1),
    ];
    let expected = ["1000.00", "500.00", "200.00", "0.00"];
    let tiers = three_tiers();
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let shuffled: Vec<Tier> = order.iter().map(|i| tiers[*i]).collect();
        let policy = CancellationPolicy::new(shuffled, Penalty::FULL, vec![]).unwrap();
        for (at, want) in instants.iter().zip(expected) {
            let quote = policy.quote(&facts, cancel(*at)).unwrap();
            assert_eq!(quote.refund(), eur(want), "order {order:?} at {at}");
        }
    }
}

#[test]
fn day_deadline_is_a_calendar_day_and_inclusive() {
    // 7 calendar days before 2026-04-02 15:00 CEST is 2026-03-26 15:00 CET:
    // 167 elapsed hours, because the clocks went forward in between.
    let facts = berlin_facts("1000.00", "1000.00", "0.00", &[]);
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let deadline = Utc.with_ymd_and_hms(2026, 3, 26, 14, 0, 0).unwrap();
    let on_time = policy.quote(&facts, cancel(deadline)).unwrap();
    assert_eq!(on_time.refund(), eur("500.00"));
    match on_time.rule() {
        AppliedRule::Tier {
            threshold,
            deadline: d,
            ..
        } => {
            assert_eq!(threshold, Threshold::days(7));
            assert_eq!(d, deadline);
        }
        other => panic!("expected the 7-day tier, got {other:?}"),
    }
    let a_second_late = policy
        .quote(&facts, cancel(deadline + Duration::seconds(1)))
        .unwrap();
    assert_eq!(a_second_late.refund(), eur("200.00"));
}

#[test]
fn hour_deadline_is_elapsed_time() {
    let facts = berlin_facts("1000.00", "1000.00", "0.00", &[]);
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let deadline = facts.start().instant() - Duration::hours(48);
    assert_eq!(
        policy.quote(&facts, cancel(deadline)).unwrap().refund(),
        eur("200.00")
    );
    assert_eq!(
        policy
            .quote(&facts, cancel(deadline + Duration::seconds(1)))
            .unwrap()
            .refund(),
        eur("0.00")
    );
}

#[test]
fn no_show_and_cancelling_after_the_start_get_the_late_penalty() {
    let facts = berlin_facts("300.00", "300.00", "0.00", &["100.00"; 3]);
    let late = Penalty::first_nights(1, Percentage::ZERO).unwrap();
    let policy = CancellationPolicy::new(three_tiers(), late, vec![]).unwrap();
    let no_show = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
    assert_eq!(no_show.refund(), eur("200.00"));
    assert!(matches!(no_show.rule(), AppliedRule::NoShow { .. }));
    assert!(no_show.reason().contains("no-show"));
    let after_start = policy
        .quote(&facts, cancel(facts.start().instant() + Duration::hours(2)))
        .unwrap();
    assert_eq!(after_start.refund(), eur("200.00"));
    assert!(matches!(after_start.rule(), AppliedRule::Late { .. }));
}

#[test]
fn free_window_applies_only_when_the_lead_time_condition_holds() {
    let window = FreeCancellationWindow {
        hours_after_booking: NonZeroU16::new(48).unwrap(),
        min_lead: Some(LeadCondition {
            threshold: Threshold::days(14),
            measured_at: LeadMeasuredAt::Booking,
        }),
    };
    let policy = CancellationPolicy::new(vec![], Penalty::FULL, vec![window]).unwrap();
    let facts = berlin_facts("500.00", "500.00", "0.00", &[]);
    let booked = facts.booked_at();
    let in_window = policy
        .quote(&facts, cancel(booked + Duration::hours(47)))
        .unwrap();
    assert_eq!(in_window.refund(), eur("500.00"));
    assert!(matches!(in_window.rule(), AppliedRule::FreeWindow { .. }));
    let window_closed = policy
        .quote(&facts, cancel(booked + Duration::hours(49)))
        .unwrap();
    assert_eq!(window_closed.refund(), eur("0.00"));

    // Booked only 10 days before check-in: no free window at all.
    let start = facts.start();
    let late_booking = BookingFacts::new(
        start.instant() - Duration::days(10),
        start,
        eur("500.00"),
        eur("500.00"),
        eur("0.00"),
        vec![],
    )
    .unwrap();
    let quote = policy
        .quote(
            &late_booking,
            cancel(late_booking.booked_at() + Duration::hours(1)),
        )
        .unwrap();
    assert_eq!(quote.refund(), eur("0.00"));
}

#[test]
fn non_refundable_fees_are_kept_out_of_every_refund() {
    let facts = berlin_facts("345.00", "345.00", "45.00", &["100.00"; 3]);
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let early = policy
        .quote(&facts, cancel(facts.booked_at() + Duration::hours(1)))
        .unwrap();
    assert_eq!(early.refund(), eur("300.00"));
    assert_eq!(early.non_refundable_kept(), eur("45.00"));
    assert_eq!(early.penalty(), eur("0.00"));
    let half = policy
        .quote(&facts, cancel(facts.start().instant() - Duration::days(10)))
        .unwrap();
    assert_eq!(half.refund(), eur("150.00"));
    assert_eq!(half.kept(), eur("195.00"));
}

#[test]
fn first_nights_penalty_takes_the_quoted_night_amounts() {
    // Moderate-style: first night plus half of the rest.
    let facts = berlin_facts("330.00", "330.00", "30.00", &["120.00", "100.00", "80.00"]);
    let late = Penalty::first_nights(1, pct(50)).unwrap();
    let policy = CancellationPolicy::new(vec![], late, vec![]).unwrap();
    let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
    // refundable 300; first night 120; half of the other 180 is 90.
    assert_eq!(quote.penalty(), eur("210.00"));
    assert_eq!(quote.refund(), eur("90.00"));
    let two = Penalty::first_nights(2, Percentage::ZERO).unwrap();
    let policy = CancellationPolicy::new(vec![], two, vec![]).unwrap();
    assert_eq!(
        policy
            .quote(&facts, CancellationEvent::NoShow)
            .unwrap()
            .refund(),
        eur("80.00")
    );
}

#[test]
fn fixed_penalty_is_capped_and_must_share_the_booking_currency() {
    let facts = berlin_facts("100.00", "100.00", "0.00", &[]);
    let big = Penalty::Fixed {
        amount: eur("250.00"),
    };
    let policy = CancellationPolicy::new(vec![], big, vec![]).unwrap();
    let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
    assert_eq!(quote.refund(), eur("0.00"));
    assert_eq!(quote.penalty(), eur("100.00"));
    let usd = Penalty::Fixed {
        amount: Money::parse("10.00", "USD").unwrap(),
    };
    let policy = CancellationPolicy::new(vec![], usd, vec![]).unwrap();
    let err = policy.quote(&facts, CancellationEvent::NoShow).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
}

#[test]
fn partial_payment_never_yields_a_negative_refund() {
    // 30% deposit paid, 50% penalty due: nothing comes back.
    let facts = berlin_facts("1000.00", "300.00", "0.00", &[]);
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let quote = policy
        .quote(&facts, cancel(facts.start().instant() - Duration::days(10)))
        .unwrap();
    assert_eq!(quote.refund(), eur("0.00"));
    assert_eq!(quote.penalty(), eur("300.00"));
}

#[test]
fn refund_rounds_toward_zero() {
    let facts = berlin_facts("100.00", "100.00", "0.00", &[]);
    let odd = Percentage::new(dec!(33.335)).unwrap();
    let policy = CancellationPolicy::new(vec![], Penalty::percent(odd), vec![]).unwrap();
    let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
    // exact refund 66.665 -> 66.66, never 66.67
    assert_eq!(quote.refund(), eur("66.66"));
    assert_eq!(quote.penalty(), eur("33.34"));
}

#[test]
fn cancelling_before_the_booking_was_made_is_refused() {
    let facts = berlin_facts("100.00", "100.00", "0.00", &[]);
    let policy = CancellationPolicy::non_refundable();
    let err = policy
        .quote(&facts, cancel(facts.booked_at() - Duration::seconds(1)))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn policy_json_round_trips_and_invalid_policies_are_refused() {
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(
        serde_json::from_str::<CancellationPolicy>(&json).unwrap(),
        policy
    );
    let bad = [
        // duplicate threshold
        r#"{"tiers":[{"threshold":{"kind":"hours_before","hours":5},"penalty":{"kind":"none"}},
                     {"threshold":{"kind":"hours_before","hours":5},"penalty":{"kind":"none"}}],
            "late_penalty":{"kind":"none"}}"#,
        // percentage above 100
        r#"{"late_penalty":{"kind":"percent","percent":"120"}}"#,
        // negative fixed penalty
        r#"{"late_penalty":{"kind":"fixed","amount":{"amount":"-1.00","currency":"EUR"}}}"#,
        // fixed penalty below the minor unit
        r#"{"late_penalty":{"kind":"fixed","amount":{"amount":"1.001","currency":"EUR"}}}"#,
        // zero first nights
        r#"{"late_penalty":{"kind":"first_nights","nights":0,"percent_of_rest":"0"}}"#,
        // unknown field
        r#"{"late_penalty":{"kind":"none"},"grace":"1h"}"#,
    ];
    for json in bad {
        assert!(
            serde_json::from_str::<CancellationPolicy>(json).is_err(),
            "accepted {json}"
        );
    }
    let mixed = CancellationPolicy::new(
        vec![Tier::new(
            Threshold::days(3),
            Penalty::Fixed {
                amount: Money::parse("5", "USD").unwrap(),
            },
        )],
        Penalty::Fixed {
            amount: eur("5.00"),
        },
        vec![],
    );
    assert_eq!(mixed.unwrap_err().code(), "CURRENCY_MISMATCH");
}

#[test]
fn booking_facts_refuse_inconsistent_amounts() {
    let start = BookingStart::at_instant(
        Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).unwrap(),
        "UTC".parse().unwrap(),
    );
    let booked = Utc.with_ymd_and_hms(2026, 4, 1, 10, 0, 0).unwrap();
    let make = |price: Money, paid: Money, fee: Money, nights: Vec<Money>| {
        BookingFacts::new(booked, start, price, paid, fee, nights)
            .unwrap_err()
            .code()
    };
    let usd = Money::parse("1.00", "USD").unwrap();
    assert_eq!(
        make(eur("10.00"), eur("10.00"), eur("11.00"), vec![]),
        "INVALID_INPUT"
    );
    assert_eq!(
        make(eur("10.00"), eur("-1.00"), eur("0.00"), vec![]),
        "INVALID_INPUT"
    );
    assert_eq!(
        make(eur("10.00"), eur("10.00"), eur("0.00"), vec![usd]),
        "CURRENCY_MISMATCH"
    );
    assert_eq!(
        make(eur("10.005"), eur("0.00"), eur("0.00"), vec![]),
        "INVALID_INPUT"
    );
}

#[test]
fn a_refund_quote_reads_back_as_written_and_a_tampered_one_is_refused() {
    use reservo::policy::{RefundPart, RefundQuote};
    let facts = berlin_facts("1000.00", "1000.00", "50.00", &[]);
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let at = facts.start().instant() - Duration::days(10);
    let quote = policy.quote(&facts, cancel(at)).unwrap();
    let json = serde_json::to_string(&quote).unwrap();
    assert_eq!(serde_json::from_str::<RefundQuote>(&json).unwrap(), quote);

    // Several items under their own policies: the parts must add up.
    let strict = CancellationPolicy::non_refundable().quote(&facts, cancel(at));
    let parts = vec![
        RefundPart::new(vec![0], quote.clone()),
        RefundPart::new(vec![1], strict.unwrap()),
    ];
    let combined = RefundQuote::combine(parts).unwrap();
    let json = serde_json::to_string(&combined).unwrap();
    assert_eq!(
        serde_json::from_str::<RefundQuote>(&json).unwrap(),
        combined
    );

    let refund = format!(
        "\"refund\":{}",
        serde_json::to_string(&quote.refund()).unwrap()
    );
    for tampered in [
        json.replacen(&refund, r#""refund":{"amount":"1.00","currency":"EUR"}"#, 1),
        serde_json::to_string(&quote).unwrap().replacen(
            &refund,
            r#""refund":{"amount":"-1.00","currency":"EUR"}"#,
            1,
        ),
        serde_json::to_string(&quote).unwrap().replacen(
            &refund,
            r#""refund":{"amount":"1.00","currency":"USD"}"#,
            1,
        ),
    ] {
        assert_ne!(tampered, json, "the test must change something");
        assert!(
            serde_json::from_str::<RefundQuote>(&tampered).is_err(),
            "{tampered}"
        );
    }
}

#[test]
fn the_reason_names_the_rule_and_its_penalty() {
    let facts = berlin_facts("300.00", "300.00", "0.00", &["100.00"; 3]);
    let start = facts.start().instant();
    let reason = |late: Penalty| {
        let tiers = vec![Tier::new(Threshold::days(30), Penalty::None)];
        let policy = CancellationPolicy::new(tiers, late, vec![]).unwrap();
        let after_start = cancel(start + Duration::hours(1));
        policy
            .quote(&facts, after_start)
            .unwrap()
            .reason()
            .to_owned()
    };
    let fixed = Penalty::Fixed {
        amount: eur("25.00"),
    };
    let cases = [
        (
            Penalty::percent(pct(50)),
            "penalty of 50% of the refundable amount",
        ),
        (fixed, "fixed penalty of 25.00 EUR"),
        (
            Penalty::first_nights(1, Percentage::ZERO).unwrap(),
            "penalty of the first 1 night(s)",
        ),
        (
            Penalty::first_nights(2, pct(50)).unwrap(),
            "penalty of the first 2 night(s) and 50% of the rest",
        ),
    ];
    for (penalty, says) in cases {
        assert_eq!(
            reason(penalty),
            format!("cancelled after every deadline: {says}")
        );
    }
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let reason_at = |at| {
        policy
            .quote(&facts, cancel(at))
            .unwrap()
            .reason()
            .to_owned()
    };
    assert_eq!(
        reason_at(start - Duration::days(40)),
        "cancelled by the deadline 30 days before the start (at the start time) \
         (2026-03-03 14:00:00 UTC): no penalty"
    );
    assert_eq!(
        reason_at(start - Duration::days(3)),
        "cancelled by the deadline 48 hours before the start \
         (2026-03-31 13:00:00 UTC): penalty of 80% of the refundable amount"
    );
}

#[test]
fn a_refund_quote_of_one_part_is_refused() {
    use reservo::policy::{RefundPart, RefundQuote};
    let facts = berlin_facts("1000.00", "1000.00", "0.00", &[]);
    let policy = CancellationPolicy::new(three_tiers(), Penalty::FULL, vec![]).unwrap();
    let quote = policy
        .quote(&facts, cancel(facts.start().instant() - Duration::days(10)))
        .unwrap();
    let mut json = serde_json::to_value(&quote).unwrap();
    let part = RefundPart::new(vec![0], quote.clone());
    json["parts"] = serde_json::to_value(vec![part]).unwrap();
    let err = serde_json::from_value::<RefundQuote>(json).unwrap_err();
    assert!(
        err.to_string().contains("no parts or at least two"),
        "{err}"
    );
}
