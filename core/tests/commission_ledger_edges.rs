//! Booking ledgers and owner statements at their edges: clawbacks over
//! many small or huge refunds, refused and tampered refunds, drifted
//! stored ledgers, statement periods, and property tests that clawbacks
//! stay pro rata and statements of adjacent periods add up.

#[path = "support/commission.rs"]
mod commission;

use chrono::NaiveDate;
use commission::{
    amounts_balance, channel, cur, day, ledger_of, m, minor_parts, pct, percent_plan, terms,
};
use proptest::prelude::*;
use reservo::commission::{
    BookingLedger, CommissionPlan, FeeRate, StatementPeriod, TaxRemitter, owner_statement,
};
use reservo::ids::{BookingId, OwnerId};
use reservo::money::{Currency, Money};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

// ---------------------------------------------------------------------------
// Clawbacks
// ---------------------------------------------------------------------------

#[test]
fn many_one_unit_refunds_drain_every_part_exactly() {
    let plan = percent_plan(dec!(3.333), &[dec!(33.333), dec!(0.01)]);
    let split = plan.split(m("2.57", "EUR"), m("0.31", "EUR")).unwrap();
    let original = minor_parts(&split);
    let mut ledger = ledger_of("b", "o", day(5, 1), split);
    for _ in 0..257 {
        ledger.refund(m("0.01", "EUR"), day(5, 2)).unwrap();
    }
    assert!(ledger.remaining().parts().iter().all(Money::is_zero));
    let mut clawed = vec![0i64; original.len()];
    for entry in ledger.refunds() {
        for (sum, part) in clawed.iter_mut().zip(minor_parts(&entry.clawback)) {
            *sum += part;
        }
    }
    assert_eq!(clawed, original);
    let err = ledger.refund(m("0.01", "EUR"), day(5, 3)).unwrap_err();
    assert_eq!(err.code(), "REFUND_EXCEEDS_PAID");
}

#[test]
fn a_refused_refund_changes_nothing() {
    let plan = percent_plan(dec!(10), &[]);
    let mut ledger = ledger_of(
        "b",
        "o",
        day(5, 1),
        plan.split(m("10.00", "EUR"), m("0", "EUR")).unwrap(),
    );
    ledger.refund(m("4.00", "EUR"), day(5, 2)).unwrap();
    let before = ledger.clone();
    for (amount, code) in [
        (m("6.01", "EUR"), "REFUND_EXCEEDS_PAID"),
        (m("0.001", "EUR"), "INVALID_INPUT"),
        (m("-1.00", "EUR"), "INVALID_INPUT"),
        (m("0", "EUR"), "INVALID_INPUT"),
        (m("1.00", "USD"), "CURRENCY_MISMATCH"),
    ] {
        assert_eq!(
            ledger.refund(amount, day(5, 3)).unwrap_err().code(),
            code,
            "{amount}"
        );
        assert_eq!(ledger, before);
    }
    ledger.refund(m("6.00", "EUR"), day(5, 3)).unwrap();
    assert!(ledger.remaining().gross().is_zero());
}

