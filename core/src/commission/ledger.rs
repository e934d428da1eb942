//! A booking's money over time: its split, the re-splits of its
//! modifications and the refunds clawed back from it.
//!
//! Owns [`BookingLedger`], the re-split rule and the clawback rule. A
//! modification never rewrites a split that statements already counted: it
//! appends a [`Resplit`], the reversal of the split it replaces and the new
//! split, each counted no earlier than the modification's date, so a
//! closed period's statement never changes. The clawback rule: refunds are taken from
//! the parties pro rata to the current split, however many there are
//! (each refund makes up what each party is behind its share of everything
//! refunded so far, exact, largest remainder), so the parts keep summing
//! to the gross minus the refunds, no part ever goes negative, and no
//! sequence of refunds claws back more than a party was given. Must never
//! move money itself: the engine pays out and reverses according to the
//! ledger.

use chrono::NaiveDate;
use rust_decimal::Decimal;
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

/// A modification's change to a booking's split: the split it replaces
/// reversed on `reversed_on`, and `split` counted on `recognized_on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resplit {
    /// The date the replaced split is reversed on in statements: the
    /// modification's date, or the replaced split's own date if later.
    pub reversed_on: NaiveDate,
    /// The date the new split counts on: the booking's new recognition
    /// date, or the modification's date if that is later.
    pub recognized_on: NaiveDate,
    /// The new split.
    pub split: Split,
}

