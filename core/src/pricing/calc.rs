//! The one pricing computation behind both [`RatePlan::quote`] and
//! [`RatePlan::total`].
//!
//! Owns the order in which rules apply and the running amounts. Lines are
//! handed to a [`LineSink`] as closures: the quote's sink builds them, the
//! total's sink drops them unbuilt, so both entry points run the same
//! arithmetic and cannot disagree. Must never allocate per night: a total
//! allocates nothing unless a stay is priced by more than six rate rules.

use rust_decimal::Decimal;

use super::length_of_stay::{StayDiscount, best_tier};
use super::occupancy::{EXTRA_ADULT_RULE, GuestGroup};
use super::promo::PromoDiscount;
use super::quote::{QuoteLine, RuleKind, RuleRef, at_minor_scale};
use super::rate_plan::RatePlan;
use super::rates::RateSource;
use super::request::{PricedItem, QuoteRequest};
use super::tax::{Charge, TaxInclusion, TaxLedger};
use super::values::Price;
use crate::error::Result;
use crate::money::{Currency, Money};

/// Where the computation hands its lines, and what each night costs.
pub(crate) trait LineSink {
    /// Takes one line, built only if the sink keeps lines.
    fn push(&mut self, line: impl FnOnce() -> QuoteLine);

    /// Takes the rate of the next night (nights come in order), worked
    /// out only if the sink keeps nights.
    #[inline]
    fn night(&mut self, _rate: impl FnOnce() -> Decimal) {}

    /// Takes a charge that every night bears alike (occupancy).
    #[inline]
    fn every_night(&mut self, _amount: Decimal) {}

    /// Takes the exclusive taxes charged on the non-refundable fees, worked
    /// out only if the sink keeps them; called only when the quote has a
    /// non-refundable fee line.
    #[inline]
    fn non_refundable_taxes(&mut self, _amount: impl FnOnce() -> Decimal) {}
}

/// A sink that keeps no lines: for [`RatePlan::total`].
pub(crate) struct NoLines;

impl LineSink for NoLines {
    #[inline]
    fn push(&mut self, _line: impl FnOnce() -> QuoteLine) {}
}

/// The sink of [`RatePlan::quote`]: the lines, and each night's price
/// before discounts, by which the accommodation is split into nights.
#[derive(Default)]
pub(crate) struct QuoteParts {
    pub lines: Vec<QuoteLine>,
    night_rates: Vec<Decimal>,
    every_night: Decimal,
    /// The exclusive taxes on non-refundable fees, if the quote has any
    /// such fee (see [`super::Quote::non_refundable_taxes`]).
    pub non_refundable_taxes: Option<Decimal>,
}

impl LineSink for QuoteParts {
    fn push(&mut self, line: impl FnOnce() -> QuoteLine) {
        self.lines.push(line());
    }

    fn night(&mut self, rate: impl FnOnce() -> Decimal) {
        self.night_rates.push(rate());
    }

    fn every_night(&mut self, amount: Decimal) {
        self.every_night += amount;
    }

    fn non_refundable_taxes(&mut self, amount: impl FnOnce() -> Decimal) {
        self.non_refundable_taxes = Some(amount());
    }
}

impl QuoteParts {
    /// `accommodation` (rates and occupancy less discounts, in whole minor
    /// units) split over the nights in proportion to each night's price
    /// before discounts, exactly (largest remainder). Nights priced at
    /// nothing (or, defensively, below it) share alike. `None` if there
    /// are no nights or the accommodation is negative.
    pub fn nights(&self, accommodation: Money) -> Option<Vec<Money>> {
        if self.night_rates.is_empty() || accommodation.is_negative() {
            return None;
        }
        let weights: Vec<Decimal> = self
            .night_rates
            .iter()
            .map(|rate| rate + self.every_night)
            .collect();
        let priced = weights.iter().all(|w| !w.is_sign_negative() || w.is_zero())
            && weights.iter().any(|w| !w.is_zero());
        let alike = vec![Decimal::ONE; weights.len()];
        accommodation
            .allocate(if priced { &weights } else { &alike })
            .ok()
    }
}

