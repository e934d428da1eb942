//! Invariants of refund quotes over random policies, bookings and instants.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use reservo::money::{Currency, Money};
use reservo::policy::{
    BookingFacts, BookingStart, CancellationEvent, CancellationPolicy, DeadlineTime, Penalty,
    Percentage, Threshold, Tier,
};
use rust_decimal::Decimal;

fn threshold() -> impl Strategy<Value = Threshold> {
    prop_oneof![
        (0u16..90, 0u8..3).prop_map(|(days, at)| Threshold::DaysBefore {
            days,
            at: match at {
                0 => DeadlineTime::StartTime,
                1 => DeadlineTime::EndOfDay,
                _ => DeadlineTime::At(chrono::NaiveTime::MIN),
            },
        }),
        (0u16..2000).prop_map(Threshold::hours),
    ]
}

fn percentage() -> impl Strategy<Value = Percentage> {
    (0u32..=100_000).prop_map(|p| Percentage::new(Decimal::new(i64::from(p), 3)).unwrap())
}

fn penalty(currency: Currency) -> impl Strategy<Value = Penalty> {
    prop_oneof![
        Just(Penalty::None),
        percentage().prop_map(Penalty::percent),
        (0i64..200_000).prop_map(move |m| Penalty::Fixed {
            amount: Money::from_minor(m, currency)
        }),
        (1u16..6, percentage()).prop_map(|(n, p)| Penalty::first_nights(n, p).unwrap()),
    ]
}

fn tiers(currency: Currency) -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec((threshold(), penalty(currency)), 0..6).prop_map(|pairs| {
        let mut tiers: Vec<Tier> = Vec::new();
        for (threshold, penalty) in pairs {
            if tiers.iter().all(|t| t.threshold != threshold) {
                tiers.push(Tier::new(threshold, penalty));
            }
        }
        tiers
    })
}

prop_compose! {
    fn facts(currency: Currency)(
        price in 0i64..500_000,
        paid_share in 0u32..=100,
        fee_share in 0u32..=100,
        nights in prop::collection::vec(0i64..100_000, 0..8),
        lead_hours in 0i64..3000,
        start_hour in 0i64..(24 * 366),
    ) -> BookingFacts {
        let paid = price * i64::from(paid_share) / 100;
        let fee = price * i64::from(fee_share) / 100;
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(start_hour);
        let tz = "America/New_York".parse().unwrap();
        BookingFacts::new(
            start - Duration::hours(lead_hours),
            BookingStart::at_instant(start, tz),
            Money::from_minor(price, currency),
            Money::from_minor(paid, currency),
            Money::from_minor(fee, currency),
            nights.into_iter().map(|n| Money::from_minor(n, currency)).collect(),
        ).unwrap()
    }
}

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["EUR", "JPY", "KWD"]).prop_map(|c| Currency::from_code(c).unwrap())
}

fn case() -> impl Strategy<Value = (Vec<Tier>, Penalty, BookingFacts, i64)> {
    currency().prop_flat_map(|c| (tiers(c), penalty(c), facts(c), 0i64..4000))
}

proptest! {
    #[test]
    fn refund_is_never_more_than_paid_and_the_parts_add_up(
        (tiers, late, facts, after_booking_hours) in case(),
        no_show in any::<bool>(),
    ) {
        let policy = CancellationPolicy::new(tiers, late, vec![]).unwrap();
        let event = if no_show {
            CancellationEvent::NoShow
        } else {
            CancellationEvent::Cancelled { at: facts.booked_at() + Duration::hours(after_booking_hours) }
        };
        let quote = policy.quote(&facts, event).unwrap();
        prop_assert!(!quote.refund().is_negative());
        prop_assert!(quote.refund().amount() <= facts.paid().amount());
        prop_assert!(quote.refund().amount() <= facts.paid().amount() - quote.non_refundable_kept().amount());
        prop_assert!(quote.refund().is_rounded());
        prop_assert!(!quote.penalty().is_negative());
        let total = quote.refund().amount() + quote.penalty().amount() + quote.non_refundable_kept().amount();
        prop_assert_eq!(total, facts.paid().amount());
    }

    #[test]
    fn listing_order_of_tiers_never_changes_a_quote(
        (tiers, late, facts, after_booking_hours) in case(),
        seed in any::<u64>(),
    ) {
        let mut shuffled = tiers.clone();
        // a deterministic shuffle driven by the generated seed
        let len = shuffled.len();
        let mut s = seed;
        for i in (1..len).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = usize::try_from(s >> 33).unwrap() % (i + 1);
            shuffled.swap(i, j);
        }
        let a = CancellationPolicy::new(tiers, late, vec![]).unwrap();
        let b = CancellationPolicy::new(shuffled, late, vec![]).unwrap();
        prop_assert_eq!(&a, &b);
        let at = facts.booked_at() + Duration::hours(after_booking_hours);
        let event = CancellationEvent::Cancelled { at };
        prop_assert_eq!(a.quote(&facts, event).unwrap(), b.quote(&facts, event).unwrap());
    }

    #[test]
    fn rounding_never_makes_a_refund_higher_than_the_exact_value(
        facts in currency().prop_flat_map(facts),
        percent in percentage(),
    ) {
        let policy = CancellationPolicy::new(vec![], Penalty::percent(percent), vec![]).unwrap();
        let quote = policy.quote(&facts, CancellationEvent::NoShow).unwrap();
        let kept_fee = facts.non_refundable().amount().min(facts.paid().amount());
        let exact = (facts.paid().amount() - kept_fee
            - facts.refundable().amount() * percent.value() / Decimal::ONE_HUNDRED)
            .max(Decimal::ZERO);
        let unit = Decimal::new(1, facts.currency().minor_units());
        prop_assert!(quote.refund().amount() <= exact);
        prop_assert!(exact - quote.refund().amount() < unit);
    }
}
