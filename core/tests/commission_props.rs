//! Invariants of splits and clawbacks over random plans and refund sequences.

use chrono::NaiveDate;
use proptest::prelude::*;
use reservo::commission::{
    BookingLedger, CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms,
    TaxRemitter,
};
use reservo::ids::{BookingId, OwnerId};
use reservo::money::{Currency, Money};
use reservo::policy::Percentage;
use rust_decimal::Decimal;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["EUR", "JPY", "KWD"]).prop_map(|c| Currency::from_code(c).unwrap())
}

/// A plan whose percentages add up to at most 100% and no flat fees, so
/// every split of any gross succeeds.
fn plan() -> impl Strategy<Value = CommissionPlan> {
    prop::collection::vec(0u32..=2_000, 1..5).prop_map(|rates| {
        let pct = |r: u32| Percentage::new(Decimal::new(i64::from(r), 2)).unwrap();
        let intermediaries = rates[1..]
            .iter()
            .enumerate()
            .map(|(i, r)| IntermediaryTerms {
                intermediary: Intermediary::new(IntermediaryRole::Channel, format!("c{i}"))
                    .unwrap(),
                rate: FeeRate::percent(pct(*r)),
            })
            .collect();
        CommissionPlan::new(
            FeeRate::percent(pct(rates[0])),
            intermediaries,
            TaxRemitter::Owner,
        )
        .unwrap()
    })
}

proptest! {
    #[test]
    fn parts_always_sum_exactly_to_the_gross(
        currency in currency(),
        plan in plan(),
        gross in 0i64..100_000_000,
        tax_share in 0u32..=40,
    ) {
        let taxes = gross * i64::from(tax_share) / 100;
        let split = plan
            .split(Money::from_minor(gross, currency), Money::from_minor(taxes, currency))
            .unwrap();
        let sum: Decimal = split.parts().iter().map(Money::amount).sum();
        prop_assert_eq!(sum, Money::from_minor(gross, currency).amount());
        prop_assert!(split.parts().iter().all(|p| !p.is_negative() && p.is_rounded()));
    }

    #[test]
    fn refunds_in_sequence_shrink_every_part_and_never_overdraw(
        currency in currency(),
        plan in plan(),
        gross in 1i64..10_000_000,
        refund_shares in prop::collection::vec(1u32..=100, 1..8),
    ) {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let split = plan
            .split(Money::from_minor(gross, currency), Money::from_minor(gross / 10, currency))
            .unwrap();
        let original = split.parts();
        let mut ledger = BookingLedger::new(
            BookingId::new("b").unwrap(), OwnerId::new("o").unwrap(), day, split,
        ).unwrap();
        let mut refunded = 0i64;
        for share in refund_shares {
            let left = gross - refunded;
            let amount = (left * i64::from(share) / 100).max(1).min(left);
            if left == 0 {
                let err = ledger.refund(Money::from_minor(1, currency), day).unwrap_err();
                prop_assert_eq!(err.code(), "REFUND_EXCEEDS_PAID");
                break;
            }
            let before = ledger.remaining().parts();
            ledger.refund(Money::from_minor(amount, currency), day).unwrap();
            refunded += amount;
            let after = ledger.remaining().parts();
            let sum: Decimal = after.iter().map(Money::amount).sum();
            prop_assert_eq!(sum, Money::from_minor(gross - refunded, currency).amount());
            for ((a, b), o) in after.iter().zip(&before).zip(&original) {
                prop_assert!(!a.is_negative(), "a part went negative");
                prop_assert!(a.amount() <= b.amount(), "a refund grew a part");
                prop_assert!(a.amount() <= o.amount());
            }
        }
        prop_assert_eq!(ledger.refunded(), Money::from_minor(refunded, currency));
    }
}