/// Nights priced by one rule, in the order of the first night it prices.
#[derive(Clone, Copy)]
struct RateGroup {
    source: RateSource,
    nights: u32,
}

/// How many rate groups a stay keeps without allocating: a stay is priced
/// by the base price, a weekday rate or two and a season or two.
const INLINE_GROUPS: usize = 6;

/// The rate groups of one stay: inline up to [`INLINE_GROUPS`], on the
/// heap beyond (a search prices thousands of stays; most need no heap).
enum RateGroups {
    Inline([RateGroup; INLINE_GROUPS], usize),
    Heap(Vec<RateGroup>),
}

impl Default for RateGroups {
    fn default() -> Self {
        let empty = RateGroup {
            source: RateSource::Base,
            nights: 0,
        };
        RateGroups::Inline([empty; INLINE_GROUPS], 0)
    }
}

impl RateGroups {
    /// Counts one more night priced by `source`.
    fn add(&mut self, source: RateSource) {
        if let Some(group) = self.as_mut_slice().iter_mut().rfind(|g| g.source == source) {
            group.nights += 1;
            return;
        }
        let group = RateGroup { source, nights: 1 };
        match self {
            RateGroups::Inline(groups, len) if *len < INLINE_GROUPS => {
                groups[*len] = group;
                *len += 1;
            }
            RateGroups::Inline(groups, len) => {
                let mut heap = groups[..*len].to_vec();
                heap.push(group);
                *self = RateGroups::Heap(heap);
            }
            RateGroups::Heap(groups) => groups.push(group),
        }
    }

