//! Authorizations whose capture is declined are voided, so a guest's
//! funds are not held until the issuer lets them lapse; gateways without
//! voids, and voids whose answer is lost, leave the decline as it was and
//! say so in the `payment.failed` event.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use std::sync::Arc;

use async_trait::async_trait;
use catalog::world_with;
use gateway::{CAPTURE_DECLINED_CARD, DECLINED_CARD, TestGateway};
use money::{events, hold_villa, pay, shop_with, villa_free};
use reservo::engine::{AttemptState, HoldState, PayAmount, PayRequest};
use reservo::ports::{
    CaptureRequest, GatewayCapabilities, PaymentGateway, PaymentOutcome, PaymentRequest, PortError,
    RefundRequest,
};
use serde_json::Value;

fn separate_capture() -> Arc<TestGateway> {
    TestGateway::with(GatewayCapabilities {
        partial_refunds: true,
        separate_capture: true,
    })
}

fn paid_with(card: &str, hold: &reservo::engine::Hold) -> PayRequest {
    let mut request = pay("p1", hold, PayAmount::Full);
    request.payment_method = card.into();
    request
}

fn ops(gateway: &TestGateway) -> Vec<(&'static str, String)> {
    gateway
        .calls()
        .iter()
        .map(|c| (c.op, c.key.clone()))
        .collect()
}

#[tokio::test]
async fn a_declined_capture_voids_its_authorization_and_leaves_the_hold_for_another_card() {
    let s = shop_with(separate_capture(), None).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let request = paid_with(CAPTURE_DECLINED_CARD, &hold);

    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    assert!(err.to_string().contains("withdrawn"), "{err}");
    assert_eq!(
        ops(&s.gateway),
        [
            ("authorize", "p1:authorize".to_owned()),
            ("capture", "p1:charge".to_owned()),
            ("void", "p1:void".to_owned()),
        ]
    );
    assert_eq!(s.gateway.open_authorizations(), 0);
    let failed = events(&s.w, "payment.failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["authorization"]["id"], "au_1");
    assert_eq!(failed[0]["authorization"]["voided"], true);
    assert!(failed[0]["authorization"]["message"].is_null());
    let attempt = s.w.engine.payment_attempt("p1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Declined { .. }));
    let held = s.w.engine.hold_by_id(&hold.id).await.unwrap();
    assert_eq!(held.state, HoldState::Active);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);

    // A retry under the key is declined again without a gateway call.
    let calls = s.gateway.calls().len();
    let again = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(again.code(), "PAYMENT_DECLINED");
    assert_eq!(s.gateway.calls().len(), calls);
}

/// The gateway calls of a payment with the always-declined card, and
/// its `payment.failed` event.
async fn declined_card(gateway: Arc<TestGateway>) -> (Vec<(&'static str, String)>, Value) {
    let s = shop_with(gateway, None).await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let request = paid_with(DECLINED_CARD, &hold);
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    let failed = events(&s.w, "payment.failed").await.remove(0);
    (ops(&s.gateway), failed)
}

#[tokio::test]
async fn declines_without_an_approved_authorization_have_nothing_to_void() {
    let (calls, failed) = declined_card(separate_capture()).await;
    assert_eq!(calls, [("authorize", "p1:authorize".to_owned())]);
    assert!(failed.get("authorization").is_none(), "{failed}");
    let (calls, failed) = declined_card(TestGateway::new()).await;
    assert_eq!(calls, [("charge", "p1:charge".to_owned())]);
    assert!(failed.get("authorization").is_none(), "{failed}");
}

/// The test gateway, without voids: the port's default answers them.
struct Voidless(Arc<TestGateway>);

#[async_trait]
impl PaymentGateway for Voidless {
    fn capabilities(&self) -> GatewayCapabilities {
        self.0.capabilities()
    }
    async fn authorize(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.0.authorize(r).await
    }
    async fn capture(&self, r: &CaptureRequest) -> Result<PaymentOutcome, PortError> {
        self.0.capture(r).await
    }
    async fn charge(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.0.charge(r).await
    }
    async fn refund(&self, r: &RefundRequest) -> Result<PaymentOutcome, PortError> {
        self.0.refund(r).await
    }
}

#[tokio::test]
async fn a_gateway_without_voids_declines_as_before_and_the_event_says_the_authorization_stays() {
    let inner = separate_capture();
    let gateway = Arc::new(Voidless(inner.clone()));
    let w = world_with(move |b| b.payment_gateway(gateway)).await;
    let hold = hold_villa(&w, "h1", (7, 13), (7, 16)).await;
    let err = w
        .engine
        .pay_and_confirm(&paid_with(CAPTURE_DECLINED_CARD, &hold))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    assert_eq!(inner.open_authorizations(), 1);
    let failed = events(&w, "payment.failed").await;
    let authorization = &failed[0]["authorization"];
    assert_eq!(authorization["id"], "au_1");
    assert_eq!(authorization["voided"], false);
    let message = authorization["message"].as_str().unwrap();
    assert!(
        message.contains("does not void") && message.contains("au_1"),
        "{message}"
    );
}

#[tokio::test]
async fn a_void_whose_answer_is_lost_still_ends_the_attempt_declined_and_records_the_error() {
    let s = shop_with(separate_capture(), None).await;
    s.gateway.fail_voids();
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let request = paid_with(CAPTURE_DECLINED_CARD, &hold);
    let err = s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    let attempt = s.w.engine.payment_attempt("p1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Declined { .. }));
    assert_eq!(s.gateway.open_authorizations(), 1);
    let failed = events(&s.w, "payment.failed").await;
    assert_eq!(failed[0]["authorization"]["voided"], false);
    assert_eq!(
        failed[0]["authorization"]["message"],
        "connection reset during void"
    );
    // Nothing is left pending for reconciliation: the decline is final.
    let calls = s.gateway.calls().len();
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(s.gateway.calls().len(), calls, "{report:?}");
}
