//! The notifier's edges: tunables and templates a host gets wrong, and
//! phone numbers that are not phones. Bad configuration is refused when the
//! notifier is built, never found out by a panic or a silent loss later.
//!
//! Run with `cargo test -p reservo --test notify_edges`.

mod notify_support;

use std::sync::Arc;

use chrono::Duration;
use notify_support::{Script, TestSender, booking, clock, config, emit, guest_only, notifier};
use reservo::notify::{
    Audience, DispatchReport, Notifier, NotifierConfig, PhoneNumber, RetryPolicy, SmsTemplates,
};
use reservo::store::MemoryStore;
use serde_json::json;

/// Longer than any instant can be pushed: chrono's `DateTime + Duration`
/// panics past the year 262143.
fn a_million_years() -> Duration {
    Duration::days(365 * 1_000_000)
}

#[tokio::test]
async fn notify_refuses_a_backoff_cap_too_long_to_schedule() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailForever);
    let config = NotifierConfig {
        retry: RetryPolicy {
            base: a_million_years(),
            cap: a_million_years(),
            ..config().retry
        },
        ..config()
    };

    // Accepted, the first failed send would panic scheduling its retry.
    let err = Notifier::builder(store, sender)
        .clock(clock())
        .config(config)
        .build()
        .err()
        .expect("a cap of a million years must be refused");

    assert_eq!(err.code(), "INVALID_INPUT");
}

#[tokio::test]
async fn notify_refuses_a_lease_too_long_to_schedule() {
    let store = Arc::new(MemoryStore::new());
    let config = NotifierConfig {
        lease: a_million_years(),
        ..config()
    };

    // Accepted, the first claim would panic computing the lease's end.
    let err = Notifier::builder(store, TestSender::accepting())
        .clock(clock())
        .config(config)
        .build()
        .err()
        .expect("a lease of a million years must be refused");

    assert_eq!(err.code(), "INVALID_INPUT");
}

#[tokio::test]
async fn notify_longest_allowed_backoff_still_schedules_and_gives_up() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailForever);
    let clock = clock();
    let longest = NotifierConfig::LONGEST_WAIT;
    let config = NotifierConfig {
        retry: RetryPolicy {
            base: longest,
            factor: u32::MAX,
            cap: longest,
            max_attempts: 3,
        },
        lease: longest,
    };
    let notifier = Notifier::builder(store.clone(), sender.clone())
        .clock(clock.clone())
        .config(config)
        .build()
        .unwrap();
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;

    let mut failed = 0;
    for _ in 0..4 {
        failed += notifier.run_once(10).await.unwrap().failed;
        clock.advance(longest);
    }

    assert_eq!(failed, 1);
    assert_eq!(sender.calls().len(), 3);
}

#[test]
fn notify_phone_shorter_than_a_customer_phone_is_refused() {
    // A booking refuses a customer phone with fewer than 8 digits; so must
    // the notifier, or it texts numbers no booking could carry.
    for short in ["+12", "+4412", "+3519123"] {
        let err = PhoneNumber::parse(short).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{short}");
        assert_eq!(
            reservo::booking::Customer::new("Ana", short, None)
                .unwrap_err()
                .code(),
            "INVALID_INPUT"
        );
    }
    assert_eq!(
        PhoneNumber::parse("+35191234").unwrap().as_str(),
        "+35191234"
    );
}

#[tokio::test]
async fn notify_records_a_short_owner_phone_as_failed_and_never_texts_it() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::accepting();
    let notifier = notifier(store.clone(), sender.clone(), clock());
    let mut payload = booking("bk_1");
    payload["owner"]["phone"] = json!("+4412");
    emit(&*store, "booking.confirmed", &[payload]).await;

    let report = notifier.run_once(10).await.unwrap();

    assert_eq!((report.sent, report.failed), (1, 1));
    let failed = notifier.failed_deliveries(10).await.unwrap();
    assert_eq!(failed[0].audience, Audience::Owner);
    assert!(sender.calls().iter().all(|m| m.to != "+4412"));
}

