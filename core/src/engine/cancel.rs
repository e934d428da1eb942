//! Cancellation and no-shows: the snapshotted policy applied, inventory
//! released, money refunded and commissions clawed back.
//!
//! Owns the one commit that ends a booking as `cancelled` or `no_show`:
//! the status change, the release of its booked units, the refunds planned
//! over its payments (see [`super::refund`]), the clawback in its
//! commission ledger, the idempotency record and the event; the refunds
//! are then issued through the gateway. Also owns [`Engine::refund_quote`],
//! which answers "what comes back if cancelled at T" and changes nothing.
//!
//! The commission ledger after a cancellation holds exactly what the guest
//! keeps paid: the refund is clawed back pro rata from every party, and so
//! is any balance that was never collected (a deposit-only booking), both
//! dated on the cancellation's civil date. Must never refund more than was
//! paid through the engine, and never use a policy other than the one
//! snapshotted on the booking.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::booking::BookingStatus;
use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::money::Money;
use crate::policy::{
    BookingStart, CancellationEvent, CancellationPolicy, Penalty, RefundPart, RefundQuote,
};
use crate::time::local_date;

use super::Engine;
use super::confirm::Booking;
use super::events::booking_event;
use super::hold::{ItemNeeds, booked_units};
use super::idempotency::{self, remember};
use super::keys;
use super::refund::plan_refunds;
use super::terms::booking_facts;
use super::txn::{Txn, retry_on_conflict};

/// A request to cancel a booking now (the engine's clock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    /// The host's key for this command: a replay returns the same booking.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
    /// Why, for people: the `reason` of the `booking.cancelled` event (`null`
    /// without one; the event's `refund.reason` is the policy's own
    /// explanation of the refund).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A request to record that the guest did not show up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoShowRequest {
    /// The host's key for this command.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
}

impl Engine {
    /// What comes back if `booking` is cancelled at `at`, by its
    /// snapshotted policy, out of what was paid through the engine.
    /// Changes nothing.
    ///
    /// Errors: `NOT_FOUND`, `ILLEGAL_TRANSITION` (the booking cannot be
    /// cancelled), `INVALID_INPUT` (`at` before the booking was made).
    pub async fn refund_quote(
        &self,
        booking: &BookingId,
        at: DateTime<Utc>,
    ) -> Result<RefundQuote> {
        let booking = self.booking(booking).await?;
        booking
            .status
            .transition(booking.id.as_str(), BookingStatus::Cancelled)?;
        quote_for(&booking, CancellationEvent::Cancelled { at })
    }

    /// Cancels a booking at the clock's now: its policy decides the
    /// refund, spread over its payments most recent first; its inventory
    /// is released and its commissions clawed back, in one commit with
    /// `booking.cancelled`. Refunds are then issued (`refund.issued`); one
    /// whose outcome is unknown stays pending on the booking for
    /// [`Engine::reconcile_payments`] and a replay of the command.
    ///
    /// Errors: `INVALID_INPUT`, `NOT_FOUND`, `ILLEGAL_TRANSITION` (already
    /// cancelled, checked in, ...), `PAYMENT_UNSUPPORTED` (a partial
    /// refund the gateway cannot make; nothing changes),
    /// `IDEMPOTENCY_CONFLICT`.
    pub async fn cancel(&self, request: &CancelRequest) -> Result<Booking> {
        let fingerprint = idempotency::Fingerprint::of(request);
        self.end_booking(
            &request.idempotency_key,
            "cancel",
            &fingerprint,
            &request.booking,
            BookingStatus::Cancelled,
            request.reason.as_deref(),
        )
        .await
    }

    /// Records a no-show: judged by the policy as a late cancellation (its
    /// late penalty), otherwise like [`Engine::cancel`], with
    /// `booking.no_show`. Only a `confirmed` booking can be a no-show, and
    /// only once it has started (`INVALID_INPUT` before).
    pub async fn mark_no_show(&self, request: &NoShowRequest) -> Result<Booking> {
        let fingerprint = idempotency::Fingerprint::of(request);
        self.end_booking(
            &request.idempotency_key,
            "no_show",
            &fingerprint,
            &request.booking,
            BookingStatus::NoShow,
            None,
        )
        .await
    }

