//! Modification: a booking's items replaced by new ones, re-quoted, with
//! the inventory swapped in one commit.
//!
//! Owns pricing a modification ([`Engine::quote_modification`]: the new
//! total, the change fee and what moves through the gateway) and applying
//! it ([`Engine::modify`]): the old units released and the new ones booked
//! in ONE commit, or nothing changes. The change fee is the engine's
//! [`super::EngineBuilder::change_fee`] (or the one
//! [`super::EngineBuilder::change_fee_in`] sets for the booking's
//! currency) on the new items' total; it is added to the booking's total
//! and is non-refundable on cancellation.
//!
//! Money: a booking paid outside the engine (confirmed with
//! [`Engine::confirm`], no payments) moves none. A `confirmed` booking paid
//! through the engine ([`BookingMoney::through_gateway`](super::BookingMoney::through_gateway):
//! it has payments, or was confirmed free through
//! [`Engine::pay_and_confirm`]) is charged the difference
//! when its total grows (a payment attempt, as in
//! [`Engine::pay_and_confirm`]; the swap is applied only once approved,
//! and the charge is reversed if the new dates were sold meanwhile or the
//! booking changed since it was priced, even back to the same items) and
//! refunded it when it shrinks. A `pending_payment` booking's balance
//! absorbs the difference; it is refunded only what it paid beyond its new
//! total (and confirmed if that settles it, with `booking.confirmed` after
//! `booking.modified`, as a payment of the balance would). The cancellation policy and
//! commission plan stay those snapshotted at booking; the commission
//! ledger is re-split on the new total and recognized on the new start,
//! by appending a reversal of the old split and the new split, neither
//! counted before the modification's date, so the owner statement of a
//! closed period never changes (see [`crate::commission::BookingLedger::resplit`]).
//! Must never leave a booking holding both its old and new inventory, or
//! neither.

use serde::{Deserialize, Serialize};

use crate::booking::BookingStatus;
use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::money::Money;
use crate::time::local_date;

use super::Engine;
use super::attempt::{PaymentAttempt, Prior, Purpose};
use super::confirm::{Booking, write_indexes};
use super::events::booking_event;
use super::hold::{HeldItem, MAX_HOLD_ITEMS, booked_units};
use super::idempotency::{self, remember};
use super::keys;
use super::payment::{Payment, check_method};
use super::quote::QuoteRequest;
use super::refund::plan_refunds;
use super::terms::{resplit_commission, starts, taxes_of};
use super::txn::{Txn, retry_on_conflict};

/// A request to replace a booking's items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyRequest {
    /// The host's key for this command: a replay returns the same booking.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
    /// The new items (dates, party, resource), priced as a quote would be.
    pub items: Vec<QuoteRequest>,
    /// The payment method to charge if the total grows.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The new total the caller agreed to, as
    /// [`Engine::quote_modification`] reported it (`new_total`): if the
    /// change costs anything else when applied (rates, fees or the booking
    /// changed in between), it fails with `PRICE_CHANGED` and nothing
    /// changes. `None` applies it at whatever it costs then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total: Option<Money>,
}

/// The price of a modification, before it is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModificationQuote {
    /// The booking's total now.
    pub current_total: Money,
    /// Its total after the change, the change fee included.
    pub new_total: Money,
    /// The change fee.
    pub change_fee: Money,
    /// `new_total - current_total` (negative when it shrinks).
    pub difference: Money,
    /// What the gateway would be charged now.
    pub to_charge: Money,
    /// What would be refunded now.
    pub to_refund: Money,
}

/// A priced modification, kept on a payment attempt until it is approved.
/// Applying it fails if the booking changed since it was priced: other
/// items than `from`, other change fees than `new_total` was built on, or
/// other payments than make the charge exactly what is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Modification {
    booking: BookingId,
    /// The items it replaces.
    from: Vec<HeldItem>,
    items: Vec<HeldItem>,
    change_fee: Money,
    /// The new items' totals, the change fees before it and `change_fee`.
    new_total: Money,
}

