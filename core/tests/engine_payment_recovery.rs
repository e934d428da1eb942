//! Payments whose outcome was lost, settled safely: a modification charge
//! that went stale or raced another settlement is reversed, never applied;
//! a lost reversal is settled; and a pending payment's key is taken for
//! every other command until the payment settles.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/modifications.rs"]
mod modifications;
#[path = "support/money.rs"]
mod money;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use catalog::{World, world_with};
use gateway::TestGateway;
use modifications::{modify, net_at_gateway, priced_total, shop_with_fee};
use money::{cancel, deposit, eur, events, hold_villa, pay, shop, villa, villa_paid_in_full};
use reservo::booking::BookingStatus;
use reservo::engine::{
    AttemptState, Booking, ConfirmRequest, HoldRequest, NoShowRequest, PayAmount,
};
use reservo::ports::{
    CaptureRequest, CommitBatch, GatewayCapabilities, Mutation, PaymentGateway, PaymentOutcome,
    PaymentRequest, PortError, RefundRequest, Storage,
};
use tokio::sync::Notify;

/// A charge attempt for a modification whose outcome was lost does not
/// apply once the booking changed since it was priced, even if the booking
/// came back to the same items (A → B → A): it was priced on the booking's
/// change fees of the time, so applying it would leave a total that no
/// longer adds up. It is reversed instead.
#[tokio::test]
async fn stale_modification_charge_is_reversed_after_the_booking_changed_and_came_back() {
    let s = shop_with_fee("10.00").await;
    let booking = villa_paid_in_full(&s.w).await;
    let id = booking.id.clone();
    s.gateway.lose_next(1);
    let stale = modify("m1", &id, (7, 14), (7, 18));
    let err = s.w.engine.modify(&stale).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    // Shorter, then back to the original nights: two change fees.
    s.w.engine
        .modify(&modify("m2", &id, (7, 13), (7, 15)))
        .await
        .unwrap();
    let back =
        s.w.engine
            .modify(&modify("m3", &id, (7, 13), (7, 16)))
            .await
            .unwrap();
    assert_eq!(back.items, booking.items, "precondition: same items again");
    assert_eq!(back.total, eur("380.00"));
    assert_eq!(priced_total(&back), back.total);

    s.w.engine.reconcile_payments().await.unwrap();
    let after = s.w.engine.booking(&id).await.unwrap();
    // Whatever happened to the stale charge, the booking must add up...
    assert_eq!(
        priced_total(&after),
        after.total,
        "items + change fees {:?} vs total {}",
        after.money.change_fees,
        after.total
    );
    assert_eq!(
        after.money.paid(after.total.currency()).amount(),
        net_at_gateway(&s.gateway)
    );
    // ...and the booking changed since m1 was priced: it is reversed.
    let attempt = s.w.engine.payment_attempt("m1").await.unwrap();
    assert!(
        matches!(attempt.state, AttemptState::Reversed { .. }),
        "{:?}",
        attempt.state
    );
    assert_eq!(after.items, booking.items);
}

/// A gateway that holds the first call with one key until released, and
/// tells when that call arrived: two settlements of one attempt race.
struct GatedGateway {
    inner: Arc<TestGateway>,
    gate: std::sync::Mutex<Option<String>>,
    used: AtomicBool,
    arrived: Notify,
    release: Notify,
    /// Keys whose next call does its work and then loses the answer.
    lose: std::sync::Mutex<Vec<String>>,
}

impl GatedGateway {
    async fn pass(&self, key: &str) {
        let gated = self.gate.lock().unwrap().as_deref() == Some(key);
        if gated && !self.used.swap(true, Ordering::SeqCst) {
            self.arrived.notify_one();
            self.release.notified().await;
        }
    }

    fn answer(
        &self,
        key: &str,
        outcome: Result<PaymentOutcome, PortError>,
    ) -> Result<PaymentOutcome, PortError> {
        let mut lose = self.lose.lock().unwrap();
        match lose.iter().position(|k| k == key) {
            Some(at) => {
                lose.remove(at);
                Err(PortError::new(
                    "connection reset after the request was sent",
                ))
            }
            None => outcome,
        }
    }
}

#[async_trait]
impl PaymentGateway for GatedGateway {
    fn capabilities(&self) -> GatewayCapabilities {
        self.inner.capabilities()
    }

    async fn authorize(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.pass(&r.idempotency_key).await;
        let outcome = self.inner.authorize(r).await;
        self.answer(&r.idempotency_key, outcome)
    }

    async fn capture(&self, r: &CaptureRequest) -> Result<PaymentOutcome, PortError> {
        self.pass(&r.idempotency_key).await;
        let outcome = self.inner.capture(r).await;
        self.answer(&r.idempotency_key, outcome)
    }