    async fn end_booking(
        &self,
        key: &str,
        command: &str,
        fingerprint: &idempotency::Fingerprint,
        id: &BookingId,
        to: BookingStatus,
        reason: Option<&str>,
    ) -> Result<Booking> {
        idempotency::validate_key(key)?;
        retry_on_conflict(self.config.max_attempts, || async {
            if self.replay_of(key, command, fingerprint).await?.is_some() {
                return Ok(());
            }
            let (mut booking, record) = self.read_booking(id).await?;
            let now = self.clock.now();
            let status = booking.status.transition(id.as_str(), to)?;
            if to == BookingStatus::NoShow {
                ensure_started(&booking, now)?;
            }
            let event = match to {
                BookingStatus::NoShow => CancellationEvent::NoShow,
                _ => CancellationEvent::Cancelled { at: now },
            };
            let quote = quote_for(&booking, event)?;
            let currency = booking.total.currency();
            let paid = booking.money.paid(currency);
            let mut txn = Txn::default();
            self.move_booked(
                &mut txn,
                &booked_units(&booking.items),
                &ItemNeeds::new(),
                now,
            )
            .await?;
            let refund = quote.refund();
            if !refund.is_zero() {
                let capabilities = self.gateway()?.capabilities();
                plan_refunds(&mut txn, &mut booking, refund, key, capabilities, now)?;
            }
            if let Some(ledger) = &mut booking.money.commission {
                let on = local_date(now, booking.terms.start.time_zone());
                let uncollected = booking.total.checked_sub(&paid)?;
                for clawback in [refund, uncollected] {
                    if clawback.amount().is_sign_positive() && !clawback.is_zero() {
                        ledger.refund(clawback, on)?;
                    }
                }
            }
            booking.enter(status, now);
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &booking);
            remember(
                &mut txn,
                &keys::idempotency(key),
                command,
                fingerprint,
                id.as_str(),
            );
            let view = self.catalog().await?;
            let mut payload =
                serde_json::to_value(booking_event(&view, &booking)).expect("events serialize");
            payload["refund"] = serde_json::json!({
                "amount": refund.padded_amount().to_string(),
                "currency": currency.code(),
                "reason": quote.reason(),
            });
            if to == BookingStatus::Cancelled {
                payload["reason"] = serde_json::json!(reason);
            }
            txn.event(&format!("booking.{}", status.as_str()), &payload);
            self.revoke_tickets(&mut txn, &booking, now).await?;
            self.commit(txn).await?;
            Ok(())
        })
        .await?;
        let booking = self.booking(id).await?;
        if booking.money.has_pending_refunds() {
            match self.issue_refunds(id).await {
                Ok(()) | Err(Error::Port { .. }) => {}
                Err(e) => return Err(e),
            }
            return self.booking(id).await;
        }
        Ok(booking)
    }
}

/// `Ok` once the booking's first item has started: a guest can fail to
/// show up only then. Else `INVALID_INPUT`.
fn ensure_started(booking: &Booking, now: DateTime<Utc>) -> Result<()> {
    let first = booking.terms.first_start();
    if now < first {
        return Err(Error::invalid(
            "booking",
            format!(
                "{} starts at {first}: a no-show is recorded only after the start",
                booking.id
            ),
        ));
    }
    Ok(())
}

/// The quote for `event` on `booking`: by its snapshotted policy, or,
/// when its items have different policies, each group of items by its own
/// on its share of the price (in proportion to the items' totals) and of
/// the payments and change fees (in proportion to those price shares),
/// combined.
fn quote_for(booking: &Booking, event: CancellationEvent) -> Result<RefundQuote> {
    let currency = booking.total.currency();
    let paid = booking.money.paid(currency);
    let change_fees = booking.money.change_fees(currency);
    let groups = policy_groups(booking);
    if let [(policy, start, _)] = groups.as_slice() {
        let facts = booking_facts(
            *start,
            booking.created_at,
            &booking.items,
            booking.total,
            paid,
            change_fees,
        )?;
        return policy.quote(&facts, event);
    }
    let weights: Vec<Decimal> = groups
        .iter()
        .map(|(_, _, items)| {
            items
                .iter()
                .map(|i| booking.items[*i].quote.total().amount())
                .sum()
        })
        .collect();
    let shares = Shares::of(booking.total, paid, change_fees, weights)?;
    let mut facts = Vec::with_capacity(groups.len());
    let mut penalties = Vec::with_capacity(groups.len());
    for (index, (policy, start, items)) in groups.iter().enumerate() {
        let group = booking_facts(
            *start,
            booking.created_at,
            items.iter().map(|i| &booking.items[*i]),
            shares.prices[index],
            shares.paid[index],
            shares.fees[index],
        )?;
        penalties.push(policy.rule_for(&group, event)?.penalty());
        facts.push(group);
    }
    let mut parts = Vec::with_capacity(groups.len());
    for (index, (policy, _, items)) in groups.iter().enumerate() {
        // Groups of one policy (items starting at different instants) that
        // owe the same fixed penalty share it by their price shares: one
        // booking, one fee. A group still in a free or cheaper period of
        // the policy takes no part of it.
        let penalty = penalties[index];
        let sharing: Vec<usize> = (0..groups.len())
            .filter(|j| groups[*j].0 == *policy && penalties[*j] == penalty)
            .collect();
        let quote = if matches!(penalty, Penalty::Fixed { .. }) && sharing.len() > 1 {
            let mut weights: Vec<Decimal> =
                sharing.iter().map(|j| shares.prices[*j].amount()).collect();
            if weights.iter().all(Decimal::is_zero) {
                weights.fill(Decimal::ONE);
            }
            let position = sharing
                .iter()
                .position(|j| *j == index)
                .expect("a group shares its own penalty");
            policy
                .with_fixed_share(&weights, position)?
                .quote(&facts[index], event)?
        } else {
            policy.quote(&facts[index], event)?
        };
        parts.push(RefundPart::new(items.clone(), quote));
    }
    RefundQuote::combine(parts)
}

