//! Splits, clawbacks and owner statements.

use chrono::NaiveDate;
use reservo::commission::{
    BookingLedger, CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms,
    StatementPeriod, TaxRemitter, owner_statement,
};
use reservo::ids::{BookingId, OwnerId};
use reservo::money::{Currency, Money};
use reservo::policy::Percentage;
use rust_decimal_macros::dec;

fn eur(s: &str) -> Money {
    Money::parse(s, "EUR").unwrap()
}

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}

fn channel() -> Intermediary {
    Intermediary::new(IntermediaryRole::Channel, "ota-1").unwrap()
}

fn plan() -> CommissionPlan {
    CommissionPlan::new(
        FeeRate::percent(Percentage::new(dec!(3.3)).unwrap()),
        vec![IntermediaryTerms {
            intermediary: channel(),
            rate: FeeRate::new(Percentage::whole(15).unwrap(), Some(eur("1.00"))).unwrap(),
        }],
        TaxRemitter::Intermediary(channel()),
    )
    .unwrap()
}

fn ledger(id: &str, owner: &str, on: NaiveDate, gross: &str, taxes: &str) -> BookingLedger {
    BookingLedger::new(
        BookingId::new(id).unwrap(),
        OwnerId::new(owner).unwrap(),
        on,
        plan().split(eur(gross), eur(taxes)).unwrap(),
    )
    .unwrap()
}

#[test]
fn owner_payout_absorbs_the_rounding_of_the_fees() {
    // base 100.01: 3.3% = 3.30033 -> 3.30; 15% = 15.0015 -> 15.00 (+1.00)
    let split = plan().split(eur("110.01"), eur("10.00")).unwrap();
    assert_eq!(split.platform_fee(), eur("3.30"));
    assert_eq!(split.commission_total(), eur("16.00"));
    assert_eq!(split.taxes(), eur("10.00"));
    assert_eq!(split.owner_payout(), eur("80.71"));
    assert_eq!(split.gross(), eur("110.01"));
    assert_eq!(split.tax_remitter(), &TaxRemitter::Intermediary(channel()));
}

#[test]
fn fees_above_the_base_and_taxes_above_the_gross_are_refused() {
    let greedy = CommissionPlan::new(
        FeeRate::new(Percentage::whole(90).unwrap(), Some(eur("20.00"))).unwrap(),
        vec![],
        TaxRemitter::Owner,
    )
    .unwrap();
    assert_eq!(
        greedy.split(eur("100.00"), eur("0.00")).unwrap_err().code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        plan().split(eur("10.00"), eur("10.01")).unwrap_err().code(),
        "INVALID_INPUT"
    );
    assert_eq!(
        plan()
            .split(eur("10.00"), Money::parse("1.00", "USD").unwrap())
            .unwrap_err()
            .code(),
        "CURRENCY_MISMATCH"
    );
}