#[tokio::test]
async fn notify_refuses_templates_for_an_audience_without_a_recipient() {
    let store = Arc::new(MemoryStore::new());
    let mut templates = SmsTemplates::new();
    templates
        .set_recipient(Audience::Guest, "customer.phone")
        .unwrap();
    templates
        .add("booking.confirmed", Audience::Guest, "Hi {customer.name}")
        .unwrap();
    // No recipient path for the owner: every owner alert would be dropped
    // without a trace while the cursor moves past its events.
    templates
        .add("booking.confirmed", Audience::Owner, "New {booking.id}")
        .unwrap();

    let err = Notifier::builder(store.clone(), TestSender::accepting())
        .templates(templates.clone())
        .clock(clock())
        .build()
        .err()
        .expect("a template nobody can receive must be refused");
    assert_eq!(err.code(), "INVALID_INPUT");

    templates
        .set_recipient(Audience::Owner, "owner.phone")
        .unwrap();
    let sender = TestSender::accepting();
    let notifier = Notifier::builder(store.clone(), sender.clone())
        .templates(templates)
        .clock(clock())
        .build()
        .unwrap();
    emit(&*store, "booking.confirmed", &[booking("bk_1")]).await;
    assert_eq!(notifier.run_once(10).await.unwrap().sent, 2);
}

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;

/// The engine's own events, read by the default templates: every audience
/// with a phone gets its message, with the period in the property's time
/// zone, and a booking without a broker phone alerts no broker.
#[tokio::test]
async fn notify_default_templates_read_the_engines_booking_events() {
    let w = catalog::world().await;
    let surf = reservo::catalog::Property::new(
        "surf-school",
        "Onda Surf School",
        "owner-rui",
        "Europe/Lisbon",
        "EUR",
    )
    .unwrap()
    .with_owner_phone("+351934567890")
    .unwrap();
    w.engine.put_property(surf).await.unwrap();
    let with_broker = holds::hold(&w, "h1", vec![holds::lesson(6, 10, 1)]).await;
    let mut request = holds::confirm_request("c1", &with_broker, holds::ana());
    request.attribution.broker_phone = Some("+442071234567".into());
    let first = w.engine.confirm(&request).await.unwrap();
    let direct = holds::hold(&w, "h2", vec![holds::lesson(6, 11, 1)]).await;
    let second = w
        .engine
        .confirm(&holds::confirm_request("c2", &direct, holds::rui()))
        .await
        .unwrap();
    let sender = TestSender::accepting();
    let notifier = Notifier::builder(w.store.clone(), sender.clone())
        .clock(w.clock.clone())
        .build()
        .unwrap();

    while !notifier.run_once(10).await.unwrap().is_idle() {}

    // In one run, sends go in order of due time, event, then audience name.
    let mut sent: Vec<(String, String)> = sender
        .accepted()
        .into_iter()
        .map(|m| (m.to, m.body))
        .collect();
    sent.sort();
    let (a, b) = (first.id.as_str(), second.id.as_str());
    let mut expected = vec![
        (
            "+351912345678".to_owned(),
            format!(
                "Hi Ana Lima, your booking at Onda Surf School from 2026-06-10 09:00 to \
                     2026-06-10 11:00 is confirmed. Ref {a}"
            ),
        ),
        (
            "+351934567890".to_owned(),
            format!(
                "New booking {a} at Onda Surf School: Ana Lima, 2026-06-10 09:00 to \
                     2026-06-10 11:00."
            ),
        ),
        (
            "+442071234567".to_owned(),
            format!(
                "Booking {a} confirmed at Onda Surf School for Ana Lima, 2026-06-10 09:00 \
                     to 2026-06-10 11:00."
            ),
        ),
        (
            "+351934567890".to_owned(),
            format!(
                "Hi Rui Costa, your booking at Onda Surf School from 2026-06-11 09:00 to \
                     2026-06-11 11:00 is confirmed. Ref {b}"
            ),
        ),
        (
            "+351934567890".to_owned(),
            format!(
                "New booking {b} at Onda Surf School: Rui Costa, 2026-06-11 09:00 to \
                     2026-06-11 11:00."
            ),
        ),
    ];
    expected.sort();
    assert_eq!(sent, expected);
    assert!(notifier.failed_deliveries(10).await.unwrap().is_empty());
}

