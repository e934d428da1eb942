//! Commissions, payouts, clawbacks and owner statements.
//!
//! Owns the split of a booking's money ([`CommissionPlan::split`] into a
//! [`Split`]: platform fee, channel and broker commissions, taxes passed
//! through to their remitter, and the owner's payout), its clawback on
//! refunds ([`BookingLedger::refund`], pro rata to the current split over
//! all refunds), its re-split on a modification ([`BookingLedger::resplit`]:
//! a reversal and a new split, never dated before the modification) and
//! the owner statement for a period ([`owner_statement`]).
//! Every split sums exactly to its gross in minor units; the owner's payout
//! absorbs the rounding of the fees (unless fees rounded one by one would
//! exceed the base, which is then shared out exactly), and clawbacks are
//! allocated by largest remainder.
//!
//! Must never do I/O or move money, never use floating point, and never
//! mix currencies.
//!
//! ```
//! use chrono::NaiveDate;
//! use reservo::commission::{BookingLedger, CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms, TaxRemitter};
//! use reservo::ids::{BookingId, OwnerId};
//! use reservo::money::Money;
//! use reservo::policy::Percentage;
//!
//! let eur = |s| Money::parse(s, "EUR").unwrap();
//! let broker = Intermediary::new(IntermediaryRole::Broker, "agency-7").unwrap();
//! let plan = CommissionPlan::new(
//!     FeeRate::percent(Percentage::whole(3).unwrap()),
//!     vec![IntermediaryTerms {
//!         intermediary: broker,
//!         rate: FeeRate::new(Percentage::whole(10).unwrap(), Some(eur("5.00"))).unwrap(),
//!     }],
//!     TaxRemitter::Platform,
//! ).unwrap();
//! let split = plan.split(eur("221.00"), eur("21.00")).unwrap();
//! assert_eq!(split.parts(), [eur("6.00"), eur("25.00"), eur("21.00"), eur("169.00")]);
//!
//! let day = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
//! let mut ledger = BookingLedger::new(
//!     BookingId::new("b-1").unwrap(), OwnerId::new("o-1").unwrap(), day, split,
//! ).unwrap();
//! ledger.refund(eur("100.00"), day).unwrap();
//! assert_eq!(ledger.remaining().gross(), eur("121.00"));
//! ```

mod ledger;
mod split;
mod statement;

pub use ledger::{BookingLedger, RefundEntry, Resplit};
pub use split::{
    CommissionPlan, CommissionShare, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms,
    Split, TaxRemitter,
};
pub use statement::{
    OwnerStatement, StatementAmounts, StatementLine, StatementPeriod, owner_statement,
};
