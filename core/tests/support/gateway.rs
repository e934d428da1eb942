//! A payment gateway for tests that behaves like a real PSP: idempotent on
//! every key, captures and refunds tracked per payment, partial refunds
//! optional. It can decline (payment method `tok_declined`), fail before
//! doing anything, or do the work and lose the answer, and it records
//! every call.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reservo::ports::{
    CaptureRequest, GatewayCapabilities, PaymentGateway, PaymentOutcome, PaymentRequest, PortError,
    RefundRequest, VoidRequest,
};
use rust_decimal::Decimal;

/// The payment method the gateway always declines.
pub const DECLINED_CARD: &str = "tok_declined";

/// A payment method the gateway authorizes but whose captures it
/// declines (an authorization the issuer withdrew).
pub const CAPTURE_DECLINED_CARD: &str = "tok_capture_declined";

/// One call as the gateway saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub op: &'static str,
    pub key: String,
    pub amount: Decimal,
}

#[derive(Default)]
struct Inner {
    outcomes: HashMap<String, PaymentOutcome>,
    fail_next: u32,
    lose_next: u32,
    calls: Vec<Call>,
    /// Captured payments: id → (amount, refunded).
    payments: HashMap<String, (Decimal, Decimal)>,
    authorizations: HashMap<String, Decimal>,
    /// Authorizations whose capture is declined.
    doomed: Vec<String>,
    /// Whether voids fail before doing anything.
    voids_fail: bool,
    next_id: u64,
}

pub struct TestGateway {
    capabilities: GatewayCapabilities,
    inner: Mutex<Inner>,
}

impl TestGateway {
    /// Charges in one step, refunds partially.
    pub fn new() -> Arc<TestGateway> {
        TestGateway::with(GatewayCapabilities {
            partial_refunds: true,
            separate_capture: false,
        })
    }