impl Engine {
    /// Prices replacing `booking`'s items with `items`: checks them as a
    /// hold would (the booking's own units count as free, and so does its
    /// own use of a promo code its items carry: a code it did not carry
    /// counts one use when the modification is made) and reports the new
    /// total, change fee and money movement. Changes nothing.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT` (also for items at another
    /// property than the booking's, and for a nonzero new total below the
    /// flat fees of the booking's commission plan), `ILLEGAL_TRANSITION`
    /// (only `pending_payment` and `confirmed` bookings change), everything
    /// [`Engine::quote`] returns, `UNAVAILABLE`, `CURRENCY_MISMATCH` (also
    /// for a change fee with a flat amount in another currency than the
    /// booking's).
    pub async fn quote_modification(
        &self,
        booking: &BookingId,
        items: &[QuoteRequest],
    ) -> Result<ModificationQuote> {
        Ok(self.plan_modification(booking, items).await?.1)
    }

    /// Replaces a booking's items: re-quoted, the new inventory booked and
    /// the old released in one commit (`booking.modified`; then
    /// `booking.confirmed` if it settles a `pending_payment` booking), with
    /// the difference charged or refunded (see the module docs).
    ///
    /// Errors: those of [`Engine::quote_modification`], `INVALID_INPUT`
    /// (a charge is due and no payment method was given; a blank payment
    /// method or one over 500 characters, refused before anything else),
    /// `PRICE_CHANGED` (it no longer costs `expected_total`),
    /// `PROMO_NOT_APPLICABLE` (a code it adds was used up meanwhile),
    /// `PAYMENT_UNSUPPORTED`, `PAYMENT_DECLINED`, `PAYMENT_OUTCOME_UNKNOWN`,
    /// `IDEMPOTENCY_CONFLICT`. On any error the booking and its inventory
    /// are unchanged. A charge approved after the booking changed (other
    /// items, change fees or payments than it was priced on) is refunded
    /// in full, as one whose new dates were sold.
    pub async fn modify(&self, request: &ModifyRequest) -> Result<Booking> {
        idempotency::validate_key(&request.idempotency_key)?;
        if let Some(method) = &request.payment_method {
            check_method(method)?;
        }
        let fingerprint = idempotency::Fingerprint::of(request);
        let key = &request.idempotency_key;
        let prior = match self.prior_attempt(key, "modify", &fingerprint).await? {
            Some(prior) => prior,
            None => self.begin_modification(request, &fingerprint).await?,
        };
        self.resume(prior).await
    }

    /// The first run of `request`: applied at once if nothing is to be
    /// charged, otherwise a payment attempt started for the difference.
    async fn begin_modification(
        &self,
        request: &ModifyRequest,
        fingerprint: &idempotency::Fingerprint,
    ) -> Result<Prior> {
        let key = &request.idempotency_key;
        let (change, quote) = self
            .plan_modification(&request.booking, &request.items)
            .await?;
        if let Some(expected) = &request.expected_total
            && *expected != quote.new_total
        {
            return Err(Error::PriceChanged {
                subject: format!("the modification of {}", request.booking),
                expected: expected.to_string(),
                actual: quote.new_total.to_string(),
            });
        }
        if quote.to_charge.is_zero() {
            return self.modify_without_charge(key, fingerprint, &change).await;
        }
        let method = request.payment_method.as_deref().ok_or_else(|| {
            Error::invalid(
                "payment_method",
                format!("{} is due: give a payment method", quote.to_charge),
            )
        })?;
        self.gateway()?;
        let attempt = PaymentAttempt::new(
            key,
            "modify",
            fingerprint,
            Purpose::Modify {
                change: Box::new(change),
            },
            request.booking.as_str(),
            quote.to_charge,
            method,
            self.clock.now(),
        );
        self.start_attempt(attempt, fingerprint).await
    }

