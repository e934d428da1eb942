//! A hold's customer and metadata: kept on the hold and in its `hold.*`
//! events (so a host can remind a customer of an abandoned cart), carried
//! onto the booking at confirmation (the customer when the confirmation
//! names none, the metadata under the confirmation's own),
//! and refused whole when malformed or when the two together have more
//! keys than a booking may.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;
mod notify_support;

use chrono::Duration;
use money::{ana, events, hold_items, pay, shop, villa, villa_free};
use notify_support::TestSender;
use reservo::booking::{Customer, Metadata};
use reservo::engine::{
    ConfirmRequest, ExtendRequest, Hold, HoldRequest, HoldState, PayAmount, ReleaseRequest,
    UpdateHoldRequest,
};
use reservo::notify::{Audience, Notifier, SmsTemplates};
use serde_json::json;

fn cart(id: &str) -> Metadata {
    Metadata::from_pairs([("cart_id", id), ("source", "web")]).unwrap()
}

/// `count` keys named `<prefix>00`, `<prefix>01`, ...
fn keys(prefix: &str, count: usize) -> Metadata {
    Metadata::from_pairs((0..count).map(|i| (format!("{prefix}{i:02}"), "v"))).unwrap()
}

fn villa_request(key: &str, from: (u32, u32), to: (u32, u32)) -> HoldRequest {
    HoldRequest::new(key, vec![villa(from, to)], 900)
}

async fn hold_for_ana(s: &money::Shop, key: &str, metadata: Metadata) -> Hold {
    let request = villa_request(key, (7, 13), (7, 16))
        .with_customer(ana())
        .with_metadata(metadata);
    s.w.engine.hold(&request).await.unwrap()
}

#[tokio::test]
async fn a_hold_keeps_its_customer_and_metadata_through_every_change_and_event() {
    let s = shop().await;
    let hold = hold_for_ana(&s, "h1", cart("c-9")).await;
    assert_eq!(hold.customer, Some(ana()));
    assert_eq!(hold.metadata, cart("c-9"));
    assert_eq!(s.w.engine.hold_by_id(&hold.id).await.unwrap(), hold);

    // A replay answers the same hold; other metadata under the key conflicts.
    let replay = villa_request("h1", (7, 13), (7, 16))
        .with_customer(ana())
        .with_metadata(cart("c-9"));
    assert_eq!(s.w.engine.hold(&replay).await.unwrap().id, hold.id);
    let other = replay.clone().with_metadata(cart("c-10"));
    let err = s.w.engine.hold(&other).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");

    let extended =
        s.w.engine
            .extend(&ExtendRequest::new("e1", hold.id.clone(), 1200))
            .await
            .unwrap();
    assert_eq!(extended.metadata, cart("c-9"));
    let released =
        s.w.engine
            .release(&ReleaseRequest::new("r1", hold.id.clone()))
            .await
            .unwrap();
    assert!(matches!(released.state, HoldState::Released { .. }));
    assert_eq!(released.customer, Some(ana()));
    assert_eq!(
        s.w.engine.hold_by_id(&hold.id).await.unwrap().metadata,
        cart("c-9")
    );
    for kind in ["hold.created", "hold.extended", "hold.released"] {
        let payload = &events(&s.w, kind).await[0];
        assert_eq!(
            payload["customer"],
            json!({"name": "Ana Lima", "phone": "+351912345678"}),
            "{kind}"
        );
        assert_eq!(
            payload["metadata"],
            json!({"cart_id": "c-9", "source": "web"}),
            "{kind}"
        );
    }

    // A hold without either has neither in its payload: hold events keep
    // the bytes they had before holds could carry them.
    hold_items(&s.w, "h2", vec![villa((7, 20), (7, 22))]).await;
    let plain = &events(&s.w, "hold.created").await[1];
    assert!(plain.get("customer").is_none(), "{plain}");
    assert!(plain.get("metadata").is_none(), "{plain}");
}

#[tokio::test]
async fn a_bad_customer_or_metadata_refuses_the_hold_and_changes_nothing() {
    let s = shop().await;
    let before = s.w.store.dump();
    let not_a_phone = Customer {
        name: "Ana Lima".into(),
        phone: "912345678".into(),
        email: None,
    };
    let err =
        s.w.engine
            .hold(&villa_request("h1", (7, 13), (7, 16)).with_customer(not_a_phone))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let mut request = villa_request("h1", (7, 13), (7, 16));
    // Built by deserializing, as a binding would: not checked yet.
    request.metadata = serde_json::from_value(json!({"cart id": "c-9"})).unwrap();
    let err = s.w.engine.hold(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("\"cart id\""), "{err}");
    assert_eq!(s.w.store.dump(), before);
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, [1, 1, 1]);
    // The refused key was not used up.
    request.metadata = cart("c-9");
    s.w.engine.hold(&request).await.unwrap();
}