    async fn charge(&self, r: &PaymentRequest) -> Result<PaymentOutcome, PortError> {
        self.pass(&r.idempotency_key).await;
        let outcome = self.inner.charge(r).await;
        self.answer(&r.idempotency_key, outcome)
    }

    async fn refund(&self, r: &RefundRequest) -> Result<PaymentOutcome, PortError> {
        self.pass(&r.idempotency_key).await;
        let outcome = self.inner.refund(r).await;
        self.answer(&r.idempotency_key, outcome)
    }
}

async fn gated_world() -> (World, Arc<GatedGateway>) {
    let gated = Arc::new(GatedGateway {
        inner: TestGateway::new(),
        gate: std::sync::Mutex::new(None),
        used: AtomicBool::new(false),
        arrived: Notify::new(),
        release: Notify::new(),
        lose: std::sync::Mutex::new(Vec::new()),
    });
    let for_engine = gated.clone();
    let w = world_with(move |b| b.payment_gateway(for_engine)).await;
    (w, gated)
}

/// `reconcile_payments` is "safe to run at any time and from several
/// processes". Two settlements of one lost modification charge race: the
/// first to hear "approved" finds the new nights sold and reverses the
/// charge; the other, answered later with the same approval, finds the
/// attempt reversed and does not apply the modification with the payment
/// that was refunded.
#[tokio::test]
async fn racing_settlement_never_applies_a_modification_charge_already_reversed() {
    let (w, gated) = gated_world().await;
    let hold = hold_villa(&w, "h1", (7, 13), (7, 16)).await;
    let booking = w
        .engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap();
    gated.inner.lose_next(1);
    let request = modify("m1", &booking.id, (7, 13), (7, 18));
    let err = w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    // Meanwhile another guest books the 16th and 17th.
    let other_hold = hold_villa(&w, "h2", (7, 16), (7, 18)).await;
    let other = w
        .engine
        .pay_and_confirm(&pay("p2", &other_hold, PayAmount::Full))
        .await
        .unwrap();
    *gated.gate.lock().unwrap() = Some("m1:charge".into());

    let first = w.engine.reconcile_payments();
    let second = async {
        gated.arrived.notified().await;
        let outcome = w.engine.modify(&request).await;
        // The second settlement reversed the charge; then the nights free up.
        w.engine.cancel(&cancel("c2", &other.id)).await.unwrap();
        gated.release.notify_one();
        outcome
    };
    let (reconciled, retried) = tokio::join!(first, second);
    reconciled.unwrap();
    assert_eq!(retried.unwrap_err().code(), "UNAVAILABLE");

    let attempt = w.engine.payment_attempt("m1").await.unwrap();
    let after = w.engine.booking(&booking.id).await.unwrap();
    // The charge of 130.00 was refunded at the gateway: the booking must not
    // carry it as paid.
    let refunded_charge = gated
        .inner
        .calls()
        .iter()
        .any(|c| c.op == "refund" && c.key == "m1:reverse");
    assert!(refunded_charge, "precondition: the charge was reversed");
    assert!(
        matches!(attempt.state, AttemptState::Reversed { .. }),
        "{:?}",
        attempt.state
    );
    assert_eq!(after.items, booking.items);
    assert_eq!(after.money.payments.len(), 1);
    let paid_in_bookings = after.money.paid(after.total.currency()).amount()
        + w.engine
            .booking(&other.id)
            .await
            .unwrap()
            .money
            .paid(after.total.currency())
            .amount();
    assert_eq!(paid_in_bookings, net_at_gateway(&gated.inner));
}

/// A reversal whose answer is lost is an unknown outcome like any other:
/// the engine remembers that it is reversing the charge and settles the
/// reversal, and never applies the charge's effect later once it could (the
/// new nights freed up), with a payment the gateway may already have
/// refunded.
#[tokio::test]
async fn lost_reversal_of_a_modification_charge_is_settled_never_applied() {
    let (w, gated) = gated_world().await;
    let hold = hold_villa(&w, "h1", (7, 13), (7, 16)).await;
    let booking = w
        .engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap();
    gated.lose.lock().unwrap().push("m1:charge".into());
    let request = modify("m1", &booking.id, (7, 13), (7, 18));
    let err = w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    let other_hold = hold_villa(&w, "h2", (7, 16), (7, 18)).await;
    let other = w
        .engine
        .pay_and_confirm(&pay("p2", &other_hold, PayAmount::Full))
        .await
        .unwrap();
    // Approved, cannot apply (sold), reversed: the reversal's answer is lost.
    gated.lose.lock().unwrap().push("m1:reverse".into());
    let err = w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    let reversed = gated
        .inner
        .calls()
        .iter()
        .any(|c| c.op == "refund" && c.key == "m1:reverse");
    assert!(reversed, "precondition: the gateway refunded the charge");
    // The other guest cancels; then reconciliation runs.
    w.engine.cancel(&cancel("c2", &other.id)).await.unwrap();
    w.engine.reconcile_payments().await.unwrap();

    let after = w.engine.booking(&booking.id).await.unwrap();
    let attempt = w.engine.payment_attempt("m1").await.unwrap();
    let currency = after.total.currency();
    let other = w.engine.booking(&other.id).await.unwrap();
    let paid = after.money.paid(currency).amount() + other.money.paid(currency).amount();
    assert_eq!(
        paid,
        net_at_gateway(&gated.inner),
        "bookings say {paid} paid, attempt {:?}",
        attempt.state
    );
    assert!(
        matches!(attempt.state, AttemptState::Reversed { .. }),
        "{:?}",
        attempt.state
    );
    assert_eq!(after.items, booking.items);
}

