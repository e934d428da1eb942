//! `copy_store`: a store's records and outbox moved into an empty one
//! (here from memory into a SQLite file), where an engine and a notifier go
//! on as if nothing happened; refused into a store that is not empty, from
//! a source whose events skip numbers, and from a source that changes
//! during the copy.
//!
//! Run with `cargo test -p reservo --features sqlite --test store_copy`.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/holds.rs"]
mod holds;
#[path = "support/lifecycle.rs"]
mod lifecycle;
mod notify_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use catalog::{World, world};
use holds::*;
use lifecycle::confirm;
use notify_support::TestSender;
use reservo::engine::Engine;
use reservo::notify::Notifier;
use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, Mutation, Record, Storage, StorageError, StoredEvent,
};
use reservo::store::{MemoryStore, SqliteStore, copy_store};

/// A world with two bookings, a released hold and the SMS of the first
/// booking sent (so the notifier's cursor and delivery records exist).
async fn busy_world() -> World {
    let w = world().await;
    let first = hold(&w, "h1", vec![villa((7, 3), (7, 5))]).await;
    confirm(&w, "c1", &first).await;
    let notifier = Notifier::builder(w.store.clone(), TestSender::accepting())
        .clock(w.clock.clone())
        .build()
        .unwrap();
    notifier.run_once(100).await.unwrap();
    let second = hold(&w, "h2", vec![villa((7, 10), (7, 12))]).await;
    confirm(&w, "c2", &second).await;
    hold(&w, "h3", vec![villa((8, 1), (8, 2))]).await;
    w
}

async fn records(store: &dyn Storage) -> Vec<(Key, Vec<u8>)> {
    let all = store.scan(&KeyRange::prefix(""), usize::MAX).await.unwrap();
    all.into_iter().map(|r| (r.key, r.value)).collect()
}

#[tokio::test]
async fn a_copy_into_a_new_sqlite_file_carries_on_where_the_source_left_off() {
    let w = busy_world().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moved.sqlite");
    let report = {
        let target = SqliteStore::open(&path).unwrap();
        copy_store(&*w.store, &target).await.unwrap()
    };

    let target: Arc<dyn Storage> = Arc::new(SqliteStore::open(&path).unwrap());
    let source_records = records(&*w.store).await;
    assert_eq!(report.records, source_records.len() as u64);
    assert_eq!(records(&*target).await, source_records);
    let source_events = w.store.read_events(0, usize::MAX).await.unwrap();
    assert_eq!(report.events, source_events.len() as u64);
    assert_eq!(
        target.read_events(0, usize::MAX).await.unwrap(),
        source_events
    );

    // An engine on the copy sees the bookings and their inventory: the
    // booked nights are still taken, the free ones can be held.
    let engine = Engine::builder(target.clone())
        .clock(w.clock.clone())
        .build();
    let moved = World {
        store: w.store.clone(),
        clock: w.clock.clone(),
        engine,
    };
    assert_eq!(
        moved
            .engine
            .bookings_by_customer(&ana().phone)
            .await
            .unwrap()
            .len(),
        2
    );
    let taken = moved
        .engine
        .hold(&hold_request("h4", vec![villa((7, 4), (7, 5))], 900))
        .await;
    assert_eq!(taken.unwrap_err().code(), "UNAVAILABLE");
    assert_eq!(villa_left(&moved.engine, (8, 1), (8, 2)).await, [0]);
    hold(&moved, "h5", vec![villa((9, 1), (9, 2))]).await;

    // The notifier on the copy goes on from its cursor: it sends the
    // second booking's SMS and never the first's again.
    let sender = TestSender::accepting();
    let notifier = Notifier::builder(target.clone(), sender.clone())
        .clock(w.clock.clone())
        .build()
        .unwrap();
    notifier.run_once(100).await.unwrap();
    let sent: Vec<String> = sender.accepted().into_iter().map(|m| m.body).collect();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|body| body.contains("07-10")), "{sent:?}");
}

#[tokio::test]
async fn a_copy_into_a_store_that_is_not_empty_is_refused_and_writes_nothing() {
    let w = busy_world().await;
    let target = MemoryStore::new();
    target
        .commit(CommitBatch {
            mutations: vec![Mutation::Put {
                key: "host/own".into(),
                value: b"1".to_vec(),
            }],
            ..CommitBatch::default()
        })
        .await
        .unwrap();
    let before = target.dump();
    let err = copy_store(&*w.store, &target).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("empty"), "{err}");
    assert_eq!(target.dump(), before);
}

/// A host's store that numbers events from 10 (or changes under a copy).
struct Odd {
    inner: MemoryStore,
    skip_seqs: bool,
    write_during_scan: AtomicBool,
}

