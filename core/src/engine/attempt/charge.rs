//! Asking the gateway for an attempt's money, and ending an attempt the
//! gateway declined.
//!
//! Owns the calls of a charge: one `charge` under `<key>:charge`, or, for
//! a gateway that captures separately, `authorize` under `<key>:authorize`
//! then `capture` under `<key>:charge`; and, when the capture of an
//! approved authorization is declined, its `void` under `<key>:void`
//! before the attempt ends `declined` (event `payment.failed`, which
//! names the authorization and whether it was voided). Must never void an
//! authorization whose capture was approved or whose answer is unknown.

use serde_json::json;

use crate::error::{Error, Result};
use crate::ports::{CaptureRequest, PaymentGateway, PaymentOutcome, PortError, VoidRequest};

use super::super::Engine;
use super::{AttemptState, PaymentAttempt};

/// The gateway's answer to an attempt's charge.
pub(super) struct Answer {
    /// The charge's (or the capture's) outcome.
    pub(super) outcome: std::result::Result<PaymentOutcome, PortError>,
    /// The approved authorization the capture was for, if it captures
    /// separately.
    pub(super) authorization: Option<String>,
}

impl PaymentAttempt {
    /// The gateway key of the void of its authorization.
    fn void_key(&self) -> String {
        format!("{}:void", self.key)
    }
}

impl Engine {
    /// Asks `gateway` for the attempt's amount: a charge, or an
    /// authorization then its capture.
    pub(super) async fn ask(
        &self,
        gateway: &dyn PaymentGateway,
        attempt: &PaymentAttempt,
    ) -> Answer {
        if !gateway.capabilities().separate_capture {
            let request = attempt.payment_request(attempt.charge_key());
            return Answer {
                outcome: gateway.charge(&request).await,
                authorization: None,
            };
        }
        let auth = attempt.payment_request(format!("{}:authorize", attempt.key));
        match gateway.authorize(&auth).await {
            Ok(PaymentOutcome::Approved { gateway_id }) => {
                let capture = CaptureRequest {
                    idempotency_key: attempt.charge_key(),
                    authorization_id: gateway_id.clone(),
                    amount: auth.amount,
                    currency: auth.currency,
                };
                Answer {
                    outcome: gateway.capture(&capture).await,
                    authorization: Some(gateway_id),
                }
            }
            other => Answer {
                outcome: other,
                authorization: None,
            },
        }
    }

    /// Ends `attempt` declined for `reason`, first voiding the
    /// authorization whose capture was declined, if any; the error to
    /// return.
    pub(super) async fn decline(
        &self,
        gateway: &dyn PaymentGateway,
        attempt: &PaymentAttempt,
        reason: String,
        authorization: Option<String>,
    ) -> Result<Error> {
        let mut payload = json!({
            "reference": attempt.reference,
            "payment": {"amount": attempt.amount.padded_amount().to_string(),
                        "currency": attempt.amount.currency().code()},
            "reason": reason,
        });
        if let Some(id) = authorization {
            let request = VoidRequest {
                idempotency_key: attempt.void_key(),
                authorization_id: id.clone(),
            };
            let (voided, message) = match gateway.void(&request).await {
                Ok(PaymentOutcome::Approved { .. }) => (true, None),
                Ok(PaymentOutcome::Declined { reason }) => (false, Some(reason)),
                Err(unknown) => (false, Some(unknown.message)),
            };
            payload["authorization"] = json!({"id": id, "voided": voided, "message": message});
        }
        let state = AttemptState::Declined {
            reason: reason.clone(),
        };
        self.end_attempt(attempt, state, "payment.failed", &payload)
            .await?;
        Ok(Error::PaymentDeclined { reason })
    }
}
