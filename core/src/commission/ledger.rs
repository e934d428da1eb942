//! A booking's money over time: its split and the refunds clawed back from it.
//!
//! Owns [`BookingLedger`] and the clawback rule: a refund is taken from
//! every party in proportion to what that party still holds (exact,
//! largest remainder), so the parts keep summing to the gross minus the
//! refunds, no part ever goes negative, and no sequence of refunds claws
//! back more than a party was given. Must never move money itself: the
//! engine pays out and reverses according to the ledger.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

use super::split::Split;
use crate::error::{Error, Result};
use crate::ids::{BookingId, OwnerId};
use crate::money::Money;

/// One refund and what it took back from each party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundEntry {
    /// The date the refund counts on in statements.
    pub on: NaiveDate,
    /// The amount refunded to the guest.
    pub amount: Money,
    /// What the refund took back from each party; sums to `amount`.
    pub clawback: Split,
}

/// A booking's financial record: who got what, and every refund since.
///
/// `recognized_on` is the date the booking's money counts on in owner
/// statements; the engine chooses it (the payment date for cash
/// statements, the check-in date for statements by stay).
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::commission::{BookingLedger, CommissionPlan, FeeRate, TaxRemitter};
/// use reservo::ids::{BookingId, OwnerId};
/// use reservo::money::Money;
/// use reservo::policy::Percentage;
/// let eur = |s| Money::parse(s, "EUR").unwrap();
/// let day = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
/// let plan = CommissionPlan::new(
///     FeeRate::percent(Percentage::whole(10).unwrap()), vec![], TaxRemitter::Platform,
/// ).unwrap();
/// let split = plan.split(eur("100.00"), eur("0.00")).unwrap();
/// let mut ledger = BookingLedger::new(
///     BookingId::new("b-1").unwrap(), OwnerId::new("o-1").unwrap(), day, split,
/// ).unwrap();
/// let entry = ledger.refund(eur("50.00"), day).unwrap();
/// assert_eq!(entry.clawback.platform_fee(), eur("5.00"));
/// assert_eq!(ledger.remaining().owner_payout(), eur("45.00"));
/// assert_eq!(ledger.refund(eur("50.01"), day).unwrap_err().code(), "REFUND_EXCEEDS_PAID");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingLedger {
    booking: BookingId,
    owner: OwnerId,
    #[serde(serialize_with = "crate::text::serialize_date")]
    recognized_on: NaiveDate,
    split: Split,
    refunds: Vec<RefundEntry>,
}

impl BookingLedger {
    /// A ledger with no refunds yet. The split must have a positive gross.
    pub fn new(
        booking: BookingId,
        owner: OwnerId,
        recognized_on: NaiveDate,
        split: Split,
    ) -> Result<BookingLedger> {
        if split.gross().is_zero() {
            return Err(Error::invalid(
                "split",
                format!("booking {booking} has a gross of zero"),
            ));
        }
        Ok(BookingLedger {
            booking,
            owner,
            recognized_on,
            split,
            refunds: Vec::new(),
        })
    }

    /// The booking.
    pub fn booking(&self) -> &BookingId {
        &self.booking
    }

    /// The owner paid out.
    pub fn owner(&self) -> &OwnerId {
        &self.owner
    }

    /// The date the booking counts on in statements.
    pub fn recognized_on(&self) -> NaiveDate {
        self.recognized_on
    }

    /// The split at booking time.
    pub fn split(&self) -> &Split {
        &self.split
    }

    /// Every refund, in the order applied.
    pub fn refunds(&self) -> &[RefundEntry] {
        &self.refunds
    }

    /// The sum of the refunds.
    pub fn refunded(&self) -> Money {
        Money::sum(
            self.split.currency(),
            self.refunds.iter().map(|r| &r.amount),
        )
        .expect("refunds share the split's currency")
    }

    /// What each party holds now: the split minus every clawback.
    pub fn remaining(&self) -> Split {
        self.refunds
            .iter()
            .try_fold(self.split.clone(), |left, r| left.checked_sub(&r.clawback))
            .expect("a ledger's clawbacks never exceed its split")
    }

    /// Refunds `amount` on `on`, clawing it back from every party in
    /// proportion to what each still holds. Returns the new entry.
    ///
    /// Fails, changing nothing, with [`Error::InvalidInput`] if the amount
    /// is not positive or not in whole minor units, with
    /// [`Error::CurrencyMismatch`] for another currency, and with
    /// [`Error::RefundExceedsPaid`] if it is more than is left.
    pub fn refund(&mut self, amount: Money, on: NaiveDate) -> Result<&RefundEntry> {
        let remaining = self.remaining();
        if amount.currency() != remaining.currency() {
            return Err(Error::CurrencyMismatch {
                left: remaining.currency().code().to_owned(),
                right: amount.currency().code().to_owned(),
            });
        }
        if amount.is_negative() || amount.is_zero() || !amount.is_rounded() {
            return Err(Error::invalid(
                "refund",
                format!("{amount} must be positive and in whole minor units"),
            ));
        }
        let left = remaining.gross();
        if amount.amount() > left.amount() {
            return Err(Error::RefundExceedsPaid {
                requested: amount.to_string(),
                refundable: left.to_string(),
            });
        }
        let clawback = remaining.pro_rata(&amount)?;
        self.refunds.push(RefundEntry {
            on,
            amount,
            clawback,
        });
        Ok(self.refunds.last().expect("just pushed"))
    }

    fn check(&self) -> Result<()> {
        let mut left = self.split.clone();
        for entry in &self.refunds {
            if !entry.clawback.same_parties(&self.split) {
                return Err(Error::invalid(
                    "refunds",
                    format!("a clawback of {} names other parties", entry.amount),
                ));
            }
            if entry.clawback.gross() != entry.amount || entry.amount.is_zero() {
                return Err(Error::invalid(
                    "refunds",
                    format!("a clawback does not sum to its refund of {}", entry.amount),
                ));
            }
            left = left.checked_sub(&entry.clawback).map_err(|_| {
                Error::invalid("refunds", "clawbacks take more than a party was given")
            })?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for BookingLedger {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            booking: BookingId,
            owner: OwnerId,
            recognized_on: NaiveDate,
            split: Split,
            #[serde(default)]
            refunds: Vec<RefundEntry>,
        }
        let r = Raw::deserialize(d)?;
        let mut ledger = BookingLedger::new(r.booking, r.owner, r.recognized_on, r.split)
            .map_err(serde::de::Error::custom)?;
        ledger.refunds = r.refunds;
        ledger.check().map_err(serde::de::Error::custom)?;
        Ok(ledger)
    }
}
