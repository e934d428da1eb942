//! The payment port: what the engine asks of the host's payment service
//! provider, and the answers it expects.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::PortError;

/// What a payment gateway can do, declared once by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayCapabilities {
    /// Whether a refund may be for less than the payment's captured amount.
    pub partial_refunds: bool,
    /// Whether the gateway authorizes and captures in two steps. If not, the
    /// engine uses [`PaymentGateway::charge`] only.
    pub separate_capture: bool,
}

/// A request to authorize or charge an amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// The key the gateway must use to deduplicate: the same key twice must
    /// never move money twice.
    pub idempotency_key: String,
    /// The booking or hold the payment is for.
    pub reference: String,
    /// Amount in the currency's major unit, as a decimal string (`"120.50"`).
    pub amount: String,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The host's payment method token (card token, wallet id, ...).
    pub payment_method: String,
}

/// A request to capture a previous authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRequest {
    /// Deduplication key for the capture.
    pub idempotency_key: String,
    /// The gateway's id of the authorization.
    pub authorization_id: String,
    /// Amount to capture (decimal string, at most the authorized amount).
    pub amount: String,
    /// ISO 4217 currency code.
    pub currency: String,
}

/// A request to release an authorization that will not be captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidRequest {
    /// Deduplication key for the void.
    pub idempotency_key: String,
    /// The gateway's id of the authorization.
    pub authorization_id: String,
}

impl VoidRequest {
    /// What a gateway that does not void authorizations answers: the
    /// default of [`PaymentGateway::void`], for adapters that forward to
    /// hosts which may not implement it.
    pub fn unsupported(&self) -> PaymentOutcome {
        PaymentOutcome::Declined {
            reason: format!(
                "this gateway does not void authorizations ({} lapses at the issuer)",
                self.authorization_id
            ),
        }
    }
}

/// A request to refund (part of) a captured payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    /// Deduplication key for the refund.
    pub idempotency_key: String,
    /// The gateway's id of the captured payment.
    pub payment_id: String,
    /// Amount to refund (decimal string).
    pub amount: String,
    /// ISO 4217 currency code.
    pub currency: String,
}

/// The gateway's definite answer to a payment operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PaymentOutcome {
    /// Money moved (or was authorized). `gateway_id` identifies the
    /// authorization, payment or refund at the gateway.
    Approved {
        /// The gateway's id for what was approved.
        gateway_id: String,
    },
    /// The gateway refused; no money moved.
    Declined {
        /// The gateway's reason, for people.
        reason: String,
    },
}

/// The host's payment service provider.
///
/// Every method must be idempotent on the request's `idempotency_key`:
/// calling it again with the same key returns the first call's outcome and
/// moves no more money. `Ok(Declined)` is a definite "no"; `Err` means the
/// outcome is unknown (timeout, connection reset) and the engine retries
/// later with the same key.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// What this gateway supports.
    fn capabilities(&self) -> GatewayCapabilities;

    /// Authorizes an amount without capturing it. Only called when
    /// [`GatewayCapabilities::separate_capture`] is true.
    async fn authorize(&self, request: &PaymentRequest) -> Result<PaymentOutcome, PortError>;

    /// Captures a previous authorization. Only called when
    /// [`GatewayCapabilities::separate_capture`] is true.
    async fn capture(&self, request: &CaptureRequest) -> Result<PaymentOutcome, PortError>;

    /// Authorizes and captures in one step.
    async fn charge(&self, request: &PaymentRequest) -> Result<PaymentOutcome, PortError>;

    /// Refunds all or part of a captured payment. A partial refund is only
    /// requested when [`GatewayCapabilities::partial_refunds`] is true.
    async fn refund(&self, request: &RefundRequest) -> Result<PaymentOutcome, PortError>;

    /// Releases an authorization that will not be captured because its
    /// capture was declined, so the guest's funds are not held until the
    /// authorization lapses at the issuer. Only called when
    /// [`GatewayCapabilities::separate_capture`] is true.
    ///
    /// The engine asks once, under `<command key>:void`, and goes on
    /// whatever the answer: `Approved` (released), `Declined` or `Err`
    /// are recorded in the `payment.failed` event's `authorization`
    /// (`{"id", "voided", "message"}`) for the host to follow up. The
    /// default declines: a gateway that does not implement voids lets its
    /// authorizations lapse.
    async fn void(&self, request: &VoidRequest) -> Result<PaymentOutcome, PortError> {
        Ok(request.unsupported())
    }
}
