//! Batches in key order, and the hot-key turn: who queues, and when a
//! commit made in a turn is waited for.

use super::*;

fn conflict() -> Error {
    Error::Storage(StorageError::Conflict {
        key: "nt/2026-07-01/hot".into(),
    })
}

#[test]
fn a_batch_has_each_key_once_in_key_order_and_the_last_word_wins() {
    let mut txn = Txn::default();
    txn.expect("b", Some(Version(1)));
    txn.expect("a", None);
    txn.expect("b", Some(Version(2)));
    txn.put_raw("z", b"1".to_vec());
    txn.delete("m");
    txn.put_raw("a", b"1".to_vec());
    txn.put_raw("m", b"2".to_vec());
    txn.put_raw("z", b"2".to_vec());
    txn.delete("z");
    let batch = txn.into_batch();
    assert_eq!(
        batch.expectations,
        [
            Expectation {
                key: "a".into(),
                version: None
            },
            Expectation {
                key: "b".into(),
                version: Some(Version(2))
            },
        ]
    );
    assert_eq!(
        batch.mutations,
        [
            Mutation::Put {
                key: "a".into(),
                value: b"1".to_vec()
            },
            Mutation::Put {
                key: "m".into(),
                value: b"2".to_vec()
            },
            Mutation::Delete { key: "z".into() },
        ]
    );
}

/// Runs one command on `contended` whose first attempt conflicts if
/// `conflicts`; returns whether its first attempt held the turn.
async fn first_attempt_queued(contended: &str, conflicts: bool) -> bool {
    let attempts = Cell::new(0);
    let first_queued = Cell::new(None);
    retry_contending(3, Some(contended), || async {
        attempts.set(attempts.get() + 1);
        // Read while the attempt is polled, as `HoldingTurn` marks it.
        let queued = HOLDING_TURN.with(Cell::get);
        first_queued.set(first_queued.get().or(Some(queued)));
        if conflicts && attempts.get() == 1 {
            Err(conflict())
        } else {
            Ok(())
        }
    })
    .await
    .expect("the retry succeeds");
    first_queued.get().expect("one attempt ran")
}

#[tokio::test]
async fn a_conflict_makes_first_attempts_queue_until_enough_succeed() {
    // A name no other test of this binary contends on.
    let contended = "txn-test-contended-resource";
    assert!(
        !first_attempt_queued(contended, false).await,
        "cold at first"
    );
    assert!(
        !first_attempt_queued(contended, true).await,
        "the conflict's own first attempt ran free"
    );
    // The conflicted command's own successful retry counts as one.
    for n in 1..HOT_FOR {
        assert!(
            first_attempt_queued(contended, false).await,
            "queued while hot ({n})"
        );
    }
    assert!(
        !first_attempt_queued(contended, false).await,
        "cold again after {HOT_FOR} successes"
    );
}

#[tokio::test]
async fn a_success_while_others_wait_for_the_turn_keeps_the_resource_hot() {
    let contended = "txn-test-waited-resource";
    assert!(!first_attempt_queued(contended, true).await);
    // One success short of cooling.
    for _ in 2..HOT_FOR {
        assert!(first_attempt_queued(contended, false).await);
    }
    // Another caller waits for the turn while this command holds it.
    let (turn, line) = hot_key_turn(contended);
    let other = InLine::join(line);
    assert!(first_attempt_queued(contended, false).await);
    drop(other);
    assert!(turn.try_lock().is_some(), "the turn was given back");
    // Alone in line that success would have cooled it; it re-armed.
    for n in 0..HOT_FOR {
        assert!(
            first_attempt_queued(contended, false).await,
            "still hot ({n})"
        );
    }
    assert!(!first_attempt_queued(contended, false).await, "cold again");
}

