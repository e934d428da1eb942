//! Who a split names and what each party's terms read back as: fee rates,
//! the commissions of a split in plan order, percentages of 100% that
//! round past the base and are shared out exactly, and `same_parties`,
//! on which re-splits and stored ledgers depend (a re-split or clawback
//! naming other parties is refused, stored or not).

#[path = "support/commission.rs"]
mod commission;

use commission::{broker, channel, day, ledger_of, m, minor_parts, pct, percent_plan, terms};
use reservo::commission::{BookingLedger, CommissionPlan, FeeRate, Split, TaxRemitter};
use rust_decimal_macros::dec;

fn split_of(plan: &CommissionPlan, gross: &str) -> Split {
    plan.split(m(gross, "EUR"), m("0.00", "EUR")).unwrap()
}

#[test]
fn a_fee_rate_reads_back_its_percentage_and_flat_amount() {
    let rate = FeeRate::new(pct(dec!(12.5)), Some(m("1.50", "EUR"))).unwrap();
    assert_eq!(rate.percentage(), pct(dec!(12.5)));
    assert_eq!(rate.flat(), Some(m("1.50", "EUR")));
    assert_eq!(FeeRate::percent(pct(dec!(3))).flat(), None);
    assert_eq!(FeeRate::none().flat(), None);
    assert!(FeeRate::none().percentage().is_zero());
}

#[test]
fn a_split_lists_its_commissions_in_plan_order() {
    let plan = CommissionPlan::new(
        FeeRate::percent(pct(dec!(5))),
        vec![
            terms(broker("agent"), FeeRate::percent(pct(dec!(10)))),
            terms(
                channel("ota"),
                FeeRate::new(pct(dec!(15)), Some(m("1.00", "EUR"))).unwrap(),
            ),
        ],
        TaxRemitter::Platform,
    )
    .unwrap();
    let split = split_of(&plan, "200.00");
    let listed: Vec<(&str, String)> = split
        .commissions()
        .iter()
        .map(|c| (c.intermediary.id(), c.amount.to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            ("agent", "20.00 EUR".to_owned()),
            ("ota", "31.00 EUR".to_owned())
        ]
    );
    assert_eq!(split.owner_payout(), m("139.00", "EUR"));
}

#[test]
fn fees_that_round_past_the_base_share_it_out_by_largest_remainder() {
    // (platform %, channel %s, base): each fee rounded on its own comes to
    // more than the base, so the base is allocated by the percentages and
    // the owner's rest of 100%, and the owner's weight decides who gets
    // the last unit.
    for (platform, channels, base, expected) in [
        // 3.5 and 1.5 units round to 4 + 2 > 5; exactly 3.5, 1.5 and 0.
        (dec!(70), vec![dec!(30)], "0.05", vec![4, 1, 0, 0]),
        // 0.55, 3.85, 6.6 units round to 1 + 4 + 7 > 11; the platform's
        // 0.55 is the smallest remainder and gets no unit.
        (
            dec!(5),
            vec![dec!(35), dec!(60)],
            "0.11",
            vec![0, 4, 7, 0, 0],
        ),
        // 0.85, 2.55, 13.6 units round to 1 + 3 + 14 > 17.
        (
            dec!(5),
            vec![dec!(15), dec!(80)],
            "0.17",
            vec![1, 2, 14, 0, 0],
        ),
    ] {
        let split = split_of(&percent_plan(platform, &channels), base);
        assert_eq!(
            minor_parts(&split),
            expected,
            "{platform}% {channels:?} of {base}"
        );
    }
}

#[test]
fn splits_have_the_same_parties_only_with_the_same_currency_remitter_and_intermediaries() {
    let plan = |remitter: TaxRemitter, who: &[&str]| {
        CommissionPlan::new(
            FeeRate::percent(pct(dec!(10))),
            who.iter()
                .map(|id| terms(channel(id), FeeRate::percent(pct(dec!(5)))))
                .collect(),
            remitter,
        )
        .unwrap()
    };
    let base = split_of(&plan(TaxRemitter::Owner, &["a", "b"]), "100.00");
    // Other amounts, same parties.
    assert!(base.same_parties(&split_of(&plan(TaxRemitter::Owner, &["a", "b"]), "7.00")));
    let usd = plan(TaxRemitter::Owner, &["a", "b"])
        .split(m("100.00", "USD"), m("0", "USD"))
        .unwrap();
    for (other, what) in [
        (usd, "another currency"),
        (
            split_of(&plan(TaxRemitter::Platform, &["a", "b"]), "100.00"),
            "another tax remitter",
        ),
        (
            split_of(&plan(TaxRemitter::Owner, &["a"]), "100.00"),
            "fewer intermediaries",
        ),
        (
            split_of(&plan(TaxRemitter::Owner, &["a", "c"]), "100.00"),
            "another intermediary",
        ),
        (
            split_of(&plan(TaxRemitter::Owner, &["b", "a"]), "100.00"),
            "the same intermediaries in another order",
        ),
    ] {
        assert!(!base.same_parties(&other), "{what}");
        assert!(!other.same_parties(&base), "{what}");
    }
}

#[test]
fn a_re_split_naming_other_parties_is_refused_and_changes_nothing() {
    let booked = percent_plan(dec!(10), &[dec!(15)]);
    let mut ledger = ledger_of("b", "o", day(5, 1), split_of(&booked, "100.00"));
    let before = ledger.clone();
    let other_channel = CommissionPlan::new(
        FeeRate::percent(pct(dec!(10))),
        vec![terms(channel("elsewhere"), FeeRate::percent(pct(dec!(15))))],
        TaxRemitter::Owner,
    )
    .unwrap();
    let err = ledger
        .resplit(split_of(&other_channel, "120.00"), day(5, 2), day(5, 2))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("other parties"), "{err}");
    assert_eq!(ledger, before);
    ledger
        .resplit(split_of(&booked, "120.00"), day(5, 2), day(5, 2))
        .unwrap();
    assert_eq!(ledger.split().gross(), m("120.00", "EUR"));
}

#[test]
fn a_stored_ledger_whose_re_split_or_clawback_names_other_parties_is_refused() {
    let booked = percent_plan(dec!(10), &[dec!(15)]);
    let mut ledger = ledger_of("b", "o", day(5, 1), split_of(&booked, "100.00"));
    ledger
        .resplit(split_of(&booked, "120.00"), day(5, 2), day(5, 2))
        .unwrap();
    ledger.refund(m("12.00", "EUR"), day(5, 3)).unwrap();
    let json = serde_json::to_value(&ledger).unwrap();
    let loaded: BookingLedger = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(loaded, ledger);

    for (intermediary_id, refused) in [
        (
            "/resplits/0/split/commissions/0/intermediary/id",
            "a re-split on 2026-05-02 names other parties",
        ),
        (
            "/refunds/0/clawback/commissions/0/intermediary/id",
            "a clawback of 12.00 EUR names other parties",
        ),
    ] {
        let mut tampered = json.clone();
        *tampered.pointer_mut(intermediary_id).expect("the field") = "elsewhere".into();
        let err = serde_json::from_value::<BookingLedger>(tampered).unwrap_err();
        assert!(err.to_string().contains(refused), "{err}");
    }
}
