//! A payment approved at the gateway whose booking cannot be written for a
//! passing reason (the store failing a read) is not reversed: the attempt
//! stays pending and a retry books it with the money already taken. (A
//! reason that would repeat, like the nights sold meanwhile, reverses it:
//! `engine_modify_retries.rs`.)

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gateway::TestGateway;
use money::{eur, hold_villa, pay, shop, villa_free};
use reservo::booking::BookingStatus;
use reservo::engine::{AttemptState, Engine, PayAmount};
use reservo::ports::{Key, StorageError};
use rust_decimal_macros::dec;
use spy_store::{Hooks, Spy};

/// Fails once the first read of a hold made after the gateway took a
/// payment.
struct FailsAfterCharge {
    gateway: Arc<TestGateway>,
    failed: AtomicBool,
}

impl Hooks for FailsAfterCharge {
    fn fail_get(&self, keys: &[Key]) -> Option<StorageError> {
        let reads_a_hold = keys.iter().any(|k| k.starts_with("hold/"));
        let after_charge = self.gateway.captured() > dec!(0);
        (reads_a_hold && after_charge && !self.failed.swap(true, Ordering::SeqCst))
            .then(|| StorageError::backend("the disk hiccuped"))
    }
}

#[tokio::test]
async fn a_store_failure_after_the_charge_leaves_the_attempt_pending_and_a_retry_books_it() {
    let s = shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let store = Spy::over(
        s.w.store.clone(),
        FailsAfterCharge {
            gateway: s.gateway.clone(),
            failed: AtomicBool::new(false),
        },
    );
    let engine = Engine::builder(store.clone())
        .clock(s.w.clock.clone())
        .payment_gateway(s.gateway.clone())
        .build();
    let request = pay("p1", &hold, PayAmount::Full);
    let err = engine.pay_and_confirm(&request).await.unwrap_err();
    assert!(store.hooks.failed.load(Ordering::SeqCst), "{err}");
    assert_eq!(s.gateway.captured(), dec!(360.00));
    assert_eq!(s.gateway.refunded(), dec!(0));
    let attempt = s.w.engine.payment_attempt("p1").await.unwrap();
    assert!(
        matches!(attempt.state, AttemptState::Pending { .. }),
        "{:?}",
        attempt.state
    );
    // The retry finds the charge approved and books it; nothing is charged
    // or refunded again.
    let booking = engine.pay_and_confirm(&request).await.unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert_eq!(booking.money.paid(booking.total.currency()), eur("360.00"));
    assert_eq!(s.gateway.captured(), dec!(360.00));
    assert_eq!(s.gateway.refunded(), dec!(0));
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [0, 0, 0]);
    assert!(matches!(
        s.w.engine.payment_attempt("p1").await.unwrap().state,
        AttemptState::Approved { .. }
    ));
}