#[tokio::test]
async fn confirmation_starts_from_the_holds_metadata_with_its_own_on_top() {
    let s = shop().await;
    let hold = hold_for_ana(&s, "h1", cart("c-9")).await;
    let order = Metadata::from_pairs([("order_id", "A-1"), ("source", "app")]).unwrap();
    let request = ConfirmRequest::new("c1", hold.id.clone(), ana()).with_metadata(order);
    let booking = s.w.engine.confirm(&request).await.unwrap();
    let merged = json!({"cart_id": "c-9", "order_id": "A-1", "source": "app"});
    assert_eq!(serde_json::to_value(&booking.metadata).unwrap(), merged);
    assert_eq!(
        s.w.engine.booking(&booking.id).await.unwrap().metadata,
        booking.metadata
    );
    assert_eq!(
        events(&s.w, "booking.confirmed").await[0]["metadata"],
        merged
    );

    // Confirming some of the items keeps the hold's metadata too, and a
    // confirmation without metadata of its own takes the hold's as it is.
    let two = HoldRequest::new(
        "h2",
        vec![villa((8, 1), (8, 3)), villa((8, 5), (8, 7))],
        900,
    )
    .with_metadata(cart("c-10"));
    let two = s.w.engine.hold(&two).await.unwrap();
    let mut some = ConfirmRequest::new("c2", two.id, ana());
    some.items = Some(vec![1]);
    let booking = s.w.engine.confirm(&some).await.unwrap();
    assert_eq!(booking.items.len(), 1);
    assert_eq!(booking.metadata, cart("c-10"));
}

#[tokio::test]
async fn more_than_fifty_keys_with_the_holds_refuse_confirmation_and_charge_nothing() {
    let s = shop().await;
    let hold = hold_for_ana(&s, "h1", keys("a", 30)).await;
    let before = s.w.store.dump();
    let err = s
        .w
        .engine
        .confirm(&ConfirmRequest::new("c1", hold.id.clone(), ana()).with_metadata(keys("b", 21)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("make 51"), "{err}");
    let mut paid = pay("p1", &hold, PayAmount::Full);
    paid.metadata = keys("b", 21);
    let err = s.w.engine.pay_and_confirm(&paid).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(s.gateway.calls().is_empty(), "nothing was charged");
    assert_eq!(s.w.store.dump(), before);

    // 30 and 20 make 50: the limit, confirmed (and paid) under the same key.
    paid.metadata = keys("b", 20);
    let booking = s.w.engine.pay_and_confirm(&paid).await.unwrap();
    assert_eq!(booking.metadata.len(), Metadata::MAX_ENTRIES);
    assert_eq!(booking.metadata.get("a00"), Some("v"));
}

#[tokio::test]
async fn a_host_template_on_hold_expired_reminds_the_customer_of_an_abandoned_cart() {
    let s = shop().await;
    hold_for_ana(&s, "h1", cart("c-9")).await;
    // A hold without a customer has no one to remind.
    hold_items(&s.w, "h2", vec![villa((7, 20), (7, 22))]).await;
    s.w.clock.advance(Duration::minutes(16));
    assert_eq!(s.w.engine.expire_due(10).await.unwrap().len(), 2);

    let mut templates = SmsTemplates::defaults();
    templates
        .add(
            "hold.expired",
            Audience::Guest,
            "Hi {customer.name}, your stay at {property.name} from {period.start} is still \
             free. Pick up cart {metadata.cart_id} where you left it.",
        )
        .unwrap();
    let sender = TestSender::accepting();
    let notifier = Notifier::builder(s.w.store.clone(), sender.clone())
        .clock(s.w.clock.clone())
        .templates(templates)
        .build()
        .unwrap();
    let report = notifier.run_once(100).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    let sent: Vec<(String, String)> = sender
        .accepted()
        .into_iter()
        .map(|m| (m.to.to_string(), m.body))
        .collect();
    assert_eq!(
        sent,
        [(
            "+351912345678".to_owned(),
            "Hi Ana Lima, your stay at Casa Azul from 2026-07-13 is still free. Pick up \
             cart c-9 where you left it."
                .to_owned()
        )]
    );
}

#[tokio::test]
async fn a_confirmation_without_a_customer_books_for_the_holds() {
    let s = shop().await;
    let hold = hold_for_ana(&s, "h1", Metadata::new()).await;
    let request = ConfirmRequest::for_hold_customer("c1", hold.id.clone());
    let booking = s.w.engine.confirm(&request).await.unwrap();
    assert_eq!(booking.customer, ana());
    // Replayed under the same key: the same booking.
    assert_eq!(s.w.engine.confirm(&request).await.unwrap().id, booking.id);
    // Indexed and announced under the hold's customer.
    let found = s.w.engine.bookings_by_customer(&ana().phone).await.unwrap();
    assert_eq!(found, std::slice::from_ref(&booking));
    let [confirmed] = &events(&s.w, "booking.confirmed").await[..] else {
        panic!("one booking.confirmed");
    };
    assert_eq!(confirmed["customer"]["phone"], json!(ana().phone));

    // Paying without a customer also books for the hold's.
    let request = villa_request("h2", (7, 20), (7, 22)).with_customer(ana());
    let hold = s.w.engine.hold(&request).await.unwrap();
    let mut paid = pay("p2", &hold, PayAmount::Full);
    paid.customer = None;
    let booking = s.w.engine.pay_and_confirm(&paid).await.unwrap();
    assert_eq!(booking.customer, ana());
    assert_eq!(booking.money.paid(booking.total.currency()), hold.total);
}

#[tokio::test]
async fn a_hold_without_a_customer_cannot_be_confirmed_or_paid_without_one() {
    let s = shop().await;
    let hold = hold_items(&s.w, "h1", vec![villa((7, 13), (7, 16))]).await;
    assert_eq!(hold.customer, None);
    let before = s.w.store.dump();
    let request = ConfirmRequest::for_hold_customer("c1", hold.id.clone());
    let err = s.w.engine.confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("without a customer"), "{err}");
    let mut paid = pay("p1", &hold, PayAmount::Full);
    paid.customer = None;
    let err = s.w.engine.pay_and_confirm(&paid).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(s.gateway.calls().is_empty(), "nothing was charged");
    assert_eq!(s.w.store.dump(), before);

    // Named, under the same key: paid and booked for that customer.
    paid.customer = Some(ana());
    let booking = s.w.engine.pay_and_confirm(&paid).await.unwrap();
    assert_eq!(booking.customer, ana());
}

