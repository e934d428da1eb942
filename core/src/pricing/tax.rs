//! Taxes: percentages of the accommodation, the taxable fees, or both,
//! either added to the price or already contained in it.
//!
//! Owns [`Tax`], its settings and the ledger that turns charged amounts
//! into tax amounts. Must never tax a tax (no compounding) and never
//! return a negative tax.
//!
//! # Amounts
//!
//! * An **exclusive** tax is added: `amount × rate / 100`.
//! * An **inclusive** tax is contained in the price and only shown:
//!   `amount × rate / (100 + R)`, where `R` is the sum of the rates of all
//!   inclusive taxes that apply to that amount (so two inclusive taxes on
//!   one price split it exactly).
//! * The taxed amounts are the quote's lines as charged: after discounts,
//!   and for exclusive taxes including any inclusive tax they contain.
//!
//! # Rounding ([`TaxRounding`])
//!
//! * [`TaxRounding::PerLine`]: the tax of every taxable quote line is
//!   rounded to the minor unit, then those are summed.
//! * [`TaxRounding::OnTotal`]: the exact taxes of all lines are summed,
//!   then rounded once.
//!
//! Both use the plan's rounding mode. They can differ by a cent: a night
//! at 10.05 EUR and a taxable cleaning fee of 10.05 EUR, with a 10 %
//! exclusive tax on both, half-even: per line 1.005 → 1.00 twice, 2.00 EUR;
//! on the total 20.10 × 10 % = 2.01 EUR. A tax that rounds below zero (only
//! possible per line, rounding toward negative infinity, on discount
//! lines) is clamped to zero.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::values::RuleId;
use crate::error::{Error, Result};
use crate::ids::validate_name;
use crate::money::Percentage;
use crate::money::{Currency, Money, RoundingMode};

/// The most taxes a rate plan may carry.
pub const MAX_TAXES: usize = 8;

/// Whether a tax is added to the price or already contained in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxInclusion {
    /// The prices already contain the tax (VAT in most of Europe); the
    /// quote shows how much of the total it is.
    Inclusive,
    /// The tax is added on top of the prices (US sales tax, many city taxes).
    Exclusive,
}

/// What a tax is a percentage of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxBase {
    /// The accommodation: nightly rates and occupancy charges, less
    /// length-of-stay and promo discounts.
    Accommodation,
    /// The fees flagged `taxable`.
    Fees,
    /// Both.
    AccommodationAndFees,
}

impl TaxBase {
    fn covers(self, charge: Charge) -> bool {
        matches!(
            (self, charge),
            (TaxBase::AccommodationAndFees, _)
                | (TaxBase::Accommodation, Charge::Accommodation)
                | (TaxBase::Fees, Charge::TaxableFee)
        )
    }
}

/// Whether taxes are rounded line by line or once on their total (see the
/// module docs for an example where the two differ by a cent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRounding {
    /// Round each taxable line's tax, then sum.
    PerLine,
    /// Sum the exact taxes, then round once. The default.
    #[default]
    OnTotal,
}

/// A tax of a rate plan.
///
/// ```
/// use reservo::pricing::{Percentage, RuleId, Tax, TaxBase, TaxInclusion};
/// let vat = Tax {
///     id: RuleId::new("vat").unwrap(),
///     name: "VAT".into(),
///     rate: Percentage::parse("10").unwrap(),
///     inclusion: TaxInclusion::Inclusive,
///     base: TaxBase::AccommodationAndFees,
/// };
/// assert_eq!(vat.rate.to_string(), "10%");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tax {
    /// The tax's id, named in its quote line.
    pub id: RuleId,
    /// Its name for people ("VAT", "City tax").
    pub name: String,
    /// Its rate.
    pub rate: Percentage,
    /// Added to the price or contained in it.
    pub inclusion: TaxInclusion,
    /// What it is a percentage of.
    pub base: TaxBase,
}

/// What a charged amount is, for taxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charge {
    /// Accommodation: a rate, occupancy or discount line.
    Accommodation,
    /// A fee flagged taxable.
    TaxableFee,
}

impl Charge {
    const ALL: [Charge; 2] = [Charge::Accommodation, Charge::TaxableFee];

    fn index(self) -> usize {
        match self {
            Charge::Accommodation => 0,
            Charge::TaxableFee => 1,
        }
    }
}

/// The taxes of a plan, compiled: for each tax and kind of charge, the
/// divisor of `amount × rate` (none where the tax does not apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaxTable {
    divisors: Vec<[Option<Decimal>; 2]>,
}