    pub fn with(capabilities: GatewayCapabilities) -> Arc<TestGateway> {
        Arc::new(TestGateway {
            capabilities,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// The next `n` calls fail before the gateway does anything.
    pub fn fail_next(&self, n: u32) {
        self.inner.lock().unwrap().fail_next = n;
    }

    /// The next `n` calls do their work, then fail to answer.
    pub fn lose_next(&self, n: u32) {
        self.inner.lock().unwrap().lose_next = n;
    }

    /// Every void from now on fails before the gateway does anything.
    pub fn fail_voids(&self) {
        self.inner.lock().unwrap().voids_fail = true;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// Money captured from guests, over every payment.
    pub fn captured(&self) -> Decimal {
        self.inner
            .lock()
            .unwrap()
            .payments
            .values()
            .map(|p| p.0)
            .sum()
    }

    /// Money given back to guests.
    pub fn refunded(&self) -> Decimal {
        self.inner
            .lock()
            .unwrap()
            .payments
            .values()
            .map(|p| p.1)
            .sum()
    }

    /// Authorizations neither captured nor voided: funds still held on
    /// guests' cards.
    pub fn open_authorizations(&self) -> usize {
        self.inner.lock().unwrap().authorizations.len()
    }

    /// Amounts refunded per payment, by payment id.
    pub fn refunds_by_payment(&self) -> HashMap<String, Decimal> {
        let inner = self.inner.lock().unwrap();
        inner
            .payments
            .iter()
            .map(|(id, (_, refunded))| (id.clone(), *refunded))
            .collect()
    }

    fn run(
        &self,
        op: &'static str,
        key: &str,
        amount: &str,
        work: impl FnOnce(&mut Inner, Decimal) -> PaymentOutcome,
    ) -> Result<PaymentOutcome, PortError> {
        let amount: Decimal = amount.parse().expect("the engine sends decimal strings");
        let mut inner = self.inner.lock().unwrap();
        inner.calls.push(Call {
            op,
            key: key.to_owned(),
            amount,
        });
        if inner.fail_next > 0 {
            inner.fail_next -= 1;
            return Err(PortError::new("gateway timeout"));
        }
        let outcome = match inner.outcomes.get(key) {
            Some(first) => first.clone(),
            None => {
                let outcome = work(&mut inner, amount);
                inner.outcomes.insert(key.to_owned(), outcome.clone());
                outcome
            }
        };
        if inner.lose_next > 0 {
            inner.lose_next -= 1;
            return Err(PortError::new(
                "connection reset after the request was sent",
            ));
        }
        Ok(outcome)
    }
}

fn new_id(inner: &mut Inner, prefix: &str) -> String {
    inner.next_id += 1;
    format!("{prefix}_{}", inner.next_id)
}

fn declined(reason: &str) -> PaymentOutcome {
    PaymentOutcome::Declined {
        reason: reason.to_owned(),
    }
}

fn capture(inner: &mut Inner, amount: Decimal) -> PaymentOutcome {
    let id = new_id(inner, "ch");
    inner.payments.insert(id.clone(), (amount, Decimal::ZERO));
    PaymentOutcome::Approved { gateway_id: id }
}

#[async_trait]
impl PaymentGateway for TestGateway {
    fn capabilities(&self) -> GatewayCapabilities {
        self.capabilities
    }

    async fn authorize(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        let method = r.payment_method.clone();
        self.run(
            "authorize",
            &r.idempotency_key,
            &r.amount,
            |inner, amount| {
                if method == DECLINED_CARD {
                    return declined("card declined");
                }
                let id = new_id(inner, "au");
                inner.authorizations.insert(id.clone(), amount);
                if method == CAPTURE_DECLINED_CARD {
                    inner.doomed.push(id.clone());
                }
                PaymentOutcome::Approved { gateway_id: id }
            },
        )
    }

    async fn capture(&self, r: &CaptureRequest) -> Result<PaymentOutcome, PortError> {
        let auth = r.authorization_id.clone();
        self.run("capture", &r.idempotency_key, &r.amount, |inner, amount| {
            if inner.doomed.contains(&auth) {
                return declined("authorization withdrawn by the issuer");
            }
            match inner.authorizations.remove(&auth) {
                Some(authorized) if amount <= authorized => capture(inner, amount),
                _ => declined("no such authorization"),
            }
        })
    }

    async fn charge(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        let method = r.payment_method.clone();
        self.run("charge", &r.idempotency_key, &r.amount, |inner, amount| {
            if method == DECLINED_CARD {
                return declined("card declined");
            }
            capture(inner, amount)
        })
    }

    async fn refund(&self, r: &RefundRequest) -> Result<PaymentOutcome, PortError> {
        let payment = r.payment_id.clone();
        let partial = self.capabilities.partial_refunds;
        self.run("refund", &r.idempotency_key, &r.amount, |inner, amount| {
            let Some((paid, refunded)) = inner.payments.get(&payment).copied() else {
                return declined("no such payment");
            };
            if !partial && (amount != paid || !refunded.is_zero()) {
                return declined("partial refunds are not supported");
            }
            if amount + refunded > paid {
                return declined("refund exceeds the payment");
            }
            inner
                .payments
                .insert(payment.clone(), (paid, refunded + amount));
            PaymentOutcome::Approved {
                gateway_id: new_id(inner, "re"),
            }
        })
    }

    async fn void(&self, r: &VoidRequest) -> Result<PaymentOutcome, PortError> {
        if self.inner.lock().unwrap().voids_fail {
            return Err(PortError::new("connection reset during void"));
        }
        let auth = r.authorization_id.clone();
        self.run("void", &r.idempotency_key, "0", |inner, _| {
            match inner.authorizations.remove(&auth) {
                Some(_) => PaymentOutcome::Approved {
                    gateway_id: new_id(inner, "vo"),
                },
                None => declined("no such authorization"),
            }
        })
    }
}
