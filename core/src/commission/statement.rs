//! Owner statements: what an owner earned over a period, booking by booking.
//!
//! Owns [`owner_statement`], a pure function over [`BookingLedger`]s. A
//! booking's split counts in the period containing its `recognized_on`
//! date; each re-split of a modification counts as the reversal of the
//! split it replaces on its `reversed_on` date and the new split on its
//! `recognized_on` date (both never before the modification, so a closed
//! period's statement never changes); each refund counts in the period
//! containing its own date, as a negative movement of every party's share. Must never mix currencies
//! (that is an error, not a conversion) and never include another owner's
//! bookings.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};

use super::ledger::BookingLedger;
use super::split::Split;
use crate::error::{Error, Result};
use crate::ids::{BookingId, OwnerId};
use crate::money::{Currency, Money};

/// A period of civil dates, `[start, end)`.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::commission::StatementPeriod;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let may = StatementPeriod::new(d(5, 1), d(6, 1)).unwrap();
/// assert!(may.contains(d(5, 31)) && !may.contains(d(6, 1)));
/// assert_eq!(StatementPeriod::new(d(6, 1), d(6, 1)).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct StatementPeriod {
    start: NaiveDate,
    end: NaiveDate,
}

impl StatementPeriod {
    /// A period that ends after it starts.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<StatementPeriod> {
        if end <= start {
            return Err(Error::invalid(
                "period",
                format!("end {end} must be after start {start}"),
            ));
        }
        Ok(StatementPeriod { start, end })
    }

    /// The first date of the period.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The first date after the period.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Whether `date` is in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }
}

impl<'de> Deserialize<'de> for StatementPeriod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            start: NaiveDate,
            end: NaiveDate,
        }
        let r = Raw::deserialize(d)?;
        StatementPeriod::new(r.start, r.end).map_err(serde::de::Error::custom)
    }
}

/// Money movements in a period, by party. Always
/// `gross - refunds == platform_fees + commissions + taxes + owner_payout`.
/// A share is negative when refunds in the period claw back more than the
/// period recognized (a booking of an earlier period refunded in this one),
/// and the gross too when a modification in the period reverses more than
/// it recognizes (a booking made cheaper, or moved to a later period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatementAmounts {
    /// Gross of the bookings recognized in the period.
    pub gross: Money,
    /// Refunds made in the period.
    pub refunds: Money,
    /// Platform fees, net of clawbacks.
    pub platform_fees: Money,
    /// Channel and broker commissions, net of clawbacks.
    pub commissions: Money,
    /// Taxes passed through, net of clawbacks.
    pub taxes: Money,
    /// The owner's payout, net of clawbacks.
    pub owner_payout: Money,
}

impl StatementAmounts {
    fn zero(currency: Currency) -> StatementAmounts {
        let z = Money::zero(currency);
        StatementAmounts {
            gross: z,
            refunds: z,
            platform_fees: z,
            commissions: z,
            taxes: z,
            owner_payout: z,
        }
    }

    fn add_split(&mut self, split: &Split, sign: i64) -> Result<()> {
        let signed = |m: Money| m.times(rust_decimal::Decimal::from(sign));
        self.platform_fees = self
            .platform_fees
            .checked_add(&signed(split.platform_fee()))?;
        self.commissions = self
            .commissions
            .checked_add(&signed(split.commission_total()))?;
        self.taxes = self.taxes.checked_add(&signed(split.taxes()))?;
        self.owner_payout = self
            .owner_payout
            .checked_add(&signed(split.owner_payout()))?;
        Ok(())
    }

    fn add(&mut self, other: &StatementAmounts) -> Result<()> {
        self.gross = self.gross.checked_add(&other.gross)?;
        self.refunds = self.refunds.checked_add(&other.refunds)?;
        self.platform_fees = self.platform_fees.checked_add(&other.platform_fees)?;
        self.commissions = self.commissions.checked_add(&other.commissions)?;
        self.taxes = self.taxes.checked_add(&other.taxes)?;
        self.owner_payout = self.owner_payout.checked_add(&other.owner_payout)?;
        Ok(())
    }
}

/// One booking's movements in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatementLine {
    /// The booking.
    pub booking: BookingId,
    /// The date it was first recognized on (given at booking: a
    /// modification re-splits it on later dates, see
    /// [`BookingLedger::resplits`]), so the line reads the same in every
    /// statement of the period.
    pub recognized_on: NaiveDate,
    /// Its movements in the period.
    pub amounts: StatementAmounts,
}