impl TaxTable {
    /// Validates `taxes` and compiles their divisors.
    pub(crate) fn new(taxes: &[Tax]) -> Result<TaxTable> {
        if taxes.len() > MAX_TAXES {
            return Err(Error::invalid(
                "taxes",
                format!(
                    "a rate plan carries at most {MAX_TAXES} taxes, got {}",
                    taxes.len()
                ),
            ));
        }
        for tax in taxes {
            validate_name("taxes.name", &tax.name)?;
        }
        let inclusive_sum = |charge: Charge| -> Decimal {
            taxes
                .iter()
                .filter(|t| t.inclusion == TaxInclusion::Inclusive && t.base.covers(charge))
                .map(|t| t.rate.value())
                .sum()
        };
        let divisors = taxes
            .iter()
            .map(|tax| {
                Charge::ALL.map(|charge| {
                    tax.base.covers(charge).then(|| match tax.inclusion {
                        TaxInclusion::Exclusive => Decimal::ONE_HUNDRED,
                        TaxInclusion::Inclusive => Decimal::ONE_HUNDRED + inclusive_sum(charge),
                    })
                })
            })
            .collect();
        Ok(TaxTable { divisors })
    }
}

/// Accumulates the charged amounts of one quote and yields each tax.
pub(crate) struct TaxLedger<'a> {
    taxes: &'a [Tax],
    table: &'a TaxTable,
    rounding: TaxRounding,
    mode: RoundingMode,
    currency: Currency,
    /// Sum of charged amounts by kind of charge.
    bases: [Decimal; 2],
    /// Per-line rounded taxes so far, by tax (used with `PerLine`).
    rounded: [Decimal; MAX_TAXES],
    /// Sum of the taxable fees a cancellation keeps (non-refundable).
    kept_base: Decimal,
    /// Per-line rounded taxes of those fees, by tax (used with `PerLine`).
    kept_rounded: [Decimal; MAX_TAXES],
}

