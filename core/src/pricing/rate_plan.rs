//! Rate plans: everything that prices one resource, validated as a whole.
//!
//! Owns [`RatePlanSpec`] (the plain data a host writes and the engine
//! stores as JSON), [`RatePlan`] (a spec that passed validation, compiled
//! for pricing) and the two entry points, [`RatePlan::quote`] and
//! [`RatePlan::total`]. Must never do I/O or read a clock: a quote depends
//! on the plan and the [`QuoteRequest`] only.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fee::Fee;
use super::length_of_stay::LengthOfStayDiscount;
use super::occupancy::{EXTRA_ADULT_RULE, Occupancy, OccupancyTable};
use super::quote::Quote;
use super::rates::{RateTable, Season, WeekdayRate};
use super::request::{PricedItem, QuoteRequest};
use super::tax::{Tax, TaxRounding, TaxTable};
use super::values::Price;
use crate::error::{Error, Result};
use crate::ids::RatePlanId;
use crate::ids::validate_name;
use crate::money::{Currency, Money, RoundingMode};

/// What one base price buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceUnit {
    /// A night of a stay: the plan prices [`PricedItem::Stay`].
    Night,
    /// One timed session: the plan prices [`PricedItem::Slot`]. For a
    /// session sold by the seat, include one guest and price extra adults
    /// and child bands per seat.
    Slot,
}

/// The plain data of a rate plan, as a host writes it and the engine
/// stores it. [`RatePlan::new`] validates it.
///
/// All prices are in the base price's currency. Lists that are empty and
/// settings left at their default may be left out of the JSON; a field it
/// does not know (a misspelt `"taxs"`) is refused rather than ignored, in
/// the spec and in every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatePlanSpec {
    /// The plan's id; the base price's quote lines name it.
    pub id: RatePlanId,
    /// Its name for people ("Flexible", "Non-refundable").
    pub name: String,
    /// Whether it prices nights or slots.
    pub unit: PriceUnit,
    /// The price of a night (or slot) that no season or weekday rate
    /// prices. Its currency is the plan's.
    pub base_price: Price,
    /// Prices by weekday; a weekday may appear in one rate only.
    #[serde(default)]
    pub weekday_rates: Vec<WeekdayRate>,
    /// Prices by date range (see [`super::rates`] for precedence).
    #[serde(default)]
    pub seasons: Vec<Season>,
    /// Length-of-stay discount tiers (nightly plans only).
    #[serde(default)]
    pub length_of_stay: Vec<LengthOfStayDiscount>,
    /// Occupancy pricing; none: the party's size does not change the price.
    #[serde(default)]
    pub occupancy: Option<Occupancy>,
    /// Fees, shown in this order.
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// Taxes (at most [`super::MAX_TAXES`]), shown in this order.
    #[serde(default)]
    pub taxes: Vec<Tax>,
    /// How percentages (discounts, taxes) are rounded to the minor unit.
    /// Default half-even.
    #[serde(default)]
    pub rounding: RoundingMode,
    /// Whether taxes are rounded per line or on their total. Default on
    /// the total.
    #[serde(default)]
    pub tax_rounding: TaxRounding,
}

impl RatePlanSpec {
    /// A plan with only a base price, default rounding, and no other rule;
    /// add rules by setting the public fields.
    pub fn new(
        id: RatePlanId,
        name: impl Into<String>,
        unit: PriceUnit,
        base_price: Price,
    ) -> RatePlanSpec {
        RatePlanSpec {
            id,
            name: name.into(),
            unit,
            base_price,
            weekday_rates: Vec::new(),
            seasons: Vec::new(),
            length_of_stay: Vec::new(),
            occupancy: None,
            fees: Vec::new(),
            taxes: Vec::new(),
            rounding: RoundingMode::default(),
            tax_rounding: TaxRounding::default(),
        }
    }
}

/// A validated rate plan, ready to price requests.
///
/// Serializes as its [`RatePlanSpec`]; deserializing validates it again.
///
/// ```
/// use chrono::NaiveDate;
/// use reservo::ids::RatePlanId;
/// use reservo::party::Party;
/// use reservo::pricing::{Price, PriceUnit, QuoteRequest, RatePlan, RatePlanSpec};
/// use reservo::time::Stay;
///
/// let spec = RatePlanSpec::new(
///     RatePlanId::new("flex").unwrap(), "Flexible", PriceUnit::Night,
///     Price::parse("100.00", "EUR").unwrap(),
/// );
/// let plan = RatePlan::new(spec).unwrap();
/// let d = |day| NaiveDate::from_ymd_opt(2026, 9, day).unwrap();
/// let request = QuoteRequest::stay(Stay::new(d(7), d(10)).unwrap(), Party::adults(2).unwrap(), d(1));
/// let quote = plan.quote(&request).unwrap();
/// assert_eq!(quote.total().to_string(), "300.00 EUR");
/// assert_eq!(plan.total(&request).unwrap(), quote.total());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatePlan {
    pub(super) spec: RatePlanSpec,
    pub(super) rates: RateTable,
    pub(super) occupancy: Option<OccupancyTable>,
    pub(super) taxes: TaxTable,
}

