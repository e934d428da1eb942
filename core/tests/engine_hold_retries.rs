//! Retried hold commands: replays of hold, confirm, release and extend
//! answer with what the first call did and change nothing, and a key used
//! for one command or request conflicts for any other.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/lifecycle.rs"]
mod lifecycle;
#[path = "support/money.rs"]
mod money;

use catalog::world;
use chrono::Duration;
use holds::*;
use lifecycle::confirm;
use reservo::booking::BookingStatus;
use reservo::engine::{CancelRequest, ExtendRequest, HoldState, ReleaseRequest};

// ------------------------------------------------------------ idempotency

#[tokio::test]
async fn a_hold_replayed_after_it_expired_and_its_nights_were_resold_returns_it() {
    let w = world().await;
    let request = hold_request("h", vec![villa((7, 3), (7, 5))], 60);
    let first = w.engine.hold(&request).await.unwrap();
    w.clock.advance(Duration::seconds(61));
    hold(&w, "other", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    let replay = w.engine.hold(&request).await.unwrap();
    assert_eq!(replay.id, first.id);
    assert_eq!(replay.expires_at, first.expires_at);
    assert_eq!(w.store.dump(), before, "a replay writes nothing");
    // The same key for another TTL is a conflict, even once expired.
    let err = w
        .engine
        .hold(&hold_request("h", vec![villa((7, 3), (7, 5))], 61))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(w.store.dump(), before);
}

#[tokio::test]
async fn a_key_used_by_one_command_conflicts_for_another_and_changes_nothing() {
    let w = world().await;
    let id = hold(&w, "shared", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    let err = w
        .engine
        .confirm(&confirm_request("shared", &id, ana()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(w.store.dump(), before);
    let booking = confirm(&w, "c", &id).await;
    let err = w
        .engine
        .cancel(&CancelRequest {
            idempotency_key: "c".into(),
            booking: booking.id.clone(),
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(
        w.engine.booking(&booking.id).await.unwrap().status,
        BookingStatus::Confirmed
    );
}

#[tokio::test]
async fn a_subset_confirm_replays_and_another_subset_under_the_key_conflicts() {
    let w = world().await;
    let id = hold(
        &w,
        "h",
        vec![double((7, 3), (7, 5)), double((7, 3), (7, 5))],
    )
    .await;
    let mut request = confirm_request("c", &id, ana());
    request.items = Some(vec![1]);
    let booking = w.engine.confirm(&request).await.unwrap();
    let before = w.store.dump();
    assert_eq!(w.engine.confirm(&request).await.unwrap(), booking);
    request.items = Some(vec![0]);
    let err = w.engine.confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    request.items = None;
    let err = w.engine.confirm(&request).await.unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(w.store.dump(), before);
}

// ------------------------------------------------------ release and extend

#[tokio::test]
async fn a_retried_release_answers_with_the_hold_and_gives_nothing_back_twice() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let request = ReleaseRequest::new("r", id.clone());
    let released = w.engine.release(&request).await.unwrap();
    assert!(matches!(released.state, HoldState::Released { .. }));
    let before = w.store.dump();
    w.clock.advance(Duration::seconds(5));
    let replay = w.engine.release(&request).await.unwrap();
    assert_eq!(
        replay, released,
        "the replay answers with the released hold"
    );
    assert_eq!(w.store.dump(), before, "a replay writes nothing");
    assert_eq!(villa_left(&w.engine, (7, 3), (7, 5)).await, vec![1, 1]);
    let kinds = event_kinds(&w).await;
    assert_eq!(kinds.iter().filter(|k| *k == "hold.released").count(), 1);
    // Another key is another release: the hold is resolved already.
    let err = w
        .engine
        .release(&ReleaseRequest::new("r-2", id))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HOLD_ALREADY_RESOLVED");
    assert_eq!(w.store.dump(), before);
}

#[tokio::test]
async fn a_retried_extend_does_not_move_the_expiry_again() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let request = ExtendRequest::new("e", id.clone(), 600);
    let extended = w.engine.extend(&request).await.unwrap();
    let before = w.store.dump();
    w.clock.advance(Duration::seconds(120));
    let replay = w.engine.extend(&request).await.unwrap();
    assert_eq!(replay.expires_at, extended.expires_at);
    assert_eq!(w.store.dump(), before, "a replay writes nothing");
    // The same key for another TTL is a conflict, not a second extension.
    let err = w
        .engine
        .extend(&ExtendRequest::new("e", id.clone(), 900))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(w.store.dump(), before);
    // A new key extends again, from now.
    let again = w
        .engine
        .extend(&ExtendRequest::new("e-2", id, 600))
        .await
        .unwrap();
    assert_eq!(
        again.expires_at,
        extended.expires_at + Duration::seconds(120)
    );
    let kinds = event_kinds(&w).await;
    assert_eq!(kinds.iter().filter(|k| *k == "hold.extended").count(), 2);
}

#[tokio::test]
async fn release_and_extend_keys_conflict_across_commands_and_holds() {
    let w = world().await;
    let first = hold(&w, "h-1", vec![villa((7, 3), (7, 5))]).await;
    let second = hold(&w, "h-2", vec![villa((8, 3), (8, 5))]).await;
    let before = w.store.dump();
    // The key of the hold command cannot release or extend.
    for err in [
        w.engine
            .release(&ReleaseRequest::new("h-1", first.clone()))
            .await
            .unwrap_err(),
        w.engine
            .extend(&ExtendRequest::new("h-1", first.clone(), 60))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    }
    assert_eq!(w.store.dump(), before, "a conflict changes nothing");
    w.engine
        .extend(&ExtendRequest::new("k", first.clone(), 60))
        .await
        .unwrap();
    let after_extend = w.store.dump();
    // A release under the extension's key, or an extension of another
    // hold under it, conflicts.
    for err in [
        w.engine
            .release(&ReleaseRequest::new("k", first.clone()))
            .await
            .unwrap_err(),
        w.engine
            .extend(&ExtendRequest::new("k", second.clone(), 60))
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    }
    assert_eq!(w.store.dump(), after_extend);
    assert_eq!(
        w.engine.hold_by_id(&second).await.unwrap().state,
        HoldState::Active
    );
}

#[tokio::test]
async fn release_and_extend_refuse_a_bad_key_and_a_zero_ttl_before_anything_else() {
    let w = world().await;
    let id = hold(&w, "h", vec![villa((7, 3), (7, 5))]).await;
    let before = w.store.dump();
    for key in ["", "with space", &"k".repeat(201)] {
        let err = w
            .engine
            .release(&ReleaseRequest::new(key, id.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "release key {key:?}");
        let err = w
            .engine
            .extend(&ExtendRequest::new(key, id.clone(), 60))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "extend key {key:?}");
    }
    let err = w
        .engine
        .extend(&ExtendRequest::new("e", id.clone(), 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert_eq!(w.store.dump(), before);
    assert_eq!(
        w.engine.hold_by_id(&id).await.unwrap().state,
        HoldState::Active
    );
}
