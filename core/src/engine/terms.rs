//! Booking terms: the cancellation policy and commission plan a booking
//! carries from its creation, and who sold it.
//!
//! Owns the catalog records behind the terms (a [`CancellationPolicy`] per
//! rate plan, a [`CommissionPlan`] per property with its channel and
//! broker terms), the defaults when none is set, and the snapshot taken in
//! the confirmation commit: [`BookingTerms`] and the booking's commission
//! [`BookingLedger`]. Must never read the catalog again for a booking that
//! exists: cancellation, refunds and statements use the snapshot, so a
//! later catalog change never rewrites an agreed deal.
//!
//! Defaults, chosen to be safe for money:
//!
//! * a rate plan without a cancellation policy is **non-refundable**
//!   ([`CancellationPolicy::non_refundable`]): the engine never promises a
//!   refund nobody configured;
//! * a property without a commission plan pays everything to its owner,
//!   who also remits the taxes (no platform fee, no commissions).
//!
//! Which terms apply to a booking of several items (all at one property,
//! see [`super::hold`]): the property's commission plan, and for each item
//! the cancellation policy of its own rate plan. The booking's
//! [`BookingTerms::cancellation_policy`] is the first item's; the others
//! that differ from it are kept by rate plan in
//! [`BookingTerms::rate_plan_policies`]. Each item is judged from its own
//! start ([`BookingTerms::item_starts`], kept when the items do not all
//! start together; a modification recomputes them), and a cancellation
//! quotes each group of items of one policy and one start by that policy
//! on its share of the price and payments
//! ([`crate::policy::RefundQuote::combine`]). An item a modification moves
//! to a rate plan the booking did not have is judged by the booking's
//! policy: modifications keep the terms agreed at booking.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::commission::{BookingLedger, CommissionPlan, FeeRate, Split, TaxRemitter};
use crate::error::{Error, Result};
use crate::ids::{BookingId, PropertyId, RatePlanId, validate_id};
use crate::money::Money;
use crate::policy::{BookingFacts, BookingStart, CancellationPolicy};

use super::Engine;
use super::catalog_cache::CatalogView;
use super::hold::HeldItem;
use super::item::Span;
use super::keys;
use super::txn::{Txn, retry_on_conflict};

/// Who sold a booking: the channel it came through and the broker who
/// placed it, each named by the id its terms have in the property's
/// commission plan. Both absent for a direct booking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attribution {
    /// The sales channel (an OTA, a marketplace), if any.
    #[serde(default)]
    pub channel: Option<String>,
    /// The broker or agent, if any.
    #[serde(default)]
    pub broker: Option<String>,
    /// The broker's mobile number (E.164) for booking alerts by SMS.
    #[serde(default)]
    pub broker_phone: Option<String>,
}

impl Attribution {
    /// A direct booking: no channel, no broker.
    pub fn direct() -> Attribution {
        Attribution::default()
    }

    fn validate(&self) -> Result<()> {
        for (field, id) in [("channel", &self.channel), ("broker", &self.broker)] {
            if let Some(id) = id {
                validate_id(field, id)?;
            }
        }
        if let Some(phone) = &self.broker_phone {
            crate::booking::validate_e164(phone)?;
        }
        Ok(())
    }
}

/// What a booking agreed to when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingTerms {
    /// Who sold it.
    pub attribution: Attribution,
    /// When it starts: the first item's check-in (at the property's
    /// check-in time) or session start, in the property's time zone.
    pub start: BookingStart,
    /// The cancellation policy in force when it was booked, of its first
    /// item's rate plan: the policy of every item whose rate plan is not
    /// in `rate_plan_policies`.
    pub cancellation_policy: CancellationPolicy,
    /// The commission terms that apply to it: the platform fee and the
    /// terms of its own channel and broker only.
    pub commission_plan: CommissionPlan,
    /// The policies in force when it was booked of its items' other rate
    /// plans, where they differ from `cancellation_policy`; empty when
    /// every item has that policy (always, for bookings stored before
    /// items were judged by their own policy).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rate_plan_policies: BTreeMap<RatePlanId, CancellationPolicy>,
    /// When each item starts, in item order, if some item starts at
    /// another instant than `start` (a second room checking in days later,
    /// a class series' later sessions); empty when every item starts at
    /// `start` (always, for bookings stored before items were judged from
    /// their own start). A cancellation judges each item from its own
    /// start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub item_starts: Vec<BookingStart>,
}

