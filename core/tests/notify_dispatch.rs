//! The notifier on one `MemoryStore`: what it sends, what it records as
//! failed, and when it retries.
//!
//! Run with `cargo test -p reservo --test notify_dispatch`.

mod notify_support;

use std::sync::Arc;

use chrono::Duration;
use notify_support::{Script, TestSender, booking, clock, config, emit, guest_only, notifier};
use reservo::notify::{Audience, DeliveryState, Notifier, SmsTemplates};
use reservo::ports::{CommitBatch, Mutation, NewEvent, Storage};
use reservo::store::MemoryStore;
use serde_json::json;

#[tokio::test]
async fn notify_sends_each_audience_that_has_a_template_and_a_phone() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let notifier = notifier(store.clone(), sender.clone(), clock());
    emit(&*store, "booking.confirmed", &[booking("bk_1")]).await;

    let report = notifier.run_once(10).await.unwrap();

    assert_eq!((report.events, report.queued, report.sent), (1, 2, 2));
    let sent = sender.accepted();
    assert_eq!(sent[0].to, "+351912345678");
    assert_eq!(
        sent[0].body,
        "Hi Ana Lima, your booking at Villa Sol from 2026-07-10 to 2026-07-13 is confirmed. \
         Ref bk_1"
    );
    assert_eq!(sent[0].dedupe_key, "reservo-sms-1-guest");
    assert_eq!(sent[1].to, "+351934567890");
    assert_eq!(sent[1].dedupe_key, "reservo-sms-1-owner");
    assert_eq!(notifier.cursor().await.unwrap(), 1);
    assert!(notifier.run_once(10).await.unwrap().is_idle());
    assert_eq!(sender.calls().len(), 2);
}

#[tokio::test]
async fn notify_skips_event_kinds_without_templates_but_moves_past_them() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let notifier = notifier(store.clone(), sender.clone(), clock());
    emit(&*store, "payment.captured", &[booking("bk_1")]).await;

    let report = notifier.run_once(10).await.unwrap();

    assert_eq!((report.events, report.queued), (1, 0));
    assert_eq!(notifier.cursor().await.unwrap(), 1);
    assert!(sender.calls().is_empty());
}

#[tokio::test]
async fn notify_sends_new_event_kinds_from_host_templates() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let mut templates = SmsTemplates::new();
    templates
        .set_recipient(Audience::Guest, "customer.phone")
        .unwrap();
    templates
        .add(
            "checkin.reminder",
            Audience::Guest,
            "{customer.name}: door code {access.code}",
        )
        .unwrap();
    let notifier = Notifier::builder(store.clone(), sender.clone())
        .templates(templates)
        .clock(clock())
        .build()
        .unwrap();
    let mut payload = booking("bk_1");
    payload["access"] = json!({"code": 4821});
    emit(&*store, "checkin.reminder", &[payload]).await;
    emit(&*store, "booking.confirmed", &[booking("bk_2")]).await;

    notifier.run_once(10).await.unwrap();

    let bodies: Vec<String> = sender.accepted().into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["Ana Lima: door code 4821"]);
}

#[tokio::test]
async fn notify_records_a_missing_placeholder_as_failed_and_never_sends_it() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let clock = clock();
    let notifier = notifier(store.clone(), sender.clone(), clock.clone());
    let mut payload = booking("bk_1");
    payload["customer"].as_object_mut().unwrap().remove("name");
    emit(&*store, "booking.modified", &[payload]).await;

    let report = notifier.run_once(10).await.unwrap();

    // The owner's booking.modified template does not use the customer's name.
    assert_eq!((report.queued, report.sent, report.failed), (1, 1, 1));
    let failed = notifier.failed_deliveries(10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].audience, Audience::Guest);
    assert_eq!(failed[0].attempts, 0);
    assert_eq!(failed[0].message, None);
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(error.contains("{customer.name}"), "{error}");
    clock.advance(Duration::days(1));
    assert!(notifier.run_once(10).await.unwrap().is_idle());
    assert!(sender.calls().iter().all(|m| m.to != "+351912345678"));
}

#[tokio::test]
async fn notify_records_an_invalid_phone_as_failed() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let notifier = notifier(store.clone(), sender.clone(), clock());
    let mut payload = guest_only("bk_1");
    payload["customer"]["phone"] = json!("912 345 678");
    emit(&*store, "booking.confirmed", &[payload]).await;

    let report = notifier.run_once(10).await.unwrap();

    assert_eq!((report.queued, report.failed), (0, 1));
    let failed = notifier.failed_deliveries(10).await.unwrap();
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(error.contains("customer.phone"), "{error}");
    assert!(error.contains("E.164"), "{error}");
    assert!(sender.calls().is_empty());
}

