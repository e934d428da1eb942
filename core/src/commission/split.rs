//! The split of one booking's money between platform, intermediaries, tax
//! remitter and owner.
//!
//! Owns [`FeeRate`], [`CommissionPlan`] (who takes what) and [`Split`] (the
//! resulting parts, which always sum exactly to the gross). Rounding: each
//! fee is rounded half-even to the minor unit on its own, taxes are taken
//! as given, and the **owner's payout absorbs the rounding** as the
//! remainder. When percentages totalling up to 100% would round to more
//! than the base (50% + 50% of 0.03), the base is shared out exactly by
//! largest remainder instead. Must never create or lose a minor unit, and
//! never mix currencies.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::validate_id;
use crate::money::{Currency, Money, RoundingMode};
use crate::policy::Percentage;
use crate::policy::checks::{check_amount, check_at_most, one_currency};

/// What kind of intermediary takes a commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntermediaryRole {
    /// A sales channel (an OTA, a marketplace).
    Channel,
    /// A broker or agent acting for the owner.
    Broker,
}

/// A channel or broker, named by an id that follows the crate's id rule.
///
/// ```
/// use reservo::commission::{Intermediary, IntermediaryRole};
/// let ota = Intermediary::new(IntermediaryRole::Channel, "booking-com").unwrap();
/// assert_eq!(ota.id(), "booking-com");
/// assert_eq!(Intermediary::new(IntermediaryRole::Broker, "a/b").unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Intermediary {
    role: IntermediaryRole,
    id: String,
}

impl Intermediary {
    /// An intermediary with a valid id.
    pub fn new(role: IntermediaryRole, id: impl Into<String>) -> Result<Intermediary> {
        let id = id.into();
        validate_id("intermediary", &id)?;
        Ok(Intermediary { role, id })
    }

    /// Channel or broker.
    pub fn role(&self) -> IntermediaryRole {
        self.role
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl<'de> Deserialize<'de> for Intermediary {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            role: IntermediaryRole,
            id: String,
        }
        let raw = Raw::deserialize(d)?;
        Intermediary::new(raw.role, raw.id).map_err(serde::de::Error::custom)
    }
}

/// A fee: a percentage of the commissionable base plus an optional flat
/// amount (non-negative, whole minor units).
///
/// ```
/// use reservo::commission::FeeRate;
/// use reservo::money::Money;
/// use reservo::policy::Percentage;
/// let rate = FeeRate::new(Percentage::whole(15).unwrap(), Some(Money::parse("2.00", "EUR").unwrap())).unwrap();
/// let fee = rate.fee(&Money::parse("100.05", "EUR").unwrap()).unwrap();
/// assert_eq!(fee.to_string(), "17.01 EUR"); // 15.0075 rounds half-even to 15.01, plus 2.00
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct FeeRate {
    percent: Percentage,
    flat: Option<Money>,
}

impl FeeRate {
    /// A percentage and an optional flat amount.
    pub fn new(percent: Percentage, flat: Option<Money>) -> Result<FeeRate> {
        if let Some(flat) = flat {
            if flat.is_negative() || !flat.is_rounded() {
                return Err(Error::invalid(
                    "flat",
                    format!("a flat fee must be non-negative and in whole minor units, got {flat}"),
                ));
            }
        }
        Ok(FeeRate { percent, flat })
    }

    /// A percentage only.
    pub fn percent(percent: Percentage) -> FeeRate {
        FeeRate {
            percent,
            flat: None,
        }
    }

    /// No fee.
    pub fn none() -> FeeRate {
        FeeRate::percent(Percentage::ZERO)
    }

    /// The percentage.
    pub fn percentage(&self) -> Percentage {
        self.percent
    }

    /// The flat amount, if any.
    pub fn flat(&self) -> Option<Money> {
        self.flat
    }

    /// The fee on `base`: the percentage rounded half-even to the minor
    /// unit, plus the flat amount.
    pub fn fee(&self, base: &Money) -> Result<Money> {
        let share = self.percent.of(base).round(RoundingMode::HalfEven);
        match self.flat {
            Some(flat) => share.checked_add(&flat),
            None => Ok(share),
        }
    }
}

impl<'de> Deserialize<'de> for FeeRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            percent: Percentage,
            #[serde(default)]
            flat: Option<Money>,
        }
        let raw = Raw::deserialize(d)?;
        FeeRate::new(raw.percent, raw.flat).map_err(serde::de::Error::custom)
    }
}

/// Who collects the taxes of a booking and remits them to the authority.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRemitter {
    /// The platform remits (marketplace facilitator rules).
    Platform,
    /// A channel or broker remits.
    Intermediary(Intermediary),
    /// The owner remits.
    Owner,
}

