//! Several notifiers on one store: claims, leases, and a dispatcher that
//! dies or stalls mid-send.
//!
//! Run with `cargo test -p reservo --test notify_concurrency`.

mod notify_support;
#[path = "support/racing_store.rs"]
mod racing_store;
#[path = "support/spy_store.rs"]
mod spy_store;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use notify_support::{
    Script, TestSender, booking, clock, config, crash_during, emit, guest_only, notifier,
};
use racing_store::{Racing, RacingStore};
use reservo::notify::{DeliveryState, Notifier};
use reservo::store::MemoryStore;
use spy_store::Spy;
use tokio::sync::Semaphore;

async fn run_until_idle(notifier: Arc<Notifier>) -> (usize, usize, usize) {
    let (mut events, mut queued, mut sent) = (0, 0, 0);
    loop {
        let report = notifier.run_once(7).await.unwrap();
        if report.is_idle() {
            return (events, queued, sent);
        }
        events += report.events;
        queued += report.queued;
        sent += report.sent;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_two_dispatchers_on_one_store_never_queue_or_send_anything_twice() {
    for round in 0..20 {
        let store = Arc::new(MemoryStore::new());
        let payloads: Vec<_> = (0..30).map(|i| booking(&format!("bk_{i}"))).collect();
        for chunk in payloads.chunks(3) {
            emit(&*store, "booking.confirmed", chunk).await;
        }
        let sender = TestSender::accepting();
        let clock = clock();
        let a = Arc::new(notifier(store.clone(), sender.clone(), clock.clone()));
        let b = Arc::new(notifier(store.clone(), sender.clone(), clock.clone()));

        let (from_a, from_b) = tokio::join!(
            tokio::spawn(run_until_idle(a)),
            tokio::spawn(run_until_idle(b))
        );
        let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());

        assert_eq!(from_a.0 + from_b.0, 30, "round {round}: events");
        assert_eq!(from_a.1 + from_b.1, 60, "round {round}: queued");
        assert_eq!(from_a.2 + from_b.2, 60, "round {round}: sent");
        let mut per_key = BTreeMap::new();
        for message in sender.calls() {
            *per_key.entry(message.dedupe_key).or_insert(0) += 1;
        }
        assert_eq!(per_key.len(), 60, "round {round}");
        assert!(
            per_key.values().all(|n| *n == 1),
            "round {round}: {per_key:?}"
        );
    }
}

#[tokio::test]
async fn notify_dispatcher_that_dies_mid_send_has_its_claim_retried_after_the_lease() {
    let store = Arc::new(MemoryStore::new());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;
    let clock = clock();
    let dying = notifier(
        store.clone(),
        TestSender::new("dying", Script::Hang),
        clock.clone(),
    );
    crash_during(dying.run_once(10));
    drop(dying);
    let sender = TestSender::accepting();
    let survivor = notifier(store.clone(), sender.clone(), clock.clone());

    // Within the lease the claim stands: nobody sends it.
    clock.advance(config().lease - Duration::milliseconds(1));
    assert!(survivor.run_once(10).await.unwrap().is_idle());
    let pending = survivor.pending_deliveries(10).await.unwrap();
    assert!(matches!(
        pending[0].state,
        DeliveryState::Pending { claimed: true, .. }
    ));

    clock.advance(Duration::milliseconds(1));
    assert_eq!(survivor.run_once(10).await.unwrap().sent, 1);
    let sent = sender.accepted();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].dedupe_key, "reservo-sms-1-guest");
    assert!(survivor.pending_deliveries(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn notify_claims_that_keep_dying_use_up_the_attempts_and_fail() {
    let store = Arc::new(MemoryStore::new());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;
    let clock = clock();
    let sender = TestSender::new("dying", Script::Hang);
    for _ in 0..config().retry.max_attempts {
        crash_during(notifier(store.clone(), sender.clone(), clock.clone()).run_once(10));
        clock.advance(config().lease);
    }
    let last = notifier(store.clone(), TestSender::accepting(), clock.clone());

    let report = last.run_once(10).await.unwrap();

    assert_eq!((report.sent, report.failed), (0, 1));
    let failed = last.failed_deliveries(10).await.unwrap();
    assert_eq!(failed[0].attempts, config().retry.max_attempts);
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(error.contains("lease"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_stalled_dispatcher_cannot_overwrite_the_takeover_after_its_lease() {
    let store = Arc::new(MemoryStore::new());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;
    let clock = clock();
    let gate = Arc::new(Semaphore::new(0));
    let slow_sender = TestSender::new("slow", Script::WaitFor(gate.clone()));
    let slow = notifier(store.clone(), slow_sender.clone(), clock.clone());
    let stalled = tokio::spawn(async move { slow.run_once(10).await });
    slow_sender.entered().await;

    clock.advance(config().lease);
    let fast_sender = TestSender::new("fast", Script::Accept);
    let fast = notifier(store.clone(), fast_sender.clone(), clock.clone());
    assert_eq!(fast.run_once(10).await.unwrap().sent, 1);
    gate.add_permits(1);
    let stalled = stalled.await.unwrap().unwrap();

    assert_eq!((stalled.sent, stalled.lost), (0, 1));
    // At least once: both sent it, under one dedupe key; the record keeps
    // the takeover's outcome.
    assert_eq!(
        slow_sender.accepted()[0].dedupe_key,
        fast_sender.accepted()[0].dedupe_key
    );
    let sent: Vec<_> = store
        .dump()
        .records
        .into_iter()
        .filter(|r| r.key.starts_with("sms/sent/"))
        .collect();
    assert_eq!(sent.len(), 1);
    let stored: serde_json::Value = serde_json::from_slice(&sent[0].value).unwrap();
    assert_eq!(stored["state"]["provider_message_id"], "fast-1");
}

/// Two notifiers that read the same due delivery and claim it at once: one
/// claim conflicts, and that notifier counts the delivery as lost to the
/// other instead of sending it.
#[tokio::test]
async fn of_two_notifiers_claiming_one_delivery_at_once_one_sends_and_one_counts_it_lost() {
    let store = Arc::new(MemoryStore::new());
    let racing: Arc<RacingStore> = Spy::over(store.clone(), Racing::on("sms/q/"));
    let clock = clock();
    let sender = TestSender::new("sender", Script::FailTimes(1));
    let first = notifier(racing.clone(), sender.clone(), clock.clone());
    let second = notifier(racing.clone(), sender.clone(), clock.clone());
    emit(store.as_ref(), "booking.confirmed", &[guest_only("bk_1")]).await;
    // Queued, and due again after one failed send.
    assert_eq!(first.run_once(10).await.unwrap().retried, 1);
    clock.advance(Duration::minutes(1));
    racing.hooks.arm();

    let (a, b) = tokio::join!(first.run_once(10), second.run_once(10));

    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.sent + b.sent, a.lost + b.lost), (1, 1), "{a:?} {b:?}");
    assert_eq!(sender.accepted().len(), 1);
    assert_eq!(
        racing.hooks.raced_commits(),
        3,
        "two racing claims and the winner's outcome"
    );
}
