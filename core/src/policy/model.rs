//! The cancellation policy as data: penalties, tiers, free windows.
//!
//! Owns [`CancellationPolicy`] and the rules checked when one is built or
//! deserialized (it is snapshotted as JSON on every booking, so a stored
//! policy is re-validated when read). Must never compute money for a
//! particular booking: that is [`quote`](super::quote)'s job.

use std::num::NonZeroU16;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::checks::{check_at_most, one_currency};
use super::threshold::{BookingStart, Threshold};
use crate::error::{Error, Result};
use crate::money::Percentage;
use crate::money::{Currency, Money};

/// What the guest forfeits when a rule applies, out of the refundable part
/// of the booking's price (the price minus its non-refundable fees).
///
/// Every penalty is capped at that refundable part.
///
/// ```
/// use reservo::policy::{Penalty, Percentage};
/// let json = r#"{"kind":"first_nights","nights":1,"percent_of_rest":"50"}"#;
/// let penalty: Penalty = serde_json::from_str(json).unwrap();
/// assert_eq!(penalty, Penalty::first_nights(1, Percentage::whole(50).unwrap()).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Penalty {
    /// Nothing is forfeited: a full refund of the refundable part.
    None,
    /// A percentage of the refundable part.
    Percent {
        /// The share forfeited.
        percent: Percentage,
    },
    /// A fixed amount (non-negative, in whole minor units).
    Fixed {
        /// The amount forfeited.
        amount: Money,
    },
    /// The amounts of the first `nights` nights of the booking's quote, plus
    /// `percent_of_rest` of whatever remains of the refundable part.
    ///
    /// A session (a slot of a timed resource) counts as one night: the
    /// engine gives its whole accommodation as the amount of the night of
    /// its local date, as pricing counts a slot as one night, so "first
    /// night kept" keeps a lesson's price.
    FirstNights {
        /// How many nights, from the first, are forfeited in full.
        nights: NonZeroU16,
        /// The share of the remainder also forfeited (`0` for none).
        percent_of_rest: Percentage,
    },
}

impl Penalty {
    /// 100% of the refundable part.
    pub const FULL: Penalty = Penalty::Percent {
        percent: Percentage::HUNDRED,
    };

    /// `percent` of the refundable part.
    pub fn percent(percent: Percentage) -> Penalty {
        Penalty::Percent { percent }
    }

    /// The first `nights` nights plus `percent_of_rest` of the remainder;
    /// zero nights are refused.
    pub fn first_nights(nights: u16, percent_of_rest: Percentage) -> Result<Penalty> {
        let nights = NonZeroU16::new(nights).ok_or_else(|| {
            Error::invalid(
                "nights",
                "a first-nights penalty needs at least 1 night, got 0",
            )
        })?;
        Ok(Penalty::FirstNights {
            nights,
            percent_of_rest,
        })
    }

    /// The penalty for a booking whose refundable part is `refundable`,
    /// with per-night amounts `nights`, exact (unrounded) and capped at
    /// `refundable`.
    pub(crate) fn amount(&self, refundable: &Money, nights: &[Money]) -> Result<Money> {
        let currency = refundable.currency();
        let raw = match self {
            Penalty::None => Money::zero(currency),
            Penalty::Percent { percent } => percent.of(refundable),
            Penalty::Fixed { amount } => *amount,
            Penalty::FirstNights {
                nights: count,
                percent_of_rest,
            } => {
                let taken = nights.iter().take(usize::from(count.get()));
                let first = Money::sum(currency, taken)?.checked_min(refundable)?;
                let rest = refundable.checked_sub(&first)?;
                first.checked_add(&percent_of_rest.of(&rest))?
            }
        };
        raw.checked_min(refundable)
    }