/// One intermediary's terms in a [`CommissionPlan`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntermediaryTerms {
    /// The channel or broker.
    pub intermediary: Intermediary,
    /// What it takes.
    pub rate: FeeRate,
}

/// Who takes what of a booking's money: a platform fee, one commission per
/// channel or broker, and who remits the taxes; the owner gets the rest.
///
/// Fees are taken from the *commissionable base*: the gross minus taxes.
///
/// ```
/// use reservo::commission::{CommissionPlan, FeeRate, Intermediary, IntermediaryRole, IntermediaryTerms, TaxRemitter};
/// use reservo::money::Money;
/// use reservo::policy::Percentage;
/// let eur = |s| Money::parse(s, "EUR").unwrap();
/// let plan = CommissionPlan::new(
///     FeeRate::percent(Percentage::whole(3).unwrap()),
///     vec![IntermediaryTerms {
///         intermediary: Intermediary::new(IntermediaryRole::Channel, "ota").unwrap(),
///         rate: FeeRate::percent(Percentage::whole(15).unwrap()),
///     }],
///     TaxRemitter::Owner,
/// ).unwrap();
/// let split = plan.split(eur("110.00"), eur("10.00")).unwrap();
/// assert_eq!(split.platform_fee(), eur("3.00"));
/// assert_eq!(split.commissions()[0].amount, eur("15.00"));
/// assert_eq!(split.owner_payout(), eur("82.00"));
/// assert_eq!(split.gross(), eur("110.00"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommissionPlan {
    platform_fee: FeeRate,
    intermediaries: Vec<IntermediaryTerms>,
    tax_remitter: TaxRemitter,
}

impl CommissionPlan {
    /// The most intermediaries one booking may have.
    pub const MAX_INTERMEDIARIES: usize = 8;

    /// A plan, checked: at most [`Self::MAX_INTERMEDIARIES`] distinct
    /// intermediaries, flat fees in one currency, and a tax remitter that is
    /// the platform, the owner or one of the plan's intermediaries.
    pub fn new(
        platform_fee: FeeRate,
        intermediaries: Vec<IntermediaryTerms>,
        tax_remitter: TaxRemitter,
    ) -> Result<CommissionPlan> {
        check_at_most(
            "intermediaries",
            intermediaries.len(),
            Self::MAX_INTERMEDIARIES,
        )?;
        for (i, terms) in intermediaries.iter().enumerate() {
            if intermediaries[..i]
                .iter()
                .any(|t| t.intermediary == terms.intermediary)
            {
                return Err(Error::invalid(
                    "intermediaries",
                    format!("{:?} is listed twice", terms.intermediary.id()),
                ));
            }
        }
        if let TaxRemitter::Intermediary(who) = &tax_remitter {
            if !intermediaries.iter().any(|t| &t.intermediary == who) {
                return Err(Error::invalid(
                    "tax_remitter",
                    format!("{:?} is not one of the plan's intermediaries", who.id()),
                ));
            }
        }
        let plan = CommissionPlan {
            platform_fee,
            intermediaries,
            tax_remitter,
        };
        let flats: Vec<Money> = plan.rates().filter_map(|r| r.flat).collect();
        one_currency(&flats)?;
        Ok(plan)
    }

    /// The platform's fee.
    pub fn platform_fee(&self) -> FeeRate {
        self.platform_fee
    }

    /// The intermediaries' terms, in the order given.
    pub fn intermediaries(&self) -> &[IntermediaryTerms] {
        &self.intermediaries
    }

    /// Who remits the taxes.
    pub fn tax_remitter(&self) -> &TaxRemitter {
        &self.tax_remitter
    }

    /// The currency of the plan's flat fees, if it has any; the plan then
    /// only splits amounts of that currency.
    pub fn currency(&self) -> Option<Currency> {
        self.rates().find_map(|r| r.flat).map(|f| f.currency())
    }

    /// The platform's fee, then each intermediary's, in plan order.
    fn rates(&self) -> impl Iterator<Item = &FeeRate> {
        std::iter::once(&self.platform_fee).chain(self.intermediaries.iter().map(|t| &t.rate))
    }