/// A paid booking (13-16 July) and a payment for a hold of 20-23 July
/// under `key` whose answer was lost: the guest is charged, no booking yet.
async fn lost_payment_beside_a_booking(
    s: &money::Shop,
    key: &str,
) -> (Booking, reservo::engine::Hold) {
    let other = villa_paid_in_full(&s.w).await;
    let hold = hold_villa(&s.w, "h2", (7, 20), (7, 23)).await;
    s.gateway.lose_next(1);
    let err =
        s.w.engine
            .pay_and_confirm(&pay(key, &hold, PayAmount::Full))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "PAYMENT_OUTCOME_UNKNOWN");
    (other, hold)
}

/// A key taken by a payment attempt is used: another command under it is
/// a conflict, even while the payment's outcome is unknown (the attempt
/// claims the key). So the payment, approved at the gateway, still records
/// its own idempotency record and applies: the guest is never left charged
/// without a booking.
#[tokio::test]
async fn key_of_a_pending_payment_is_a_conflict_for_cancel_and_the_payment_applies() {
    let s = shop().await;
    let (other, hold) = lost_payment_beside_a_booking(&s, "k").await;
    let cancelled = s.w.engine.cancel(&cancel("k", &other.id)).await;
    let reconciled = s.w.engine.reconcile_payments().await;
    let attempt = s.w.engine.payment_attempt("k").await.unwrap();
    assert!(
        !matches!(attempt.state, AttemptState::Pending { .. }),
        "charged {} and stuck: {:?}; reconcile: {reconciled:?}; cancel under the \
         payment's key: {:?}",
        s.gateway.captured(),
        attempt.state,
        cancelled.as_ref().map(|b| b.status)
    );
    assert_eq!(
        cancelled.map(|b| b.status).map_err(|e| e.code()),
        Err("IDEMPOTENCY_CONFLICT")
    );
    let booked =
        s.w.engine
            .pay_and_confirm(&pay("k", &hold, PayAmount::Full))
            .await;
    assert!(booked.is_ok(), "{booked:?}");
}

