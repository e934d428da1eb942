//! Payment attempts: every charge recorded before the gateway is asked,
//! and settled from the gateway's answer.
//!
//! Owns the attempt record (`pa/<command key>`), the queue of gateway
//! calls whose outcome is unknown (`pq/<gateway key>`: charges, reversals
//! and refunds alike), the derivation of gateway keys from the command's
//! key, and [`Engine::reconcile_payments`]. The life of an attempt:
//!
//! 1. recorded `pending` (with its queue entry) in its own commit, before
//!    any gateway call, so a crash mid-call never loses it; the same commit
//!    claims the command's idempotency key (see [`super::idempotency`]),
//!    so no other command can take the key while the outcome is unknown;
//! 2. the gateway is asked; an `Err` (unknown outcome) leaves it pending
//!    and returns `PAYMENT_OUTCOME_UNKNOWN`;
//! 3. a decline ends it `declined` (event `payment.failed`; a declined
//!    capture's authorization is voided first, see [`charge`]); an approval
//!    applies the command's effect (confirm, balance, modification) in the
//!    same commit as `approved`, the idempotency record and
//!    `payment.captured`;
//! 4. an approval whose effect can no longer apply (the hold expired
//!    meanwhile, the dates were sold, the booking changed since it was
//!    priced, another command's record holds the key) is committed
//!    `reversing` first, then refunded in full under `<key>:reverse`, and
//!    ends `reversed` (event `payment.reversed`). A reversal whose answer
//!    is lost or declined stays `reversing`: a retry of the command and
//!    [`Engine::reconcile_payments`] only ask for that refund again, with
//!    the same key, and never apply the effect.
//!
//! `approved`, `declined` and `reversed` are final: a settlement that
//! hears an approval for an attempt another settlement already ended
//! returns the stored outcome and changes nothing. A replay of a
//! `declined` or `reversed` attempt returns `PAYMENT_DECLINED` naming why.
//! Must never call the gateway with a key that is not derived from the
//! command's key, never apply an effect without an approval, and never
//! apply one of an attempt that is reversing or has ended.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::money::Money;
use crate::ports::{PaymentOutcome, PaymentRequest, PortError, Record, StorageError};

use super::Engine;
use super::confirm::{Booking, ConfirmRequest};
use super::idempotency::{Fingerprint, KeyUse, claim, key_use, remember_claimed};
use super::keys;
use super::modify::Modification;
use super::payment::Payment;
use super::txn::{ReadAhead, Txn, decode_json, retry_on_conflict};

mod charge;
mod reconcile;
mod reversal;

use charge::Answer;