    fn check(&self, field: &str) -> Result<()> {
        if let Penalty::Fixed { amount } = self {
            if amount.is_negative() || !amount.is_rounded() {
                return Err(Error::invalid(
                    field,
                    format!(
                        "a fixed penalty must be a non-negative amount in whole minor units, got {amount}"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn fixed_amount(&self) -> Option<&Money> {
        match self {
            Penalty::Fixed { amount } => Some(amount),
            _ => None,
        }
    }
}

/// One tier: "cancelling by `threshold` before the start costs `penalty`".
///
/// Of several tiers whose deadlines have not passed, the one with the
/// earliest deadline applies; see [`CancellationPolicy`].
///
/// ```
/// use reservo::policy::{Penalty, Threshold, Tier};
/// let tier = Tier::new(Threshold::days(30), Penalty::None);
/// assert_eq!(tier.threshold, Threshold::days(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The deadline, relative to the start.
    pub threshold: Threshold,
    /// What cancelling by that deadline costs.
    pub penalty: Penalty,
}

impl Tier {
    /// A tier.
    pub fn new(threshold: Threshold, penalty: Penalty) -> Tier {
        Tier { threshold, penalty }
    }
}

/// Which instant a free window's lead-time condition is measured at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadMeasuredAt {
    /// The booking must have been made at or before the threshold ("booked
    /// at least 7 days before check-in").
    Booking,
    /// The cancellation must happen at or before the threshold ("the
    /// cancellation occurs at least 14 days before check-in").
    Cancellation,
}

/// A lead-time condition on a free-cancellation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadCondition {
    /// How long before the start the measured instant must be, at least.
    pub threshold: Threshold,
    /// Which instant is measured.
    pub measured_at: LeadMeasuredAt,
}

/// A full refund (of the refundable part) for a while after booking:
/// cancelling within `hours_after_booking` of the booking, and before the
/// start, costs nothing, provided the lead-time condition holds.
///
/// ```
/// use std::num::NonZeroU16;
/// use reservo::policy::{FreeCancellationWindow, LeadCondition, LeadMeasuredAt, Threshold};
/// // "within 48 hours of booking, if booked at least 14 days before check-in"
/// let window = FreeCancellationWindow {
///     hours_after_booking: NonZeroU16::new(48).unwrap(),
///     min_lead: Some(LeadCondition {
///         threshold: Threshold::days(14),
///         measured_at: LeadMeasuredAt::Booking,
///     }),
/// };
/// assert!(window.min_lead.is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeCancellationWindow {
    /// Length of the window after the booking, in elapsed hours.
    pub hours_after_booking: NonZeroU16,
    /// The lead time the window depends on, if any.
    pub min_lead: Option<LeadCondition>,
}

impl FreeCancellationWindow {
    /// The instant the window closes for a booking made at `booked_at`.
    pub fn closes_at(&self, booked_at: DateTime<Utc>) -> DateTime<Utc> {
        booked_at + chrono::Duration::hours(i64::from(self.hours_after_booking.get()))
    }

    /// Whether cancelling at `cancelled_at` falls in this window.
    pub(crate) fn covers(
        &self,
        booked_at: DateTime<Utc>,
        start: &BookingStart,
        cancelled_at: DateTime<Utc>,
    ) -> Result<bool> {
        if cancelled_at >= start.instant() || cancelled_at > self.closes_at(booked_at) {
            return Ok(false);
        }
        let Some(lead) = self.min_lead else {
            return Ok(true);
        };
        let measured = match lead.measured_at {
            LeadMeasuredAt::Booking => booked_at,
            LeadMeasuredAt::Cancellation => cancelled_at,
        };
        Ok(measured <= lead.threshold.deadline(start)?)
    }
}

/// A cancellation policy: free windows after booking, tiers by time before
/// the start, and the penalty once every tier's deadline has passed.
///
/// How a cancellation at instant `T` is judged:
///
/// 1. If `T` falls in a free window, nothing is forfeited.
/// 2. Otherwise the tier whose deadline is the *earliest one not yet
///    passed* (deadline `>= T`) applies: cancelling 40 days out under
///    "full refund until 30 days, 50% until 7 days" gets the 30-day tier.
///    Tiers are chosen by their deadlines, never by the order they were
///    listed in; they are stored in a canonical order (farthest first).
///    If two deadlines coincide at the same instant, the first in that
///    canonical order applies.
/// 3. If every deadline has passed (or the guest did not show up), the
///    `late_penalty` applies.
///
/// Tiers are not required to grow harsher towards the start; a policy that
/// wants that must be written that way.
///
/// ```
/// use reservo::policy::{CancellationPolicy, Penalty, Percentage, Threshold, Tier};
/// let firm = CancellationPolicy::new(
///     vec![
///         Tier::new(Threshold::days(7), Penalty::percent(Percentage::whole(50).unwrap())),
///         Tier::new(Threshold::days(30), Penalty::None),
///     ],
///     Penalty::FULL,
///     vec![],
/// ).unwrap();
/// assert_eq!(firm.tiers()[0].threshold, Threshold::days(30)); // canonical order
/// let json = serde_json::to_string(&firm).unwrap();
/// let back: CancellationPolicy = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, firm);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancellationPolicy {
    free_windows: Vec<FreeCancellationWindow>,
    tiers: Vec<Tier>,
    late_penalty: Penalty,
}

impl CancellationPolicy {
    /// The most tiers a policy may have.
    pub const MAX_TIERS: usize = 16;
    /// The most free windows a policy may have.
    pub const MAX_FREE_WINDOWS: usize = 4;

