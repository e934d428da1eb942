//! Cancellation penalties at their extremes: first nights beyond the
//! stay, 0% and 100%, currencies with 0 and 3 decimals, and the presets
//! as the presets page states them.

#[path = "support/policy.rs"]
mod policy;

use chrono::Duration;
use policy::{date, eur, hm, money, paid_facts, pct, refund, stay_start, tz, utc};
use reservo::policy::presets::{airbnb, booking_com, vrbo};
use reservo::policy::{
    BookingFacts, BookingStart, CancellationEvent, CancellationPolicy, Penalty, Percentage,
};
use rust_decimal_macros::dec;

// ---------------------------------------------------------------------------
// Domain: penalties at their extremes, currencies with 0 and 3 decimals
// ---------------------------------------------------------------------------

/// First N nights with N above the stay's nights: every night is kept, and
/// the share of the rest applies to what is not a night (cleaning).
#[test]
fn first_nights_beyond_the_stay_keep_every_night_and_a_share_of_the_rest() {
    let start = stay_start("Europe/Lisbon", date(2026, 7, 13), 3, hm(15, 0));
    let facts = paid_facts(start, "360.00", &["100.00"; 3]);
    let five = Penalty::first_nights(5, pct(50)).unwrap();
    let policy = CancellationPolicy::new(vec![], five, vec![]).unwrap();
    let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
    // 300 of nights + 50% of the 60 cleaning: 330 kept, 30 back.
    assert_eq!(quote.refund(), eur("30.00"));
    assert_eq!(quote.penalty(), eur("330.00"));

    // Nights worth more than the refundable part: capped, nothing negative.
    let fee_heavy = BookingFacts::new(
        facts.booked_at(),
        start,
        eur("340.00"),
        eur("340.00"),
        eur("100.00"),
        vec![eur("100.00"); 3],
    )
    .unwrap();
    let all = Penalty::first_nights(u16::MAX, Percentage::HUNDRED).unwrap();
    let policy = CancellationPolicy::new(vec![], all, vec![]).unwrap();
    let quote = policy.quote(&fee_heavy, CancellationEvent::NoShow).unwrap();
    assert_eq!(quote.refund(), eur("0.00"));
    assert_eq!(quote.penalty(), eur("240.00"));
    assert_eq!(quote.non_refundable_kept(), eur("100.00"));
}

/// 0% and 100% penalties, and a zero fixed penalty, at the extremes.
#[test]
fn zero_and_hundred_percent_and_zero_fixed_penalties() {
    let start = stay_start("Europe/Lisbon", date(2026, 7, 13), 3, hm(15, 0));
    let facts = BookingFacts::new(
        start.instant() - Duration::days(60),
        start,
        eur("360.00"),
        eur("200.00"),
        eur("15.00"),
        vec![eur("100.00"); 3],
    )
    .unwrap();
    let cases = [
        (Penalty::percent(Percentage::ZERO), "185.00", "0.00"),
        (Penalty::FULL, "0.00", "185.00"),
        (
            Penalty::Fixed {
                amount: eur("0.00"),
            },
            "185.00",
            "0.00",
        ),
        (Penalty::None, "185.00", "0.00"),
    ];
    for (late, want_refund, want_penalty) in cases {
        let policy = CancellationPolicy::new(vec![], late, vec![]).unwrap();
        let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
        assert_eq!(quote.refund(), eur(want_refund), "{late:?}");
        assert_eq!(quote.penalty(), eur(want_penalty), "{late:?}");
        assert_eq!(quote.non_refundable_kept(), eur("15.00"));
    }
}

/// JPY has no minor unit: a refund of 20002.1 yen is 20002, never 20003,
/// and what is kept takes the fraction.
#[test]
fn yen_refunds_round_toward_zero_to_whole_yen() {
    let start = stay_start("Asia/Tokyo", date(2026, 7, 13), 3, hm(15, 0));
    let jpy = |s| money(s, "JPY");
    let facts = BookingFacts::new(
        start.instant() - Duration::days(30),
        start,
        jpy("30003"),
        jpy("30003"),
        jpy("0"),
        vec![jpy("10001"); 3],
    )
    .unwrap();
    let third = Percentage::new(dec!(33.333)).unwrap();
    let policy = CancellationPolicy::new(vec![], Penalty::percent(third), vec![]).unwrap();
    let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
    // exact penalty 10000.89999 → exact refund 20002.10001
    assert_eq!(quote.refund(), jpy("20002"));
    assert_eq!(quote.penalty(), jpy("10001"));
    assert!(quote.refund().is_rounded() && quote.penalty().is_rounded());
    // A fixed yen penalty with decimals is refused.
    let bad = CancellationPolicy::new(
        vec![],
        Penalty::Fixed {
            amount: jpy("100.5"),
        },
        vec![],
    );
    assert_eq!(bad.unwrap_err().code(), "INVALID_INPUT");
}

