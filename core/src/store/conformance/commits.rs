//! Cases for `commit` and the outbox: conditional writes, conflicts that
//! change nothing, versions, atomic batches and event order.

use std::collections::HashSet;
use std::sync::Arc;

use super::check::{
    EVERYTHING, Outcome, batch, delete, ensure, ensure_conflict_changes_nothing, ensure_eq, event,
    expect, get_one, put, put_all, version_of,
};
use crate::ports::{CommitBatch, Storage};

pub(crate) async fn every_write_gives_put_keys_the_commit_version(
    store: Arc<dyn Storage>,
) -> Outcome {
    let first = put_all(&store, &[("room/1", b"a"), ("room/2", b"b")]).await?;
    for key in ["room/1", "room/2"] {
        ensure_eq!(
            version_of(&store, key).await?,
            Some(first.version),
            "version of {key}"
        );
    }
    // Rewriting the same bytes is still a write: the version must change.
    let second = put_all(&store, &[("room/1", b"a")]).await?;
    ensure!(
        second.version != first.version,
        "rewriting room/1 kept its version {}",
        first.version
    );
    ensure_eq!(
        version_of(&store, "room/1").await?,
        Some(second.version),
        "room/1 after rewrite"
    );
    ensure_eq!(
        version_of(&store, "room/2").await?,
        Some(first.version),
        "untouched room/2"
    );
    Ok(())
}

pub(crate) async fn conditional_commit_applies_when_every_expectation_holds(
    store: Arc<dyn Storage>,
) -> Outcome {
    let key = "hold/1";
    let created = store
        .commit(batch(vec![expect(key, None)], vec![put(key, b"held")]))
        .await?;
    let updated = store
        .commit(batch(
            vec![expect(key, Some(created.version))],
            vec![put(key, b"confirmed")],
        ))
        .await?;
    let record = get_one(&store, key).await?;
    ensure_eq!(
        record.map(|r| (r.value, r.version)),
        Some((b"confirmed".to_vec(), updated.version)),
        "{key} after a create and an update"
    );
    // An expectation on a key the batch does not write guards the batch.
    let guard = "inventory/1";
    let guard_version = put_all(&store, &[(guard, b"5")]).await?.version;
    store
        .commit(batch(
            vec![
                expect(guard, Some(guard_version)),
                expect(key, Some(updated.version)),
            ],
            vec![delete(key)],
        ))
        .await?;
    ensure_eq!(
        get_one(&store, key).await?,
        None,
        "{key} after an expected delete"
    );
    ensure_eq!(
        version_of(&store, guard).await?,
        Some(guard_version),
        "version of {guard}"
    );
    Ok(())
}

pub(crate) async fn stale_version_is_a_conflict_that_changes_nothing(
    store: Arc<dyn Storage>,
) -> Outcome {
    let old = put_all(&store, &[("seat/1", b"free"), ("seat/2", b"free")]).await?;
    let new = put_all(&store, &[("seat/2", b"taken")]).await?;
    let stale = CommitBatch {
        durability: Default::default(),
        expectations: vec![
            expect("seat/1", Some(old.version)),
            expect("seat/2", Some(old.version)),
        ],
        mutations: vec![put("seat/1", b"taken"), put("seat/2", b"double-booked")],
        events: vec![event("seat.taken")],
    };
    ensure_conflict_changes_nothing(&store, stale, "seat/2").await?;
    ensure_eq!(
        version_of(&store, "seat/2").await?,
        Some(new.version),
        "seat/2 version"
    );
    Ok(())
}

pub(crate) async fn stale_version_of_a_key_only_read_or_deleted_is_a_conflict_that_changes_nothing(
    store: Arc<dyn Storage>,
) -> Outcome {
    let old = put_all(&store, &[("cat/epoch", b"1"), ("hold/3", b"held")]).await?;
    put_all(&store, &[("cat/epoch", b"2"), ("hold/3", b"extended")]).await?;
    // The batch writes neither key: it only relies on the epoch, and it
    // deletes the hold as it was when read.
    let only_read = CommitBatch {
        durability: Default::default(),
        expectations: vec![expect("cat/epoch", Some(old.version))],
        mutations: vec![put("booking/3", b"{}")],
        events: vec![event("booking.created")],
    };
    ensure_conflict_changes_nothing(&store, only_read, "cat/epoch").await?;
    let deleted = CommitBatch {
        durability: Default::default(),
        expectations: vec![expect("hold/3", Some(old.version))],
        mutations: vec![delete("hold/3"), put("booking/3", b"{}")],
        events: vec![event("hold.released")],
    };
    ensure_conflict_changes_nothing(&store, deleted, "hold/3").await
}

