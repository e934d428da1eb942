//! Reconciliation: the queue of gateway calls whose outcome is unknown
//! (`pq/<gateway key>`), and asking the gateway about them again.
//!
//! Owns the queue entry ([`PendingCall`]: which attempt or booking a call
//! belongs to) and [`Engine::reconcile_payments`], which settles each
//! entry as the command that queued it would: a charge or a reversal
//! through its attempt (see [`super`]), a refund through its booking (see
//! [`super::super::refund`]). Must never settle a call other than by the
//! record it belongs to, with the key it was first made with.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::ports::KeyRange;

use super::super::Engine;
use super::super::keys;
use super::super::txn::decode_json;
use super::{AttemptState, reverse_key};

/// What [`Engine::reconcile_payments`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    /// Gateway keys whose outcome is now known and applied.
    pub settled: Vec<String>,
    /// Gateway keys still unknown: the gateway failed again, or the call
    /// could not settle now (its record is contended or unreadable), or
    /// it is the reversal of a charge settled here that could not apply.
    pub still_pending: Vec<String>,
}

/// A queue entry: which record a pending gateway call belongs to.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum PendingCall {
    /// A charge of the attempt under this command key.
    Charge { attempt: String },
    /// The reversal (full refund) of the attempt under this command key.
    Reversal { attempt: String },
    /// A refund recorded on this booking.
    Refund { booking: BookingId },
}

impl Engine {
    /// Re-asks the gateway about every call whose outcome is unknown,
    /// with the same keys, and applies the answers: pending charges are
    /// settled as in [`Engine::pay_and_confirm`], reversals and pending
    /// refunds are issued. Safe to run at any time and from several
    /// processes. A call that cannot settle now (the gateway fails again,
    /// its attempt is contended) is reported in `still_pending` and the
    /// others are settled all the same; so is the reversal of a charge
    /// that settled here but could not apply.
    ///
    /// Errors: only storage errors.
    pub async fn reconcile_payments(&self) -> Result<ReconcileReport> {
        let entries = self
            .storage
            .scan(&KeyRange::prefix(keys::PENDING_GATEWAY_CALLS), usize::MAX)
            .await?;
        let mut report = ReconcileReport::default();
        for entry in entries {
            let gateway_key = entry.key[keys::PENDING_GATEWAY_CALLS.len()..].to_owned();
            let mut watched = vec![entry.key.clone()];
            let outcome = match decode_json(&entry) {
                Ok(PendingCall::Charge { attempt }) => {
                    // Its reversal, if the approval cannot apply.
                    watched.push(keys::pending_gateway_call(&reverse_key(&attempt)));
                    self.reconcile_attempt(&attempt).await
                }
                Ok(PendingCall::Reversal { attempt }) => self.reconcile_attempt(&attempt).await,
                Ok(PendingCall::Refund { booking }) => self.issue_refunds(&booking).await,
                Err(e) => Err(e),
            };
            if let Err(e @ Error::Storage(_)) = outcome {
                return Err(e);
            }
            let left = self.storage.get(&watched).await?;
            match left.first() {
                Some(Some(_)) => report.still_pending.push(gateway_key),
                _ => report.settled.push(gateway_key),
            }
            if let Some(Some(reversal)) = left.get(1) {
                let key = &reversal.key[keys::PENDING_GATEWAY_CALLS.len()..];
                report.still_pending.push(key.to_owned());
            }
        }
        Ok(report)
    }

    /// Settles the attempt under `key` if it is pending or reversing.
    async fn reconcile_attempt(&self, key: &str) -> Result<()> {
        let attempt = self.payment_attempt(key).await?;
        match attempt.state {
            AttemptState::Pending { .. } | AttemptState::Reversing { .. } => {
                self.settle(attempt).await.map(drop)
            }
            _ => Ok(()),
        }
    }
}