/// KWD and BHD have three decimals: a half of 30.003 is 15.0015, refunded
/// as 15.001; amounts with four decimals are refused in the facts.
#[test]
fn three_decimal_currencies_round_to_the_fils() {
    for code in ["KWD", "BHD"] {
        let c = |s| money(s, code);
        let start = BookingStart::at_instant(utc(2026, 9, 1, 12, 0, 0), tz("Asia/Kuwait"));
        let facts = BookingFacts::new(
            utc(2026, 6, 1, 12, 0, 0),
            start,
            c("30.003"),
            c("30.003"),
            c("0.000"),
            vec![c("10.001"); 3],
        )
        .unwrap();
        let policy = CancellationPolicy::new(vec![], Penalty::percent(pct(50)), vec![]).unwrap();
        let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
        assert_eq!(quote.refund(), c("15.001"));
        assert_eq!(quote.penalty(), c("15.002"));
        let first = Penalty::first_nights(1, pct(50)).unwrap();
        let policy = CancellationPolicy::new(vec![], first, vec![]).unwrap();
        let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
        // 10.001 + half of 20.002 = 20.002 kept
        assert_eq!(quote.refund(), c("10.001"));
        let err = BookingFacts::new(
            utc(2026, 6, 1, 12, 0, 0),
            start,
            c("30.0031"),
            c("0"),
            c("0"),
            vec![],
        );
        assert_eq!(err.unwrap_err().code(), "INVALID_INPUT");
    }
}

/// Presets as the presets page states them, for a Booking.com code whose
/// deadline is the midnight starting the arrival day (days = 0), and Vrbo
/// Strict, which has no 50% step.
#[test]
fn preset_rules_match_the_presets_page() {
    let start = stay_start("Europe/Lisbon", date(2026, 8, 10), 2, hm(15, 0));
    let facts = paid_facts(start, "200.00", &["100.00", "100.00"]);
    // Booking.com free_until(0): free until 00:00 on 10 August (Lisbon, WEST).
    let zero = booking_com::free_until(0, booking_com::AfterDeadline::FirstNight);
    let midnight = utc(2026, 8, 9, 23, 0, 0);
    assert_eq!(refund(&zero, &facts, midnight), eur("200.00"));
    assert_eq!(
        refund(&zero, &facts, midnight + Duration::seconds(1)),
        eur("100.00")
    );
    // Vrbo Strict: full until the end of the day 60 days before, then nothing.
    let strict = vrbo::strict();
    let end = utc(2026, 6, 11, 23, 0, 0); // end of 11 June in Lisbon
    assert_eq!(refund(&strict, &facts, end), eur("200.00"));
    assert_eq!(
        refund(&strict, &facts, end + Duration::seconds(1)),
        eur("0.00")
    );
    // Airbnb Moderate: full until exactly 5 days before at check-in time.
    let moderate = airbnb::moderate();
    let five = start.instant() - Duration::days(5);
    assert_eq!(refund(&moderate, &facts, five), eur("200.00"));
    // after: first night + 50% of the other = 150 kept
    assert_eq!(
        refund(&moderate, &facts, five + Duration::seconds(1)),
        eur("50.00")
    );
    // Airbnb Limited: full until 14 days, 50% until 7 days, nothing after.
    let limited = airbnb::limited();
    let fourteen = start.instant() - Duration::days(14);
    assert_eq!(refund(&limited, &facts, fourteen), eur("200.00"));
    assert_eq!(
        refund(&limited, &facts, fourteen + Duration::seconds(1)),
        eur("100.00")
    );
    let seven = start.instant() - Duration::days(7);
    assert_eq!(refund(&limited, &facts, seven), eur("100.00"));
    assert_eq!(
        refund(&limited, &facts, seven + Duration::seconds(1)),
        eur("0.00")
    );
    // The non-refundable presets have no window, even a minute after booking.
    for p in [airbnb::non_refundable(), vrbo::no_refund()] {
        assert!(p.free_windows().is_empty());
    }
}
