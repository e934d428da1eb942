//! Quotes: the priced result, line by line, with its totals.
//!
//! Owns [`Quote`], [`QuoteLine`] and [`RuleRef`]. A quote is a value the
//! engine snapshots on a booking, so it checks its own arithmetic when it
//! is built or deserialized: every amount is in whole minor units of one
//! currency, every line's amount is its quantity times its unit amount,
//! and the totals are exactly the sums of the lines. Must never compute a
//! price: that is the rate plan's job.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::RatePlanId;
use crate::money::{Currency, Money, RoundingMode};

/// The kind of rule behind a quote line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The plan's base price (the rule id is the rate plan's id).
    Base,
    /// A season.
    Season,
    /// A weekday rate.
    Weekday,
    /// A length-of-stay discount tier.
    LengthOfStay,
    /// Occupancy: extra adults (id `extra_adult`) or a child band.
    Occupancy,
    /// A fee.
    Fee,
    /// A tax.
    Tax,
    /// A promo code (the rule id is the code).
    Promo,
}

/// The rule that produced a quote line: its kind and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RuleRef {
    /// What kind of rule.
    pub kind: RuleKind,
    /// The rule's id in the rate plan (or the promo code).
    pub id: String,
}

/// One line of a quote.
///
/// `amount` is always `quantity × unit_amount`, in whole minor units;
/// discounts are negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    /// The rule that produced it.
    pub rule: RuleRef,
    /// What it is, for people ("Summer", "Extra adult", "VAT 10% (included)").
    pub description: String,
    /// How many units: nights, guest-nights, or 1.
    pub quantity: u32,
    /// The amount of one unit.
    pub unit_amount: Money,
    /// `quantity × unit_amount`.
    pub amount: Money,
    /// `true` only for an inclusive tax: its amount is already contained
    /// in the other lines, so it is shown but not added to the total.
    #[serde(default)]
    pub included: bool,
    /// `false` only for the line of a non-refundable fee
    /// ([`super::Fee::refundable`]): a cancellation keeps its amount
    /// whatever the policy refunds, and the exclusive taxes charged on it
    /// ([`Quote::non_refundable_taxes`]). Absent (and not written) when
    /// `true`.
    #[serde(
        default = "super::fee::refundable_default",
        skip_serializing_if = "super::fee::is_refundable"
    )]
    pub refundable: bool,
}

/// A priced stay or slot: lines in a deterministic order and their totals.
///
/// * `subtotal` = the sum of every line that is not a tax;
/// * `taxes` = the sum of the exclusive (added) tax lines;
/// * `included_taxes` = the sum of the inclusive tax lines, already
///   contained in the subtotal;
/// * `total` = `subtotal + taxes`, what the guest pays; never negative.
///
/// Line order: rate lines by the first night they price, then occupancy
/// (extra adults, then child bands youngest first), the length-of-stay
/// discount, the promo discount, fees and taxes in the plan's order.
///
/// A stay's quote also says what each night costs ([`Quote::nights`]):
/// what a "first night" cancellation penalty keeps, and what a guest is
/// shown night by night. A quote with non-refundable fee lines says which
/// part of its exclusive taxes was charged on them
/// ([`Quote::non_refundable_taxes`]): a cancellation keeps that too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    rate_plan: RatePlanId,
    currency: Currency,
    lines: Vec<QuoteLine>,
    subtotal: Money,
    taxes: Money,
    included_taxes: Money,
    total: Money,
    /// The lines that are neither fees nor taxes, summed once (and checked)
    /// when the quote is built; not written, since it follows from them.
    #[serde(skip)]
    accommodation: Money,
    /// Written as decimal strings in the quote's currency, and left out
    /// when empty (slots, and quotes built from lines alone).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "amounts_only")]
    nights: Vec<Money>,
    /// Written only by pricing, for a quote with non-refundable fee lines
    /// (so other quotes keep their bytes); see
    /// [`Quote::non_refundable_taxes`] for quotes without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    non_refundable_taxes: Option<Money>,
}

/// Serializes amounts without their currency (the quote's own).
fn amounts_only<S: serde::Serializer>(
    nights: &[Money],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(nights.iter().map(Money::amount))
}

