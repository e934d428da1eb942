//! Payment attempts: every charge recorded before the gateway is asked,
//! and settled from the gateway's answer.
//!
//! Owns the attempt record (`pa/<command key>`), the queue of gateway
//! calls whose outcome is unknown (`pq/<gateway key>`, charges and refunds
//! alike), the derivation of gateway keys from the command's key, and
//! [`Engine::reconcile_payments`]. The life of an attempt:
//!
//! 1. recorded `pending` (with its queue entry) in its own commit, before
//!    any gateway call, so a crash mid-call never loses it;
//! 2. the gateway is asked; an `Err` (unknown outcome) leaves it pending
//!    and returns `PAYMENT_OUTCOME_UNKNOWN`;
//! 3. a decline ends it `declined` (event `payment.failed`); an approval
//!    applies the command's effect (confirm, balance, modification) in the
//!    same commit as `approved`, the idempotency record and
//!    `payment.captured`;
//! 4. an approval whose effect can no longer apply (the hold expired
//!    meanwhile, the dates were sold) is refunded in full under
//!    `<key>:reverse` and ends `reversed` (event `payment.reversed`).
//!
//! A replay of a `reversed` attempt returns `PAYMENT_DECLINED` naming why.
//! Must never call the gateway with a key that is not derived from the
//! command's key, and never apply an effect without an approval.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::money::Money;
use crate::ports::{
    CaptureRequest, KeyRange, PaymentOutcome, PaymentRequest, PortError, Record, RefundRequest,
};

use super::Engine;
use super::confirm::{Booking, ConfirmRequest};
use super::idempotency::{Fingerprint, remember, replayed};
use super::keys;
use super::modify::Modification;
use super::payment::Payment;
use super::txn::{ReadAhead, Txn, decode_json, retry_on_conflict};

/// Where a payment attempt is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AttemptState {
    /// Recorded; the gateway's answer is not known yet.
    Pending {
        /// The last error the gateway reported, if it was asked.
        last_error: Option<String>,
    },
    /// Approved and applied.
    Approved {
        /// The gateway's id of the captured payment.
        gateway_id: String,
    },
    /// Declined by the gateway: no money moved.
    Declined {
        /// The gateway's reason.
        reason: String,
    },
    /// Approved, but the command could no longer apply: refunded in full.
    Reversed {
        /// Why the command could not apply.
        reason: String,
    },
}

/// What an approved attempt does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Purpose {
    /// Confirm a hold as a booking carrying the payment.
    Confirm { request: ConfirmRequest },
    /// Pay a booking's balance.
    Balance { booking: BookingId },
    /// Apply a priced modification.
    Modify { change: Box<Modification> },
}

/// A charge the engine made or is making, kept under its command's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentAttempt {
    /// The command's idempotency key.
    pub key: String,
    /// The command (`pay_and_confirm`, `pay_balance`, `modify`).
    pub command: String,
    /// The hold or booking paid for.
    pub reference: String,
    /// The amount charged.
    pub amount: Money,
    /// Where it is.
    pub state: AttemptState,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    request: serde_json::Value,
    purpose: Purpose,
    payment_method: String,
}

/// What [`Engine::reconcile_payments`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Gateway keys whose outcome is now known and applied.
    pub settled: Vec<String>,
    /// Gateway keys still unknown (the gateway failed again).
    pub still_pending: Vec<String>,
}

/// A queue entry: which record a pending gateway call belongs to.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum PendingCall {
    /// A charge of the attempt under this command key.
    Charge { attempt: String },
    /// A refund recorded on this booking.
    Refund { booking: BookingId },
}

/// How a command finds its earlier runs.
pub(crate) enum Prior {
    /// It completed: its booking.
    Done(BookingId),
    /// An attempt was recorded and is still pending.
    Started(Box<PaymentAttempt>),
    /// Never ran.
    Fresh,
}

