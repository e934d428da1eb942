//! The notifier on a `SqliteStore` file that is closed and reopened, as a
//! host restart does: the cursor and pending retries survive it.
//!
//! Run with `cargo test -p reservo --features sqlite --test notify_sqlite`.

mod notify_support;

use std::path::Path;
use std::sync::Arc;

use notify_support::{Script, TestSender, clock, config, emit, guest_only, notifier};
use reservo::ports::Storage;
use reservo::store::SqliteStore;

fn open(path: &Path) -> Arc<dyn Storage> {
    Arc::new(SqliteStore::open(path).expect("open the store file"))
}

#[tokio::test]
async fn notify_cursor_survives_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reservo.sqlite");
    let clock = clock();
    {
        let store = open(&path);
        let payloads = [guest_only("bk_1"), guest_only("bk_2")];
        emit(&*store, "booking.confirmed", &payloads).await;
        let before = TestSender::accepting();
        assert_eq!(
            notifier(store, before.clone(), clock.clone())
                .run_once(10)
                .await
                .unwrap()
                .sent,
            2
        );
    }

    let store = open(&path);
    emit(&*store, "booking.cancelled", &[guest_only("bk_1")]).await;
    let after = TestSender::accepting();
    let notifier = notifier(store, after.clone(), clock.clone());
    let report = notifier.run_once(10).await.unwrap();

    assert_eq!((report.events, report.sent), (1, 1));
    let keys: Vec<String> = after.calls().into_iter().map(|m| m.dedupe_key).collect();
    assert_eq!(keys, ["reservo-sms-3-guest"]);
    assert_eq!(notifier.cursor().await.unwrap(), 3);
}

#[tokio::test]
async fn notify_retry_pending_at_a_restart_is_sent_after_it_with_the_same_dedupe_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reservo.sqlite");
    let clock = clock();
    let first_key = {
        let store = open(&path);
        emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;
        let failing = TestSender::new("failing", Script::FailForever);
        let report = notifier(store, failing.clone(), clock.clone())
            .run_once(10)
            .await
            .unwrap();
        assert_eq!(report.retried, 1);
        failing.calls()[0].dedupe_key.clone()
    };

    clock.advance(config().retry.base);
    let sender = TestSender::accepting();
    let notifier = notifier(open(&path), sender.clone(), clock.clone());
    let report = notifier.run_once(10).await.unwrap();

    assert_eq!((report.events, report.sent), (0, 1));
    assert_eq!(sender.accepted()[0].dedupe_key, first_key);
    assert!(notifier.pending_deliveries(10).await.unwrap().is_empty());
    assert!(notifier.failed_deliveries(10).await.unwrap().is_empty());
}