    /// Splits `gross` (everything the guest paid), of which `taxes` are
    /// taxes, into the platform fee, the commissions, the taxes and the
    /// owner's payout, which takes the rest and so absorbs the rounding.
    ///
    /// Each percentage is rounded half-even on its own ([`FeeRate::fee`]);
    /// only if those rounded parts come to more than the commissionable
    /// base, as 50% + 50% of 0.03 would (0.02 + 0.02), is the base shared
    /// out exactly by the percentages instead, the owner weighing what they
    /// leave of 100% ([`Money::allocate`]). So a plan whose percentages
    /// total at most 100% splits any gross its flat fees fit in.
    ///
    /// A gross of zero splits into zeros: flat fees are taken only from a
    /// booking that brings something in.
    ///
    /// Fails with [`Error::InvalidInput`] if an amount is negative, not in
    /// whole minor units or too large for minor units in an `i64`, if the
    /// taxes exceed the gross, or if the fees exceed the commissionable
    /// base; with [`Error::CurrencyMismatch`] if currencies differ.
    pub fn split(&self, gross: Money, taxes: Money) -> Result<Split> {
        let currency = gross.currency();
        for (field, amount) in [("gross", &gross), ("taxes", &taxes)] {
            check_amount(field, amount, currency)?;
        }
        // Bounds every product below (at most 100% of the base).
        gross.to_minor()?;
        let base = gross.checked_sub(&taxes)?;
        if base.is_negative() {
            return Err(Error::invalid(
                "taxes",
                format!("{taxes} is more than the gross {gross}"),
            ));
        }
        let mut fees = self.percentage_fees(&base)?;
        for (fee, rate) in fees.iter_mut().zip(self.rates()) {
            if let Some(flat) = rate.flat {
                // A free booking brings in nothing to take a flat fee from
                // (a booking made free by a modification is re-split to
                // zeros); the fee's currency is still checked.
                let flat = if gross.is_zero() {
                    Money::zero(flat.currency())
                } else {
                    flat
                };
                *fee = fee.checked_add(&flat)?;
            }
        }
        let total = Money::sum(currency, &fees)?;
        let owner_payout = base.checked_sub(&total)?;
        if owner_payout.is_negative() {
            return Err(Error::invalid(
                "commission",
                format!("fees of {total} exceed the commissionable {base}"),
            ));
        }
        let platform_fee = fees[0];
        let commissions = self
            .intermediaries
            .iter()
            .zip(&fees[1..])
            .map(|(terms, amount)| CommissionShare {
                intermediary: terms.intermediary.clone(),
                amount: *amount,
            })
            .collect();
        Split::new(
            platform_fee,
            commissions,
            taxes,
            self.tax_remitter.clone(),
            owner_payout,
        )
    }

    /// The percentage part of every fee on `base`, in [`Self::rates`]
    /// order: each rounded on its own, or, if those come to more than the
    /// base, the base allocated by the percentages and the owner's rest
    /// of 100% (the owner's part dropped).
    fn percentage_fees(&self, base: &Money) -> Result<Vec<Money>> {
        let rounded: Vec<Money> = self
            .rates()
            .map(|r| r.percent.of(base).round(RoundingMode::HalfEven))
            .collect();
        let percent: Decimal = self.rates().map(|r| r.percent.value()).sum();
        if Money::sum(base.currency(), &rounded)? <= *base || percent > Decimal::ONE_HUNDRED {
            // Within the base, or a plan of over 100% whose fees the
            // caller refuses.
            return Ok(rounded);
        }
        let mut weights: Vec<Decimal> = self.rates().map(|r| r.percent.value()).collect();
        weights.push(Decimal::ONE_HUNDRED - percent);
        let mut shares = base.allocate(&weights)?;
        shares.pop();
        Ok(shares)
    }
}

impl<'de> Deserialize<'de> for CommissionPlan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            platform_fee: FeeRate,
            #[serde(default)]
            intermediaries: Vec<IntermediaryTerms>,
            tax_remitter: TaxRemitter,
        }
        let raw = Raw::deserialize(d)?;
        CommissionPlan::new(raw.platform_fee, raw.intermediaries, raw.tax_remitter)
            .map_err(serde::de::Error::custom)
    }
}

/// One intermediary's part of a [`Split`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommissionShare {
    /// Who takes it.
    pub intermediary: Intermediary,
    /// How much.
    pub amount: Money,
}

/// Money divided between the parties of one booking: platform fee,
/// commissions, taxes (with who remits them) and the owner's payout.
///
/// Every part is non-negative, in whole minor units and in one currency;
/// the parts sum to [`Split::gross`] by construction, in minor units that
/// fit an `i64`. The same shape describes an original split, a clawback
/// and what remains after refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Split {
    platform_fee: Money,
    commissions: Vec<CommissionShare>,
    taxes: Money,
    tax_remitter: TaxRemitter,
    owner_payout: Money,
}