impl RatePlan {
    /// Validates `spec` and compiles it. Refuses, naming the value:
    ///
    /// * `CURRENCY_MISMATCH`: a price in another currency than the base price;
    /// * `INVALID_INPUT`: a blank name; a rule id used twice (or
    ///   `extra_adult`, which occupancy lines use); a weekday in two weekday
    ///   rates; overlapping seasons of equal length and priority;
    ///   overlapping child bands; zero included guests; length-of-stay
    ///   tiers on a per-slot plan; more than [`super::MAX_TAXES`] taxes.
    ///
    /// (Negative or unrounded prices and out-of-range percentages cannot be
    /// built in the first place: see [`Price`] and [`super::Percentage`].)
    pub fn new(spec: RatePlanSpec) -> Result<RatePlan> {
        validate_name("name", &spec.name)?;
        let currency = spec.base_price.currency();
        let rates = RateTable::new(currency, &spec.weekday_rates, &spec.seasons)?;
        if spec.unit == PriceUnit::Slot && !spec.length_of_stay.is_empty() {
            return Err(Error::invalid(
                "length_of_stay",
                format!(
                    "rate plan {} prices slots, which have no length of stay",
                    spec.id
                ),
            ));
        }
        for tier in &spec.length_of_stay {
            tier.validate(currency)?;
        }
        let occupancy = spec
            .occupancy
            .as_ref()
            .map(|occupancy| OccupancyTable::new(currency, occupancy))
            .transpose()?;
        for fee in &spec.fees {
            fee.validate(currency)?;
        }
        let taxes = TaxTable::new(&spec.taxes)?;
        check_unique_rule_ids(&spec)?;
        Ok(RatePlan {
            spec,
            rates,
            occupancy,
            taxes,
        })
    }

    /// Reads a plan from its JSON spec and validates it. A malformed
    /// document or value (a negative price, an unknown field) is
    /// `INVALID_INPUT` with serde's message; rules that break the plan's
    /// checks fail as [`RatePlan::new`] does (e.g. `CURRENCY_MISMATCH`).
    pub fn from_json(json: &str) -> Result<RatePlan> {
        let spec: RatePlanSpec =
            serde_json::from_str(json).map_err(|e| Error::invalid("rate_plan", e.to_string()))?;
        RatePlan::new(spec)
    }

    /// The validated spec.
    pub fn spec(&self) -> &RatePlanSpec {
        &self.spec
    }

    /// The plan's id.
    pub fn id(&self) -> &RatePlanId {
        &self.spec.id
    }

    /// The plan's currency: its base price's.
    pub fn currency(&self) -> Currency {
        self.spec.base_price.currency()
    }

    /// Prices `request` line by line (see [`super`] for the order of rules
    /// and the rounding rules).
    ///
    /// Fails with `INVALID_INPUT` if the request prices a stay with a
    /// per-slot plan or a slot with a nightly plan, and with the errors of
    /// [`super::PromoRedemption::check`] if its promo code does not apply.
    pub fn quote(&self, request: &QuoteRequest) -> Result<Quote> {
        let mut parts = super::calc::QuoteParts::default();
        self.price(request, &mut parts)?;
        let lines = std::mem::take(&mut parts.lines);
        let mut quote = Quote::from_lines(self.spec.id.clone(), self.currency(), lines)?;
        if let Some(taxes) = parts.non_refundable_taxes {
            quote = quote.with_non_refundable_taxes(Money::new(taxes, self.currency()))?;
        }
        match parts.nights(quote.accommodation()) {
            Some(nights) => quote.with_nights(nights),
            None => Ok(quote),
        }
    }

    /// The total of `request`: always equal to `quote(request)?.total()`,
    /// computed by the same code without building lines or descriptions,
    /// for searches that price many resources.
    pub fn total(&self, request: &QuoteRequest) -> Result<Money> {
        let total = self.price(request, &mut super::calc::NoLines)?;
        Ok(Money::new(total, self.currency()))
    }

    /// Checks that the plan prices the kind of item asked for.
    pub(super) fn check_unit(&self, item: &PricedItem) -> Result<()> {
        match (self.spec.unit, item) {
            (PriceUnit::Night, PricedItem::Stay(_)) | (PriceUnit::Slot, PricedItem::Slot(_)) => {
                Ok(())
            }
            (PriceUnit::Night, PricedItem::Slot(_)) => Err(Error::invalid(
                "item",
                format!("rate plan {} prices nights; a slot was given", self.spec.id),
            )),
            (PriceUnit::Slot, PricedItem::Stay(_)) => Err(Error::invalid(
                "item",
                format!("rate plan {} prices slots; a stay was given", self.spec.id),
            )),
        }
    }
}

fn check_unique_rule_ids(spec: &RatePlanSpec) -> Result<()> {
    let mut ids: Vec<&str> = spec
        .weekday_rates
        .iter()
        .map(|r| r.id.as_str())
        .chain(spec.seasons.iter().map(|s| s.id.as_str()))
        .chain(spec.length_of_stay.iter().map(|t| t.id.as_str()))
        .chain(spec.fees.iter().map(|f| f.id.as_str()))
        .chain(spec.taxes.iter().map(|t| t.id.as_str()))
        .chain(
            spec.occupancy
                .iter()
                .flat_map(|o| o.child_bands.iter().map(|b| b.id.as_str()))
                .chain(spec.occupancy.iter().map(|_| EXTRA_ADULT_RULE)),
        )
        .collect();
    ids.sort_unstable();
    match ids.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(Error::invalid(
            "rule_id",
            format!(
                "{:?} names two rules of rate plan {}; rule ids must be unique ({EXTRA_ADULT_RULE:?} is reserved)",
                pair[0], spec.id
            ),
        )),
        None => Ok(()),
    }
}

impl Serialize for RatePlan {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.spec.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RatePlan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        RatePlan::new(RatePlanSpec::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}