pub(crate) async fn expected_absent_but_present_is_a_conflict_that_changes_nothing(
    store: Arc<dyn Storage>,
) -> Outcome {
    put_all(&store, &[("idem/k1", b"first result")]).await?;
    let create_again = CommitBatch {
        durability: Default::default(),
        expectations: vec![expect("idem/k1", None)],
        mutations: vec![put("idem/k1", b"second result"), put("booking/2", b"{}")],
        events: vec![event("booking.created")],
    };
    ensure_conflict_changes_nothing(&store, create_again, "idem/k1").await
}

pub(crate) async fn expected_present_but_absent_is_a_conflict_that_changes_nothing(
    store: Arc<dyn Storage>,
) -> Outcome {
    let gone = put_all(&store, &[("hold/9", b"held"), ("other", b"x")]).await?;
    store.commit(batch(vec![], vec![delete("hold/9")])).await?;
    for key in ["hold/9", "never-written"] {
        let confirm = CommitBatch {
            durability: Default::default(),
            expectations: vec![expect(key, Some(gone.version))],
            mutations: vec![put(key, b"confirmed"), delete("other")],
            events: vec![event("hold.confirmed")],
        };
        ensure_conflict_changes_nothing(&store, confirm, key).await?;
    }
    Ok(())
}

pub(crate) async fn deleted_then_recreated_key_never_reuses_a_version(
    store: Arc<dyn Storage>,
) -> Outcome {
    let key = "slot/10:00";
    let mut seen = HashSet::new();
    for round in 0..3 {
        let created = store
            .commit(batch(vec![expect(key, None)], vec![put(key, b"v")]))
            .await?;
        let updated = store
            .commit(batch(
                vec![expect(key, Some(created.version))],
                vec![put(key, b"w")],
            ))
            .await?;
        for version in [created.version, updated.version] {
            ensure!(
                seen.insert(version),
                "round {round}: {key} was given {version} again"
            );
        }
        store
            .commit(batch(
                vec![expect(key, Some(updated.version))],
                vec![delete(key)],
            ))
            .await?;
    }
    // A version from an earlier life of the key must not match it now.
    let current = store
        .commit(batch(vec![expect(key, None)], vec![put(key, b"x")]))
        .await?;
    for old in seen.iter().copied().filter(|v| *v != current.version) {
        let stale = batch(vec![expect(key, Some(old))], vec![put(key, b"stale")]);
        ensure_conflict_changes_nothing(&store, stale, key).await?;
    }
    ensure!(
        !seen.contains(&current.version),
        "{key} was given {} again",
        current.version
    );
    Ok(())
}

pub(crate) async fn deleting_an_absent_key_is_not_an_error(store: Arc<dyn Storage>) -> Outcome {
    put_all(&store, &[("kept", b"1")]).await?;
    store
        .commit(batch(
            vec![],
            vec![delete("never-written"), put("written", b"2")],
        ))
        .await?;
    ensure_eq!(
        get_one(&store, "never-written").await?,
        None,
        "deleted absent key"
    );
    ensure!(
        get_one(&store, "written").await?.is_some(),
        "the put beside the delete was lost"
    );
    Ok(())
}

pub(crate) async fn failed_batch_applies_no_write_and_appends_no_event(
    store: Arc<dyn Storage>,
) -> Outcome {
    let keys: Vec<String> = (0..40).map(|i| format!("night/2026-07-{i:02}")).collect();
    let seeded = put_all(&store, &[("night/2026-07-00", b"seed"), ("guard", b"1")]).await?;
    put_all(&store, &[("guard", b"2")]).await?;
    // The failing expectation comes last, then first, in the batch; the key
    // it names is written last, so a store applying mutations one by one
    // would have applied the others.
    for failing_first in [false, true] {
        let mut expectations: Vec<_> = keys[1..].iter().map(|key| expect(key, None)).collect();
        expectations.insert(
            if failing_first { 0 } else { expectations.len() },
            expect("guard", Some(seeded.version)),
        );
        let mut mutations: Vec<_> = keys.iter().map(|key| put(key, b"booked")).collect();
        mutations.push(put("guard", b"3"));
        let events = (0..5)
            .map(|i| event(&format!("night.booked.{i}")))
            .collect();
        let all_or_nothing = CommitBatch {
            durability: Default::default(),
            expectations,
            mutations,
            events,
        };
        ensure_conflict_changes_nothing(&store, all_or_nothing, "guard").await?;
    }
    Ok(())
}