/// Writes `value` under `key` straight into the store, as data written by
/// an older engine or damaged outside it would be.
async fn put_raw(w: &World, key: &str, value: &[u8]) {
    w.store
        .commit(CommitBatch {
            mutations: vec![Mutation::Put {
                key: key.into(),
                value: value.to_vec(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
}

/// Reconciliation settles every call it can: one that cannot settle (here
/// a lost payment whose attempt record is unreadable) is reported still
/// pending and does not stop the others.
#[tokio::test]
async fn reconcile_settles_the_other_payments_past_one_that_cannot_settle() {
    let s = shop().await;
    lost_payment_beside_a_booking(&s, "k").await;
    put_raw(&s.w, "pa/k", b"{not an attempt").await;
    // A second lost payment, queued after the stuck one.
    let hold = hold_villa(&s.w, "h3", (7, 25), (7, 27)).await;
    s.gateway.lose_next(1);
    let request = pay("z", &hold, PayAmount::Full);
    s.w.engine.pay_and_confirm(&request).await.unwrap_err();
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["z:charge"]);
    assert_eq!(report.still_pending, ["k:charge"]);
    let attempt = s.w.engine.payment_attempt("z").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Approved { .. }));
}

/// Every command that checks idempotency finds the key of a payment whose
/// outcome is unknown taken, whatever it would do: hold, confirm, cancel,
/// a modification that moves no money, another payment. None of them
/// changes anything, and the payment then settles under its key.
#[tokio::test]
async fn every_other_command_under_the_key_of_a_pending_payment_is_a_conflict() {
    let s = shop().await;
    let (other, hold) = lost_payment_beside_a_booking(&s, "k").await;
    let before = s.w.store.dump();
    let mut refused = vec![
        s.w.engine
            .hold(&HoldRequest::new("k", vec![villa((7, 25), (7, 27))], 900))
            .await
            .map(|_| ()),
        s.w.engine
            .confirm(&ConfirmRequest::new("k", hold.id.clone(), money::ana()))
            .await
            .map(|_| ()),
        s.w.engine.cancel(&cancel("k", &other.id)).await.map(|_| ()),
        s.w.engine
            .mark_no_show(&NoShowRequest {
                idempotency_key: "k".into(),
                booking: other.id.clone(),
            })
            .await
            .map(|_| ()),
        s.w.engine
            .pay_and_confirm(&pay("k", &hold, deposit("100.00")))
            .await
            .map(|_| ()),
    ];
    // Same nights: no money moves.
    let mut same = modify("k", &other.id, (7, 13), (7, 16));
    same.payment_method = None;
    refused.push(s.w.engine.modify(&same).await.map(|_| ()));
    for outcome in refused {
        assert_eq!(outcome.map_err(|e| e.code()), Err("IDEMPOTENCY_CONFLICT"));
    }
    assert_eq!(s.w.store.dump(), before);
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["k:charge"]);
    let booked =
        s.w.engine
            .pay_and_confirm(&pay("k", &hold, PayAmount::Full))
            .await
            .unwrap();
    assert_eq!(booked.status, BookingStatus::Confirmed);
    let paid = other.total.amount() + booked.total.amount();
    assert_eq!(s.gateway.captured(), paid);
}

/// A payment attempt recorded before attempts claimed their key, whose key
/// another command then took: approved at the gateway, it can never record
/// its idempotency record, so it is reversed instead of staying stuck.
#[tokio::test]
async fn approved_payment_whose_key_another_command_took_is_reversed() {
    let s = shop().await;
    let (other, hold) = lost_payment_beside_a_booking(&s, "k").await;
    let cancel_record = serde_json::json!({
        "v": 2,
        "command": "cancel",
        "result": other.id.as_str(),
        "request": cancel("k", &other.id),
    });
    put_raw(&s.w, "idem/k", cancel_record.to_string().as_bytes()).await;
    let report = s.w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["k:charge"]);
    let attempt = s.w.engine.payment_attempt("k").await.unwrap();
    assert!(
        matches!(attempt.state, AttemptState::Reversed { .. }),
        "{:?}",
        attempt.state
    );
    assert_eq!(net_at_gateway(&s.gateway), other.total.amount());
    let held = s.w.engine.hold_by_id(&hold.id).await.unwrap();
    assert_eq!(held.state, reservo::engine::HoldState::Active);
}

/// A reversal whose answer is lost during reconciliation is reported still
/// pending under its own key; a replay of the command only asks for the
/// refund again, with the same key, and answers that it was refunded.
#[tokio::test]
async fn lost_reversal_is_reported_pending_and_a_replay_only_retries_the_refund() {
    let (w, gated) = gated_world().await;
    let hold = hold_villa(&w, "h1", (7, 13), (7, 16)).await;
    let booking = w
        .engine
        .pay_and_confirm(&pay("p1", &hold, PayAmount::Full))
        .await
        .unwrap();
    gated.inner.lose_next(1);
    let request = modify("m1", &booking.id, (7, 13), (7, 18));
    w.engine.modify(&request).await.unwrap_err();
    let other_hold = hold_villa(&w, "h2", (7, 16), (7, 18)).await;
    let other = w
        .engine
        .pay_and_confirm(&pay("p2", &other_hold, PayAmount::Full))
        .await
        .unwrap();
    gated.lose.lock().unwrap().push("m1:reverse".into());
    let report = w.engine.reconcile_payments().await.unwrap();
    assert_eq!(report.settled, ["m1:charge"]);
    assert_eq!(report.still_pending, ["m1:reverse"]);
    let attempt = w.engine.payment_attempt("m1").await.unwrap();
    assert!(
        matches!(
            attempt.state,
            AttemptState::Reversing {
                last_error: Some(_),
                ..
            }
        ),
        "{:?}",
        attempt.state
    );
    let calls = gated.inner.calls().len();
    let err = w.engine.modify(&request).await.unwrap_err();
    assert_eq!(err.code(), "PAYMENT_DECLINED");
    let retried: Vec<_> = gated.inner.calls()[calls..]
        .iter()
        .map(|c| (c.op, c.key.clone()))
        .collect();
    assert_eq!(retried, [("refund", "m1:reverse".to_owned())]);
    let attempt = w.engine.payment_attempt("m1").await.unwrap();
    assert!(matches!(attempt.state, AttemptState::Reversed { .. }));
    assert_eq!(events(&w, "payment.reversed").await.len(), 1);
    assert!(
        w.engine
            .reconcile_payments()
            .await
            .unwrap()
            .settled
            .is_empty()
    );
    let paid = booking.total.amount() + other.total.amount();
    assert_eq!(net_at_gateway(&gated.inner), paid);
}
