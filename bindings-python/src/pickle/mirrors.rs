//! [`Restore`] for the core values that serialize but do not deserialize:
//! a mirror of each one's JSON form (the same field names), read with
//! serde and moved into the core's struct, whose fields are public. Must
//! stay field for field what the core serializes; the pickle tests catch
//! a drift as a value that no longer comes back equal.

use chrono::NaiveDate;
use serde::Deserialize;

use reservo::commission::{OwnerStatement, StatementAmounts, StatementLine, StatementPeriod};
use reservo::engine::{ModificationQuote, Quoted, ReconcileReport, SearchHit};
use reservo::ids::{BookingId, OwnerId, PropertyId, ResourceId};
use reservo::money::{Currency, Money};
use reservo::pricing::Quote;
use reservo::time::Slot;

use super::Restore;

/// [`Restore`] for `$core` through the mirror `$state`, which converts
/// into it with `From`.
macro_rules! restore_through {
    ($($core:ty => $state:ty),* $(,)?) => {
        $(impl Restore for $core {
            fn restore(json: &str) -> serde_json::Result<Self> {
                serde_json::from_str::<$state>(json).map(Into::into)
            }
        })*
    };
}

restore_through!(
    Quoted => QuotedState,
    SearchHit => SearchHitState,
    ModificationQuote => ModificationQuoteState,
    ReconcileReport => ReconcileReportState,
    StatementAmounts => AmountsState,
    StatementLine => LineState,
    OwnerStatement => OwnerStatementState,
);

#[derive(Deserialize)]
struct QuotedState {
    quote: Quote,
    available: u32,
}

impl From<QuotedState> for Quoted {
    fn from(s: QuotedState) -> Self {
        Quoted {
            quote: s.quote,
            available: s.available,
        }
    }
}

#[derive(Deserialize)]
struct SearchHitState {
    resource: ResourceId,
    property: PropertyId,
    slot: Option<Slot>,
    available: u32,
    total: Money,
}

impl From<SearchHitState> for SearchHit {
    fn from(s: SearchHitState) -> Self {
        SearchHit {
            resource: s.resource,
            property: s.property,
            slot: s.slot,
            available: s.available,
            total: s.total,
        }
    }
}

#[derive(Deserialize)]
struct ModificationQuoteState {
    current_total: Money,
    new_total: Money,
    change_fee: Money,
    difference: Money,
    to_charge: Money,
    to_refund: Money,
}

impl From<ModificationQuoteState> for ModificationQuote {
    fn from(s: ModificationQuoteState) -> Self {
        ModificationQuote {
            current_total: s.current_total,
            new_total: s.new_total,
            change_fee: s.change_fee,
            difference: s.difference,
            to_charge: s.to_charge,
            to_refund: s.to_refund,
        }
    }
}

#[derive(Deserialize)]
struct ReconcileReportState {
    settled: Vec<String>,
    still_pending: Vec<String>,
}

impl From<ReconcileReportState> for ReconcileReport {
    fn from(s: ReconcileReportState) -> Self {
        ReconcileReport {
            settled: s.settled,
            still_pending: s.still_pending,
        }
    }
}

#[derive(Deserialize)]
struct AmountsState {
    gross: Money,
    refunds: Money,
    platform_fees: Money,
    commissions: Money,
    taxes: Money,
    owner_payout: Money,
}

impl From<AmountsState> for StatementAmounts {
    fn from(s: AmountsState) -> Self {
        StatementAmounts {
            gross: s.gross,
            refunds: s.refunds,
            platform_fees: s.platform_fees,
            commissions: s.commissions,
            taxes: s.taxes,
            owner_payout: s.owner_payout,
        }
    }
}

#[derive(Deserialize)]
struct LineState {
    booking: BookingId,
    recognized_on: NaiveDate,
    amounts: AmountsState,
}

impl From<LineState> for StatementLine {
    fn from(s: LineState) -> Self {
        StatementLine {
            booking: s.booking,
            recognized_on: s.recognized_on,
            amounts: s.amounts.into(),
        }
    }
}

#[derive(Deserialize)]
struct OwnerStatementState {
    owner: OwnerId,
    period: StatementPeriod,
    currency: Currency,
    lines: Vec<LineState>,
    totals: AmountsState,
}

impl From<OwnerStatementState> for OwnerStatement {
    fn from(s: OwnerStatementState) -> Self {
        OwnerStatement {
            owner: s.owner,
            period: s.period,
            currency: s.currency,
            lines: s.lines.into_iter().map(Into::into).collect(),
            totals: s.totals.into(),
        }
    }
}