#[tokio::test]
async fn a_hold_can_be_given_its_customer_and_metadata_after_it_is_taken() {
    let s = shop().await;
    let hold = hold_items(&s.w, "h1", vec![villa((7, 13), (7, 16))]).await;
    let free_before = villa_free(&s.w, (7, 13), (7, 16)).await;
    let request = UpdateHoldRequest::new("u1", hold.id.clone())
        .with_customer(ana())
        .with_metadata(cart("c-9"));
    let updated = s.w.engine.update_hold(&request).await.unwrap();
    assert_eq!(updated.customer, Some(ana()));
    assert_eq!(updated.metadata, cart("c-9"));
    assert_eq!(
        (updated.expires_at, updated.total, &updated.items),
        (hold.expires_at, hold.total, &hold.items),
        "only the customer and metadata change"
    );
    assert_eq!(s.w.engine.hold_by_id(&hold.id).await.unwrap(), updated);
    let [event] = &events(&s.w, "hold.updated").await[..] else {
        panic!("one hold.updated");
    };
    assert_eq!(event["customer"]["phone"], json!(ana().phone));
    assert_eq!(
        event["metadata"],
        json!({"cart_id": "c-9", "source": "web"})
    );
    assert_eq!(villa_free(&s.w, (7, 13), (7, 16)).await, free_before);

    // A replay answers the hold and appends nothing; other content under
    // the key conflicts.
    assert_eq!(s.w.engine.update_hold(&request).await.unwrap(), updated);
    let other = UpdateHoldRequest::new("u1", hold.id.clone()).with_metadata(cart("c-10"));
    let err = s.w.engine.update_hold(&other).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    // What the hold already has changes nothing and appends no event.
    let same = UpdateHoldRequest::new("u2", hold.id.clone()).with_customer(ana());
    assert_eq!(s.w.engine.update_hold(&same).await.unwrap(), updated);
    assert_eq!(events(&s.w, "hold.updated").await.len(), 1);
    // Empty metadata clears it; the customer stays.
    let cleared = UpdateHoldRequest::new("u3", hold.id.clone()).with_metadata(Metadata::new());
    let cleared = s.w.engine.update_hold(&cleared).await.unwrap();
    assert_eq!(
        (cleared.customer, cleared.metadata),
        (Some(ana()), Metadata::new())
    );

    // The confirmation books for the customer named afterwards.
    let booking =
        s.w.engine
            .confirm(&ConfirmRequest::for_hold_customer("c1", hold.id.clone()))
            .await
            .unwrap();
    assert_eq!(booking.customer, ana());
}