impl Quote {
    /// A quote of `lines`, with totals summed from them. Fails with
    /// `INVALID_INPUT` or `CURRENCY_MISMATCH` if a line breaks the rules of
    /// the module docs.
    pub fn from_lines(
        rate_plan: RatePlanId,
        currency: Currency,
        lines: Vec<QuoteLine>,
    ) -> Result<Quote> {
        let mut subtotal = Decimal::ZERO;
        let mut taxes = Decimal::ZERO;
        let mut included_taxes = Decimal::ZERO;
        let mut accommodation = Decimal::ZERO;
        for (index, line) in lines.iter().enumerate() {
            check_line(index, line, currency)?;
            if !line.refundable && line.rule.kind != RuleKind::Fee {
                return Err(Error::invalid(
                    "lines",
                    format!(
                        "line {index} ({}) is marked non-refundable but is not a fee",
                        line.description
                    ),
                ));
            }
            let amount = line.amount.amount();
            let add = |sum: &mut Decimal| -> Result<()> {
                *sum = sum.checked_add(amount).ok_or_else(|| {
                    Error::invalid(
                        "lines",
                        format!(
                            "line {index} ({}) makes the total too large",
                            line.description
                        ),
                    )
                })?;
                Ok(())
            };
            match (line.rule.kind, line.included) {
                (RuleKind::Tax, true) => add(&mut included_taxes)?,
                (RuleKind::Tax, false) => add(&mut taxes)?,
                (RuleKind::Fee, false) => add(&mut subtotal)?,
                (_, false) => {
                    add(&mut subtotal)?;
                    add(&mut accommodation)?;
                }
                (_, true) => {
                    return Err(Error::invalid(
                        "lines",
                        format!(
                            "line {index} ({}) is marked included but is not a tax",
                            line.description
                        ),
                    ));
                }
            }
        }
        let money = |amount| at_minor_scale(amount, currency);
        let total = subtotal.checked_add(taxes).ok_or_else(|| {
            Error::invalid(
                "lines",
                format!(
                    "the lines add up to {} and {} in taxes, too large",
                    money(subtotal),
                    money(taxes)
                ),
            )
        })?;
        if total < Decimal::ZERO {
            return Err(Error::invalid(
                "lines",
                format!("the lines add up to {}, below zero", money(total)),
            ));
        }
        Ok(Quote {
            rate_plan,
            currency,
            lines,
            subtotal: money(subtotal),
            taxes: money(taxes),
            included_taxes: money(included_taxes),
            total: money(total),
            accommodation: money(accommodation),
            nights: Vec::new(),
            non_refundable_taxes: None,
        })
    }

    /// This quote saying that `taxes` of its exclusive taxes were charged
    /// on its non-refundable fee lines (as pricing works it out, see
    /// [`Quote::non_refundable_taxes`]). Fails with `INVALID_INPUT` or
    /// `CURRENCY_MISMATCH` unless `taxes` is in whole minor units of the
    /// quote's currency, between zero and [`Quote::taxes`], and zero if no
    /// line is non-refundable.
    ///
    /// ```
    /// use reservo::ids::RatePlanId;
    /// use reservo::money::{Currency, Money};
    /// use reservo::pricing::{Quote, QuoteLine, RuleKind, RuleRef};
    /// let eur = |a: &str| Money::parse(a, "EUR").unwrap();
    /// let line = |kind, id: &str, amount: &str, refundable| QuoteLine {
    ///     rule: RuleRef { kind, id: id.into() },
    ///     description: id.into(),
    ///     quantity: 1,
    ///     unit_amount: eur(amount),
    ///     amount: eur(amount),
    ///     included: false,
    ///     refundable,
    /// };
    /// let lines = vec![
    ///     line(RuleKind::Base, "flex", "100.00", true),
    ///     line(RuleKind::Fee, "service", "20.00", false),
    ///     // 10% on the accommodation only: nothing on the service fee.
    ///     line(RuleKind::Tax, "city", "10.00", true),
    /// ];
    /// let plan = RatePlanId::new("flex").unwrap();
    /// let quote = Quote::from_lines(plan, Currency::from_code("EUR").unwrap(), lines).unwrap();
    /// // Without pricing's word, the fee's share of the subtotal is assumed.
    /// assert_eq!(quote.non_refundable_taxes(), eur("1.67"));
    /// let quote = quote.with_non_refundable_taxes(eur("0.00")).unwrap();
    /// assert_eq!(quote.non_refundable(), eur("20.00"));
    /// assert!(quote.with_non_refundable_taxes(eur("10.01")).is_err());
    /// ```
    pub fn with_non_refundable_taxes(mut self, taxes: Money) -> Result<Quote> {
        if taxes.currency() != self.currency {
            return Err(Error::CurrencyMismatch {
                left: self.currency.code().to_owned(),
                right: taxes.currency().code().to_owned(),
            });
        }
        let has_kept_fee = self.lines.iter().any(|l| !l.refundable);
        if !taxes.is_rounded()
            || taxes.is_negative()
            || taxes.amount() > self.taxes.amount()
            || (!has_kept_fee && !taxes.is_zero())
        {
            return Err(Error::invalid(
                "non_refundable_taxes",
                format!(
                    "{taxes} must be whole, at most the taxes of {} and charged on \
                     non-refundable fee lines",
                    self.taxes
                ),
            ));
        }
        self.non_refundable_taxes = Some(at_minor_scale(taxes.amount(), self.currency));
        Ok(self)
    }