#[test]
fn a_ledger_of_zero_gross_is_refused() {
    let plan = percent_plan(dec!(10), &[]);
    let split = plan.split(m("0", "EUR"), m("0", "EUR")).unwrap();
    let err = BookingLedger::new(
        BookingId::new("b").unwrap(),
        OwnerId::new("o").unwrap(),
        day(5, 1),
        split,
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn tampered_ledger_json_is_refused() {
    let plan = percent_plan(dec!(10), &[dec!(20)]);
    let mut ledger = ledger_of(
        "b",
        "o",
        day(5, 1),
        plan.split(m("100.00", "EUR"), m("10.00", "EUR")).unwrap(),
    );
    ledger.refund(m("50.00", "EUR"), day(5, 2)).unwrap();
    let json = serde_json::to_value(&ledger).unwrap();
    // a clawback that takes more from the platform than it was given,
    // with the refund amount adjusted so it still sums
    let mut greedy = json.clone();
    greedy["refunds"][0]["clawback"]["platform_fee"]["amount"] = "9.01".into();
    greedy["refunds"][0]["clawback"]["owner_payout"]["amount"] = "0.00".into();
    let sum: Decimal = ["9.01", "18.00", "5.00", "0.00"]
        .iter()
        .map(|s| s.parse::<Decimal>().unwrap())
        .sum();
    greedy["refunds"][0]["amount"]["amount"] = sum.to_string().into();
    assert!(serde_json::from_value::<BookingLedger>(greedy).is_err());
    // a second refund past the gross
    let mut twice = json.clone();
    let first = twice["refunds"][0].clone();
    twice["refunds"].as_array_mut().unwrap().push(first.clone());
    twice["refunds"].as_array_mut().unwrap().push(first);
    assert!(serde_json::from_value::<BookingLedger>(twice).is_err());
    // a clawback in another currency
    let mut usd = json.clone();
    usd["refunds"][0]["amount"]["currency"] = "USD".into();
    assert!(serde_json::from_value::<BookingLedger>(usd).is_err());
    // a negative part in the split
    let mut negative = json;
    negative["split"]["taxes"]["amount"] = "-10.00".into();
    assert!(serde_json::from_value::<BookingLedger>(negative).is_err());
}

/// Refunds `refunds` (minor units) one after the other and returns what
/// was clawed back from each part in total, and the original parts.
fn clawed_after(
    code: &str,
    gross: i64,
    taxes: i64,
    plan: &CommissionPlan,
    refunds: &[i64],
) -> (Vec<i64>, Vec<i64>) {
    let c = cur(code);
    let split = plan
        .split(Money::from_minor(gross, c), Money::from_minor(taxes, c))
        .unwrap();
    let original = minor_parts(&split);
    let mut ledger = ledger_of("b", "o", day(5, 1), split);
    let mut clawed = vec![0i64; original.len()];
    for amount in refunds {
        let entry = ledger
            .refund(Money::from_minor(*amount, c), day(5, 2))
            .unwrap();
        for (sum, part) in clawed.iter_mut().zip(minor_parts(&entry.clawback)) {
            *sum += part;
        }
    }
    (clawed, original)
}

/// A 100.00 EUR booking, 10% platform fee, refunded 10.00 EUR in one
/// thousand refunds of 0.01: the platform gives back 1.00 (its 10%) and
/// the owner 9.00, within a cent, although each 0.01 refund on its own
/// would round to the owner (0.9 of a cent): clawbacks follow the original
/// split over all refunds, not what each party still holds.
#[test]
fn small_partial_refunds_stay_pro_rata_to_the_original_split() {
    let plan = percent_plan(dec!(10), &[]);
    let (clawed, original) = clawed_after("EUR", 10_000, 0, &plan, &[1; 1_000]);
    assert_eq!(original, [1_000, 0, 9_000]);
    assert_eq!(clawed.iter().sum::<i64>(), 1_000);
    let exact = [100, 0, 900];
    for (i, (got, want)) in clawed.iter().zip(exact).enumerate() {
        assert!(
            (got - want).abs() <= 1,
            "part {i}: clawed back {got} minor units over 1000 refunds of 0.01, \
             pro rata is {want} (all parts: {clawed:?})"
        );
    }
}

/// Ledgers stored when each refund was shared by what each party still
/// held carry drifted clawbacks; they still load, and later refunds bring
/// every party back to pro rata.
#[test]
fn a_stored_ledger_with_drifted_clawbacks_loads_and_converges_to_pro_rata() {
    let plan = percent_plan(dec!(10), &[]);
    let ledger = ledger_of(
        "b",
        "o",
        day(5, 1),
        plan.split(m("100.00", "EUR"), m("0", "EUR")).unwrap(),
    );
    // 5.00 refunded, all of it from the owner
    let mut json = serde_json::to_value(&ledger).unwrap();
    let mut clawback = serde_json::to_value(ledger.split()).unwrap();
    clawback["platform_fee"]["amount"] = "0.00".into();
    clawback["owner_payout"]["amount"] = "5.00".into();
    json["refunds"] = serde_json::json!([{
        "on": "2026-05-02",
        "amount": {"amount": "5.00", "currency": "EUR"},
        "clawback": clawback,
    }]);
    let mut ledger: BookingLedger = serde_json::from_value(json).unwrap();
    assert_eq!(ledger.remaining().platform_fee(), m("10.00", "EUR"));
    for _ in 0..500 {
        ledger.refund(m("0.01", "EUR"), day(5, 3)).unwrap();
    }
    // 10.00 refunded in all: 1.00 from the platform, 9.00 from the owner
    let left = ledger.remaining();
    assert_eq!(left.platform_fee(), m("9.00", "EUR"));
    assert_eq!(left.owner_payout(), m("81.00", "EUR"));
    ledger.refund(m("90.00", "EUR"), day(5, 4)).unwrap();
    assert!(ledger.remaining().parts().iter().all(Money::is_zero));
}

#[test]
fn one_refund_claws_back_within_a_minor_unit_of_pro_rata() {
    let plan = percent_plan(dec!(3.333), &[dec!(33.333), dec!(7.77)]);
    for (code, gross, taxes, refund) in [
        ("EUR", 100_003, 9_091, 33_334),
        ("JPY", 9_999, 909, 1),
        ("KWD", 1_000_001, 1, 999_999),
    ] {
        let (clawed, original) = clawed_after(code, gross, taxes, &plan, &[refund]);
        for (got, part) in clawed.iter().zip(&original) {
            let exact = Decimal::from(refund) * Decimal::from(*part) / Decimal::from(gross);
            assert!((Decimal::from(*got) - exact).abs() < Decimal::ONE, "{code}");
        }
    }
}

/// Refunding a third of a booking of 10^14 EUR (10^16 cents, well inside
/// what `Money::to_minor` accepts) is refused with a typed error (its
/// pro-rata weights do not fit a decimal), never a panic across the FFI
/// bindings; refunding all of it, or a third of 10^10 EUR, works. Amounts
/// too large for minor units are refused when splitting.
#[test]
fn clawback_of_a_huge_amount_is_a_typed_error_never_a_panic() {
    let plan = percent_plan(dec!(10), &[]);
    let gross = Money::from_minor(10i64.pow(16), Currency::EUR);
    let split = plan.split(gross, Money::zero(Currency::EUR)).unwrap();
    let mut ledger = ledger_of("b", "o", day(5, 1), split);
    let before = ledger.clone();
    let third = Money::from_minor(10i64.pow(16) / 3, Currency::EUR);
    let outcome = std::panic::catch_unwind(move || {
        let result = ledger.refund(third, day(5, 2)).map(|_| ());
        (result, ledger)
    });
    let Ok((result, mut ledger)) = outcome else {
        panic!("a clawback panicked on a refund of {third}");
    };
    assert_eq!(result.unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(ledger, before);
    ledger.refund(gross, day(5, 2)).unwrap();
    assert!(ledger.remaining().gross().is_zero());

    let (clawed, original) = clawed_after("EUR", 10i64.pow(12), 0, &plan, &[10i64.pow(12) / 3]);
    assert_eq!(original, [10i64.pow(11), 0, 9 * 10i64.pow(11)]);
    assert_eq!(clawed, [33_333_333_333, 0, 300_000_000_000]);

    let too_large = Money::new(Decimal::MAX, Currency::EUR);
    let err = plan
        .split(too_large, Money::zero(Currency::EUR))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let huge_flat = CommissionPlan::new(
        FeeRate::new(pct(dec!(10)), Some(too_large)).unwrap(),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    let err = huge_flat
        .split(gross, Money::zero(Currency::EUR))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

// ---------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------

fn sample_ledger(id: &str, owner: &str, on: NaiveDate, gross: &str) -> BookingLedger {
    let plan = CommissionPlan::new(
        FeeRate::percent(pct(dec!(3.333))),
        vec![terms(
            channel("ota"),
            FeeRate::new(pct(dec!(15)), Some(m("1.00", "EUR"))).unwrap(),
        )],
        TaxRemitter::Platform,
    )
    .unwrap();
    let gross = m(gross, "EUR");
    let taxes = gross
        .percent(dec!(10))
        .round(reservo::money::RoundingMode::HalfEven);
    ledger_of(id, owner, on, plan.split(gross, taxes).unwrap())
}

#[test]
fn statement_period_is_half_open_on_both_bookings_and_refunds() {
    let owner = OwnerId::new("o-1").unwrap();
    let mut first_day = sample_ledger("b-first", "o-1", day(5, 1), "100.00");
    let last_day = sample_ledger("b-last", "o-1", day(5, 31), "200.00");
    let next_first = sample_ledger("b-next", "o-1", day(6, 1), "300.00");
    let before = sample_ledger("b-before", "o-1", day(4, 30), "400.00");
    first_day.refund(m("10.00", "EUR"), day(6, 1)).unwrap();
    first_day.refund(m("20.00", "EUR"), day(5, 31)).unwrap();
    let records = [next_first, before, last_day, first_day.clone()];
    let may = StatementPeriod::new(day(5, 1), day(6, 1)).unwrap();
    assert_eq!((may.start(), may.end()), (day(5, 1), day(6, 1)));
    let s = owner_statement(&owner, may, Currency::EUR, &records).unwrap();
    assert_eq!(s.period, may);
    let ids: Vec<&str> = s.lines.iter().map(|l| l.booking.as_str()).collect();
    assert_eq!(ids, ["b-first", "b-last"]);
    assert_eq!(s.totals.gross, m("300.00", "EUR"));
    assert_eq!(s.totals.refunds, m("20.00", "EUR"));
    let june = StatementPeriod::new(day(6, 1), day(7, 1)).unwrap();
    let s = owner_statement(&owner, june, Currency::EUR, &records).unwrap();
    let ids: Vec<&str> = s.lines.iter().map(|l| l.booking.as_str()).collect();
    assert_eq!(ids, ["b-first", "b-next"]);
    assert_eq!(s.totals.refunds, m("10.00", "EUR"));
    // one-day period
    let one = StatementPeriod::new(day(5, 31), day(6, 1)).unwrap();
    let s = owner_statement(&owner, one, Currency::EUR, &records).unwrap();
    assert_eq!(s.lines.len(), 2);
    assert_eq!(s.totals.gross, m("200.00", "EUR"));
    assert_eq!(s.totals.refunds, m("20.00", "EUR"));
    // an empty list is an empty statement in the currency asked
    let s = owner_statement(&owner, may, cur("JPY"), &[]).unwrap();
    assert!(s.lines.is_empty());
    assert_eq!(s.totals.gross, Money::zero(cur("JPY")));
}

#[test]
fn statement_refuses_another_owners_record_among_its_own_and_inverted_periods() {
    let owner = OwnerId::new("o-1").unwrap();
    let mine = sample_ledger("b-1", "o-1", day(5, 2), "10.00");
    let theirs = sample_ledger("b-2", "o-2", day(3, 2), "10.00");
    // even out of the period, another owner's record is refused
    let may = StatementPeriod::new(day(5, 1), day(6, 1)).unwrap();
    let err = owner_statement(&owner, may, Currency::EUR, &[mine, theirs]).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(
        StatementPeriod::new(day(6, 1), day(5, 1))
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
    let json = r#"{"start":"2026-06-01","end":"2026-05-01"}"#;
    assert!(serde_json::from_str::<StatementPeriod>(json).is_err());
}

proptest! {
    /// Random partial refunds, then one of what is left: every part comes
    /// back exactly, none ever goes negative, the clawbacks of each part
    /// sum to that part, and after every refund each part has given back
    /// its pro-rata share of everything refunded, less than a unit more,
    /// or less by under a unit plus one per part that is ahead.
    #[test]
    fn partial_refunds_track_pro_rata_and_a_full_refund_zeroes_every_part(
        code in prop::sample::select(vec!["JPY", "EUR", "KWD"]),
        gross in 1i64..10_000_000,
        tax_share in 0u32..=50,
        refund_shares in prop::collection::vec(1u32..=300, 1..40),
    ) {
        let plan = percent_plan(dec!(3.333), &[dec!(17.5), dec!(0.7)]);
        let taxes = gross * i64::from(tax_share) / 100;
        let mut amounts = Vec::new();
        let mut left = gross;
        for share in refund_shares {
            if left == 0 { break; }
            let a = (left * i64::from(share) / 1000).clamp(1, left);
            amounts.push(a);
            left -= a;
        }
        if left > 0 {
            amounts.push(left);
        }
        let (clawed, original) = clawed_after(code, gross, taxes, &plan, &amounts);
        prop_assert_eq!(&clawed, &original);
        let c = cur(code);
        let split = plan
            .split(Money::from_minor(gross, c), Money::from_minor(taxes, c))
            .unwrap();
        let mut ledger = ledger_of("b", "o", day(5, 1), split);
        let mut refunded = 0;
        for a in &amounts {
            ledger.refund(Money::from_minor(*a, c), day(5, 2)).unwrap();
            prop_assert!(ledger.remaining().parts().iter().all(|p| !p.is_negative()));
            refunded += a;
            let ahead: Vec<Decimal> = original
                .iter()
                .zip(minor_parts(&ledger.remaining()))
                .map(|(o, left)| {
                    let pro_rata = Decimal::from(refunded * o) / Decimal::from(gross);
                    Decimal::from(o - left) - pro_rata
                })
                .collect();
            let parts_ahead = ahead.iter().filter(|d| d.is_sign_positive() && !d.is_zero()).count();
            for d in &ahead {
                prop_assert!(*d < Decimal::ONE, "{ahead:?}");
                prop_assert!(-*d < Decimal::from(1 + parts_ahead), "{ahead:?}");
            }
        }
        prop_assert!(ledger.remaining().parts().iter().all(Money::is_zero));
        prop_assert_eq!(ledger.refunded(), Money::from_minor(gross, c));
    }

    /// Statement totals are the sum of its lines, every line balances, and
    /// statements of consecutive periods add up to the statement of their
    /// union.
    #[test]
    fn statements_of_adjacent_periods_add_up_to_their_union(
        bookings in prop::collection::vec(
            (1i64..1_000_000, 0u32..90, prop::collection::vec((1u32..=500, 0u32..90), 0..4)),
            1..12,
        ),
        split_at in 1u32..89,
    ) {
        let start = day(4, 1);
        let plan = percent_plan(dec!(3.333), &[dec!(15)]);
        let mut records = Vec::new();
        for (i, (gross, offset, refunds)) in bookings.iter().enumerate() {
            let on = start + chrono::Days::new(u64::from(*offset));
            let split = plan
                .split(Money::from_minor(*gross, Currency::EUR), Money::from_minor(gross / 11, Currency::EUR))
                .unwrap();
            let mut ledger = ledger_of(&format!("b-{i:02}"), "o-1", on, split);
            for (share, when) in refunds {
                let left = ledger.remaining().gross().to_minor().unwrap();
                if left == 0 { break; }
                let a = (left * i64::from(*share) / 1000).clamp(1, left);
                let on = start + chrono::Days::new(u64::from(*when));
                ledger.refund(Money::from_minor(a, Currency::EUR), on).unwrap();
            }
            records.push(ledger);
        }
        let owner = OwnerId::new("o-1").unwrap();
        let mid = start + chrono::Days::new(u64::from(split_at));
        let end = start + chrono::Days::new(90);
        let a = owner_statement(&owner, StatementPeriod::new(start, mid).unwrap(), Currency::EUR, &records).unwrap();
        let b = owner_statement(&owner, StatementPeriod::new(mid, end).unwrap(), Currency::EUR, &records).unwrap();
        let all = owner_statement(&owner, StatementPeriod::new(start, end).unwrap(), Currency::EUR, &records).unwrap();
        for s in [&a, &b, &all] {
            prop_assert!(amounts_balance(&s.totals));
            let mut sum = Decimal::ZERO;
            for line in &s.lines {
                prop_assert!(amounts_balance(&line.amounts));
                sum += line.amounts.owner_payout.amount();
            }
            prop_assert_eq!(sum, s.totals.owner_payout.amount());
            let mut sorted = s.lines.clone();
            sorted.sort_by(|x, y| x.recognized_on.cmp(&y.recognized_on).then(x.booking.cmp(&y.booking)));
            prop_assert_eq!(&sorted, &s.lines);
        }
        let field = |s: &reservo::commission::OwnerStatement| {
            let t = s.totals;
            [t.gross, t.refunds, t.platform_fees, t.commissions, t.taxes, t.owner_payout]
                .map(|m| m.amount())
        };
        let (fa, fb, fall) = (field(&a), field(&b), field(&all));
        for i in 0..6 {
            prop_assert_eq!(fa[i] + fb[i], fall[i]);
        }
        // over the whole window every booking nets to what is left of it
        let left: Decimal = records.iter().map(|r| r.remaining().owner_payout().amount()).sum();
        prop_assert_eq!(all.totals.owner_payout.amount(), left);
    }
}