impl PaymentAttempt {
    /// A new pending attempt.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        key: &str,
        command: &str,
        request: &Fingerprint,
        purpose: Purpose,
        reference: &str,
        amount: Money,
        payment_method: &str,
        now: DateTime<Utc>,
    ) -> PaymentAttempt {
        PaymentAttempt {
            key: key.to_owned(),
            command: command.to_owned(),
            reference: reference.to_owned(),
            amount,
            state: AttemptState::Pending { last_error: None },
            created_at: now,
            request: request.to_value(),
            purpose,
            payment_method: payment_method.to_owned(),
        }
    }

    /// The key of the charge (or capture) at the gateway.
    fn charge_key(&self) -> String {
        format!("{}:charge", self.key)
    }

    fn payment_request(&self, key: String) -> PaymentRequest {
        PaymentRequest {
            idempotency_key: key,
            reference: self.reference.clone(),
            amount: self.amount.amount().to_string(),
            currency: self.amount.currency().code().to_owned(),
            payment_method: self.payment_method.clone(),
        }
    }
}

/// Whether an error will repeat however often the effect is retried.
fn is_final(err: &Error) -> bool {
    !matches!(
        err,
        Error::Storage(_)
            | Error::Contention { .. }
            | Error::Port { .. }
            | Error::CorruptRecord { .. }
    )
}

impl Engine {
    /// A payment attempt by its command's idempotency key.
    ///
    /// Errors: `NOT_FOUND`.
    pub async fn payment_attempt(&self, key: &str) -> Result<PaymentAttempt> {
        Ok(self.read_attempt(key).await?.0)
    }

    /// An attempt with the record it was read from, to pin in a commit.
    async fn read_attempt(&self, key: &str) -> Result<(PaymentAttempt, Record)> {
        let record = self
            .read_record(&keys::payment_attempt(key))
            .await?
            .ok_or_else(|| Error::not_found("payment attempt", key))?;
        Ok((decode_json(&record)?, record))
    }

    /// Re-asks the gateway about every call whose outcome is unknown,
    /// with the same keys, and applies the answers: pending charges are
    /// settled as in [`Engine::pay_and_confirm`], pending refunds are
    /// issued. Safe to run at any time and from several processes.
    ///
    /// Errors: only storage errors; a gateway that fails again leaves the
    /// call in `still_pending`.
    pub async fn reconcile_payments(&self) -> Result<ReconcileReport> {
        let entries = self
            .storage
            .scan(&KeyRange::prefix(keys::PENDING_GATEWAY_CALLS), usize::MAX)
            .await?;
        let mut report = ReconcileReport::default();
        for entry in entries {
            let gateway_key = entry.key[keys::PENDING_GATEWAY_CALLS.len()..].to_owned();
            let outcome = match decode_json(&entry)? {
                PendingCall::Charge { attempt } => match self.payment_attempt(&attempt).await {
                    Ok(a) if matches!(a.state, AttemptState::Pending { .. }) => {
                        self.settle(a).await.map(|_| ())
                    }
                    other => other.map(|_| ()),
                },
                PendingCall::Refund { booking } => self.issue_refunds(&booking).await,
            };
            let still = self
                .storage
                .get(std::slice::from_ref(&entry.key))
                .await?
                .pop()
                .flatten()
                .is_some();
            match outcome {
                Err(e) if !is_final(&e) && !matches!(e, Error::Port { .. }) => return Err(e),
                _ if still => report.still_pending.push(gateway_key),
                _ => report.settled.push(gateway_key),
            }
        }
        Ok(report)
    }

    /// Finds an earlier run of `command` under `key`: completed, started,
    /// or none. Errors: `IDEMPOTENCY_CONFLICT` for another command or
    /// request under the key; `PAYMENT_DECLINED` for an attempt that was
    /// declined or reversed.
    pub(crate) async fn prior_attempt(
        &self,
        key: &str,
        command: &str,
        request: &Fingerprint,
    ) -> Result<Prior> {
        let keys = [keys::idempotency(key), keys::payment_attempt(key)];
        let mut got = self.storage.get(&keys).await?.into_iter();
        let (idem, attempt) = (got.next().flatten(), got.next().flatten());
        if let Some(id) = replayed(key, idem.as_ref(), command, request)? {
            return Ok(Prior::Done(BookingId::new(id)?));
        }
        let Some(record) = attempt else {
            return Ok(Prior::Fresh);
        };
        let attempt: PaymentAttempt = decode_json(&record)?;
        if attempt.command != command || attempt.request != request.to_value() {
            return Err(Error::IdempotencyConflict {
                key: key.to_owned(),
            });
        }
        match attempt.state {
            AttemptState::Declined { reason } => Err(Error::PaymentDeclined { reason }),
            AttemptState::Reversed { reason } => Err(Error::PaymentDeclined {
                reason: format!("the payment was refunded because {reason}"),
            }),
            _ => Ok(Prior::Started(Box::new(attempt))),
        }
    }