    fn as_slice(&self) -> &[RateGroup] {
        match self {
            RateGroups::Inline(groups, len) => &groups[..*len],
            RateGroups::Heap(groups) => groups,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [RateGroup] {
        match self {
            RateGroups::Inline(groups, len) => &mut groups[..*len],
            RateGroups::Heap(groups) => groups,
        }
    }
}

fn line(
    kind: RuleKind,
    id: &str,
    description: String,
    quantity: u32,
    unit_amount: Decimal,
    currency: Currency,
) -> QuoteLine {
    QuoteLine {
        rule: RuleRef {
            kind,
            id: id.to_owned(),
        },
        description,
        quantity,
        unit_amount: at_minor_scale(unit_amount, currency),
        amount: at_minor_scale(unit_amount * Decimal::from(quantity), currency),
        included: false,
        refundable: true,
    }
}

impl RatePlan {
    /// Prices `request`, handing each line to `sink`, and returns the total
    /// (see the `pricing` module docs for the steps).
    pub(super) fn price<S: LineSink>(
        &self,
        request: &QuoteRequest,
        sink: &mut S,
    ) -> Result<Decimal> {
        let spec = &self.spec;
        let currency = self.currency();
        let mode = spec.rounding;
        let item = &request.item;
        self.check_unit(item)?;
        let promo = match &request.promo {
            Some(redemption) => {
                redemption.check(currency, item, request.booking_date)?;
                Some(&redemption.promo)
            }
            None => None,
        };
        let nights = item.nights();
        let mut ledger =
            TaxLedger::new(&spec.taxes, &self.taxes, spec.tax_rounding, mode, currency);

        // 1. Nightly rates, grouped by the rule that prices each night.
        let mut groups = RateGroups::default();
        for date in item.dates() {
            let source = self.rates.source(&spec.seasons, date);
            groups.add(source);
            if matches!(item, PricedItem::Stay(_)) {
                sink.night(|| self.rate_rule(source).3.amount());
            }
        }
        let mut accommodation = Decimal::ZERO;
        for group in groups.as_slice() {
            let (kind, id, name, price) = self.rate_rule(group.source);
            let amount = price.amount() * Decimal::from(group.nights);
            sink.push(|| {
                line(
                    kind,
                    id,
                    name.to_owned(),
                    group.nights,
                    price.amount(),
                    currency,
                )
            });
            ledger.charge(Charge::Accommodation, amount);
            accommodation += amount;
        }

        // 2. Occupancy: guests beyond those the rate includes.
        if let (Some(occupancy), Some(table)) = (&spec.occupancy, &self.occupancy) {
            for extra in table.extra_guests(occupancy, &request.party) {
                let quantity = extra.guests * nights;
                let amount = extra.price * Decimal::from(quantity);
                sink.every_night(extra.price * Decimal::from(extra.guests));
                sink.push(|| match extra.group {
                    GuestGroup::Adults => line(
                        RuleKind::Occupancy,
                        EXTRA_ADULT_RULE,
                        "Extra adult".to_owned(),
                        quantity,
                        extra.price,
                        currency,
                    ),
                    GuestGroup::Band(i) => {
                        let band = &occupancy.child_bands[i];
                        let description = format!("Child aged {}-{}", band.min_age, band.max_age);
                        line(
                            RuleKind::Occupancy,
                            band.id.as_str(),
                            description,
                            quantity,
                            extra.price,
                            currency,
                        )
                    }
                });
                ledger.charge(Charge::Accommodation, amount);
                accommodation += amount;
            }
        }

        // 3. Length of stay: the best tier, off the accommodation.
        if let Some(applied) =
            best_tier(&spec.length_of_stay, nights, accommodation, currency, mode)
        {
            let tier = applied.tier;
            sink.push(|| {
                let min = tier.min_nights;
                match tier.discount {
                    StayDiscount::FixedPerNight(price)
                        if price.amount() * Decimal::from(nights) == applied.amount =>
                    {
                        let description = format!("{min}+ nights: {price} off per night");
                        line(
                            RuleKind::LengthOfStay,
                            tier.id.as_str(),
                            description,
                            nights,
                            -price.amount(),
                            currency,
                        )
                    }
                    StayDiscount::FixedPerNight(price) => {
                        let description = format!(
                            "{min}+ nights: {price} off per night, up to the accommodation"
                        );
                        line(
                            RuleKind::LengthOfStay,
                            tier.id.as_str(),
                            description,
                            1,
                            -applied.amount,
                            currency,
                        )
                    }
                    StayDiscount::Percent(percent) => {
                        let description = format!("{min}+ nights: {percent} off");
                        line(
                            RuleKind::LengthOfStay,
                            tier.id.as_str(),
                            description,
                            1,
                            -applied.amount,
                            currency,
                        )
                    }
                }
            });
            ledger.charge(Charge::Accommodation, -applied.amount);
            accommodation -= applied.amount;
        }

        // 4. Promo: off the accommodation left.
        if let Some(promo) = promo {
            let amount = promo.amount(accommodation, currency, mode);
            if amount > Decimal::ZERO {
                sink.push(|| {
                    let off = match promo.discount {
                        PromoDiscount::Percent(percent) => percent.to_string(),
                        PromoDiscount::Fixed(price) => price.to_string(),
                    };
                    let description = format!("Promo {}: {off} off", promo.code);
                    line(
                        RuleKind::Promo,
                        promo.code.as_str(),
                        description,
                        1,
                        -amount,
                        currency,
                    )
                });
                ledger.charge(Charge::Accommodation, -amount);
                accommodation -= amount;
            }
        }

        // 5. Fees.
        let guests = request.party.size();
        let mut fees = Decimal::ZERO;
        let mut kept_fee = false;
        for fee in &spec.fees {
            let quantity = fee.basis.quantity(nights, guests);
            let amount = fee.amount.amount() * Decimal::from(quantity);
            if amount.is_zero() {
                continue;
            }
            sink.push(|| QuoteLine {
                refundable: fee.refundable,
                ..line(
                    RuleKind::Fee,
                    fee.id.as_str(),
                    fee.name.clone(),
                    quantity,
                    fee.amount.amount(),
                    currency,
                )
            });
            if fee.taxable {
                ledger.charge(Charge::TaxableFee, amount);
                if !fee.refundable {
                    ledger.keep_fee(amount);
                }
            }
            kept_fee |= !fee.refundable;
            fees += amount;
        }

        // 6. Taxes.
        let mut added_taxes = Decimal::ZERO;
        for (i, tax) in spec.taxes.iter().enumerate() {
            let amount = ledger.tax(i);
            if amount.is_zero() {
                continue;
            }
            let included = tax.inclusion == TaxInclusion::Inclusive;
            sink.push(|| {
                let description = if included {
                    format!("{} {} (included)", tax.name, tax.rate)
                } else {
                    format!("{} {}", tax.name, tax.rate)
                };
                QuoteLine {
                    included,
                    ..line(
                        RuleKind::Tax,
                        tax.id.as_str(),
                        description,
                        1,
                        amount,
                        currency,
                    )
                }
            });
            if !included {
                added_taxes += amount;
            }
        }

        // 7. What a cancellation keeps of the taxes: those on the
        // non-refundable fees (inclusive ones are inside the fees already).
        if kept_fee {
            sink.non_refundable_taxes(|| (0..spec.taxes.len()).map(|i| ledger.kept(i)).sum());
        }

        Ok(accommodation + fees + added_taxes)
    }

    /// The rule that prices nights from `source`: its kind, id, name and
    /// price per night.
    fn rate_rule(&self, source: RateSource) -> (RuleKind, &str, &str, &Price) {
        let spec = &self.spec;
        match source {
            RateSource::Base => (
                RuleKind::Base,
                spec.id.as_str(),
                "Base rate",
                &spec.base_price,
            ),
            RateSource::Weekday(i) => {
                let rate = &spec.weekday_rates[i];
                (
                    RuleKind::Weekday,
                    rate.id.as_str(),
                    rate.name.as_str(),
                    &rate.price,
                )
            }
            RateSource::Season(i) => {
                let season = &spec.seasons[i];
                (
                    RuleKind::Season,
                    season.id.as_str(),
                    season.name.as_str(),
                    &season.price,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nights_split_only_a_non_negative_accommodation_over_priced_nights() {
        let parts = QuoteParts {
            night_rates: vec![Decimal::from(30), Decimal::from(10)],
            ..QuoteParts::default()
        };
        let split = |minor| parts.nights(Money::from_minor(minor, Currency::EUR));
        assert_eq!(
            split(100),
            Some(vec![
                Money::from_minor(75, Currency::EUR),
                Money::from_minor(25, Currency::EUR)
            ])
        );
        assert_eq!(split(0), Some(vec![Money::zero(Currency::EUR); 2]));
        // Discounts stop at the accommodation, so it is never negative; if
        // it were, there would be no split rather than negative nights.
        assert_eq!(split(-100), None);
        assert_eq!(
            QuoteParts::default().nights(Money::zero(Currency::EUR)),
            None
        );
    }

    #[test]
    fn rate_groups_keep_first_night_order_and_counts_past_the_inline_size() {
        let mut groups = RateGroups::default();
        let sources: Vec<RateSource> = (0..INLINE_GROUPS + 3).map(RateSource::Season).collect();
        for (i, source) in sources.iter().enumerate() {
            for _ in 0..=i {
                groups.add(*source);
            }
            // Up to the inline size, the groups stay off the heap.
            assert_eq!(matches!(groups, RateGroups::Inline(..)), i < INLINE_GROUPS);
        }
        groups.add(RateSource::Season(0));
        assert!(matches!(groups, RateGroups::Heap(_)));
        let got: Vec<(RateSource, u32)> = groups
            .as_slice()
            .iter()
            .map(|g| (g.source, g.nights))
            .collect();
        let mut want: Vec<(RateSource, u32)> = sources
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i as u32 + 1))
            .collect();
        want[0].1 += 1;
        assert_eq!(got, want);
    }
}