/// A booking's price, payments and change fees shared among groups of its
/// items, each list summing exactly to its amount.
#[derive(Debug)]
struct Shares {
    prices: Vec<Money>,
    paid: Vec<Money>,
    fees: Vec<Money>,
}

impl Shares {
    /// The price shared in proportion to `weights` (the groups' totals;
    /// equally if they are all zero), then what was paid and the change
    /// fees in proportion to those price shares, so no group is given
    /// more paid or non-refundable than its price: each share is at most
    /// its exact value rounded up, which is at most the price share.
    fn of(price: Money, paid: Money, fees: Money, mut weights: Vec<Decimal>) -> Result<Shares> {
        if weights.iter().all(Decimal::is_zero) {
            weights.fill(Decimal::ONE);
        }
        let prices = price.allocate(&weights)?;
        let by_price: Vec<Decimal> = prices.iter().map(Money::amount).collect();
        if by_price.iter().any(|p| !p.is_zero()) {
            weights = by_price;
        }
        Ok(Shares {
            paid: paid.allocate(&weights)?,
            fees: fees.allocate(&weights)?,
            prices,
        })
    }
}

/// The booking's items grouped by the policy that judges them and the
/// instant they start (each group is judged from its own start): the
/// booking's own policy and start first, then the others in the order
/// their first item appears.
fn policy_groups(booking: &Booking) -> Vec<(&CancellationPolicy, BookingStart, Vec<usize>)> {
    let terms = &booking.terms;
    let mut groups = vec![(&terms.cancellation_policy, terms.start, Vec::new())];
    for (index, item) in booking.items.iter().enumerate() {
        let policy = terms.policy_for(item.quote.rate_plan());
        let start = terms.start_of(index);
        match groups
            .iter_mut()
            .find(|(p, s, _)| *p == policy && *s == start)
        {
            Some((_, _, items)) => items.push(index),
            None => groups.push((policy, start, vec![index])),
        }
    }
    groups.retain(|(_, _, items)| !items.is_empty());
    groups
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::Shares;
    use crate::money::Money;

    fn eur(minor: i64) -> Money {
        Money::new(
            Decimal::new(minor, 2),
            crate::money::Currency::from_code("EUR").unwrap(),
        )
    }

    /// Shared by the groups' totals, 0.88 paid of 0.89 would give the
    /// first group 0.08 paid of a 0.07 price.
    #[test]
    fn a_share_of_what_was_paid_never_exceeds_the_price_share() {
        let weights = [6, 42, 24].map(|t| Decimal::new(t, 2)).to_vec();
        let shares = Shares::of(eur(89), eur(88), eur(17), weights).unwrap();
        assert_eq!(shares.prices, [eur(7), eur(52), eur(30)]);
        assert_eq!(shares.paid, [eur(7), eur(51), eur(30)]);
    }

    proptest! {
        /// Every share list sums to its amount, and no group is given more
        /// paid or non-refundable than its price share.
        #[test]
        fn shares_sum_exactly_and_never_exceed_the_price(
            totals in prop_oneof![
                prop::collection::vec(0i64..60, 2..5),
                prop::collection::vec(0i64..100_000, 2..5),
            ],
            fees in prop_oneof![0i64..30, 0i64..10_000],
            unpaid in prop_oneof![0i64..50, 0i64..1_000_000],
        ) {
            let price = totals.iter().sum::<i64>() + fees;
            let paid = (price - unpaid).max(0);
            let weights = totals.iter().map(|t| Decimal::new(*t, 2)).collect();
            let shares = Shares::of(eur(price), eur(paid), eur(fees), weights).unwrap();
            let sum = |list: &[Money]| list.iter().map(Money::amount).sum::<Decimal>();
            prop_assert_eq!(sum(&shares.prices), eur(price).amount());
            prop_assert_eq!(sum(&shares.paid), eur(paid).amount());
            prop_assert_eq!(sum(&shares.fees), eur(fees).amount());
            for ((p, paid), fee) in shares.prices.iter().zip(&shares.paid).zip(&shares.fees) {
                prop_assert!(paid <= p && fee <= p, "{:?}", shares);
            }
        }
    }
}