    /// This quote saying what each night of its stay costs, in night
    /// order: the accommodation (every line that is not a fee or a tax)
    /// split by night. Fails with `INVALID_INPUT` or `CURRENCY_MISMATCH`
    /// unless the amounts are in whole minor units of the quote's
    /// currency, none is negative, and they sum to the accommodation.
    ///
    /// ```
    /// use reservo::ids::RatePlanId;
    /// use reservo::money::{Currency, Money};
    /// use reservo::pricing::{Quote, QuoteLine, RuleKind, RuleRef};
    /// let eur = |a: &str| Money::parse(a, "EUR").unwrap();
    /// let line = |kind, id: &str, n: u32, unit: &str, amount: &str| QuoteLine {
    ///     rule: RuleRef { kind, id: id.into() },
    ///     description: id.into(),
    ///     quantity: n,
    ///     unit_amount: eur(unit),
    ///     amount: eur(amount),
    ///     included: false,
    ///     refundable: true,
    /// };
    /// let lines = vec![
    ///     line(RuleKind::Base, "flex", 1, "100.00", "100.00"),
    ///     line(RuleKind::Weekday, "weekend", 2, "120.00", "240.00"),
    ///     line(RuleKind::Fee, "cleaning", 1, "60.00", "60.00"),
    /// ];
    /// let plan = RatePlanId::new("flex").unwrap();
    /// let quote = Quote::from_lines(plan, Currency::from_code("EUR").unwrap(), lines).unwrap();
    /// let quote = quote.with_nights(vec![eur("100.00"), eur("120.00"), eur("120.00")]).unwrap();
    /// assert_eq!(quote.nights()[0], eur("100.00"));
    /// // The nights must add up to the accommodation (340.00 here).
    /// assert!(quote.with_nights(vec![eur("100.00")]).is_err());
    /// ```
    pub fn with_nights(mut self, nights: Vec<Money>) -> Result<Quote> {
        let mut sum = Decimal::ZERO;
        for (index, night) in nights.iter().enumerate() {
            if night.currency() != self.currency {
                return Err(Error::CurrencyMismatch {
                    left: self.currency.code().to_owned(),
                    right: night.currency().code().to_owned(),
                });
            }
            if !night.is_rounded() || night.is_negative() {
                return Err(Error::invalid(
                    "nights",
                    format!("night {index} costs {night}: not a whole, non-negative amount"),
                ));
            }
            sum = sum.checked_add(night.amount()).ok_or_else(|| {
                Error::invalid(
                    "nights",
                    format!("night {index} makes the nights too large"),
                )
            })?;
        }
        let accommodation = self.accommodation();
        if !nights.is_empty() && sum != accommodation.amount() {
            return Err(Error::invalid(
                "nights",
                format!("the nights add up to {sum}, the accommodation is {accommodation}"),
            ));
        }
        self.nights = nights
            .into_iter()
            .map(|n| at_minor_scale(n.amount(), self.currency))
            .collect();
        Ok(self)
    }

    /// The rate plan that priced it.
    pub fn rate_plan(&self) -> &RatePlanId {
        &self.rate_plan
    }

    /// Its currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Its lines, in order.
    pub fn lines(&self) -> &[QuoteLine] {
        &self.lines
    }

    /// Sum of the lines that are not taxes.
    pub fn subtotal(&self) -> Money {
        self.subtotal
    }

    /// Sum of the exclusive taxes, added to the subtotal.
    pub fn taxes(&self) -> Money {
        self.taxes
    }

    /// Sum of the inclusive taxes, contained in the subtotal.
    pub fn included_taxes(&self) -> Money {
        self.included_taxes
    }

    /// What the guest pays: subtotal plus exclusive taxes.
    pub fn total(&self) -> Money {
        self.total
    }

    /// What each night of the stay costs, in night order: the rate of
    /// that night plus its share of occupancy charges, less its share of
    /// the length-of-stay and promo discounts (shared in proportion to
    /// the nights' prices). Sums exactly to the accommodation; fees and
    /// taxes are not in it. Empty for a slot, and for a quote built by
    /// [`Quote::from_lines`] or stored before quotes carried nights.
    pub fn nights(&self) -> &[Money] {
        &self.nights
    }

    /// The sum of the lines that are neither fees nor taxes.
    pub fn accommodation(&self) -> Money {
        self.accommodation
    }