/// A notifier restarted with fewer attempts (a rolling deploy, a host
/// tightening its policy) gives up on a delivery that has already used
/// them, instead of sending it once more.
#[tokio::test]
async fn notify_never_sends_more_than_max_attempts_after_the_limit_is_lowered() {
    let store = Arc::new(MemoryStore::new());
    let sender = TestSender::new("sender", Script::FailForever);
    let clock = clock();
    let before = notifier(store.clone(), sender.clone(), clock.clone());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;
    for _ in 0..2 {
        assert_eq!(before.run_once(10).await.unwrap().retried, 1);
        clock.advance(config().retry.cap);
    }
    let lowered = NotifierConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            ..config().retry
        },
        ..config()
    };
    let after = Notifier::builder(store.clone(), sender.clone())
        .clock(clock.clone())
        .config(lowered)
        .build()
        .unwrap();

    let report = after.run_once(10).await.unwrap();

    assert_eq!((report.sent, report.retried, report.failed), (0, 0, 1));
    assert_eq!(sender.calls().len(), 2);
    let failed = after.failed_deliveries(10).await.unwrap();
    assert_eq!(failed[0].attempts, 2);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("provider answered 503")
    );
}

/// The dedupe keys a notifier over its own store, with one booking
/// confirmed, gives the sender.
async fn keys_sent(namespace: Option<&str>, sender: &Arc<TestSender>) -> Vec<String> {
    let store = Arc::new(MemoryStore::new());
    emit(&*store, "booking.confirmed", &[guest_only("bk_1")]).await;
    let builder = Notifier::builder(store, sender.clone())
        .clock(clock())
        .config(config());
    let builder = match namespace {
        Some(namespace) => builder.dedupe_namespace(namespace),
        None => builder,
    };
    let before = sender.calls().len();
    builder.build().unwrap().run_once(10).await.unwrap();
    sender.calls()[before..]
        .iter()
        .map(|m| m.dedupe_key.clone())
        .collect()
}

#[tokio::test]
async fn stores_sharing_one_sender_keep_their_dedupe_keys_apart_with_namespaces() {
    let sender = TestSender::accepting();
    // Without namespaces two stores' first events carry the same key: a
    // provider that drops repeats would drop the second tenant's SMS.
    let plain = [
        keys_sent(None, &sender).await,
        keys_sent(None, &sender).await,
    ];
    assert_eq!(plain[0], ["reservo-sms-1-guest"]);
    assert_eq!(plain[0], plain[1]);
    let apart = [
        keys_sent(Some("tenant-a"), &sender).await,
        keys_sent(Some("tenant_b.eu"), &sender).await,
    ];
    assert_eq!(apart[0], ["reservo-sms-tenant-a-1-guest"]);
    assert_eq!(apart[1], ["reservo-sms-tenant_b.eu-1-guest"]);
}

#[tokio::test]
async fn notify_refuses_a_dedupe_namespace_a_provider_key_cannot_carry() {
    let too_long = "n".repeat(65);
    for namespace in ["", "tenant a", "tenant/7", "ténant", too_long.as_str()] {
        let store = Arc::new(MemoryStore::new());
        let err = Notifier::builder(store, TestSender::accepting())
            .dedupe_namespace(namespace)
            .build()
            .err()
            .expect("a malformed namespace must be refused");
        assert_eq!(err.code(), "INVALID_INPUT", "{namespace:?}");
    }
    // The longest allowed.
    let longest = "n".repeat(64);
    let built = Notifier::builder(Arc::new(MemoryStore::new()), TestSender::accepting())
        .dedupe_namespace(longest)
        .build();
    assert!(built.is_ok());
}

/// A report is idle when nothing happened but unreadable records were
/// passed over: any one other count alone makes it busy.
#[test]
fn a_report_with_any_one_count_but_unreadable_is_not_idle() {
    for count in 0..6 {
        let mut report = DispatchReport::default();
        let counts = [
            &mut report.events,
            &mut report.queued,
            &mut report.sent,
            &mut report.retried,
            &mut report.failed,
            &mut report.lost,
        ];
        *counts.into_iter().nth(count).expect("six counts") = 1;
        assert!(!report.is_idle(), "count {count} alone");
    }
    assert!(
        DispatchReport {
            unreadable: 1,
            ..Default::default()
        }
        .is_idle()
    );
}