#[test]
fn a_plan_refuses_unknown_tax_remitters_and_repeated_intermediaries() {
    let stranger = Intermediary::new(IntermediaryRole::Broker, "elsewhere").unwrap();
    let err = CommissionPlan::new(FeeRate::none(), vec![], TaxRemitter::Intermediary(stranger));
    assert_eq!(err.unwrap_err().code(), "INVALID_INPUT");
    let terms = IntermediaryTerms {
        intermediary: channel(),
        rate: FeeRate::none(),
    };
    let twice = CommissionPlan::new(
        FeeRate::none(),
        vec![terms.clone(), terms],
        TaxRemitter::Owner,
    );
    assert_eq!(twice.unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn refunds_claw_back_pro_rata_and_never_past_what_was_paid() {
    let mut record = ledger("b-1", "o-1", d(5, 2), "110.01", "10.00");
    let first = record.refund(eur("55.00"), d(5, 10)).unwrap().clone();
    assert_eq!(first.clawback.gross(), eur("55.00"));
    // each party gives back about half
    assert_eq!(first.clawback.taxes(), eur("5.00"));
    assert_eq!(record.remaining().gross(), eur("55.01"));
    record.refund(eur("55.01"), d(5, 11)).unwrap();
    let left = record.remaining();
    assert!(left.parts().iter().all(Money::is_zero));
    let err = record.refund(eur("0.01"), d(5, 12)).unwrap_err();
    assert_eq!(err.code(), "REFUND_EXCEEDS_PAID");
    assert_eq!(
        record.refunds().len(),
        2,
        "a refused refund changes nothing"
    );
    assert_eq!(
        record.refund(eur("0.00"), d(5, 12)).unwrap_err().code(),
        "INVALID_INPUT"
    );
}

#[test]
fn ledger_json_round_trips_and_tampered_clawbacks_are_refused() {
    let mut record = ledger("b-1", "o-1", d(5, 2), "200.00", "20.00");
    record.refund(eur("50.00"), d(5, 3)).unwrap();
    let json = serde_json::to_string(&record).unwrap();
    assert_eq!(
        serde_json::from_str::<BookingLedger>(&json).unwrap(),
        record
    );
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["refunds"][0]["amount"]["amount"] = "60.00".into();
    assert!(serde_json::from_value::<BookingLedger>(value).is_err());
}

#[test]
fn statement_puts_bookings_and_refunds_in_their_own_periods() {
    let owner = OwnerId::new("o-1").unwrap();
    let mut may_booking = ledger("b-2", "o-1", d(5, 20), "110.01", "10.00");
    may_booking.refund(eur("11.00"), d(5, 25)).unwrap();
    may_booking.refund(eur("22.00"), d(6, 3)).unwrap();
    let other_may = ledger("b-1", "o-1", d(5, 21), "50.00", "0.00");
    let june_booking = ledger("b-3", "o-1", d(6, 5), "80.00", "5.00");
    let records = [june_booking, may_booking.clone(), other_may];

    let may = StatementPeriod::new(d(5, 1), d(6, 1)).unwrap();
    let statement = owner_statement(&owner, may, Currency::EUR, &records).unwrap();
    let ids: Vec<&str> = statement.lines.iter().map(|l| l.booking.as_str()).collect();
    assert_eq!(ids, ["b-2", "b-1"]);
    assert_eq!(statement.totals.gross, eur("160.01"));
    assert_eq!(statement.totals.refunds, eur("11.00"));
    let t = statement.totals;
    let shares = t.platform_fees.amount()
        + t.commissions.amount()
        + t.taxes.amount()
        + t.owner_payout.amount();
    assert_eq!(shares, t.gross.amount() - t.refunds.amount());

    let june = StatementPeriod::new(d(6, 1), d(7, 1)).unwrap();
    let statement = owner_statement(&owner, june, Currency::EUR, &records).unwrap();
    let line = statement
        .lines
        .iter()
        .find(|l| l.booking.as_str() == "b-2")
        .unwrap();
    assert_eq!(line.amounts.gross, eur("0.00"));
    assert_eq!(line.amounts.refunds, eur("22.00"));
    assert!(line.amounts.owner_payout.is_negative());
    assert_eq!(
        line.amounts.owner_payout.negated(),
        may_booking.refunds()[1].clawback.owner_payout()
    );
}

#[test]
fn statement_refuses_mixed_currencies_and_other_owners() {
    let owner = OwnerId::new("o-1").unwrap();
    let period = StatementPeriod::new(d(5, 1), d(6, 1)).unwrap();
    let usd_plan = CommissionPlan::new(FeeRate::none(), vec![], TaxRemitter::Owner).unwrap();
    let usd = BookingLedger::new(
        BookingId::new("b-9").unwrap(),
        owner.clone(),
        d(5, 2),
        usd_plan
            .split(
                Money::parse("10.00", "USD").unwrap(),
                Money::parse("0", "USD").unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    let eur_record = ledger("b-1", "o-1", d(5, 2), "10.00", "0.00");
    let err =
        owner_statement(&owner, period, Currency::EUR, &[eur_record.clone(), usd]).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    let foreign = ledger("b-2", "o-2", d(5, 2), "10.00", "0.00");
    let err = owner_statement(
        &owner,
        period,
        Currency::EUR,
        &[eur_record.clone(), foreign],
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let err = owner_statement(
        &owner,
        period,
        Currency::EUR,
        &[eur_record.clone(), eur_record],
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}