#[tokio::test]
async fn notify_records_a_payload_that_is_not_json_as_failed() {
    let store = Arc::new(MemoryStore::new());
    let notifier = notifier(store.clone(), TestSender::accepting(), clock());
    let event = NewEvent {
        kind: "booking.cancelled".into(),
        payload: b"not json".to_vec(),
    };
    store
        .commit(CommitBatch {
            events: vec![event],
            ..Default::default()
        })
        .await
        .unwrap();

    let report = notifier.run_once(10).await.unwrap();

    // One failed delivery per audience that has a template for the kind.
    assert_eq!(report.failed, 3);
    assert_eq!(notifier.failed_deliveries(10).await.unwrap().len(), 3);
}

#[tokio::test]
async fn notify_retries_only_once_the_backoff_has_passed() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailTimes(2));
    let clock = clock();
    let notifier = notifier(store.clone(), sender.clone(), clock.clone());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;

    assert_eq!(notifier.run_once(10).await.unwrap().retried, 1);
    let pending = notifier.pending_deliveries(10).await.unwrap();
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(
        pending[0].next_attempt_at(),
        Some(notify_support::start() + Duration::seconds(10))
    );

    // First backoff: 10 s.
    clock.advance(Duration::seconds(9));
    assert!(notifier.run_once(10).await.unwrap().is_idle());
    assert_eq!(sender.calls().len(), 1);
    clock.advance(Duration::seconds(1));
    assert_eq!(notifier.run_once(10).await.unwrap().retried, 1);
    assert_eq!(sender.calls().len(), 2);

    // Second backoff: 10 s × 3.
    clock.advance(Duration::seconds(29));
    assert!(notifier.run_once(10).await.unwrap().is_idle());
    clock.advance(Duration::seconds(1));
    assert_eq!(notifier.run_once(10).await.unwrap().sent, 1);
    assert_eq!(sender.accepted().len(), 1);
    assert!(notifier.pending_deliveries(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn notify_gives_up_after_max_attempts_and_records_why() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailForever);
    let clock = clock();
    let notifier = notifier(store.clone(), sender.clone(), clock.clone());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;

    let mut failed = 0;
    for _ in 0..10 {
        failed += notifier.run_once(10).await.unwrap().failed;
        clock.advance(config().retry.cap);
    }

    assert_eq!(failed, 1);
    assert_eq!(sender.calls().len(), 4);
    let given_up = notifier.failed_deliveries(10).await.unwrap();
    assert_eq!(given_up.len(), 1);
    assert_eq!(given_up[0].attempts, 4);
    assert_eq!(
        given_up[0].last_error.as_deref(),
        Some("provider answered 503")
    );
    assert!(matches!(given_up[0].state, DeliveryState::Failed { .. }));
    assert!(notifier.pending_deliveries(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn notify_keeps_the_dedupe_key_across_retries() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailTimes(2));
    let clock = clock();
    let notifier = notifier(store.clone(), sender.clone(), clock.clone());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;

    for _ in 0..3 {
        notifier.run_once(10).await.unwrap();
        clock.advance(config().retry.cap);
    }

    let keys: Vec<String> = sender.calls().into_iter().map(|m| m.dedupe_key).collect();
    assert_eq!(keys, ["reservo-sms-1-guest"; 3]);
}

#[tokio::test]
async fn notify_does_at_most_max_events_and_max_sends_per_run() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let notifier = notifier(store.clone(), sender.clone(), clock());
    let payloads: Vec<_> = (0..5).map(|i| guest_only(&format!("bk_{i}"))).collect();
    emit(&*store, "booking.confirmed", &payloads).await;

    let first = notifier.run_once(2).await.unwrap();
    assert_eq!((first.events, first.sent), (2, 2));
    let mut sent = first.sent;
    while sent < 5 {
        sent += notifier.run_once(2).await.unwrap().sent;
    }
    assert_eq!(sender.accepted().len(), 5);
    assert_eq!(notifier.cursor().await.unwrap(), 5);
    assert_eq!(
        notifier.run_once(0).await.unwrap_err().code(),
        "INVALID_INPUT"
    );
}

#[tokio::test]
async fn notify_failing_sms_leaves_every_other_record_as_it_was() {
    let store = Arc::new(MemoryStore::new());
    let booking_record = Mutation::Put {
        key: "bk/booking/bk_1".into(),
        value: br#"{"status":"confirmed"}"#.to_vec(),
    };
    store
        .commit(CommitBatch {
            mutations: vec![booking_record],
            events: vec![NewEvent {
                kind: "booking.confirmed".into(),
                payload: booking("bk_1").to_string().into_bytes(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let before = store.dump();
    let clock = clock();
    let notifier = notifier(
        store.clone(),
        TestSender::new("sender", Script::FailForever),
        clock.clone(),
    );

    for _ in 0..6 {
        notifier.run_once(10).await.unwrap();
        clock.advance(config().retry.cap);
    }

    let after = store.dump();
    let not_sms = |dump: &reservo::store::StoreDump| {
        dump.records
            .iter()
            .filter(|r| !r.key.starts_with("sms/"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(not_sms(&after), not_sms(&before));
    assert_eq!(after.events, before.events);
    assert_eq!(notifier.failed_deliveries(10).await.unwrap().len(), 2);
}