#[tokio::test]
async fn a_turn_passes_on_once_applied_and_the_command_waits_to_be_durable() {
    let contended = "txn-test-applied-resource";
    let (synced, sync) = tokio::sync::oneshot::channel::<()>();
    let sync = Durable::after(async move {
        sync.await
            .map_err(|_| StorageError::backend("the sync failed"))
    });
    let mut sync = Some(sync);
    let mut attempts = 0;
    let command = retry_contending(2, Some(contended), || {
        attempts += 1;
        let first = attempts == 1;
        let sync = if first { None } else { sync.take() };
        async move {
            if first {
                return Err(conflict());
            }
            // A commit applied in the turn: the attempt leaves its sync.
            assert!(may_commit_applied());
            assert!(wait_after_turn(sync.expect("second attempt")).is_none());
            Ok("done")
        }
    });
    let mut command = Box::pin(command);
    assert!(
        futures_util::FutureExt::now_or_never(&mut command).is_none(),
        "not durable yet"
    );
    let (turn, _) = hot_key_turn(contended);
    assert!(
        turn.try_lock().is_some(),
        "the turn was given back before the sync"
    );
    assert!(!may_commit_applied(), "outside a turn");
    synced.send(()).unwrap();
    assert_eq!(command.await.unwrap(), "done");

    // A failed sync fails the command.
    let failed = retry_contending(1, Some(contended), || async {
        let (_, never) = tokio::sync::oneshot::channel::<()>();
        let sync = Durable::after(async move {
            never
                .await
                .map_err(|_| StorageError::backend("the sync failed"))
        });
        assert!(
            wait_after_turn(sync).is_none(),
            "the resource is hot: in a turn"
        );
        Ok(())
    });
    assert!(matches!(
        failed.await,
        Err(Error::Storage(StorageError::Backend { .. }))
    ));
}

#[tokio::test]
async fn retries_without_a_hint_queue_on_the_conflicting_key() {
    let queued = std::cell::RefCell::new(Vec::new());
    retry_on_conflict(3, || async {
        // Read while the attempt is polled, as `HoldingTurn` marks it.
        queued.borrow_mut().push(HOLDING_TURN.with(Cell::get));
        if queued.borrow().len() == 1 {
            Err(conflict())
        } else {
            Ok(())
        }
    })
    .await
    .expect("the retry succeeds");
    assert_eq!(queued.into_inner(), vec![false, true]);
}

/// Encodes a JSON string of `len` bytes into a buffer of exactly that
/// capacity; answers whether the buffer is kept for the next call.
fn keeps_a_buffer_of(len: usize) -> bool {
    let value = "y".repeat(len - 2); // its JSON: the quotes around it
    SCRATCH.with(|scratch| *scratch.borrow_mut() = Vec::with_capacity(len));
    assert_eq!(encode_json(&value), serde_json::to_vec(&value).unwrap());
    let capacity = SCRATCH.with(|scratch| scratch.borrow().capacity());
    assert!(capacity == len || capacity == 0, "{len}: {capacity}");
    capacity == len
}

#[test]
fn the_json_buffer_is_kept_for_the_next_record_unless_it_grew_past_64_kib() {
    assert!(keeps_a_buffer_of(2 * 1024), "a booking-sized record");
    assert!(keeps_a_buffer_of(64 * 1024));
    assert!(!keeps_a_buffer_of(64 * 1024 + 1));
    assert!(!keeps_a_buffer_of(1024 * 1024));
}

/// A retry loop nested in an attempt that holds a turn does not queue for
/// one: on the same key it would wait for the turn its own command holds.
#[tokio::test]
async fn a_retry_nested_in_a_turn_does_not_wait_for_a_turn() {
    let contended = "nt/2026-07-01/hot";
    let outer = Cell::new(0);
    let command = retry_contending(2, Some(contended), || async {
        outer.set(outer.get() + 1);
        if outer.get() == 1 {
            // Makes `contended` hot: the next attempt takes its turn.
            return Err(conflict());
        }
        assert!(HOLDING_TURN.with(Cell::get));
        let inner = Cell::new(0);
        retry_on_conflict(2, || async {
            inner.set(inner.get() + 1);
            if inner.get() == 1 {
                Err(conflict())
            } else {
                Ok("done")
            }
        })
        .await
    });
    let done = tokio::time::timeout(std::time::Duration::from_secs(5), command)
        .await
        .expect("the nested retry waited for its own command's turn");
    assert_eq!(done.unwrap(), "done");
    assert_eq!(outer.get(), 2);
}

/// Keys share a turn (and a heat) only when they fall on one stripe: the
/// stripes of many resources are spread, so one hot resource does not make
/// the others queue.
#[test]
fn resources_are_spread_over_the_stripes() {
    let stripes: std::collections::HashSet<usize> = (0..1_000)
        .map(|i| stripe_of(&format!("room-{i}")))
        .collect();
    assert!(stripes.len() > HOT_KEY_STRIPES / 2, "{}", stripes.len());
    assert!(stripes.iter().all(|s| *s < HOT_KEY_STRIPES));
}
