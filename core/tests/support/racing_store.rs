//! A storage double that makes two commits race: once armed, the first two
//! commits that write a key with a given prefix wait for each other, so both
//! were decided on the same reads and one of them must conflict.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, Record, Storage, StorageError, StoredEvent,
};
use reservo::store::MemoryStore;

/// A [`MemoryStore`] whose commits touching `prefix` race once armed.
pub struct RacingStore {
    inner: Arc<MemoryStore>,
    prefix: &'static str,
    armed: AtomicBool,
    commits: AtomicUsize,
    barrier: tokio::sync::Barrier,
}

impl RacingStore {
    /// A racing store over `inner`, not armed yet.
    pub fn over(inner: Arc<MemoryStore>, prefix: &'static str) -> Arc<RacingStore> {
        Arc::new(RacingStore {
            inner,
            prefix,
            armed: AtomicBool::new(false),
            commits: AtomicUsize::new(0),
            barrier: tokio::sync::Barrier::new(2),
        })
    }

    /// From now on, the next two commits writing under the prefix wait for
    /// each other.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Commits writing under the prefix since the store was armed.
    pub fn raced_commits(&self) -> usize {
        self.commits.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Storage for RacingStore {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.inner.get(keys).await
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        self.inner.scan(range, limit).await
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        let touches = batch
            .mutations
            .iter()
            .any(|m| m.key().starts_with(self.prefix));
        if self.armed.load(Ordering::SeqCst)
            && touches
            && self.commits.fetch_add(1, Ordering::SeqCst) < 2
        {
            self.barrier.wait().await;
        }
        self.inner.commit(batch).await
    }

    async fn read_events(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        self.inner.read_events(after, limit).await
    }
}