pub(crate) use reconcile::PendingCall;
pub use reconcile::ReconcileReport;

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
    /// Approved, but the command could no longer apply: being refunded in
    /// full (`<key>:reverse`), the refund's answer not known yet. Never
    /// applied; settling it only asks for the refund again.
    Reversing {
        /// The gateway's id of the payment being refunded.
        gateway_id: String,
        /// Why the command could not apply.
        reason: String,
        /// The last error the gateway reported about the refund, if any.
        #[serde(default)]
        last_error: Option<String>,
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
    Confirm { request: Box<ConfirmRequest> },
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

/// An earlier run of a command, found under its key.
pub(crate) enum Prior {
    /// It completed: its booking.
    Done(BookingId),
    /// An attempt was recorded and is still pending or reversing.
    Started(Box<PaymentAttempt>),
}

/// How settling an approval ended.
enum Completion {
    /// The effect applied (now or by an earlier settlement).
    Applied(Box<Booking>),
    /// The attempt is reversing: its refund is to be asked for, then this
    /// error returned.
    Reverse(Box<PaymentAttempt>, Error),
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

    /// The key of the full refund of an approval that could not apply.
    fn reverse_key(&self) -> String {
        reverse_key(&self.key)
    }

    /// The gateway key of the call its state waits on: the reversal while
    /// reversing, the charge otherwise.
    fn awaited_call(&self) -> String {
        match self.state {
            AttemptState::Reversing { .. } => self.reverse_key(),
            _ => self.charge_key(),
        }
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

/// The gateway key of the reversal of the attempt under `command_key`.
fn reverse_key(command_key: &str) -> String {
    format!("{command_key}:reverse")
}

/// What an attempt whose payment was refunded because of `reason` answers.
fn refunded(reason: &str) -> Error {
    Error::PaymentDeclined {
        reason: format!("the payment was refunded because {reason}"),
    }
}

/// What an attempt that ended unpaid (declined or reversed) answers;
/// `None` for any other state.
fn ended_unpaid(state: &AttemptState) -> Option<Error> {
    match state {
        AttemptState::Declined { reason } => Some(Error::PaymentDeclined {
            reason: reason.clone(),
        }),
        AttemptState::Reversed { reason } => Some(refunded(reason)),
        _ => None,
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

    /// Finds an earlier run of `command` under `key`: completed, or an
    /// attempt pending or reversing; `None` if it never ran. Errors:
    /// `IDEMPOTENCY_CONFLICT` for another command or request under the
    /// key; `PAYMENT_DECLINED` for an attempt that was declined or
    /// reversed.
    pub(crate) async fn prior_attempt(
        &self,
        key: &str,
        command: &str,
        request: &Fingerprint,
    ) -> Result<Option<Prior>> {
        let keys = [keys::idempotency(key), keys::payment_attempt(key)];
        let mut got = self.storage.get(&keys).await?.into_iter();
        let (idem, attempt) = (got.next().flatten(), got.next().flatten());
        let claimed = match key_use(key, idem.as_ref(), command, request)? {
            KeyUse::Done(id) => return Ok(Some(Prior::Done(BookingId::new(id)?))),
            KeyUse::Claimed => true,
            KeyUse::Unused => false,
        };
        let Some(record) = attempt else {
            if claimed {
                return Err(Error::CorruptRecord {
                    key: keys[1].clone(),
                    message: "a key claimed by a payment attempt that is not recorded".into(),
                });
            }
            return Ok(None);
        };
        let attempt: PaymentAttempt = decode_json(&record)?;
        if attempt.command != command || attempt.request != request.to_value() {
            return Err(Error::IdempotencyConflict {
                key: key.to_owned(),
            });
        }
        match ended_unpaid(&attempt.state) {
            Some(ended) => Err(ended),
            None => Ok(Some(Prior::Started(Box::new(attempt)))),
        }
    }

    /// Records a new attempt, its queue entry and its claim on the
    /// command's key (`request` is the command's request), before any
    /// gateway call. If another run under the key got there first, that
    /// run instead (`IDEMPOTENCY_CONFLICT` if it is another command's).
    pub(crate) async fn start_attempt(
        &self,
        attempt: PaymentAttempt,
        request: &Fingerprint,
    ) -> Result<Prior> {
        retry_on_conflict(self.config.max_attempts, || async {
            let mut txn = Txn::default();
            let key = keys::payment_attempt(&attempt.key);
            txn.expect(&key, None);
            txn.put_json(&key, &attempt);
            let idem = keys::idempotency(&attempt.key);
            claim(&mut txn, &idem, &attempt.command, request);
            txn.put_json(
                keys::pending_gateway_call(&attempt.charge_key()),
                &PendingCall::Charge {
                    attempt: attempt.key.clone(),
                },
            );
            match self.commit(txn).await {
                Ok(_) => Ok(Prior::Started(Box::new(attempt.clone()))),
                Err(conflict @ Error::Storage(StorageError::Conflict { .. })) => self
                    .prior_attempt(&attempt.key, &attempt.command, request)
                    .await?
                    .ok_or(conflict),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Finishes a run: the booking it made, or its attempt settled.
    pub(crate) async fn resume(&self, prior: Prior) -> Result<Booking> {
        match prior {
            Prior::Done(id) => self.booking(&id).await,
            Prior::Started(attempt) => self.settle(*attempt).await,
        }
    }

    /// Asks the gateway about `attempt` and applies its answer; for an
    /// attempt that is reversing, only asks for its refund again.
    pub(crate) async fn settle(&self, attempt: PaymentAttempt) -> Result<Booking> {
        if let AttemptState::Reversing { reason, .. } = &attempt.state {
            self.reverse(&attempt).await?;
            return Err(refunded(reason));
        }
        let gateway = self.gateway()?;
        let Answer {
            outcome,
            authorization,
        } = self.ask(gateway, &attempt).await;
        match outcome {
            Ok(PaymentOutcome::Approved { gateway_id }) => self.complete(attempt, gateway_id).await,
            Ok(PaymentOutcome::Declined { reason }) => {
                let declined = self.decline(gateway, &attempt, reason, authorization);
                Err(declined.await?)
            }
            Err(e) => Err(self.still_unknown(&attempt, e).await),
        }
    }

    /// Notes the gateway's error on the attempt if it is still where
    /// `attempt` was (pending, or reversing); the error to return.
    async fn still_unknown(&self, attempt: &PaymentAttempt, err: PortError) -> Error {
        let noted = retry_on_conflict(self.config.max_attempts, || async {
            let (mut current, record) = self.read_attempt(&attempt.key).await?;
            if std::mem::discriminant(&current.state) != std::mem::discriminant(&attempt.state) {
                return Ok(());
            }
            match &mut current.state {
                AttemptState::Pending { last_error }
                | AttemptState::Reversing { last_error, .. } => {
                    *last_error = Some(err.message.clone());
                }
                _ => return Ok(()),
            }
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

    /// Applies an approved attempt's effect if it is still pending, or,
    /// if the effect can no longer apply, commits it `reversing` and
    /// reverses the payment. An attempt another settlement already ended
    /// answers as it ended (its booking, or `PAYMENT_DECLINED`); one
    /// already reversing is only reversed.
    async fn complete(&self, attempt: PaymentAttempt, gateway_id: String) -> Result<Booking> {
        let request = Fingerprint::of(&attempt.request);
        let completion = retry_on_conflict(self.config.max_attempts, || async {
            let idem_key = keys::idempotency(&attempt.key);
            let wanted = [keys::payment_attempt(&attempt.key), idem_key.clone()];
            let mut got = self.storage.get(&wanted).await?.into_iter();
            let (record, idem) = (got.next().flatten(), got.next().flatten());
            let record =
                record.ok_or_else(|| Error::not_found("payment attempt", attempt.key.as_str()))?;
            let current: PaymentAttempt = decode_json(&record)?;
            let used = key_use(&attempt.key, idem.as_ref(), &attempt.command, &request);
            match (&current.state, used) {
                (AttemptState::Approved { .. }, Ok(KeyUse::Done(id))) => {
                    let booking = self.booking(&BookingId::new(id)?).await?;
                    return Ok(Completion::Applied(Box::new(booking)));
                }
                (AttemptState::Pending { .. }, Ok(KeyUse::Unused | KeyUse::Claimed)) => {}
                (AttemptState::Pending { .. }, Err(taken)) if is_final(&taken) => {
                    // Another command's record holds the key: cannot apply.
                    return self
                        .begin_reversal(current, &record, &gateway_id, taken)
                        .await;
                }
                (AttemptState::Reversing { reason, .. }, _) => {
                    let why = refunded(reason);
                    return Ok(Completion::Reverse(Box::new(current), why));
                }
                (state, used) => {
                    if let Some(ended) = ended_unpaid(state) {
                        return Err(ended);
                    }
                    used?;
                    return Err(Error::CorruptRecord {
                        key: idem_key,
                        message: format!("does not match payment attempt {}", attempt.key),
                    });
                }
            }
            let mut txn = Txn::default();
            let booking = match self.apply(&mut txn, &current, &gateway_id).await {
                Ok(booking) => booking,
                Err(why) if is_final(&why) => {
                    return self
                        .begin_reversal(current, &record, &gateway_id, why)
                        .await;
                }
                Err(err) => return Err(err),
            };
            let mut approved = current;
            approved.state = AttemptState::Approved {
                gateway_id: gateway_id.clone(),
            };
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &approved);
            txn.delete(keys::pending_gateway_call(&attempt.charge_key()));
            remember_claimed(
                &mut txn,
                &idem_key,
                idem.as_ref(),
                &attempt.command,
                &request,
                booking.id.as_str(),
            );
            txn.event(
                "payment.captured",
                &json!({
                    "booking": {"id": booking.id},
                    "payment": {"amount": attempt.amount.padded_amount().to_string(),
                                "currency": attempt.amount.currency().code(),
                                "gateway_id": gateway_id},
                    "customer": {"name": booking.customer.name, "phone": booking.customer.phone},
                }),
            );
            self.commit(txn).await?;
            Ok(Completion::Applied(Box::new(booking)))
        })
        .await?;
        match completion {
            Completion::Applied(booking) => Ok(*booking),
            Completion::Reverse(reversing, why) => {
                self.reverse(&reversing).await?;
                Err(why)
            }
        }
    }

    /// Writes into `txn` the effect of the approved `attempt`, carrying
    /// the payment the gateway knows as `gateway_id`.
    async fn apply(
        &self,
        txn: &mut Txn,
        attempt: &PaymentAttempt,
        gateway_id: &str,
    ) -> Result<Booking> {
        let payment = Payment {
            key: attempt.charge_key(),
            gateway_id: gateway_id.to_owned(),
            amount: attempt.amount,
            refunded: Money::zero(attempt.amount.currency()),
            at: self.clock.now(),
        };
        match &attempt.purpose {
            Purpose::Confirm { request } => {
                let ahead = ReadAhead::default();
                self.confirm_into(txn, request, Some(payment), true, None, ahead)
                    .await
            }
            Purpose::Balance { booking } => self.balance_into(txn, booking, payment).await,
            Purpose::Modify { change } => {
                self.modify_into(txn, change, Some(payment), &attempt.key)
                    .await
            }
        }
    }

    /// Ends the attempt in `state` if it is still where `attempt` was
    /// (pending, or reversing), dropping the queue entry of the call it
    /// waited on, with one event.
    async fn end_attempt(
        &self,
        attempt: &PaymentAttempt,
        state: AttemptState,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<()> {
        retry_on_conflict(self.config.max_attempts, || async {
            let (mut current, record) = self.read_attempt(&attempt.key).await?;
            if std::mem::discriminant(&current.state) != std::mem::discriminant(&attempt.state) {
                return Ok(());
            }
            current.state = state.clone();
            let mut txn = Txn::default();
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &current);
            txn.delete(keys::pending_gateway_call(&attempt.awaited_call()));
            txn.event(kind, payload);
            self.commit(txn).await?;
            Ok(())
        })
        .await
    }
}
