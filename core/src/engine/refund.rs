//! Refunds of a booking's payments through the gateway.
//!
//! Owns spreading a refund over a booking's payments and issuing each part.
//! The spread takes the **most recent payment first** (a balance before
//! its deposit), each part at most what is left of its payment, so the
//! parts always sum exactly to the refund and a refund can never exceed
//! what was paid (`REFUND_EXCEEDS_PAID`). A gateway without partial
//! refunds gets whole payments only: a refund that cannot be made of the
//! newest payments whole is refused with `PAYMENT_UNSUPPORTED`, changing
//! nothing.
//!
//! Refunds are planned in the commit that decides them (cancellation,
//! modification) as `pending`, each with a queue entry, and issued after
//! it under the key `<command key>:refund:<payment index>`: a refund whose
//! outcome is unknown stays pending for [`Engine::reconcile_payments`]. A
//! declined refund stays owed to the guest (event `refund.failed`); the
//! host settles it. Must never issue a refund that is not recorded first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::money::Money;
use crate::ports::{GatewayCapabilities, PaymentOutcome, RefundRequest};

use super::Engine;
use super::attempt::PendingCall;
use super::confirm::Booking;
use super::keys;
use super::txn::{Txn, retry_on_conflict};

/// Where a refund is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RefundState {
    /// Recorded; the gateway has not confirmed it yet.
    Pending,
    /// Done.
    Issued {
        /// The gateway's id of the refund.
        gateway_id: String,
    },
    /// Refused by the gateway: still owed to the guest.
    Declined {
        /// The gateway's reason.
        reason: String,
    },
}

/// One refund of (part of) one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The idempotency key the gateway sees.
    pub key: String,
    /// The gateway's id of the payment refunded.
    pub payment: String,
    /// How much.
    pub amount: Money,
    /// Where it is.
    pub state: RefundState,
    /// When it was decided.
    pub at: DateTime<Utc>,
}

/// Records refunding `amount` of `booking`'s payments, newest first, as
/// pending refunds with their queue entries in `txn`.
pub(crate) fn plan_refunds(
    txn: &mut Txn,
    booking: &mut Booking,
    amount: Money,
    command_key: &str,
    capabilities: GatewayCapabilities,
    now: DateTime<Utc>,
) -> Result<()> {
    let paid = booking.money.paid(booking.total.currency());
    if amount.amount() > paid.amount() {
        return Err(Error::RefundExceedsPaid {
            requested: amount.to_string(),
            refundable: paid.to_string(),
        });
    }
    let mut left = amount;
    for (index, payment) in booking.money.payments.iter_mut().enumerate().rev() {
        if left.is_zero() {
            break;
        }
        let part = payment.refundable().checked_min(&left)?;
        if part.is_zero() {
            continue;
        }
        if !capabilities.partial_refunds && part != payment.amount {
            return Err(Error::PaymentUnsupported {
                operation: format!(
                    "partial refunds: {amount} cannot be refunded as whole payments \
                     ({part} of a payment of {})",
                    payment.amount
                ),
            });
        }
        left = left.checked_sub(&part)?;
        payment.refunded = payment.refunded.checked_add(&part)?;
        let key = format!("{command_key}:refund:{index}");
        txn.put_json(
            keys::pending_gateway_call(&key),
            &PendingCall::Refund {
                booking: booking.id.clone(),
            },
        );
        booking.money.refunds.push(Refund {
            key,
            payment: payment.gateway_id.clone(),
            amount: part,
            state: RefundState::Pending,
            at: now,
        });
    }
    Ok(())
}

impl Engine {
    /// Asks the gateway for every pending refund of `booking` and records
    /// the answers (`refund.issued`, `refund.failed`). A refund whose
    /// outcome is unknown stays pending; the gateway's error is returned
    /// as `PORT_ERROR` after the other refunds were tried.
    pub(crate) async fn issue_refunds(&self, id: &BookingId) -> Result<()> {
        let gateway = self.gateway()?;
        let booking = self.booking(id).await?;
        let mut unknown = None;
        for refund in &booking.money.refunds {
            if refund.state != RefundState::Pending {
                continue;
            }
            let outcome = gateway
                .refund(&RefundRequest {
                    idempotency_key: refund.key.clone(),
                    payment_id: refund.payment.clone(),
                    amount: refund.amount.amount().to_string(),
                    currency: refund.amount.currency().code().to_owned(),
                })
                .await;
            let (state, kind) = match outcome {
                Ok(PaymentOutcome::Approved { gateway_id }) => {
                    (RefundState::Issued { gateway_id }, "refund.issued")
                }
                Ok(PaymentOutcome::Declined { reason }) => {
                    (RefundState::Declined { reason }, "refund.failed")
                }
                Err(e) => {
                    unknown = Some(Error::Port {
                        port: "payment gateway",
                        message: e.message,
                        source: e.source,
                    });
                    continue;
                }
            };
            self.record_refund(id, &refund.key, state, kind).await?;
        }
        unknown.map_or(Ok(()), Err)
    }

    async fn record_refund(
        &self,
        id: &BookingId,
        key: &str,
        state: RefundState,
        kind: &str,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let (mut booking, record) = self.read_booking(id).await?;
            let Some(refund) = booking
                .money
                .refunds
                .iter_mut()
                .find(|r| r.key == key && r.state == RefundState::Pending)
            else {
                return Ok(());
            };
            refund.state = state.clone();
            let payload = json!({
                "booking": {"id": booking.id},
                "refund": {"amount": refund.amount.padded_amount().to_string(),
                           "currency": refund.amount.currency().code(),
                           "state": refund.state},
                "customer": {"name": booking.customer.name, "phone": booking.customer.phone},
            });
            let mut txn = Txn::default();
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &booking);
            txn.delete(keys::pending_gateway_call(key));
            txn.event(kind, &payload);
            self.commit(txn).await?;
            Ok(())
        })
        .await
    }
}