/// An owner's statement for a period: a line per booking with movements in
/// the period that do not cancel out (ordered by the date each booking was
/// first recognized on, then booking id), and totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerStatement {
    /// The owner.
    pub owner: OwnerId,
    /// The period.
    pub period: StatementPeriod,
    /// The statement's one currency.
    pub currency: Currency,
    /// The lines.
    pub lines: Vec<StatementLine>,
    /// The sum of the lines.
    pub totals: StatementAmounts,
}

/// Builds `owner`'s statement for `period` in `currency` from `records`.
///
/// Fails with [`Error::CurrencyMismatch`] if a record is in another
/// currency, and with [`Error::InvalidInput`] if a record belongs to
/// another owner or a booking appears twice.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::commission::{owner_statement, BookingLedger, CommissionPlan, FeeRate, StatementPeriod, TaxRemitter};
/// use reservo::ids::{BookingId, OwnerId};
/// use reservo::money::{Currency, Money};
/// use reservo::policy::Percentage;
/// let eur = |s| Money::parse(s, "EUR").unwrap();
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let owner = OwnerId::new("o-1").unwrap();
/// let plan = CommissionPlan::new(
///     FeeRate::percent(Percentage::whole(20).unwrap()), vec![], TaxRemitter::Owner,
/// ).unwrap();
/// let mut ledger = BookingLedger::new(
///     BookingId::new("b-1").unwrap(), owner.clone(), d(5, 3),
///     plan.split(eur("100.00"), eur("0.00")).unwrap(),
/// ).unwrap();
/// ledger.refund(eur("10.00"), d(6, 2)).unwrap();
/// let may = StatementPeriod::new(d(5, 1), d(6, 1)).unwrap();
/// let june = StatementPeriod::new(d(6, 1), d(7, 1)).unwrap();
/// let in_may = owner_statement(&owner, may, Currency::EUR, &[ledger.clone()]).unwrap();
/// assert_eq!(in_may.totals.owner_payout, eur("80.00"));
/// let in_june = owner_statement(&owner, june, Currency::EUR, &[ledger]).unwrap();
/// assert_eq!(in_june.totals.owner_payout, eur("-8.00")); // clawed back in June
/// ```
pub fn owner_statement(
    owner: &OwnerId,
    period: StatementPeriod,
    currency: Currency,
    records: &[BookingLedger],
) -> Result<OwnerStatement> {
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    for record in records {
        if record.owner() != owner {
            return Err(Error::invalid(
                "records",
                format!(
                    "booking {} belongs to owner {}, not {owner}",
                    record.booking(),
                    record.owner()
                ),
            ));
        }
        if record.split().currency() != currency {
            return Err(Error::CurrencyMismatch {
                left: currency.code().to_owned(),
                right: record.split().currency().code().to_owned(),
            });
        }
        if !seen.insert(record.booking().clone()) {
            return Err(Error::invalid(
                "records",
                format!("booking {} appears twice", record.booking()),
            ));
        }
        let mut amounts = StatementAmounts::zero(currency);
        let mut active = false;
        let (booked, booked_on) = record.booked();
        let mut splits = vec![(booked_on, booked, 1)];
        let mut replaced = booked;
        for resplit in record.resplits() {
            splits.push((resplit.reversed_on, replaced, -1));
            splits.push((resplit.recognized_on, &resplit.split, 1));
            replaced = &resplit.split;
        }
        for (on, split, sign) in splits {
            if period.contains(on) {
                amounts.gross = amounts
                    .gross
                    .checked_add(&split.gross().times(rust_decimal::Decimal::from(sign)))?;
                amounts.add_split(split, sign)?;
                active = true;
            }
        }
        for refund in record.refunds().iter().filter(|r| period.contains(r.on)) {
            amounts.refunds = amounts.refunds.checked_add(&refund.amount)?;
            amounts.add_split(&refund.clawback, -1)?;
            active = true;
        }
        // A split and its reversal in one period (a booking modified before
        // its stay) cancel out: no line.
        if active && amounts != StatementAmounts::zero(currency) {
            lines.push(StatementLine {
                booking: record.booking().clone(),
                recognized_on: record.booked().1,
                amounts,
            });
        }
    }
    lines.sort_by(|a, b| {
        a.recognized_on
            .cmp(&b.recognized_on)
            .then_with(|| a.booking.cmp(&b.booking))
    });
    let mut totals = StatementAmounts::zero(currency);
    for line in &lines {
        totals.add(&line.amounts)?;
    }
    Ok(OwnerStatement {
        owner: owner.clone(),
        period,
        currency,
        lines,
        totals,
    })
}