impl Split {
    fn new(
        platform_fee: Money,
        commissions: Vec<CommissionShare>,
        taxes: Money,
        tax_remitter: TaxRemitter,
        owner_payout: Money,
    ) -> Result<Split> {
        let currency = platform_fee.currency();
        check_amount("platform_fee", &platform_fee, currency)?;
        for share in &commissions {
            check_amount("commission", &share.amount, currency)?;
        }
        check_amount("taxes", &taxes, currency)?;
        check_amount("owner_payout", &owner_payout, currency)?;
        let split = Split {
            platform_fee,
            commissions,
            taxes,
            tax_remitter,
            owner_payout,
        };
        // So that `gross` always sums, and in minor units.
        Money::sum(currency, &split.parts())?.to_minor()?;
        Ok(split)
    }

    /// The currency of every part.
    pub fn currency(&self) -> Currency {
        self.platform_fee.currency()
    }

    /// The platform's fee.
    pub fn platform_fee(&self) -> Money {
        self.platform_fee
    }

    /// The channels' and brokers' commissions.
    pub fn commissions(&self) -> &[CommissionShare] {
        &self.commissions
    }

    /// The sum of the commissions.
    pub fn commission_total(&self) -> Money {
        Money::sum(self.currency(), self.commissions.iter().map(|c| &c.amount))
            .expect("a split has one currency")
    }

    /// The taxes, passed through to [`Split::tax_remitter`].
    pub fn taxes(&self) -> Money {
        self.taxes
    }

    /// Who remits the taxes.
    pub fn tax_remitter(&self) -> &TaxRemitter {
        &self.tax_remitter
    }

    /// The owner's payout.
    pub fn owner_payout(&self) -> Money {
        self.owner_payout
    }

    /// The sum of every part.
    pub fn gross(&self) -> Money {
        Money::sum(self.currency(), &self.parts()).expect("a split has one currency")
    }

    /// The parts in a fixed order: platform fee, each commission, taxes,
    /// owner payout.
    pub fn parts(&self) -> Vec<Money> {
        let mut parts = Vec::with_capacity(self.commissions.len() + 3);
        parts.push(self.platform_fee);
        parts.extend(self.commissions.iter().map(|c| c.amount));
        parts.push(self.taxes);
        parts.push(self.owner_payout);
        parts
    }

    /// A split of the same parties with `parts` in the order of
    /// [`Split::parts`].
    pub(crate) fn with_parts(&self, parts: &[Money]) -> Result<Split> {
        let wrong_count = || {
            Error::invalid(
                "split",
                format!(
                    "{} parts given for a split of {}",
                    parts.len(),
                    self.commissions.len() + 3
                ),
            )
        };
        let (platform_fee, rest) = parts.split_first().ok_or_else(wrong_count)?;
        let (owner_payout, rest) = rest.split_last().ok_or_else(wrong_count)?;
        let (taxes, amounts) = rest.split_last().ok_or_else(wrong_count)?;
        if amounts.len() != self.commissions.len() {
            return Err(wrong_count());
        }
        let commissions = self
            .commissions
            .iter()
            .zip(amounts)
            .map(|(c, amount)| CommissionShare {
                intermediary: c.intermediary.clone(),
                amount: *amount,
            })
            .collect();
        Split::new(
            *platform_fee,
            commissions,
            *taxes,
            self.tax_remitter.clone(),
            *owner_payout,
        )
    }

    /// Whether `other` divides money between the same parties.
    pub fn same_parties(&self, other: &Split) -> bool {
        self.currency() == other.currency()
            && self.tax_remitter == other.tax_remitter
            && self.commissions.len() == other.commissions.len()
            && self
                .commissions
                .iter()
                .zip(&other.commissions)
                .all(|(a, b)| a.intermediary == b.intermediary)
    }

    /// Part by part `self - other`; fails if the parties differ or a part
    /// would go negative.
    pub(crate) fn checked_sub(&self, other: &Split) -> Result<Split> {
        if !self.same_parties(other) {
            return Err(Error::invalid(
                "split",
                "cannot subtract splits between different parties",
            ));
        }
        let parts = self
            .parts()
            .iter()
            .zip(other.parts())
            .map(|(a, b)| a.checked_sub(&b))
            .collect::<Result<Vec<_>>>()?;
        self.with_parts(&parts)
    }
}

impl<'de> Deserialize<'de> for Split {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            platform_fee: Money,
            #[serde(default)]
            commissions: Vec<CommissionShare>,
            taxes: Money,
            tax_remitter: TaxRemitter,
            owner_payout: Money,
        }
        let r = Raw::deserialize(d)?;
        Split::new(
            r.platform_fee,
            r.commissions,
            r.taxes,
            r.tax_remitter,
            r.owner_payout,
        )
        .map_err(serde::de::Error::custom)
    }
}