    /// The part of the exclusive taxes charged on the non-refundable fee
    /// lines: owed to the tax authority on a fee the host keeps, so a
    /// cancellation keeps it too. Inclusive taxes are already inside the
    /// fees' amounts and are not in it.
    ///
    /// As pricing worked it out when it priced the quote: per line, the
    /// taxes those lines were charged; on the total, their share of each
    /// tax rounded up, so the rest of the taxes, which may be refunded, is
    /// never more than its exact value. A quote without that figure (stored
    /// before quotes carried it, or built by [`Quote::from_lines`]) does not
    /// say which lines each tax was charged on: it is assumed to be on all
    /// of them, and the non-refundable fees' share of the subtotal of the
    /// exclusive taxes is kept, rounded up.
    pub fn non_refundable_taxes(&self) -> Money {
        if let Some(taxes) = self.non_refundable_taxes {
            return taxes;
        }
        let kept_fees = self.non_refundable_fees().amount();
        let (taxes, subtotal) = (self.taxes.amount(), self.subtotal.amount());
        if kept_fees.is_zero() || subtotal <= Decimal::ZERO {
            return Money::zero(self.currency);
        }
        let share = Money::new(taxes * kept_fees / subtotal, self.currency)
            .round(RoundingMode::Ceiling)
            .amount()
            .min(taxes);
        at_minor_scale(share, self.currency)
    }

    /// What a cancellation keeps whatever its policy refunds: the
    /// non-refundable fee lines ([`QuoteLine::refundable`]) and the taxes
    /// charged on them ([`Quote::non_refundable_taxes`]).
    pub fn non_refundable(&self) -> Money {
        let amount = self.non_refundable_fees().amount() + self.non_refundable_taxes().amount();
        at_minor_scale(amount, self.currency)
    }

    /// The sum of the non-refundable fee lines.
    fn non_refundable_fees(&self) -> Money {
        let amount = self
            .lines
            .iter()
            .filter(|l| !l.refundable)
            .map(|l| l.amount.amount())
            .sum();
        at_minor_scale(amount, self.currency)
    }
}

/// `amount` (already in whole minor units) written with exactly the
/// currency's decimals, so quotes read and serialize uniformly
/// (`"0.00"`, never `"0"`, in EUR).
pub(crate) fn at_minor_scale(amount: Decimal, currency: Currency) -> Money {
    let mut amount = amount;
    amount.rescale(currency.minor_units());
    Money::new(amount, currency)
}

fn check_line(index: usize, line: &QuoteLine, currency: Currency) -> Result<()> {
    for money in [&line.unit_amount, &line.amount] {
        if money.currency() != currency {
            return Err(Error::CurrencyMismatch {
                left: currency.code().to_owned(),
                right: money.currency().code().to_owned(),
            });
        }
        if !money.is_rounded() {
            return Err(Error::invalid(
                "lines",
                format!("line {index} has {money}, not in whole minor units"),
            ));
        }
    }
    let product = line
        .unit_amount
        .amount()
        .checked_mul(Decimal::from(line.quantity));
    if product != Some(line.amount.amount()) {
        return Err(Error::invalid(
            "lines",
            format!(
                "line {index} has amount {} but {} x {}",
                line.amount, line.quantity, line.unit_amount
            ),
        ));
    }
    Ok(())
}

impl<'de> Deserialize<'de> for Quote {
    /// Reads a quote and checks it: the stored totals must be the sums of
    /// the stored lines.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            rate_plan: RatePlanId,
            currency: Currency,
            lines: Vec<QuoteLine>,
            subtotal: Money,
            taxes: Money,
            included_taxes: Money,
            total: Money,
            #[serde(default)]
            nights: Vec<Decimal>,
            #[serde(default)]
            non_refundable_taxes: Option<Money>,
        }
        let raw = Raw::deserialize(d)?;
        let nights = raw
            .nights
            .into_iter()
            .map(|n| Money::new(n, raw.currency))
            .collect();
        let quote = Quote::from_lines(raw.rate_plan, raw.currency, raw.lines)
            .and_then(|quote| quote.with_nights(nights))
            .and_then(|quote| match raw.non_refundable_taxes {
                Some(taxes) => quote.with_non_refundable_taxes(taxes),
                None => Ok(quote),
            })
            .map_err(serde::de::Error::custom)?;
        let stored = [raw.subtotal, raw.taxes, raw.included_taxes, raw.total];
        let summed = [
            quote.subtotal,
            quote.taxes,
            quote.included_taxes,
            quote.total,
        ];
        if stored != summed {
            return Err(serde::de::Error::custom(format!(
                "quote totals {stored:?} are not the sums of its lines {summed:?}"
            )));
        }
        Ok(quote)
    }
}