impl BookingTerms {
    /// The cancellation policy that judges items of `rate_plan`.
    pub fn policy_for(&self, rate_plan: &RatePlanId) -> &CancellationPolicy {
        self.rate_plan_policies
            .get(rate_plan)
            .unwrap_or(&self.cancellation_policy)
    }

    /// When the item at `index` (in the booking's item order) starts.
    pub fn start_of(&self, index: usize) -> BookingStart {
        self.item_starts.get(index).copied().unwrap_or(self.start)
    }

    /// When the booking's earliest item starts.
    pub fn first_start(&self) -> DateTime<Utc> {
        self.item_starts
            .iter()
            .map(BookingStart::instant)
            .chain([self.start.instant()])
            .min()
            .expect("a booking has a start")
    }
}

impl Engine {
    /// Sets the cancellation policy of a rate plan. Bookings made from now
    /// on snapshot it; existing bookings keep theirs. A plan without one is
    /// non-refundable (see the module docs).
    ///
    /// Errors: `NOT_FOUND` for an unknown rate plan, `CURRENCY_MISMATCH`
    /// for fixed penalties in another currency than the plan's.
    pub async fn set_cancellation_policy(
        &self,
        rate_plan: &RatePlanId,
        policy: CancellationPolicy,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            let plan = view.rate_plan(rate_plan)?;
            if let Some(c) = policy.currency().filter(|c| *c != plan.currency()) {
                return Err(Error::CurrencyMismatch {
                    left: plan.currency().code().to_owned(),
                    right: c.code().to_owned(),
                });
            }
            let mut txn = Txn::default();
            txn.put_json(keys::cancellation_policy(rate_plan), &(rate_plan, &policy));
            self.commit_catalog_change(&view, txn, "cancellation_policy", rate_plan.as_str(), "put")
                .await
        })
        .await
    }

    /// Sets the commission plan of a property: the platform fee, and the
    /// terms of every channel and broker that may sell it. A booking pays
    /// the platform fee and the commissions of its own channel and broker
    /// (see [`Attribution`]). Bookings made from now on snapshot it.
    ///
    /// Errors: `NOT_FOUND` for an unknown property, `CURRENCY_MISMATCH`
    /// for flat fees in another currency than the property's.
    pub async fn set_commission_plan(
        &self,
        property: &PropertyId,
        plan: CommissionPlan,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let view = self.catalog().await?;
            let currency = view.property(property)?.currency;
            if let Some(c) = plan.currency().filter(|c| *c != currency) {
                return Err(Error::CurrencyMismatch {
                    left: currency.code().to_owned(),
                    right: c.code().to_owned(),
                });
            }
            let mut txn = Txn::default();
            txn.put_json(keys::commission_plan(property), &(property, &plan));
            self.commit_catalog_change(&view, txn, "commission_plan", property.as_str(), "put")
                .await
        })
        .await
    }
}

/// The terms of a booking of `items` sold through `attribution`.
///
/// Errors: `INVALID_INPUT` for a malformed id, or a channel or broker the
/// property's commission plan has no terms for.
pub(crate) fn booking_terms(
    view: &CatalogView,
    items: &[HeldItem],
    attribution: &Attribution,
) -> Result<BookingTerms> {
    attribution.validate()?;
    let first = &items[0];
    let (start, item_starts) = starts(view, items)?;
    let property = view.property(&view.resource(first.resource())?.resource.property)?;
    let policy_of = |plan: &RatePlanId| {
        view.cancellation_policies
            .get(plan)
            .cloned()
            .unwrap_or_else(CancellationPolicy::non_refundable)
    };
    let cancellation_policy = policy_of(first.quote.rate_plan());
    let mut rate_plan_policies = BTreeMap::new();
    for item in &items[1..] {
        let plan = item.quote.rate_plan();
        if plan != first.quote.rate_plan() && !rate_plan_policies.contains_key(plan) {
            let policy = policy_of(plan);
            if policy != cancellation_policy {
                rate_plan_policies.insert(plan.clone(), policy);
            }
        }
    }
    let property_plan = view.commission_plans.get(&property.id);
    let commission_plan = attributed_plan(property_plan, attribution, &property.id)?;
    Ok(BookingTerms {
        attribution: attribution.clone(),
        start,
        cancellation_policy,
        commission_plan,
        rate_plan_policies,
        item_starts,
    })
}