#[async_trait]
impl Storage for Odd {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.inner.get(keys).await
    }
    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        let page = self.inner.scan(range, limit).await?;
        if self.write_during_scan.swap(false, Ordering::SeqCst) {
            // A writer that was not stopped.
            let batch = CommitBatch {
                mutations: vec![Mutation::Put {
                    key: "!late".into(), // before every page read so far
                    value: b"1".to_vec(),
                }],
                ..CommitBatch::default()
            };
            self.inner.commit(batch).await?;
        }
        Ok(page)
    }
    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        self.inner.commit(batch).await
    }
    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        if !self.skip_seqs {
            return self.inner.read_events(after, limit).await;
        }
        let mut events = self
            .inner
            .read_events(after.saturating_sub(9), limit)
            .await?;
        for e in &mut events {
            e.seq += 9;
        }
        Ok(events)
    }
}

async fn odd(skip_seqs: bool, write_during_scan: bool) -> Odd {
    let w = busy_world().await;
    let inner = MemoryStore::new();
    copy_store(&*w.store, &inner).await.unwrap();
    Odd {
        inner,
        skip_seqs,
        write_during_scan: AtomicBool::new(write_during_scan),
    }
}

#[tokio::test]
async fn a_source_whose_events_skip_numbers_is_refused_before_anything_is_written() {
    let source = odd(true, false).await;
    let target = MemoryStore::new();
    let err = copy_store(&source, &target).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("from sequence 0 to 10"), "{err}");
    assert_eq!(target.dump(), MemoryStore::new().dump());
}

#[tokio::test]
async fn a_source_written_during_the_copy_is_found_out() {
    let source = odd(false, true).await;
    let target = MemoryStore::new();
    let err = copy_store(&source, &target).await.unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(
        err.to_string().contains("changed while it was copied"),
        "{err}"
    );
    // Into a new store, once the writer has stopped, it goes through.
    let again = MemoryStore::new();
    let report = copy_store(&source, &again).await.unwrap();
    assert_eq!(records(&again).await, records(&source).await);
    assert_eq!(report.records, records(&source).await.len() as u64);
}

/// More records and events than the copy reads in a page (500 each): every
/// page is copied, and the copy is checked page by page too.
#[tokio::test]
async fn a_copy_of_many_pages_carries_every_record_and_event() {
    let w = busy_world().await;
    let import = reservo::engine::CatalogImport {
        resources: (0..1_200)
            .map(|n| catalog::nightly(&format!("room-{n:04}"), "casa-azul", 1, 2, "flex"))
            .collect(),
        ..Default::default()
    };
    w.engine.import_catalog(&import).await.unwrap();
    let source_records = records(&*w.store).await;
    assert!(source_records.len() > 1_200);
    let target = MemoryStore::new();
    let report = copy_store(&*w.store, &target).await.unwrap();
    assert_eq!(report.records, source_records.len() as u64);
    assert_eq!(records(&target).await, source_records);
    let events = w.store.read_events(0, usize::MAX).await.unwrap();
    assert!(events.len() > 1_200);
    assert_eq!(report.events, events.len() as u64);
    assert_eq!(target.read_events(0, usize::MAX).await.unwrap(), events);
}

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;

/// The move the copy exists for: a SQLite file outgrown, copied into
/// PostgreSQL, where an engine goes on with the same bookings and events.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_sqlite_file_copied_into_postgresql_carries_on_there() {
    let Some(url) = pg::pg_url("cargo test -p reservo --all-features --test store_copy") else {
        return;
    };
    let w = busy_world().await;
    let dir = tempfile::tempdir().unwrap();
    let file = SqliteStore::open(dir.path().join("outgrown.sqlite")).unwrap();
    copy_store(&*w.store, &file).await.unwrap();
    let prefix = pg::fresh_prefix();
    let server: Arc<dyn Storage> = Arc::new(pg::connect(&url, &prefix).await);
    let report = copy_store(&file, &*server).await;
    let copied_records = records(&*server).await;
    let copied_events = server.read_events(0, usize::MAX).await.unwrap();
    let engine = Engine::builder(server.clone())
        .clock(w.clock.clone())
        .build();
    let bookings = engine.bookings_by_customer(&ana().phone).await;
    let again = engine
        .hold(&hold_request("h4", vec![villa((7, 4), (7, 5))], 900))
        .await;
    pg::drop_tables(&url, &prefix).await;

    let report = report.unwrap();
    assert_eq!(copied_records, records(&file).await);
    assert_eq!(report.records, copied_records.len() as u64);
    assert_eq!(
        copied_events,
        file.read_events(0, usize::MAX).await.unwrap()
    );
    assert_eq!(bookings.unwrap().len(), 2);
    assert_eq!(again.unwrap_err().code(), "UNAVAILABLE");
}