/// A booking's financial record: who got what, and every refund since.
///
/// `recognized_on` is the date the booking's money counts on in owner
/// statements; the engine chooses it (the payment date for cash
/// statements, the check-in date for statements by stay). A modification
/// re-splits it ([`BookingLedger::resplit`]): the split and its date are
/// then the last re-split's, and the earlier ones stay in the record.
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
    /// Absent (and not written) until a modification re-splits it, so
    /// ledgers stored before keep their bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resplits: Vec<Resplit>,
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
            resplits: Vec::new(),
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

    /// The date the booking's current split counts on in statements: the
    /// date given at booking, or the last re-split's.
    pub fn recognized_on(&self) -> NaiveDate {
        self.resplits
            .last()
            .map_or(self.recognized_on, |r| r.recognized_on)
    }

    /// The booking's current split: the split at booking time, or the
    /// last re-split's. Refunds are clawed back from it.
    pub fn split(&self) -> &Split {
        self.resplits.last().map_or(&self.split, |r| &r.split)
    }

    /// The split at booking time and the date it counts on, before any
    /// re-split.
    pub fn booked(&self) -> (&Split, NaiveDate) {
        (&self.split, self.recognized_on)
    }

    /// Every re-split, in the order applied.
    pub fn resplits(&self) -> &[Resplit] {
        &self.resplits
    }

    /// Replaces the current split with `split` after a modification made
    /// on `on`, to count from `recognized_on` (the booking's new
    /// recognition date), without changing what any date before `on`
    /// counted: the current split is reversed on the later of `on` and its
    /// own date, and `split` counts on the later of `on` and
    /// `recognized_on`. `split` may be of a zero gross (a modification to
    /// a free booking). Returns the new entry.
    ///
    /// Fails, changing nothing, with [`Error::CurrencyMismatch`] for a
    /// split in another currency, and with [`Error::InvalidInput`] for a
    /// split of other parties or a ledger with refunds (refunds end a
    /// booking: only cancellations record them).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use reservo::commission::{BookingLedger, CommissionPlan, FeeRate, TaxRemitter};
    /// use reservo::ids::{BookingId, OwnerId};
    /// use reservo::money::Money;
    /// use reservo::policy::Percentage;
    /// let eur = |s| Money::parse(s, "EUR").unwrap();
    /// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    /// let plan = CommissionPlan::new(
    ///     FeeRate::percent(Percentage::whole(10).unwrap()), vec![], TaxRemitter::Owner,
    /// ).unwrap();
    /// let mut ledger = BookingLedger::new(
    ///     BookingId::new("b-1").unwrap(), OwnerId::new("o-1").unwrap(), d(6, 20),
    ///     plan.split(eur("100.00"), eur("0.00")).unwrap(),
    /// ).unwrap();
    /// // Modified on 2 July, the stay moved to the 20th.
    /// let entry = ledger.resplit(plan.split(eur("150.00"), eur("0.00")).unwrap(), d(7, 2), d(7, 20));
    /// assert_eq!(entry.unwrap().reversed_on, d(7, 2)); // June is left as it was
    /// assert_eq!(ledger.split().gross(), eur("150.00"));
    /// assert_eq!(ledger.recognized_on(), d(7, 20));
    /// ```
    pub fn resplit(
        &mut self,
        split: Split,
        on: NaiveDate,
        recognized_on: NaiveDate,
    ) -> Result<&Resplit> {
        let current = self.split();
        if split.currency() != current.currency() {
            return Err(Error::CurrencyMismatch {
                left: current.currency().code().to_owned(),
                right: split.currency().code().to_owned(),
            });
        }
        if !split.same_parties(current) {
            return Err(Error::invalid(
                "split",
                format!("a re-split of booking {} names other parties", self.booking),
            ));
        }
        if !self.refunds.is_empty() {
            return Err(Error::invalid(
                "split",
                format!("booking {} has refunds: it is not re-split", self.booking),
            ));
        }
        self.resplits.push(Resplit {
            reversed_on: on.max(self.recognized_on()),
            recognized_on: on.max(recognized_on),
            split,
        });
        Ok(self.resplits.last().expect("just pushed"))
    }

    /// Every refund, in the order applied (all after every re-split).
    pub fn refunds(&self) -> &[RefundEntry] {
        &self.refunds
    }

    /// The sum of the refunds.
    pub fn refunded(&self) -> Money {
        Money::sum(
            self.split().currency(),
            self.refunds.iter().map(|r| &r.amount),
        )
        .expect("refunds share the split's currency")
    }

    /// What each party holds now: the current split minus every clawback.
    pub fn remaining(&self) -> Split {
        self.refunds
            .iter()
            .try_fold(self.split().clone(), |left, r| {
                left.checked_sub(&r.clawback)
            })
            .expect("a ledger's clawbacks never exceed its split")
    }

    /// Refunds `amount` on `on`, clawing it back from the parties pro rata
    /// to the current split over all refunds so far: each refund makes up
    /// what each party is behind its share of everything refunded, so no
    /// party ends a unit or more ahead of that share, and while at most one
    /// is ahead none ends a unit or more behind, however many refunds. A
    /// refund of everything left takes exactly what each still holds.
    /// Returns the new entry.
    ///
    /// Fails, changing nothing, with [`Error::InvalidInput`] if the amount
    /// is not positive or not in whole minor units (or, beyond about 10^14
    /// minor units, too large to allocate exactly), with
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
        let clawback = if amount == left {
            remaining
        } else {
            self.pro_rata_clawback(&remaining, amount)?
        };
        self.refunds.push(RefundEntry {
            on,
            amount,
            clawback,
        });
        Ok(self.refunds.last().expect("just pushed"))
    }

    /// What refunding `amount`, less than all that is `remaining`, takes
    /// back from each party.
    ///
    /// With `R` everything refunded including `amount`, `G` the gross, and
    /// for each party `o` its original part and `c` what was clawed back
    /// from it already, the party's pro-rata target is `R·o/G` and its
    /// weight how far it is behind that, `w = max(0, R·o − G·c)` (times `G`
    /// to stay in whole units). `amount` is allocated by those weights.
    ///
    /// * The weights never all vanish: before clamping at zero they sum to
    ///   `R·G − G·(R − amount) = G·amount > 0`, and clamping only adds.
    /// * No party gives back more than it holds: its exact share
    ///   `amount·w/Σw` is at most `w/G` (as `Σw ≥ G·amount`), at most
    ///   `o − c` (as `R ≤ G`), a whole number of units; largest remainder
    ///   never gives a part more than the ceiling of its exact share.
    /// * Pro rata: while no party is ahead of its target, `Σw = G·amount`,
    ///   each exact share is exactly how far its party is behind, and every
    ///   party ends on its target rounded down or up. A party ahead (by
    ///   under a unit: it was at most rounded up) gives nothing until its
    ///   target catches up, and the others make up for it: with one party
    ///   ahead each ends within a unit of its target; with several, one can
    ///   lag by up to a unit plus what they are ahead by together.
    /// * Nothing accumulates: every refund aims at the cumulative target,
    ///   so a ledger stored with drifted clawbacks (from when refunds were
    ///   shared by what each party still held) converges to pro rata.
    ///
    /// Fails with [`Error::InvalidInput`] if a weight does not fit a
    /// decimal (a gross beyond about 10^14 minor units).
    fn pro_rata_clawback(&self, remaining: &Split, amount: Money) -> Result<Split> {
        let units = |m: &Money| m.to_minor().map(i128::from);
        let split = self.split();
        let gross = units(&split.gross())?;
        let refunded = units(&self.refunded())? + units(&amount)?;
        let weights = split
            .parts()
            .iter()
            .zip(remaining.parts())
            .map(|(original, left)| {
                let original = units(original)?;
                let clawed = original - units(&left)?;
                let behind = (refunded * original - gross * clawed).max(0);
                Decimal::try_from_i128_with_scale(behind, 0).map_err(|_| {
                    Error::invalid(
                        "amount",
                        format!(
                            "a refund of {amount} of {} is too large to allocate",
                            split.gross()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        remaining.with_parts(&amount.allocate(&weights)?)
    }

    fn check(&self) -> Result<()> {
        for resplit in &self.resplits {
            if resplit.split.currency() != self.split.currency()
                || !resplit.split.same_parties(&self.split)
            {
                return Err(Error::invalid(
                    "resplits",
                    format!("a re-split on {} names other parties", resplit.reversed_on),
                ));
            }
        }
        let mut left = self.split().clone();
        for entry in &self.refunds {
            if !entry.clawback.same_parties(self.split()) {
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
            #[serde(default)]
            resplits: Vec<Resplit>,
        }
        let r = Raw::deserialize(d)?;
        let mut ledger = BookingLedger::new(r.booking, r.owner, r.recognized_on, r.split)
            .map_err(serde::de::Error::custom)?;
        ledger.refunds = r.refunds;
        ledger.resplits = r.resplits;
        ledger.check().map_err(serde::de::Error::custom)?;
        Ok(ledger)
    }
}
