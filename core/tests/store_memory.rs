//! `MemoryStore` against the storage contract, and the conformance kit
//! against stores that break it.

#[path = "support/faulty_store.rs"]
mod faulty_store;

use std::collections::BTreeSet;
use std::sync::Arc;

use faulty_store::{Fault, FaultyStore};
use reservo::ports::{
    CommitBatch, Expectation, KeyRange, Mutation, NewEvent, Storage, StorageError,
};
use reservo::store::{MemoryStore, conformance};

fn memory_store() -> Arc<dyn Storage> {
    Arc::new(MemoryStore::new())
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_passes_the_conformance_kit() {
    conformance::run(|| async { memory_store() })
        .await
        .assert_all_passed();
}

#[tokio::test(flavor = "multi_thread")]
async fn naive_store_without_a_fault_passes_the_conformance_kit() {
    conformance::run(|| async { FaultyStore::shared(Fault::None) })
        .await
        .assert_all_passed();
}

/// Each fault, with the cases that must catch it.
const FAULTS: &[(Fault, &[&str])] = &[
    (
        Fault::GetSkipsAbsentKeys,
        &["get_returns_records_and_absences_in_request_order"],
    ),
    (Fault::MangledValues, &["values_round_trip_byte_for_byte"]),
    (
        Fault::ScanInWriteOrder,
        &["scan_returns_records_in_ascending_byte_order"],
    ),
    (
        Fault::ScanIncludesEnd,
        &[
            "scan_includes_start_and_excludes_end",
            "scan_of_a_prefix_returns_exactly_that_prefix",
        ],
    ),
    (
        Fault::ScanIgnoresLimit,
        &["scan_returns_at_most_limit_records"],
    ),
    (
        Fault::KeepsVersionOnRewrite,
        &["every_write_gives_put_keys_the_commit_version"],
    ),
    (
        Fault::ReportsWrongCommitVersion,
        &[
            "every_write_gives_put_keys_the_commit_version",
            "conditional_commit_applies_when_every_expectation_holds",
        ],
    ),
    (
        Fault::IgnoresExpectations,
        &[
            "stale_version_is_a_conflict_that_changes_nothing",
            "expected_absent_but_present_is_a_conflict_that_changes_nothing",
            "expected_present_but_absent_is_a_conflict_that_changes_nothing",
            "racing_commits_on_one_version_have_exactly_one_winner",
            "racing_increments_with_retries_lose_no_update",
        ],
    ),
    (
        Fault::ConflictNamesFirstExpectation,
        &["stale_version_is_a_conflict_that_changes_nothing"],
    ),
    (
        Fault::PerKeyVersions,
        &["deleted_then_recreated_key_never_reuses_a_version"],
    ),
    (
        Fault::DeleteOfAbsentFails,
        &["deleting_an_absent_key_is_not_an_error"],
    ),
    (
        Fault::AppliesPartialBatch,
        &["failed_batch_applies_no_write_and_appends_no_event"],
    ),
    (
        Fault::ChecksOnlyWrittenKeys,
        &[
            "events_are_appended_only_with_their_writes",
            "stale_version_of_a_key_only_read_or_deleted_is_a_conflict_that_changes_nothing",
        ],
    ),
    (
        Fault::ChecksOnlyPutKeys,
        &["stale_version_of_a_key_only_read_or_deleted_is_a_conflict_that_changes_nothing"],
    ),
    (
        Fault::AppendsEventsOnConflict,
        &["events_are_appended_only_with_their_writes"],
    ),
    (
        Fault::NumbersEventsFromZero,
        &["events_are_numbered_from_one_in_commit_order"],
    ),
    (
        Fault::ReadEventsIncludesAfter,
        &["read_events_pages_after_a_sequence_up_to_a_limit"],
    ),
    (
        Fault::TombstonesMeetExpectations,
        &["deleted_then_recreated_key_never_reuses_a_version"],
    ),
    (
        Fault::NumbersEventsBeforeCommitting,
        &["a_reader_following_the_outbox_during_commits_misses_nothing"],
    ),
    (
        Fault::NonAtomicCommit,
        &[
            "racing_commits_on_one_version_have_exactly_one_winner",
            "racing_increments_with_retries_lose_no_update",
        ],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_fault_is_caught_by_the_cases_that_guard_against_it() {
    let mut missed = Vec::new();
    for &(fault, guards) in FAULTS {
        let report = conformance::run(move || async move { FaultyStore::shared(fault) }).await;
        let failed: BTreeSet<&str> = report.failures().map(|case| case.name).collect();
        for guard in guards.iter().filter(|guard| !failed.contains(*guard)) {
            missed.push(format!("{fault:?} was not caught by {guard}"));
        }
    }
    assert!(
        missed.is_empty(),
        "the kit missed faults:\n{}",
        missed.join("\n")
    );
}

#[test]
fn every_case_guards_against_some_fault() {
    let guarded: BTreeSet<&str> = FAULTS
        .iter()
        .flat_map(|(_, guards)| guards.iter().copied())
        .collect();
    let unguarded: Vec<&str> = conformance::case_names()
        .into_iter()
        .filter(|name| !guarded.contains(name))
        .collect();
    assert!(
        unguarded.is_empty(),
        "cases no fault proves they can fail: {unguarded:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_case_runs_by_name_and_an_unknown_name_runs_nothing() {
    let outcome = conformance::run_case("scan_returns_at_most_limit_records", || async {
        FaultyStore::shared(Fault::ScanIgnoresLimit)
    })
    .await
    .expect("the case exists");
    assert!(!outcome.passed());
    assert!(
        conformance::run_case("no_such_case", || async { memory_store() })
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn report_lists_each_failed_case_with_its_reason() {
    let report = conformance::run(|| async { FaultyStore::shared(Fault::ScanIgnoresLimit) }).await;
    let failed: Vec<_> = report.failures().collect();
    assert_eq!(failed.len(), 1, "{report}");
    assert_eq!(failed[0].name, "scan_returns_at_most_limit_records");
    assert!(
        failed[0]
            .failure
            .as_deref()
            .is_some_and(|why| !why.is_empty())
    );
    assert!(!report.all_passed());
    let passed = conformance::case_names().len() - 1;
    let shown = report.to_string();
    assert!(
        shown.contains("FAIL scan_returns_at_most_limit_records: "),
        "{shown}"
    );
    assert!(
        shown.ends_with(&format!("{passed} passed, 1 failed")),
        "{shown}"
    );
    let panic = std::panic::catch_unwind(|| report.assert_all_passed());
    assert!(
        panic.is_err(),
        "assert_all_passed accepted a failing report"
    );
}

// ------------------------------------------------------ MemoryStore only

fn put(key: &str) -> Mutation {
    Mutation::Put {
        key: key.into(),
        value: b"{}".to_vec(),
    }
}

async fn seeded_store() -> MemoryStore {
    let store = MemoryStore::new();
    let events = vec![NewEvent {
        kind: "booking.created".into(),
        payload: b"{}".to_vec(),
    }];
    let batch = CommitBatch {
        durability: Default::default(),
        expectations: vec![],
        mutations: vec![put("bk/1"), put("bk/2")],
        events,
    };
    store.commit(batch).await.expect("seed commit");
    store
}

#[tokio::test]
async fn malformed_batches_are_rejected_and_change_nothing() {
    let store = seeded_store().await;
    let before = store.dump();
    let expect = |key: &str| Expectation {
        key: key.into(),
        version: None,
    };
    let malformed = [
        CommitBatch {
            mutations: vec![put("bk/3"), put("bk/3")],
            ..Default::default()
        },
        CommitBatch {
            durability: Default::default(),
            expectations: vec![expect("bk/3"), expect("bk/3")],
            mutations: vec![put("bk/3")],
            events: vec![],
        },
        CommitBatch {
            mutations: vec![put("bk/3"), put("has space")],
            ..Default::default()
        },
        CommitBatch {
            mutations: vec![put("")],
            ..Default::default()
        },
        CommitBatch {
            mutations: vec![put(&"k".repeat(513))],
            ..Default::default()
        },
        CommitBatch {
            expectations: vec![expect("caf\u{e9}")],
            ..Default::default()
        },
    ];
    for batch in malformed {
        let result = store.commit(batch.clone()).await;
        assert!(
            matches!(result, Err(StorageError::Backend { .. })),
            "{batch:?} gave {result:?}"
        );
        assert_eq!(store.dump(), before, "{batch:?} changed the store");
    }
}

#[tokio::test]
async fn conflicting_commit_leaves_the_dump_identical() {
    let store = seeded_store().await;
    let before = store.dump();
    let batch = CommitBatch {
        durability: Default::default(),
        expectations: vec![Expectation {
            key: "bk/1".into(),
            version: None,
        }],
        mutations: vec![put("bk/3"), Mutation::Delete { key: "bk/2".into() }],
        events: vec![NewEvent {
            kind: "booking.created".into(),
            payload: b"{}".to_vec(),
        }],
    };
    assert!(matches!(
        store.commit(batch).await,
        Err(StorageError::Conflict { .. })
    ));
    assert_eq!(store.dump(), before);
}

#[tokio::test]
async fn dump_holds_records_in_key_order_events_and_the_commit_counter() {
    let store = seeded_store().await;
    store
        .commit(CommitBatch {
            mutations: vec![put("a/0")],
            ..Default::default()
        })
        .await
        .unwrap();
    let dump = store.dump();
    let keys: Vec<&str> = dump.records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["a/0", "bk/1", "bk/2"]);
    assert_eq!(dump.events.len(), 1);
    assert_eq!(dump.last_version.0, 2);
}

#[tokio::test]
async fn scan_of_many_records_returns_exactly_the_range() {
    let store = MemoryStore::new();
    let mutations = (0..20_000).map(|i| put(&format!("av/{i:05}"))).collect();
    store
        .commit(CommitBatch {
            mutations,
            ..Default::default()
        })
        .await
        .unwrap();
    let range = KeyRange {
        start: "av/05000".into(),
        end: Some("av/15000".into()),
    };
    let scanned = store.scan(&range, usize::MAX).await.unwrap();
    assert_eq!(scanned.len(), 10_000);
    assert_eq!(scanned.first().map(|r| r.key.as_str()), Some("av/05000"));
    assert_eq!(scanned.last().map(|r| r.key.as_str()), Some("av/14999"));
}
