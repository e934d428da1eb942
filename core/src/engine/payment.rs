//! Paying for bookings: a hold paid and confirmed in full or by deposit,
//! and the balance paid later.
//!
//! Owns [`PayRequest`], [`PayBalanceRequest`], the money a booking carries
//! ([`BookingMoney`]: payments, refunds, commission ledger, change fees)
//! and the commands that start a payment attempt. How a payment maps to
//! statuses:
//!
//! * paid in full → `confirmed` (event `booking.confirmed`);
//! * a deposit → `pending_payment` (event `booking.pending_payment`): the
//!   inventory is booked, the balance is due; [`Engine::pay_balance`] pays
//!   exactly the balance and moves the booking to `confirmed`.
//!
//! A declined payment creates no booking and leaves the hold active until
//! its TTL, so the guest can retry with another card under a new
//! idempotency key. Must never call the gateway without a recorded attempt
//! (see [`super::attempt`]), and never create a booking for money that was
//! not approved.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::{BookingStatus, Customer, Metadata};
use crate::commission::BookingLedger;
use crate::error::{Error, Result};
use crate::ids::{BookingId, HoldId};
use crate::money::{Currency, Money};
use crate::ports::PaymentGateway;

use super::Engine;
use super::attempt::{PaymentAttempt, Purpose};
use super::confirm::{Booking, ConfirmRequest, booking_customer};
use super::events::booking_event;
use super::hold::Hold;
use super::idempotency;
use super::refund::{Refund, RefundState};
use super::terms::{Attribution, booking_terms, commission_ledger, taxes_of};
use super::txn::{Txn, retry_on_conflict};

/// One payment the engine took for a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The idempotency key the gateway saw for it.
    pub key: String,
    /// The gateway's id of the captured payment (what refunds name).
    pub gateway_id: String,
    /// What was captured.
    pub amount: Money,
    /// What has been refunded from it or is being refunded.
    pub refunded: Money,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

impl Payment {
    /// What can still be refunded from it.
    pub fn refundable(&self) -> Money {
        Money::new(
            self.amount.amount() - self.refunded.amount(),
            self.amount.currency(),
        )
    }
}

/// The money side of a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingMoney {
    /// The split between platform, channel, broker, taxes and owner, with
    /// every clawback since; `None` for a booking of zero value.
    pub commission: Option<BookingLedger>,
    /// Payments taken through the engine's gateway, oldest first.
    pub payments: Vec<Payment>,
    /// Refunds issued or pending, oldest first.
    pub refunds: Vec<Refund>,
    /// Change fees charged by modifications (non-refundable), if any.
    pub change_fees: Option<Money>,
    /// Set when a free hold is confirmed through
    /// [`Engine::pay_and_confirm`]: the booking has no payment yet, but is
    /// paid through the gateway (see [`BookingMoney::through_gateway`]).
    /// Absent from the records of every other booking.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    free_through_gateway: bool,
}

impl BookingMoney {
    /// The money of a new booking: `payment` if the engine took one;
    /// `through_gateway` if it was confirmed through
    /// [`Engine::pay_and_confirm`] (with a payment, or free without one).
    pub(crate) fn new(
        commission: Option<BookingLedger>,
        payment: Option<Payment>,
        through_gateway: bool,
    ) -> Self {
        BookingMoney {
            commission,
            free_through_gateway: through_gateway && payment.is_none(),
            payments: payment.into_iter().collect(),
            refunds: Vec::new(),
            change_fees: None,
        }
    }

    /// Whether the booking is paid through the engine's gateway: it has
    /// payments, or it was confirmed free through
    /// [`Engine::pay_and_confirm`]. A modification that makes such a
    /// booking cost more charges the difference; one confirmed with
    /// [`Engine::confirm`] (paid outside Reservo) moves no money.
    pub fn through_gateway(&self) -> bool {
        self.free_through_gateway || !self.payments.is_empty()
    }

    /// What the guest has paid through the engine, net of refunds.
    pub fn paid(&self, currency: Currency) -> Money {
        let net = self.payments.iter().map(|p| p.refundable().amount()).sum();
        Money::new(net, currency)
    }

    /// The change fees charged so far (zero if none).
    pub fn change_fees(&self, currency: Currency) -> Money {
        self.change_fees.unwrap_or(Money::zero(currency))
    }

    /// Whether a refund is waiting for the gateway.
    pub fn has_pending_refunds(&self) -> bool {
        self.refunds
            .iter()
            .any(|r| matches!(r.state, RefundState::Pending))
    }
}

/// How much of a hold's total to pay now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PayAmount {
    /// The whole total: the booking is confirmed.
    Full,
    /// A deposit (positive, in whole minor units, at most the total): the
    /// booking is `pending_payment` until the balance is paid. A deposit
    /// of the whole total is a full payment.
    Deposit {
        /// The deposit.
        amount: Money,
    },
}