impl<'a> TaxLedger<'a> {
    /// An empty ledger for a plan's taxes.
    pub(crate) fn new(
        taxes: &'a [Tax],
        table: &'a TaxTable,
        rounding: TaxRounding,
        mode: RoundingMode,
        currency: Currency,
    ) -> TaxLedger<'a> {
        TaxLedger {
            taxes,
            table,
            rounding,
            mode,
            currency,
            bases: [Decimal::ZERO; 2],
            rounded: [Decimal::ZERO; MAX_TAXES],
            kept_base: Decimal::ZERO,
            kept_rounded: [Decimal::ZERO; MAX_TAXES],
        }
    }

    fn round(&self, amount: Decimal) -> Decimal {
        Money::new(amount, self.currency).round(self.mode).amount()
    }

    /// Records one quote line of `amount` (negative for a discount).
    pub(crate) fn charge(&mut self, charge: Charge, amount: Decimal) {
        self.bases[charge.index()] += amount;
        if self.rounding == TaxRounding::PerLine {
            let (taxes, table) = (self.taxes, self.table);
            for (i, (tax, divisors)) in taxes.iter().zip(&table.divisors).enumerate() {
                if let Some(divisor) = divisors[charge.index()] {
                    let line_tax = self.round(amount * tax.rate.value() / divisor);
                    self.rounded[i] += line_tax;
                }
            }
        }
    }

    /// Records a taxable fee line of `amount` that a cancellation keeps
    /// (a non-refundable fee), after [`TaxLedger::charge`] recorded it.
    pub(crate) fn keep_fee(&mut self, amount: Decimal) {
        self.kept_base += amount;
        if self.rounding == TaxRounding::PerLine {
            let index = Charge::TaxableFee.index();
            let (taxes, table) = (self.taxes, self.table);
            for (i, (tax, divisors)) in taxes.iter().zip(&table.divisors).enumerate() {
                if let Some(divisor) = divisors[index] {
                    self.kept_rounded[i] += self.round(amount * tax.rate.value() / divisor);
                }
            }
        }
    }

    /// The amount of tax `i` over everything charged, rounded, never negative.
    pub(crate) fn tax(&self, i: usize) -> Decimal {
        let amount = match self.rounding {
            TaxRounding::PerLine => self.rounded[i],
            TaxRounding::OnTotal => self.round(self.exact(i)),
        };
        amount.max(Decimal::ZERO)
    }

    /// The exact (unrounded) amount of tax `i` over everything charged.
    fn exact(&self, i: usize) -> Decimal {
        let rate = self.taxes[i].rate.value();
        Charge::ALL
            .iter()
            .filter_map(|charge| {
                let divisor = self.table.divisors[i][charge.index()]?;
                Some(self.bases[charge.index()] * rate / divisor)
            })
            .sum()
    }

    /// The part of tax `i` charged on the fees recorded by
    /// [`TaxLedger::keep_fee`], in whole minor units, between zero and
    /// [`TaxLedger::tax`]; zero for an inclusive tax (already inside the
    /// fees' amounts).
    ///
    /// * `PerLine`: the sum of those lines' rounded taxes, exactly what
    ///   they were charged.
    /// * `OnTotal`: their share of the rounded tax (their exact tax over
    ///   the exact tax of everything), rounded up, so a refund of the rest
    ///   is never more than the exact refundable tax.
    pub(crate) fn kept(&self, i: usize) -> Decimal {
        let tax = self.tax(i);
        if self.taxes[i].inclusion == TaxInclusion::Inclusive || self.kept_base.is_zero() {
            return Decimal::ZERO;
        }
        let kept = match self.rounding {
            TaxRounding::PerLine => self.kept_rounded[i],
            TaxRounding::OnTotal => {
                let Some(divisor) = self.table.divisors[i][Charge::TaxableFee.index()] else {
                    return Decimal::ZERO;
                };
                let exact = self.exact(i);
                if exact <= Decimal::ZERO {
                    return Decimal::ZERO;
                }
                // One division, so a share that is a whole amount stays one.
                let kept_exact = self.kept_base * self.taxes[i].rate.value() / divisor;
                Money::new(tax * kept_exact / exact, self.currency)
                    .round(RoundingMode::Ceiling)
                    .amount()
            }
        };
        kept.clamp(Decimal::ZERO, tax)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn tax(id: &str, rate: &str, inclusion: TaxInclusion, base: TaxBase) -> Tax {
        Tax {
            id: RuleId::new(id).unwrap(),
            name: id.into(),
            rate: Percentage::parse(rate).unwrap(),
            inclusion,
            base,
        }
    }

    fn ledger_tax(
        taxes: &[Tax],
        rounding: TaxRounding,
        lines: &[(Charge, Decimal)],
    ) -> Vec<Decimal> {
        let table = TaxTable::new(taxes).unwrap();
        let mut ledger = TaxLedger::new(
            taxes,
            &table,
            rounding,
            RoundingMode::HalfEven,
            Currency::EUR,
        );
        for (charge, amount) in lines {
            ledger.charge(*charge, *amount);
        }
        (0..taxes.len()).map(|i| ledger.tax(i)).collect()
    }

    #[test]
    fn per_line_and_on_total_rounding_differ_by_a_cent() {
        let taxes = [tax(
            "t",
            "10",
            TaxInclusion::Exclusive,
            TaxBase::AccommodationAndFees,
        )];
        let lines = [
            (Charge::Accommodation, dec!(10.05)),
            (Charge::TaxableFee, dec!(10.05)),
        ];
        assert_eq!(
            ledger_tax(&taxes, TaxRounding::PerLine, &lines),
            [dec!(2.00)]
        );
        assert_eq!(
            ledger_tax(&taxes, TaxRounding::OnTotal, &lines),
            [dec!(2.01)]
        );
    }

    #[test]
    fn two_inclusive_taxes_split_the_price_without_compounding() {
        let taxes = [
            tax("vat", "10", TaxInclusion::Inclusive, TaxBase::Accommodation),
            tax("levy", "5", TaxInclusion::Inclusive, TaxBase::Accommodation),
        ];
        // 115.00 contains 100.00 net, 10.00 VAT and 5.00 levy.
        let lines = [(Charge::Accommodation, dec!(115.00))];
        assert_eq!(
            ledger_tax(&taxes, TaxRounding::OnTotal, &lines),
            [dec!(10.00), dec!(5.00)]
        );
    }

    #[test]
    fn taxes_only_apply_to_their_base() {
        let taxes = [
            tax(
                "room",
                "10",
                TaxInclusion::Exclusive,
                TaxBase::Accommodation,
            ),
            tax("fees", "20", TaxInclusion::Exclusive, TaxBase::Fees),
        ];
        let lines = [
            (Charge::Accommodation, dec!(100)),
            (Charge::TaxableFee, dec!(50)),
        ];
        assert_eq!(
            ledger_tax(&taxes, TaxRounding::OnTotal, &lines),
            [dec!(10.00), dec!(10.00)]
        );
    }

    #[test]
    fn more_than_the_maximum_of_taxes_is_refused() {
        let taxes: Vec<Tax> = (0..=MAX_TAXES)
            .map(|i| {
                tax(
                    &format!("t{i}"),
                    "1",
                    TaxInclusion::Exclusive,
                    TaxBase::Fees,
                )
            })
            .collect();
        assert_eq!(TaxTable::new(&taxes).unwrap_err().code(), "INVALID_INPUT");
    }
}