/// When a booking of `items` starts (its first item's start), and when
/// each item starts as [`BookingTerms::item_starts`] keeps it: empty if
/// they all start then.
pub(crate) fn starts(
    view: &CatalogView,
    items: &[HeldItem],
) -> Result<(BookingStart, Vec<BookingStart>)> {
    let each = items
        .iter()
        .map(|item| item_start(view, item))
        .collect::<Result<Vec<_>>>()?;
    let start = each[0];
    if each.iter().all(|s| *s == start) {
        return Ok((start, Vec::new()));
    }
    Ok((start, each))
}

/// When `item` starts: its check-in at the property's check-in time, or
/// its session's start, in the property's time zone.
fn item_start(view: &CatalogView, item: &HeldItem) -> Result<BookingStart> {
    let entry = view.resource(item.resource())?;
    let property = view.property(&entry.resource.property)?;
    Ok(match &item.request.item.span {
        Span::Stay(stay) => {
            BookingStart::for_stay(stay, property.time_zone, property.check_in_time)?
        }
        Span::Session { start } => BookingStart::at_instant(*start, property.time_zone),
    })
}

/// The property's plan narrowed to the booking's own channel and broker.
fn attributed_plan(
    plan: Option<&CommissionPlan>,
    attribution: &Attribution,
    property: &PropertyId,
) -> Result<CommissionPlan> {
    let wanted = [
        (
            crate::commission::IntermediaryRole::Channel,
            &attribution.channel,
        ),
        (
            crate::commission::IntermediaryRole::Broker,
            &attribution.broker,
        ),
    ];
    let mut terms = Vec::new();
    for (role, id) in wanted {
        let Some(id) = id else { continue };
        let found = plan.and_then(|p| {
            p.intermediaries()
                .iter()
                .find(|t| t.intermediary.role() == role && t.intermediary.id() == id)
        });
        match found {
            Some(t) => terms.push(t.clone()),
            None => {
                return Err(Error::invalid(
                    "attribution",
                    format!("{id:?} has no {role:?} terms in the commission plan of {property}"),
                ));
            }
        }
    }
    let Some(plan) = plan else {
        return CommissionPlan::new(FeeRate::none(), terms, TaxRemitter::Owner);
    };
    // Taxes stay with an intermediary only if it sold this booking.
    let remitter = match plan.tax_remitter() {
        TaxRemitter::Intermediary(who) if !terms.iter().any(|t| &t.intermediary == who) => {
            TaxRemitter::Owner
        }
        other => other.clone(),
    };
    CommissionPlan::new(plan.platform_fee(), terms, remitter)
}

/// The commission ledger of a booking grossing `gross`, of which `taxes`
/// are taxes, recognized on its start date; `None` for a free booking.
pub(crate) fn commission_ledger(
    terms: &BookingTerms,
    booking: &BookingId,
    owner: &crate::ids::OwnerId,
    gross: Money,
    taxes: Money,
) -> Result<Option<BookingLedger>> {
    if gross.is_zero() {
        return Ok(None);
    }
    let split: Split = terms.commission_plan.split(gross, taxes)?;
    BookingLedger::new(booking.clone(), owner.clone(), recognized_on(terms), split).map(Some)
}