/// A request to pay for a hold and confirm it in one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayRequest {
    /// The host's key for this command. A retry with the same key never
    /// charges twice: it resumes the same attempt, or returns its booking.
    pub idempotency_key: String,
    /// The hold to pay for; every item of it is confirmed.
    pub hold: HoldId,
    /// Who the booking is for; `None` takes the customer the hold carries
    /// (`INVALID_INPUT`, before anything is charged, if it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The host's payment method token, passed to the gateway.
    pub payment_method: String,
    /// How much to pay now.
    pub amount: PayAmount,
    /// Who sold it (channel, broker); direct if absent.
    #[serde(default)]
    pub attribution: Attribution,
    /// The host's own data, kept on the booking (see [`Metadata`]).
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// A request to pay the balance of a `pending_payment` booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayBalanceRequest {
    /// The host's key for this command.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
    /// The host's payment method token, passed to the gateway.
    pub payment_method: String,
}

/// Checks a payment method token: 1-500 characters, not blank.
pub(crate) fn check_method(method: &str) -> Result<()> {
    if method.trim().is_empty() || method.len() > 500 {
        return Err(Error::invalid(
            "payment_method",
            format!("{method:?} must be a token of 1-500 characters"),
        ));
    }
    Ok(())
}

impl Engine {
    /// The payment gateway, or `PAYMENT_UNSUPPORTED` if the engine has none.
    pub(crate) fn gateway(&self) -> Result<&dyn PaymentGateway> {
        self.gateway
            .as_deref()
            .ok_or_else(|| Error::PaymentUnsupported {
                operation: "payments: the engine was built without a payment gateway".into(),
            })
    }

    /// Charges the hold's total (or a deposit) through the gateway and, if
    /// approved, confirms the hold as a booking carrying the payment, in
    /// one commit with `payment.captured`. A hold whose total is zero is
    /// confirmed without a gateway call and carries no payment; it is still
    /// paid through the gateway ([`BookingMoney::through_gateway`]), so a
    /// modification that makes it cost something charges the guest.
    ///
    /// The gateway is asked with keys derived from the idempotency key
    /// (`<key>:charge`, or `<key>:authorize` then `<key>:capture` when it
    /// captures separately), so a retry never charges twice.
    ///
    /// Errors: `INVALID_INPUT`, `PAYMENT_UNSUPPORTED` (no gateway),
    /// `NOT_FOUND`, `HOLD_EXPIRED`, `HOLD_ALREADY_RESOLVED`,
    /// `PAYMENT_DECLINED` (no booking; the hold stays active until its
    /// TTL; event `payment.failed`), `PAYMENT_OUTCOME_UNKNOWN` (the attempt
    /// stays pending: retry with the same key or run
    /// [`Engine::reconcile_payments`]), `IDEMPOTENCY_CONFLICT`. The
    /// booking's terms and commission split are checked before the gateway
    /// is asked: an attribution the property's commission plan has no
    /// terms for, fees the total cannot pay, no customer in the request or
    /// on the hold, or metadata that makes more than 50 keys with the
    /// hold's, get the error the confirmation would give (`INVALID_INPUT`),
    /// as does a promo code whose usage limit other bookings reached since
    /// the hold was made (`PROMO_NOT_APPLICABLE`), and nothing is charged.
    /// If the payment is approved but the hold can no longer be confirmed
    /// (it expired while the outcome was unknown), the payment is refunded
    /// in full and the hold's error is returned.
    pub async fn pay_and_confirm(&self, request: &PayRequest) -> Result<Booking> {
        idempotency::validate_key(&request.idempotency_key)?;
        if let Some(customer) = &request.customer {
            customer.validate()?;
        }
        request.metadata.validate()?;
        check_method(&request.payment_method)?;
        let fingerprint = idempotency::Fingerprint::of(request);
        let key = &request.idempotency_key;
        let prior = match self
            .prior_attempt(key, "pay_and_confirm", &fingerprint)
            .await?
        {
            Some(prior) => prior,
            None => {
                let hold = self.hold_by_id(&request.hold).await?;
                hold.ensure_active(self.clock.now())?;
                // The booking's customer and metadata must be settled
                // before anything is charged.
                let customer = booking_customer(request.customer.as_ref(), &hold)?;
                hold.metadata.overlaid(&request.metadata)?;
                let amount = match request.amount {
                    PayAmount::Full => hold.total,
                    PayAmount::Deposit { amount } => deposit(amount, hold.total)?,
                };
                let confirm = ConfirmRequest {
                    idempotency_key: key.clone(),
                    hold: hold.id.clone(),
                    customer: Some(customer),
                    items: None,
                    attribution: request.attribution.clone(),
                    metadata: request.metadata.clone(),
                };
                if amount.is_zero() {
                    return self.confirm_free(&confirm, &fingerprint).await;
                }
                self.gateway()?;
                self.check_terms(&hold, &request.attribution).await?;
                let attempt = PaymentAttempt::new(
                    key,
                    "pay_and_confirm",
                    &fingerprint,
                    Purpose::Confirm {
                        request: Box::new(confirm),
                    },
                    hold.id.as_str(),
                    amount,
                    &request.payment_method,
                    self.clock.now(),
                );
                self.start_attempt(attempt, &fingerprint).await?
            }
        };
        self.resume(prior).await
    }