#[tokio::test]
async fn a_hold_customer_can_be_taken_off_and_the_confirmation_must_then_name_one() {
    let s = shop().await;
    let hold = hold_items(&s.w, "h1", vec![villa((7, 13), (7, 16))]).await;
    let named = UpdateHoldRequest::new("u1", hold.id.clone())
        .with_customer(ana())
        .with_metadata(cart("c-9"));
    s.w.engine.update_hold(&named).await.unwrap();

    let forget = UpdateHoldRequest::new("u2", hold.id.clone()).without_customer();
    let forgotten = s.w.engine.update_hold(&forget).await.unwrap();
    assert_eq!(
        (&forgotten.customer, &forgotten.metadata),
        (&None, &cart("c-9")),
        "the customer goes, the metadata stays"
    );
    assert_eq!(s.w.engine.hold_by_id(&hold.id).await.unwrap(), forgotten);
    let updates = events(&s.w, "hold.updated").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[1].get("customer"),
        None,
        "no customer in the payload"
    );

    // A replay answers the hold; removing what is not there changes
    // nothing and appends no event; a key that named a customer conflicts.
    assert_eq!(s.w.engine.update_hold(&forget).await.unwrap(), forgotten);
    let again = UpdateHoldRequest::new("u3", hold.id.clone()).without_customer();
    assert_eq!(s.w.engine.update_hold(&again).await.unwrap(), forgotten);
    assert_eq!(events(&s.w, "hold.updated").await.len(), 2);
    let replayed = s.w.engine.update_hold(&named).await.unwrap();
    assert_eq!(
        replayed, forgotten,
        "a replay answers the hold as stored now"
    );
    let removal_under_u1 = UpdateHoldRequest::new("u1", hold.id.clone()).without_customer();
    let err = s.w.engine.update_hold(&removal_under_u1).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT", "u1 named a customer");
    let naming_under_u2 = forget.clone().with_customer(ana());
    let err = s.w.engine.update_hold(&naming_under_u2).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");

    // The hold has no customer now: its confirmation must name one.
    let err =
        s.w.engine
            .confirm(&ConfirmRequest::for_hold_customer("c1", hold.id.clone()))
            .await
            .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("without a customer"), "{err}");
}

#[tokio::test]
async fn an_update_that_is_bad_empty_or_too_late_changes_nothing() {
    let s = shop().await;
    let hold = hold_items(&s.w, "h1", vec![villa((7, 13), (7, 16))]).await;
    let before = s.w.store.dump();
    let bad_customer = Customer {
        name: "Ana".into(),
        phone: "912345678".into(),
        email: None,
    };
    let refused = [
        UpdateHoldRequest::new("u1", hold.id.clone()),
        UpdateHoldRequest::new("u1", hold.id.clone()).with_customer(bad_customer),
        // Named and removed at once (a host's JSON can say both).
        UpdateHoldRequest {
            remove_customer: true,
            ..UpdateHoldRequest::new("u1", hold.id.clone()).with_customer(ana())
        },
        // Decoded from a host's JSON unchecked: the engine checks it.
        UpdateHoldRequest::new("u1", hold.id.clone())
            .with_metadata(serde_json::from_value(json!({"cart id": "c-9"})).unwrap()),
    ];
    for request in &refused {
        let err = s.w.engine.update_hold(request).await.unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{request:?}");
    }
    assert_eq!(s.w.store.dump(), before);

    s.w.engine
        .release(&ReleaseRequest::new("r1", hold.id.clone()))
        .await
        .unwrap();
    let late = UpdateHoldRequest::new("u1", hold.id.clone()).with_customer(ana());
    let err = s.w.engine.update_hold(&late).await.unwrap_err();
    assert_eq!(err.code(), "HOLD_ALREADY_RESOLVED");

    let expiring = hold_items(&s.w, "h2", vec![villa((7, 20), (7, 22))]).await;
    s.w.clock.advance(Duration::minutes(16));
    let late = UpdateHoldRequest::new("u2", expiring.id.clone()).with_customer(ana());
    let err = s.w.engine.update_hold(&late).await.unwrap_err();
    assert_eq!(err.code(), "HOLD_EXPIRED");
}