    /// Records a new attempt and its queue entry, before any gateway call.
    pub(crate) async fn start_attempt(&self, attempt: PaymentAttempt) -> Result<PaymentAttempt> {
        let mut txn = Txn::default();
        let key = keys::payment_attempt(&attempt.key);
        txn.expect(&key, None);
        txn.put_json(&key, &attempt);
        txn.put_json(
            keys::pending_gateway_call(&attempt.charge_key()),
            &PendingCall::Charge {
                attempt: attempt.key.clone(),
            },
        );
        self.commit(txn).await?;
        Ok(attempt)
    }

    /// Asks the gateway about `attempt` and applies its answer.
    pub(crate) async fn settle(&self, attempt: PaymentAttempt) -> Result<Booking> {
        let gateway = self.gateway()?;
        let outcome = if gateway.capabilities().separate_capture {
            let auth = attempt.payment_request(format!("{}:authorize", attempt.key));
            match gateway.authorize(&auth).await {
                Ok(PaymentOutcome::Approved { gateway_id }) => {
                    gateway
                        .capture(&CaptureRequest {
                            idempotency_key: attempt.charge_key(),
                            authorization_id: gateway_id,
                            amount: auth.amount,
                            currency: auth.currency,
                        })
                        .await
                }
                other => other,
            }
        } else {
            gateway
                .charge(&attempt.payment_request(attempt.charge_key()))
                .await
        };
        match outcome {
            Ok(PaymentOutcome::Approved { gateway_id }) => self.complete(attempt, gateway_id).await,
            Ok(PaymentOutcome::Declined { reason }) => {
                let payload = json!({
                    "reference": attempt.reference,
                    "payment": {"amount": attempt.amount.amount().to_string(),
                                "currency": attempt.amount.currency().code()},
                    "reason": reason,
                });
                let state = AttemptState::Declined {
                    reason: reason.clone(),
                };
                self.end_attempt(&attempt, state, "payment.failed", &payload)
                    .await?;
                Err(Error::PaymentDeclined { reason })
            }
            Err(e) => Err(self.still_unknown(&attempt, e).await),
        }
    }