    /// Confirms a hold whose total is zero (free entry, a full discount)
    /// without asking the gateway, under the `pay_and_confirm` request's
    /// key: gateways refuse charges of nothing.
    async fn confirm_free(
        &self,
        confirm: &ConfirmRequest,
        fingerprint: &idempotency::Fingerprint,
    ) -> Result<Booking> {
        retry_on_conflict(self.config.max_attempts, || {
            self.try_confirm(confirm, "pay_and_confirm", fingerprint, None)
        })
        .await
    }

    /// Checks that `hold` can be confirmed with the terms of
    /// `attribution`: the terms exist, the commission plan can split its
    /// total, as the confirmation will (see [`super::terms`]; the ledger is
    /// built under a throwaway id and dropped), and no promo code of its
    /// items has reached its usage limit since it was held.
    async fn check_terms(&self, hold: &Hold, attribution: &Attribution) -> Result<()> {
        let view = self.catalog().await?;
        self.promo_uses_left(&view, &hold.items, &[]).await?;
        let terms = booking_terms(&view, &hold.items, attribution)?;
        let resource = view.resource(hold.items[0].resource())?;
        let owner = &view.property(&resource.resource.property)?.owner;
        let taxes = taxes_of(&hold.items, hold.total.currency())?;
        commission_ledger(&terms, &BookingId::generate(), owner, hold.total, taxes)?;
        Ok(())
    }

    /// Charges the balance of a `pending_payment` booking and, if
    /// approved, records the payment and confirms the booking in one commit
    /// (`payment.captured`, `booking.confirmed`).
    ///
    /// Errors: `INVALID_INPUT`, `PAYMENT_UNSUPPORTED`, `NOT_FOUND`,
    /// `ILLEGAL_TRANSITION` (the booking is not `pending_payment`),
    /// `PAYMENT_DECLINED`, `PAYMENT_OUTCOME_UNKNOWN`,
    /// `IDEMPOTENCY_CONFLICT`.
    pub async fn pay_balance(&self, request: &PayBalanceRequest) -> Result<Booking> {
        idempotency::validate_key(&request.idempotency_key)?;
        check_method(&request.payment_method)?;
        let fingerprint = idempotency::Fingerprint::of(request);
        let key = &request.idempotency_key;
        let prior = match self.prior_attempt(key, "pay_balance", &fingerprint).await? {
            Some(prior) => prior,
            None => {
                self.gateway()?;
                let booking = self.booking(&request.booking).await?;
                let balance = balance_due(&booking)?;
                let attempt = PaymentAttempt::new(
                    key,
                    "pay_balance",
                    &fingerprint,
                    Purpose::Balance {
                        booking: booking.id.clone(),
                    },
                    booking.id.as_str(),
                    balance,
                    &request.payment_method,
                    self.clock.now(),
                );
                self.start_attempt(attempt, &fingerprint).await?
            }
        };
        self.resume(prior).await
    }

    /// Writes into `txn` an approved balance `payment` on `booking`,
    /// confirming it.
    pub(crate) async fn balance_into(
        &self,
        txn: &mut Txn,
        id: &BookingId,
        payment: Payment,
    ) -> Result<Booking> {
        let (mut booking, record) = self.read_booking(id).await?;
        let balance = balance_due(&booking)?;
        if payment.amount != balance {
            return Err(Error::invalid(
                "amount",
                format!(
                    "the balance of {id} is now {balance}, not the {} charged",
                    payment.amount
                ),
            ));
        }
        let now = self.clock.now();
        let status = booking
            .status
            .transition(id.as_str(), BookingStatus::Confirmed)?;
        booking.enter(status, now);
        booking.money.payments.push(payment);
        txn.expect_read(&record.key, Some(&record));
        txn.put_json(&record.key, &booking);
        let view = self.catalog().await?;
        self.issue_tickets(txn, &view, &booking)?;
        txn.event("booking.confirmed", &booking_event(&view, &booking));
        Ok(booking)
    }
}

/// What is left to pay on a `pending_payment` booking.
fn balance_due(booking: &Booking) -> Result<Money> {
    booking
        .status
        .transition(booking.id.as_str(), BookingStatus::Confirmed)?;
    let paid = booking.money.paid(booking.total.currency());
    let balance = booking.total.checked_sub(&paid)?;
    if !balance.is_negative() && !balance.is_zero() {
        return Ok(balance);
    }
    Err(Error::invalid(
        "booking",
        format!("{} has nothing left to pay", booking.id),
    ))
}

fn deposit(amount: Money, total: Money) -> Result<Money> {
    if amount.currency() != total.currency() {
        return Err(Error::CurrencyMismatch {
            left: total.currency().code().to_owned(),
            right: amount.currency().code().to_owned(),
        });
    }
    if amount.is_negative() || amount.is_zero() || !amount.is_rounded() || amount > total {
        return Err(Error::invalid(
            "amount",
            format!(
                "a deposit must be positive, in whole minor units and at most {total}, got {amount}"
            ),
        ));
    }
    Ok(amount)
}