    /// Applies `change`, which moves no money in, with the command's
    /// record, then issues the refunds it planned. If another run under
    /// `key` got there first (the same request completed, or its payment
    /// attempt claimed the key), that run instead.
    async fn modify_without_charge(
        &self,
        key: &str,
        fingerprint: &idempotency::Fingerprint,
        change: &Modification,
    ) -> Result<Prior> {
        let earlier = retry_on_conflict(self.config.max_attempts, || async {
            if let Some(prior) = self.prior_attempt(key, "modify", fingerprint).await? {
                return Ok(Some(prior));
            }
            let mut txn = Txn::default();
            self.modify_into(&mut txn, change, None, key).await?;
            remember(
                &mut txn,
                &keys::idempotency(key),
                "modify",
                fingerprint,
                change.booking.as_str(),
            );
            self.commit(txn).await?;
            Ok(None)
        })
        .await?;
        if let Some(prior) = earlier {
            return Ok(prior);
        }
        let booking = self.booking(&change.booking).await?;
        if booking.money.has_pending_refunds() {
            match self.issue_refunds(&booking.id).await {
                Ok(()) | Err(Error::Port { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Prior::Done(booking.id))
    }

    async fn plan_modification(
        &self,
        id: &BookingId,
        requests: &[QuoteRequest],
    ) -> Result<(Modification, ModificationQuote)> {
        if requests.is_empty() || requests.len() > MAX_HOLD_ITEMS {
            return Err(Error::invalid(
                "items",
                format!(
                    "a booking takes 1-{MAX_HOLD_ITEMS} items, got {}",
                    requests.len()
                ),
            ));
        }
        let booking = self.booking(id).await?;
        check_modifiable(&booking)?;
        let view = self.catalog().await?;
        let now = self.clock.now();
        // The booking's own promo uses are free, as its units are.
        let redeemed = Engine::redeemed_codes(&booking.items);
        let (items, needs) = self.price_items(&view, now, requests, &redeemed).await?;
        let from = &view
            .resource(booking.items[0].resource())?
            .resource
            .property;
        let to = &view.resource(items[0].resource())?.resource.property;
        if from != to {
            return Err(Error::invalid(
                "items",
                format!(
                    "{} is at property {from}; a modification stays at that property \
                     (its owner and terms), got items at {to}",
                    booking.id
                ),
            ));
        }
        let currency = booking.total.currency();
        let mut items_total = Money::zero(currency);
        for item in &items {
            items_total = items_total.checked_add(&item.quote.total())?;
        }
        let change_fee = self
            .change_fees_by_currency
            .get(&currency)
            .unwrap_or(&self.change_fee)
            .fee(&items_total)?;
        let new_total = items_total
            .checked_add(&booking.money.change_fees(currency))?
            .checked_add(&change_fee)?;
        // The booking's commission plan must split the new total, as
        // `modify` will: a total its flat fees exceed is refused here too.
        booking
            .terms
            .commission_plan
            .split(new_total, taxes_of(&items, currency)?)?;
        // Availability, with the booking's own units counted as free.
        self.move_booked(
            &mut Txn::default(),
            &booked_units(&booking.items),
            &needs,
            now,
        )
        .await?;
        let (to_charge, to_refund) = money_moves(&booking, new_total)?;
        let quote = ModificationQuote {
            current_total: booking.total,
            new_total,
            change_fee,
            difference: new_total.checked_sub(&booking.total)?,
            to_charge,
            to_refund,
        };
        let change = Modification {
            booking: booking.id.clone(),
            from: booking.items,
            items,
            change_fee,
            new_total,
        };
        Ok((change, quote))
    }

    /// Writes into `txn` the modification `change` of its booking, with
    /// `payment` (the approved charge of the difference) if one was due.
    pub(crate) async fn modify_into(
        &self,
        txn: &mut Txn,
        change: &Modification,
        payment: Option<Payment>,
        key: &str,
    ) -> Result<Booking> {
        let (mut booking, record) = self.read_booking(&change.booking).await?;
        check_modifiable(&booking)?;
        check_unchanged(&booking, change, payment.as_ref())?;
        let view = self.catalog().await?;
        let now = self.clock.now();
        let requests: Vec<QuoteRequest> = change.items.iter().map(|i| i.request.clone()).collect();
        // Re-resolved for today's capacity and blocks; prices stay as quoted.
        // A promo code the booking did not carry counts one use.
        let redeemed = Engine::redeemed_codes(&booking.items);
        let (_, needs) = self.price_items(&view, now, &requests, &redeemed).await?;
        self.count_promo_uses(txn, &view, &change.items, &redeemed)
            .await?;
        self.move_booked(txn, &booked_units(&booking.items), &needs, now)
            .await?;
        for key in super::confirm::resource_month_keys(&booking) {
            txn.delete(key);
        }
        for item in &booking.items {
            for u in &item.uses {
                // Entries written before the month entries (ADR 021).
                txn.delete(keys::booking_by_resource_date(
                    item.resource(),
                    u.date,
                    &booking.id,
                ));
            }
        }
        let currency = booking.total.currency();
        booking.items = change.items.clone();
        booking.total = change.new_total;
        if !change.change_fee.is_zero() {
            let fees = booking
                .money
                .change_fees(currency)
                .checked_add(&change.change_fee)?;
            booking.money.change_fees = Some(fees);
        }
        booking.money.payments.extend(payment);
        (booking.terms.start, booking.terms.item_starts) = starts(&view, &booking.items)?;
        let owner = match &booking.money.commission {
            Some(ledger) => ledger.owner().clone(),
            None => {
                let resource = view.resource(booking.items[0].resource())?;
                view.property(&resource.resource.property)?.owner.clone()
            }
        };
        let taxes = taxes_of(&booking.items, currency)?;
        let on = local_date(now, booking.terms.start.time_zone());
        booking.money.commission = resplit_commission(
            &booking.terms,
            booking.money.commission.take(),
            &booking.id,
            &owner,
            (booking.total, taxes),
            on,
        )?;
        let (_, to_refund) = money_moves(&booking, booking.total)?;
        if !to_refund.is_zero() {
            let capabilities = self.gateway()?.capabilities();
            plan_refunds(txn, &mut booking, to_refund, key, capabilities, now)?;
        }
        let paid = booking.money.paid(currency);
        let settled = booking.status == BookingStatus::PendingPayment && paid >= booking.total;
        if settled {
            booking.enter(BookingStatus::Confirmed, now);
        }
        txn.expect_read(&record.key, Some(&record));
        txn.put_json(&record.key, &booking);
        write_indexes(txn, &booking);
        if booking.status == BookingStatus::Confirmed {
            self.reissue_tickets(txn, &view, &booking, now).await?;
        }
        let event = booking_event(&view, &booking);
        txn.event("booking.modified", &event);
        if settled {
            txn.event("booking.confirmed", &event);
        }
        Ok(booking)
    }
}

/// Checks that `booking` is still what `change` was priced on: the same
/// items, the same change fees (its `new_total` adds up on them), and
/// payments that make `payment` (none: nothing) exactly what is due. A
/// booking changed and changed back (A → B → A) has paid change fees
/// since, so the stale price is refused too.
fn check_unchanged(
    booking: &Booking,
    change: &Modification,
    payment: Option<&Payment>,
) -> Result<()> {
    let currency = booking.total.currency();
    let mut expected = booking
        .money
        .change_fees(currency)
        .checked_add(&change.change_fee)?;
    for item in &change.items {
        expected = expected.checked_add(&item.quote.total())?;
    }
    let charged = payment.map_or(Money::zero(currency), |p| p.amount);
    let (due, _) = money_moves(booking, change.new_total)?;
    if booking.items != change.from || expected != change.new_total || due != charged {
        return Err(Error::invalid(
            "booking",
            format!("{} changed since the modification was priced", booking.id),
        ));
    }
    Ok(())
}

fn check_modifiable(booking: &Booking) -> Result<()> {
    match booking.status {
        BookingStatus::PendingPayment | BookingStatus::Confirmed => Ok(()),
        other => Err(Error::IllegalTransition {
            booking: booking.id.to_string(),
            from: other.as_str().to_owned(),
            to: "modified".to_owned(),
        }),
    }
}

/// What to charge and refund for `booking` to reach `new_total`.
fn money_moves(booking: &Booking, new_total: Money) -> Result<(Money, Money)> {
    let zero = Money::zero(new_total.currency());
    if !booking.money.through_gateway() {
        return Ok((zero, zero));
    }
    let paid = booking.money.paid(new_total.currency());
    let gap = new_total.checked_sub(&paid)?;
    Ok(if gap.is_negative() {
        (zero, gap.negated())
    } else if booking.status == BookingStatus::Confirmed {
        (gap, zero)
    } else {
        (zero, zero)
    })
}
