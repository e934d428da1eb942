//! Helpers shared by the commission tests: money and percentages from
//! text, channels and brokers with their terms, percentage-only plans,
//! booking ledgers, and the parts of a split in minor units.

#![allow(dead_code)]

use chrono::NaiveDate;
use reservo::commission::{
    BookingLedger, CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms,
    Split, StatementAmounts, TaxRemitter,
};
use reservo::ids::{BookingId, OwnerId};
use reservo::money::{Currency, Money};
use reservo::policy::Percentage;
use rust_decimal::Decimal;

pub fn cur(code: &str) -> Currency {
    Currency::from_code(code).unwrap()
}

pub fn m(amount: &str, code: &str) -> Money {
    Money::parse(amount, code).unwrap()
}

pub fn pct(p: Decimal) -> Percentage {
    Percentage::new(p).unwrap()
}

pub fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

pub fn channel(id: &str) -> Intermediary {
    Intermediary::new(IntermediaryRole::Channel, id).unwrap()
}

pub fn broker(id: &str) -> Intermediary {
    Intermediary::new(IntermediaryRole::Broker, id).unwrap()
}

pub fn terms(who: Intermediary, rate: FeeRate) -> IntermediaryTerms {
    IntermediaryTerms {
        intermediary: who,
        rate,
    }
}

/// A plan of a platform fee and channels `c0..`, percentages only.
pub fn percent_plan(platform: Decimal, channels: &[Decimal]) -> CommissionPlan {
    CommissionPlan::new(
        FeeRate::percent(pct(platform)),
        channels
            .iter()
            .enumerate()
            .map(|(i, p)| terms(channel(&format!("c{i}")), FeeRate::percent(pct(*p))))
            .collect(),
        TaxRemitter::Owner,
    )
    .unwrap()
}

pub fn ledger_of(id: &str, owner: &str, on: NaiveDate, split: Split) -> BookingLedger {
    BookingLedger::new(
        BookingId::new(id).unwrap(),
        OwnerId::new(owner).unwrap(),
        on,
        split,
    )
    .unwrap()
}

pub fn minor_parts(split: &Split) -> Vec<i64> {
    split
        .parts()
        .iter()
        .map(|p| p.to_minor().unwrap())
        .collect()
}

pub fn amounts_balance(a: &StatementAmounts) -> bool {
    a.gross.amount() - a.refunds.amount()
        == a.platform_fees.amount()
            + a.commissions.amount()
            + a.taxes.amount()
            + a.owner_payout.amount()
}