/// `ledger` (the commission ledger of `booking`, if it had one) after a
/// modification on `on` (a civil date at the property) to a gross of
/// `gross`, of which `taxes` are taxes: re-split
/// ([`BookingLedger::resplit`]), so that no statement of a date before `on`
/// changes; a booking that was free gets a ledger recognized no earlier
/// than `on`. `None` if it was free and still is.
pub(crate) fn resplit_commission(
    terms: &BookingTerms,
    ledger: Option<BookingLedger>,
    booking: &BookingId,
    owner: &crate::ids::OwnerId,
    (gross, taxes): (Money, Money),
    on: NaiveDate,
) -> Result<Option<BookingLedger>> {
    let recognized = recognized_on(terms);
    match ledger {
        Some(mut ledger) => {
            let split = terms.commission_plan.split(gross, taxes)?;
            ledger.resplit(split, on, recognized)?;
            Ok(Some(ledger))
        }
        None if gross.is_zero() => Ok(None),
        None => {
            let split = terms.commission_plan.split(gross, taxes)?;
            BookingLedger::new(booking.clone(), owner.clone(), on.max(recognized), split).map(Some)
        }
    }
}

/// The date a booking counts on in owner statements: its start's civil
/// date (statements by stay).
pub(crate) fn recognized_on(terms: &BookingTerms) -> NaiveDate {
    terms.start.local_date()
}

/// The taxes inside the items' totals, exclusive and inclusive.
pub(crate) fn taxes_of(items: &[HeldItem], currency: crate::money::Currency) -> Result<Money> {
    let mut taxes = Money::zero(currency);
    for item in items {
        taxes = taxes
            .checked_add(&item.quote.taxes())?
            .checked_add(&item.quote.included_taxes())?;
    }
    Ok(taxes)
}

/// What a cancellation policy reads of a booking. `paid` is what the
/// guest paid through the engine, net of refunds.
///
/// Non-refundable: `change_fees` (what modifications charged) plus every
/// non-refundable fee line ([`crate::pricing::Fee::refundable`]) of the
/// items' quotes and the exclusive taxes charged on those lines
/// ([`crate::pricing::Quote::non_refundable`]), as snapshotted on the
/// booking, so a later change to the rate plan never changes what a
/// booking keeps; capped at `price`.
///
/// Night amounts, for first-nights penalties
/// ([`crate::policy::Penalty::FirstNights`]): what each stay item's quote
/// says each of its nights costs ([`crate::pricing::Quote::nights`]), and
/// for a session item its whole accommodation as one night on the
/// session's local date (in `start`'s time zone: every item is at one
/// property), as pricing counts a slot as one night; summed per date
/// across items, in date order. A stay quote stored before quotes carried
/// nights has its accommodation (its lines other than fees and taxes)
/// spread evenly over its nights instead.
pub(crate) fn booking_facts<'i>(
    start: BookingStart,
    booked_at: chrono::DateTime<chrono::Utc>,
    items: impl IntoIterator<Item = &'i HeldItem>,
    price: Money,
    paid: Money,
    change_fees: Money,
) -> Result<BookingFacts> {
    let currency = price.currency();
    let mut non_refundable = change_fees;
    let mut nights: std::collections::BTreeMap<NaiveDate, Money> = Default::default();
    for item in items {
        non_refundable = non_refundable.checked_add(&item.quote.non_refundable())?;
        let accommodation = item.quote.accommodation();
        if accommodation.is_negative() || accommodation.is_zero() {
            continue;
        }
        let (dates, amounts): (Vec<NaiveDate>, Vec<Money>) = match &item.request.item.span {
            Span::Stay(stay) => {
                let night_count = stay.night_dates().count();
                let amounts = if item.quote.nights().len() == night_count {
                    item.quote.nights().to_vec()
                } else {
                    accommodation.allocate(&vec![Decimal::ONE; night_count])?
                };
                (stay.night_dates().collect(), amounts)
            }
            Span::Session { start: at } => {
                let date = crate::time::local_date(*at, start.time_zone());
                (vec![date], vec![accommodation])
            }
        };
        for (night, amount) in dates.into_iter().zip(amounts) {
            let sum = nights.entry(night).or_insert(Money::zero(currency));
            *sum = sum.checked_add(&amount)?;
        }
    }
    BookingFacts::new(
        booked_at,
        start,
        price,
        paid,
        non_refundable.checked_min(&price)?,
        nights.into_values().collect(),
    )
}