pub(crate) async fn events_are_numbered_from_one_in_commit_order(
    store: Arc<dyn Storage>,
) -> Outcome {
    let batches: [&[&str]; 4] = [&["a.1"], &["b.1", "b.2"], &[], &["d.1", "d.2", "d.3"]];
    for (i, kinds) in batches.iter().enumerate() {
        let events = kinds.iter().map(|kind| event(kind)).collect();
        let mutations = vec![put(&format!("e/{i}"), b"{}")];
        store
            .commit(CommitBatch {
                durability: Default::default(),
                expectations: vec![],
                mutations,
                events,
            })
            .await?;
    }
    let stored = store.read_events(0, EVERYTHING).await?;
    let kinds: Vec<&str> = stored.iter().map(|e| e.kind.as_str()).collect();
    ensure_eq!(
        kinds,
        vec!["a.1", "b.1", "b.2", "d.1", "d.2", "d.3"],
        "event kinds in order"
    );
    ensure_eq!(
        stored.first().map(|e| e.seq),
        Some(1),
        "sequence of the first event"
    );
    ensure!(
        stored.windows(2).all(|pair| pair[0].seq < pair[1].seq),
        "sequences are not strictly increasing: {:?}",
        stored.iter().map(|e| e.seq).collect::<Vec<_>>()
    );
    for stored_event in &stored {
        ensure_eq!(
            stored_event.payload,
            event(&stored_event.kind).payload,
            "payload of {}",
            stored_event.kind
        );
    }
    Ok(())
}

pub(crate) async fn events_are_appended_only_with_their_writes(store: Arc<dyn Storage>) -> Outcome {
    let booking = put_all(&store, &[("booking/1", b"held")]).await?;
    let conflicting = CommitBatch {
        durability: Default::default(),
        expectations: vec![expect("booking/1", None)],
        mutations: vec![put("booking/1", b"confirmed")],
        events: vec![event("booking.confirmed")],
    };
    ensure_conflict_changes_nothing(&store, conflicting, "booking/1").await?;
    // A batch of expectations and events only: applied when they hold.
    let notice = |version| CommitBatch {
        durability: Default::default(),
        expectations: vec![expect("booking/1", version)],
        mutations: vec![],
        events: vec![event("booking.reminded")],
    };
    ensure_conflict_changes_nothing(&store, notice(None), "booking/1").await?;
    store.commit(notice(Some(booking.version))).await?;
    let kinds: Vec<String> = store
        .read_events(0, EVERYTHING)
        .await?
        .into_iter()
        .map(|e| e.kind)
        .collect();
    ensure_eq!(
        kinds,
        vec!["booking.reminded".to_owned()],
        "events in the outbox"
    );
    Ok(())
}

pub(crate) async fn read_events_pages_after_a_sequence_up_to_a_limit(
    store: Arc<dyn Storage>,
) -> Outcome {
    for i in 0..10 {
        let events = vec![event(&format!("n.{i}"))];
        store
            .commit(CommitBatch {
                durability: Default::default(),
                expectations: vec![],
                mutations: vec![],
                events,
            })
            .await?;
    }
    let all = store.read_events(0, EVERYTHING).await?;
    ensure_eq!(all.len(), 10, "events in the outbox");
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_events(after, 3).await?;
        ensure!(
            page.len() <= 3,
            "a page of limit 3 held {} events",
            page.len()
        );
        let Some(last) = page.last() else { break };
        ensure!(
            last.seq > after,
            "a page after {after} ended at {}",
            last.seq
        );
        after = last.seq;
        paged.extend(page);
        ensure!(
            paged.len() <= all.len(),
            "paging returned more events than exist"
        );
    }
    ensure_eq!(paged, all, "events read three at a time");
    let middle = all[4].seq;
    ensure_eq!(
        store.read_events(middle, EVERYTHING).await?,
        all[5..].to_vec(),
        "events after seq {middle}"
    );
    ensure!(
        store.read_events(middle, 0).await?.is_empty(),
        "limit 0 returned events"
    );
    // `usize::MAX` is how a host asks for all of them.
    ensure_eq!(
        store.read_events(0, usize::MAX).await?,
        all,
        "events read with limit usize::MAX"
    );
    let last = all[9].seq;
    ensure!(
        store.read_events(last, EVERYTHING).await?.is_empty(),
        "events after the last"
    );
    Ok(())
}
