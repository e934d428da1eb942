//! Delivery records a notifier cannot read — written by a newer Reservo
//! during a rolling upgrade, or damaged — never stop it from sending the
//! others: it passes over them, counts them, and leaves them for a
//! notifier that can read them.
//!
//! Run with `cargo test -p reservo --test notify_unreadable`.

mod notify_support;

use std::sync::Arc;

use notify_support::{Script, TestSender, clock, emit, guest_only, notifier};
use reservo::notify::{Delivery, Notifier};
use reservo::ports::{CommitBatch, KeyRange, Mutation, Storage};
use reservo::store::MemoryStore;

/// Queues a record at `key` under the queue of due deliveries.
async fn plant(store: &MemoryStore, key: &str, value: &[u8]) {
    let put = Mutation::Put {
        key: key.into(),
        value: value.to_vec(),
    };
    let batch = CommitBatch {
        mutations: vec![put],
        ..Default::default()
    };
    store.commit(batch).await.unwrap();
}

/// A record due long ago, so it sorts before every real delivery.
const EARLY: &str = "sms/q/000000000000001/00000000000000000001/guest";

#[tokio::test]
async fn records_it_cannot_read_are_passed_over_and_the_others_are_sent() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let n = notifier(store.clone(), sender.clone(), clock());
    // A newer format at the front of the queue, damaged bytes after it.
    plant(&store, EARLY, br#"{"v":2,"seq":1,"audience":"guest"}"#).await;
    let damaged = "sms/q/000000000000002/00000000000000000002/guest";
    plant(&store, damaged, b"not json").await;
    let payloads: Vec<_> = (1..=3).map(|i| guest_only(&format!("bk_{i}"))).collect();
    emit(store.as_ref(), "booking.confirmed", &payloads).await;

    // Before the fix the run failed on the first record, every time.
    let report = n.run_once(2).await.unwrap();

    assert_eq!((report.queued, report.sent, report.unreadable), (2, 2, 2));
    let report = n.run_once(2).await.unwrap();
    assert_eq!((report.queued, report.sent, report.unreadable), (1, 1, 2));
    assert_eq!(sender.accepted().len(), 3);
    let queue = store.scan(&KeyRange::prefix("sms/q/"), 10).await.unwrap();
    let left: Vec<_> = queue.into_iter().map(|r| r.key).collect();
    assert_eq!(
        left,
        [EARLY, damaged],
        "left for a notifier that can read them"
    );
}

#[tokio::test]
async fn a_queue_of_only_unreadable_records_is_idle_and_says_how_many() {
    let store = Arc::new(MemoryStore::new());
    let n = notifier(store.clone(), TestSender::accepting(), clock());
    plant(&store, EARLY, b"{}").await;

    let report = n.run_once(10).await.unwrap();

    // A host that runs until idle must not loop forever on them.
    assert!(report.is_idle());
    assert_eq!(report.unreadable, 1);
    let listed = n.pending_deliveries(10).await.unwrap_err();
    assert_eq!(listed.code(), "CORRUPT_RECORD");
    assert!(listed.to_string().contains(EARLY), "{listed}");
}

#[tokio::test]
async fn more_unreadable_records_than_a_run_may_attempt_do_not_starve_the_queue() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let n = notifier(store.clone(), sender.clone(), clock());
    for i in 1..=5 {
        let key = format!("sms/q/00000000000000{i}/{i:020}/guest");
        plant(&store, &key, b"\xff").await;
    }
    emit(store.as_ref(), "booking.confirmed", &[guest_only("bk_1")]).await;

    let report = n.run_once(2).await.unwrap();

    assert_eq!((report.sent, report.unreadable), (1, 5));
    assert_eq!(sender.accepted().len(), 1);
}

/// Four deliveries due again after a failed send each, behind an
/// unreadable record at the front of the queue and another between the
/// first two.
async fn four_due_behind_unreadable_records() -> (Arc<MemoryStore>, Arc<TestSender>, Notifier) {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailTimes(4));
    let clock = clock();
    let n = notifier(store.clone(), sender.clone(), clock.clone());
    let payloads: Vec<_> = (1..=4).map(|i| guest_only(&format!("bk_{i}"))).collect();
    emit(store.as_ref(), "booking.confirmed", &payloads).await;
    let first = n.run_once(10).await.unwrap();
    assert_eq!((first.queued, first.retried), (4, 4));
    let queue = store.scan(&KeyRange::prefix("sms/q/"), 10).await.unwrap();
    plant(&store, EARLY, b"{}").await;
    plant(&store, &format!("{}~", queue[0].key), b"{}").await;
    clock.advance(chrono::Duration::minutes(1));
    (store, sender, n)
}

#[tokio::test]
async fn a_run_sends_at_most_its_limit_however_many_unreadable_records_it_passes() {
    let (_store, sender, n) = four_due_behind_unreadable_records().await;

    let report = n.run_once(2).await.unwrap();

    // Scanned: [unreadable, d1], [unreadable], [d2]; d3 and d4 wait.
    assert_eq!((report.sent, report.unreadable), (2, 2));
    assert_eq!(sender.accepted().len(), 2);
    let report = n.run_once(10).await.unwrap();
    assert_eq!((report.sent, report.unreadable), (2, 2));
}

/// A record that decodes as a delivery but is not a pending one with a
/// message (a failed delivery written into the queue) is passed over and
/// counted as unreadable, like one that does not decode.
#[tokio::test]
async fn a_delivery_in_the_queue_that_is_not_pending_is_counted_unreadable() {
    let store = Arc::new(MemoryStore::new());
    let failing = TestSender::new("sender", Script::FailForever);
    let clock = clock();
    let n = notifier(store.clone(), failing, clock.clone());
    emit(store.as_ref(), "booking.confirmed", &[guest_only("bk_1")]).await;
    for _ in 0..10 {
        n.run_once(10).await.unwrap();
        clock.advance(chrono::Duration::minutes(10));
    }
    let failed = n.failed_deliveries(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    // Its record, as stored, written again at the front of the queue.
    let record = store
        .scan(&KeyRange::prefix("sms/failed/"), 10)
        .await
        .unwrap();
    plant(&store, EARLY, &record[0].value).await;

    let report = n.run_once(10).await.unwrap();

    assert_eq!(report.unreadable, 1);
    assert!(report.is_idle());
    assert!(failed[0].is_failed() && !failed[0].is_delivered());
}

#[tokio::test]
async fn a_sent_delivery_says_it_was_delivered() {
    let store = Arc::new(MemoryStore::new());
    let n = notifier(store.clone(), TestSender::accepting(), clock());
    emit(store.as_ref(), "booking.confirmed", &[guest_only("bk_1")]).await;
    assert_eq!(n.run_once(10).await.unwrap().sent, 1);
    let sent = store
        .scan(&KeyRange::prefix("sms/sent/"), 10)
        .await
        .unwrap();
    let delivery: Delivery = serde_json::from_slice(&sent[0].value).unwrap();
    assert!(delivery.is_delivered() && !delivery.is_failed());
}
