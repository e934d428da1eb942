//! Reversal: the full refund of an approved payment whose command could
//! not apply.
//!
//! Owns the two steps of a reversal: committing the attempt `reversing`
//! (its queue entry moved from `<key>:charge` to `<key>:reverse`) before
//! the gateway is asked, then the refund under `<key>:reverse` that ends
//! it `reversed`. Because the first step is committed, a reversal whose
//! answer is lost is asked for again with the same key, and the approval
//! it undoes is never applied. Must never refund anything but the
//! attempt's whole amount of its own payment.

use serde_json::json;

use crate::error::{Error, Result};
use crate::ports::{PaymentOutcome, PortError, Record, RefundRequest};

use super::super::Engine;
use super::super::keys;
use super::super::txn::Txn;
use super::{AttemptState, Completion, PaymentAttempt, PendingCall};

impl Engine {
    /// Commits the pending `attempt` (read as `record`), approved as
    /// `gateway_id` but unable to apply because of `why`, as `reversing`,
    /// its queue entry moved from the charge to the reversal.
    pub(super) async fn begin_reversal(
        &self,
        mut attempt: PaymentAttempt,
        record: &Record,
        gateway_id: &str,
        why: Error,
    ) -> Result<Completion> {
        attempt.state = AttemptState::Reversing {
            gateway_id: gateway_id.to_owned(),
            reason: why.to_string(),
            last_error: None,
        };
        let mut txn = Txn::default();
        txn.expect_read(&record.key, Some(record));
        txn.put_json(&record.key, &attempt);
        txn.delete(keys::pending_gateway_call(&attempt.charge_key()));
        txn.put_json(
            keys::pending_gateway_call(&attempt.reverse_key()),
            &PendingCall::Reversal {
                attempt: attempt.key.clone(),
            },
        );
        self.commit(txn).await?;
        Ok(Completion::Reverse(Box::new(attempt), why))
    }

    /// Refunds in full the payment of a `reversing` attempt under
    /// `<key>:reverse` and ends it `reversed`. An unknown or declined
    /// answer leaves it reversing, the error noted, and returns
    /// `PAYMENT_OUTCOME_UNKNOWN`.
    pub(super) async fn reverse(&self, attempt: &PaymentAttempt) -> Result<()> {
        let AttemptState::Reversing {
            gateway_id, reason, ..
        } = &attempt.state
        else {
            return Ok(());
        };
        let outcome = self
            .gateway()?
            .refund(&RefundRequest {
                idempotency_key: attempt.reverse_key(),
                payment_id: gateway_id.clone(),
                amount: attempt.amount.amount().to_string(),
                currency: attempt.amount.currency().code().to_owned(),
            })
            .await;
        let failure = match outcome {
            Ok(PaymentOutcome::Approved { .. }) => {
                let payload = json!({
                    "reference": attempt.reference,
                    "payment": {"amount": attempt.amount.padded_amount().to_string(),
                                "currency": attempt.amount.currency().code(),
                                "gateway_id": gateway_id},
                    "reason": reason,
                });
                let state = AttemptState::Reversed {
                    reason: reason.clone(),
                };
                return self
                    .end_attempt(attempt, state, "payment.reversed", &payload)
                    .await;
            }
            Ok(PaymentOutcome::Declined { reason: declined }) => {
                format!("approved but not applied ({reason}); reversal declined: {declined}")
            }
            Err(e) => format!(
                "approved but not applied ({reason}); reversal failed: {}",
                e.message
            ),
        };
        Err(self.still_unknown(attempt, PortError::new(failure)).await)
    }
}