    /// Notes the gateway's error on the pending attempt; the error to return.
    async fn still_unknown(&self, attempt: &PaymentAttempt, err: PortError) -> Error {
        let noted = retry_on_conflict(self.config.max_attempts, || async {
            let (mut current, record) = self.read_attempt(&attempt.key).await?;
            if !matches!(current.state, AttemptState::Pending { .. }) {
                return Ok(());
            }
            current.state = AttemptState::Pending {
                last_error: Some(err.message.clone()),
            };
            let mut txn = Txn::default();
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &current);
            self.commit(txn).await?;
            Ok(())
        })
        .await;
        match noted {
            Err(storage) => storage,
            Ok(()) => Error::PaymentOutcomeUnknown {
                reference: attempt.key.clone(),
                message: err.message,
                source: err.source,
            },
        }
    }

    /// Applies an approved attempt's effect, or reverses the payment if the
    /// effect can no longer apply.
    async fn complete(&self, attempt: PaymentAttempt, gateway_id: String) -> Result<Booking> {
        let applied = retry_on_conflict(self.config.max_attempts, || async {
            let (mut current, record) = self.read_attempt(&attempt.key).await?;
            if let AttemptState::Approved { .. } = current.state {
                let idem = self.storage.get(&[keys::idempotency(&attempt.key)]).await?;
                let id = replayed(
                    &attempt.key,
                    idem[0].as_ref(),
                    &attempt.command,
                    &Fingerprint::of(&attempt.request),
                )?
                .ok_or_else(|| {
                    Error::not_found("booking of payment attempt", attempt.key.as_str())
                })?;
                return self.booking(&BookingId::new(id)?).await;
            }
            let payment = Payment {
                key: attempt.charge_key(),
                gateway_id: gateway_id.clone(),
                amount: attempt.amount,
                refunded: Money::zero(attempt.amount.currency()),
                at: self.clock.now(),
            };
            let mut txn = Txn::default();
            let booking = match &attempt.purpose {
                Purpose::Confirm { request } => {
                    self.confirm_into(&mut txn, request, Some(payment), None, ReadAhead::default())
                        .await?
                }
                Purpose::Balance { booking } => {
                    self.balance_into(&mut txn, booking, payment).await?
                }
                Purpose::Modify { change } => {
                    self.modify_into(&mut txn, change, Some(payment), &attempt.key)
                        .await?
                }
            };
            current.state = AttemptState::Approved {
                gateway_id: gateway_id.clone(),
            };
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &current);
            txn.delete(keys::pending_gateway_call(&attempt.charge_key()));
            let idem = keys::idempotency(&attempt.key);
            remember(
                &mut txn,
                &idem,
                &attempt.command,
                &Fingerprint::of(&attempt.request),
                booking.id.as_str(),
            );
            txn.event(
                "payment.captured",
                &json!({
                    "booking": {"id": booking.id},
                    "payment": {"amount": attempt.amount.amount().to_string(),
                                "currency": attempt.amount.currency().code(),
                                "gateway_id": gateway_id},
                    "customer": {"name": booking.customer.name, "phone": booking.customer.phone},
                }),
            );
            self.commit(txn).await?;
            Ok(booking)
        })
        .await;
        match applied {
            Err(err) if is_final(&err) => {
                self.reverse(&attempt, &gateway_id, &err).await?;
                Err(err)
            }
            other => other,
        }
    }

    /// Refunds an approved payment whose effect could not apply.
    async fn reverse(&self, attempt: &PaymentAttempt, gateway_id: &str, why: &Error) -> Result<()> {
        let outcome = self
            .gateway()?
            .refund(&RefundRequest {
                idempotency_key: format!("{}:reverse", attempt.key),
                payment_id: gateway_id.to_owned(),
                amount: attempt.amount.amount().to_string(),
                currency: attempt.amount.currency().code().to_owned(),
            })
            .await;
        match outcome {
            Ok(PaymentOutcome::Approved { .. }) => {
                let payload = json!({
                    "reference": attempt.reference,
                    "payment": {"amount": attempt.amount.amount().to_string(),
                                "currency": attempt.amount.currency().code(),
                                "gateway_id": gateway_id},
                    "reason": why.to_string(),
                });
                let state = AttemptState::Reversed {
                    reason: why.to_string(),
                };
                self.end_attempt(attempt, state, "payment.reversed", &payload)
                    .await
            }
            Ok(PaymentOutcome::Declined { reason }) => {
                let err = PortError::new(format!(
                    "approved but not applied ({why}); reversal declined: {reason}"
                ));
                Err(self.still_unknown(attempt, err).await)
            }
            Err(e) => {
                let err = PortError::new(format!(
                    "approved but not applied ({why}); reversal failed: {}",
                    e.message
                ));
                Err(self.still_unknown(attempt, err).await)
            }
        }
    }

    /// Ends a pending attempt in `state`, dropping its queue entry, with
    /// one event.
    async fn end_attempt(
        &self,
        attempt: &PaymentAttempt,
        state: AttemptState,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let (mut current, record) = self.read_attempt(&attempt.key).await?;
            if !matches!(current.state, AttemptState::Pending { .. }) {
                return Ok(());
            }
            current.state = state.clone();
            let mut txn = Txn::default();
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &current);
            txn.delete(keys::pending_gateway_call(&attempt.charge_key()));
            txn.event(kind, payload);
            self.commit(txn).await?;
            Ok(())
        })
        .await
    }
}
