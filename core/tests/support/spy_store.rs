//! A [`MemoryStore`] seen through hooks, so each test double says only
//! what it changes about the store and delegates the rest unchanged.

use std::sync::Arc;

use async_trait::async_trait;
use reservo::ports::{
    CommitBatch, Committed, Key, KeyRange, Record, Storage, StorageError, StoredEvent,
};
use reservo::store::MemoryStore;

/// What a test double does around the store's calls; every hook does
/// nothing by default.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Runs before each `get`.
    fn on_get(&self, _keys: &[Key]) {}

    /// An error to fail a `get` with instead of asking the store.
    fn fail_get(&self, _keys: &[Key]) -> Option<StorageError> {
        None
    }

    /// Records to answer a `scan` with instead of asking the store.
    fn scan_instead(&self, _range: &KeyRange) -> Option<Vec<Record>> {
        None
    }

    /// Runs (and may wait) before each commit.
    async fn on_commit(&self, _batch: &CommitBatch) {}
}

/// `inner` with `hooks` around its calls.
pub struct Spy<H> {
    pub inner: Arc<MemoryStore>,
    pub hooks: H,
}

impl<H: Hooks> Spy<H> {
    pub fn over(inner: Arc<MemoryStore>, hooks: H) -> Arc<Spy<H>> {
        Arc::new(Spy { inner, hooks })
    }
}

#[async_trait]
impl<H: Hooks> Storage for Spy<H> {
    async fn get(&self, keys: &[Key]) -> Result<Vec<Option<Record>>, StorageError> {
        self.hooks.on_get(keys);
        if let Some(error) = self.hooks.fail_get(keys) {
            return Err(error);
        }
        self.inner.get(keys).await
    }

    async fn scan(&self, range: &KeyRange, limit: usize) -> Result<Vec<Record>, StorageError> {
        match self.hooks.scan_instead(range) {
            Some(records) => Ok(records),
            None => self.inner.scan(range, limit).await,
        }
    }

    async fn commit(&self, batch: CommitBatch) -> Result<Committed, StorageError> {
        self.hooks.on_commit(&batch).await;
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