    /// A policy, checked: at most [`Self::MAX_TIERS`] tiers with distinct
    /// thresholds, at most [`Self::MAX_FREE_WINDOWS`] free windows, fixed
    /// penalties non-negative, in whole minor units and all in one currency.
    pub fn new(
        tiers: Vec<Tier>,
        late_penalty: Penalty,
        free_windows: Vec<FreeCancellationWindow>,
    ) -> Result<CancellationPolicy> {
        check_at_most("tiers", tiers.len(), Self::MAX_TIERS)?;
        check_at_most("free_windows", free_windows.len(), Self::MAX_FREE_WINDOWS)?;
        let mut tiers = tiers;
        tiers.sort_by(|a, b| {
            nominal_hours(&b.threshold)
                .cmp(&nominal_hours(&a.threshold))
                .then(a.threshold.cmp(&b.threshold))
        });
        if let Some(pair) = tiers.windows(2).find(|p| p[0].threshold == p[1].threshold) {
            return Err(Error::invalid(
                "tiers",
                format!("two tiers share the threshold {}", pair[0].threshold),
            ));
        }
        for penalty in tiers.iter().map(|t| &t.penalty).chain([&late_penalty]) {
            penalty.check("penalty")?;
        }
        one_currency(
            tiers
                .iter()
                .map(|t| &t.penalty)
                .chain([&late_penalty])
                .filter_map(Penalty::fixed_amount),
        )?;
        Ok(CancellationPolicy {
            free_windows,
            tiers,
            late_penalty,
        })
    }

    /// A policy that never refunds the refundable part.
    ///
    /// ```
    /// use reservo::policy::{CancellationPolicy, Penalty};
    /// assert_eq!(CancellationPolicy::non_refundable().late_penalty(), Penalty::FULL);
    /// ```
    pub fn non_refundable() -> CancellationPolicy {
        CancellationPolicy {
            free_windows: Vec::new(),
            tiers: Vec::new(),
            late_penalty: Penalty::FULL,
        }
    }

    /// The tiers, farthest threshold first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The free windows after booking.
    pub fn free_windows(&self) -> &[FreeCancellationWindow] {
        &self.free_windows
    }

    /// The penalty once every deadline has passed, and for no-shows.
    pub fn late_penalty(&self) -> Penalty {
        self.late_penalty
    }

    /// The currency of the policy's fixed penalties, if it has any.
    pub fn currency(&self) -> Option<Currency> {
        self.tiers
            .iter()
            .map(|t| &t.penalty)
            .chain([&self.late_penalty])
            .find_map(Penalty::fixed_amount)
            .map(Money::currency)
    }

    /// This policy for one of several parts of a booking that it judges
    /// together (items starting at different instants): each fixed penalty
    /// shared out among the parts in proportion to `weights` (largest
    /// remainder), and part `index`'s share kept, so the parts together
    /// keep the fixed amount once, not once each.
    pub(crate) fn with_fixed_share(
        &self,
        weights: &[rust_decimal::Decimal],
        index: usize,
    ) -> Result<CancellationPolicy> {
        let share = |penalty: Penalty| -> Result<Penalty> {
            match penalty {
                Penalty::Fixed { amount } => Ok(Penalty::Fixed {
                    amount: amount.allocate(weights)?[index],
                }),
                other => Ok(other),
            }
        };
        let mut policy = self.clone();
        for tier in &mut policy.tiers {
            tier.penalty = share(tier.penalty)?;
        }
        policy.late_penalty = share(policy.late_penalty)?;
        Ok(policy)
    }

    /// The tier that applies to a cancellation at `cancelled_at`, with its
    /// deadline, or `None` once every deadline has passed.
    pub fn tier_at(
        &self,
        start: &BookingStart,
        cancelled_at: DateTime<Utc>,
    ) -> Result<Option<(Tier, DateTime<Utc>)>> {
        let mut chosen: Option<(Tier, DateTime<Utc>)> = None;
        for tier in &self.tiers {
            let deadline = tier.threshold.deadline(start)?;
            let earlier = chosen.is_none_or(|(_, best)| deadline < best);
            if cancelled_at <= deadline && earlier {
                chosen = Some((*tier, deadline));
            }
        }
        Ok(chosen)
    }
}

/// A threshold's length in hours if days were 24 hours: only for the
/// canonical storage order, never for deadlines.
fn nominal_hours(threshold: &Threshold) -> u32 {
    match *threshold {
        Threshold::DaysBefore { days, .. } => u32::from(days) * 24,
        Threshold::HoursBefore { hours } => u32::from(hours),
    }
}

impl<'de> Deserialize<'de> for CancellationPolicy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            free_windows: Vec<FreeCancellationWindow>,
            #[serde(default)]
            tiers: Vec<Tier>,
            late_penalty: Penalty,
        }
        let raw = Raw::deserialize(d)?;
        CancellationPolicy::new(raw.tiers, raw.late_penalty, raw.free_windows)
            .map_err(serde::de::Error::custom)
    }
}
